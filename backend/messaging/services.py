"""Queueing, cancelling, sending and recording messages.

`message_queue` and `messages_cancel` are called inside the caller's transaction, so a message and its
send job exist exactly when the change that caused them commits. `message_send` is the job's body; it
is what makes a retry or a crash never send a message twice (docs/messaging.md, "Exactly once").
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from backend.accounts.models import Role, Team, User
from backend.audit.actor import Actor
from backend.audit.models import AuditEvent
from backend.audit.services import audit_record
from backend.consent.models import Modality
from backend.core.errors import Conflict, Forbidden, InvalidInput
from backend.messaging import content, preferences, queue, senders
from backend.messaging.models import (
    BannedWord, ContactPreference, Message, MessageTemplate, OrganisationMessaging, QuestionnaireLink, TeamMessaging,
)

A = AuditEvent.Action

S = Message.Status
log = logging.getLogger(__name__)


def message_queue(
    *, recipient: User, organisation, kind: str, channel: str, to: str, sender_name: str, body: str,
    subject: str = "", team=None, appointment=None, send_after: datetime | None = None, created_by: User | None = None,
) -> Message:
    """Record one message to send at `send_after` (now if not given), and defer its send job in the same
    transaction (PostgreSQL), or once that transaction commits (the embedded in-memory queue)."""
    message = Message.objects.create(
        recipient=recipient, organisation=organisation, team=team, appointment=appointment, kind=kind, channel=channel,
        to=to, sender_name=sender_name, subject=subject, body=body, send_after=send_after or timezone.now(),
        created_by=created_by,
    )
    queue.send_defer(message.pk, message.send_after)
    return message


def messages_cancel(*, appointment, reason: str, kinds: list[str] | None = None) -> int:
    """Cancel every message for `appointment` not yet handed to a provider (of `kinds`, if given). Its job
    stays on the queue and does nothing: the job reads the row, under a lock, before sending."""
    queued = Message.objects.filter(appointment=appointment, status=S.QUEUED)
    if kinds:
        queued = queued.filter(kind__in=kinds)
    return queued.update(status=S.CANCELLED, status_reason=reason, status_at=timezone.now())


def _set(message: Message, status: str, reason: str = "", **fields) -> None:
    message.status, message.status_reason, message.status_at = status, reason, timezone.now()
    for name, value in fields.items():
        setattr(message, name, value)
    message.save(update_fields=["status", "status_reason", "status_at", *fields])


def _record_sent(message: Message, accepted: senders.Accepted, *, reason: str = "") -> None:
    _set(message, S.SENT, reason, provider=accepted.provider, provider_id=accepted.provider_id, sent_at=timezone.now())


def message_send(message_id: int, *, final_attempt: bool = False) -> str:
    """Send one message if, and only if, its record says it is still to be sent. Returns what happened
    (for the job's log). Raises TemporaryFailure for the queue to retry, unless this was the final attempt.

    1. Under a row lock: nothing to do unless queued (or `sending`, left by an attempt that crashed or
       failed after it may have reached the provider). Not yet due: leave it to the job deferred for then.
    2. If an earlier attempt may have reached Notify, ask Notify for the message's reference first; if it
       is there, record it as sent instead of sending again.
    3. Mark it `sending`, attempts + 1, and commit: from here a crash leaves `sending`, which step 2 checks.
    4. Hand it to the sender; record sent, or failed with the reason, or back to queued for a retry.
    """
    with transaction.atomic():
        message = Message.objects.select_for_update().filter(pk=message_id).first()
        if message is None or message.status not in (S.QUEUED, S.SENDING):
            return f"nothing to do ({message.status if message else 'no such message'})"
        if message.status == S.QUEUED and message.send_after > timezone.now():
            queue.send_defer(message.pk, message.send_after, replace=True)
            return "not due yet: deferred again for its time"
        if message.status == S.QUEUED:
            # What changed since it was queued (a questionnaire answered, messages turned off) is read
            # again now, so a reminder never goes after its reason has gone.
            unwanted = message_still_wanted(message)
            if unwanted:
                _set(message, S.CANCELLED, unwanted)
                return f"cancelled: {unwanted}"
        try:
            sender = senders.sender_for(message)
            if message.attempts > 0 and sender.can_look_up:
                found = sender.look_up(message)
                if found:
                    _record_sent(message, senders.Accepted(sender.name, str(found["id"])),
                                 reason="An earlier attempt had reached GOV.UK Notify; not sent again.")
                    return "found at the provider: recorded as sent, not sent again"
        except senders.PermanentFailure as exc:
            _set(message, S.FAILED, str(exc))
            return f"failed: {exc}"
        except senders.TemporaryFailure as exc:
            retry = _retry_or_give_up(message, exc, final_attempt)
        else:
            retry = None
        if retry is None and not message.to:
            what = "mobile number" if message.channel == Message.Channel.SMS else "email address"
            _set(message, S.FAILED, f"No {what} to send it to.")
            message_fallback_queue(message=message)
            return "failed: nowhere to send it"
        if retry is None:
            _set(message, S.SENDING, "", attempts=message.attempts + 1)
    if retry is not None:
        return _raise_after_commit(retry)
    try:
        accepted = sender.send(message)
    except senders.PermanentFailure as exc:
        with transaction.atomic():
            failed = _locked(message_id)
            _set(failed, S.FAILED, str(exc))
            message_fallback_queue(message=failed)  # a number that bounces: the other channel, if the person has one
        return f"failed: {exc}"
    except senders.TemporaryFailure as exc:
        with transaction.atomic():
            retry = _retry_or_give_up(_locked(message_id), exc, final_attempt)
        return _raise_after_commit(retry)
    with transaction.atomic():
        _record_sent(_locked(message_id), accepted)
    return f"sent by {accepted.provider}"


def _locked(message_id: int) -> Message:
    return Message.objects.select_for_update().get(pk=message_id)


def _retry_or_give_up(message: Message, exc: senders.TemporaryFailure, final_attempt: bool) -> str | senders.TemporaryFailure:
    """Record a temporary failure: failed for good on the final attempt (the reason says so), else back
    to queued (a retry asks the provider for the reference first, since attempts > 0). Returns the
    exception for the caller to raise once the record is committed, so the queue retries the job."""
    if final_attempt:
        _set(message, S.FAILED, f"Gave up after {message.attempts} attempts: {exc}")
        return f"failed: {exc}"
    _set(message, S.QUEUED, f"Not sent yet: {exc}")
    return exc


def _raise_after_commit(retry: str | senders.TemporaryFailure) -> str:
    if isinstance(retry, senders.TemporaryFailure):
        raise retry
    return retry


def delivery_status_record(*, reference: str | None = None, provider_id: str | None = None, status: str) -> Message | None:
    """What Notify says became of a sent message (its callback or its status API): delivered, or failed
    with the reason. Statuses on the way (created, sending, pending) are kept as the provider's word only."""
    with transaction.atomic():
        found = Message.objects.select_for_update()
        if reference:
            found = found.filter(reference=reference)
        elif provider_id:
            found = found.filter(provider_id=provider_id)
        else:
            return None
        message = found.first()
        if message is None or message.status not in (S.SENT, S.SENDING, S.DELIVERED, S.FAILED):
            return message
        if status in senders.NOTIFY_FINAL and message.status in (S.SENT, S.SENDING):
            new_status, reason = senders.NOTIFY_FINAL[status]
            _set(message, new_status, reason, provider_status=status)
        elif message.provider_status != status:
            message.provider_status = status
            message.save(update_fields=["provider_status"])
        return message


def delivery_statuses_fetch(*, limit: int = 500) -> int:
    """Ask Notify what became of messages it accepted in the last week and has not yet given a final word
    on (the periodic job; the callback usually gets there first). Returns how many changed."""
    week_ago = timezone.now() - timezone.timedelta(days=7)
    waiting = Message.objects.filter(provider="notify", status=S.SENT, sent_at__gte=week_ago).exclude(provider_id="")[:limit]
    changed = 0
    for message in waiting:
        try:
            answer = senders.sender_for(message)
            if not isinstance(answer, senders.NotifySender):
                continue
            status = answer.status_of(message).get("status", "")
        except senders.SendFailure as exc:
            log.warning("Delivery status of message %s not fetched: %s", message.pk, exc)
            continue
        before = message.status
        after = delivery_status_record(provider_id=message.provider_id, status=status)
        changed += int(after is not None and after.status != before)
    return changed


def messages_requeue(*, overdue_only: bool = False) -> int:
    """Defer a job for every message the record says is still to send (queued or sending). Run when the
    in-memory queue starts (nothing it held survived the restart) and periodically on PostgreSQL, where
    it finds only messages queued outside a transaction by a process that died before deferring
    (`overdue_only`: due and untouched for five minutes). A message whose job waits is left alone."""
    pending = Message.objects.filter(status__in=[S.QUEUED, S.SENDING])
    if overdue_only:
        five_minutes_ago = timezone.now() - timezone.timedelta(minutes=5)
        pending = pending.filter(send_after__lte=five_minutes_ago, status_at__lte=five_minutes_ago)
    count = 0
    for message_id, send_after in pending.values_list("id", "send_after"):
        count += int(queue.send_defer(message_id, send_after))
    return count


# --- Team settings, templates and banned words (the team's admins) -----------------------------------
def _admin_of(actor: Actor, organisation_id: int) -> None:
    user = actor.user
    if user is None or user.role != Role.ADMIN or user.organisation_id != organisation_id:
        raise Forbidden("Only the organisation's administrators can change its messages.")


def _template_id(value, field: str, label: str):
    """A Notify template id as a UUID, or None when left empty."""
    import uuid

    text = str(value or "").strip()
    if not text:
        return None
    try:
        return uuid.UUID(text)
    except ValueError:
        raise InvalidInput(f"The {label} template id is not a Notify template id: copy it from the template's page in Notify "
                           "(it looks like 8 letters and numbers, then 4, 4, 4 and 12, joined by hyphens).",
                           field=field, code="invalid_uuid") from None


def organisation_messaging_update(*, actor: Actor, organisation, sms_sender: str, email_sender: str, notify_key_variable: str,
                                  notify_sms_template_id=None, notify_email_template_id=None) -> OrganisationMessaging:
    """Set how the organisation's texts and emails leave Rapport: the sender per channel and, for GOV.UK
    Notify, its templates and the NAME of the environment variable holding the API key (never the key)."""
    _admin_of(actor, organisation.pk)
    sender = OrganisationMessaging.Sender
    if sms_sender not in (sender.NOTIFY, sender.CONSOLE):
        raise InvalidInput("Text messages go through GOV.UK Notify (or, in development, the console): an email server cannot send them.",
                           field="sms_sender", code="invalid_choice")
    if email_sender not in sender.values:
        raise InvalidInput("Choose how emails go out: GOV.UK Notify, your email server, or the console.",
                           field="email_sender", code="invalid_choice")
    variable = (notify_key_variable or "").strip().upper()
    if not senders.NOTIFY_KEY_VARIABLE.match(variable) or len(variable) > 64:
        raise InvalidInput("The API key setting is the NAME of an environment variable: NOTIFY_API_KEY, or NOTIFY_API_KEY_ followed by "
                           "capital letters, numbers or underscores (e.g. NOTIFY_API_KEY_LEEDS). Never paste the key itself here.",
                           field="notify_key_variable", code="invalid_variable")
    sms_template = _template_id(notify_sms_template_id, "notify_sms_template_id", "text message")
    email_template = _template_id(notify_email_template_id, "notify_email_template_id", "email")
    if sms_sender == sender.NOTIFY and sms_template is None:
        raise InvalidInput("Text messages by GOV.UK Notify need the id of your Notify text message template.",
                           field="notify_sms_template_id", code="required")
    if email_sender == sender.NOTIFY and email_template is None:
        raise InvalidInput("Emails by GOV.UK Notify need the id of your Notify email template.",
                           field="notify_email_template_id", code="required")
    with transaction.atomic():
        row, created = OrganisationMessaging.objects.select_for_update().get_or_create(organisation=organisation)
        row.sms_sender, row.email_sender, row.notify_key_variable = sms_sender, email_sender, variable
        row.notify_sms_template_id, row.notify_email_template_id = sms_template, email_template
        row.save()
        audit_record(actor=actor, action=A.CREATE if created else A.UPDATE, obj=row, detail={
            "organisation": organisation.pk, "sms_sender": sms_sender, "email_sender": email_sender, "notify_key_variable": variable,
            "notify_sms_template_id": str(sms_template or ""), "notify_email_template_id": str(email_template or "")})
    return row


def team_messaging_update(*, actor: Actor, team: Team, sender_name: str, reminder_offsets_hours: list[int],
                          caller_number_kind: str, questionnaire_days_before: int, nudge_hours_before: int) -> TeamMessaging:
    """Set how a team's messages go out. The sender name is checked against the banned words (it is the
    first thing a lock screen shows) and may not be the team's own, clinical, name."""
    _admin_of(actor, team.organisation_id)
    sender_name = " ".join(sender_name.split())
    if not sender_name:
        raise InvalidInput("Give the name messages come from, e.g. “Leeds NHS”. Without it, no message is sent.",
                           field="sender_name", code="required")
    if sender_name.lower() == team.name.lower() or sender_name.lower() == team.service.lower():
        raise InvalidInput("Use a neutral name, not the team's or service's own: it shows on the person's phone.",
                           field="sender_name", code="clinical_name")
    word = content.banned_word_in(sender_name, content.banned_words_for(team.organisation_id))
    if word:
        raise InvalidInput(f"The sender name contains “{word}”, which must not appear on a phone's screen. Use a neutral name.",
                           field="sender_name", code="banned_word")
    offsets = sorted({int(h) for h in reminder_offsets_hours}, reverse=True)
    if any(h < 1 or h > 24 * 28 for h in offsets) or len(offsets) > 5:
        raise InvalidInput("Reminders go between 1 hour and 28 days before, at most 5 of them.",
                           field="reminder_offsets_hours", code="out_of_range")
    if not caller_number_kind.strip():
        raise InvalidInput("Say what kind of number the clinician calls from, e.g. “a withheld number”.",
                           field="caller_number_kind", code="required")
    with transaction.atomic():
        row, _ = TeamMessaging.objects.select_for_update().get_or_create(team=team)
        row.sender_name, row.reminder_offsets_hours, row.caller_number_kind = sender_name, offsets, caller_number_kind.strip()
        row.questionnaire_days_before, row.nudge_hours_before = questionnaire_days_before, nudge_hours_before
        row.updated_at, row.updated_by = timezone.now(), actor.user
        row.save()
        audit_record(actor=actor, action=A.UPDATE, obj=row, detail={"team": team.pk, "sender_name": sender_name, "reminders": offsets})
    return row


def template_save(*, actor: Actor, team: Team, kind: str, channel: str, modality: str, subject: str, body: str) -> MessageTemplate:
    """A team's own wording for one kind of message (checked: placeholders and banned words)."""
    _admin_of(actor, team.organisation_id)
    if kind not in Message.Kind.values:
        raise InvalidInput("Choose a kind of message.", field="kind", code="invalid_choice")
    if channel not in Message.Channel.values:
        raise InvalidInput("Choose text message or email.", field="channel", code="invalid_choice")
    if modality and modality not in Modality.values:
        raise InvalidInput("Choose a way of meeting, or every way.", field="modality", code="invalid_choice")
    subject = subject.strip() if channel == Message.Channel.EMAIL else ""
    try:
        content.template_check(kind=kind, channel=channel, subject=subject, body=body, organisation_id=team.organisation_id)
    except content.TemplateProblem as problem:
        raise InvalidInput(str(problem), field=problem.field or "body", code="template_refused") from None
    with transaction.atomic():
        template, created = MessageTemplate.objects.update_or_create(
            team=team, kind=kind, channel=channel, modality=modality,
            defaults={"subject": subject, "body": body.strip(), "updated_at": timezone.now(), "updated_by": actor.user},
        )
        audit_record(actor=actor, action=A.CREATE if created else A.UPDATE, obj=template,
                     detail={"team": team.pk, "kind": kind, "channel": channel, "modality": modality})
    return template


def template_reset(*, actor: Actor, team: Team, kind: str, channel: str, modality: str) -> None:
    """Go back to the default wording (removes the team's own)."""
    _admin_of(actor, team.organisation_id)
    with transaction.atomic():
        deleted, _ = MessageTemplate.objects.filter(team=team, kind=kind, channel=channel, modality=modality).delete()
        if deleted:
            audit_record(actor=actor, action=A.END, object_type="messaging.messagetemplate", object_id=team.pk,
                         detail={"team": team.pk, "kind": kind, "channel": channel, "modality": modality, "reset": True})


def banned_word_add(*, actor: Actor, organisation_id: int, word: str) -> BannedWord:
    _admin_of(actor, organisation_id)
    word = " ".join(word.split()).lower()
    if not word or len(word) > 100:
        raise InvalidInput("Type a word or a short phrase (up to 100 characters).", field="word", code="required")
    if word in content.banned_words_for(organisation_id):
        raise Conflict(f"“{word}” is already on the list.", field="word", code="already_banned")
    with transaction.atomic():
        banned = BannedWord.objects.create(organisation_id=organisation_id, word=word, added_by=actor.user)
        audit_record(actor=actor, action=A.CREATE, obj=banned, detail={"word": word})
    return banned


def banned_word_remove(*, actor: Actor, banned: BannedWord) -> None:
    _admin_of(actor, banned.organisation_id)
    with transaction.atomic():
        audit_record(actor=actor, action=A.END, obj=banned, detail={"word": banned.word})
        banned.delete()


# --- A person's contact preferences ------------------------------------------------------------------
def contact_preferences_set(*, actor: Actor, person: User, mobile_number: str, email: str, channels: dict[str, str],
                            all_off: bool) -> ContactPreference:
    """The person (or a clinician of their team, with them) sets how they are contacted. Messages already
    queued for their upcoming appointments are planned again to follow the new choice."""
    from backend.messaging import triggers

    user = actor.user
    if user is None or not (user.pk == person.pk or _on_care_team(user, person)):
        raise Forbidden("Only the person or their care team can change how they are contacted.")
    try:
        mobile = preferences.mobile_number_clean(mobile_number)
    except ValueError as error:
        raise InvalidInput(str(error), field="mobile_number", code="invalid_phone_number") from None
    clean = {}
    for group, (label, _, can_turn_off) in preferences.GROUPS.items():
        choice = channels.get(group) or (preferences.SMS if mobile else preferences.EMAIL)
        if choice not in preferences.CHOICES or (choice == preferences.OFF and not can_turn_off):
            raise InvalidInput(f"{label}: choose text message, email or both.", field=f"channels.{group}", code="invalid_choice")
        if choice in (preferences.SMS, preferences.BOTH) and not mobile and not all_off:
            raise InvalidInput(f"{label}: text messages need a mobile number. Give one, or choose email.",
                               field="mobile_number", code="mobile_required")
        clean[group] = choice
    with transaction.atomic():
        row, _ = ContactPreference.objects.select_for_update().get_or_create(person=person)
        row.mobile_number, row.email, row.channels, row.all_off = mobile, email.strip().lower(), clean, all_off
        row.updated_at, row.updated_by = timezone.now(), user
        row.save()
        audit_record(actor=actor, action=A.UPDATE, obj=row, detail={"person": person.pk, "channels": clean, "all_off": all_off})
        if all_off:
            Message.objects.filter(recipient=person, status=S.QUEUED).update(
                status=S.CANCELLED, status_reason="The person asked for no messages.", status_at=timezone.now())
        for appointment in _upcoming_for(person):
            triggers.replan(appointment, reason="The person changed how they want to be contacted.")
    return row


def _on_care_team(user: User, person: User) -> bool:
    return user.is_practitioner and person.caseload_entries.filter(team__memberships__user=user).exists()


def _upcoming_for(person: User):
    """The upcoming appointments whose messages go to `person`: their own, or for a carer, those of the
    people who share appointment times with them."""
    from backend.accounts.selectors import sharing_carer_links
    from backend.sessions.models import Appointment

    if person.role == Role.CARER:
        whose = {"service_user__in": sharing_carer_links().filter(carer=person).values("service_user")}
    else:
        whose = {"service_user": person}
    return Appointment.objects.filter(
        starts_at__gt=timezone.now(), status__in=[Appointment.Status.SCHEDULED, Appointment.Status.WAITING], **whose,
    ).select_related("team", "team__organisation", "service_user", "course")


# --- Questionnaires ---------------------------------------------------------------------------------
class LinkUnusable(Conflict):
    code = "link_unusable"


def questionnaire_link_by_token(token: str) -> QuestionnaireLink:
    """The link a token opens, or LinkUnusable saying why not (used, expired, cancelled, unknown): the
    page then shows that, with the team's phone number."""
    link = (QuestionnaireLink.objects.filter(token_hash=hashlib.sha256((token or "").encode()).hexdigest())
            .select_related("appointment", "appointment__team", "appointment__service_user", "appointment__course", "instrument", "person")
            .first())
    if link is None:
        raise LinkUnusable("This link is not one we know. It may have been copied only in part.", code="unknown")
    return link


def questionnaire_link_problem(link: QuestionnaireLink) -> str:
    """Why the link cannot be used now, or "" when it can."""
    from backend.outcomes.selectors import current_response_at
    from backend.sessions.models import Appointment

    appointment = link.appointment
    if link.used_at is not None or current_response_at(appointment, link.instrument) is not None:
        return "used"
    if appointment.status in (Appointment.Status.CANCELLED, Appointment.Status.DID_NOT_ATTEND, Appointment.Status.ENDED):
        return "closed"
    if timezone.now() > appointment.starts_at + timedelta(minutes=appointment.duration_minutes) + timedelta(hours=1):
        return "expired"
    if not link.instrument.is_active:
        return "closed"
    return ""


def questionnaire_link_mark_used(*, link: QuestionnaireLink) -> None:
    """The link page filed a response through this link: it is used (kept for the record of which link)."""
    QuestionnaireLink.objects.filter(pk=link.pk, used_at__isnull=True).update(used_at=timezone.now())


def questionnaire_links_used(*, response) -> int:
    """Called through outcomes' RESPONSE_FILED, inside the response's transaction: every nudge still
    queued for that questionnaire at that appointment is cancelled, in one UPDATE (a submission's
    round trips are budgeted: tests/outcomes/test_submission_speed.py). The links themselves need no
    write: a link whose questionnaire has a response for its appointment counts as used
    (`questionnaire_link_problem`); the link page also stamps `used_at` on the one it filed through."""
    if response.appointment_id is None:
        return 0
    return Message.objects.filter(
        questionnaire_links__appointment_id=response.appointment_id, questionnaire_links__instrument_id=response.instrument_id,
        status=S.QUEUED,
    ).update(status=S.CANCELLED, status_reason="The questionnaire was filled in.", status_at=timezone.now())


# --- For the sender (msgcore) ----------------------------------------------------------------------
def message_still_wanted(message: Message) -> str:
    """Checked again just before sending: "" if the message should still go, else why not (the sender
    marks it cancelled with that reason). The appointment cancelled or over, the questionnaire already
    answered, or the person having turned the message off since it was queued."""
    from backend.outcomes.selectors import current_response_at
    from backend.sessions.models import Appointment

    appointment = message.appointment
    if appointment is not None and message.kind != Message.Kind.CANCELLED:
        if appointment.status in (Appointment.Status.CANCELLED, Appointment.Status.ENDED, Appointment.Status.DID_NOT_ATTEND):
            return f"The appointment is {appointment.get_status_display().lower()}."
    if message.kind in (Message.Kind.QUESTIONNAIRE_DUE, Message.Kind.QUESTIONNAIRE_NUDGE):
        for link in message.questionnaire_links.select_related("instrument"):
            if link.used_at is not None or current_response_at(appointment, link.instrument) is not None:
                return "The questionnaire was filled in."
    contact = preferences.contact_for(message.recipient)
    # Only a choice the person made (or "no messages at all") stops it: without one, the message went by
    # the channel it was queued for.
    if (contact.chosen or contact.all_off) and message.channel not in contact.channels_for(message.kind):
        if contact.all_off or not _is_fallback_copy(message, contact):
            return "The person turned these messages off."
    return ""


def _is_fallback_copy(message: Message, contact) -> bool:
    """Whether `message` is the copy `message_fallback_queue` made on the other channel after the same
    message failed for good: the person did not choose this channel for it, but did not turn its group off."""
    if contact.channels[preferences.GROUP_OF[message.kind]] == preferences.OFF or message.appointment_id is None:
        return False
    other = Message.Channel.EMAIL if message.channel == Message.Channel.SMS else Message.Channel.SMS
    return Message.objects.filter(
        appointment_id=message.appointment_id, recipient_id=message.recipient_id, kind=message.kind, channel=other,
        status=S.FAILED, created_at__lte=message.created_at,
    ).exists()


def message_fallback_queue(*, message: Message) -> Message | None:
    """After a permanent failure (a number that bounces), queue the same message on the other channel if
    the person has one (`preferences.fallback_channel_for`); None when there is none."""
    from backend.messaging.content import render, template_for
    from backend.messaging.triggers import team_messaging, values_for

    channel = preferences.fallback_channel_for(message)
    if channel is None or message.appointment is None:
        return None
    contact = preferences.contact_for(message.recipient)
    appointment = message.appointment
    settings_row = team_messaging(appointment.team)
    if channel == Message.Channel.EMAIL:
        # The text already said everything: the email carries the same words under the default subject.
        subject, _, _ = template_for(appointment.team, message.kind, channel, appointment.chosen_modality)
        rendered = render(subject, "", values_for(appointment, message.recipient, settings_row))
        subject, body = rendered.subject, message.body
    else:
        subject, body = "", message.body.split("\n\n")[0]
    return message_queue(
        recipient=message.recipient, organisation=message.organisation, team=message.team, appointment=appointment,
        kind=message.kind, channel=channel, to=contact.address_for(channel), sender_name=message.sender_name,
        subject=subject, body=body, created_by=None,
    )

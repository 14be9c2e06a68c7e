"""Queueing and cancelling messages. Each function is called inside the caller's transaction, so a
message exists exactly when the change that caused it commits.

The messaging issue fills these in: `message_queue` also defers the send job on the durable queue,
and the content rules, preferences and templates decide what to queue (see docs/messaging.md).
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from backend.accounts.models import Role, Team, User
from backend.audit.actor import Actor
from backend.audit.models import AuditEvent
from backend.audit.services import audit_record
from backend.consent.models import Modality
from backend.core.errors import Conflict, Forbidden, InvalidInput
from backend.messaging import content, preferences
from backend.messaging.models import BannedWord, ContactPreference, Message, MessageTemplate, QuestionnaireLink, TeamMessaging

A = AuditEvent.Action

S = Message.Status


def message_queue(
    *, recipient: User, organisation, kind: str, channel: str, to: str, sender_name: str, body: str,
    subject: str = "", team=None, appointment=None, send_after: datetime | None = None, created_by: User | None = None,
) -> Message:
    """Record one message to send at `send_after` (now if not given)."""
    return Message.objects.create(
        recipient=recipient, organisation=organisation, team=team, appointment=appointment, kind=kind, channel=channel,
        to=to, sender_name=sender_name, subject=subject, body=body, send_after=send_after or timezone.now(),
        created_by=created_by,
    )


def messages_cancel(*, appointment, reason: str, kinds: list[str] | None = None) -> int:
    """Cancel every message for `appointment` not yet handed to a provider (of `kinds`, if given)."""
    queued = Message.objects.filter(appointment=appointment, status=S.QUEUED)
    if kinds:
        queued = queued.filter(kind__in=kinds)
    return queued.update(status=S.CANCELLED, status_reason=reason, status_at=timezone.now())


# --- Team settings, templates and banned words (the team's admins) -----------------------------------
def _admin_of(actor: Actor, organisation_id: int) -> None:
    user = actor.user
    if user is None or user.role != Role.ADMIN or user.organisation_id != organisation_id:
        raise Forbidden("Only the organisation's administrators can change its messages.")


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
    if message.channel not in preferences.contact_for(message.recipient).channels_for(message.kind):
        return "The person turned these messages off."
    return ""


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

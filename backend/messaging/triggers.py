"""Which messages an appointment event queues, to whom and when.

`on_appointment_event` is registered in sessions' APPOINTMENT_EVENTS (MessagingConfig.ready) and runs
inside the transaction of the change itself, so the messages exist exactly when the booking, move or
cancellation commits (docs/messaging.md, "Which messages, when"):

- booked: a confirmation now; reminders at the team's offsets (default 7 days and 1 day before, any
  already past skipped); the join details a day before when the way of meeting is known; each
  questionnaire due at it, a few days before, and a nudge the day before.
- rescheduled: every queued message for it is cancelled, "changed" now, and the scheduled ones queued
  again for the new time.
- modality chosen: "changed" now, and the join details (replacing any queued ones).
- cancelled: every queued message cancelled, "cancelled" now. Ended or not attended: queued ones cancelled.
- imported (historic appointments) and everything else: nothing.

Messages go to the person the appointment is for; a carer gets their own copy of confirmations,
reminders, changes and cancellations only through a carer link in effect whose consent holds (the
person's consent to involve that carer: sharing appointment times with them).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from backend.accounts.models import User
from backend.accounts.selectors import sharing_carer_links
from backend.audit.actor import Actor
from backend.consent.models import Modality
from backend.core.phone import phone_number_for_display
from backend.core.times import nhs_when
from backend.messaging import content
from backend.messaging.models import Message, QuestionnaireLink, TeamMessaging
from backend.messaging.preferences import contact_for
from backend.messaging.services import message_queue, messages_cancel
from backend.sessions.models import Appointment, AppointmentEvent

K = Message.Kind
S = Message.Status
E = AppointmentEvent.Kind

# Kinds that are planned from the appointment's time (cancelled and planned again when it moves).
SCHEDULED_KINDS = [K.REMINDER, K.JOIN_LINK, K.QUESTIONNAIRE_DUE, K.QUESTIONNAIRE_NUDGE]
# Kinds a carer who shares appointment times gets a copy of.
CARER_KINDS = {K.CONFIRMATION, K.REMINDER, K.CHANGED, K.CANCELLED}
# The actor join links are issued as when a message needs one (sessions' join_link_issue accepts it).
MESSAGING_ACTOR = Actor(user=None, via="messaging")
JOIN_HOURS_BEFORE = 24


def team_messaging(team) -> TeamMessaging:
    return TeamMessaging.objects.filter(team=team).first() or TeamMessaging(team=team)


# --- Words for one appointment ------------------------------------------------------------------------
def how_words(appointment: Appointment) -> str:
    words = {Modality.VIDEO: "by video call", Modality.PHONE: "by phone", Modality.FACE_TO_FACE: "face to face"}
    if appointment.chosen_modality:
        return words[appointment.chosen_modality]
    offered = [words[m] for m in appointment.modalities_offered if m in words]
    if len(offered) == 1:
        return offered[0]
    return ", ".join(offered[:-1]) + f" or {offered[-1]}, as you choose"


def modality_of(appointment: Appointment) -> str:
    """The way of meeting: the one chosen, or the only one offered; "" while the person can still choose."""
    if appointment.chosen_modality:
        return appointment.chosen_modality
    return appointment.modalities_offered[0] if len(appointment.modalities_offered) == 1 else ""


def join_details(appointment: Appointment, person: User, settings_row: TeamMessaging, team_phone: str) -> str:
    """What to do at the time, for the chosen way of meeting (the video link is made by sessions)."""
    modality = modality_of(appointment)
    if modality == Modality.VIDEO:
        from backend.sessions.services import join_link_make

        link = join_link_make(actor=MESSAGING_ACTOR, appointment=appointment, user=person,
                              absolute_url=lambda path: settings.SITE_URL + path)
        return (f"open this link a few minutes before: {link.url} It works only for this appointment. "
                f"If the video does not work, phone {team_phone}.")
    if modality == Modality.PHONE:
        number = phone_number_for_display(appointment.service_user.phone_number)
        on = f"on {number}" if number else "on the number your team has for you"
        return (f"your clinician will phone you {on} at the time of the appointment. The call will come from "
                f"{settings_row.caller_number_kind}. If you miss it, phone {team_phone}.")
    address = " ".join(appointment.team.face_to_face_address.split()) or "the address your team gave you"
    return f"come to {address}. If you cannot come, phone {team_phone}."


def values_for(appointment: Appointment, person: User, settings_row: TeamMessaging, **extra) -> dict:
    team_phone = phone_number_for_display(appointment.team.phone_number) or "your care team"
    whose = "your" if person.pk == appointment.service_user_id else f"{appointment.service_user.display_name}'s"
    return {
        "name": person.display_name, "whose": whose, "when": nhs_when(appointment.starts_at),
        "sender": settings_row.sender_name, "team_phone": team_phone, "how": how_words(appointment), **extra,
    }


# --- Queueing -----------------------------------------------------------------------------------------
def _unsendable(*, person: User, appointment: Appointment, kind: str, channel: str, sender_name: str, reason: str,
                send_after: datetime, created_by: User | None) -> Message:
    """A message that cannot go, recorded as failed with why, so the team sees it (not silence)."""
    now = timezone.now()
    return Message.objects.create(
        recipient=person, organisation_id=appointment.team.organisation_id, team=appointment.team, appointment=appointment,
        kind=kind, channel=channel, to="", sender_name=sender_name, body="", send_after=send_after,
        status=S.FAILED, status_reason=reason, status_at=now, created_by=created_by,
    )


def queue_for(*, person: User, appointment: Appointment, kind: str, send_after: datetime | None = None,
              created_by: User | None = None, settings_row: TeamMessaging | None = None, **extra) -> list[Message]:
    """Queue `kind` about `appointment` to `person` on each channel they chose for it."""
    settings_row = settings_row or team_messaging(appointment.team)
    contact = contact_for(person)
    send_after = send_after or timezone.now()
    queued = []
    for channel in contact.channels_for(kind):
        common = {"person": person, "appointment": appointment, "kind": kind, "channel": channel,
                  "sender_name": settings_row.sender_name, "send_after": send_after, "created_by": created_by}
        if not settings_row.sender_name:
            queued.append(_unsendable(**common, reason="The team has no sender name yet: an administrator sets it on the team's messages page."))
            continue
        to = contact.address_for(channel)
        if not to:
            queued.append(_unsendable(**common, reason="No mobile number: text messages were chosen but there is no mobile number on record."))
            continue
        subject, body, _ = content.template_for(appointment.team, kind, channel, modality_of(appointment))
        values = values_for(appointment, person, settings_row, **extra)
        if "{join_details}" in body or "{join_details}" in subject:
            values["join_details"] = join_details(appointment, person, settings_row, values["team_phone"])
        rendered = content.render(subject, body, values)
        queued.append(message_queue(
            recipient=person, organisation=appointment.team.organisation, team=appointment.team, appointment=appointment,
            kind=kind, channel=channel, to=to, sender_name=settings_row.sender_name, subject=rendered.subject,
            body=rendered.body, send_after=send_after, created_by=created_by,
        ))
    return queued


def _recipients(appointment: Appointment, kind: str) -> list[User]:
    people = [appointment.service_user]
    if kind in CARER_KINDS:
        links = sharing_carer_links().filter(service_user=appointment.service_user).select_related("carer")
        people += [link.carer for link in links]
    return people


def queue_to_everyone(*, appointment: Appointment, kind: str, send_after: datetime | None = None,
                      created_by: User | None = None, settings_row: TeamMessaging | None = None) -> list[Message]:
    settings_row = settings_row or team_messaging(appointment.team)
    return [m for person in _recipients(appointment, kind)
            for m in queue_for(person=person, appointment=appointment, kind=kind, send_after=send_after,
                               created_by=created_by, settings_row=settings_row)]


def questionnaire_link_new(appointment: Appointment, instrument) -> tuple[QuestionnaireLink, str]:
    """A new one-use link (its row, and the token, which is stored only hashed)."""
    token = secrets.token_urlsafe(24)
    link = QuestionnaireLink.objects.create(
        token_hash=hashlib.sha256(token.encode()).hexdigest(), person=appointment.service_user,
        appointment=appointment, instrument=instrument,
    )
    return link, token


def _queue_questionnaire(appointment: Appointment, instrument, kind: str, send_after: datetime, settings_row: TeamMessaging) -> None:
    link, token = questionnaire_link_new(appointment, instrument)
    url = settings.SITE_URL + reverse("questionnaire-link", args=[token])
    messages = queue_for(person=appointment.service_user, appointment=appointment, kind=kind, send_after=send_after,
                         settings_row=settings_row, questionnaire_link=url)
    link.messages.add(*messages)


def plan_scheduled(appointment: Appointment) -> None:
    """Queue the reminders, join details and questionnaires for the appointment's time (none in the past)."""
    from backend.outcomes.selectors import due_instruments

    now = timezone.now()
    settings_row = team_messaging(appointment.team)
    for hours in sorted({int(h) for h in settings_row.reminder_offsets_hours}, reverse=True):
        at = appointment.starts_at - timedelta(hours=hours)
        if at > now:
            queue_to_everyone(appointment=appointment, kind=K.REMINDER, send_after=at, settings_row=settings_row)
    plan_join(appointment, settings_row)
    due_at = max(now, appointment.starts_at - timedelta(days=settings_row.questionnaire_days_before))
    nudge_at = appointment.starts_at - timedelta(hours=settings_row.nudge_hours_before)
    already_sent = set(
        QuestionnaireLink.objects.filter(appointment=appointment, messages__kind=K.QUESTIONNAIRE_DUE,
                                         messages__status__in=[S.SENDING, S.SENT, S.DELIVERED]).values_list("instrument_id", flat=True)
    )
    for instrument in due_instruments(appointment):
        if instrument.pk not in already_sent:
            _queue_questionnaire(appointment, instrument, K.QUESTIONNAIRE_DUE, due_at, settings_row)
        if nudge_at > due_at and nudge_at > now:
            _queue_questionnaire(appointment, instrument, K.QUESTIONNAIRE_NUDGE, nudge_at, settings_row)


def plan_join(appointment: Appointment, settings_row: TeamMessaging | None = None) -> None:
    """The join details, a day before (now, if that is past), once the way of meeting is known."""
    if not appointment.chosen_modality and len(appointment.modalities_offered) != 1:
        return
    at = max(timezone.now(), appointment.starts_at - timedelta(hours=JOIN_HOURS_BEFORE))
    queue_for(person=appointment.service_user, appointment=appointment, kind=K.JOIN_LINK, send_after=at, settings_row=settings_row)


def replan(appointment: Appointment, reason: str) -> None:
    """Cancel what is queued on the appointment's schedule and plan it again (after a move, or when the
    person changed how they want to be contacted)."""
    messages_cancel(appointment=appointment, reason=reason, kinds=SCHEDULED_KINDS)
    plan_scheduled(appointment)


# --- The hook -----------------------------------------------------------------------------------------
def on_appointment_event(event: AppointmentEvent) -> None:
    appointment = event.appointment
    by = event.actor
    if event.kind == E.BOOKED:
        queue_to_everyone(appointment=appointment, kind=K.CONFIRMATION, created_by=by)
        plan_scheduled(appointment)
    elif event.kind == E.RESCHEDULED:
        messages_cancel(appointment=appointment, reason=f"The appointment moved to {nhs_when(appointment.starts_at)}.",
                        kinds=SCHEDULED_KINDS)
        queue_to_everyone(appointment=appointment, kind=K.CHANGED, created_by=by)
        plan_scheduled(appointment)
    elif event.kind == E.MODALITY_CHOSEN:
        messages_cancel(appointment=appointment, reason="The way of meeting changed.", kinds=[K.JOIN_LINK])
        queue_to_everyone(appointment=appointment, kind=K.CHANGED, created_by=by)
        plan_join(appointment)
    elif event.kind == E.STATUS_CHANGED:
        action = event.data.get("action")
        if action == "cancel":
            messages_cancel(appointment=appointment, reason="The appointment was cancelled.")
            queue_to_everyone(appointment=appointment, kind=K.CANCELLED, created_by=by)
        elif action in ("end", "mark_did_not_attend"):
            messages_cancel(appointment=appointment, reason="The appointment has happened.")
    # IMPORTED (historic appointments) and every other event send nothing.


# --- Preview ------------------------------------------------------------------------------------------
def sample_values(team, modality: str, kind: str) -> dict:
    """The placeholders filled in for a sample appointment next week at 10am, for the template editor's
    preview (no appointment is made, and the video link is a sample, not a working one)."""
    settings_row = team_messaging(team)
    starts = timezone.localtime() + timedelta(days=7)
    starts = starts.replace(hour=10, minute=0, second=0, microsecond=0)
    person = User(full_name="Sam Example", preferred_name="Sam", phone_number="+447400123456")
    appointment = Appointment(team=team, service_user=person, starts_at=starts, duration_minutes=50,
                              modalities_offered=[modality] if modality else list(Modality.values), chosen_modality=modality)
    values = values_for(appointment, person, settings_row)
    values["sender"] = values["sender"] or "(no sender name yet)"
    values["whose_cap"] = "Your"
    if modality == Modality.VIDEO:
        values["join_details"] = (f"open this link a few minutes before: {settings.SITE_URL}/join/a-link-only-for-sam It works only for "
                                  f"this appointment. If the video does not work, phone {values['team_phone']}.")
    else:
        values["join_details"] = join_details(appointment, person, settings_row, values["team_phone"])
    if kind in (K.QUESTIONNAIRE_DUE, K.QUESTIONNAIRE_NUDGE):
        values["questionnaire_link"] = f"{settings.SITE_URL}/q/a-one-use-link-for-sam/"
    return values

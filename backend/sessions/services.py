"""Booking appointments and recording how they were offered, chosen and delivered."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.core import signing
from django.db import transaction
from django.utils import timezone

from backend.accounts.hooks import access_changed
from backend.accounts.models import PRACTITIONER_ROLES, Role, Team, User
from backend.audit.actor import Actor
from backend.audit.models import AuditEvent
from backend.audit.services import audit_record
from backend.consent.models import REMOTE_MODALITIES, Modality, PurposeCode
from backend.consent.selectors import has_consent, require_consent
from backend.core.errors import Conflict, Forbidden, InvalidInput
from backend.core.live import broadcast_on_commit
from backend.core.phone import normalise_phone_number
from backend.sessions.models import (
    Appointment,
    CourseOfCare,
    AppointmentEvent,
    ConnectionSample,
    IceStateChange,
    Participant,
    PhoneCall,
    RearrangeRequest,
    SafetyCheck,
    TeamSessionSettings,
)
from backend.core.phone import phone_number_for_display
from backend.core.times import nhs_when
from backend.sessions.hooks import APPOINTMENT_EVENTS
from backend.sessions.selectors import clashes_for, has_current_safety_check, team_settings
from backend.sessions.signalling import group_name, lobby_group_name, peer_id_for

A = AuditEvent.Action
S = Appointment.Status
P = Participant.State


def _event(appointment: Appointment, kind: str, actor: Actor, **data) -> None:
    event = AppointmentEvent.objects.create(appointment=appointment, kind=kind, actor=actor.user, data=data)
    audit_record(actor=actor, action=A.UPDATE if kind != AppointmentEvent.Kind.BOOKED else A.CREATE, obj=appointment, detail={"event": kind, **data})
    for callback in APPOINTMENT_EVENTS:
        callback(event)


def _require_team_practitioner(user: User | None, team: Team) -> None:
    if user is None or user.role not in PRACTITIONER_ROLES or not team.memberships.filter(user=user).exists():
        raise Forbidden("Only the team's clinicians and peer workers can do this.")


def team_settings_update(*, actor: Actor, team: Team, **changes) -> TeamSessionSettings:
    with transaction.atomic():
        settings_row, _ = TeamSessionSettings.objects.select_for_update().get_or_create(team=team)
        for name, value in changes.items():
            setattr(settings_row, name, value)
        if changes:
            settings_row.save(update_fields=list(changes))
        audit_record(actor=actor, action=A.UPDATE, obj=settings_row, detail={"team": team.pk, **changes})
    return settings_row


# --- Booking, series, rescheduling ----------------------------------------------------------------
SERIES_INTERVALS = {"weekly": 7, "fortnightly": 14}
SERIES_LONGEST_DAYS = 365  # a series ends within a year of its first session; book another after a review


class BookingClash(Conflict):
    """The practitioner or the person already has an appointment at that time. A clash needs the
    booker's confirmation (`confirm_clash`), never blocks outright: two people on one call, a joint
    session or a deliberate double booking are the booker's call to make, seeing what overlaps."""

    code = "clash"

    def __init__(self, detail: str, *, clashes: list[Appointment], field: str = "starts_at"):
        super().__init__(detail, field=field)
        self.clashes = clashes


def _require_bookable(actor: Actor, team: Team, service_user: User, practitioner: User) -> None:
    _require_team_practitioner(actor.user, team)
    if practitioner.role not in PRACTITIONER_ROLES or not team.memberships.filter(user=practitioner).exists():
        raise InvalidInput("The practitioner must be a clinician or peer worker in this team.", field="practitioner_id", code="not_in_team")
    if not team.caseload.filter(service_user=service_user).exists():
        raise InvalidInput("This person is not on the team's caseload.", field="service_user_id", code="not_on_caseload")


def _check_clashes(slots: list[datetime], duration_minutes: int, practitioner: User, service_user: User,
                   *, confirm_clash: bool, exclude: int | None = None) -> None:
    if confirm_clash:
        return
    found = clashes_for(practitioner=practitioner, service_user=service_user, slots=slots, duration_minutes=duration_minutes, exclude=exclude)
    if found:
        lines = "; ".join(
            f"{'you' if a.practitioner_id == practitioner.pk else (a.practitioner.full_name if a.practitioner else a.team.name)} "
            f"with {a.service_user.full_name} on {nhs_when(a.starts_at)}" for a in found[:5]
        )
        raise BookingClash(
            f"This overlaps {len(found)} other appointment{'s' if len(found) != 1 else ''}: {lines}. "
            "Choose another time, or confirm you want to book it anyway.", clashes=found,
        )


def appointment_book(
    *,
    actor: Actor,
    service_user: User,
    team: Team,
    starts_at: datetime,
    modalities_offered: list[str],
    practitioner: User | None = None,
    duration_minutes: int = 50,
    kind: str = Appointment.Kind.TREATMENT,
    earliest_face_to_face_slot: datetime | None = None,
    earliest_remote_slot: datetime | None = None,
    confirm_clash: bool = True,
    series=None,
) -> Appointment:
    """A practitioner books an appointment and says how it can happen. Face to face is always offered.

    `confirm_clash=False` (what the booking page and the API send unless the booker confirmed) refuses
    a time that overlaps the practitioner's or the person's other appointments with `BookingClash`.
    """
    practitioner = practitioner or actor.user
    _require_bookable(actor, team, service_user, practitioner)
    if starts_at <= timezone.now():
        raise InvalidInput("The appointment must be in the future.", field="starts_at", code="in_the_past")
    offered = list(dict.fromkeys(modalities_offered))
    if Modality.FACE_TO_FACE not in offered:
        raise InvalidInput("Face to face must always be offered, whatever else is.", field="modalities_offered", code="face_to_face_required")
    for slot, field in ((earliest_face_to_face_slot, "earliest_face_to_face_slot"), (earliest_remote_slot, "earliest_remote_slot")):
        if slot is not None and slot < timezone.now() - timedelta(days=1):
            raise InvalidInput("The earliest slot offered cannot be in the past.", field=field, code="in_the_past")
    if earliest_remote_slot is not None and not REMOTE_MODALITIES & set(offered):
        raise InvalidInput("No remote modality is offered, so there is no earliest remote slot.", field="earliest_remote_slot", code="not_applicable")
    _check_clashes([starts_at], duration_minutes, practitioner, service_user, confirm_clash=confirm_clash)
    cutoff = timedelta(hours=team_settings(team).choice_cutoff_hours)
    with transaction.atomic():
        appointment = Appointment.objects.create(
            service_user=service_user, team=team, practitioner=practitioner, kind=kind, starts_at=starts_at,
            duration_minutes=duration_minutes, modalities_offered=offered, choice_closes_at=starts_at - cutoff,
            earliest_face_to_face_slot=earliest_face_to_face_slot, earliest_remote_slot=earliest_remote_slot,
            booked_by=actor.user, course=open_course_of(service_user, team), series=series,
        )
        _event(appointment, AppointmentEvent.Kind.BOOKED, actor, offered=offered, starts_at=starts_at.isoformat(),
               **({"series": str(series)} if series else {}))
    return appointment


def series_slots(starts_at: datetime, frequency: str, count: int) -> list[datetime]:
    """The start of each session of a series, at the same local time of day (across clock changes)."""
    if frequency not in SERIES_INTERVALS:
        raise InvalidInput("Choose weekly or fortnightly.", field="frequency", code="invalid_choice")
    if count < 2:
        raise InvalidInput("A series has at least 2 sessions.", field="count", code="min_value")
    if (count - 1) * SERIES_INTERVALS[frequency] > SERIES_LONGEST_DAYS:
        most = SERIES_LONGEST_DAYS // SERIES_INTERVALS[frequency] + 1
        raise InvalidInput(f"A series can last up to a year: at most {most} {frequency} sessions.", field="count", code="series_too_long")
    local = timezone.localtime(starts_at)
    zone = timezone.get_current_timezone()
    return [
        timezone.make_aware(local.replace(tzinfo=None) + timedelta(days=SERIES_INTERVALS[frequency] * n), zone) for n in range(count)
    ]


def appointment_series_book(*, actor: Actor, service_user: User, team: Team, starts_at: datetime, frequency: str, count: int,
                            modalities_offered: list[str], practitioner: User | None = None, confirm_clash: bool = False,
                            **booking) -> list[Appointment]:
    """Book `count` appointments, weekly or fortnightly, all or none (one transaction). Each is an
    ordinary appointment sharing a `series` id; each can be moved or cancelled on its own."""
    practitioner = practitioner or actor.user
    slots = series_slots(starts_at, frequency, count)
    _require_bookable(actor, team, service_user, practitioner)
    _check_clashes(slots, booking.get("duration_minutes", 50), practitioner, service_user, confirm_clash=confirm_clash)
    series = uuid.uuid4()
    with transaction.atomic():
        return [
            appointment_book(actor=actor, service_user=service_user, team=team, starts_at=slot, modalities_offered=modalities_offered,
                             practitioner=practitioner, confirm_clash=True, series=series, **booking)
            for slot in slots
        ]


def appointment_reschedule(*, actor: Actor, appointment: Appointment, starts_at: datetime, reason: str,
                           duration_minutes: int | None = None, confirm_clash: bool = False) -> Appointment:
    """The team moves an appointment that has not happened, saying why; the person sees the change and
    the reason on their appointments page. The modality cut-off moves with it (the team's current
    setting); the person's choice stays. An open request to rearrange it is answered."""
    _require_team_practitioner(actor.user, appointment.team)
    reason = reason.strip()
    if not reason:
        raise InvalidInput("Say why the appointment is moving: the person will see it.", field="reason", code="required")
    if appointment.status not in (S.SCHEDULED, S.WAITING):
        raise IllegalTransition(
            f"You cannot move this appointment: it is {appointment.get_status_display().lower()}.", field="status", code="not_movable"
        )
    if starts_at <= timezone.now():
        raise InvalidInput("The new time must be in the future.", field="starts_at", code="in_the_past")
    duration = duration_minutes or appointment.duration_minutes
    practitioner = appointment.practitioner or actor.user
    _check_clashes([starts_at], duration, practitioner, appointment.service_user, confirm_clash=confirm_clash, exclude=appointment.pk)
    cutoff = timedelta(hours=team_settings(appointment.team).choice_cutoff_hours)
    with transaction.atomic():
        locked = _locked(appointment)
        if locked.status not in (S.SCHEDULED, S.WAITING):
            raise IllegalTransition(f"You cannot move this appointment: it is {locked.get_status_display().lower()}.", field="status", code="not_movable")
        before = locked.starts_at
        locked.starts_at, locked.duration_minutes, locked.choice_closes_at = starts_at, duration, starts_at - cutoff
        locked.save(update_fields=["starts_at", "duration_minutes", "choice_closes_at"])
        _event(locked, AppointmentEvent.Kind.RESCHEDULED, actor, **{"from": before.isoformat(), "to": starts_at.isoformat()},
               duration_minutes=duration, reason=reason)
        _answer_rearrange_requests(locked, actor, "rescheduled")
    return locked


def appointment_rearrange_request(*, actor: Actor, appointment: Appointment, reason: str) -> RearrangeRequest:
    """The person asks their team to move (or otherwise rearrange) an appointment, saying why. Nothing
    moves until the team does it; the team sees the request on its week view."""
    if actor.user is None or actor.user.pk != appointment.service_user_id:
        raise Forbidden("Only the person the appointment is for can ask to rearrange it.")
    reason = reason.strip()
    if not reason:
        raise InvalidInput("Tell your team why, and what would suit you better.", field="reason", code="required")
    with transaction.atomic():
        locked = _locked(appointment)
        if locked.status not in (S.SCHEDULED, S.WAITING) or locked.starts_at <= timezone.now():
            raise IllegalTransition("This appointment can no longer be rearranged online.", field="status", code="not_movable")
        if RearrangeRequest.objects.filter(appointment=locked, answered_at__isnull=True).exists():
            raise Conflict("You have already asked to rearrange this appointment. Your team will be in touch.", code="already_requested")
        request = RearrangeRequest.objects.create(appointment=locked, requested_by=actor.user, reason=reason)
        _event(locked, AppointmentEvent.Kind.REARRANGE_REQUESTED, actor, reason=reason)
    return request


def _answer_rearrange_requests(appointment: Appointment, actor: Actor, answer: str) -> None:
    RearrangeRequest.objects.filter(appointment=appointment, answered_at__isnull=True).update(
        answered_at=timezone.now(), answered_by=actor.user, answer=answer,
    )


def appointment_choose(*, actor: Actor, appointment: Appointment, modality: str) -> Appointment:
    """The service user picks how to be seen, among what was offered, before the team's cut-off."""
    if actor.user is None or actor.user.pk != appointment.service_user_id:
        raise Forbidden("Only the person the appointment is for can choose how to be seen.")
    if modality not in appointment.modalities_offered:
        offered = ", ".join(Modality(m).label.lower() for m in appointment.modalities_offered)
        raise InvalidInput(f"That was not offered for this appointment. Offered: {offered}.", field="modality", code="not_offered")
    if modality in REMOTE_MODALITIES:
        require_consent(appointment.service_user, PurposeCode.REMOTE_CARE, because="A remote appointment")
    if modality == Modality.VIDEO:
        require_consent(appointment.service_user, PurposeCode.VIDEO, because="A video appointment")
    with transaction.atomic():
        locked = Appointment.objects.select_for_update().get(pk=appointment.pk)
        if not locked.choice_open:
            raise Conflict(
                "It is too late to change how this appointment happens online. Call your care team and they will help.",
                field="modality", code="choice_closed",
            )
        locked.chosen_modality, locked.chosen_at = modality, timezone.now()
        locked.save(update_fields=["chosen_modality", "chosen_at"])
        _event(locked, AppointmentEvent.Kind.MODALITY_CHOSEN, actor, modality=modality)
    return locked


def appointment_record_delivery(*, actor: Actor, appointment: Appointment, modality: str, reason: str = "", note: str = "") -> Appointment:
    """Once the session has happened, the practitioner records how it was delivered, and why if not as chosen."""
    _require_team_practitioner(actor.user, appointment.team)
    if appointment.starts_at > timezone.now():
        raise Conflict("The appointment has not started yet.", field="modality", code="not_started")
    expected = appointment.chosen_modality
    if modality != expected and not reason:
        raise InvalidInput(
            "Say why the session happened differently from the choice." if expected else "Say why: no choice was recorded.",
            field="reason", code="required",
        )
    if reason == Appointment.DeliveryReason.OTHER and not note.strip():
        raise InvalidInput("Describe the other reason.", field="note", code="required")
    with transaction.atomic():
        locked = Appointment.objects.select_for_update().get(pk=appointment.pk)
        if locked.delivered_modality:
            raise Conflict("How this session was delivered is already recorded.", code="already_recorded")
        locked.delivered_modality, locked.delivery_reason, locked.delivery_note = modality, reason, note
        locked.save(update_fields=["delivered_modality", "delivery_reason", "delivery_note"])
        _event(locked, AppointmentEvent.Kind.DELIVERY_RECORDED, actor, modality=modality, reason=reason)
    return locked


# --- Courses of care -------------------------------------------------------------------------------

def open_course_of(service_user: User, team: Team) -> CourseOfCare | None:
    return CourseOfCare.objects.filter(service_user=service_user, team=team, ended_on__isnull=True).first()


def _course_dates_check(started_on: date, referral_date: date | None, ended_on: date | None) -> None:
    if referral_date and referral_date > started_on:
        raise InvalidInput("The referral date cannot be after the course starts.", field="referral_date", code="after_start")
    if ended_on and ended_on < started_on:
        raise InvalidInput("The course cannot end before it starts.", field="ended_on", code="before_start")


def course_open(
    *, actor: Actor, service_user: User, team: Team, started_on: date | None = None, referral_date: date | None = None,
) -> CourseOfCare:
    """A team's practitioner starts a course of care for someone on its caseload. The person's coming
    appointments with the team join it, as do any booked later while it is open."""
    _require_team_practitioner(actor.user, team)
    if not team.caseload.filter(service_user=service_user).exists():
        raise InvalidInput("This person is not on the team's caseload.", field="service_user_id", code="not_on_caseload")
    started_on = started_on or timezone.localdate()
    _course_dates_check(started_on, referral_date, None)
    with transaction.atomic():
        if CourseOfCare.objects.select_for_update().filter(service_user=service_user, team=team, ended_on__isnull=True).exists():
            raise Conflict("This person already has an open course of care with this team. End it first.",
                           field="service_user_id", code="course_already_open")
        course = CourseOfCare.objects.create(
            service_user=service_user, team=team, referral_date=referral_date, started_on=started_on, opened_by=actor.user,
        )
        Appointment.objects.filter(
            service_user=service_user, team=team, course__isnull=True, status__in=[S.SCHEDULED, S.WAITING, S.IN_PROGRESS]
        ).update(course=course)
        audit_record(actor=actor, action=A.CREATE, obj=course, detail={"team": team.pk, "service_user": service_user.pk})
    return course


def historic_course_record(
    *, actor: Actor, service_user: User, team: Team, reference: str, started_on: date, referral_date: date | None,
    ended_on: date | None, ending_reason: str = "",
) -> CourseOfCare:
    """A course of care from before the service used Rapport, brought in by an import (which checks
    who may import). It may arrive already ended."""
    _course_dates_check(started_on, referral_date, ended_on)
    course = CourseOfCare.objects.create(
        service_user=service_user, team=team, reference=reference, referral_date=referral_date, started_on=started_on,
        ended_on=ended_on, ending_reason=ending_reason if ended_on else "", opened_by=actor.user,
        ended_by=actor.user if ended_on else None,
    )
    audit_record(actor=actor, action=A.CREATE, obj=course, detail={"team": team.pk, "reference": reference, "imported": True})
    return course


def course_end(*, actor: Actor, course: CourseOfCare, reason: str, note: str = "", ended_on: date | None = None) -> CourseOfCare:
    _require_team_practitioner(actor.user, course.team)
    if reason not in CourseOfCare.EndingReason.values:
        raise InvalidInput("Choose why the course is ending.", field="reason", code="invalid_choice")
    if reason == CourseOfCare.EndingReason.OTHER and not note.strip():
        raise InvalidInput("Describe the other reason.", field="note", code="required")
    ended_on = ended_on or timezone.localdate()
    with transaction.atomic():
        locked = CourseOfCare.objects.select_for_update().get(pk=course.pk)
        if locked.ended_on is not None:
            raise Conflict(f"This course of care already ended on {locked.ended_on:%d %B %Y}.", code="course_ended")
        if ended_on < locked.started_on:
            raise InvalidInput("The course cannot end before it starts.", field="ended_on", code="before_start")
        locked.ended_on, locked.ending_reason, locked.ending_note, locked.ended_by = ended_on, reason, note, actor.user
        locked.save(update_fields=["ended_on", "ending_reason", "ending_note", "ended_by"])
        audit_record(actor=actor, action=A.END, obj=locked, detail={"reason": reason})
    return locked


def appointment_plan_last(*, actor: Actor, appointment: Appointment) -> Appointment:
    """The clinician plans this session to be the course's last, so measures due 'at the last' are asked."""
    _require_team_practitioner(actor.user, appointment.team)
    if appointment.course_id is None or not appointment.course.is_open:
        raise Conflict("This appointment is not part of an open course of care.", field="appointment_id", code="no_open_course")
    with transaction.atomic():
        Appointment.objects.filter(course=appointment.course_id, planned_last=True).update(planned_last=False)
        locked = _locked(appointment)
        locked.planned_last = True
        locked.save(update_fields=["planned_last"])
        _event(locked, AppointmentEvent.Kind.PLANNED_LAST, actor)
    return locked


def historic_appointment_record(
    *, actor: Actor, course: CourseOfCare, starts_at: datetime, kind: str, modality: str, attended: bool, reference: str,
) -> Appointment:
    """An appointment that happened before the service used Rapport, brought in by an import: it is
    recorded as already ended (or not attended) with how it was delivered. Who saw the person is not
    known, so there is no practitioner."""
    status = S.ENDED if attended else S.DID_NOT_ATTEND
    with transaction.atomic():
        appointment = Appointment.objects.create(
            service_user=course.service_user, team=course.team, practitioner=None, kind=kind,
            starts_at=starts_at, modalities_offered=list(dict.fromkeys([modality, Modality.FACE_TO_FACE])),
            choice_closes_at=starts_at, chosen_modality=modality, delivered_modality=modality if attended else "",
            booked_by=actor.user, status=status, course=course, reference=reference,
            started_at=starts_at if attended else None,
        )
        _event(appointment, AppointmentEvent.Kind.IMPORTED, actor, status=status, modality=modality, reference=reference)
    return appointment


# --- The session state machine --------------------------------------------------------------------
S = Appointment.Status
P = Participant.State

# action: (states it may happen from, state it leads to). Anything else is an IllegalTransition (409).
TRANSITIONS = {
    "enter_waiting_room": ({S.SCHEDULED, S.WAITING}, S.WAITING),
    "start": ({S.SCHEDULED, S.WAITING}, S.IN_PROGRESS),
    "end": ({S.IN_PROGRESS}, S.ENDED),
    "cancel": ({S.SCHEDULED, S.WAITING}, S.CANCELLED),
    "mark_did_not_attend": ({S.SCHEDULED, S.WAITING}, S.DID_NOT_ATTEND),
}
_VERBS = {
    "enter_waiting_room": "join the waiting room", "start": "start the session", "end": "end the session",
    "cancel": "cancel the appointment", "mark_did_not_attend": "record that the person did not attend",
}


class IllegalTransition(Conflict):
    code = "illegal_transition"


def _locked(appointment: Appointment) -> Appointment:
    return Appointment.objects.select_for_update().get(pk=appointment.pk)


def _check_transition(appointment: Appointment, action: str) -> None:
    if appointment.status not in TRANSITIONS[action][0]:
        raise IllegalTransition(
            f"You cannot {_VERBS[action]}: the appointment is {appointment.get_status_display().lower()}.", field="status"
        )


def _transition(appointment: Appointment, action: str, actor: Actor, **data) -> None:
    """Move a locked appointment along the state machine, recording who and when."""
    _check_transition(appointment, action)
    to = TRANSITIONS[action][1]
    before = appointment.status
    appointment.status = to
    appointment.save(update_fields=["status"])
    _event(appointment, AppointmentEvent.Kind.STATUS_CHANGED, actor, action=action, **{"from": before, "to": to}, **data)
    broadcast_on_commit(lobby_group_name(appointment.pk), {"type": "lobby.changed"})


def _participant_set(appointment: Appointment, user: User, role: str, state: str, actor: Actor) -> Participant:
    participant, created = Participant.objects.select_for_update().get_or_create(
        appointment=appointment, user=user, defaults={"role": role, "state": state}
    )
    if not created and participant.state != state:
        participant.state, participant.updated_at = state, timezone.now()
        participant.save(update_fields=["state", "updated_at"])
    if state == P.ADMITTED and not participant.delivered_modality and appointment.delivered_modality:
        # Admitted: they take part the way the session is happening (until they switch themselves).
        participant.delivered_modality = appointment.delivered_modality
        participant.save(update_fields=["delivered_modality"])
    _event(appointment, AppointmentEvent.Kind.PARTICIPANT_CHANGED, actor, participant=user.pk, role=participant.role, state=state)
    broadcast_on_commit(lobby_group_name(appointment.pk), {"type": "lobby.changed"})
    return participant


def _require_host(actor: Actor, appointment: Appointment) -> None:
    """Any clinician or peer worker of the appointment's team may run its session (a colleague covers
    for the one it was booked with), as `session_access_for(..., RUN)` says."""
    _require_team_practitioner(actor.user, appointment.team)


def _require_session_consent(appointment: Appointment, modality: str) -> None:
    if modality in REMOTE_MODALITIES:
        require_consent(appointment.service_user, PurposeCode.REMOTE_CARE, because="A remote session")
    if modality == Modality.VIDEO:
        require_consent(appointment.service_user, PurposeCode.VIDEO, because="A video session")


def safety_check_record(
    *, actor: Actor, appointment: Appointment, current_location: str, is_private: bool,
    emergency_contact_confirmed: bool, identity_confirmed: bool, notes: str = "",
) -> SafetyCheck:
    """The clinician's safety and privacy check before a remote session. A correction is a new record."""
    _require_host(actor, appointment)
    if not current_location.strip():
        raise InvalidInput("Write where the person is right now, in case help needs to be sent.", field="current_location", code="required")
    with transaction.atomic():
        locked = _locked(appointment)
        if locked.status in (S.ENDED, S.CANCELLED, S.DID_NOT_ATTEND):
            raise IllegalTransition(f"The appointment is {locked.get_status_display().lower()}.", field="status")
        check = SafetyCheck.objects.create(
            appointment=locked, current_location=current_location, is_private=is_private,
            emergency_contact_confirmed=emergency_contact_confirmed, identity_confirmed=identity_confirmed,
            notes=notes, recorded_by=actor.user,
        )
        _event(locked, AppointmentEvent.Kind.SAFETY_CHECK, actor, is_private=is_private,
               emergency_contact_confirmed=emergency_contact_confirmed, identity_confirmed=identity_confirmed)
    return check


def waiting_room_enter(*, actor: Actor, appointment: Appointment) -> Participant:
    """The service user, or a carer they invited, opens the session and waits to be admitted."""
    user = actor.user
    if user is None:
        raise Forbidden("Open your link again to join.")
    with transaction.atomic():
        locked = _locked(appointment)
        if user.pk == locked.service_user_id:
            role = Participant.Role.SERVICE_USER
        else:
            invited = Participant.objects.filter(
                appointment=locked, user=user, role__in=[Participant.Role.CARER, Participant.Role.GUEST]
            ).exclude(state=P.REMOVED).first()
            if invited is None or (invited.role == Participant.Role.CARER
                                   and not has_consent(locked.service_user, PurposeCode.CARER_INVOLVEMENT, carer=user)):
                raise Forbidden("You have not been invited to this session.")
            role = invited.role
        if locked.status == S.IN_PROGRESS:
            current = Participant.objects.filter(appointment=locked, user=user).first()
            if current is not None and current.state == P.ADMITTED:
                return current  # back after a dropped connection: still admitted
        else:
            _transition(locked, "enter_waiting_room", actor)
        return _participant_set(locked, user, role, P.WAITING, actor)


def session_start(*, actor: Actor, appointment: Appointment, modality: str | None = None) -> Appointment:
    """Start the session: consent and (for remote sessions) the safety check must be in place."""
    _require_host(actor, appointment)
    with transaction.atomic():
        locked = _locked(appointment)
        _check_transition(locked, "start")
        modality = modality or locked.chosen_modality or Modality.VIDEO
        if modality not in locked.modalities_offered:
            raise InvalidInput("That way of meeting was not offered for this appointment.", field="modality", code="not_offered")
        _require_session_consent(locked, modality)
        if modality in REMOTE_MODALITIES and team_settings(locked.team).safety_check_required and not has_current_safety_check(locked):
            raise Conflict("Record the safety and privacy check before the session starts.", field="safety_check", code="safety_check_required")
        _transition(locked, "start", actor, modality=modality)
        locked.started_at, locked.delivered_modality, locked.run_by = timezone.now(), modality, actor.user
        if modality != locked.chosen_modality and not locked.delivery_reason:
            locked.delivery_reason = Appointment.DeliveryReason.NOT_CHOSEN_IN_TIME if not locked.chosen_modality else Appointment.DeliveryReason.CLINICIAN_DECIDED
        locked.save(update_fields=["started_at", "delivered_modality", "delivery_reason", "run_by"])
        _participant_set(locked, actor.user, Participant.Role.HOST, P.ADMITTED, actor)
    return locked


def participants_admit(*, actor: Actor, appointment: Appointment, user_ids: list[int] | None = None) -> list[Participant]:
    """Admit people from the waiting room (everyone waiting if `user_ids` is None); starts the session if
    needed. All or nothing: if someone chosen is not waiting, the session does not start either."""
    _require_host(actor, appointment)
    with transaction.atomic():
        if _locked(appointment).status != S.IN_PROGRESS:
            appointment = session_start(actor=actor, appointment=appointment)
        locked = _locked(appointment)
        waiting = Participant.objects.select_for_update().filter(appointment=locked, state__in=[P.WAITING, P.ON_HOLD])
        if user_ids is not None:
            waiting = waiting.filter(user_id__in=user_ids)
        admitted = [_participant_set(locked, p.user, p.role, P.ADMITTED, actor) for p in waiting.select_related("user")]
        if not Participant.objects.filter(appointment=locked, user=actor.user, state=P.ADMITTED).exists():
            # A colleague admitting into a session another practitioner started joins it as a host too.
            _participant_set(locked, actor.user, Participant.Role.HOST, P.ADMITTED, actor)
        if user_ids is not None and len(admitted) != len(set(user_ids)):
            raise Conflict("Someone you chose is not in the waiting room.", field="user_ids", code="not_waiting")
    return admitted


def participant_move(*, actor: Actor, appointment: Appointment, user: User, state: str) -> Participant:
    """Put a participant on hold, or send them back to the waiting room (for a private word)."""
    _require_host(actor, appointment)
    if state not in (P.ON_HOLD, P.WAITING):
        raise InvalidInput("Choose on hold or waiting room.", field="state", code="invalid_choice")
    with transaction.atomic():
        locked = _locked(appointment)
        participant = Participant.objects.select_for_update().filter(appointment=locked, user=user).exclude(role=Participant.Role.HOST).first()
        if participant is None or participant.state not in (P.ADMITTED, P.WAITING, P.ON_HOLD):
            raise Conflict("This person is not in the session.", field="user_id", code="not_in_session")
        moved = _participant_set(locked, user, participant.role, state, actor)
        broadcast_on_commit(group_name(locked.pk), {"type": "participant.moved", "peer_id": peer_id_for(moved.pk), "state": state})
        return moved


def carer_invite(*, actor: Actor, appointment: Appointment, carer: User) -> Participant:
    """The service user, or a clinician of the team running the session, invites a carer the person
    involves. Either way the person's consent to involving that carer must hold."""
    if actor.user is None or actor.user.pk != appointment.service_user_id:
        _require_host(actor, appointment)
    if carer.role != Role.CARER or not has_consent(appointment.service_user, PurposeCode.CARER_INVOLVEMENT, carer=carer):
        by_person = actor.user is not None and actor.user.pk == appointment.service_user_id
        raise Conflict(
            "Inviting this person needs your consent to 'Involving a named carer' for them. You can give it on the consent page."
            if by_person else
            f"{appointment.service_user.display_name} has not agreed to involving this carer, so they cannot be invited.",
            field="consent.carer_involvement", code="consent_missing",
        )
    with transaction.atomic():
        locked = _locked(appointment)
        if locked.status in (S.ENDED, S.CANCELLED, S.DID_NOT_ATTEND):
            raise IllegalTransition(f"The appointment is {locked.get_status_display().lower()}.", field="status")
        if Participant.objects.filter(appointment=locked, user=carer).exclude(state=P.REMOVED).exists():
            raise Conflict("This person is already invited.", field="carer_id", code="already_invited")
        return _participant_set(locked, carer, Participant.Role.CARER, P.INVITED, actor)


def guest_add(*, actor: Actor, appointment: Appointment, name: str, guest_role: str, language: str = "") -> Participant:
    """The clinician running the session adds a guest (an interpreter, an advocate, a colleague) with a
    role, and for an interpreter the language. The guest gets an account for this one session only
    (no password: they come in by a join link) and waits to be admitted like anyone else."""
    _require_host(actor, appointment)
    name, language = name.strip(), language.strip()
    if not name or len(name) > 200:
        raise InvalidInput("Write the guest's name (up to 200 characters).", field="name", code="required")
    if guest_role not in Participant.GuestRole.values:
        raise InvalidInput("Choose why the guest is joining: interpreter, advocate, colleague or other.", field="guest_role", code="required")
    if guest_role == Participant.GuestRole.INTERPRETER and not language:
        raise InvalidInput("Write the language the interpreter will interpret.", field="language", code="required")
    if len(language) > 64:
        raise InvalidInput("Write the language in up to 64 characters.", field="language", code="too_long")
    if guest_role != Participant.GuestRole.INTERPRETER:
        language = ""
    with transaction.atomic():
        locked = _locked(appointment)
        if locked.status in (S.ENDED, S.CANCELLED, S.DID_NOT_ATTEND):
            raise IllegalTransition(f"The appointment is {locked.get_status_display().lower()}.", field="status")
        guest = User.objects.create_user(
            f"guest-{uuid.uuid4().hex}@guests.rapport.invalid", None, full_name=name, role=Role.GUEST,
        )  # no usable password: a guest can never log in, only open their link
        audit_record(actor=actor, action=A.CREATE, obj=guest, detail={"role": Role.GUEST, "appointment": locked.pk})
        participant = Participant.objects.create(
            appointment=locked, user=guest, role=Participant.Role.GUEST, state=P.INVITED, guest_role=guest_role, guest_language=language,
        )
        _event(locked, AppointmentEvent.Kind.PARTICIPANT_CHANGED, actor, participant=guest.pk, role=Participant.Role.GUEST,
               state=P.INVITED, guest_role=guest_role, language=language)
        broadcast_on_commit(lobby_group_name(locked.pk), {"type": "lobby.changed"})
    return participant


def participant_remove(*, actor: Actor, appointment: Appointment, user: User) -> Participant:
    """The person, or the practitioner hosting, takes an invited carer or a guest out of this session;
    a carer may also step back themselves. They lose its waiting room and call at once (their open
    sockets close, docs/signalling.md 4430). A carer can be invited again."""
    is_self = actor.user is not None and actor.user.pk == user.pk
    if not is_self and (actor.user is None or actor.user.pk != appointment.service_user_id):
        _require_host(actor, appointment)
    with transaction.atomic():
        locked = _locked(appointment)
        participant = Participant.objects.select_for_update().filter(
            appointment=locked, user=user, role__in=[Participant.Role.CARER, Participant.Role.GUEST]
        ).first()
        if participant is None or participant.state in (P.REMOVED, P.LEFT):
            raise Conflict("This person is not invited to this session.", field="user_id", code="not_in_session")
        removed = _participant_set(locked, user, participant.role, P.REMOVED, actor)
        access_changed(reason="participant_removed", user_ids=[user.pk])
    return removed


def session_end(*, actor: Actor, appointment: Appointment) -> Appointment:
    _require_host(actor, appointment)
    with transaction.atomic():
        locked = _locked(appointment)
        _transition(locked, "end", actor)
        locked.ended_at = timezone.now()
        locked.save(update_fields=["ended_at"])
        Participant.objects.filter(appointment=locked).exclude(state=P.LEFT).update(state=P.LEFT, updated_at=locked.ended_at)
        broadcast_on_commit(group_name(locked.pk), {"type": "session.ended"})
    return locked


def session_cancel(*, actor: Actor, appointment: Appointment, reason: str) -> Appointment:
    """The practitioner or the service user cancels, saying why."""
    user = actor.user
    if user is None or not (user.pk == appointment.service_user_id or (user.is_practitioner and appointment.team.memberships.filter(user=user).exists())):
        raise Forbidden("Only the person or their care team can cancel this appointment.")
    if not reason.strip():
        raise InvalidInput("Say why the appointment is cancelled.", field="reason", code="required")
    with transaction.atomic():
        locked = _locked(appointment)
        _transition(locked, "cancel", actor, reason=reason)
        locked.cancelled_by, locked.cancellation_reason = user, reason
        locked.save(update_fields=["cancelled_by", "cancellation_reason"])
        if user.pk != locked.service_user_id:
            _answer_rearrange_requests(locked, actor, "cancelled")
    return locked


def session_mark_did_not_attend(*, actor: Actor, appointment: Appointment) -> Appointment:
    _require_team_practitioner(actor.user, appointment.team)
    if appointment.starts_at > timezone.now():
        raise Conflict("The appointment time has not come yet.", field="status", code="not_started")
    with transaction.atomic():
        locked = _locked(appointment)
        _transition(locked, "mark_did_not_attend", actor)
    return locked


def modality_switch(*, actor: Actor, appointment: Appointment, to: str, reason: str) -> Appointment:
    """During a session someone moves to phone (or audio only, or back to video) when the connection fails.

    Switching is per person: a service user or carer who switches to phone moves only themselves (in a
    call of three the other two stay on video, and the clinician phones that one person); the host
    switching moves everyone. Each participant's `delivered_modality` says how they took part; the
    appointment's follows: phone once nobody but the host is left on video. Audio only stays video.
    """
    if actor.user is None or not Participant.objects.filter(appointment=appointment, user=actor.user, state=P.ADMITTED).exists():
        raise Forbidden("Only people in the session can switch how it continues.")
    if to not in ("phone", "audio_only", "video"):
        raise InvalidInput("Switch to phone, audio only or back to video.", field="to", code="invalid_choice")
    if reason not in Appointment.DeliveryReason.values:
        raise InvalidInput("Give a reason code.", field="reason", code="invalid_choice")
    with transaction.atomic():
        locked = _locked(appointment)
        if locked.status != S.IN_PROGRESS:
            raise IllegalTransition("The session is not in progress.", field="status")
        modality = Modality.PHONE if to == "phone" else Modality.VIDEO
        # A phone fallback is allowed even where phone was not offered: keeping contact comes first.
        _require_session_consent(locked, modality)
        me = Participant.objects.select_for_update().get(appointment=locked, user=actor.user)
        admitted = Participant.objects.select_for_update().filter(appointment=locked, state=P.ADMITTED)
        moving = admitted if me.role == Participant.Role.HOST else admitted.filter(pk=me.pk)
        moving.exclude(delivered_modality=modality).update(delivered_modality=modality)
        others_on_video = admitted.exclude(role=Participant.Role.HOST).filter(delivered_modality=Modality.VIDEO).exists()
        session_modality = Modality.VIDEO if modality == Modality.VIDEO or others_on_video else Modality.PHONE
        if session_modality != locked.delivered_modality:
            locked.delivered_modality, locked.delivery_reason = session_modality, reason
            locked.save(update_fields=["delivered_modality", "delivery_reason"])
        _event(locked, AppointmentEvent.Kind.MODALITY_SWITCHED, actor, to=to, reason=reason,
               participant=actor.user.pk, everyone=me.role == Participant.Role.HOST)
        # Everyone's page learns of it (the waiting-room snapshot carries each person's modality): when one
        # person switches to phone, the clinician must know to phone them.
        broadcast_on_commit(lobby_group_name(locked.pk), {"type": "lobby.changed"})
    return locked


def waiting_room_message(*, actor: Actor, appointment: Appointment, text: str) -> AppointmentEvent:
    """A one-way message from the host to everyone waiting ("running ten minutes late")."""
    _require_host(actor, appointment)
    text = text.strip()
    if not text or len(text) > 500:
        raise InvalidInput("Write a short message (up to 500 characters).", field="text", code="invalid_length")
    with transaction.atomic():
        locked = _locked(appointment)
        if locked.status in (S.ENDED, S.CANCELLED, S.DID_NOT_ATTEND):
            raise IllegalTransition(f"The appointment is {locked.get_status_display().lower()}.", field="status")
        event = AppointmentEvent.objects.create(appointment=locked, kind=AppointmentEvent.Kind.MESSAGE_SENT, actor=actor.user, data={"text": text})
        audit_record(actor=actor, action=A.CREATE, obj=event, detail={"appointment": locked.pk})
        broadcast_on_commit(lobby_group_name(locked.pk), {"type": "lobby.message", "text": text, "sent_at": event.occurred_at.isoformat()})
    return event


# --- Join links -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class JoinLink:
    """A link for one person to join one session, and the words that go with it wherever it is sent
    (copied from the page, printed on the leaflet, and later by text message and email)."""

    url: str
    expires_at: datetime
    message: str


def join_link_issue(*, actor: Actor, appointment: Appointment, user: User) -> tuple[str, datetime]:
    """A signed token for one person to join this one session, e.g. sent by text message.

    It works until an hour after the appointment's end and only for this session; it holds no
    password and gives no access to anything else (see sessions/authentication.py).
    """
    from backend.sessions.selectors import JOIN_LINK_SALT

    # The team's clinicians issue links; so does the messaging app's own actor (no user, via
    # "messaging"), which puts the link in the join details it sends the person. No request can make
    # that actor: views build theirs from the request (Actor.from_request).
    if not (actor.user is None and actor.via == "messaging"):
        _require_team_practitioner(actor.user, appointment.team)
    is_invited = Participant.objects.filter(
        appointment=appointment, user=user, role__in=[Participant.Role.CARER, Participant.Role.GUEST]
    ).exclude(state=P.REMOVED).exists()
    if user.pk != appointment.service_user_id and not is_invited:
        raise InvalidInput("Links are for the person the appointment is for, a carer invited or a guest added.", field="user_id", code="not_a_participant")
    if appointment.status in (S.ENDED, S.CANCELLED, S.DID_NOT_ATTEND):
        raise IllegalTransition(f"The appointment is {appointment.get_status_display().lower()}.", field="status")
    expires_at = appointment.starts_at + timedelta(minutes=appointment.duration_minutes) + timedelta(hours=1)
    token = signing.dumps({"a": appointment.pk, "u": user.pk, "e": int(expires_at.timestamp())}, salt=JOIN_LINK_SALT, compress=True)
    audit_record(actor=actor, action=A.CREATE, object_type="telesessions.joinlink", object_id=appointment.pk, detail={"for": user.pk})
    return token, expires_at


def join_link_make(*, actor: Actor, appointment: Appointment, user: User, absolute_url: Callable[[str], str]) -> JoinLink:
    """The one place a join link and its message are made. `absolute_url` turns a path into a full
    address (the request's `build_absolute_uri`), so the link points where the person can reach."""
    from django.urls import reverse

    token, expires_at = join_link_issue(actor=actor, appointment=appointment, user=user)
    url = absolute_url(reverse("join-link", args=[token]))
    return JoinLink(url=url, expires_at=expires_at, message=join_link_message(appointment, user, url))


def join_link_message(appointment: Appointment, user: User, url: str) -> str:
    """What to say with a join link, in plain words: when, with whom, how to join, what if it fails."""
    team = appointment.team
    phone = phone_number_for_display(team.phone_number)
    ring = f"phone {team.name} on {phone}" if phone else f"contact {team.name}"
    whose = "" if user.pk == appointment.service_user_id else f"{appointment.service_user.display_name}'s "
    return (
        f"Hello {user.display_name}. {whose or 'Your '}appointment with {team.name} is on "
        f"{nhs_when(appointment.starts_at)}. To join the video call, open this link a few minutes before: {url} "
        f"It works only for this appointment, until an hour after it ends. You do not need a password. "
        f"If the video does not work, {ring}: they can phone you instead or see you face to face."
    )


# --- Phone calls ----------------------------------------------------------------------------------
def phone_call_start(*, actor: Actor, appointment: Appointment, number: str, callee: User | None = None) -> PhoneCall:
    """The practitioner rings the person (a phone session, or the fallback from video)."""
    _require_host(actor, appointment)
    try:
        number = normalise_phone_number(number)
    except ValueError as error:
        raise InvalidInput(str(error), field="number", code="invalid_phone_number") from None
    if not number:
        raise InvalidInput("Enter the phone number you are calling.", field="number", code="required")
    callee = callee or appointment.service_user
    with transaction.atomic():
        locked = _locked(appointment)
        if locked.status != S.IN_PROGRESS:
            raise IllegalTransition("Start the session first (as a phone session, or switch to phone).", field="status")
        if locked.phone_calls.filter(ended_at__isnull=True).exists():
            raise Conflict("A call is already going on: end it first.", code="call_in_progress")
        call = PhoneCall.objects.create(appointment=locked, caller=actor.user, callee=callee, number=number)
        # The person phoned takes part by phone; the session is a phone session unless others are still on video.
        Participant.objects.filter(appointment=locked, user=callee).exclude(role=Participant.Role.HOST).update(delivered_modality=Modality.PHONE)
        others_on_video = Participant.objects.filter(appointment=locked, state=P.ADMITTED, delivered_modality=Modality.VIDEO).exclude(
            role=Participant.Role.HOST).exists()
        if locked.delivered_modality != Modality.PHONE and not others_on_video:
            locked.delivered_modality = Modality.PHONE
            if not locked.delivery_reason:
                locked.delivery_reason = Appointment.DeliveryReason.CLINICIAN_DECIDED
            locked.save(update_fields=["delivered_modality", "delivery_reason"])
        audit_record(actor=actor, action=A.CREATE, obj=call, detail={"appointment": locked.pk})
    return call


def phone_call_end(*, actor: Actor, appointment: Appointment) -> PhoneCall:
    _require_host(actor, appointment)
    with transaction.atomic():
        call = PhoneCall.objects.select_for_update().filter(appointment=appointment, ended_at__isnull=True).first()
        if call is None:
            raise Conflict("There is no call going on.", code="no_call")
        call.ended_at = timezone.now()
        call.save(update_fields=["ended_at"])
        audit_record(actor=actor, action=A.END, obj=call, detail={"appointment": appointment.pk})
    return call


# --- Connection telemetry -------------------------------------------------------------------------
def telemetry_record(*, participant: Participant, samples: list[dict], ice_states: list[dict]) -> int:
    """Store a batch of a participant's connection statistics and ICE state changes. Returns rows stored."""
    appointment = participant.appointment
    ConnectionSample.objects.bulk_create(
        [ConnectionSample(appointment=appointment, participant=participant, **sample) for sample in samples]
    )
    IceStateChange.objects.bulk_create(
        [IceStateChange(appointment=appointment, participant=participant, **change) for change in ice_states]
    )
    return len(samples) + len(ice_states)

"""Who may see which appointments. Practitioners: their teams'. Service users: their own. Carers: the
times of appointments of people who share them (consent holds). Evaluators and admins: none here."""

from __future__ import annotations

from django.db.models import QuerySet

from backend.accounts.models import PRACTITIONER_ROLES, Role, Team, User
from backend.accounts.selectors import sharing_carer_links
from backend.consent.models import PurposeCode
from backend.consent.selectors import has_consent
from backend.core.errors import Conflict, Forbidden, NotFound
from backend.sessions.models import Appointment, Participant, TeamSessionSettings


def appointments_visible_to(user: User) -> QuerySet[Appointment]:
    appointments = Appointment.objects.select_related("service_user", "practitioner", "team")
    if user.role in PRACTITIONER_ROLES:
        return appointments.filter(team__memberships__user=user)
    if user.role == Role.SERVICE_USER:
        return appointments.filter(service_user=user)
    if user.role == Role.CARER:
        return appointments.filter(service_user__in=sharing_carer_links().filter(carer=user).values("service_user"))
    return appointments.none()


def appointment_for(user: User, appointment_id: int) -> Appointment:
    appointment = appointments_visible_to(user).filter(pk=appointment_id).first()
    if appointment is None:
        raise NotFound(f"No appointment {appointment_id} that you can see.", field="appointment_id")
    return appointment


def team_settings(team: Team) -> TeamSessionSettings:
    """The team's settings, or the defaults if it has never changed them (nothing is written)."""
    return TeamSessionSettings.objects.filter(team=team).first() or TeamSessionSettings(team=team)


def has_current_safety_check(appointment: Appointment) -> bool:
    """Whether the latest safety check for this appointment confirms what a remote session needs."""
    check = appointment.safety_checks.order_by("-id").first()
    return bool(check and check.emergency_contact_confirmed and check.identity_confirmed)


def participants_of(appointment: Appointment):
    return appointment.participants.select_related("user").order_by("id")


class NotAdmitted(Forbidden):
    code = "not_admitted"


class NotInProgress(Conflict):
    code = "not_in_progress"


def session_participant_for(user: User, appointment_id: int) -> Participant:
    """The participant `user` is in this session's call, if they may signal now; otherwise a domain error.

    The one rule for who may join the call, used by the signalling consumer and the call page alike:
    a participant of this appointment, admitted, while the session is in progress (and, for a carer,
    while the person's consent to involve them holds).
    """
    participant = (
        Participant.objects.filter(appointment_id=appointment_id, user=user)
        .select_related("appointment", "user", "appointment__service_user").first()
    )
    if participant is None:
        raise NotFound(f"No session {appointment_id} that you are part of.", field="appointment_id")
    appointment = participant.appointment
    if appointment.status != Appointment.Status.IN_PROGRESS:
        raise NotInProgress(f"The session is {appointment.get_status_display().lower()}.", field="status")
    if participant.role == Participant.Role.CARER and not has_consent(
        appointment.service_user, PurposeCode.CARER_INVOLVEMENT, carer=user
    ):
        raise Forbidden("You are no longer invited to this session.")
    if participant.state != Participant.State.ADMITTED:
        raise NotAdmitted("Wait in the waiting room until you are admitted.", field="state")
    return participant


def admitted_participants(appointment_id: int) -> list[Participant]:
    return list(
        Participant.objects.filter(appointment_id=appointment_id, state=Participant.State.ADMITTED).select_related("user")
    )


def lobby_participant_for(user: User, appointment_id: int) -> tuple[Appointment, str]:
    """Who may watch a session's waiting room: its host, its service user, a carer they invited (while
    consent holds). Returns the appointment and the watcher's role."""
    appointment = Appointment.objects.filter(pk=appointment_id).select_related("service_user").first()
    if appointment is None:
        raise NotFound(f"No session {appointment_id} that you are part of.", field="appointment_id")
    if user.pk == appointment.practitioner_id:
        return appointment, Participant.Role.HOST
    if user.pk == appointment.service_user_id:
        return appointment, Participant.Role.SERVICE_USER
    invited = Participant.objects.filter(appointment=appointment, user=user, role=Participant.Role.CARER).exists()
    if invited and has_consent(appointment.service_user, PurposeCode.CARER_INVOLVEMENT, carer=user):
        return appointment, Participant.Role.CARER
    raise NotFound(f"No session {appointment_id} that you are part of.", field="appointment_id")


def lobby_snapshot(appointment_id: int, viewer_role: str) -> dict:
    """What the waiting room shows now. The host sees everyone; others see the status and themselves."""
    appointment = Appointment.objects.get(pk=appointment_id)
    participants = [
        {"user_id": p.user_id, "name": p.user.display_name, "role": p.role, "state": p.state}
        for p in appointment.participants.select_related("user").order_by("id")
    ]
    return {
        "type": "lobby",
        "status": appointment.status,
        "host_ready": appointment.status == Appointment.Status.IN_PROGRESS,
        "participants": participants if viewer_role == Participant.Role.HOST else None,
    }

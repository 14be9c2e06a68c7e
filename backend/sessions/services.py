"""Booking appointments and recording how they were offered, chosen and delivered."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from backend.accounts import selectors as access
from backend.accounts.models import PRACTITIONER_ROLES, Team, User
from backend.audit.actor import Actor
from backend.audit.models import AuditEvent
from backend.audit.services import audit_record
from backend.consent.models import REMOTE_MODALITIES, Modality, PurposeCode
from backend.consent.selectors import require_consent
from backend.core.errors import Conflict, Forbidden, InvalidInput
from backend.sessions.models import Appointment, AppointmentEvent, TeamSessionSettings
from backend.sessions.selectors import team_settings

A = AuditEvent.Action


def _event(appointment: Appointment, kind: str, actor: Actor, **data) -> None:
    AppointmentEvent.objects.create(appointment=appointment, kind=kind, actor=actor.user, data=data)
    audit_record(actor=actor, action=A.UPDATE if kind != AppointmentEvent.Kind.BOOKED else A.CREATE, obj=appointment, detail={"event": kind, **data})


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
) -> Appointment:
    """A practitioner books an appointment and says how it can happen. Face to face is always offered."""
    practitioner = practitioner or actor.user
    _require_team_practitioner(actor.user, team)
    _require_team_practitioner(practitioner, team)
    if not team.caseload.filter(service_user=service_user).exists():
        raise InvalidInput("This person is not on the team's caseload.", field="service_user_id", code="not_on_caseload")
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
    cutoff = timedelta(hours=team_settings(team).choice_cutoff_hours)
    with transaction.atomic():
        appointment = Appointment.objects.create(
            service_user=service_user, team=team, practitioner=practitioner, kind=kind, starts_at=starts_at,
            duration_minutes=duration_minutes, modalities_offered=offered, choice_closes_at=starts_at - cutoff,
            earliest_face_to_face_slot=earliest_face_to_face_slot, earliest_remote_slot=earliest_remote_slot,
            booked_by=actor.user,
        )
        _event(appointment, AppointmentEvent.Kind.BOOKED, actor, offered=offered, starts_at=starts_at.isoformat())
    return appointment


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

"""Who may see which appointments. Practitioners: their teams'. Service users: their own. Carers: the
times of appointments of people who share them (consent holds). Evaluators and admins: none here."""

from __future__ import annotations

from django.db.models import QuerySet

from backend.accounts.models import PRACTITIONER_ROLES, Role, Team, User
from backend.accounts.selectors import sharing_carer_links
from backend.core.errors import NotFound
from backend.sessions.models import Appointment, TeamSessionSettings


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

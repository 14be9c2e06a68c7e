"""Queries about outcome measures: who may see which responses and flags, what is due, trajectories."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Exists, OuterRef, Prefetch, QuerySet

from backend.accounts.models import CaseloadEntry, Role, User
from backend.accounts.selectors import service_users_visible_to
from backend.consent.selectors import service_users_sharing_scores_with
from backend.core.errors import NotFound, one_visible
from backend.outcomes.models import Answer, Instrument, MeasureSchedule, Response, RiskFlag
from backend.sessions.models import Appointment, CourseOfCare

INACTIVE_APPOINTMENT = [Appointment.Status.CANCELLED, Appointment.Status.DID_NOT_ATTEND]


def instruments_with_parts() -> QuerySet[Instrument]:
    return Instrument.objects.prefetch_related("items", "options", "bands")


def instrument_by_code(code: str, *, active_only: bool = True) -> Instrument:
    instruments = instruments_with_parts()
    if active_only:
        instruments = instruments.filter(is_active=True)
    found = instruments.filter(code=code).first()
    if found is None:
        raise NotFound(f"No questionnaire '{code}'.", field="instrument")
    return found


def risk_limits(instrument: Instrument) -> dict[int, int]:
    return {item.number: item.risk_above for item in instrument.items.all() if item.risk_above is not None}


def service_users_whose_scores_are_visible_to(user: User) -> QuerySet[User]:
    """Practitioners see their caseloads'; a person sees their own; a carer sees a person's only when
    that person chose to share scores with them. Evaluators see exports only; admins see none."""
    if user.role == Role.CARER:
        return service_users_sharing_scores_with(user)
    if user.role == Role.ADMIN:
        return User.objects.none()
    return service_users_visible_to(user)


def current_responses() -> QuerySet[Response]:
    """Responses not replaced by a correction."""
    return Response.objects.filter(replaced_by__isnull=True)


def responses_visible_to(user: User) -> QuerySet[Response]:
    return current_responses().filter(
        service_user__in=service_users_whose_scores_are_visible_to(user)
    ).select_related("instrument", "appointment", "course")


def response_for(user: User, response_id: int) -> Response:
    """One response (a replaced one too: its history stays readable) of a person whose scores `user` may see."""
    visible = Response.objects.filter(service_user__in=service_users_whose_scores_are_visible_to(user))
    return one_visible(visible, response_id, noun="response", field="response_id")


def response_with_answers(response: Response) -> Response:
    return Response.objects.select_related("instrument").prefetch_related(
        Prefetch("answers", queryset=Answer.objects.select_related("item"))
    ).get(pk=response.pk)


# --- Risk flags -------------------------------------------------------------------------------------

def clinicians_responsible_for(service_user: User) -> QuerySet[User]:
    """The clinicians of every team whose caseload the person is on: who a risk flag goes to."""
    on_caseload = CaseloadEntry.objects.filter(service_user=service_user, team__memberships__user=OuterRef("pk"))
    return User.objects.filter(role=Role.CLINICIAN, is_active=True).filter(Exists(on_caseload))


def risk_flags_visible_to(user: User) -> QuerySet[RiskFlag]:
    """Clinicians see the flags of people on their teams' caseloads. Risk is a clinical duty, so other
    roles (peer workers included) do not get flags; the clinician decides what to share."""
    if user.role != Role.CLINICIAN:
        return RiskFlag.objects.none()
    return RiskFlag.objects.filter(service_user__in=service_users_visible_to(user)).select_related(
        "service_user", "item__instrument", "response", "acknowledgement__acknowledged_by"
    ).prefetch_related("item__instrument__options")


def open_risk_flags_visible_to(user: User) -> QuerySet[RiskFlag]:
    return risk_flags_visible_to(user).filter(acknowledgement__isnull=True)


def risk_flag_for(user: User, flag_id: int) -> RiskFlag:
    return one_visible(risk_flags_visible_to(user), flag_id, noun="risk flag", field="flag_id")


def risk_flag_group(user_id: int) -> str:
    """The channel-layer group of one clinician's open risk-flag sockets."""
    return f"risk-flags.user.{user_id}"


# --- What is due ------------------------------------------------------------------------------------

def first_appointment_of(course: CourseOfCare) -> Appointment | None:
    return course.appointments.exclude(status__in=INACTIVE_APPOINTMENT).order_by("starts_at", "id").first()


def due_instruments(appointment: Appointment) -> list[Instrument]:
    """The team's scheduled questionnaires due at this appointment, not yet answered for it."""
    if appointment.course_id is None or appointment.status in INACTIVE_APPOINTMENT:
        return []
    schedules = MeasureSchedule.objects.filter(team=appointment.team_id, instrument__is_active=True).select_related("instrument")
    first = first_appointment_of(appointment.course)
    is_first = first is not None and first.pk == appointment.pk
    answered = set(current_responses().filter(appointment=appointment).values_list("instrument_id", flat=True))
    due = []
    for schedule in schedules:
        W = MeasureSchedule.When
        if schedule.when == W.EVERY_SESSION or is_first or (schedule.when == W.FIRST_AND_LAST and appointment.planned_last):
            if schedule.instrument_id not in answered:
                due.append(schedule.instrument)
    return due


# --- Trajectories -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class TrajectoryPoint:
    response_id: int
    completed_at: object
    score: Decimal
    band: str
    at_caseness: bool | None
    modality: str  # how the contact was delivered: video, phone, face_to_face, or "" when not known
    mode: str


def trajectory(service_user: User, instrument: Instrument, course: CourseOfCare | None = None) -> list[TrajectoryPoint]:
    responses = current_responses().filter(
        service_user=service_user, instrument=instrument, status=Response.Status.SCORED
    ).select_related("appointment").order_by("completed_at", "id")
    if course is not None:
        responses = responses.filter(course=course)
    return [
        TrajectoryPoint(
            response_id=r.pk, completed_at=r.completed_at, score=r.score, band=r.band, at_caseness=r.at_caseness,
            modality=(r.appointment.delivered_modality or r.appointment.chosen_modality) if r.appointment else "", mode=r.mode,
        )
        for r in responses
    ]


def instruments_answered_by(service_user: User) -> QuerySet[Instrument]:
    return instruments_with_parts().filter(
        Exists(current_responses().filter(service_user=service_user, instrument=OuterRef("pk"), status=Response.Status.SCORED))
    )


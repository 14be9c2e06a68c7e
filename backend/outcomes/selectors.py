"""Queries about outcome measures: who may see which responses and flags, what is due, trajectories."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import BooleanField, Exists, OuterRef, Prefetch, QuerySet, Value

from backend.accounts.models import CaseloadEntry, Role, TeamMembership, User
from backend.accounts.selectors import service_user_for, service_users_visible_to
from backend.consent.selectors import service_users_sharing_scores_with
from backend.core.compiled import CompiledQuery
from backend.core.errors import NotFound, one_visible
from backend.outcomes.models import Answer, Instrument, MeasureSchedule, Response, RiskFlag
from backend.sessions.models import Appointment, CourseOfCare
from backend.sessions.selectors import appointment_for, appointments_visible_to, course_for, courses_visible_to

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


# --- Instrument definitions, cached per process -----------------------------------------------------
# An instrument never changes once made (a new wording or scoring is a new instrument, with a code of its
# own); only `is_active` changes, when it is retired. So each process keeps the definitions it has
# loaded (with items, options and bands), saving four queries per submission, and asks the database
# only whether the one it uses is still active: folded into the query a submission makes anyway
# (`submission_target(..., instrument=...)`), or in one small query (`active_instrument`). A retirement
# is seen at once by every process, from the committed row, and nothing has to be told when an
# instrument is made: a new code is loaded the first time it is asked for.
_definitions: dict[str, Instrument] = {}


def instrument_definition(code: str) -> Instrument:
    """This process's copy of the instrument with this code, with its items, options and bands, loaded
    the first time (NotFound if no active one has it). Shared between requests: never change it. Its
    `is_active` is as it was when loaded: confirm it through submission_target or active_instrument."""
    instrument = _definitions.get(code)
    if instrument is None:
        instrument = instrument_by_code(code)  # NotFound for an unknown or retired code
        instrument.items.all(), instrument.options.all(), instrument.bands.all()  # already prefetched
        _definitions[code] = instrument
    return instrument


def active_instrument(code: str) -> Instrument:
    """The active instrument with this code (the process's copy), confirmed active now: one query. A
    copy found retired is dropped, and the code answers NotFound as for any retired one."""
    instrument = instrument_definition(code)
    if not Instrument.objects.filter(pk=instrument.pk, is_active=True).exists():
        _definitions.pop(code, None)
        return instrument_definition(code)  # NotFound: retired
    return instrument


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


@dataclass(frozen=True)
class SubmissionTarget:
    """Whom a questionnaire is for and where it is filed, each as the submitter may see it."""

    service_user: User
    course: CourseOfCare | None
    appointment: Appointment | None
    instrument_active: bool | None = None  # whether the instrument given is active now; None: not asked


# --- The submission's one query, compiled once per process ------------------------------------------
# A submission names a person and a course or appointment; submission_target checks each through its
# access rule (service_users_visible_to, courses_visible_to, appointments_visible_to), whether the
# submitter is on the course's team and whether the instrument is still active, in one query. Building
# and compiling that query through the ORM took about 2.5 ms of CPU per submission, a third of the
# request and several times what PostgreSQL takes to answer it. Its SQL depends only on the submitter's
# role, whether they have an organisation (the rules read nothing else of the user but their id), the
# path (appointment or course) and whether the instrument is asked; everything else is an id. So each
# process builds it from the same access rules once per such shape (backend/core/compiled.py) and
# reuses the SQL with each submission's ids. It is not a second
# copy of the rules: a change to a rule changes the SQL compiled; nothing about access is cached (only
# SQL text, never a row or an answer); and tests/outcomes/test_submission_speed.py checks, for every role
# that may submit, that the SQL run is the SQL the ORM builds for the real user and ids.
_USER_FIELDS = [f.attname for f in User._meta.concrete_fields]
_COURSE_FIELDS = [f.attname for f in CourseOfCare._meta.concrete_fields]
_APPOINTMENT_FIELDS = [f.attname for f in Appointment._meta.concrete_fields]
_CHECKS = ["_person_visible", "_on_team", "_instrument_active"]


def submission_rows(user: User, *, path: str, target_id: int, service_user_id: int, instrument_id: int | None) -> QuerySet:
    """The target of a submission and the checks on it, as one row (see above): the appointment, its
    course and the person, or the course and the person, then _CHECKS."""
    person_visible = Exists(service_users_visible_to(user).filter(pk=service_user_id))
    instrument_active = (Exists(Instrument.objects.filter(pk=instrument_id, is_active=True)) if instrument_id is not None
                         else Value(None, BooleanField()))
    if path == "appointment":
        rows = appointments_visible_to(user).filter(pk=target_id)
        on_team = Exists(TeamMembership.objects.filter(team=OuterRef("course__team"), user=user))
        fields = [*_APPOINTMENT_FIELDS, *(f"course__{f}" for f in _COURSE_FIELDS), *(f"service_user__{f}" for f in _USER_FIELDS)]
    else:
        rows = courses_visible_to(user).filter(pk=target_id)
        on_team = Exists(TeamMembership.objects.filter(team=OuterRef("team"), user=user))
        fields = [*_COURSE_FIELDS, *(f"service_user__{f}" for f in _USER_FIELDS)]
    checks = {"_person_visible": person_visible, "_on_team": on_team, "_instrument_active": instrument_active}
    return rows.select_related(None).annotate(**checks).values_list(*fields, *_CHECKS)[:1]


def _submission_query(shape: tuple, *, user_id: int, organisation_id: int, target_id: int, service_user_id: int,
                      instrument_id: int) -> QuerySet:
    path, role, has_organisation, with_instrument = shape
    # The submitter as the access rules see them: their role, id and organisation (the shape says which).
    user = User(pk=user_id, role=role, organisation_id=organisation_id if has_organisation else None)
    return submission_rows(user, path=path, target_id=target_id, service_user_id=service_user_id,
                           instrument_id=instrument_id if with_instrument else None)


_SUBMISSION_QUERY = CompiledQuery(_submission_query)


def submission_query_values(user: User, *, service_user_id: int, course_id: int | None, appointment_id: int | None,
                            instrument: Instrument | None) -> tuple[tuple, dict]:
    """The shape and values of a submission's query (tests compare its SQL with the ORM's)."""
    path = "appointment" if appointment_id else "course"
    shape = (path, user.role, user.organisation_id is not None, instrument is not None)
    return shape, {"user_id": user.pk, "organisation_id": user.organisation_id or 0,
                   "target_id": appointment_id or course_id, "service_user_id": service_user_id,
                   "instrument_id": instrument.pk if instrument is not None else 0}


def submission_target(user: User, *, service_user_id: int, course_id: int | None, appointment_id: int | None,
                      instrument: Instrument | None = None) -> SubmissionTarget:
    """The person, course and appointment a submission names, by the same rules as service_user_for,
    course_for and appointment_for, in ONE query in the usual case (the appointment or the course
    of the person named). The course carries `on_team_of`, whether `user` is on its team, so that
    response_submit need not ask again; with `instrument` (a cached definition), the same query says
    whether it is still active. Anything unusual (a miss, a mismatch) goes through the single-object
    helpers, which raise the NotFound naming the field."""
    if not appointment_id and not course_id:
        return SubmissionTarget(service_user_for(user, service_user_id), None, None)
    shape, values = submission_query_values(user, service_user_id=service_user_id, course_id=course_id,
                                            appointment_id=appointment_id, instrument=instrument)
    row = _SUBMISSION_QUERY.first(shape, **values)
    if row is None:  # not one the submitter may see: the single-object helper raises the NotFound naming the field
        if appointment_id:
            appointment_for(user, appointment_id)
            raise NotFound(f"No appointment {appointment_id} that you can see.", field="appointment_id")
        course_for(user, course_id)
        raise NotFound(f"No course of care {course_id} that you can see.", field="course_id")
    person_visible, on_team, instrument_active = row[-3:]
    db = "default"  # the one CompiledQuery's connection
    appointment = None
    if appointment_id:
        n, m = len(_APPOINTMENT_FIELDS), len(_APPOINTMENT_FIELDS) + len(_COURSE_FIELDS)
        appointment = Appointment.from_db(db, _APPOINTMENT_FIELDS, row[:n])
        found_course = CourseOfCare.from_db(db, _COURSE_FIELDS, row[n:m]) if appointment.course_id is not None else None
        Appointment.course.field.set_cached_value(appointment, found_course)
        person_row = row[m:-3]
        course = noted = found_course
        if course_id and course_id != appointment.course_id:
            course = course_for(user, course_id)  # resolve_course then names the mismatch
    else:
        n = len(_COURSE_FIELDS)
        course = noted = CourseOfCare.from_db(db, _COURSE_FIELDS, row[:n])
        person_row = row[n:-3]
    if person_visible and person_row[0] == service_user_id:  # person_row[0]: the target's service_user_id
        person = User.from_db(db, _USER_FIELDS, person_row)
        (Appointment if appointment_id else CourseOfCare).service_user.field.set_cached_value(appointment or course, person)
    else:
        person = service_user_for(user, service_user_id)  # NotFound; or someone else, which resolve_course names
    if noted is not None and course is noted:
        course.on_team_of = (user.pk, on_team)
    return SubmissionTarget(person, course, appointment, instrument_active if instrument is not None else None)


def current_response_at(appointment: Appointment, instrument: Instrument) -> Response | None:
    """The answers to this questionnaire already filed for this appointment (not corrected since), if any."""
    return (current_responses().filter(appointment=appointment, instrument=instrument).select_related("entered_by")
            .order_by("-completed_at", "-id").first())


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



# --- The caseload dashboard -------------------------------------------------------------------------
DASHBOARD_MEASURES = ("phq9", "gad7")


@dataclass
class MeasureSummary:
    """A person's latest score on one measure, its band, and the change since their course began
    (latest minus the first score in the current course; None with only one score in it)."""

    score: Decimal
    band: str
    completed_at: object
    change: Decimal | None


@dataclass
class DashboardRow:
    person: User
    teams: list[str]
    next_appointment: Appointment | None
    measures: dict[str, MeasureSummary | None]
    open_flags: int | None  # None: the viewer may not see risk flags (peer workers)
    outstanding: list[str]  # questionnaires due at the next appointment and not yet answered


def caseload_dashboard_rows(user: User, people: list[User]) -> list[DashboardRow]:
    """One row per person on the viewer's caseloads (`people`, already narrowed to them), built from
    the same rules as everything else: appointments_visible_to, courses_visible_to,
    service_users_whose_scores_are_visible_to, risk_flags_visible_to."""
    from django.utils import timezone

    ids = [p.pk for p in people]
    scored = set(service_users_whose_scores_are_visible_to(user).filter(pk__in=ids).values_list("pk", flat=True))
    next_by_person: dict[int, Appointment] = {}
    for appointment in appointments_visible_to(user).filter(
        service_user_id__in=ids, starts_at__gte=timezone.now() - timezone.timedelta(hours=1),
        status__in=[Appointment.Status.SCHEDULED, Appointment.Status.WAITING, Appointment.Status.IN_PROGRESS],
    ).select_related("course").order_by("starts_at", "id"):
        next_by_person.setdefault(appointment.service_user_id, appointment)
    open_courses = {c.service_user_id: c.pk for c in courses_visible_to(user).filter(service_user_id__in=ids, ended_on__isnull=True)}
    first_in_course: dict[tuple[int, str], Decimal] = {}
    latest: dict[tuple[int, str], Response] = {}
    for response in current_responses().filter(
        service_user_id__in=scored, instrument__code__in=DASHBOARD_MEASURES, status=Response.Status.SCORED
    ).select_related("instrument").order_by("completed_at", "id"):
        key = (response.service_user_id, response.instrument.code)
        latest[key] = response
        if response.course_id == open_courses.get(response.service_user_id):
            first_in_course.setdefault(key, (response.pk, response.score))
    flags: dict[int, int] = {}
    can_see_flags = user.role == Role.CLINICIAN
    for flag in open_risk_flags_visible_to(user).filter(service_user_id__in=ids).values_list("service_user_id", flat=True):
        flags[flag] = flags.get(flag, 0) + 1
    rows = []
    for person in people:
        measures = {}
        for code in DASHBOARD_MEASURES:
            response = latest.get((person.pk, code))
            if response is None:
                measures[code] = None
                continue
            first = first_in_course.get((person.pk, code))
            change = response.score - first[1] if first is not None and first[0] != response.pk and response.course_id == open_courses.get(person.pk) else None
            measures[code] = MeasureSummary(score=response.score, band=response.band, completed_at=response.completed_at, change=change)
        upcoming = next_by_person.get(person.pk)
        rows.append(DashboardRow(
            person=person, teams=[entry.team.name for entry in person.caseload_entries.all()], next_appointment=upcoming,
            measures=measures, open_flags=flags.get(person.pk, 0) if can_see_flags else None,
            outstanding=[instrument.name for instrument in due_instruments(upcoming)] if upcoming else [],
        ))
    return rows

"""Actions in the college. Each is one transaction that writes its own audit event; a refusal leaves nothing
half-saved. Sessions are group sessions booked through groups' services (`group_book(open_course=True)`,
`attendee_add`, `attendee_remove`, `attendance_correct`), never rows written here.

Places are counted under a row lock on the run (`select_for_update`), so concurrent enrolments, withdrawals and
promotions on PostgreSQL queue behind each other and a run never holds more students than its capacity.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from backend.accounts.models import PRACTITIONER_ROLES, STAFF_ROLES, Role, Team, User
from backend.audit.actor import Actor
from backend.audit.services import audit_record
from backend.core.errors import Conflict, Forbidden, InvalidInput
from backend.groups import services as groups
from backend.groups.models import GroupAttendee, GroupSession

from . import feedback as feedback_form
from . import selectors
from .models import Audience, Course, CourseRun, Delivery, Enrolment, Facilitator, FeedbackResponse, LearningPlan, RunSession, Term, TrainerRecord

TEXT_MAX = 4000


def _text(value: str, field: str, *, required: bool = True, max_length: int = 200) -> str:
    value = (value or "").strip()
    if required and not value:
        raise InvalidInput("This cannot be empty.", field=field)
    if len(value) > max_length:
        raise InvalidInput(f"Keep this to {max_length} characters.", field=field)
    return value


def _manager(actor: Actor, organisation_id: int) -> None:
    if actor.user is not None and not selectors.is_manager(actor.user, organisation_id):
        raise Forbidden("Only college staff of this organisation can do this.", code="not_college_staff")


# --- Prospectus -----------------------------------------------------------------------------------------
def course_create(*, actor: Actor, organisation_id: int, title: str, description: str, audience: str, delivery: str,
                  sessions: int, capacity: int) -> Course:
    _manager(actor, organisation_id)
    title, description = _text(title, "title"), _text(description, "description", max_length=TEXT_MAX)
    if audience not in Audience.values:
        raise InvalidInput("Choose who the course is for.", field="audience")
    if delivery not in Delivery.values:
        raise InvalidInput("Choose online, in person or both.", field="delivery")
    if not 1 <= sessions <= 52:
        raise InvalidInput("A course has between 1 and 52 sessions.", field="sessions")
    if not 1 <= capacity <= settings.GROUP_CAPACITY_DEFAULT:
        raise InvalidInput(f"A run takes between 1 and {settings.GROUP_CAPACITY_DEFAULT} students (a group session's size).", field="capacity")
    with transaction.atomic():
        if Course.objects.filter(organisation_id=organisation_id, title__iexact=title).exists():
            raise Conflict("The prospectus already has a course with this title.", field="title")
        course = Course.objects.create(organisation_id=organisation_id, title=title, description=description, audience=audience,
                                       delivery=delivery, sessions=sessions, capacity=capacity, created_by=actor.user)
        audit_record(actor=actor, action="college.course_created", obj=course)
    return course


def term_create(*, actor: Actor, organisation_id: int, name: str, starts_on: dt.date, ends_on: dt.date) -> Term:
    _manager(actor, organisation_id)
    name = _text(name, "name", max_length=100)
    if ends_on < starts_on:
        raise InvalidInput("A term ends on or after the day it starts.", field="ends_on")
    with transaction.atomic():
        if Term.objects.filter(organisation_id=organisation_id, name__iexact=name).exists():
            raise Conflict("There is already a term with this name.", field="name")
        term = Term.objects.create(organisation_id=organisation_id, name=name, starts_on=starts_on, ends_on=ends_on)
        audit_record(actor=actor, action="college.term_created", obj=term)
    return term


def run_create(*, actor: Actor, course: Course, term: Term, team: Team, delivery: str, first_session_at: dt.datetime,
               duration_minutes: int = 120, venue: str = "", capacity: int | None = None) -> CourseRun:
    """A draft run of a course in a term: its sessions weekly from `first_session_at`, all within the term."""
    _manager(actor, course.organisation_id)
    if term.organisation_id != course.organisation_id or team.organisation_id != course.organisation_id:
        raise InvalidInput("The term and the hosting team must be the course's organisation's.", field="team_id")
    if delivery not in (Delivery.ONLINE, Delivery.IN_PERSON):
        raise InvalidInput("A run meets online or in person.", field="delivery")
    if course.delivery != Delivery.BOTH and delivery != course.delivery:
        raise InvalidInput(f"This course is taught {course.get_delivery_display().lower()} only.", field="delivery")
    venue = _text(venue, "venue", required=delivery == Delivery.IN_PERSON, max_length=300)
    capacity = capacity if capacity is not None else course.capacity
    if not 1 <= capacity <= course.capacity:
        raise InvalidInput(f"A run of this course takes between 1 and {course.capacity} students.", field="capacity")
    if not 15 <= duration_minutes <= 480:
        raise InvalidInput("A session lasts between 15 minutes and 8 hours.", field="duration_minutes")
    if timezone.is_naive(first_session_at):
        raise InvalidInput("Give the time with its time zone.", field="first_session_at")
    last = first_session_at + dt.timedelta(weeks=course.sessions - 1)
    if timezone.localdate(first_session_at) < term.starts_on or timezone.localdate(last) > term.ends_on:
        raise InvalidInput(f"The {course.sessions} weekly sessions must fall within the term ({term.starts_on:%-d %B} to {term.ends_on:%-d %B %Y}).",
                           field="first_session_at")
    with transaction.atomic():
        run = CourseRun.objects.create(course=course, term=term, team=team, delivery=delivery, first_session_at=first_session_at,
                                       duration_minutes=duration_minutes, venue=venue, capacity=capacity, created_by=actor.user)
        audit_record(actor=actor, action="college.run_created", obj=run)
    return run


# --- Trainers -------------------------------------------------------------------------------------------
def trainer_record_create(*, actor: Actor, organisation_id: int, user: User, kind: str, training_completed: str,
                          training_completed_on: dt.date, accredited_on: dt.date | None = None, supervisor: User | None = None) -> TrainerRecord:
    """Record someone as a trainer of the organisation's college. A peer or carer peer trainer may hold any
    account of their own (a carer stays a carer: no role, team or caseload is added); a professional trainer is
    staff of the organisation. The supervisor is a clinician, peer worker or admin of the organisation."""
    _manager(actor, organisation_id)
    if kind not in TrainerRecord.Kind.values:
        raise InvalidInput("Choose professional trainer, peer trainer or carer peer trainer.", field="kind")
    if not user.is_active or user.role in (Role.GUEST, Role.EVALUATOR):
        raise InvalidInput("A trainer needs an active account of their own (not a guest's or an evaluator's).", field="user_id")
    if user.role in STAFF_ROLES and user.organisation_id != organisation_id:
        raise InvalidInput("Staff of another organisation cannot train here.", field="user_id")
    if kind == TrainerRecord.Kind.PROFESSIONAL and user.role not in STAFF_ROLES:
        raise InvalidInput("A professional trainer is staff of the organisation; record a carer or service user as a peer trainer.", field="kind")
    if supervisor is not None and (supervisor.role not in selectors.MANAGER_ROLES or supervisor.organisation_id != organisation_id or supervisor.pk == user.pk):
        raise InvalidInput("The supervisor is another clinician, peer worker or administrator of the organisation.", field="supervisor_id")
    training_completed = _text(training_completed, "training_completed")
    today = timezone.localdate()
    if training_completed_on > today:
        raise InvalidInput("Training completed cannot be in the future.", field="training_completed_on")
    if accredited_on is not None and (accredited_on < training_completed_on or accredited_on > today):
        raise InvalidInput("Accreditation comes after the training and not in the future.", field="accredited_on")
    with transaction.atomic():
        if TrainerRecord.objects.filter(organisation_id=organisation_id, user=user).exists():
            raise Conflict("This person already has a trainer record here.", field="user_id")
        record = TrainerRecord.objects.create(
            organisation_id=organisation_id, user=user, kind=kind, training_completed=training_completed,
            training_completed_on=training_completed_on, accredited_on=accredited_on, supervisor=supervisor,
        )
        audit_record(actor=actor, action="college.trainer_recorded", obj=record, detail={"kind": kind})
    return record


def facilitator_add(*, actor: Actor, run: CourseRun, trainer: TrainerRecord) -> Facilitator:
    _manager(actor, run.course.organisation_id)
    if trainer.organisation_id != run.course.organisation_id or not trainer.active:
        raise InvalidInput("Choose an active trainer of this college.", field="trainer_id")
    with transaction.atomic():
        run = CourseRun.objects.select_for_update().get(pk=run.pk)
        if run.state != CourseRun.State.DRAFT:
            raise Conflict("Facilitators are chosen before a run is published.", field="state")
        if run.facilitators.filter(trainer=trainer).exists():
            raise Conflict("This trainer already facilitates this run.", field="trainer_id")
        facilitator = Facilitator.objects.create(run=run, trainer=trainer)
        audit_record(actor=actor, action="college.facilitator_added", obj=facilitator)
    return facilitator


def facilitator_remove(*, actor: Actor, facilitator: Facilitator) -> None:
    _manager(actor, facilitator.run.course.organisation_id)
    with transaction.atomic():
        run = CourseRun.objects.select_for_update().get(pk=facilitator.run_id)
        if run.state != CourseRun.State.DRAFT:
            raise Conflict("Facilitators are changed before a run is published.", field="state")
        audit_record(actor=actor, action="college.facilitator_removed", obj=facilitator)
        facilitator.delete()


def co_facilitation_problem(facilitators: list[Facilitator]) -> str | None:
    """Why a run's facilitators break the co-facilitation rule (None: they keep it)."""
    active = [f for f in facilitators if f.trainer.active]
    if len(active) < 2:
        return "A run needs at least two facilitators, at least one of them a peer trainer."
    if not any(f.trainer.is_peer for f in active):
        return "At least one facilitator must be a peer trainer (or a carer peer trainer): every course is co-led by someone with lived experience."
    return None


def run_publish(*, actor: Actor, run: CourseRun) -> CourseRun:
    """Publish a run: check co-facilitation, then book its sessions as group sessions of the hosting team,
    hosted by a facilitator who is a clinician or peer worker of that team. All or nothing."""
    _manager(actor, run.course.organisation_id)
    with transaction.atomic():
        run = CourseRun.objects.select_for_update().select_related("course", "team").get(pk=run.pk)
        if run.state != CourseRun.State.DRAFT:
            raise Conflict("Only a draft run can be published.", field="state")
        facilitators = list(run.facilitators.select_related("trainer__user"))
        problem = co_facilitation_problem(facilitators)
        if problem:
            raise InvalidInput(problem, field="facilitators", code="co_facilitation")
        members = set(run.team.memberships.values_list("user_id", flat=True))
        hosts = [f.trainer.user for f in facilitators if f.trainer.user.role in PRACTITIONER_ROLES and f.trainer.user_id in members]
        if not hosts:
            raise InvalidInput(f"One facilitator must be a clinician or peer worker of {run.team.name}, to host the sessions.", field="facilitators", code="no_host")
        if run.first_session_at <= timezone.now():
            raise InvalidInput("The first session has passed: change the date before publishing.", field="first_session_at")
        meetings = groups.group_book(
            actor=actor, team=run.team, title=run.course.title, facilitator=hosts[0], co_facilitator=hosts[1] if len(hosts) > 1 else None,
            starts_at=run.first_session_at, people=[], capacity=run.capacity, duration_minutes=run.duration_minutes,
            repeat_weeks=run.course.sessions, open_course=True,
        )
        RunSession.objects.bulk_create([RunSession(run=run, number=n, group=g) for n, g in enumerate(meetings, start=1)])
        run.state, run.published_at = CourseRun.State.PUBLISHED, timezone.now()
        run.save(update_fields=["state", "published_at"])
        audit_record(actor=actor, action="college.run_published", obj=run, detail={"sessions": len(meetings)})
    return run


# --- Enrolment ------------------------------------------------------------------------------------------
def _book_into_sessions(actor: Actor, run: CourseRun, student: User) -> None:
    for session in run.sessions.select_related("group").filter(group__status=GroupSession.Status.SCHEDULED):
        groups.attendee_add(actor=actor, group=session.group, person=student)


def _unbook_from_sessions(actor: Actor, run: CourseRun, student: User) -> None:
    attendees = GroupAttendee.objects.filter(group__college_session__run=run, person=student, group__status=GroupSession.Status.SCHEDULED)
    for attendee in attendees.exclude(state=GroupAttendee.State.REMOVED):
        groups.attendee_remove(actor=actor, attendee=attendee)


def enrol(*, actor: Actor, run: CourseRun, student: User) -> Enrolment:
    """Enrol `student` (themselves, or by college staff with them): a place while the run has one, else the
    waiting list. Refused for a run not open, a student the course is not for, or one already enrolled."""
    if actor.user is not None and actor.user.pk != student.pk:
        if not selectors.is_manager(actor.user, run.course.organisation_id):
            raise Forbidden("Only college staff enrol someone else.", code="not_college_staff")
    if not student.is_active or not selectors.audience_allows(run.course.audience, student):
        raise InvalidInput(f"This course is for {run.course.get_audience_display().lower()}.", field="student_id", code="not_for_you")
    with transaction.atomic():
        run = CourseRun.objects.select_for_update().select_related("course").get(pk=run.pk)
        if run.state != CourseRun.State.PUBLISHED:
            raise Conflict("This run is not open for enrolment.", field="run_id", code="not_open")
        if run.first_session_at <= timezone.now():
            raise Conflict("This run has started: enrolment has closed. Look for the next run in the prospectus.", field="run_id", code="started")
        existing = run.enrolments.filter(student=student, state__in=Enrolment.OPEN_STATES).first()
        if existing is not None:
            where = "a place on" if existing.state == Enrolment.State.ENROLLED else "the waiting list for"
            raise Conflict(f"Already on {where} this run.", field="run_id", code="already_enrolled")
        taken = run.enrolments.filter(state=Enrolment.State.ENROLLED).count()
        now = timezone.now()
        placed = taken < run.capacity
        enrolment = Enrolment.objects.create(
            run=run, student=student, enrolled_by=actor.user or student, created_at=now, placed_at=now if placed else None,
            state=Enrolment.State.ENROLLED if placed else Enrolment.State.WAITING,
        )
        if placed:
            _book_into_sessions(actor, run, student)
        audit_record(actor=actor, action="college.enrolled" if placed else "college.waiting_listed", obj=enrolment,
                     detail={"run": run.pk, "by_staff": actor.user is not None and actor.user.pk != student.pk})
    return enrolment


def withdraw(*, actor: Actor, enrolment: Enrolment) -> Enrolment:
    """The student (or college staff) withdraws: their place, or their place on the waiting list, ends; a freed
    place goes to the first person waiting, in the same transaction."""
    with transaction.atomic():
        run = CourseRun.objects.select_for_update().select_related("course").get(pk=enrolment.run_id)
        enrolment = Enrolment.objects.select_for_update().select_related("student").get(pk=enrolment.pk)
        if actor.user is not None and actor.user.pk != enrolment.student_id and not selectors.is_manager(actor.user, run.course.organisation_id):
            raise Forbidden("Only the student or college staff can withdraw this enrolment.", code="not_college_staff")
        if enrolment.state == Enrolment.State.WITHDRAWN:
            raise Conflict("This enrolment was already withdrawn.", field="enrolment_id", code="already_withdrawn")
        had_place = enrolment.state == Enrolment.State.ENROLLED
        enrolment.state, enrolment.withdrawn_at = Enrolment.State.WITHDRAWN, timezone.now()
        enrolment.save(update_fields=["state", "withdrawn_at"])
        if had_place:
            _unbook_from_sessions(actor, run, enrolment.student)
        audit_record(actor=actor, action="college.withdrawn", obj=enrolment, detail={"had_place": had_place})
        if had_place:
            _promote(actor, run)
    return enrolment


def _promote(actor: Actor, run: CourseRun) -> Enrolment | None:
    """Give a free place to the first person waiting (the caller holds the run's lock)."""
    if run.state != CourseRun.State.PUBLISHED or run.enrolments.filter(state=Enrolment.State.ENROLLED).count() >= run.capacity:
        return None
    nxt = run.enrolments.filter(state=Enrolment.State.WAITING).select_for_update().select_related("student").order_by("created_at", "id").first()
    if nxt is None:
        return None
    nxt.state, nxt.placed_at, nxt.promoted = Enrolment.State.ENROLLED, timezone.now(), True
    nxt.save(update_fields=["state", "placed_at", "promoted"])
    _book_into_sessions(actor, run, nxt.student)
    audit_record(actor=actor, action="college.promoted", obj=nxt, detail={"run": run.pk})
    return nxt


# --- Attendance -----------------------------------------------------------------------------------------
def register_take(*, actor: Actor, session: RunSession, marks: dict[int, str]) -> int:
    """The register of one session, taken on the page (in person) or corrected after an online one: each
    enrolled student's line through groups' `attendance_correct`. Only the run's facilitators and college staff."""
    run = session.run
    if actor.user is None or not selectors.can_teach(actor.user, run):
        raise Forbidden("Only the run's facilitators and college staff take its register.", code="not_a_facilitator")
    if session.group.starts_at > timezone.now():
        raise Conflict("The register is taken once the session has started.", field="number", code="not_started")
    attendees = {a.person_id: a for a in session.group.attendees.exclude(state=GroupAttendee.State.REMOVED)}
    students = set(run.enrolments.filter(state=Enrolment.State.ENROLLED).values_list("pk", "student_id"))
    by_enrolment = dict(students)
    for enrolment_id, mark in marks.items():
        if enrolment_id not in by_enrolment or by_enrolment[enrolment_id] not in attendees:
            raise InvalidInput(f"Enrolment {enrolment_id} is not a student booked into this session.", field="marks")
        if mark not in (GroupAttendee.Attendance.ATTENDED, GroupAttendee.Attendance.LEFT_EARLY, GroupAttendee.Attendance.DID_NOT_ATTEND):
            raise InvalidInput("Mark each student attended, left early or did not attend.", field="marks")
    with transaction.atomic():
        for enrolment_id, mark in marks.items():
            groups.attendance_correct(actor=actor, attendee=attendees[by_enrolment[enrolment_id]], attendance=mark)
        audit_record(actor=actor, action="college.register_taken", obj=session, detail={"marks": len(marks)})
    return len(marks)


# --- Learning plan, feedback, certificate ---------------------------------------------------------------
def learning_plan_save(*, actor: Actor, enrolment: Enrolment, goals: str | None = None, reflection: str | None = None) -> LearningPlan:
    if actor.user is None or actor.user.pk != enrolment.student_id:
        raise Forbidden("A learning plan is written by its student.", code="not_your_plan")
    if enrolment.state == Enrolment.State.WITHDRAWN:
        raise Conflict("You have withdrawn from this run.", field="enrolment_id", code="withdrawn")
    values = {}
    if goals is not None:
        values["goals"] = _text(goals, "goals", required=False, max_length=TEXT_MAX)
    if reflection is not None:
        values["reflection"] = _text(reflection, "reflection", required=False, max_length=TEXT_MAX)
    with transaction.atomic():
        plan, _ = LearningPlan.objects.select_for_update().get_or_create(enrolment=enrolment)
        for key, value in values.items():
            setattr(plan, key, value)
        plan.updated_at = timezone.now()
        plan.save(update_fields=[*values, "updated_at"])
        audit_record(actor=actor, action="college.plan_saved", obj=plan, detail={"fields": sorted(values)})
    return plan


def feedback_submit(*, actor: Actor, enrolment: Enrolment, answers: dict) -> FeedbackResponse:
    if actor.user is None or actor.user.pk != enrolment.student_id:
        raise Forbidden("Feedback is given by the student.", code="not_your_feedback")
    if enrolment.state != Enrolment.State.ENROLLED:
        raise Conflict("Feedback is given by students with a place on the run.", field="enrolment_id", code="no_place")
    try:
        cleaned = feedback_form.check_answers(answers)
    except ValueError as error:
        field, message = error.args
        raise InvalidInput(message, field=field) from None
    with transaction.atomic():
        if FeedbackResponse.objects.filter(enrolment=enrolment).exists():
            raise Conflict("You have already given feedback on this run. Thank you.", field="enrolment_id", code="already_given")
        response = FeedbackResponse.objects.create(enrolment=enrolment, form_version=feedback_form.VERSION, answers=cleaned)
        audit_record(actor=actor, action="college.feedback_given", obj=response)
    return response


def certificate_issue(*, actor: Actor, enrolment: Enrolment) -> bytes:
    """The student's certificate as a PDF, when they attended the required share of sessions; otherwise a
    clear refusal saying how many they attended and how many were needed."""
    from .certificate import certificate_pdf

    if actor.user is None or actor.user.pk != enrolment.student_id:
        raise Forbidden("A certificate is downloaded by its student.", code="not_your_certificate")
    if enrolment.state != Enrolment.State.ENROLLED:
        raise Conflict("Only a student with a place on the run can get its certificate.", field="enrolment_id", code="no_place")
    completion = selectors.completion_of(enrolment)
    if not completion.completed:
        raise Conflict(
            f"A certificate needs {completion.required} of the {completion.sessions} sessions attended; the register shows {completion.attended}. "
            "If the register is wrong, ask a facilitator to correct it.", field="enrolment_id", code="not_enough_attendance",
        )
    pdf = certificate_pdf(enrolment=enrolment, completion=completion)
    audit_record(actor=actor, action="college.certificate_issued", obj=enrolment, detail={"attended": completion.attended, "sessions": completion.sessions})
    return pdf

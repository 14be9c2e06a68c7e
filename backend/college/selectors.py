"""Who may see what in the college, written once and used by every page and API view.

- The prospectus (published runs of terms not yet over, with their course and places left) is public: it
  holds no personal data.
- College staff of an organisation (its admins, clinicians and peer workers) manage its courses, terms, trainer
  records and runs, see its runs' enrolments and take registers.
- A trainer sees the runs they facilitate, their students' names and registers, and nothing else (a carer peer
  trainer gets no caseload, team or clinical record through it).
- A student sees their own enrolments, learning plans, certificates and feedback. Learning plans are theirs
  alone: facilitators and staff do not read them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from backend.accounts.models import PRACTITIONER_ROLES, STAFF_ROLES, Role, User
from backend.core.errors import Forbidden, NotFound, one_visible
from backend.groups.models import GroupAttendee

from .models import Audience, CourseRun, Course, Enrolment, Facilitator, RunSession, Term, TrainerRecord

MANAGER_ROLES = frozenset({Role.ADMIN, *PRACTITIONER_ROLES})
STUDENT_ROLES = frozenset({Role.SERVICE_USER, Role.CARER, *STAFF_ROLES})
ATTENDED = (GroupAttendee.Attendance.ATTENDED, GroupAttendee.Attendance.LEFT_EARLY)


def is_manager(user: User, organisation_id: int | None = None) -> bool:
    """College staff: an admin, clinician or peer worker (of `organisation_id`, when given)."""
    if not user.is_authenticated or user.role not in MANAGER_ROLES or user.organisation_id is None:
        return False
    return organisation_id is None or user.organisation_id == organisation_id


def require_manager(user: User) -> int:
    if not is_manager(user):
        raise Forbidden("Only college staff (administrators, clinicians and peer workers) manage the college.", code="not_college_staff")
    return user.organisation_id


def audience_allows(audience: str, user: User) -> bool:
    return {
        Audience.ANYONE: user.role in STUDENT_ROLES,
        Audience.SERVICE_USERS: user.role == Role.SERVICE_USER,
        Audience.CARERS: user.role == Role.CARER,
        Audience.STAFF: user.role in STAFF_ROLES,
    }[audience]


def _with_places(runs: QuerySet[CourseRun]) -> QuerySet[CourseRun]:
    return runs.select_related("course", "term", "team").annotate(
        enrolled_count=Count("enrolments", filter=Q(enrolments__state=Enrolment.State.ENROLLED), distinct=True),
        waiting_count=Count("enrolments", filter=Q(enrolments__state=Enrolment.State.WAITING), distinct=True),
    )


def prospectus_runs() -> QuerySet[CourseRun]:
    """The current prospectus: published runs of terms not yet over, with places taken (counts only)."""
    return _with_places(CourseRun.objects.filter(state=CourseRun.State.PUBLISHED, term__ends_on__gte=timezone.localdate()))


def trainer_records_of(user: User) -> QuerySet[TrainerRecord]:
    return TrainerRecord.objects.filter(user=user, active=True)


def runs_visible_to(user: User) -> QuerySet[CourseRun]:
    """The prospectus, plus the runs the asker manages (their organisation's, any state), facilitates or is
    (or was) enrolled on."""
    mine = Q(state=CourseRun.State.PUBLISHED, term__ends_on__gte=timezone.localdate())
    mine |= Q(Exists(Facilitator.objects.filter(run=OuterRef("pk"), trainer__user=user, trainer__active=True)))
    mine |= Q(Exists(Enrolment.objects.filter(run=OuterRef("pk"), student=user)))
    if is_manager(user):
        mine |= Q(course__organisation_id=user.organisation_id)
    return _with_places(CourseRun.objects.filter(mine))


def run_for(user: User, run_id: int) -> CourseRun:
    return one_visible(runs_visible_to(user), run_id, noun="course run", field="run_id")


def can_teach(user: User, run: CourseRun) -> bool:
    """College staff of the run's organisation, or one of its facilitators: may see its students and registers."""
    return is_manager(user, run.course.organisation_id) or run.facilitators.filter(trainer__user=user, trainer__active=True).exists()


def run_for_teaching(user: User, run_id: int) -> CourseRun:
    run = run_for(user, run_id)
    if not can_teach(user, run):
        raise Forbidden("Only the run's facilitators and college staff see its students and registers.", field="run_id", code="not_a_facilitator")
    return run


def run_for_manager(user: User, run_id: int) -> CourseRun:
    organisation_id = require_manager(user)
    return one_visible(_with_places(CourseRun.objects.filter(course__organisation_id=organisation_id)), run_id, noun="course run", field="run_id")


def courses_visible_to(user: User) -> QuerySet[Course]:
    return Course.objects.filter(organisation_id=require_manager(user))


def course_for(user: User, course_id: int) -> Course:
    return one_visible(courses_visible_to(user), course_id, noun="course", field="course_id")


def terms_visible_to(user: User) -> QuerySet[Term]:
    return Term.objects.filter(organisation_id=require_manager(user))


def term_for(user: User, term_id: int) -> Term:
    return one_visible(terms_visible_to(user), term_id, noun="term", field="term_id")


def trainers_visible_to(user: User) -> QuerySet[TrainerRecord]:
    """College staff: their organisation's trainer records. A trainer: their own."""
    if is_manager(user):
        return TrainerRecord.objects.filter(organisation_id=user.organisation_id).select_related("user", "supervisor")
    return TrainerRecord.objects.filter(user=user).select_related("user", "supervisor")


def trainer_for(user: User, trainer_id: int) -> TrainerRecord:
    return one_visible(trainers_visible_to(user), trainer_id, noun="trainer record", field="trainer_id")


def enrolments_visible_to(user: User) -> QuerySet[Enrolment]:
    """Your own; and, for college staff and facilitators, the enrolments on the runs they manage or teach."""
    seen = Q(student=user)
    seen |= Q(Exists(Facilitator.objects.filter(run=OuterRef("run"), trainer__user=user, trainer__active=True)))
    if is_manager(user):
        seen |= Q(run__course__organisation_id=user.organisation_id)
    return Enrolment.objects.filter(seen).select_related("run__course", "run__term", "student")


def enrolment_for(user: User, enrolment_id: int) -> Enrolment:
    return one_visible(enrolments_visible_to(user), enrolment_id, noun="enrolment", field="enrolment_id")


def own_enrolment(user: User, enrolment_id: int) -> Enrolment:
    """The student's own enrolment (learning plans, certificates, feedback); anyone else's answers 404."""
    return one_visible(Enrolment.objects.filter(student=user).select_related("run__course", "run__term"), enrolment_id,
                       noun="enrolment", field="enrolment_id")


def session_for_teaching(user: User, run: CourseRun, number: int) -> RunSession:
    found = run.sessions.filter(number=number).select_related("group").first()
    if found is None:
        raise NotFound(f"No session {number} of this run.", field="number")
    return found


def students_who_may_be_enrolled_by(user: User) -> QuerySet[User]:
    """Whom a member of college staff may enrol with them: people they can already see (service users on
    their caseloads, or registered with their organisation for an admin), carers of those people, and staff of
    their own organisation."""
    from backend.accounts.selectors import service_users_visible_to, sharing_carer_links

    visible = service_users_visible_to(user)
    return User.objects.filter(
        Q(pk__in=visible.values("pk"))
        | Q(pk__in=sharing_carer_links().filter(service_user__in=visible).values("carer_id"))
        | Q(role__in=STAFF_ROLES, organisation_id=user.organisation_id),
        is_active=True,
    )


# --- Completion ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Completion:
    sessions: int
    held: int
    attended: int
    required: int

    @property
    def completed(self) -> bool:
        return self.attended >= self.required


def required_sessions(sessions: int) -> int:
    """Sessions a student must attend to complete a run: COLLEGE_COMPLETION_SHARE of them, rounded up (at least one)."""
    return max(1, math.ceil(sessions * settings.COLLEGE_COMPLETION_SHARE - 1e-9))


def completions_of(enrolments: list[Enrolment]) -> dict[int, Completion]:
    """Each enrolment's attendance against its run's sessions, in two queries whatever the number."""
    if not enrolments:
        return {}
    run_ids = {e.run_id for e in enrolments}
    sessions = dict(RunSession.objects.filter(run_id__in=run_ids).values("run_id").annotate(n=Count("id")).values_list("run_id", "n"))
    # Held: ended online, or with a register taken (in person).
    held = dict(RunSession.objects.filter(run_id__in=run_ids).filter(
        Q(group__status="ended") | Q(Exists(GroupAttendee.objects.filter(group=OuterRef("group")).exclude(attendance="")))
    ).values("run_id").annotate(n=Count("id")).values_list("run_id", "n"))
    attended: dict[tuple[int, int], int] = {}
    rows = GroupAttendee.objects.filter(
        group__college_session__run_id__in=run_ids, person_id__in={e.student_id for e in enrolments}, attendance__in=ATTENDED,
    ).values("group__college_session__run_id", "person_id").annotate(n=Count("id"))
    for row in rows:
        attended[(row["group__college_session__run_id"], row["person_id"])] = row["n"]
    result = {}
    for e in enrolments:
        total = sessions.get(e.run_id, e.run.course.sessions)
        result[e.pk] = Completion(sessions=total, held=held.get(e.run_id, 0), attended=attended.get((e.run_id, e.student_id), 0),
                                  required=required_sessions(total))
    return result


def completion_of(enrolment: Enrolment) -> Completion:
    return completions_of([enrolment])[enrolment.pk]


def facilitates_session(user: User, group_id: int) -> bool:
    """Whether `user` is an active facilitator of the published run whose session is group `group_id`: the
    college's grant into groups (backend/groups/hooks.py, FACILITATION_GRANTS), registered in CollegeConfig.ready().
    One group at a time; a trainer of another run, or of a draft or cancelled one, gets nothing."""
    if not user.is_authenticated or not user.is_active:
        return False
    return RunSession.objects.filter(
        group_id=group_id, run__state=CourseRun.State.PUBLISHED,
        run__facilitators__trainer__user=user, run__facilitators__trainer__active=True,
    ).exists()

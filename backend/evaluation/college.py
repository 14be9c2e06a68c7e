"""The Recovery College datasets (course_runs, enrolments, course_attendance, completions): rows built from the
college's and groups' tables, narrowed as every dataset is (people in evaluation only, the evaluator's
organisation's teams), pseudonymised, columns as in dictionary.py. Evaluation is the layer above college, so
it may import it; college never imports evaluation."""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from backend.college.models import CourseRun, Enrolment, Facilitator, FeedbackResponse, LearningPlan, RunSession
from backend.college.selectors import ATTENDED, required_sessions
from backend.evaluation.pseudonyms import DateSetting, _digest, pseudonym
from backend.groups.models import GroupAttendee


def run_ref(run_id: int) -> str:
    """A course run's stable reference ('K': 'C' is a course of care)."""
    return "K" + _digest("college-run", run_id).hex()[:16]


def _runs(filters) -> QuerySet[CourseRun]:
    from backend.evaluation.selectors import _in_team_and_site, _within

    runs = CourseRun.objects.exclude(state=CourseRun.State.DRAFT).filter(_within(filters, "first_session_at"))
    return _in_team_and_site(runs, filters)


def _chunks(rows, size):
    from backend.evaluation.selectors import _chunks as chunks

    return chunks(rows, size)


def _held(run_ids) -> dict[int, int]:
    return dict(RunSession.objects.filter(run_id__in=run_ids).filter(
        Q(group__status="ended") | Q(Exists(GroupAttendee.objects.filter(group=OuterRef("group")).exclude(attendance="")))
    ).values("run_id").annotate(n=Count("id")).values_list("run_id", "n"))


def _students(filters, states) -> QuerySet[Enrolment]:
    from backend.evaluation.selectors import people_in_evaluation

    return Enrolment.objects.filter(run__in=_runs(filters), state__in=states, student__in=people_in_evaluation(filters).values("pk"))


def course_run_rows(filters, dates: DateSetting, chunk_size: int) -> Iterator[tuple[list[dict], list[int]]]:
    runs = _runs(filters).annotate(
        places_taken=Count("enrolments", filter=Q(enrolments__state="enrolled"), distinct=True),
        waiting=Count("enrolments", filter=Q(enrolments__state="waiting"), distinct=True),
    ).select_related("course", "term", "team").order_by("id")
    for chunk in _chunks(runs.iterator(chunk_size=chunk_size), chunk_size):
        ids = [r.pk for r in chunk]
        held = _held(ids)
        kinds: dict[int, list[str]] = {}
        for run_id, kind in Facilitator.objects.filter(run_id__in=ids).values_list("run_id", "trainer__kind"):
            kinds.setdefault(run_id, []).append(kind)
        sessions = dict(RunSession.objects.filter(run_id__in=ids).values("run_id").annotate(n=Count("id")).values_list("run_id", "n"))
        people = list(_students(filters, ["enrolled", "waiting", "withdrawn"]).filter(run_id__in=ids).values_list("student_id", flat=True).distinct())
        rows = [{
            "run": run_ref(r.pk), "course": r.course.title, "audience": r.course.audience, "delivery": r.delivery, "term": r.term.name,
            "month": f"{timezone.localtime(r.first_session_at):%Y-%m}", "team": r.team.name, "site": r.team.site, "state": r.state,
            "sessions": sessions.get(r.pk, r.course.sessions), "sessions_held": held.get(r.pk, 0), "capacity": r.capacity,
            "places_taken": r.places_taken, "waiting": r.waiting, "facilitators": len(kinds.get(r.pk, [])),
            "peer_facilitators": sum(k in ("peer", "carer_peer") for k in kinds.get(r.pk, [])),
            "carer_peer_facilitators": kinds.get(r.pk, []).count("carer_peer"),
            "professional_facilitators": kinds.get(r.pk, []).count("professional"),
        } for r in chunk]
        yield rows, people


def enrolment_rows(filters, dates: DateSetting, chunk_size: int) -> Iterator[tuple[list[dict], list[int]]]:
    source = _students(filters, ["enrolled", "waiting", "withdrawn"]).order_by("id").values(
        "run_id", "student_id", "created_at", "state", "promoted", "placed_at", "enrolled_by_id", "withdrawn_at").iterator(chunk_size=chunk_size)
    for chunk in _chunks(source, chunk_size):
        rows = [{
            "run": run_ref(r["run_id"]), "person": pseudonym(r["student_id"]), "date": dates.show(r["created_at"], r["student_id"]),
            "state": r["state"], "waited": bool(r["promoted"] or (r["placed_at"] is None)),
            "days_waiting": max(0, (r["placed_at"] - r["created_at"]).days) if r["placed_at"] else None,
            "enrolled_by_staff": r["enrolled_by_id"] != r["student_id"], "withdrawn_date": dates.show(r["withdrawn_at"], r["student_id"]),
        } for r in chunk]
        yield rows, [r["student_id"] for r in chunk]


def attendance_rows(filters, dates: DateSetting, chunk_size: int) -> Iterator[tuple[list[dict], list[int]]]:
    places = _students(filters, ["enrolled"])
    source = GroupAttendee.objects.filter(
        Exists(places.filter(run=OuterRef("group__college_session__run"), student=OuterRef("person"))),
    ).order_by("group__college_session__run_id", "person_id", "group__college_session__number").values(
        "group__college_session__run_id", "person_id", "group__college_session__number", "group__starts_at",
        "group__college_session__run__delivery", "attendance", "attended_seconds", "pk",
    ).iterator(chunk_size=chunk_size)
    for chunk in _chunks(source, chunk_size):
        rows = []
        for r in chunk:
            online = r["group__college_session__run__delivery"] == "online"
            rows.append({
                "run": run_ref(r["group__college_session__run_id"]), "person": pseudonym(r["person_id"]),
                "session": r["group__college_session__number"], "date": dates.show(r["group__starts_at"], r["person_id"]),
                "delivery": r["group__college_session__run__delivery"], "attendance": r["attendance"] or "unknown",
                "attended_minutes": r["attended_seconds"] // 60 if online and r["attendance"] else None,
            })
        yield rows, [r["person_id"] for r in chunk]


def completion_rows(filters, dates: DateSetting, chunk_size: int) -> Iterator[tuple[list[dict], list[int]]]:
    source = _students(filters, ["enrolled"]).order_by("id").values("pk", "run_id", "student_id").iterator(chunk_size=chunk_size)
    for chunk in _chunks(source, chunk_size):
        run_ids = {r["run_id"] for r in chunk}
        sessions = dict(RunSession.objects.filter(run_id__in=run_ids).values("run_id").annotate(n=Count("id")).values_list("run_id", "n"))
        held = _held(run_ids)
        attended = {(a["group__college_session__run_id"], a["person_id"]): a["n"] for a in GroupAttendee.objects.filter(
            group__college_session__run_id__in=run_ids, person_id__in={r["student_id"] for r in chunk}, attendance__in=ATTENDED,
        ).values("group__college_session__run_id", "person_id").annotate(n=Count("id"))}
        ids = [r["pk"] for r in chunk]
        plans = {p["enrolment_id"]: p for p in LearningPlan.objects.filter(enrolment_id__in=ids).values("enrolment_id", "goals", "reflection")}
        given = set(FeedbackResponse.objects.filter(enrolment_id__in=ids).values_list("enrolment_id", flat=True))
        rows = []
        for r in chunk:
            total = sessions.get(r["run_id"], 0)
            required = required_sessions(total) if total else None
            done = attended.get((r["run_id"], r["student_id"]), 0)
            plan = plans.get(r["pk"], {})
            rows.append({
                "run": run_ref(r["run_id"]), "person": pseudonym(r["student_id"]), "sessions": total, "sessions_held": held.get(r["run_id"], 0),
                "attended": done, "required": required, "completed": required is not None and done >= required,
                "goals_written": bool(plan.get("goals")), "reflection_written": bool(plan.get("reflection")), "feedback_given": r["pk"] in given,
            })
        yield rows, [r["student_id"] for r in chunk]

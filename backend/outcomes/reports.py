"""Reading outcomes together: a person's trajectories, and a course's paired outcome."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict

from backend.accounts.models import User
from backend.outcomes import selectors
from backend.outcomes.models import Instrument, Response
from backend.outcomes.paired import Measure, PairedOutcome, paired_outcome, reliable_change_index
from backend.sessions.selectors import attended_treatment_counts

# NHS Talking Therapies pairs depression (PHQ-9) with anxiety (GAD-7 here); see paired.py.
PAIRED_MEASURE_CODES = ("phq9", "gad7")


def trajectories(person: User) -> list[dict]:
    series = []
    for instrument in selectors.instruments_answered_by(person):
        points = selectors.trajectory(person, instrument)
        rci = None
        if instrument.reliable_change and len(points) >= 2:
            rci = reliable_change_index(points[0].score, points[-1].score, instrument.reliable_change)
        series.append({
            "instrument": instrument.code, "name": instrument.name, "caseness_threshold": instrument.caseness_threshold,
            "reliable_change": instrument.reliable_change, "higher_is_worse": instrument.higher_is_worse,
            "bands": list(instrument.bands.all()), "points": points, "reliable_change_index": rci,
        })
    return series


def paired_measures() -> list[Measure]:
    instruments = {i.code: i for i in Instrument.objects.filter(code__in=PAIRED_MEASURE_CODES)}
    return [
        Measure(code=code, caseness_threshold=instruments[code].caseness_threshold,
                reliable_change=instruments[code].reliable_change, higher_is_worse=instruments[code].higher_is_worse)
        for code in PAIRED_MEASURE_CODES
    ]


def paired_outcomes_of(course_ids: Sequence[int], measures: list[Measure]) -> dict[int, PairedOutcome]:
    """Each course's paired outcome, in two queries whatever the number of courses: whether it finished
    a course of treatment (ended, with at least two attended treatment appointments), and each paired
    measure's scored responses in it in time order (first and last come from every valid score of the
    course, assessment appointments included)."""
    courses = attended_treatment_counts(course_ids)
    responses = selectors.current_responses().filter(
        course__in=course_ids, instrument__code__in=[m.code for m in measures], status=Response.Status.SCORED
    ).order_by("completed_at", "id").values_list("course_id", "instrument__code", "score")
    scores: dict[int, dict[str, list]] = {pk: {m.code: [] for m in measures} for pk in courses}
    for course_id, code, score in responses:
        scores[course_id][code].append(score)
    return {
        pk: paired_outcome(measures, scores[pk], ended=ended, attended_treatment_appointments=treatment)
        for pk, (ended, treatment) in courses.items()
    }


def course_paired_outcomes(course_ids: Sequence[int]) -> dict[int, dict]:
    """Paired outcomes for the API and pages: course id -> the outcome as a dictionary."""
    outcomes = paired_outcomes_of(course_ids, paired_measures())
    return {pk: {"course": pk, **asdict(outcome)} for pk, outcome in outcomes.items()}

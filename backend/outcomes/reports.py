"""Reading outcomes together: a person's trajectories, and a course's paired outcome."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict

from backend.accounts.models import User
from backend.outcomes import selectors
from backend.outcomes.models import Instrument, Response
from backend.outcomes.paired import Measure, PairedOutcome, paired_outcome, reliable_change_index
from backend.sessions.models import CourseOfCare

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
    """Each course's paired outcome from each paired measure's scored responses in it, in time order,
    in two queries whatever the number of courses. A contact is an appointment (or, for responses
    filed without one, a day) at which any paired measure was scored."""
    finished = dict(CourseOfCare.objects.filter(pk__in=course_ids).values_list("pk", "ended_on"))
    responses = selectors.current_responses().filter(
        course__in=course_ids, instrument__code__in=[m.code for m in measures], status=Response.Status.SCORED
    ).order_by("completed_at", "id").values_list("course_id", "instrument__code", "score", "appointment_id", "completed_at")
    scores: dict[int, dict[str, list]] = {pk: {m.code: [] for m in measures} for pk in finished}
    contacts: dict[int, set] = {pk: set() for pk in finished}
    for course_id, code, score, appointment_id, completed_at in responses:
        scores[course_id][code].append(score)
        contacts[course_id].add(("appointment", appointment_id) if appointment_id else ("day", completed_at.date()))
    return {
        pk: paired_outcome(measures, scores[pk], finished=ended_on is not None, scored_contacts=len(contacts[pk]))
        for pk, ended_on in finished.items()
    }


def course_paired_outcomes(course_ids: Sequence[int]) -> dict[int, dict]:
    """Paired outcomes for the API and pages: course id -> the outcome as a dictionary."""
    outcomes = paired_outcomes_of(course_ids, paired_measures())
    return {pk: {"course": pk, **asdict(outcome)} for pk, outcome in outcomes.items()}

"""Reading outcomes together: a person's trajectories, and a course's paired outcome."""

from __future__ import annotations

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


def paired_outcome_of(course: CourseOfCare, measures: list[Measure]) -> PairedOutcome:
    """Each paired measure's scored responses in the course, in time order. A contact is an appointment
    (or, for responses filed without one, a day) at which any paired measure was scored."""
    responses = selectors.current_responses().filter(
        course=course, instrument__code__in=[m.code for m in measures], status=Response.Status.SCORED
    ).select_related("instrument").order_by("completed_at", "id")
    scores: dict[str, list] = {m.code: [] for m in measures}
    contacts = set()
    for response in responses:
        scores[response.instrument.code].append(response.score)
        contacts.add(("appointment", response.appointment_id) if response.appointment_id else ("day", response.completed_at.date()))
    return paired_outcome(measures, scores, finished=not course.is_open, scored_contacts=len(contacts))


def course_paired_outcome(course: CourseOfCare) -> dict:
    outcome = paired_outcome_of(course, paired_measures())
    return {"course": course.pk, **asdict(outcome)}

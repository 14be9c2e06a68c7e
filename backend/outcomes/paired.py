"""Paired outcomes for a finished course of treatment, as NHS Talking Therapies defines them, and the
Jacobson and Truax reliable change index. Pure functions: docs/instruments.md gives the definitions
with their sources, and the tests work through each case.

Talking Therapies pairs the depression measure (PHQ-9) with the anxiety measure (GAD-7 here; the
manual uses an anxiety-disorder-specific measure where one applies, which Rapport does not ask for).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

# Jacobson N.S. & Truax P. (1991) Clinical significance: a statistical approach to defining meaningful
# change in psychotherapy research. J Consult Clin Psychol 59(1):12-19. A change is reliable when
# |RCI| > 1.96 (it would arise by measurement error alone less than 5% of the time).
RCI_CRITICAL = Decimal("1.96")


@dataclass(frozen=True)
class Measure:
    """The facts about a paired measure that paired outcomes need (from its instrument)."""

    code: str
    caseness_threshold: Decimal
    reliable_change: Decimal
    higher_is_worse: bool = True

    def at_caseness(self, score: Decimal) -> bool:
        return score >= self.caseness_threshold if self.higher_is_worse else score <= self.caseness_threshold

    def change_towards_better(self, first: Decimal, last: Decimal) -> Decimal:
        return first - last if self.higher_is_worse else last - first

    def reliably_better(self, first: Decimal, last: Decimal) -> bool:
        return self.change_towards_better(first, last) >= self.reliable_change

    def reliably_worse(self, first: Decimal, last: Decimal) -> bool:
        return -self.change_towards_better(first, last) >= self.reliable_change


def reliable_change_index(first: Decimal, last: Decimal, reliable_change: Decimal) -> Decimal:
    """RCI = (last - first) / S_diff (Jacobson and Truax 1991). Instruments publish their threshold in
    points (1.96 x S_diff), so S_diff = threshold / 1.96 and |RCI| reaches 1.96 exactly at the threshold."""
    s_diff = reliable_change / RCI_CRITICAL
    return ((last - first) / s_diff).quantize(Decimal("0.01"))


@dataclass(frozen=True)
class MeasurePair:
    first: Decimal
    last: Decimal


# NHS Talking Therapies: a referral has "finished a course of treatment" when it "has ended having had at
# least two attended treatment appointments" (Fingertips glossary; NHS England's analytics count
# `TreatmentCareContact_Count >= 2`). Assessment and review appointments do not count towards the two;
# a combined assessment and treatment appointment does (docs/instruments.md).
FINISHED_TREATMENT_APPOINTMENTS = 2


def finished_course_of_treatment(*, ended: bool, attended_treatment_appointments: int) -> bool:
    """The course has ended having had at least two attended treatment appointments."""
    return ended and attended_treatment_appointments >= FINISHED_TREATMENT_APPOINTMENTS


@dataclass(frozen=True)
class PairedOutcome:
    """One course's outcome. `counts` is False when the course did not finish a course of treatment or
    lacks paired scores; then every other judgement is None. `recovered` is None for a course not at
    caseness at the start (it is left out of the recovery denominator)."""

    counts: bool
    reason_not_counted: str = ""
    finished_treatment: bool = False
    pairs: dict[str, MeasurePair] | None = None
    at_caseness_at_start: bool | None = None
    recovered: bool | None = None
    reliable_improvement: bool | None = None
    reliable_deterioration: bool | None = None
    reliable_recovery: bool | None = None


def paired_outcome(measures: list[Measure], scores: dict[str, list[Decimal]], *, ended: bool,
                   attended_treatment_appointments: int) -> PairedOutcome:
    """Judge one course from each paired measure's scores in time order (every valid score of the
    course, assessment appointments included).

    - counts: the course finished a course of treatment (ended, with at least two attended treatment
      appointments) and each measure has a first and a last score;
    - caseness at the start: either measure at or above its cut-off at the first score;
    - recovered: at caseness at the start and neither measure at caseness at the end;
    - reliable improvement: at least one measure improved by its reliable change threshold or more,
      and neither got reliably worse;
    - reliable deterioration: at least one measure got reliably worse, and neither reliably improved;
    - reliable recovery: both recovered and reliably improved.
    """
    if not ended:
        return PairedOutcome(counts=False, reason_not_counted="The course of care has not ended.")
    finished = finished_course_of_treatment(ended=ended, attended_treatment_appointments=attended_treatment_appointments)
    if not finished:
        return PairedOutcome(counts=False, reason_not_counted=(
            f"It ended with {attended_treatment_appointments} attended treatment appointment"
            f"{'' if attended_treatment_appointments == 1 else 's'}: a finished course of treatment has at least "
            f"{FINISHED_TREATMENT_APPOINTMENTS} (assessment and review appointments do not count)."))
    missing = [m.code for m in measures if len(scores.get(m.code, [])) < 2]
    if missing:
        return PairedOutcome(counts=False, finished_treatment=True,
                             reason_not_counted=f"No first and last score for {', '.join(missing)}.")
    pairs = {m.code: MeasurePair(scores[m.code][0], scores[m.code][-1]) for m in measures}
    at_caseness_start = any(m.at_caseness(pairs[m.code].first) for m in measures)
    at_caseness_end = any(m.at_caseness(pairs[m.code].last) for m in measures)
    better = [m.reliably_better(pairs[m.code].first, pairs[m.code].last) for m in measures]
    worse = [m.reliably_worse(pairs[m.code].first, pairs[m.code].last) for m in measures]
    improved = any(better) and not any(worse)
    recovered = (not at_caseness_end) if at_caseness_start else None
    return PairedOutcome(
        counts=True, finished_treatment=True, pairs=pairs, at_caseness_at_start=at_caseness_start, recovered=recovered,
        reliable_improvement=improved, reliable_deterioration=any(worse) and not any(better),
        reliable_recovery=(recovered and improved) if recovered is not None else None,
    )

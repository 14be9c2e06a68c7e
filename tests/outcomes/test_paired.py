"""Paired outcomes case by case (NHS Talking Therapies definitions, docs/instruments.md), and the
Jacobson and Truax reliable change index exactly at the threshold."""

from decimal import Decimal as D

import pytest

from backend.outcomes.paired import Measure, finished_course_of_treatment, paired_outcome, reliable_change_index

# The thresholds the seeded PHQ-9 and GAD-7 carry (caseness 10 and 8, reliable change 6 and 4).
PHQ9 = Measure("phq9", caseness_threshold=D(10), reliable_change=D(6))
GAD7 = Measure("gad7", caseness_threshold=D(8), reliable_change=D(4))


def judge(phq9, gad7, *, ended=True, treatment=2):
    """`treatment`: the course's attended treatment appointments (treatment, or assessment and treatment)."""
    scores = {"phq9": [D(v) for v in phq9], "gad7": [D(v) for v in gad7]}
    return paired_outcome([PHQ9, GAD7], scores, ended=ended, attended_treatment_appointments=treatment)


def flags(outcome):
    return (outcome.at_caseness_at_start, outcome.recovered, outcome.reliable_improvement,
            outcome.reliable_deterioration, outcome.reliable_recovery)


def test_recovered_and_reliably_improved_is_reliable_recovery():
    # PHQ-9 18 -> 6 (down 12), GAD-7 15 -> 5 (down 10): both below caseness at the end.
    assert flags(judge([18, 12, 6], [15, 9, 5])) == (True, True, True, False, True)


def test_recovered_without_reliable_improvement():
    # PHQ-9 11 -> 9 (down 2, not reliable), GAD-7 8 -> 7 (down 1): recovered, not reliably.
    assert flags(judge([11, 9], [8, 7])) == (True, True, False, False, False)


def test_reliable_improvement_without_recovery():
    # PHQ-9 24 -> 14: reliable (10 >= 6), still at caseness (>= 10).
    assert flags(judge([24, 14], [12, 10])) == (True, False, True, False, False)


def test_caseness_on_either_measure_at_the_start_is_enough():
    outcome = judge([6, 4], [10, 3])  # PHQ-9 below 10, GAD-7 at 8 or more
    assert outcome.at_caseness_at_start is True and outcome.recovered is True


def test_a_course_not_at_caseness_at_the_start_is_left_out_of_recovery():
    outcome = judge([9, 2], [7, 1])  # both below caseness at the start; PHQ-9 down 7
    assert outcome.counts is True
    assert (outcome.at_caseness_at_start, outcome.recovered, outcome.reliable_recovery) == (False, None, None)
    assert outcome.reliable_improvement is True  # improvement counts over every finished course


def test_still_at_caseness_on_one_measure_at_the_end_is_not_recovery():
    outcome = judge([15, 5], [12, 8])  # GAD-7 ends at 8: still a case
    assert outcome.recovered is False and outcome.reliable_improvement is True


def test_reliable_deterioration():
    # PHQ-9 8 -> 14 (up 6: exactly the threshold), GAD-7 unchanged.
    assert flags(judge([8, 14], [6, 6])) == (False, None, False, True, None)


def test_improving_on_one_measure_and_deteriorating_on_the_other_is_neither():
    outcome = judge([20, 10], [5, 9])  # PHQ-9 down 10, GAD-7 up 4
    assert (outcome.reliable_improvement, outcome.reliable_deterioration) == (False, False)


def test_change_one_short_of_the_threshold_is_not_reliable():
    assert judge([16, 11], [10, 7]).reliable_improvement is False  # down 5 and 3
    assert judge([16, 10], [10, 7]).reliable_improvement is True  # down 6: exactly the threshold


def test_first_and_last_scores_are_used_whatever_happens_between():
    outcome = judge([18, 27, 2, 12], [9, 21, 0, 9])
    assert outcome.pairs["phq9"].first == D(18) and outcome.pairs["phq9"].last == D(12)
    assert outcome.reliable_improvement is True and outcome.recovered is False


@pytest.mark.parametrize("kwargs,reason,finished", [
    ({"ended": False}, "not ended", False),
    ({"ended": False, "treatment": 9}, "not ended", False),
    ({"treatment": 1}, "1 attended treatment appointment:", False),
    ({"treatment": 0}, "0 attended treatment appointments:", False),
])
def test_a_course_counts_only_when_it_finished_a_course_of_treatment(kwargs, reason, finished):
    # Scores at two appointments are not enough: NHS Talking Therapies asks for an ended course with at
    # least two attended treatment appointments (docs/instruments.md).
    outcome = judge([18, 6], [15, 5], **kwargs)
    assert outcome.counts is False and reason in outcome.reason_not_counted and outcome.finished_treatment is finished
    assert flags(outcome) == (None, None, None, None, None)


def test_two_attended_treatment_appointments_in_an_ended_course_finish_a_course_of_treatment():
    assert finished_course_of_treatment(ended=True, attended_treatment_appointments=2) is True
    assert finished_course_of_treatment(ended=True, attended_treatment_appointments=1) is False
    assert finished_course_of_treatment(ended=False, attended_treatment_appointments=5) is False
    outcome = judge([18, 6], [15, 5], treatment=2)
    assert (outcome.finished_treatment, outcome.counts) == (True, True)


def test_a_course_needs_a_first_and_last_score_on_each_paired_measure():
    outcome = judge([18, 6], [15])
    assert outcome.counts is False and "gad7" in outcome.reason_not_counted and outcome.finished_treatment is True


def test_reliable_change_index_is_exactly_the_critical_value_at_the_threshold():
    assert reliable_change_index(D(18), D(12), D(6)) == D("-1.96")
    assert reliable_change_index(D(8), D(12), D(4)) == D("1.96")
    assert abs(reliable_change_index(D(18), D(13), D(6))) < D("1.96")
    # CORE-10 (threshold 6): a fall of 9 points is 1.5 thresholds.
    assert reliable_change_index(D(20), D(11), D(6)) == D("-2.94")

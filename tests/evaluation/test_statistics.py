"""Wilson intervals and small-number suppression, against hand-worked examples. No database."""

import pytest

from backend.evaluation.statistics import TOTAL, shown, suppress, suppressed_table, suppressed_tables, wilson_interval, with_margins


@pytest.mark.parametrize("successes, trials, low, high", [
    # Newcombe (1998), Statistics in Medicine 17:857-872, Table I, method 3 (Wilson score, no continuity correction).
    (81, 263, 0.2553, 0.3662),
    (15, 148, 0.0624, 0.1605),
    (0, 20, 0.0, 0.1611),
    (1, 29, 0.0061, 0.1718),
])
def test_wilson_matches_newcombes_worked_examples(successes, trials, low, high):
    got_low, got_high = wilson_interval(successes, trials)
    assert (round(got_low, 4), round(got_high, 4)) == (low, high)


def test_wilson_by_hand_for_none_of_eight():
    # p = 0, n = 8, z^2 = 3.8415: centre = (z^2/16) / (1 + z^2/8) = 0.1622; half-width the same, so 0 to 0.3244.
    low, high = wilson_interval(0, 8)
    assert low == 0.0 and round(high, 4) == 0.3244


def test_wilson_stays_in_bounds_and_refuses_nonsense():
    assert wilson_interval(5, 5)[1] == 1.0
    assert wilson_interval(0, 0) is None
    with pytest.raises(ValueError):
        wilson_interval(6, 5)


def test_counts_of_one_to_four_are_hidden_and_zero_is_shown():
    assert [shown(n) for n in (0, 1, 4, 5, 120)] == [0, None, None, 5, 120]


def test_two_by_two_with_totals_hides_a_rectangle():
    # attended / did not attend by modality:  video 20, 3 (23); phone 12, 6 (18); totals 32, 9 (41).
    # Video's 3 is hidden (primary). Its row would give it away (23 - 20), so video's 20 goes too; the
    # did-not-attend column would (9 - 6), so phone's 6 goes; then the attended column (32 - 12), so
    # phone's 12. Four hidden cells, every total shown: the 3 could be anything from 0 to 9.
    table = suppressed_table({("video", "attended"): 20, ("video", "dna"): 3, ("phone", "attended"): 12, ("phone", "dna"): 6},
                             [["video", "phone"], ["attended", "dna"]])
    assert table == {
        ("video", "attended"): None, ("video", "dna"): None, ("video", TOTAL): 23,
        ("phone", "attended"): None, ("phone", "dna"): None, ("phone", TOTAL): 18,
        (TOTAL, "attended"): 32, (TOTAL, "dna"): 9, (TOTAL, TOTAL): 41,
    }


def test_a_total_under_five_is_hidden_and_protected_too():
    # video 6, 2 (8); face to face 8, 0 (8); totals 14, 2 (16).
    # Primary: video's 2 and the total 2. Video's row then hides its 6 (smallest inner cell); the totals
    # row hides 14 (only totals are left there). Face to face stays whole; zero is shown.
    table = suppressed_table({("video", "attended"): 6, ("video", "dna"): 2, ("f2f", "attended"): 8},
                             [["video", "f2f"], ["attended", "dna"]])
    assert table[("video", "attended")] is None and table[("video", "dna")] is None and table[("video", TOTAL)] == 8
    assert (table[("f2f", "attended")], table[("f2f", "dna")], table[("f2f", TOTAL)]) == (8, 0, 8)
    assert (table[(TOTAL, "attended")], table[(TOTAL, "dna")], table[(TOTAL, TOTAL)]) == (None, None, 16)


def test_nothing_small_means_nothing_hidden():
    table = suppressed_table({("a", "x"): 5, ("a", "y"): 9, ("b", "x"): 0, ("b", "y"): 30}, [["a", "b"], ["x", "y"]])
    assert None not in table.values()


def test_no_line_of_a_three_way_table_hides_exactly_one_entry():
    teams, modalities, outcomes = ["north", "south"], ["video", "phone", "face_to_face"], ["attended", "dna"]
    counts = {("north", "video", "attended"): 12, ("north", "video", "dna"): 1, ("north", "phone", "attended"): 7,
              ("north", "phone", "dna"): 0, ("north", "face_to_face", "attended"): 30, ("north", "face_to_face", "dna"): 4,
              ("south", "video", "attended"): 2, ("south", "video", "dna"): 0, ("south", "phone", "attended"): 9,
              ("south", "phone", "dna"): 6, ("south", "face_to_face", "attended"): 21, ("south", "face_to_face", "dna"): 8}
    cells, lines = with_margins(counts, [teams, modalities, outcomes])
    hidden = suppress(cells, lines, is_total=lambda key: TOTAL in key)
    assert {key for key, value in cells.items() if 0 < value < 5} <= hidden
    assert all(sum(key in hidden for key in line) != 1 for line in lines)
    assert cells[(TOTAL, TOTAL, TOTAL)] == 100 and (TOTAL, TOTAL, TOTAL) not in hidden


def test_counts_that_split_others_are_suppressed_together():
    # Courses with paired scores and, of them, those at caseness at the start, by modality:
    #   video 6 paired, 5 at caseness (so 1 not); phone 7 and 7 (0 not); totals 13 and 12 (1 not).
    # The hidden "not at caseness" 1s would be given away by paired - at caseness, so the partition line
    # (at caseness, not at caseness, paired) of video and of the total each hide one more: the
    # smaller, at caseness (video 5, total 12). Paired stays whole; phone's 7 of 7 stays.
    tables = suppressed_tables(
        {"paired": {("video",): 6, ("phone",): 7}, "at_caseness": {("video",): 5, ("phone",): 7},
         "not_at_caseness": {("video",): 1, ("phone",): 0}},
        [["video", "phone"]], [("paired", ("at_caseness", "not_at_caseness"))],
    )
    assert tables["paired"] == {("video",): 6, ("phone",): 7, (TOTAL,): 13}
    assert tables["at_caseness"] == {("video",): None, ("phone",): 7, (TOTAL,): None}
    assert tables["not_at_caseness"] == {("video",): None, ("phone",): 0, (TOTAL,): None}

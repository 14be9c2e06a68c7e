"""Scoring exactly as published (docs/instruments.md): the worked examples, every band boundary, the
caseness cut-offs, reverse keying, the SWEMWBS conversion table, and each instrument's missing-item rule.
The instruments are the rows the migration seeded from catalogue.py."""

from decimal import Decimal

import pytest

from backend.core.errors import InvalidInput
from backend.outcomes.catalogue import INSTRUMENTS
from backend.outcomes.models import Instrument
from backend.outcomes.scoring import Scale, score_answers

pytestmark = pytest.mark.django_db


def scale(code: str) -> Scale:
    return Scale.of(Instrument.objects.prefetch_related("items", "options", "bands").get(code=code))


def answers(*values):
    return {number: value for number, value in enumerate(values, start=1)}


def totalling(code: str, total: int) -> dict[int, int]:
    """Answers (no reverse-keyed items involved) that add up to `total`, filling items from the first."""
    s = scale(code)
    low, high = min(s.option_values), max(s.option_values)
    result, left = {}, total - low * len(s.item_numbers)
    for number in s.item_numbers:
        give = min(high - low, left)
        result[number] = low + give
        left -= give
    assert left == 0
    return result


# --- Worked examples (derived from the published rules: docs/instruments.md) ----------------------

def test_phq9_worked_examples():
    mild = score_answers(scale("phq9"), answers(1, 1, 1, 1, 1, 1, 1, 1, 0))
    assert (mild.raw_total, mild.score, mild.band, mild.at_caseness) == (8, Decimal(8), "Mild", False)
    moderate = score_answers(scale("phq9"), answers(3, 3, 2, 2, 1, 1, 1, 0, 1))
    assert (moderate.raw_total, moderate.band, moderate.at_caseness) == (14, "Moderate", True)


def test_gad7_worked_example_is_at_talking_therapies_caseness():
    result = score_answers(scale("gad7"), answers(2, 2, 1, 1, 1, 1, 0))
    assert (result.raw_total, result.band, result.at_caseness) == (8, "Mild", True)


def test_core10_reverses_items_2_and_3():
    result = score_answers(scale("core10"), answers(2, 3, 3, 1, 1, 0, 2, 2, 2, 1))
    assert (result.raw_total, result.band, result.at_caseness) == (13, "Mild psychological distress", True)
    # Items 2 and 3 at 4 ("most or all of the time" having support and coping) count as 0.
    assert score_answers(scale("core10"), answers(0, 4, 4, 0, 0, 0, 0, 0, 0, 0)).raw_total == 0
    assert score_answers(scale("core10"), answers(4, 0, 0, 4, 4, 4, 4, 4, 4, 4)).raw_total == 40


def test_swemwbs_reports_the_metric_score_from_the_conversion_table():
    result = score_answers(scale("swemwbs"), answers(3, 3, 3, 3, 3, 3, 3))
    assert (result.raw_total, result.score) == (21, Decimal("19.25"))


def test_every_swemwbs_raw_total_converts_as_published():
    published = next(d for d in INSTRUMENTS if d.code == "swemwbs").conversion
    assert sorted(published) == list(range(7, 36))
    for raw, metric in published.items():
        assert score_answers(scale("swemwbs"), totalling("swemwbs", raw)).score == metric


def test_wsas_worked_example():
    result = score_answers(scale("wsas"), answers(4, 4, 2, 2, 0))
    assert (result.raw_total, result.at_caseness) == (12, None) and result.band.startswith("10-20")


# --- Every band boundary -------------------------------------------------------------------------

BOUNDARIES = {
    "phq9": [(0, "None-minimal"), (4, "None-minimal"), (5, "Mild"), (9, "Mild"), (10, "Moderate"), (14, "Moderate"),
             (15, "Moderately severe"), (19, "Moderately severe"), (20, "Severe"), (27, "Severe")],
    "gad7": [(0, "Minimal"), (4, "Minimal"), (5, "Mild"), (9, "Mild"), (10, "Moderate"), (14, "Moderate"),
             (15, "Severe"), (21, "Severe")],
    "wsas": [(0, "Below 10"), (9, "Below 10"), (10, "10-20"), (20, "10-20"), (21, "Above 20"), (40, "Above 20")],
}


@pytest.mark.parametrize("code,total,band", [(code, total, band) for code, rows in BOUNDARIES.items() for total, band in rows])
def test_band_boundaries(code, total, band):
    assert score_answers(scale(code), totalling(code, total)).band.startswith(band)


def core10_total(total: int) -> dict[int, int]:
    """CORE-10 answers adding up to `total`: items 2 and 3 (reverse keyed) answered 4, so score 0."""
    values, left = {2: 4, 3: 4}, total
    for number in (1, 4, 5, 6, 7, 8, 9, 10):
        values[number] = min(4, left)
        left -= values[number]
    return values


def test_core10_band_boundaries():
    expected = [(0, "Healthy"), (10, "Healthy"), (11, "Mild"), (14, "Mild"), (15, "Moderate psychological"),
                (19, "Moderate psychological"), (20, "Moderate-to-severe"), (24, "Moderate-to-severe"), (25, "Severe"), (32, "Severe")]
    for total, band_start in expected:
        result = score_answers(scale("core10"), core10_total(total))
        assert result.raw_total == total and result.band.startswith(band_start), (total, result.band)


@pytest.mark.parametrize("code,threshold", [("phq9", 10), ("gad7", 8), ("core10", 11)])
def test_caseness_starts_exactly_at_the_cut_off(code, threshold):
    s = scale(code)
    build = core10_total if code == "core10" else (lambda total: totalling(code, total))
    below, at = build(threshold - 1), build(threshold)
    assert score_answers(s, below).at_caseness is False
    assert score_answers(s, at).at_caseness is True


def test_instruments_without_a_published_cut_off_have_no_caseness():
    assert score_answers(scale("swemwbs"), answers(1, 1, 1, 1, 1, 1, 1)).at_caseness is None


# --- Missing answers and bad values --------------------------------------------------------------

def test_core10_prorates_one_missing_item_and_no_more():
    one_missing = answers(2, 3, 3, 1, 1, 0, 2, 2, 2, None)
    result = score_answers(scale("core10"), one_missing)
    # 12 from nine answered items: mean 12/9 x 10 = 13.33, rounded half up to 13.
    assert (result.raw_total, result.prorated, result.unanswered_items) == (13, True, 1)
    two_missing = score_answers(scale("core10"), answers(2, 3, 3, 1, 1, 0, 2, 2, None, None))
    assert (two_missing.score, two_missing.band, two_missing.unanswered_items) == (None, "", 2)


@pytest.mark.parametrize("code", ["phq9", "gad7", "swemwbs", "wsas"])
def test_instruments_with_no_published_prorating_rule_need_every_item(code):
    s = scale(code)
    full = {n: min(s.option_values) for n in s.item_numbers}
    result = score_answers(s, {**full, s.item_numbers[-1]: None})
    assert not result.is_scored and result.unanswered_items == 1


@pytest.mark.parametrize("code,item,value", [("phq9", 1, 4), ("phq9", 9, -1), ("swemwbs", 1, 0), ("wsas", 5, 9), ("core10", 2, 5)])
def test_values_the_instrument_does_not_offer_are_refused(code, item, value):
    with pytest.raises(InvalidInput) as refused:
        score_answers(scale(code), {item: value})
    assert refused.value.field == f"answers.{item}" and refused.value.code == "out_of_range"


def test_items_the_instrument_does_not_have_are_refused():
    with pytest.raises(InvalidInput) as refused:
        score_answers(scale("gad7"), {8: 1})
    assert refused.value.field == "answers.8"


def test_bands_cover_every_possible_score_without_gaps():
    for instrument in Instrument.objects.prefetch_related("bands", "options", "items"):
        bands = list(instrument.bands.all())
        s = Scale.of(instrument)
        low = min(s.option_values) * len(s.item_numbers)
        high = max(s.option_values) * len(s.item_numbers)
        if s.conversion:
            low, high = s.conversion[low], s.conversion[high]
        assert bands[0].lower == low and bands[-1].upper == high, instrument.code

"""Scoring a questionnaire exactly as its source publishes: total, prorating, conversion, band, caseness.

Pure functions over a `Scale` (an instrument's scoring facts), so scoring is tested without a
database. docs/instruments.md gives each instrument's rules with their sources.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from backend.core.errors import InvalidInput


@dataclass(frozen=True)
class Band:
    lower: Decimal
    upper: Decimal
    label: str


@dataclass(frozen=True)
class Scale:
    item_numbers: tuple[int, ...]
    option_values: tuple[int, ...]
    reverse_keyed: frozenset[int]
    max_missing_items: int
    bands: tuple[Band, ...]
    higher_is_worse: bool
    caseness_threshold: Decimal | None
    conversion: dict[int, Decimal] | None

    @classmethod
    def of(cls, instrument) -> Scale:
        """The scale of an Instrument row (with its items, options and bands)."""
        conversion = instrument.conversion
        return cls(
            item_numbers=tuple(item.number for item in instrument.items.all()),
            option_values=tuple(option.value for option in instrument.options.all()),
            reverse_keyed=frozenset(item.number for item in instrument.items.all() if item.reverse_keyed),
            max_missing_items=instrument.max_missing_items,
            bands=tuple(Band(b.lower, b.upper, b.label) for b in instrument.bands.all()),
            higher_is_worse=instrument.higher_is_worse,
            caseness_threshold=instrument.caseness_threshold,
            conversion={int(raw): Decimal(str(score)) for raw, score in conversion.items()} if conversion else None,
        )


@dataclass(frozen=True)
class Score:
    """What a set of answers comes to. `score` is None when too many items are unanswered to score."""

    raw_total: int | None
    score: Decimal | None
    band: str
    at_caseness: bool | None
    prorated: bool
    unanswered_items: int

    @property
    def is_scored(self) -> bool:
        return self.score is not None


def check_answers(scale: Scale, answers: dict[int, int | None]) -> None:
    """Refuse items the instrument does not have and values it does not offer (field: answers.<item>)."""
    unknown = sorted(set(answers) - set(scale.item_numbers))
    if unknown:
        raise InvalidInput(f"This questionnaire has no item {unknown[0]}.", field=f"answers.{unknown[0]}", code="no_such_item")
    allowed = set(scale.option_values)
    for number in scale.item_numbers:
        value = answers.get(number)
        if value is not None and value not in allowed:
            raise InvalidInput(
                f"Item {number}: {value} is not one of the answers ({min(allowed)} to {max(allowed)}).",
                field=f"answers.{number}", code="out_of_range",
            )


def unanswered(scale: Scale, answers: dict[int, int | None]) -> list[int]:
    return [number for number in scale.item_numbers if answers.get(number) is None]


def score_answers(scale: Scale, answers: dict[int, int | None]) -> Score:
    """Score answers (item number -> option value, None or absent when unanswered).

    Reverse-keyed items count as (lowest + highest option - value). With no more unanswered items than
    the instrument's source allows, the total is prorated: the mean of the answered items times the
    number of items, rounded half up to a whole number (the published tables and bands are in whole
    points). Otherwise the response is incomplete and has no score.
    """
    check_answers(scale, answers)
    missing = unanswered(scale, answers)
    if len(missing) > scale.max_missing_items or len(missing) == len(scale.item_numbers):
        return Score(raw_total=None, score=None, band="", at_caseness=None, prorated=False, unanswered_items=len(missing))
    low, high = min(scale.option_values), max(scale.option_values)
    keyed = [
        (low + high - value) if number in scale.reverse_keyed else value
        for number, value in ((n, answers.get(n)) for n in scale.item_numbers)
        if value is not None
    ]
    total = Decimal(sum(keyed))
    if missing:
        total = (total / len(keyed) * len(scale.item_numbers)).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    raw_total = int(total)
    reported = scale.conversion[raw_total] if scale.conversion else Decimal(raw_total)
    return Score(
        raw_total=raw_total, score=reported, band=band_of(scale, reported), at_caseness=is_caseness(scale, reported),
        prorated=bool(missing), unanswered_items=len(missing),
    )


def band_of(scale: Scale, score: Decimal) -> str:
    for band in scale.bands:
        if band.lower <= score <= band.upper:
            return band.label
    return ""


def is_caseness(scale: Scale, score: Decimal) -> bool | None:
    """At or past the clinical cut-off, in the instrument's direction; None if it publishes none."""
    if scale.caseness_threshold is None:
        return None
    return score >= scale.caseness_threshold if scale.higher_is_worse else score <= scale.caseness_threshold


def risk_items_raised(risk_limits: dict[int, int], answers: dict[int, int | None]) -> list[int]:
    """The risk items (number -> value above which it is a risk) whose answer is above the limit."""
    return [number for number, limit in sorted(risk_limits.items()) if answers.get(number) is not None and answers[number] > limit]

"""The modality report: does remote care work as well as face to face, and for whom?

Built from the same pseudonymised, consent-filtered rows as the sessions export (never from anything
an export could not show), aggregated a chunk at a time, then suppressed (statistics.py) before
anything leaves this module. By modality (video, phone, face to face) and by team:

- courses: until courses of care exist (the outcomes work), a person's appointments with one team
  count as one course; a course counts under each modality it had an appointment in, so courses do
  not add up across modalities and carry primary suppression only;
- attended, did not attend, and appointments (the two together: cancelled and open appointments
  are not in the denominator);
- did-not-attend rate = did not attend / appointments, with its Wilson 95% interval.

An appointment counts under the modality it was delivered in, or, when it did not happen, the one the
person chose; appointments with neither are counted apart (`unattributed`).

Extension point for the outcomes work: `Row.rates` holds each rate by name. Recovery, reliable
recovery, reliable improvement and reliable deterioration join `did_not_attend` there, each a `Rate`
with the numerator and denominator NHS Talking Therapies publishes, computed from paired outcomes per
(team, modality) and suppressed the same way; `mean_change` per measure goes beside them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from backend.consent.models import Modality
from backend.evaluation.pseudonyms import DateSetting
from backend.evaluation.selectors import Filters, session_rows
from backend.evaluation.statistics import SUPPRESS_BELOW, TOTAL, shown, suppressed_table, wilson_interval

OUTCOMES = ("attended", "did_not_attend")
MODALITIES = tuple(Modality.values)


@dataclass(frozen=True)
class Rate:
    """A proportion with its Wilson 95% interval, or suppressed (every field None but the flag)."""

    numerator: int | None
    denominator: int | None
    value: float | None = None
    low: float | None = None
    high: float | None = None

    @classmethod
    def of(cls, numerator: int | None, denominator: int | None) -> Rate:
        if numerator is None or denominator is None or denominator == 0:
            return cls(numerator, denominator)
        low, high = wilson_interval(numerator, denominator)
        return cls(numerator, denominator, numerator / denominator, low, high)

    @property
    def suppressed(self) -> bool:
        return self.numerator is None or self.denominator is None

    # As percentages with one decimal, for pages.
    percent = property(lambda self: _percent(self.value))
    low_percent = property(lambda self: _percent(self.low))
    high_percent = property(lambda self: _percent(self.high))


def _percent(value: float | None) -> str | None:
    return None if value is None else f"{value * 100:.1f}"


@dataclass(frozen=True)
class Row:
    team: str  # a team's name, or TOTAL for every team together
    modality: str  # a Modality code, or TOTAL
    courses: int | None
    attended: int | None
    did_not_attend: int | None
    appointments: int | None
    rates: dict[str, Rate] = field(default_factory=dict)

    @property
    def modality_label(self) -> str:
        return "All modalities" if self.modality == TOTAL else Modality(self.modality).label

    @property
    def counts(self) -> tuple[int | None, ...]:
        return self.courses, self.attended, self.did_not_attend, self.appointments

    @property
    def dna(self) -> Rate:
        return self.rates["did_not_attend"]


@dataclass(frozen=True)
class Report:
    filters: Filters
    enough_people: bool
    by_modality: list[Row]  # one row per modality, then the total
    by_team: dict[str, list[Row]]  # team name -> its rows, the same shape
    unattributed: int | None  # appointments with no modality delivered or chosen

    def rows(self) -> list[Row]:
        return self.by_modality + [row for rows in self.by_team.values() for row in rows]


def report_build(filters: Filters) -> Report:
    """The report for `filters` (date range, team, site). Only `SUPPRESS_BELOW` or more people make a
    report; fewer give an empty one with `enough_people` False."""
    counts: Counter = Counter()
    courses: dict[tuple[str, str], set] = {}
    people: set[int] = set()
    unattributed = 0
    for rows, person_ids in session_rows(filters, DateSetting()):
        for row, person_id in zip(rows, person_ids, strict=True):
            if row["status"] not in OUTCOMES:
                continue
            people.add(person_id)
            if row["modality"] is None:
                unattributed += 1
                continue
            counts[(row["team"], row["modality"], row["status"])] += 1
            for team in (row["team"], TOTAL):
                for modality in (row["modality"], TOTAL):
                    courses.setdefault((team, modality), set()).add((person_id, row["team"]))
    if len(people) < SUPPRESS_BELOW:
        return Report(filters, False, [], {}, None)
    teams = sorted({team for team, _, _ in counts})
    table = suppressed_table(counts, [teams, MODALITIES, OUTCOMES])

    def row(team: str, modality: str) -> Row:
        attended, dna, total = (table[(team, modality, outcome)] for outcome in (*OUTCOMES, TOTAL))
        return Row(team, modality, shown(len(courses.get((team, modality), ()))), attended, dna, total,
                   {"did_not_attend": Rate.of(dna, total)})

    def rows_for(team: str) -> list[Row]:
        return [row(team, modality) for modality in (*MODALITIES, TOTAL)]

    return Report(filters, True, rows_for(TOTAL), {team: rows_for(team) for team in teams}, shown(unattributed))


def report_table(report: Report) -> list[dict]:
    """The report as flat rows for a CSV or Excel download; suppressed values are '*'."""
    def cell(value):
        return "*" if value is None else value

    def proportion(rate: Rate, value: float | None):
        return "*" if rate.suppressed else ("" if value is None else round(value, 4))

    out = []
    for r in report.rows():
        rate = r.rates["did_not_attend"]
        out.append({
            "team": "All teams" if r.team == TOTAL else r.team, "modality": r.modality,
            "courses": cell(r.courses), "attended": cell(r.attended), "did_not_attend": cell(r.did_not_attend),
            "appointments": cell(r.appointments),
            "did_not_attend_rate": proportion(rate, rate.value),
            "did_not_attend_rate_95ci_low": proportion(rate, rate.low),
            "did_not_attend_rate_95ci_high": proportion(rate, rate.high),
        })
    return out

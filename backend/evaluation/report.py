"""The modality report: does remote care work as well as face to face, and for whom?

Built from the same pseudonymised, consent-filtered rows as the sessions and courses exports (never
from anything an export could not show), aggregated a chunk at a time, then suppressed
(statistics.py) before anything leaves this module. Two tables, by modality and by team:

Appointments (the sessions rows):
- courses: courses of care with at least one counted appointment in that modality (a course counts
  under each modality it used, so these do not add up across modalities and carry primary
  suppression only);
- attended, did not attend, and appointments (the two together: cancelled and open appointments
  are not in the denominator); an appointment counts under the modality it was delivered in, or,
  when it did not happen, the one the person chose; appointments with neither are counted apart;
- did-not-attend rate = did not attend / appointments, with its Wilson 95% interval.

Outcomes (the courses rows), by the course's modality (more than half of its attended appointments;
otherwise mixed; none without any), for courses that ended within the date range, each count over the
one before it as NHS Talking Therapies publishes them (docs/instruments.md):
- ended courses (every course that ended); those that finished a course of treatment (ended having
  had at least two attended treatment appointments), of the ended ones; those with paired scores (they
  count in NHS Talking Therapies paired outcomes), of the finished ones; those at caseness at the
  start, of those with paired scores;
- recovery and reliable recovery over courses at caseness at the start; reliable improvement and
  reliable deterioration over all courses with paired scores; each with its Wilson 95% interval and
  the numerator and denominator, as NHS Talking Therapies publishes them (docs/instruments.md);
- mean change, last score minus first, on PHQ-9 and GAD-7 over courses with paired scores, and on
  the other published instruments over courses that finished a course of treatment with at least two
  scores of it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from backend.consent.models import Modality
from backend.evaluation.dictionary import COURSE_INSTRUMENTS, COURSE_MODALITIES
from backend.evaluation.pseudonyms import DateMode, DateSetting
from backend.evaluation.selectors import Filters, course_rows, session_rows
from backend.evaluation.statistics import SUPPRESS_BELOW, TOTAL, shown, suppressed_table, suppressed_tables, wilson_interval
from backend.outcomes.models import Instrument

OUTCOMES = ("attended", "did_not_attend")
MODALITIES = tuple(Modality.values)
MODALITY_LABELS = {**dict(Modality.choices), "mixed": "Mixed (no modality for more than half)", "none": "No attended sessions", TOTAL: "All modalities"}
PAIRED = ("phq9", "gad7")  # NHS Talking Therapies' paired measures (backend.outcomes.reports)

# Each published rate: (name, label, numerator count, denominator count).
RATES = (
    ("recovery", "Recovery", "recovered", "at_caseness"),
    ("reliable_recovery", "Reliable recovery", "reliably_recovered", "at_caseness"),
    ("reliable_improvement", "Reliable improvement", "improved", "paired"),
    ("reliable_deterioration", "Reliable deterioration", "deteriorated", "paired"),
)
# The counts of courses, each over the one before it: (name, label, numerator count, denominator count).
# "Finished a course of treatment" is NHS Talking Therapies' published name; the page labels the others.
SHARES = (
    ("finished_treatment", "Finished a course of treatment", "finished", "ended"),
    ("paired_scores", "With paired scores", "paired", "finished"),
    ("at_caseness", "At caseness at the start", "at_caseness", "paired"),
)
# Counts that split others: every cell's line must hide nothing or two or more (statistics.suppressed_tables).
PARTITIONS = (
    ("ended", ("finished", "not_finished")),
    ("finished", ("paired", "not_paired")),
    ("paired", ("at_caseness", "not_at_caseness")),
    ("at_caseness", ("recovered", "not_recovered")),
    ("at_caseness", ("reliably_recovered", "not_reliably_recovered")),
    ("paired", ("improved", "deteriorated", "no_reliable_change")),
)


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
        return MODALITY_LABELS[self.modality]

    @property
    def counts(self) -> tuple[int | None, ...]:
        return self.courses, self.attended, self.did_not_attend, self.appointments

    @property
    def dna(self) -> Rate:
        return self.rates["did_not_attend"]


@dataclass(frozen=True)
class MeanChange:
    """Mean of (last score - first score) over `courses` courses; both None when suppressed."""

    instrument: str
    courses: int | None
    mean: float | None


@dataclass(frozen=True)
class OutcomeRow:
    team: str  # a team's name, or TOTAL
    modality: str  # a course modality (COURSE_MODALITIES), or TOTAL
    ended: int | None  # courses that ended within the dates
    finished: int | None  # of those, the ones that finished a course of treatment
    paired: int | None  # of those, the ones with paired scores (they count in paired outcomes)
    at_caseness: int | None  # of those, the ones at caseness at the start
    rates: dict[str, Rate] = field(default_factory=dict)  # RATES, by name
    mean_change: list[MeanChange] = field(default_factory=list)
    shares: dict[str, Rate] = field(default_factory=dict)  # SHARES, by name: each count over the one before it

    @property
    def modality_label(self) -> str:
        return MODALITY_LABELS[self.modality]

    @property
    def counts(self) -> tuple[int | None, ...]:
        return self.ended, self.finished, self.paired, self.at_caseness

    @property
    def share_list(self) -> list[Rate]:
        return [self.shares[name] for name, *_ in SHARES]

    @property
    def rate_list(self) -> list[Rate]:
        return [self.rates[name] for name, *_ in RATES]


@dataclass(frozen=True)
class Measure:
    code: str
    name: str
    higher_is_worse: bool


@dataclass(frozen=True)
class Report:
    filters: Filters
    enough_people: bool
    by_modality: list[Row]  # one row per modality, then the total
    by_team: dict[str, list[Row]]  # team name -> its rows, the same shape
    unattributed: int | None  # appointments with no modality delivered or chosen
    outcomes_by_modality: list[OutcomeRow] = field(default_factory=list)  # one row per course modality, then the total
    outcomes_by_team: dict[str, list[OutcomeRow]] = field(default_factory=dict)
    measures: list[Measure] = field(default_factory=list)  # the instruments with a mean change, in order

    def rows(self) -> list[Row]:
        return self.by_modality + [row for rows in self.by_team.values() for row in rows]

    def outcome_rows(self) -> list[OutcomeRow]:
        return self.outcomes_by_modality + [row for rows in self.outcomes_by_team.values() for row in rows]


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
                    if row["course"] is not None:
                        courses.setdefault((team, modality), set()).add(row["course"])
    outcome_counts, changes, outcome_people = _outcome_counts(filters)
    people |= outcome_people
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

    outcomes_by_modality, outcomes_by_team, measures = _outcome_rows(outcome_counts, changes)
    return Report(filters, True, rows_for(TOTAL), {team: rows_for(team) for team in teams}, shown(unattributed),
                  outcomes_by_modality, outcomes_by_team, measures)


def _ended_within(filters: Filters, ended) -> bool:
    return ended is not None and (filters.date_from is None or ended >= filters.date_from) and (
        filters.date_to is None or ended <= filters.date_to)


def course_outcome_categories(row: dict) -> list[str]:
    """The report's categories one ended course (a row of the courses dataset) counts in: ended, finished a
    course of treatment or not, with paired scores or not, and of those at caseness or not, recovered,
    reliably recovered, reliably improved or deteriorated (docs/instruments.md). The modality report and the
    report by role and site both count through this."""
    counted, finished = row["paired_outcome_counts"], row["finished_treatment"]
    names = ["ended", "finished" if finished else "not_finished"]
    if finished:
        names.append("paired" if counted else "not_paired")
    if counted:
        names.append("at_caseness" if row["at_caseness_at_start"] else "not_at_caseness")
        if row["at_caseness_at_start"]:
            names.append("recovered" if row["recovered"] else "not_recovered")
            names.append("reliably_recovered" if row["reliable_recovery"] else "not_reliably_recovered")
        names.append("improved" if row["reliable_improvement"] else
                     "deteriorated" if row["reliable_deterioration"] else "no_reliable_change")
    return names


def _outcome_counts(filters: Filters) -> tuple[dict[str, Counter], dict[str, dict[tuple, list[float]]], set[int]]:
    """Counts per (team, course modality) of the courses that ended within the dates, and each
    instrument's changes (last - first) per (team, course modality)."""
    counts: dict[str, Counter] = {name: Counter() for name in {n for whole, parts in PARTITIONS for n in (whole, *parts)}}
    changes: dict[str, dict[tuple, list[float]]] = {code: {} for code in COURSE_INSTRUMENTS}
    people: set[int] = set()
    for rows, person_ids in course_rows(filters, DateSetting(mode=DateMode.EXACT)):
        for row, person_id in zip(rows, person_ids, strict=True):
            if not _ended_within(filters, row["ended"]):
                continue
            people.add(person_id)
            cell = (row["team"], row["modality"])
            counted, finished = row["paired_outcome_counts"], row["finished_treatment"]
            for name in course_outcome_categories(row):
                counts[name][cell] += 1
            for code in COURSE_INSTRUMENTS:
                # PHQ-9 and GAD-7 over the courses that count in paired outcomes; the others over
                # courses that finished a course of treatment with two scores or more.
                if (counted if code in PAIRED else finished) and row[f"{code}_last"] is not None:
                    changes[code].setdefault(cell, []).append(row[f"{code}_last"] - row[f"{code}_first"])
    return counts, changes, people


def _outcome_rows(counts: dict[str, Counter], changes: dict[str, dict[tuple, list[float]]]):
    codes = [code for code in COURSE_INSTRUMENTS if code in PAIRED or changes[code]]
    for code in codes:
        counts[f"changed_{code}"] = Counter({cell: len(values) for cell, values in changes[code].items()})
    teams = sorted({team for counter in counts.values() for team, _ in counter})
    axes = [teams, COURSE_MODALITIES]
    partitions = [*PARTITIONS, *((("finished", (f"changed_{c}", f"unchanged_{c}")) for c in codes if c not in PAIRED))]
    for code in codes:
        if code not in PAIRED:
            counts[f"unchanged_{code}"] = counts["finished"] - counts[f"changed_{code}"]
    tables = suppressed_tables(counts, axes, partitions)

    def mean(code: str, team: str, modality: str) -> MeanChange:
        n = tables[f"changed_{code}"][(team, modality)]
        if not n:
            return MeanChange(code, n, None)
        values = [v for (t, m), vs in changes[code].items() if team in (t, TOTAL) and modality in (m, TOTAL) for v in vs]
        return MeanChange(code, n, round(sum(values) / len(values), 2))

    def row(team: str, modality: str) -> OutcomeRow:
        cell = (team, modality)
        rates = {name: Rate.of(tables[numerator][cell], tables[denominator][cell]) for name, _, numerator, denominator in RATES}
        shares = {name: Rate.of(tables[numerator][cell], tables[denominator][cell]) for name, _, numerator, denominator in SHARES}
        return OutcomeRow(team, modality, tables["ended"][cell], tables["finished"][cell], tables["paired"][cell],
                          tables["at_caseness"][cell], rates, [mean(code, team, modality) for code in codes], shares)

    def rows_for(team: str) -> list[OutcomeRow]:
        return [row(team, modality) for modality in (*COURSE_MODALITIES, TOTAL)]

    names = {i.code: i for i in Instrument.objects.filter(code__in=codes)}
    measures = [Measure(code, names[code].name, names[code].higher_is_worse) for code in codes]
    return rows_for(TOTAL), {team: rows_for(team) for team in teams}, measures


def _cell(value):
    return "*" if value is None else value


def _proportion(rate: Rate, value: float | None):
    return "*" if rate.suppressed else ("" if value is None else round(value, 4))


def _rate_columns(name: str, rate: Rate) -> dict:
    return {f"{name}_numerator": _cell(rate.numerator), f"{name}_denominator": _cell(rate.denominator),
            f"{name}_rate": _proportion(rate, rate.value), f"{name}_rate_95ci_low": _proportion(rate, rate.low),
            f"{name}_rate_95ci_high": _proportion(rate, rate.high)}


def _appointment_columns(r: Row) -> dict:
    return {"courses": _cell(r.courses), "attended": _cell(r.attended), "did_not_attend": _cell(r.did_not_attend),
            "appointments": _cell(r.appointments), **_rate_columns("did_not_attend", r.dna)}


def _outcome_columns(o: OutcomeRow) -> dict:
    columns = {"ended_courses": _cell(o.ended)}
    for name, *_ in SHARES:
        columns.update(_rate_columns(name, o.shares[name]))
    for name, *_ in RATES:
        columns.update(_rate_columns(name, o.rates[name]))
    for change in o.mean_change:
        columns.update({f"mean_change_{change.instrument}": "*" if change.courses is None else ("" if change.courses == 0 else change.mean),
                        f"mean_change_{change.instrument}_courses": _cell(change.courses)})
    return columns


def report_table(report: Report) -> list[dict]:
    """The report as flat rows for a CSV or Excel download; suppressed values are '*'. One row per team
    and modality: the appointment columns by appointment modality, the outcome columns (from
    `ended_courses` on) by course modality, which can also be mixed or none (so those rows have
    no appointment columns)."""
    appointments = {(r.team, r.modality): r for r in report.rows()}
    outcomes = {(r.team, r.modality): r for r in report.outcome_rows()}
    empty = {"appointment": {k: "" for k in _appointment_columns(report.by_modality[0])} if report.by_modality else {},
             "outcome": {k: "" for k in _outcome_columns(report.outcomes_by_modality[0])} if report.outcomes_by_modality else {}}
    out = []
    for team in [TOTAL, *dict.fromkeys([*report.by_team, *report.outcomes_by_team])]:
        for modality in (*COURSE_MODALITIES, TOTAL):
            r, o = appointments.get((team, modality)), outcomes.get((team, modality))
            if r is None and o is None:
                continue
            out.append({"team": "All teams" if team == TOTAL else team, "modality": modality,
                        **(_appointment_columns(r) if r else empty["appointment"]), **(_outcome_columns(o) if o else empty["outcome"])})
    return out

"""Evaluation by practitioner role and site (issue 17, point 7; docs/peerwork.md, docs/evaluation.md).

Datasets: `engagement` (one row per session offered to a person, one-to-one or in a group, with the role
it counts under), `supervision` and `fidelity` / `fidelity_answers` (pseudonymised: peer workers and
supervisors as W references), and `site_fidelity_engagement` (one row per site: fidelity summaries beside
engagement, so "do sites with higher fidelity see higher engagement?" can be answered from one file).

The report by role and site: engagement (attended, did not attend, offered) by site x role, and the paired
outcomes of courses of care that ended within the dates by site x the course's role, with the same
suppression as the modality report (statistics.py: primary 1-4, secondary along every line), and
Recovery College courses completed by site.

The college (backend/college; evaluation is the layer above it): a course session is a group session of a
college run and counts under `peer_trainer` when the run is co-led by a peer trainer of either kind
(GROUP_ROLE_RULES); courses completed are the completions dataset's completed enrolments, by site.

Consent: service users appear only while their consent to evaluation holds (people_in_evaluation); a
rating by a person supported counts only while theirs does. Staff records (supervision, ratings by peer
workers and supervisors) are about staff, not service users, and carry no service user's identity.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from django.db.models import Count, Exists, Max, Min, OuterRef, Q, QuerySet, Subquery

from backend.accounts.models import Role
from backend.college.models import Enrolment, Facilitator, RunSession, TrainerRecord
from backend.college.selectors import ATTENDED as COLLEGE_ATTENDED, required_sessions
from backend.evaluation.college import _students as college_students
from backend.evaluation.dictionary import (
    ENGAGEMENT, FIDELITY, FIDELITY_ANSWERS, REPORTED_ROLES, SITE_ALL, SITE_FIDELITY_ENGAGEMENT, SUPERVISION,
)
from backend.evaluation.pseudonyms import (
    DateMode, DateSetting, appointment_ref, course_ref, fidelity_ref, group_place_ref, pseudonym, staff_ref, supervision_ref,
)
from backend.evaluation.report import PARTITIONS, RATES, SHARES, Rate, _ended_within, course_outcome_categories
from backend.evaluation.selectors import (
    DEFAULT_CHUNK_SIZE, STATUS_CODES, Filters, _chunks, _in_team_and_site, _within, course_rows, course_rows_queryset,
    people_in_evaluation,
)
from backend.evaluation.statistics import SUPPRESS_BELOW, TOTAL, suppressed_table, suppressed_tables
from backend.groups.models import GroupAttendee, GroupSession
from backend.outcomes.models import InstrumentOption
from backend.peerwork.models import Domain, FidelityAnswer, FidelityRating, Informant, SupervisionEntry
from backend.peerwork.selectors import ATTENDED_IN_GROUP, appointment_role_expression
from backend.sessions.models import Appointment

PEER_ROLES = ("peer_worker", "peer_trainer")
OUTCOMES = ("attended", "did_not_attend")
COURSE_ROLES = (*REPORTED_ROLES, "mixed", "none")
ROLE_LABELS = {"clinician": "Clinician", "peer_worker": "Peer worker", "peer_trainer": "Peer trainer",
               "mixed": "Mixed (no role for more than half)", "none": "No attended sessions", TOTAL: "All roles"}

PEER_TRAINER = "peer_trainer"


def college_session_roles(group_ids: list[int]) -> dict[int, str]:
    """The Recovery College's rule: a group session that is a session of a college run (college.RunSession)
    counts under `peer_trainer` when the run has a peer trainer of either kind (peer or carer peer) among its
    facilitators. The facilitation is a fact of the run whatever the trainer record's `active` says now.
    A run without one (a draft never books sessions, and publishing refuses it) keeps groups' rule. One query."""
    co_led = Facilitator.objects.filter(run=OuterRef("run"), trainer__kind__in=TrainerRecord.PEER_KINDS)
    sessions = RunSession.objects.filter(group_id__in=group_ids).filter(Exists(co_led)).values_list("group_id", flat=True)
    return {group: PEER_TRAINER for group in sessions}


# Rules that say a group session counts under another role than groups' own (facilitator, co-facilitator).
# Each takes a list of group ids and returns {group id: role}; the first rule to name a group wins.
GROUP_ROLE_RULES: list = [college_session_roles]


def _completions_by_site(filters: Filters) -> tuple[Counter, set[int]]:
    """Completed enrolments per site of the run's team, and the students who completed. The same people
    and runs as the completions dataset (evaluation/college.py): students with a place (state enrolled)
    whose consent to evaluation holds, on published or cancelled runs whose first session is within the
    dates, of the filters' teams and sites; completed as there (attended or left early at
    required_sessions of the run's sessions). One query."""
    sessions = RunSession.objects.filter(run=OuterRef("run")).order_by().values("run").annotate(n=Count("id")).values("n")[:1]
    attended = GroupAttendee.objects.filter(
        group__college_session__run=OuterRef("run"), person=OuterRef("student"), attendance__in=COLLEGE_ATTENDED,
    ).order_by().values("person").annotate(n=Count("id")).values("n")[:1]
    counts: Counter = Counter()
    people: set[int] = set()
    places = college_students(filters, [Enrolment.State.ENROLLED]).annotate(total=Subquery(sessions), done=Subquery(attended))
    for student, site, total, done in places.values_list("student_id", "run__team__site", "total", "done").order_by("id"):
        if total and (done or 0) >= required_sessions(total):
            counts[site] += 1
            people.add(student)
    return counts, people


def courses_completed_by_site(filters: Filters) -> dict[str, int]:
    """Recovery College courses completed, per site (unsuppressed: site_rows and the report suppress them,
    with the all-sites total, as every other count). A student who completed two runs counts twice."""
    return dict(_completions_by_site(filters)[0])


# --- Engagement -------------------------------------------------------------------------------------------
def _group_role(facilitator_role: str | None, co_role: str | None) -> str | None:
    if Role.PEER_WORKER in (facilitator_role, co_role):
        return Role.PEER_WORKER
    return facilitator_role


def _group_status(group_status: str, attendance: str) -> str:
    if group_status == GroupSession.Status.CANCELLED:
        return "cancelled"
    if attendance in ATTENDED_IN_GROUP:
        return "attended"
    if attendance == GroupAttendee.Attendance.DID_NOT_ATTEND:
        return "did_not_attend"
    return "open"


def engagement_appointments(filters: Filters) -> QuerySet[Appointment]:
    appointments = Appointment.objects.filter(service_user__in=people_in_evaluation(filters).values("pk")).filter(_within(filters, "starts_at"))
    return _in_team_and_site(appointments, filters).annotate(counted_role=appointment_role_expression()).order_by("id")


def engagement_group_places(filters: Filters) -> QuerySet[GroupAttendee]:
    places = GroupAttendee.objects.filter(person__in=people_in_evaluation(filters).values("pk")).filter(_within(filters, "group__starts_at"))
    return _in_team_and_site(places, filters, "group__team").order_by("id")


def engagement_rows(filters: Filters, dates: DateSetting, chunk_size: int = DEFAULT_CHUNK_SIZE) -> Iterator[tuple[list[dict], list[int]]]:
    """The engagement dataset: appointments, then group places; no query per chunk beyond the cursors
    (and one per chunk of groups for the GROUP_ROLE_RULES, if any)."""
    source = engagement_appointments(filters).values_list(
        "id", "service_user_id", "starts_at", "team__name", "team__site", "counted_role", "status").iterator(chunk_size=chunk_size)
    for chunk in _chunks(source, chunk_size):
        yield [{
            "session": appointment_ref(pk), "person": pseudonym(person), "date": dates.show(starts, person), "team": team, "site": site,
            "session_type": "one_to_one", "practitioner_role": role, "peer_support": role in PEER_ROLES,
            "status": STATUS_CODES.get(status, "open"),
        } for pk, person, starts, team, site, role, status in chunk], [r[1] for r in chunk]
    source = engagement_group_places(filters).values_list(
        "id", "person_id", "group_id", "group__starts_at", "group__team__name", "group__team__site", "group__facilitator__role",
        "group__co_facilitator__role", "group__status", "attendance").iterator(chunk_size=chunk_size)
    for chunk in _chunks(source, chunk_size):
        overrides: dict[int, str] = {}
        for rule in reversed(GROUP_ROLE_RULES):
            overrides.update(rule(sorted({r[2] for r in chunk})))
        rows = []
        for pk, person, group, starts, team, site, facilitator, co, group_status, attendance in chunk:
            role = overrides.get(group) or _group_role(facilitator, co)
            rows.append({
                "session": group_place_ref(pk), "person": pseudonym(person), "date": dates.show(starts, person), "team": team, "site": site,
                "session_type": "group", "practitioner_role": role, "peer_support": role in PEER_ROLES,
                "status": _group_status(group_status, attendance),
            })
        yield rows, [r[1] for r in chunk]


# --- Supervision and fidelity --------------------------------------------------------------------------------
def _dated(queryset: QuerySet, filters: Filters, name: str) -> QuerySet:
    if filters.date_from:
        queryset = queryset.filter(**{f"{name}__gte": filters.date_from})
    if filters.date_to:
        queryset = queryset.filter(**{f"{name}__lte": filters.date_to})
    return queryset


def supervision_rows_queryset(filters: Filters) -> QuerySet[SupervisionEntry]:
    return _in_team_and_site(_dated(SupervisionEntry.objects.all(), filters, "held_on"), filters).order_by("id")


def supervision_rows(filters: Filters, dates: DateSetting, chunk_size: int = DEFAULT_CHUNK_SIZE) -> Iterator[tuple[list[dict], list[int]]]:
    source = supervision_rows_queryset(filters).values_list(
        "id", "peer_worker_id", "supervisor_id", "supervisor__role", "held_on", "team__name", "team__site", "topics").iterator(chunk_size=chunk_size)
    for chunk in _chunks(source, chunk_size):
        yield [{
            "supervision": supervision_ref(pk), "peer_worker": staff_ref(worker), "supervisor": staff_ref(supervisor),
            "supervisor_role": supervisor_role, "date": dates.show(held_on, worker), "team": team, "site": site,
            "topics": ";".join(topics), "topic_count": len(topics),
        } for pk, worker, supervisor, supervisor_role, held_on, team, site, topics in chunk], [r[1] for r in chunk]


def fidelity_rows_queryset(filters: Filters) -> QuerySet[FidelityRating]:
    """Ratings within the filters; a person supported's only while their consent to evaluation holds."""
    ratings = _in_team_and_site(_dated(FidelityRating.objects.all(), filters, "rated_on"), filters)
    consenting = people_in_evaluation(filters).values("pk")
    return ratings.filter(~Q(informant=Informant.PERSON_SUPPORTED) | Q(rated_by__in=consenting)).order_by("id")


@dataclass
class _Scored:
    """One rating's answers, scored as its questionnaire defines (reverse keys) and grouped by domain."""

    answers: list[tuple[int, str, int | None, int | None]] = field(default_factory=list)  # item, domain, value, scored value

    def domain_mean(self, domain: str | None = None) -> float | None:
        values = [scored for _, d, _, scored in self.answers if scored is not None and (domain is None or d == domain)]
        return round(sum(values) / len(values), 2) if values else None

    def domain_items(self, domain: str) -> int:
        return sum(1 for _, d, _, scored in self.answers if d == domain and scored is not None)


def _scored_answers(rating_ids: list[int]) -> dict[int, _Scored]:
    """One query: every answer of the ratings, with its item, domain map and the option range to reverse keys."""
    scored: dict[int, _Scored] = {pk: _Scored() for pk in rating_ids}
    rows = FidelityAnswer.objects.filter(rating_id__in=rating_ids).order_by("rating_id", "item__number").values_list(
        "rating_id", "item__number", "item__reverse_keyed", "value", "rating__questionnaire__item_domains", "item__instrument_id")
    ranges: dict[int, tuple[int, int]] = {}
    rows = list(rows)
    if rows:  # the option range per instrument, to reverse keys: one query
        for instrument, low, high in InstrumentOption.objects.filter(instrument_id__in={r[5] for r in rows}).values(
                "instrument_id").annotate(low=Min("value"), high=Max("value")).values_list("instrument_id", "low", "high"):
            ranges[instrument] = (low, high)
    for rating, number, reverse, value, domains, instrument in rows:
        low, high = ranges.get(instrument, (0, 0))
        scored_value = None if value is None else (low + high - value if reverse else value)
        scored[rating].answers.append((number, domains.get(str(number), ""), value, scored_value))
    return scored


_FIDELITY_FIELDS = ("id", "peer_worker_id", "informant", "rated_on", "team__name", "team__site", "questionnaire__instrument__code",
                    "questionnaire__instrument__version", "score", "unanswered_items")


def _fidelity_chunks(filters: Filters, chunk_size: int):
    source = fidelity_rows_queryset(filters).annotate(item_count=Count("questionnaire__instrument__items")).values_list(
        *_FIDELITY_FIELDS, "item_count").iterator(chunk_size=chunk_size)
    for chunk in _chunks(source, chunk_size):
        yield chunk, _scored_answers([r[0] for r in chunk])


def fidelity_rows(filters: Filters, dates: DateSetting, chunk_size: int = DEFAULT_CHUNK_SIZE) -> Iterator[tuple[list[dict], list[int]]]:
    for chunk, scored in _fidelity_chunks(filters, chunk_size):
        rows = []
        for pk, worker, informant, rated_on, team, site, instrument, version, score, unanswered, items in chunk:
            s = scored[pk]
            rows.append({
                "rating": fidelity_ref(pk), "peer_worker": staff_ref(worker), "informant": informant, "date": dates.show(rated_on, worker),
                "team": team, "site": site, "instrument": instrument, "instrument_version": version, "items": items,
                "unanswered_items": unanswered, "score": None if score is None else float(score),
                **{f"{d.value}_items": s.domain_items(d.value) for d in Domain},
                **{f"{d.value}_mean": s.domain_mean(d.value) for d in Domain},
            })
        yield rows, [r[1] for r in chunk]


def fidelity_answer_rows(filters: Filters, dates: DateSetting, chunk_size: int = DEFAULT_CHUNK_SIZE) -> Iterator[tuple[list[dict], list[int]]]:
    for chunk, scored in _fidelity_chunks(filters, chunk_size):
        rows, people = [], []
        for pk, worker, informant, _, _, site, instrument, *_ in chunk:
            for number, domain, value, scored_value in scored[pk].answers:
                rows.append({"rating": fidelity_ref(pk), "peer_worker": staff_ref(worker), "informant": informant, "site": site,
                             "instrument": instrument, "item": number, "domain": domain, "value": value, "scored_value": scored_value})
                people.append(worker)
        yield rows, people


# --- Fidelity beside engagement, per site ------------------------------------------------------------------------
def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 2) if len(values) >= SUPPRESS_BELOW else None


def _rate(numerator: int | None, denominator: int | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return round(numerator / denominator, 4)


def site_rows(filters: Filters, dates: DateSetting, chunk_size: int = DEFAULT_CHUNK_SIZE) -> Iterator[tuple[list[dict], list[int]]]:
    """One row per site and one for all sites: fidelity summaries (from the fidelity rows) beside engagement
    (from the engagement rows), suppressed as the report is: counts 1-4 hidden, and along every line
    (offered = attended + did not attend; a site's count and all sites') nothing or two or more hidden.
    Recovery College courses completed are one more count by site, suppressed along its line the same way."""
    counts: dict[str, Counter] = {name: Counter() for name in (
        "peer_support_offered", "peer_support_attended", "peer_support_did_not_attend", "all_offered", "all_attended", "all_did_not_attend",
        "ratings", *(f"ratings_by_{i.value}" for i in Informant))}
    people: set[int] = set()
    workers: dict[str, set[int]] = {}
    means: dict[str, dict[str, list[float]]] = {}
    for rows, person_ids in engagement_rows(filters, DateSetting(mode=DateMode.EXACT), chunk_size):
        for row, person in zip(rows, person_ids, strict=True):
            if row["status"] not in OUTCOMES:
                continue
            people.add(person)
            for prefix in ("all_", "peer_support_") if row["peer_support"] else ("all_",):
                counts[f"{prefix}offered"][(row["site"],)] += 1
                counts[f"{prefix}{row['status']}"][(row["site"],)] += 1
    for chunk, scored in _fidelity_chunks(filters, chunk_size):
        for pk, worker, informant, _, _, site, *_ in chunk:
            people.add(worker)
            workers.setdefault(site, set()).add(worker)
            counts["ratings"][(site,)] += 1
            counts[f"ratings_by_{informant}"][(site,)] += 1
            site_means = means.setdefault(site, {})
            for name, value in (("fidelity_mean", scored[pk].domain_mean()), *((f"{d.value}_mean", scored[pk].domain_mean(d.value)) for d in Domain)):
                if value is not None:
                    site_means.setdefault(name, []).append(value)
    completed, completers = _completions_by_site(filters)
    counts["courses_completed"] = Counter({(site,): n for site, n in completed.items()})
    people |= completers
    sites = sorted({site for counter in counts.values() for (site,) in counter})
    counts["peer_workers_rated"] = Counter({(site,): len(ids) for site, ids in workers.items()})
    partitions = [("all_offered", ("all_attended", "all_did_not_attend")),
                  ("peer_support_offered", ("peer_support_attended", "peer_support_did_not_attend")),
                  ("ratings", tuple(f"ratings_by_{i.value}" for i in Informant))]
    tables = suppressed_tables(counts, [sites], partitions)
    rows = []
    for site in [*sites, TOTAL]:
        key = (site,)
        pooled = {name: [v for s, m in means.items() if site in (s, TOTAL) for v in m.get(name, [])]
                  for name in ("fidelity_mean", *(f"{d.value}_mean" for d in Domain))}
        row = {"site": SITE_ALL if site == TOTAL else site, **{name: tables[name][key] for name in counts}}
        row.update({name: _mean(values) for name, values in pooled.items()})
        for prefix in ("peer_support_", "all_"):
            row[f"{prefix}attendance_rate"] = _rate(tables[f"{prefix}attended"][key], tables[f"{prefix}offered"][key])
        rows.append({name: row.get(name) for name in SITE_FIDELITY_ENGAGEMENT.names})
    yield rows, sorted(people)


def _shown_count(count: int) -> int | None:
    return None if 0 < count < SUPPRESS_BELOW else count


ROWS = {
    ENGAGEMENT.code: engagement_rows,
    SUPERVISION.code: supervision_rows,
    FIDELITY.code: fidelity_rows,
    FIDELITY_ANSWERS.code: fidelity_answer_rows,
    SITE_FIDELITY_ENGAGEMENT.code: site_rows,
}


# --- The report by role and site -------------------------------------------------------------------------------
@dataclass(frozen=True)
class EngagementRow:
    site: str  # a site, or TOTAL
    role: str  # a REPORTED_ROLES code, or TOTAL
    attended: int | None
    did_not_attend: int | None
    offered: int | None
    dna: Rate

    @property
    def role_label(self) -> str:
        return ROLE_LABELS[self.role]


@dataclass(frozen=True)
class RoleOutcomeRow:
    site: str
    role: str  # a COURSE_ROLES code, or TOTAL
    ended: int | None
    finished: int | None
    paired: int | None
    at_caseness: int | None
    shares: dict[str, Rate]
    rates: dict[str, Rate]

    @property
    def role_label(self) -> str:
        return ROLE_LABELS[self.role]

    @property
    def rate_list(self) -> list[Rate]:
        return [self.rates[name] for name, *_ in RATES]


@dataclass(frozen=True)
class RoleSiteReport:
    filters: Filters
    enough_people: bool
    engagement: list[EngagementRow] = field(default_factory=list)  # by site (then all sites) and role (then all roles)
    unattributed: int | None = None  # sessions with no recorded role
    outcomes: list[RoleOutcomeRow] = field(default_factory=list)
    courses_completed: dict[str, int | None] = field(default_factory=dict)  # Recovery College, by site then TOTAL (suppressed)

    def site_label(self, site: str) -> str:
        return SITE_ALL if site == TOTAL else site


def _course_roles(filters: Filters) -> dict[int, str]:
    """Each course's role: the role that ran more than half of its attended appointments (run_by, else the
    booked practitioner); `mixed` when none did; `none` (left out of the map) without an attended
    appointment whose role is recorded. One query."""
    tallies: dict[int, Counter] = {}
    attended = Appointment.objects.filter(course__in=course_rows_queryset(filters).values("pk"), status=Appointment.Status.ENDED).annotate(
        counted_role=appointment_role_expression()).values_list("course_id", "counted_role").annotate(n=Count("id")).order_by()
    for course, role, n in attended:
        if role in REPORTED_ROLES:  # an imported appointment may have no practitioner: no role to count
            tallies.setdefault(course, Counter())[role] += n
    roles = {}
    for course, tally in tallies.items():
        role, n = tally.most_common(1)[0]
        roles[course] = role if n * 2 > sum(tally.values()) else "mixed"
    return roles


def role_site_report_build(filters: Filters) -> RoleSiteReport:
    counts: Counter = Counter()
    people: set[int] = set()
    unattributed = 0
    for rows, person_ids in engagement_rows(filters, DateSetting(mode=DateMode.EXACT)):
        for row, person in zip(rows, person_ids, strict=True):
            if row["status"] not in OUTCOMES:
                continue
            people.add(person)
            if row["practitioner_role"] not in REPORTED_ROLES:
                unattributed += 1
                continue
            counts[(row["site"], row["practitioner_role"], row["status"])] += 1
    outcome_counts, outcome_people = _role_outcome_counts(filters)
    people |= outcome_people
    completed, completers = _completions_by_site(filters)
    people |= completers
    if len(people) < SUPPRESS_BELOW:
        return RoleSiteReport(filters, False)
    sites = sorted({site for site, _, _ in counts})
    table = suppressed_table(counts, [sites, REPORTED_ROLES, OUTCOMES])
    engagement = []
    for site in [*sites, TOTAL]:
        for role in (*REPORTED_ROLES, TOTAL):
            attended, dna, offered = (table[(site, role, o)] for o in (*OUTCOMES, TOTAL))
            engagement.append(EngagementRow(site, role, attended, dna, offered, Rate.of(dna, offered)))
    outcome_sites = sorted({site for counter in outcome_counts.values() for site, _ in counter})
    tables = suppressed_tables(outcome_counts, [outcome_sites, COURSE_ROLES], PARTITIONS)
    outcomes = []
    for site in [*outcome_sites, TOTAL]:
        for role in (*COURSE_ROLES, TOTAL):
            cell = (site, role)
            outcomes.append(RoleOutcomeRow(
                site, role, tables["ended"][cell], tables["finished"][cell], tables["paired"][cell], tables["at_caseness"][cell],
                {name: Rate.of(tables[n][cell], tables[d][cell]) for name, _, n, d in SHARES},
                {name: Rate.of(tables[n][cell], tables[d][cell]) for name, _, n, d in RATES},
            ))
    # Courses completed by site with the all-sites total: one line, suppressed as every other (1-4 hidden,
    # and never exactly one hidden entry). Every site of the engagement table is listed, so a zero shows.
    completion_sites = sorted({*sites, *completed})
    completions = suppressed_table({(site,): n for site, n in completed.items()}, [completion_sites])
    return RoleSiteReport(filters, True, engagement, _shown_count(unattributed), outcomes,
                          {site: completions[(site,)] for site in [*completion_sites, TOTAL]})


def _role_outcome_counts(filters: Filters) -> tuple[dict[str, Counter], set[int]]:
    """As report._outcome_counts, keyed by (site, the course's role) instead of (team, modality)."""
    roles = _course_roles(filters)
    refs = {course_ref(course): role for course, role in roles.items()}
    counts: dict[str, Counter] = {name: Counter() for name in {n for whole, parts in PARTITIONS for n in (whole, *parts)}}
    people: set[int] = set()
    for rows, person_ids in course_rows(filters, DateSetting(mode=DateMode.EXACT)):
        for row, person in zip(rows, person_ids, strict=True):
            if not _ended_within(filters, row["ended"]):
                continue
            people.add(person)
            cell = (row["site"], refs.get(row["course"], "none"))
            for name in course_outcome_categories(row):
                counts[name][cell] += 1
    return counts, people

"""What evaluators may see: pseudonymised rows of people whose evaluation consent holds now.

Evaluators see no identifiable record anywhere else (docs/architecture.md); here every row is narrowed
to people consenting to evaluation at the moment of the query, identified by pseudonym only, with
only the columns in the data dictionary. Rows come in chunks (from a server-side cursor, or for the
response datasets through COPY), with one query per chunk for each related table, so memory stays
bounded whatever the size of the service.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import islice

import numpy as np
import pandas as pd
import psycopg
from django.contrib.postgres.aggregates import ArrayAgg
from django.db import connection
from django.db.models import (
    Case, CharField, Count, Exists, F, FilteredRelation, FloatField, Func, Max, Min, OuterRef, Q, QuerySet, Subquery, Sum, Value, When,
)
from django.db.models.functions import Cast, Coalesce, NullIf
from django.db.models.lookups import Exact, GreaterThan
from django.utils import timezone

from backend.accounts.models import CaseloadEntry, OrganisationRegistration, Team, User
from backend.consent.models import ConsentRecord, Modality, PurposeCode
from backend.consent.selectors import service_users_consenting_to
from backend.core.errors import InvalidInput
from backend.evaluation import fhir, national_codes
from backend.evaluation.dictionary import (
    CARE_CONTACTS, COURSE_INSTRUMENTS, COURSES, CONSENT, FHIR, GROUPS, MESSAGES, RELATIVES, NETWORK_MAPS, RESPONSES, RESPONSES_LONG, SESSIONS, SIGNPOSTS, Dataset,
)
from backend.evaluation.pseudonyms import (
    DateSetting, appointment_ref, consent_ref, course_ref, group_ref, pseudonym, relative_ref, response_ref, series_ref,
)
from backend.groups.models import GroupAttendee, GroupSession
from backend.messaging.models import Message
from backend.network.models import MapSnapshot, Signpost, SignpostFollowUp
from backend.relatives.models import ForumPost, ForumReport, PageOpen, Relative, SafetyFlag, Supporter, Thread, ThreadMessage
from backend.relatives.selectors import relatives_in_evaluation
from backend.outcomes.models import Answer, Instrument, InstrumentItem, Response
from backend.outcomes.reports import paired_measures, paired_outcomes_of
from backend.outcomes.selectors import current_responses
from backend.sessions.models import Appointment, AppointmentEvent, CourseOfCare, Participant
from backend.sessions.selectors import attended_treatment_appointment, connection_summaries

DEFAULT_CHUNK_SIZE = 50_000  # rows per chunk: for a million answers bench/export.py measured 2,000 (24 s), 20,000 (11 s), 50,000 (9.5 s, 300 MiB peak)
S = Appointment.Status
STATUS_CODES = {S.ENDED: "attended", S.DID_NOT_ATTEND: "did_not_attend", S.CANCELLED: "cancelled"}  # others: open


@dataclass(frozen=True)
class Filters:
    """What an export or the report is narrowed to. `team` is a team id; `site` matches a team's site.

    `organisation` is the boundary, not a filter anyone chooses: the services set it to the
    evaluator's organisation, so rows come only from its teams and from people registered with it.
    None (unbounded) is for code that is not answering a person, such as bench/export.py.
    """

    date_from: date | None = None
    date_to: date | None = None
    team: int | None = None
    site: str | None = None
    modality: str | None = None
    instrument: str | None = None  # an instrument's code
    organisation: int | None = None

    def given(self) -> dict:
        """The filters that are set, JSON-ready (for the audit trail and the export's README)."""
        return {name: (value.isoformat() if isinstance(value, date) else value)
                for name, value in self.__dict__.items() if value not in (None, "") and name != "organisation"}

    def check_for(self, dataset: Dataset) -> None:
        """Refuse a filter the dataset cannot honour, a backwards range or an unknown team, naming it."""
        for name in self.given():
            if name not in dataset.filters:
                raise InvalidInput(f"The {dataset.code} dataset cannot be filtered by {name}.", field=f"filters.{name}", code="not_applicable")
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise InvalidInput("date_from is after date_to: put the earlier date first.", field="filters.date_to", code="date_range_backwards")
        if self.team is not None and not _teams(self).filter(pk=self.team).exists():
            raise InvalidInput(f"There is no team {self.team}.", field="filters.team", code="does_not_exist")
        if self.instrument and not Instrument.objects.filter(code=self.instrument).exists():
            raise InvalidInput(f"There is no questionnaire '{self.instrument}'.", field="filters.instrument", code="does_not_exist")


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _within(filters: Filters, field: str) -> Q:
    """`field` (a date-time) within the filters' dates, both ends included, in local days."""
    q = Q()
    if filters.date_from:
        q &= Q(**{f"{field}__gte": _day_start(filters.date_from)})
    if filters.date_to and filters.date_to < date.max:  # the API bounds dates; date.max would overflow "+ 1 day"
        q &= Q(**{f"{field}__lt": _day_start(filters.date_to + timedelta(days=1))})
    return q


def _teams(filters: Filters) -> QuerySet[Team]:
    """The teams within the filters' organisation (every team when unbounded)."""
    teams = Team.objects.all()
    return teams if filters.organisation is None else teams.filter(organisation_id=filters.organisation)


def team_choices(organisation: int | None) -> list[tuple[int, str]]:
    """Teams to filter by: the organisation's own (none without one)."""
    return list(Team.objects.filter(organisation_id=organisation).order_by("name").values_list("pk", "name"))


def _in_team_and_site(queryset: QuerySet, filters: Filters, team: str = "team") -> QuerySet:
    """`queryset` narrowed to the filters' organisation, team and site; `team` is the path to the row's team."""
    if filters.organisation is not None:
        queryset = queryset.filter(**{f"{team}__organisation_id": filters.organisation})
    if filters.team is not None:
        queryset = queryset.filter(**{f"{team}_id": filters.team})
    if filters.site:
        queryset = queryset.filter(**{f"{team}__site__iexact": filters.site})
    return queryset


def people_in_evaluation(filters: Filters | None = None) -> QuerySet[User]:
    """Service users whose consent to evaluation holds now and, within an organisation's boundary,
    who are registered with it. Asked afresh by every export and report, so a withdrawal leaves the
    person out of everything made after it."""
    people = service_users_consenting_to(PurposeCode.EVALUATION)
    if filters is not None and filters.organisation is not None:
        people = people.filter(pk__in=OrganisationRegistration.objects.filter(organisation_id=filters.organisation).values("service_user_id"))
    return people


# --- Sessions --------------------------------------------------------------------------------------
def session_rows_queryset(filters: Filters) -> QuerySet[Appointment]:
    appointments = Appointment.objects.filter(service_user__in=people_in_evaluation(filters).values("pk")).annotate(
        counted_modality=Coalesce(NullIf("delivered_modality", Value("")), NullIf("chosen_modality", Value("")))
    ).filter(_within(filters, "starts_at"))
    appointments = _in_team_and_site(appointments, filters)
    if filters.modality:
        appointments = appointments.filter(counted_modality=filters.modality)
    return appointments.order_by("id")


_SESSION_FIELDS = (
    "id", "service_user_id", "course_id", "starts_at", "created_at", "team__name", "team__site", "team__service", "kind",
    "practitioner__role", "modalities_offered", "chosen_modality", "delivered_modality", "counted_modality",
    "delivery_reason", "status", "cancelled_by__role", "duration_minutes", "started_at", "ended_at",
    "earliest_face_to_face_slot", "earliest_remote_slot", "practitioner_id", "run_by_id", "run_by__role",
)


def _days_between(start: datetime | None, end: datetime | None) -> int | None:
    if start is None or end is None:
        return None
    return (timezone.localdate(end) - timezone.localdate(start)).days


def _session_row(a: dict, events: list[tuple[str, dict]], quality: dict, dates: DateSetting, guests: list[tuple[str, str]] = ()) -> dict:
    switches = [data for kind, data in events if kind == AppointmentEvent.Kind.MODALITY_SWITCHED]
    offered = a["modalities_offered"] or []
    ran = a["started_at"] is not None and a["ended_at"] is not None
    return {
        "appointment": appointment_ref(a["id"]),
        "person": pseudonym(a["service_user_id"]),
        "course": course_ref(a["course_id"]) if a["course_id"] else None,
        "date": dates.show(a["starts_at"], a["service_user_id"]),
        "team": a["team__name"], "site": a["team__site"], "service": a["team__service"],
        "kind": a["kind"],
        "practitioner_role": a["practitioner__role"],
        "offered_video": "video" in offered, "offered_phone": "phone" in offered, "offered_face_to_face": "face_to_face" in offered,
        "chosen_modality": a["chosen_modality"] or None,
        "delivered_modality": a["delivered_modality"] or None,
        "modality": a["counted_modality"],
        "delivery_reason": a["delivery_reason"] or None,
        "switch_count": len(switches),
        "switched_to": ";".join(str(s.get("to", "")) for s in switches) or None,
        "switch_reasons": ";".join(str(s.get("reason", "")) for s in switches) or None,
        "delivery_recorded_after": any(kind == AppointmentEvent.Kind.DELIVERY_RECORDED for kind, _ in events),
        "status": STATUS_CODES.get(a["status"], "open"),
        "cancelled_by_role": a["cancelled_by__role"] if a["status"] == S.CANCELLED else None,
        "booked_minutes": a["duration_minutes"],
        "duration_minutes": round((a["ended_at"] - a["started_at"]).total_seconds() / 60, 1) if ran else None,
        "days_to_earliest_face_to_face": _days_between(a["created_at"], a["earliest_face_to_face_slot"]),
        "days_to_earliest_remote": _days_between(a["created_at"], a["earliest_remote_slot"]),
        "connection_samples": quality["samples"],
        "median_round_trip_ms": quality["median_round_trip_ms"],
        "median_packet_loss_pct": quality["median_packet_loss_pct"],
        "median_jitter_ms": quality["median_jitter_ms"],
        "median_inbound_kbps": quality["median_inbound_kbps"],
        "median_seconds_to_connect": quality["median_seconds_to_connect"],
        "reconnects": quality["reconnects"],
        "run_by_booked_practitioner": None if a["run_by_id"] is None else a["run_by_id"] == a["practitioner_id"],
        "run_by_role": a["run_by__role"],
        "guest_roles": ";".join(role for role, _ in guests) or None,
        "interpreter_languages": ";".join(language for role, language in guests if role == Participant.GuestRole.INTERPRETER and language) or None,
    }


def _chunks(rows: Iterable, size: int) -> Iterator[list]:
    iterator = iter(rows)
    while chunk := list(islice(iterator, size)):
        yield chunk


def session_rows(filters: Filters, dates: DateSetting, chunk_size: int = DEFAULT_CHUNK_SIZE) -> Iterator[tuple[list[dict], list[int]]]:
    """The sessions dataset in chunks: (rows, the person id of each row). Four queries per chunk."""
    source = session_rows_queryset(filters).values(*_SESSION_FIELDS).iterator(chunk_size=chunk_size)
    for chunk in _chunks(source, chunk_size):
        ids = [a["id"] for a in chunk]
        events: dict[int, list[tuple[str, dict]]] = {pk: [] for pk in ids}
        kinds = [AppointmentEvent.Kind.MODALITY_SWITCHED, AppointmentEvent.Kind.DELIVERY_RECORDED]
        for appointment_id, kind, data in AppointmentEvent.objects.filter(appointment_id__in=ids, kind__in=kinds).order_by(
                "id").values_list("appointment_id", "kind", "data"):
            events[appointment_id].append((kind, data))
        quality = connection_summaries(ids)
        guests: dict[int, list[tuple[str, str]]] = {pk: [] for pk in ids}
        for appointment_id, role, language in Participant.objects.filter(appointment_id__in=ids, role=Participant.Role.GUEST).order_by(
                "id").values_list("appointment_id", "guest_role", "guest_language"):
            guests[appointment_id].append((role, language))
        yield [_session_row(a, events[a["id"]], quality[a["id"]], dates, guests[a["id"]]) for a in chunk], [a["service_user_id"] for a in chunk]


# --- Care contacts (NHS Talking Therapies data set codes) ---------------------------------------------
_CONTACT_FIELDS = (
    "id", "service_user_id", "course_id", "starts_at", "team__name", "team__site", "kind", "practitioner__role", "chosen_modality",
    "delivered_modality", "counted_modality", "status", "cancelled_by__role", "duration_minutes", "started_at", "ended_at",
)


def _contact_chunks(filters: Filters, chunk_size: int) -> Iterator[tuple[list[dict], dict[int, list[tuple[str, dict]]]]]:
    """The appointments of the sessions dataset (same people, filters and order) in chunks, each with
    its switch and participant events in order: one query per chunk beyond the cursor."""
    source = session_rows_queryset(filters).values(*_CONTACT_FIELDS).iterator(chunk_size=chunk_size)
    kinds = [AppointmentEvent.Kind.MODALITY_SWITCHED, AppointmentEvent.Kind.PARTICIPANT_CHANGED]
    for chunk in _chunks(source, chunk_size):
        events: dict[int, list[tuple[str, dict]]] = {a["id"]: [] for a in chunk}
        for appointment_id, kind, data in AppointmentEvent.objects.filter(appointment_id__in=events, kind__in=kinds).order_by(
                "id").values_list("appointment_id", "kind", "data"):
            events[appointment_id].append((kind, data))
        yield chunk, events


def _switches(events: list[tuple[str, dict]]) -> list[str]:
    return [str(data.get("to", "")) for kind, data in events if kind == AppointmentEvent.Kind.MODALITY_SWITCHED]


def _whole_minutes(a: dict) -> int | None:
    if a["started_at"] is None or a["ended_at"] is None:
        return None
    return round((a["ended_at"] - a["started_at"]).total_seconds() / 60)


def _care_contact_row(a: dict, events: list[tuple[str, dict]], dates: DateSetting) -> dict:
    switches = _switches(events)
    mechanism = national_codes.consultation_mechanism(a["counted_modality"])
    cancelled_by = a["cancelled_by__role"] if a["status"] == S.CANCELLED else None
    return {
        "appointment": appointment_ref(a["id"]), "person": pseudonym(a["service_user_id"]),
        "course": course_ref(a["course_id"]) if a["course_id"] else None,
        "date": dates.show(a["starts_at"], a["service_user_id"]), "team": a["team__name"], "site": a["team__site"],
        "consultation_mechanism": mechanism,
        "mechanism_delivered": bool(a["delivered_modality"]) if mechanism else None,
        "switched_to": ";".join(switches) or None,
        "audio_only_during_video": "audio_only" in switches,
        "attendance_code": national_codes.attendance_code(a["status"], cancelled_by),
        "status": STATUS_CODES.get(a["status"], "open"), "cancelled_by_role": cancelled_by,
        "planned": True, "therapy_mode": national_codes.INDIVIDUAL,
        "duration_minutes": _whole_minutes(a),
        "kind": a["kind"], "treatment_appointment": a["kind"] in Appointment.TREATMENT_KINDS,
        "practitioner_role": a["practitioner__role"],
        "group": None, "group_size": None, "group_attendance": None, "co_facilitator_role": None,
    }


# --- Group meetings ----------------------------------------------------------------------------------
GA = GroupAttendee.Attendance
_ATTENDED = (GA.ATTENDED, GA.LEFT_EARLY)
_GROUP_ATTENDANCE = {GA.ATTENDED: "attended", GA.LEFT_EARLY: "left_early", GA.DID_NOT_ATTEND: "did_not_attend"}


def _groups_within(filters: Filters) -> QuerySet[GroupSession]:
    """Group meetings of the filters' organisation, team and site, booked for a day within the dates."""
    return _in_team_and_site(GroupSession.objects.filter(_within(filters, "starts_at")), filters)


def group_contact_rows_queryset(filters: Filters) -> QuerySet[GroupAttendee]:
    """One row per attendee in evaluation per group meeting: carers (a carers' group) are never in
    evaluation, so never here. Groups meet on video only, so a modality filter other than video leaves
    every group contact out."""
    if filters.modality and filters.modality != Modality.VIDEO:
        return GroupAttendee.objects.none()
    return GroupAttendee.objects.filter(
        person__in=people_in_evaluation(filters).values("pk"), group__in=_groups_within(filters).values("pk"),
    ).order_by("group_id", "id")


def _group_contact_row(g: dict, dates: DateSetting) -> dict:
    attendance, status = g["attendance"], g["group__status"]
    attended = attendance in _ATTENDED
    cancelled = status == GroupSession.Status.CANCELLED
    return {
        "appointment": None, "person": pseudonym(g["person_id"]), "course": None,
        "date": dates.show(g["group__starts_at"], g["person_id"]), "team": g["group__team__name"], "site": g["group__team__site"],
        "consultation_mechanism": national_codes.GROUP_MECHANISM, "mechanism_delivered": attended,
        "switched_to": None, "audio_only_during_video": attended and not g["video_allowed"],
        "attendance_code": national_codes.group_attendance_code(status, attendance),
        "status": "cancelled" if cancelled else "attended" if attended else "did_not_attend" if attendance == GA.DID_NOT_ATTEND else "open",
        "cancelled_by_role": None, "planned": True, "therapy_mode": national_codes.GROUP,
        "duration_minutes": round(g["attended_seconds"] / 60) if attended and status == GroupSession.Status.ENDED else None,
        "kind": "group", "treatment_appointment": None, "practitioner_role": g["group__facilitator__role"],
        "group": group_ref(g["group_id"]), "group_size": g["group_size"],
        "group_attendance": None if cancelled else _GROUP_ATTENDANCE.get(attendance),
        "co_facilitator_role": g["group__co_facilitator__role"],
    }


def group_contact_rows(filters: Filters, dates: DateSetting, chunk_size: int = DEFAULT_CHUNK_SIZE) -> Iterator[tuple[list[dict], list[int]]]:
    """care_contacts' group rows in chunks: one query in all (through the cursor), the group's size a subquery."""
    size = GroupAttendee.objects.filter(group=OuterRef("group")).order_by().values("group").annotate(n=Count("id")).values("n")
    source = group_contact_rows_queryset(filters).annotate(group_size=Subquery(size)).values(
        "group_id", "person_id", "attendance", "attended_seconds", "video_allowed", "group__starts_at", "group__status",
        "group__team__name", "group__team__site", "group__facilitator__role", "group__co_facilitator__role", "group_size",
    ).iterator(chunk_size=chunk_size)
    for chunk in _chunks(source, chunk_size):
        yield [_group_contact_row(g, dates) for g in chunk], [g["person_id"] for g in chunk]


def group_rows_queryset(filters: Filters) -> QuerySet[GroupSession]:
    return _groups_within(filters).order_by("starts_at", "id")


def group_rows(filters: Filters, dates: DateSetting, chunk_size: int = DEFAULT_CHUNK_SIZE) -> Iterator[tuple[list[dict], list[int]]]:
    """The groups dataset: one row per meeting (one query through the cursor), then one query per chunk for
    the attendees in evaluation, whose counts and times the row carries (and who are the export's people)."""
    source = group_rows_queryset(filters).annotate(places_booked=Count("attendees")).values(
        "id", "series", "starts_at", "team__name", "team__site", "team__service", "for_carers", "status", "facilitator__role",
        "co_facilitator__role", "capacity", "places_booked", "duration_minutes", "started_at", "ended_at",
    ).iterator(chunk_size=chunk_size)
    in_evaluation = people_in_evaluation(filters).values("pk")
    for chunk in _chunks(source, chunk_size):
        attendees: dict[int, list[tuple[int, str, int, bool]]] = {g["id"]: [] for g in chunk}
        for group_id, person_id, attendance, seconds, video in GroupAttendee.objects.filter(
                group_id__in=attendees, person__in=in_evaluation).order_by("id").values_list(
                "group_id", "person_id", "attendance", "attended_seconds", "video_allowed"):
            attendees[group_id].append((person_id, attendance, seconds, video))
        rows, people = [], []
        for g in chunk:
            here = attendees[g["id"]]
            came = [a for a in here if a[1] in _ATTENDED]
            ran = g["started_at"] is not None and g["ended_at"] is not None
            rows.append({
                "group": group_ref(g["id"]), "series": series_ref(g["series"]), "date": dates.show_for_series(g["starts_at"], g["series"]),
                "team": g["team__name"], "site": g["team__site"], "service": g["team__service"], "for_carers": g["for_carers"],
                "status": g["status"], "facilitator_role": g["facilitator__role"], "co_facilitator_role": g["co_facilitator__role"],
                "capacity": g["capacity"], "places_booked": g["places_booked"], "booked_minutes": g["duration_minutes"],
                "duration_minutes": round((g["ended_at"] - g["started_at"]).total_seconds() / 60, 1) if ran else None,
                "booked": len(here), "attended": sum(a[1] == GA.ATTENDED for a in here),
                "left_early": sum(a[1] == GA.LEFT_EARLY for a in here), "did_not_attend": sum(a[1] == GA.DID_NOT_ATTEND for a in here),
                "audio_only": sum(not a[3] for a in came),
                "median_attended_minutes": round(float(np.median([a[2] for a in came])) / 60, 1) if came else None,
            })
            people += [a[0] for a in here]
        yield rows, people


def care_contact_rows(filters: Filters, dates: DateSetting,
                      chunk_size: int = DEFAULT_CHUNK_SIZE) -> Iterator[tuple[list[dict], list[int]]]:
    """The care_contacts dataset in chunks: the sessions dataset's appointments in national codes
    (national_codes.py), then one row per attendee in evaluation per group meeting. One query per chunk
    of appointments (the switch events), none per chunk of group contacts."""
    for chunk, events in _contact_chunks(filters, chunk_size):
        yield [_care_contact_row(a, events[a["id"]], dates) for a in chunk], [a["service_user_id"] for a in chunk]
    # Then each group meeting's attendees in evaluation, one row each (therapy mode 3).
    yield from group_contact_rows(filters, dates, chunk_size)


# --- Consent states over time -----------------------------------------------------------------------
def consent_rows_queryset(filters: Filters) -> QuerySet[ConsentRecord]:
    records = ConsentRecord.objects.filter(service_user__in=people_in_evaluation(filters).values("pk")).filter(_within(filters, "recorded_at"))
    if filters.team is not None or filters.site or filters.organisation is not None:
        # Whose care the team holds: the team's caseload (a person's consent is not per appointment).
        caseload = _in_team_and_site(CaseloadEntry.objects.all(), filters)
        records = records.filter(service_user__in=caseload.values("service_user_id"))
    return records.order_by("id")


def consent_rows(filters: Filters, dates: DateSetting, chunk_size: int = DEFAULT_CHUNK_SIZE) -> Iterator[tuple[list[dict], list[int]]]:
    source = consent_rows_queryset(filters).values(
        "service_user_id", "recorded_at", "purpose__code", "decision", "wording__version", "method", "carer_id", "share_outcomes",
    ).iterator(chunk_size=chunk_size)
    for chunk in _chunks(source, chunk_size):
        rows = [{
            "person": pseudonym(r["service_user_id"]),
            "date": dates.show(r["recorded_at"], r["service_user_id"]),
            "purpose": r["purpose__code"], "decision": r["decision"], "wording_version": r["wording__version"],
            "method": r["method"], "concerns_a_carer": r["carer_id"] is not None, "shares_outcomes": r["share_outcomes"],
        } for r in chunk]
        yield rows, [r["service_user_id"] for r in chunk]


# --- Questionnaire responses -----------------------------------------------------------------------
# Exports of outcomes run to millions of item rows, so these producers work a column at a time: each
# chunk of database tuples becomes one DataFrame, and references, dates and reverse keying are worked
# out per column (a reference once per distinct value in the chunk), not per row.

def _narrowed_to_evaluation(queryset: QuerySet, filters: Filters | None = None, prefix: str = "") -> QuerySet:
    return queryset.filter(**{f"{prefix}service_user__in": people_in_evaluation(filters).values("pk")})


def response_rows_queryset(filters: Filters) -> QuerySet[Response]:
    """Current responses (corrections replace what they correct) of people in evaluation."""
    responses = _in_team_and_site(_narrowed_to_evaluation(current_responses(), filters).filter(_within(filters, "completed_at")),
                                  filters, "course__team")
    if filters.modality:
        responses = responses.filter(appointment__delivered_modality=filters.modality)
    if filters.instrument:
        responses = responses.filter(instrument__code=filters.instrument)
    return responses.order_by("id")


class _Epoch(Func):
    """A date-time as seconds since 1970 (UTC): PostgreSQL's EXTRACT(EPOCH ...), SQLite's strftime('%s')."""

    output_field = FloatField()

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, template="CAST(EXTRACT(EPOCH FROM %(expressions)s) AS double precision)", **extra)

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, template="CAST(strftime('%%%%s', %(expressions)s) AS REAL)", **extra)


def _epoch(field: str) -> _Epoch:
    return _Epoch(field)


def _refs(values: pd.Series, make, made: dict | None = None) -> pd.Series:
    """A column of ids as references, each distinct id hashed once (once per export, given the
    export's `made` memo); missing ids stay missing."""
    made = {} if made is None else made
    here = {}
    for value in values.dropna().unique():
        if value not in made:
            made[value] = make(int(value))
        here[value] = made[value]
    return values.map(here)  # only this chunk's ids: mapping the whole memo would rebuild it every chunk


class _CopyReader(io.RawIOBase):
    """The byte stream of a running `COPY ... TO STDOUT`, as a file pandas can read from."""

    def __init__(self, copy):
        self.blocks, self.pending = iter(copy), b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        # COPY sends one message per row: gather a buffer's worth before handing it over.
        if len(self.pending) < len(buffer):
            blocks, size = [self.pending], len(self.pending)
            for block in self.blocks:
                blocks.append(block)
                size += len(block)
                if size >= len(buffer):
                    break
            self.pending = b"".join(blocks)
        size = min(len(buffer), len(self.pending))
        buffer[:size], self.pending = self.pending[:size], self.pending[size:]
        return size


def _frames(values: QuerySet, names: list[str], types: dict[str, str], chunk_size: int) -> Iterator[pd.DataFrame]:
    """The rows of a values_list queryset as DataFrames of `chunk_size` rows, one query in all.

    On PostgreSQL the rows come through `COPY (<the queryset's SQL>) TO STDOUT` into pandas' C CSV
    reader: for a million answers that is several times faster than a cursor making a Python tuple
    per row (docs/performance.md). The embedded SQLite default has no COPY, so it reads the cursor."""
    if connection.vendor != "postgresql":
        for chunk in _chunks(values.iterator(chunk_size=chunk_size), chunk_size):
            yield pd.DataFrame.from_records(chunk, columns=names).astype(types)
        return
    sql, params = values.query.sql_with_params()
    with connection.cursor() as cursor:
        statement = psycopg.ClientCursor(cursor.connection).mogrify(sql, params)
        with cursor.cursor.copy(f"COPY ({statement}) TO STDOUT (FORMAT csv)") as copy:
            stream = io.BufferedReader(_CopyReader(copy), buffer_size=1 << 20)
            parsed = {name: ("boolean" if kind == "boolean" else "object" if kind == "string" else kind) for name, kind in types.items()}
            # COPY writes SQL NULL as an empty field and booleans as t/f.
            yield from pd.read_csv(stream, names=names, dtype=parsed, chunksize=chunk_size, true_values=["t"], false_values=["f"],
                                   keep_default_na=False, na_values=[""])


def _response_frame(df: pd.DataFrame, dates: DateSetting, made: dict[str, dict]) -> pd.DataFrame:
    """The columns every response dataset shares, from the fields of _RESPONSE_FIELDS. `made` keeps
    the references of people, courses and appointments across chunks: a person's responses are spread
    through the whole export, so hashing them once per export, not once per chunk, saves most of the work."""
    df["response"] = _refs(df["response_id"], response_ref)
    df["person"] = _refs(df["person_id"], pseudonym, made.setdefault("person", {}))
    df["appointment"] = _refs(df["appointment_id"], appointment_ref, made.setdefault("appointment", {}))
    df["course"] = _refs(df["course_id"], course_ref, made.setdefault("course", {}))
    df["date"] = dates.show_many(df["completed_at"], df["person_id"], made.setdefault("shift", {}))
    df["modality"] = df["modality"].replace("", None)
    return df


_RESPONSE_FIELDS = {  # column name in the frame: path from a Response
    "response_id": "id", "person_id": "service_user_id", "appointment_id": "appointment_id", "course_id": "course_id",
    "instrument": "instrument__code", "mode": "mode", "completed_at": "completed_epoch", "team": "course__team__name",
    "site": "course__team__site", "modality": "appointment__delivered_modality",
}
_RESPONSE_TYPES = {  # the pandas type of each, as the rows are read
    "response_id": "int64", "person_id": "int64", "appointment_id": "Int64", "course_id": "int64", "instrument": "string",
    "mode": "string", "completed_at": "float64", "team": "string", "site": "string", "modality": "string",
}


def response_rows(filters: Filters, dates: DateSetting, chunk_size: int = DEFAULT_CHUNK_SIZE) -> Iterator[tuple[pd.DataFrame, list[int]]]:
    """The responses dataset in chunks: one query for the whole export, none more per chunk."""
    extra = {"status": "status", "raw_total": "raw_total", "score": "score_number", "band": "band", "at_caseness": "at_caseness",
             "prorated": "prorated", "unanswered_items": "unanswered_items", "replaces_id": "replaces_id",
             "risk_item_answer": "risk_item__value"}
    fields = {**_RESPONSE_FIELDS, **extra}
    types = {**_RESPONSE_TYPES, "status": "string", "raw_total": "Int64", "score": "float64", "band": "string",
             "at_caseness": "boolean", "prorated": "boolean", "unanswered_items": "int64", "replaces_id": "Int64", "risk_item_answer": "Int64"}
    risk_items = _risk_items()
    values = _with_risk_item(response_rows_queryset(filters), risk_items).annotate(
        score_number=Cast("score", FloatField()), completed_epoch=_epoch("completed_at")).values_list(*fields.values())
    thresholds = {code: above for code, (_, above) in risk_items.items()}
    made: dict[str, dict] = {}
    for df in _frames(values, list(fields), types, chunk_size):
        df = _response_frame(df, dates, made)
        df["band"] = df["band"].replace("", None)
        df["corrects_earlier"] = df["replaces_id"].notna()
        df["risk_flag"] = _risk_flags(df["risk_item_answer"], df["instrument"].map(thresholds))
        yield df, df["person_id"].tolist()


# --- Risk items -------------------------------------------------------------------------------------
# Each questionnaire's risk item (PHQ-9 item 9, CORE-10 item 6; InstrumentItem.risk_above) as a flag
# column, so evaluators need not rebuild it from the items (docs/data-dictionary.md).

def _risk_items() -> dict[str, tuple[int, int]]:
    """Each instrument's risk item as (item id, threshold: an answer above it raises a risk flag), by
    instrument code; the first risk item by number where a local questionnaire marks more than one. One query."""
    items: dict[str, tuple[int, int]] = {}
    for code, pk, above in InstrumentItem.objects.filter(risk_above__isnull=False).order_by("instrument_id", "number").values_list(
            "instrument__code", "pk", "risk_above"):
        items.setdefault(code, (pk, above))
    return items


def _with_risk_item(responses: QuerySet, risk_items: dict[str, tuple[int, int]]) -> QuerySet:
    """`responses` with `risk_item`, the answer to their risk item, as one outer join (not a subquery
    per response): at most one row each, since only one item per instrument is named."""
    item_ids = [pk for pk, _ in risk_items.values()] or [0]  # no risk item anywhere: a join that matches nothing
    return responses.annotate(risk_item=FilteredRelation("answers", condition=Q(answers__item_id__in=item_ids)))


def _risk_flags(answers: pd.Series, thresholds: pd.Series) -> pd.Series:
    """True where the answer is above its risk item's threshold (a risk flag was raised); false where
    the questionnaire has a risk item but the answer is not above it or was left unanswered; empty
    where it has no risk item."""
    answers, thresholds = answers.astype("Int64"), thresholds.astype("Int64")
    return (answers > thresholds).fillna(False).astype("boolean").mask(thresholds.isna())


def _option_ranges() -> dict[int, tuple[int, int]]:
    """Each instrument's lowest and highest option value (reverse keying is lowest + highest - value)."""
    return {pk: (low, high) for pk, low, high in
            Instrument.objects.annotate(low=Min("options__value"), high=Max("options__value")).values_list("pk", "low", "high")}


_LONG_TYPES = {**_RESPONSE_TYPES, "instrument_id": "int64", "item": "int64", "item_loinc": "string", "value": "Int64",
               "reverse_keyed": "boolean", "risk_above": "Int64"}


def response_long_values(filters: Filters) -> tuple[list[str], QuerySet]:
    """The answers the responses_long dataset is made of, one row each, as a values_list queryset, and
    the name of each field: read this way on databases other than PostgreSQL, and copied by
    bench/export.py as its reference."""
    fields = {**{name: f"response__{path}" for name, path in _RESPONSE_FIELDS.items()},
              "response_id": "response_id", "completed_at": "completed_epoch", "instrument_id": "response__instrument_id",
              "item": "item__number", "item_loinc": "item__loinc", "value": "value", "reverse_keyed": "item__reverse_keyed",
              "risk_above": "item__risk_above"}
    answers = Answer.objects.filter(response__in=response_rows_queryset(filters).order_by()).order_by("response_id", "item__number")
    return list(fields), answers.annotate(completed_epoch=_epoch("response__completed_at")).values_list(*fields.values())


def _instrument_items() -> dict[str, dict[int, np.ndarray]]:
    """Each instrument's items in order, column by column (item, item_loinc, reverse_keyed), keyed
    by instrument id: every response has one answer per item of its instrument (unanswered ones
    empty), so a response's answers in item order line up with these."""
    items: dict[int, list] = {}
    for instrument_id, number, loinc, reverse, risk_above in InstrumentItem.objects.order_by("instrument_id", "number").values_list(
            "instrument_id", "number", "loinc", "reverse_keyed", "risk_above"):
        items.setdefault(instrument_id, []).append((number, loinc or None, reverse, risk_above))
    columns = {"item": 0, "item_loinc": 1, "reverse_keyed": 2, "risk_above": 3}
    return {name: {pk: np.array([row[i] for row in rows], dtype=object if name in ("item_loinc", "risk_above") else None)
                   for pk, rows in items.items()} for name, i in columns.items()}


def _answers_by_response(filters: Filters, dates: DateSetting, chunk_size: int, made: dict) -> Iterator[pd.DataFrame]:
    """The answers as one row each, made from one row per response carrying its answers' values as an
    array (PostgreSQL): an eighth of the rows to read, and references and dates worked out once per
    response rather than once per answer. Elsewhere, one row per answer (response_long_values)."""
    if connection.vendor != "postgresql":
        names, values = response_long_values(filters)
        for df in _frames(values, names, _LONG_TYPES, chunk_size):
            yield _response_frame(df, dates, made)
        return
    items = _instrument_items()
    fields = {**_RESPONSE_FIELDS, "instrument_id": "instrument_id", "answer_values": "answer_values"}
    values = response_rows_queryset(filters).annotate(
        completed_epoch=_epoch("completed_at"), answer_values=ArrayAgg("answers__value", order_by="answers__item__number"),
    ).values_list(*fields.values())
    types = {**_RESPONSE_TYPES, "instrument_id": "int64", "answer_values": "string"}
    for responses in _frames(values, list(fields), types, max(chunk_size // 8, 1)):
        responses = _response_frame(responses, dates, made)
        answers = responses["answer_values"].str[1:-1].str.split(",").explode()  # '{1,NULL,3}' -> one row each
        df = responses.drop(columns="answer_values").loc[answers.index].reset_index(drop=True)
        df["value"] = pd.to_numeric(answers.replace("NULL", None).to_numpy(), errors="raise")
        instrument_ids = responses["instrument_id"].tolist()
        for name, by_instrument in items.items():
            df[name] = np.concatenate([by_instrument[pk] for pk in instrument_ids])
        yield df


def response_long_rows(filters: Filters, dates: DateSetting, chunk_size: int = DEFAULT_CHUNK_SIZE) -> Iterator[tuple[pd.DataFrame, list[int]]]:
    """The responses_long dataset in chunks: one query each for the instruments' option ranges and
    items, one for the answers (streamed by COPY), none more per chunk."""
    ranges = _option_ranges()
    spans = {pk: low + high for pk, (low, high) in ranges.items() if low is not None}
    for df in _answers_by_response(filters, dates, chunk_size, made={}):
        df["item_loinc"] = df["item_loinc"].replace("", None)
        value = df["value"].astype("Int64")
        span = df["instrument_id"].map(spans)
        df["scored_value"] = value.where(~df["reverse_keyed"].astype(bool), span.astype("Int64") - value)
        df["value"] = value
        df["risk_flag"] = _risk_flags(value, df["risk_above"])
        yield df, df["person_id"].tolist()


# --- Courses of care ---------------------------------------------------------------------------------
ATTENDED, DNA = Appointment.Status.ENDED, Appointment.Status.DID_NOT_ATTEND


def _course_annotations() -> dict:
    def attended(**more):
        return Count("appointments", filter=Q(appointments__status=ATTENDED, **{f"appointments__{k}": v for k, v in more.items()}))

    annotations = {"attended": attended(), "attended_treatment": Count("appointments", filter=attended_treatment_appointment("appointments__")),
                   "did_not_attend": Count("appointments", filter=Q(appointments__status=DNA))}
    annotations.update({f"attended_{m}": attended(delivered_modality=m) for m in Modality.values})
    return annotations


def _course_modality() -> Case:
    """More than half of the attended appointments in one modality: that modality; otherwise mixed;
    none when no attended appointment has a delivered modality (docs/evaluation.md)."""
    delivered = sum((F(f"attended_{m}") for m in Modality.values[1:]), F(f"attended_{Modality.values[0]}"))
    return Case(
        When(Q(attended=0) | Q(Exact(delivered, 0)), then=Value("none")),
        *(When(GreaterThan(F(f"attended_{m}") * 2, delivered), then=Value(m)) for m in Modality.values),
        default=Value("mixed"), output_field=CharField(),
    )


def course_rows_queryset(filters: Filters) -> QuerySet[CourseOfCare]:
    """Courses of people in evaluation that overlap the date range (started by its end, not ended before its start)."""
    courses = _narrowed_to_evaluation(CourseOfCare.objects.all(), filters)
    if filters.date_to:
        courses = courses.filter(started_on__lte=filters.date_to)
    if filters.date_from:
        courses = courses.filter(Q(ended_on__isnull=True) | Q(ended_on__gte=filters.date_from))
    courses = _in_team_and_site(courses, filters)
    if filters.modality:
        courses = courses.annotate(**_course_annotations()).annotate(course_modality=_course_modality()).filter(
            course_modality=filters.modality)
    return courses.order_by("id")


def _first_and_last_scores(course_ids: list[int]) -> dict[int, dict[str, list[float]]]:
    """Each course's scores on the courses dataset's instruments, in time order (one query)."""
    scores: dict[int, dict[str, list[float]]] = {pk: {code: [] for code in COURSE_INSTRUMENTS} for pk in course_ids}
    for course_id, code, score in current_responses().filter(
            course__in=course_ids, instrument__code__in=COURSE_INSTRUMENTS, status=Response.Status.SCORED,
    ).order_by("completed_at", "id").values_list("course_id", "instrument__code", "score"):
        scores[course_id][code].append(float(score))
    return scores


def _course_attendance_columns(c: dict) -> dict:
    """How the course ended and what it was attended for: what finishing a course of treatment
    (docs/instruments.md) is judged on, so evaluators can check it row by row."""
    return {
        "ended_reason": c["ending_reason"] or None,
        "attended_appointments": c["attended"], "attended_treatment_appointments": c["attended_treatment"],
        "did_not_attend": c["did_not_attend"], **{f"attended_{m}": c[f"attended_{m}"] for m in Modality.values},
    }


def course_rows(filters: Filters, dates: DateSetting, chunk_size: int = DEFAULT_CHUNK_SIZE) -> Iterator[tuple[list[dict], list[int]]]:
    """The courses dataset in chunks: one query for the courses with their appointment counts (a
    server-side cursor), then three per chunk whatever its size (the paired outcomes' two, and the
    first and last scores)."""
    source = course_rows_queryset(filters).annotate(**_course_annotations()).annotate(course_modality=_course_modality()).values(
        "id", "service_user_id", "team__name", "team__site", "team__service", "referral_date", "started_on", "ended_on",
        "ending_reason", "course_modality", *_course_annotations(),
    ).iterator(chunk_size=chunk_size)
    measures = paired_measures()
    for chunk in _chunks(source, chunk_size):
        ids = [c["id"] for c in chunk]
        outcomes = paired_outcomes_of(ids, measures)
        scores = _first_and_last_scores(ids)
        rows = []
        for c in chunk:
            person, outcome = c["service_user_id"], outcomes[c["id"]]
            row = {
                "course": course_ref(c["id"]), "person": pseudonym(person), "team": c["team__name"], "site": c["team__site"],
                "service": c["team__service"], "referral_date": dates.show(c["referral_date"], person),
                "started": dates.show(c["started_on"], person), "ended": dates.show(c["ended_on"], person),
                **_course_attendance_columns(c), "modality": c["course_modality"],
                "finished_treatment": outcome.finished_treatment, "paired_outcome_counts": outcome.counts, "at_caseness_at_start": outcome.at_caseness_at_start,
                "recovered": outcome.recovered, "reliable_improvement": outcome.reliable_improvement,
                "reliable_deterioration": outcome.reliable_deterioration, "reliable_recovery": outcome.reliable_recovery,
            }
            for code, values in scores[c["id"]].items():
                row[f"{code}_scores"] = len(values)
                row[f"{code}_first"] = values[0] if values else None
                row[f"{code}_last"] = values[-1] if len(values) >= 2 else None
            rows.append(row)
        yield rows, [c["service_user_id"] for c in chunk]


# --- FHIR -----------------------------------------------------------------------------------------------
def _forms(instrument_ids) -> dict[int, fhir.Form]:
    return {
        i.pk: fhir.Form(
            code=i.code, version=i.version, title=i.title, is_active=i.is_active, licence=i.licence, loinc_panel=i.loinc_panel,
            loinc_total=i.loinc_total, items=tuple(fhir.Item(t.number, t.text, t.loinc) for t in i.items.all()),
            options={o.value: o.label for o in i.options.all()},
        )
        for i in Instrument.objects.filter(pk__in=instrument_ids).prefetch_related("items", "options").order_by("code")
    }


def fhir_rows(filters: Filters, dates: DateSetting, chunk_size: int = DEFAULT_CHUNK_SIZE) -> Iterator[tuple[list[dict], list[int]]]:
    """The fhir dataset: first a Questionnaire for each instrument answered (three queries), then the
    QuestionnaireResponses in chunks, each chunk costing one query for its answers; then an Encounter
    and an Appointment per appointment (one query per chunk) and a Consent per consent decision (none
    per chunk)."""
    responses = response_rows_queryset(filters)
    forms = _forms(responses.order_by().values("instrument_id"))
    yield [fhir.questionnaire(form) for form in forms.values()], []
    source = responses.annotate(score_number=Cast("score", FloatField())).values_list(
        "id", "service_user_id", "appointment_id", "instrument_id", "completed_at", "score_number").iterator(chunk_size=chunk_size)
    for chunk in _chunks(source, chunk_size):
        answers: dict[int, list] = {r[0]: [] for r in chunk}
        for response_id, number, value in Answer.objects.filter(response_id__in=answers).order_by(
                "response_id", "item__number").values_list("response_id", "item__number", "value"):
            answers[response_id].append((number, value))
        yield [
            fhir.questionnaire_response(
                form=forms[instrument_id], ref=response_ref(pk), person=pseudonym(person_id),
                appointment=appointment_ref(appointment_id) if appointment_id else None,
                authored=dates.show(completed_at, person_id), answers=answers[pk], score=score,
            )
            for pk, person_id, appointment_id, instrument_id, completed_at, score in chunk
        ], [r[1] for r in chunk]
    # Encounters and appointments are about appointments, not questionnaires: an instrument filter
    # leaves them out; consent is not per appointment either, so a modality filter leaves it out too.
    if not filters.instrument:
        yield from _fhir_contacts(filters, dates, chunk_size)
        if not filters.modality:
            yield from _fhir_consents(filters, dates, chunk_size)


def _carer_joined(events: list[tuple[str, dict]]) -> bool:
    return any(kind == AppointmentEvent.Kind.PARTICIPANT_CHANGED and data.get("role") == Participant.Role.CARER
               and data.get("state") == Participant.State.ADMITTED for kind, data in events)


def _contact(a: dict, events: list[tuple[str, dict]], dates: DateSetting) -> fhir.Contact:
    person = a["service_user_id"]
    code = national_codes.attendance_code(a["status"], a["cancelled_by__role"]) if a["status"] == S.CANCELLED else None
    ran = a["started_at"] is not None and a["ended_at"] is not None
    return fhir.Contact(
        ref=appointment_ref(a["id"]), person=pseudonym(person), course=course_ref(a["course_id"]) if a["course_id"] else None,
        status=a["status"], kind=a["kind"], modality=a["counted_modality"], day=dates.show(a["starts_at"], person),
        started=dates.show(a["started_at"], person), ended=dates.show(a["ended_at"], person),
        minutes=round((a["ended_at"] - a["started_at"]).total_seconds() / 60, 1) if ran else None,
        booked_minutes=a["duration_minutes"], practitioner_role=a["practitioner__role"], carer_joined=_carer_joined(events),
        cancelled_by_person=None if code is None else code == national_codes.CANCELLED_BY_PATIENT,
    )


def _fhir_contacts(filters: Filters, dates: DateSetting, chunk_size: int) -> Iterator[tuple[list[dict], list[int]]]:
    """An Encounter and an Appointment per appointment of the sessions dataset: one query per chunk (its events)."""
    for chunk, events in _contact_chunks(filters, chunk_size):
        contacts = [_contact(a, events[a["id"]], dates) for a in chunk]
        yield [*map(fhir.encounter, contacts), *map(fhir.appointment, contacts)], [a["service_user_id"] for a in chunk] * 2


def _fhir_consents(filters: Filters, dates: DateSetting, chunk_size: int) -> Iterator[tuple[list[dict], list[int]]]:
    """A Consent per decision of the consent dataset, each saying whether a later decision replaced it
    (one query in all, through the cursor)."""
    later = ConsentRecord.objects.annotate(carer_key=Coalesce("carer_id", Value(0))).filter(
        service_user_id=OuterRef("service_user_id"), purpose_id=OuterRef("purpose_id"), pk__gt=OuterRef("pk"),
        carer_key=Coalesce(OuterRef("carer_id"), Value(0)),
    )
    source = consent_rows_queryset(filters).annotate(replaced=Exists(later)).values_list(
        "id", "service_user_id", "purpose__code", "decision", "replaced", "recorded_at", "wording__version",
    ).iterator(chunk_size=chunk_size)
    for chunk in _chunks(source, chunk_size):
        yield [
            fhir.consent(ref=consent_ref(pk), person=pseudonym(person), purpose=purpose, decision=decision, in_force=not replaced,
                         recorded=dates.show(recorded_at, person), wording_version=version)
            for pk, person, purpose, decision, replaced, recorded_at, version in chunk
        ], [r[1] for r in chunk]


# --- Connection maps and signposting -----------------------------------------------------------------
def _on_caseload_within(queryset: QuerySet, filters: Filters, person: str = "service_user") -> QuerySet:
    """A person's own records (not per appointment): narrowed to people on the filters' teams' caseloads."""
    if filters.team is not None or filters.site or filters.organisation is not None:
        caseload = _in_team_and_site(CaseloadEntry.objects.all(), filters)
        queryset = queryset.filter(**{f"{person}__in": caseload.values("service_user_id")})
    return queryset


def network_map_rows_queryset(filters: Filters) -> QuerySet[MapSnapshot]:
    snapshots = MapSnapshot.objects.filter(map__service_user__in=people_in_evaluation(filters).values("pk")).filter(_within(filters, "taken_at"))
    return _on_caseload_within(snapshots, filters, "map__service_user").order_by("id")


def network_map_rows(filters: Filters, dates: DateSetting, chunk_size: int = DEFAULT_CHUNK_SIZE) -> Iterator[tuple[list[dict], list[int]]]:
    source = network_map_rows_queryset(filters).values(
        "map__service_user_id", "taken_at", "setting", "measures", "members", "interests", "needs").iterator(chunk_size=chunk_size)
    for chunk in _chunks(source, chunk_size):
        rows = []
        for r in chunk:
            m, person = r["measures"], r["map__service_user_id"]
            rows.append({
                "person": pseudonym(person), "date": dates.show(r["taken_at"], person), "setting": r["setting"], "members": m["size"],
                "circle_1": m["by_circle"]["1"], "circle_2": m["by_circle"]["2"], "circle_3": m["by_circle"]["3"],
                "people": m["by_kind"]["person"], "groups": m["by_kind"]["group"], "activities": m["by_kind"]["activity"],
                "places": m["by_kind"]["place"], "professionals": m["by_kind"]["professional"],
                "illness_support": m["support_counts"]["illness_support"], "everyday_support": m["support_counts"]["everyday_support"],
                "emotional_support": m["support_counts"]["emotional_support"], "support_types_covered": len(m["support_types_covered"]),
                "giving_no_support": m["giving_no_support"], "linked_carers": sum(1 for x in r["members"] if x.get("is_linked_carer")),
                "interests": " ".join(r["interests"]), "needs": " ".join(r["needs"]),
            })
        yield rows, [r["map__service_user_id"] for r in chunk]


def signpost_rows_queryset(filters: Filters) -> QuerySet[Signpost]:
    signposts = Signpost.objects.filter(service_user__in=people_in_evaluation(filters).values("pk"))
    if filters.date_from:
        signposts = signposts.filter(offered_on__gte=filters.date_from)
    if filters.date_to:
        signposts = signposts.filter(offered_on__lte=filters.date_to)
    return _on_caseload_within(signposts, filters).order_by("id")


def signpost_rows(filters: Filters, dates: DateSetting, chunk_size: int = DEFAULT_CHUNK_SIZE) -> Iterator[tuple[list[dict], list[int]]]:
    latest = SignpostFollowUp.objects.filter(signpost=OuterRef("pk")).order_by("-id")
    source = signpost_rows_queryset(filters).annotate(
        outcome=Subquery(latest.values("outcome")[:1]), reason=Subquery(latest.values("reason")[:1]),
        outcome_on=Subquery(latest.values("happened_on")[:1]),
    ).values("service_user_id", "offered_on", "resource__categories", "resource__scope", "resource__delivery", "offered_by__role",
             "from_suggestions", "follow_up_on", "outcome", "reason", "outcome_on").iterator(chunk_size=chunk_size)
    for chunk in _chunks(source, chunk_size):
        rows = [{
            "person": pseudonym(r["service_user_id"]), "date": dates.show(r["offered_on"], r["service_user_id"]),
            "categories": " ".join(r["resource__categories"]), "scope": r["resource__scope"], "delivery": r["resource__delivery"],
            "offered_by": r["offered_by__role"], "from_suggestions": r["from_suggestions"],
            "follow_up_date": dates.show(r["follow_up_on"], r["service_user_id"]), "outcome": r["outcome"] or "none",
            "reason": r["reason"] or "", "outcome_date": dates.show(r["outcome_on"], r["service_user_id"]),
            "days_to_outcome": (r["outcome_on"] - r["offered_on"]).days if r["outcome_on"] else None,
        } for r in chunk]
        yield rows, [r["service_user_id"] for r in chunk]


# --- Messages sent about appointments ---------------------------------------------------------------
def message_rows_queryset(filters: Filters) -> QuerySet[Message]:
    """Messages about appointments of people in evaluation, narrowed like the sessions dataset."""
    appointments = session_rows_queryset(filters)
    return Message.objects.filter(appointment__in=appointments.values("pk")).order_by("id")


def _hours(before: datetime | None, start: datetime) -> float | None:
    return None if before is None else round((start - before).total_seconds() / 3600, 1)


def message_rows(filters: Filters, dates: DateSetting, chunk_size: int = DEFAULT_CHUNK_SIZE) -> Iterator[tuple[list[dict], list[int]]]:
    source = message_rows_queryset(filters).annotate(
        counted_modality=Coalesce(NullIf("appointment__delivered_modality", Value("")), NullIf("appointment__chosen_modality", Value(""))),
    ).values(
        "appointment_id", "appointment__service_user_id", "appointment__starts_at", "appointment__status", "appointment__team__name",
        "appointment__team__site", "kind", "channel", "status", "send_after", "sent_at", "attempts", "counted_modality",
    ).iterator(chunk_size=chunk_size)
    for chunk in _chunks(source, chunk_size):
        rows = [{
            "appointment": appointment_ref(r["appointment_id"]),
            "person": pseudonym(r["appointment__service_user_id"]),
            "date": dates.show(r["appointment__starts_at"], r["appointment__service_user_id"]),
            "team": r["appointment__team__name"], "site": r["appointment__team__site"],
            "kind": r["kind"], "channel": r["channel"], "status": r["status"],
            "hours_before_appointment": _hours(r["send_after"], r["appointment__starts_at"]),
            "sent_hours_before_appointment": _hours(r["sent_at"], r["appointment__starts_at"]),
            "attempts": r["attempts"], "appointment_modality": r["counted_modality"],
            "appointment_status": STATUS_CODES.get(r["appointment__status"], "open"),
        } for r in chunk]
        yield rows, [r["appointment__service_user_id"] for r in chunk]


# --- The relatives' space ---------------------------------------------------------------------------
def relative_rows_queryset(filters: Filters) -> QuerySet[Relative]:
    """Memberships of relatives whose own evaluation consent holds now (relatives.selectors.relatives_in_evaluation),
    within the filters' organisation, that were open at some time within the dates."""
    memberships = relatives_in_evaluation(filters.organisation)
    if filters.date_to and filters.date_to < date.max:
        memberships = memberships.filter(invited_at__lt=_day_start(filters.date_to + timedelta(days=1)))
    if filters.date_from:
        memberships = memberships.filter(Q(ended_at__isnull=True) | Q(ended_at__gte=_day_start(filters.date_from)))
    return memberships.order_by("id")


def _counts(queryset: QuerySet, key: str, **aggregates) -> dict[int, dict]:
    return {row[key]: row for row in queryset.order_by().values(key).annotate(**aggregates)}


def relative_rows(filters: Filters, dates: DateSetting, chunk_size: int = DEFAULT_CHUNK_SIZE) -> Iterator[tuple[list[dict], list[int]]]:
    """The relatives dataset: one row per membership (the cursor), then six grouped queries per chunk for
    its activity within the dates. Counts only: never a word anyone wrote, a page's title or whom a carer
    link is with."""
    source = relative_rows_queryset(filters).values("id", "user_id", "organisation_id", "invited_at", "ended_at", "carer_link_id").iterator(chunk_size=chunk_size)
    for chunk in _chunks(source, chunk_size):
        ids = [r["id"] for r in chunk]
        users = [r["user_id"] for r in chunk]
        opens = _counts(PageOpen.objects.filter(relative_id__in=ids).filter(_within(filters, "opened_at")), "relative_id",
                        pages=Count("id"), modules=Count("module_id", distinct=True), seconds=Coalesce(Sum("seconds"), 0))
        threads = _counts(Thread.objects.filter(relative_id__in=ids).filter(_within(filters, "created_at")), "relative_id", n=Count("id"))
        messages = _counts(ThreadMessage.objects.filter(thread__relative_id__in=ids).filter(_within(filters, "created_at")), "thread__relative_id",
                           written=Count("id", filter=Q(by_supporter=False)), replies=Count("id", filter=Q(by_supporter=True)))
        posts = _counts(ForumPost.objects.filter(author_id__in=ids).filter(_within(filters, "created_at")), "author_id",
                        posts=Count("id", filter=Q(parent__isnull=True)), replies=Count("id", filter=Q(parent__isnull=False)),
                        held=Count("id", filter=~Q(held_reason="")), removed=Count("id", filter=Q(state=ForumPost.State.REMOVED)))
        flags = {**_counts(SafetyFlag.objects.filter(post__author_id__in=ids).filter(_within(filters, "created_at")), "post__author_id", n=Count("id"))}
        for relative_id, row in _counts(SafetyFlag.objects.filter(message__thread__relative_id__in=ids, message__by_supporter=False).filter(
                _within(filters, "created_at")), "message__thread__relative_id", n=Count("id")).items():
            flags[relative_id] = {"n": flags.get(relative_id, {"n": 0})["n"] + row["n"]}
        supporting = set(Supporter.objects.filter(user_id__in=users, kind=Supporter.Kind.TRAINED_RELATIVE).values_list("user_id", "organisation_id"))
        reports = list(ForumReport.objects.filter(reported_by_id__in=users).filter(_within(filters, "created_at")).values_list(
            "reported_by_id", "post__organisation_id", "created_at"))
        rows = []
        for r in chunk:
            pk, user = r["id"], r["user_id"]
            o, m, p = opens.get(pk, {}), messages.get(pk, {}), posts.get(pk, {})
            rows.append({
                "relative": relative_ref(user), "joined": dates.show(r["invited_at"], user), "left": dates.show(r["ended_at"], user),
                "linked_to_care": r["carer_link_id"] is not None, "trained_supporter": (user, r["organisation_id"]) in supporting,
                "modules_opened": o.get("modules", 0), "pages_opened": o.get("pages", 0), "reading_minutes": round(o.get("seconds", 0) / 60, 1),
                "conversations": threads.get(pk, {}).get("n", 0), "messages_written": m.get("written", 0), "supporter_replies": m.get("replies", 0),
                "forum_posts": p.get("posts", 0), "forum_replies": p.get("replies", 0), "posts_held": p.get("held", 0),
                "posts_removed": p.get("removed", 0), "reports_made": sum(1 for by, organisation, at in reports if by == user and organisation == r["organisation_id"]
                                    and at >= r["invited_at"] and (r["ended_at"] is None or at <= r["ended_at"])),
                "safety_flags": flags.get(pk, {}).get("n", 0),
            })
        yield rows, users


# One entry per dataset in the dictionary: its chunked row builder, yielding (rows, person ids).
ROWS = {
    SESSIONS.code: session_rows,
    CARE_CONTACTS.code: care_contact_rows,
    CONSENT.code: consent_rows,
    RESPONSES_LONG.code: response_long_rows,
    RESPONSES.code: response_rows,
    COURSES.code: course_rows,
    FHIR.code: fhir_rows,
    NETWORK_MAPS.code: network_map_rows,
    SIGNPOSTS.code: signpost_rows,
    MESSAGES.code: message_rows,
    GROUPS.code: group_rows,
    RELATIVES.code: relative_rows,
}


def _college_rows():
    """The Recovery College datasets' row builders (backend/evaluation/college.py), imported late: that module
    reads this one's helpers."""
    from backend.evaluation import college
    from backend.evaluation.dictionary import COMPLETIONS, COURSE_ATTENDANCE, COURSE_RUNS, ENROLMENTS

    return {COURSE_RUNS.code: college.course_run_rows, ENROLMENTS.code: college.enrolment_rows,
            COURSE_ATTENDANCE.code: college.attendance_rows, COMPLETIONS.code: college.completion_rows}


ROWS.update(_college_rows())

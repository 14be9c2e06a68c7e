"""What evaluators may see: pseudonymised rows of people whose evaluation consent holds now.

Evaluators see no identifiable record anywhere else (docs/architecture.md); here every row is narrowed
to people consenting to evaluation at the moment of the query, identified by pseudonym only, with
only the columns in the data dictionary. Rows come in chunks from a server-side cursor, with one
query per chunk for each related table, so memory stays bounded whatever the size of the service.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import islice

from django.db.models import Q, QuerySet, Value
from django.db.models.functions import Coalesce, NullIf
from django.utils import timezone

from backend.accounts.models import CaseloadEntry, Team, User
from backend.consent.models import ConsentRecord, PurposeCode
from backend.consent.selectors import service_users_consenting_to
from backend.core.errors import InvalidInput
from backend.evaluation.dictionary import CONSENT, SESSIONS, Dataset
from backend.evaluation.pseudonyms import DateSetting, appointment_ref, pseudonym
from backend.sessions.models import Appointment, AppointmentEvent
from backend.sessions.selectors import connection_summaries

DEFAULT_CHUNK_SIZE = 2000
S = Appointment.Status
STATUS_CODES = {S.ENDED: "attended", S.DID_NOT_ATTEND: "did_not_attend", S.CANCELLED: "cancelled"}  # others: open


@dataclass(frozen=True)
class Filters:
    """What an export or the report is narrowed to. `team` is a team id; `site` matches a team's site."""

    date_from: date | None = None
    date_to: date | None = None
    team: int | None = None
    site: str | None = None
    modality: str | None = None

    def given(self) -> dict:
        """The filters that are set, JSON-ready (for the audit trail and the export's README)."""
        return {name: (value.isoformat() if isinstance(value, date) else value)
                for name, value in self.__dict__.items() if value not in (None, "")}

    def check_for(self, dataset: Dataset) -> None:
        """Refuse a filter the dataset cannot honour, a backwards range or an unknown team, naming it."""
        for name in self.given():
            if name not in dataset.filters:
                raise InvalidInput(f"The {dataset.code} dataset cannot be filtered by {name}.", field=f"filters.{name}", code="not_applicable")
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise InvalidInput("date_from is after date_to: put the earlier date first.", field="filters.date_to", code="date_range_backwards")
        if self.team is not None and not Team.objects.filter(pk=self.team).exists():
            raise InvalidInput(f"There is no team {self.team}.", field="filters.team", code="does_not_exist")


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _within(filters: Filters, field: str) -> Q:
    """`field` (a date-time) within the filters' dates, both ends included, in local days."""
    q = Q()
    if filters.date_from:
        q &= Q(**{f"{field}__gte": _day_start(filters.date_from)})
    if filters.date_to:
        q &= Q(**{f"{field}__lt": _day_start(filters.date_to + timedelta(days=1))})
    return q


def team_choices() -> list[tuple[int, str]]:
    """Teams to filter by: every team (teams are not identifiable)."""
    return list(Team.objects.order_by("name").values_list("pk", "name"))


def people_in_evaluation() -> QuerySet[User]:
    """Service users whose consent to evaluation holds now. Asked afresh by every export and report,
    so a withdrawal leaves the person out of everything made after it."""
    return service_users_consenting_to(PurposeCode.EVALUATION)


# --- Sessions --------------------------------------------------------------------------------------
def session_rows_queryset(filters: Filters) -> QuerySet[Appointment]:
    appointments = Appointment.objects.filter(service_user__in=people_in_evaluation().values("pk")).annotate(
        counted_modality=Coalesce(NullIf("delivered_modality", Value("")), NullIf("chosen_modality", Value("")))
    ).filter(_within(filters, "starts_at"))
    if filters.team is not None:
        appointments = appointments.filter(team_id=filters.team)
    if filters.site:
        appointments = appointments.filter(team__site__iexact=filters.site)
    if filters.modality:
        appointments = appointments.filter(counted_modality=filters.modality)
    return appointments.order_by("id")


_SESSION_FIELDS = (
    "id", "service_user_id", "starts_at", "created_at", "team__name", "team__site", "team__service", "kind",
    "practitioner__role", "modalities_offered", "chosen_modality", "delivered_modality", "counted_modality",
    "delivery_reason", "status", "cancelled_by__role", "duration_minutes", "started_at", "ended_at",
    "earliest_face_to_face_slot", "earliest_remote_slot",
)


def _days_between(start: datetime | None, end: datetime | None) -> int | None:
    if start is None or end is None:
        return None
    return (timezone.localdate(end) - timezone.localdate(start)).days


def _session_row(a: dict, events: list[tuple[str, dict]], quality: dict, dates: DateSetting) -> dict:
    switches = [data for kind, data in events if kind == AppointmentEvent.Kind.MODALITY_SWITCHED]
    offered = a["modalities_offered"] or []
    ran = a["started_at"] is not None and a["ended_at"] is not None
    return {
        "appointment": appointment_ref(a["id"]),
        "person": pseudonym(a["service_user_id"]),
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
    }


def _chunks(rows: Iterable, size: int) -> Iterator[list]:
    iterator = iter(rows)
    while chunk := list(islice(iterator, size)):
        yield chunk


def session_rows(filters: Filters, dates: DateSetting, chunk_size: int = DEFAULT_CHUNK_SIZE) -> Iterator[tuple[list[dict], list[int]]]:
    """The sessions dataset in chunks: (rows, the person id of each row). Three queries per chunk."""
    source = session_rows_queryset(filters).values(*_SESSION_FIELDS).iterator(chunk_size=chunk_size)
    for chunk in _chunks(source, chunk_size):
        ids = [a["id"] for a in chunk]
        events: dict[int, list[tuple[str, dict]]] = {pk: [] for pk in ids}
        kinds = [AppointmentEvent.Kind.MODALITY_SWITCHED, AppointmentEvent.Kind.DELIVERY_RECORDED]
        for appointment_id, kind, data in AppointmentEvent.objects.filter(appointment_id__in=ids, kind__in=kinds).order_by(
                "id").values_list("appointment_id", "kind", "data"):
            events[appointment_id].append((kind, data))
        quality = connection_summaries(ids)
        yield [_session_row(a, events[a["id"]], quality[a["id"]], dates) for a in chunk], [a["service_user_id"] for a in chunk]


# --- Consent states over time -----------------------------------------------------------------------
def consent_rows_queryset(filters: Filters) -> QuerySet[ConsentRecord]:
    records = ConsentRecord.objects.filter(service_user__in=people_in_evaluation().values("pk")).filter(_within(filters, "recorded_at"))
    if filters.team is not None or filters.site:
        # Whose care the team holds: the team's caseload (a person's consent is not per appointment).
        caseload = CaseloadEntry.objects.all()
        if filters.team is not None:
            caseload = caseload.filter(team_id=filters.team)
        if filters.site:
            caseload = caseload.filter(team__site__iexact=filters.site)
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


# One entry per dataset in the dictionary: (queryset of its rows, chunked row builder).
SOURCES = {
    SESSIONS.code: (session_rows_queryset, session_rows),
    CONSENT.code: (consent_rows_queryset, consent_rows),
}


def people_count(dataset: Dataset, filters: Filters) -> int:
    """How many people an export of `dataset` with `filters` would hold, before writing anything."""
    queryset = SOURCES[dataset.code][0](filters)
    return queryset.order_by().values("service_user_id").distinct().count()

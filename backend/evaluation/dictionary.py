"""The data dictionary: every column of every dataset, in one place.

Exports write their columns in this order with these types; the dictionary shipped inside each
export and `docs/data-dictionary.md` are both made from it (`python manage.py export_evaluation
--dictionary`; tests/evaluation/test_dictionary.py fails when the document drifts). A column that is
not here cannot be exported.

Nothing here names a person: no names, emails, phone numbers, free-text notes (delivery notes,
cancellation reasons, safety check notes and locations, consent notes) or locations. Team and site
are exported because they describe the service, not the person.
"""

from __future__ import annotations

from dataclasses import dataclass

from backend.accounts.models import Role
from backend.consent.models import ConsentRecord, Modality
from backend.sessions.models import Appointment


def _codes(*values: str) -> str:
    return ", ".join(f"`{v}`" for v in values)


# Types, as written in the dictionary. Each has one pandas dtype and one Parquet type (exports.py).
STRING, INTEGER, NUMBER, BOOLEAN, DATE = "string", "integer", "number", "boolean", "date"
TYPE_MEANINGS = {
    STRING: "text",
    INTEGER: "whole number; empty when not known",
    NUMBER: "decimal number; empty when not known",
    BOOLEAN: "true or false",
    DATE: "a date, YYYY-MM-DD (exact or shifted), or a month, YYYY-MM, when the export coarsens dates",
}


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    meaning: str
    allowed: str
    source: str


@dataclass(frozen=True)
class Dataset:
    code: str
    title: str
    unit: str  # what one row is
    columns: tuple[Column, ...]
    filters: frozenset[str]  # the filters that apply to it

    @property
    def names(self) -> list[str]:
        return [column.name for column in self.columns]


PERSON = Column(
    "person", STRING, "The service user's pseudonym: the same in every export and dataset, never their identity.",
    "P followed by 16 hexadecimal digits", "HMAC-SHA256 of the account id under the deployment's pseudonym key",
)
TEAM = Column("team", STRING, "The team the appointment was with.", "team names", "accounts.Team.name")
SITE = Column("site", STRING, "Where the team is based.", "site names", "accounts.Team.site")
SERVICE = Column("service", STRING, "The kind of service the team provides.", "service names", "accounts.Team.service")
MODALITIES = _codes(*Modality.values)
STATUSES = ("attended", "did_not_attend", "cancelled", "open")

SESSIONS = Dataset(
    code="sessions",
    title="Sessions",
    unit="one row per appointment",
    filters=frozenset({"date_from", "date_to", "team", "site", "modality"}),
    columns=(
        Column("appointment", STRING, "The appointment's reference, stable across exports (outcome datasets point at it).",
               "A followed by 16 hexadecimal digits", "HMAC-SHA256 of the appointment id under the pseudonym key"),
        PERSON,
        Column("date", DATE, "The day of the appointment, per the export's date setting.", "see type",
               "telesessions.Appointment.starts_at"),
        TEAM, SITE, SERVICE,
        Column("kind", STRING, "What the appointment was for.", _codes(*Appointment.Kind.values), "telesessions.Appointment.kind"),
        Column("practitioner_role", STRING, "The role of the practitioner the appointment was with.",
               _codes(Role.CLINICIAN, Role.PEER_WORKER), "accounts.User.role of the practitioner"),
        Column("offered_video", BOOLEAN, "Video was offered at booking.", "true, false", "telesessions.Appointment.modalities_offered"),
        Column("offered_phone", BOOLEAN, "Phone was offered at booking.", "true, false", "telesessions.Appointment.modalities_offered"),
        Column("offered_face_to_face", BOOLEAN, "Face to face was offered at booking (always, by design).", "true, false",
               "telesessions.Appointment.modalities_offered"),
        Column("chosen_modality", STRING, "How the service user chose to be seen; empty if they made no choice before the cut-off.",
               MODALITIES, "telesessions.Appointment.chosen_modality"),
        Column("delivered_modality", STRING, "How the session was delivered; empty if it did not happen.", MODALITIES,
               "telesessions.Appointment.delivered_modality"),
        Column("modality", STRING,
               "The modality the appointment counts under in the report: delivered if it happened, otherwise chosen; "
               "empty if neither.", MODALITIES, "delivered_modality, else chosen_modality"),
        Column("delivery_reason", STRING, "Why the delivered modality differs from the chosen one (coded; the free-text note is never exported).",
               _codes(*Appointment.DeliveryReason.values), "telesessions.Appointment.delivery_reason"),
        Column("switch_count", INTEGER, "How many times the session switched modality while it ran.", "0 or more",
               "telesessions.AppointmentEvent (modality_switched)"),
        Column("switched_to", STRING, "Each switch's destination in order, separated by semicolons.",
               _codes("phone", "audio_only", "video") + ", joined by ;", "telesessions.AppointmentEvent (modality_switched) data.to"),
        Column("switch_reasons", STRING, "Each switch's coded reason in order, separated by semicolons.",
               _codes(*Appointment.DeliveryReason.values) + ", joined by ;", "telesessions.AppointmentEvent (modality_switched) data.reason"),
        Column("delivery_recorded_after", BOOLEAN, "The practitioner recorded how the session was delivered after it happened.",
               "true, false", "telesessions.AppointmentEvent (delivery_recorded)"),
        Column("status", STRING,
               "What became of the appointment: attended (the session ran and ended), did_not_attend, cancelled, or open "
               "(not yet concluded).", _codes(*STATUSES), "telesessions.Appointment.status"),
        Column("cancelled_by_role", STRING, "For cancelled appointments, the role of who cancelled.",
               _codes(*Role.values), "accounts.User.role of telesessions.Appointment.cancelled_by"),
        Column("booked_minutes", INTEGER, "The length the appointment was booked for, in minutes.", "1 or more",
               "telesessions.Appointment.duration_minutes"),
        Column("duration_minutes", NUMBER, "How long the session ran, from start to end, in minutes (one decimal).",
               "0 or more; empty if it did not run", "telesessions.Appointment.started_at, ended_at"),
        Column("days_to_earliest_face_to_face", INTEGER, "Days from booking to the earliest face-to-face slot offered.",
               "0 or more; empty if not recorded", "telesessions.Appointment.created_at, earliest_face_to_face_slot"),
        Column("days_to_earliest_remote", INTEGER, "Days from booking to the earliest remote slot offered.",
               "0 or more; empty if not recorded", "telesessions.Appointment.created_at, earliest_remote_slot"),
        Column("connection_samples", INTEGER, "How many connection statistics samples the call's browsers sent.", "0 or more",
               "telesessions.ConnectionSample"),
        Column("median_round_trip_ms", NUMBER, "Median round-trip time over the call, in milliseconds.", "0 or more; empty without samples",
               "telesessions.ConnectionSample.round_trip_ms"),
        Column("median_packet_loss_pct", NUMBER, "Median inbound packet loss over the call, in percent.", "0 to 100; empty without samples",
               "telesessions.ConnectionSample.packet_loss_pct"),
        Column("median_jitter_ms", NUMBER, "Median jitter over the call, in milliseconds.", "0 or more; empty without samples",
               "telesessions.ConnectionSample.jitter_ms"),
        Column("median_inbound_kbps", NUMBER, "Median inbound bitrate over the call, in kilobits per second.", "0 or more; empty without samples",
               "telesessions.ConnectionSample.inbound_kbps"),
        Column("median_seconds_to_connect", NUMBER, "Median time for a peer connection to first connect, in seconds.",
               "0 or more; empty if none connected", "telesessions.IceStateChange"),
        Column("reconnects", INTEGER, "How many times a connection came back after dropping.", "0 or more", "telesessions.IceStateChange"),
    ),
)

CONSENT = Dataset(
    code="consent",
    title="Consent states over time",
    unit="one row per consent decision",
    filters=frozenset({"date_from", "date_to", "team", "site"}),
    columns=(
        PERSON,
        Column("date", DATE, "The day the decision was recorded, per the export's date setting.", "see type",
               "consent.ConsentRecord.recorded_at"),
        Column("purpose", STRING, "What the decision was about (the purpose's stable code).",
               "the consent purpose codes, e.g. `remote_care`, `video`, `carer_involvement`, `evaluation`", "consent.ConsentPurpose.code"),
        Column("decision", STRING, "The decision.", _codes(*ConsentRecord.Decision.values), "consent.ConsentRecord.decision"),
        Column("wording_version", INTEGER, "The version of the wording the decision was made against.", "1 or more",
               "consent.ConsentWording.version"),
        Column("method", STRING, "How it was recorded.", _codes(*ConsentRecord.Method.values), "consent.ConsentRecord.method"),
        Column("concerns_a_carer", BOOLEAN, "The decision is about involving a named carer (who is never exported).", "true, false",
               "consent.ConsentRecord.carer"),
        Column("shares_outcomes", BOOLEAN, "For carer decisions given: questionnaire scores are shared with the carer too.", "true, false",
               "consent.ConsentRecord.share_outcomes"),
    ),
)

# The outcome datasets (responses long and wide, courses of care) join here with the outcomes work.
DATASETS: dict[str, Dataset] = {dataset.code: dataset for dataset in (SESSIONS, CONSENT)}


def as_rows(dataset: Dataset) -> list[dict[str, str]]:
    """The dictionary of one dataset as rows (name, type, meaning, allowed values, source)."""
    return [{"name": c.name, "type": c.type, "meaning": c.meaning, "allowed_values": c.allowed, "source": c.source}
            for c in dataset.columns]


def section(dataset: Dataset) -> list[str]:
    """One dataset's part of the dictionary, as Markdown lines."""
    return [
        f"## {dataset.title} (`{dataset.code}`)", "",
        f"One file, {dataset.unit}. Filters: " + ", ".join(f"`{f}`" for f in sorted(dataset.filters)) + ".",
        "", "| Column | Type | Meaning | Allowed values | Source |", "|---|---|---|---|---|",
        *(f"| `{c.name}` | {c.type} | {c.meaning} | {c.allowed} | {c.source} |" for c in dataset.columns),
    ]


def markdown(datasets: list[Dataset] | None = None) -> str:
    """docs/data-dictionary.md, and the dictionary inside each export (for one dataset)."""
    datasets = datasets if datasets is not None else list(DATASETS.values())
    lines = [
        "# Data dictionary",
        "",
        "<!-- Generated from backend/evaluation/dictionary.py by `python manage.py export_evaluation --dictionary`."
        " Do not edit by hand: tests/evaluation/test_dictionary.py fails when the two differ. -->",
        "",
        "Every column of every evaluation dataset. Every export ships this dictionary beside its data. "
        "Methods and safeguards: [evaluation.md](evaluation.md).",
        "",
        "Types: " + "; ".join(f"`{name}`: {meaning}" for name, meaning in TYPE_MEANINGS.items()) + ".",
    ]
    for dataset in datasets:
        lines += ["", *section(dataset)]
    return "\n".join(lines) + "\n"

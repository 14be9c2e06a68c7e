"""Importing historic outcome records from a CSV (columns in docs/import.md).

Two passes: every row is parsed and checked (against the file and against what is already stored)
and every problem reported with its line number; only if there is none is anything written, all in
one transaction. Rows already imported with the same details are left alone, so importing the same
file twice changes nothing; a row that contradicts what was imported before is an error, never an
overwrite.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from datetime import date, datetime, time

from django.db import transaction
from django.utils import timezone

from backend.accounts import services as account_services
from backend.accounts.models import ServiceUserReference, Team
from backend.audit.actor import Actor
from backend.audit.models import AuditEvent
from backend.audit.services import audit_record, audit_summarised
from backend.consent.models import Modality
from backend.core.errors import DomainError, InvalidInput
from backend.core.limits import EARLIEST_DATE, LATEST_DATE, is_ascii_integer, is_supported_date
from backend.outcomes import import_consent, selectors, services
from backend.outcomes.import_consent import CONSENT_COLUMNS, HistoricConsent, parse_consent
from backend.outcomes.models import Instrument, Response
from backend.outcomes.scoring import Scale, check_answers, score_answers
from backend.sessions import services as session_services
from backend.sessions.models import Appointment, CourseOfCare

REQUIRED_COLUMNS = ["service_user_ref", "course_ref", "appointment_ref", "date", "type", "modality", "attended"]
OPTIONAL_COLUMNS = ["referral_date", "end_date", "ending_reason", *CONSENT_COLUMNS]
TYPES = {kind.value: kind for kind in Appointment.Kind}  # assessment, treatment, assessment_and_treatment, review
MODALITIES = {"video": Modality.VIDEO, "phone": Modality.PHONE, "face_to_face": Modality.FACE_TO_FACE}
YES, NO = {"yes", "y", "true", "1"}, {"no", "n", "false", "0"}
MAX_ERRORS = 500


@dataclass
class Row:
    line: int
    service_user_ref: str
    course_ref: str
    referral_date: date | None
    end_date: date | None
    ending_reason: str
    appointment_ref: str
    when: datetime
    kind: str
    modality: str
    attended: bool
    answers: dict[str, dict[int, int | None]]  # instrument code -> item -> value
    consent: HistoricConsent | None = None  # the optional consent columns (import_consent.py)


@dataclass
class ImportResult:
    dry_run: bool
    rows: int = 0
    service_users_created: int = 0
    courses_created: int = 0
    appointments_created: int = 0
    responses_created: int = 0
    consents_recorded: int = 0
    unchanged: int = 0


class ImportErrors(InvalidInput):
    """Every bad row, each with its line number and reason; nothing was imported."""

    def __init__(self, rows: list[dict]):
        super().__init__(
            f"{len(rows)} problem{'s' if len(rows) != 1 else ''} found; nothing was imported. "
            "Fix the rows listed and import the file again.",
            field="file", code="invalid_rows",
        )
        self.rows = rows

    def errors(self) -> list[dict]:
        """One entry per problem: field `rows.<line>.<column>`, the message starting 'Line <n>'."""
        return [
            {"field": f"rows.{row['line']}.{row['field']}", "code": "invalid_row", "message": f"Line {row['line']}: {row['reason']}"}
            for row in self.rows[:MAX_ERRORS]
        ]


def decode(data: bytes) -> str:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InvalidInput("The file is not UTF-8 text. Save it as 'CSV UTF-8' and try again.", field="file", code="encoding") from error
    if "\x00" in text:  # PostgreSQL text cannot hold a NUL byte: refuse the file, naming the line
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise InvalidInput(f"Line {line} has a NUL byte: this is not a text CSV file.", field="file", code="null_character")
    return text


def _date(value: str, name: str) -> date | None:
    if not value:
        return None
    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{name} '{value[:40]}' is not a date in the form YYYY-MM-DD.") from None
    if not is_supported_date(parsed):
        raise ValueError(f"{name} '{value}' is not between {EARLIEST_DATE} and {LATEST_DATE}.")
    return parsed


def _when(value: str) -> datetime:
    """A date (taken as noon, so no time zone moves it to another day) or an ISO date and time."""
    if not value:
        raise ValueError("date is empty.")
    try:
        parsed = datetime.fromisoformat(value) if "T" in value or " " in value else datetime.combine(date.fromisoformat(value), time(12))
    except ValueError:
        raise ValueError(f"date '{value[:40]}' is not a date (YYYY-MM-DD) or date and time (YYYY-MM-DDTHH:MM).") from None
    if not is_supported_date(parsed):
        raise ValueError(f"date '{value}' is not between {EARLIEST_DATE} and {LATEST_DATE}.")
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed)


def _item_columns(header: list[str], instruments: dict[str, Instrument]) -> dict[str, tuple[str, int]]:
    """column -> (instrument code, item number) for columns named <code>_<item>, e.g. phq9_9."""
    columns, unknown = {}, []
    for name in header:
        if name in REQUIRED_COLUMNS or name in OPTIONAL_COLUMNS:
            continue
        code, _, number = name.rpartition("_")
        instrument = instruments.get(code)
        if instrument is None or not is_ascii_integer(number) or int(number) not in {i.number for i in instrument.items.all()}:
            unknown.append(name)
        else:
            columns[name] = (code, int(number))
    if unknown:
        raise InvalidInput(
            f"Unknown column{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}. Item columns are named "
            "<questionnaire code>_<item number>, e.g. phq9_1 (see docs/import.md).", field="file", code="unknown_columns",
        )
    return columns


def parse(text: str, instruments: dict[str, Instrument]) -> tuple[list[Row], list[dict]]:
    reader = csv.DictReader(io.StringIO(text))
    header = [name.strip() for name in (reader.fieldnames or [])]
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if missing:
        raise InvalidInput(f"Missing column{'s' if len(missing) > 1 else ''}: {', '.join(missing)} (see docs/import.md).",
                           field="file", code="missing_columns")
    reader.fieldnames = header
    item_columns = _item_columns(header, instruments)
    scales = {code: Scale.of(instrument) for code, instrument in instruments.items()}
    rows, errors = [], []
    for raw in reader:
        line = reader.line_num
        value = {k: (v or "").strip() for k, v in raw.items() if k is not None}
        try:
            rows.append(_row(line, value, item_columns, scales))
        except (ValueError, DomainError) as error:
            errors.append({"line": line, "field": getattr(error, "field", "") or "", "reason": getattr(error, "detail", None) or str(error)})
    return rows, errors


def _row(line: int, value: dict, item_columns: dict, scales: dict[str, Scale]) -> Row:
    for name in ("service_user_ref", "course_ref", "appointment_ref"):
        if not value[name]:
            raise InvalidInput(f"{name} is empty.", field=name)
        if len(value[name]) > 64:
            raise InvalidInput(f"{name} is longer than 64 characters.", field=name)
    kind = TYPES.get(value["type"].lower().replace(" ", "_").replace("-", "_"))
    if kind is None:
        raise InvalidInput(f"type '{value['type']}' is not one of {', '.join(TYPES)}.", field="type")
    modality = MODALITIES.get(value["modality"].lower().replace(" ", "_").replace("-", "_"))
    if modality is None:
        raise InvalidInput(f"modality '{value['modality']}' is not video, phone or face_to_face.", field="modality")
    attended_text = value["attended"].lower()
    if attended_text not in YES | NO:
        raise InvalidInput(f"attended '{value['attended']}' is not yes or no.", field="attended")
    ending_reason = value.get("ending_reason", "").lower()
    if ending_reason and ending_reason not in CourseOfCare.EndingReason.values:
        raise InvalidInput(f"ending_reason '{ending_reason}' is not one of {', '.join(CourseOfCare.EndingReason.values)}.",
                           field="ending_reason")
    answers: dict[str, dict[int, int | None]] = {}
    for column, (code, number) in item_columns.items():
        cell = value.get(column, "")
        if cell == "":
            answers.setdefault(code, {})[number] = None
            continue
        if not is_ascii_integer(cell):
            raise InvalidInput(f"{column} '{cell[:20]}' is not a whole number.", field=column)
        answers.setdefault(code, {})[number] = int(cell)
    given = {code: items for code, items in answers.items() if any(v is not None for v in items.values())}
    for code, items in given.items():
        try:
            check_answers(scales[code], items)
        except InvalidInput as error:
            raise InvalidInput(f"{code}: {error.detail}", field=f"{code}_{error.field.split('.')[-1]}") from None
    attended = attended_text in YES
    if given and not attended:
        raise InvalidInput("The appointment was not attended but has questionnaire answers.", field="attended")
    when = _when(value["date"])
    if when > timezone.now():
        raise InvalidInput("The appointment date is in the future: only past records can be imported.", field="date")
    end_date = _date(value.get("end_date", ""), "end_date")
    return Row(
        line=line, service_user_ref=value["service_user_ref"], course_ref=value["course_ref"],
        referral_date=_date(value.get("referral_date", ""), "referral_date"), end_date=end_date,
        ending_reason=ending_reason or (CourseOfCare.EndingReason.OTHER if end_date else ""),
        appointment_ref=value["appointment_ref"], when=when, kind=kind, modality=modality, attended=attended, answers=given,
        consent=parse_consent(value),
    )


def _course_starts(rows: list[Row]) -> dict[str, date]:
    """Each course's first appointment date: when an imported course started."""
    starts: dict[str, date] = {}
    for row in rows:
        starts[row.course_ref] = min(starts.get(row.course_ref, row.when.date()), row.when.date())
    return starts


def _already_imported(team: Team, rows: list[Row]) -> set[str]:
    """The rows' appointment references the team already holds."""
    return set(Appointment.objects.filter(team=team, reference__in=[r.appointment_ref for r in rows]).values_list("reference", flat=True))


def _cross_check(rows: list[Row], team: Team) -> list[dict]:
    """Problems between rows, and between rows and what is already stored for the team."""
    errors = []
    courses: dict[str, Row] = {}
    appointments: dict[str, int] = {}
    for row in rows:
        first = courses.setdefault(row.course_ref, row)
        if (first.service_user_ref, first.referral_date, first.end_date) != (row.service_user_ref, row.referral_date, row.end_date):
            errors.append({"line": row.line, "field": "course_ref",
                           "reason": f"Course {row.course_ref} has a different person or dates on line {first.line}."})
        if row.appointment_ref in appointments:
            errors.append({"line": row.line, "field": "appointment_ref",
                           "reason": f"Appointment {row.appointment_ref} is already on line {appointments[row.appointment_ref]}."})
        appointments.setdefault(row.appointment_ref, row.line)
    starts = _course_starts(rows)
    for ref, row in courses.items():
        start = row.referral_date or starts[ref]
        if row.end_date and row.end_date < start:
            errors.append({"line": row.line, "field": "end_date", "reason": "The course ends before it starts."})
    for row in rows:
        if row.end_date and row.when.date() > row.end_date:
            errors.append({"line": row.line, "field": "date", "reason": f"The appointment is after the course ended ({row.end_date})."})
        if row.referral_date and row.when.date() < row.referral_date:
            errors.append({"line": row.line, "field": "date", "reason": f"The appointment is before the referral ({row.referral_date})."})
    errors += _check_against_stored(rows, courses, team)
    errors += import_consent.plan(rows, team).errors
    return errors


def _check_against_stored(rows: list[Row], courses: dict[str, Row], team: Team) -> list[dict]:
    errors = []
    people = dict(ServiceUserReference.objects.filter(organisation=team.organisation_id).values_list("reference", "service_user_id"))
    stored_courses = {c.reference: c for c in CourseOfCare.objects.filter(team=team, reference__in=list(courses))}
    with_open_course = set(CourseOfCare.objects.filter(team=team, ended_on__isnull=True).values_list("service_user_id", flat=True))
    for ref, row in courses.items():
        course = stored_courses.get(ref)
        if course is None:
            person_id = people.get(row.service_user_ref)
            if row.end_date is None and person_id in with_open_course:
                errors.append({"line": row.line, "field": "course_ref",
                               "reason": f"{row.service_user_ref} already has an open course with this team; give this course an end_date."})
            continue
        if course.service_user_id != people.get(row.service_user_ref) or course.ended_on != row.end_date or course.referral_date != row.referral_date:
            errors.append({"line": row.line, "field": "course_ref",
                           "reason": f"Course {ref} was imported before with a different person or dates; it is not changed by an import."})
    stored_appointments = {
        a.reference: a for a in Appointment.objects.filter(team=team, reference__in=[r.appointment_ref for r in rows]).select_related("course")
    }
    stored_answers = _stored_answers(stored_appointments.values())
    for row in rows:
        appointment = stored_appointments.get(row.appointment_ref)
        if appointment is None:
            continue
        same = (
            appointment.course is not None and appointment.course.reference == row.course_ref
            and appointment.starts_at == row.when and appointment.kind == row.kind and appointment.chosen_modality == row.modality
            and (appointment.status == Appointment.Status.ENDED) == row.attended
            and stored_answers.get(appointment.pk, {}) == row.answers
        )
        if not same:
            errors.append({"line": row.line, "field": "appointment_ref",
                           "reason": f"Appointment {row.appointment_ref} was imported before with different details or answers; "
                                     "an import never changes what is recorded."})
    return errors


def _stored_answers(appointments) -> dict[int, dict[str, dict[int, int | None]]]:
    stored: dict[int, dict[str, dict[int, int | None]]] = {}
    responses = selectors.current_responses().filter(appointment__in=list(appointments)).prefetch_related("answers__item", "instrument")
    for response in responses:
        stored.setdefault(response.appointment_id, {})[response.instrument.code] = {a.item.number: a.value for a in response.answers.all()}
    return stored


def import_csv(*, actor: Actor, team: Team, text: str, dry_run: bool = False) -> ImportResult:
    instruments = {i.code: i for i in selectors.instruments_with_parts()}
    with transaction.atomic():
        Team.objects.select_for_update().get(pk=team.pk)  # one import per team at a time
        rows, errors = parse(text, instruments)
        if not rows and not errors:
            raise InvalidInput("The file has a header but no rows.", field="file", code="empty")
        errors += _cross_check(rows, team)
        if errors:
            raise ImportErrors(sorted(errors, key=lambda e: e["line"]))
        result = ImportResult(dry_run=dry_run, rows=len(rows))
        if not dry_run:
            # One summary event for the whole import, naming every row's references and every record
            # made, instead of the several events per row the services called would record.
            with audit_summarised() as gathered:
                _write(actor, team, rows, instruments, result)
            audit_record(actor=actor, action=AuditEvent.Action.CREATE, object_type="outcomes.import", object_id=team.pk, detail={
                "rows": result.rows, "sha256": hashlib.sha256(text.encode()).hexdigest(), "unchanged": result.unchanged,
                "responses_created": result.responses_created, "consents_recorded": result.consents_recorded,
                "references": _references(rows), "created": _created(gathered),
            })
        else:
            existing = _already_imported(team, rows)
            result.unchanged = sum(1 for r in rows if r.appointment_ref in existing)
    return result


def _references(rows: list[Row]) -> dict[str, list[str]]:
    """The file's references (service users, courses, appointments), each once, in file order."""
    return {
        "service_users": list(dict.fromkeys(r.service_user_ref for r in rows)),
        "courses": list(dict.fromkeys(r.course_ref for r in rows)),
        "appointments": [r.appointment_ref for r in rows],
    }


def _created(gathered: list[dict]) -> dict[str, list[str]]:
    """The ids of the records the import wrote, by kind (from the events its services gathered)."""
    created: dict[str, dict[str, None]] = {}
    for event in gathered:
        if event["object_id"]:
            created.setdefault(event["object_type"], {})[event["object_id"]] = None
    return {kind: list(ids) for kind, ids in created.items()}


def _write(actor: Actor, team: Team, rows: list[Row], instruments: dict[str, Instrument], result: ImportResult) -> None:
    people: dict[str, object] = {}
    courses: dict[str, CourseOfCare] = {c.reference: c for c in CourseOfCare.objects.filter(team=team, reference__in={r.course_ref for r in rows})}
    starts = _course_starts(rows)
    existing = _already_imported(team, rows)
    scales = {code: Scale.of(instrument) for code, instrument in instruments.items()}
    for row in sorted(rows, key=lambda r: (r.course_ref, r.when)):
        if row.appointment_ref in existing:
            result.unchanged += 1
            continue
        if row.service_user_ref not in people:
            people[row.service_user_ref], created = account_services.service_user_from_reference(
                actor=actor, organisation=team.organisation, reference=row.service_user_ref, team=team
            )
            result.service_users_created += created
        if row.course_ref not in courses:
            courses[row.course_ref] = session_services.historic_course_record(
                actor=actor, service_user=people[row.service_user_ref], team=team, reference=row.course_ref,
                started_on=starts[row.course_ref], referral_date=row.referral_date,
                ended_on=row.end_date, ending_reason=row.ending_reason,
            )
            result.courses_created += 1
        appointment = session_services.historic_appointment_record(
            actor=actor, course=courses[row.course_ref], starts_at=row.when, kind=row.kind, modality=row.modality,
            attended=row.attended, reference=row.appointment_ref,
        )
        result.appointments_created += 1
        for code, answers in row.answers.items():
            submission = services.Submission(
                instrument=instruments[code], service_user=appointment.service_user, course=appointment.course,
                appointment=appointment, mode=Response.Mode.IMPORTED, answers=answers, completed_at=row.when,
            )
            services.record_response(
                actor=actor, submission=submission, score=score_answers(scales[code], answers),
                idempotency_key=f"import:{team.pk}:{row.appointment_ref}:{code}", fingerprint=submission.fingerprint(),
            )
            result.responses_created += 1
    result.consents_recorded = import_consent.write(actor, team, rows)

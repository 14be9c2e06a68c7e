"""Exports: pseudonymised, consent-filtered, in three formats with their dictionary, audited, streamed.

Everything runs through the real API (or the command) on PostgreSQL, with data made by the services.
"""

import csv
import hashlib
import io
import zipfile

import pyarrow.parquet as pq
import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from backend.audit.models import AuditEvent
from backend.consent.models import PurposeCode
from backend.evaluation.dictionary import CONSENT, SESSIONS
from backend.evaluation.pseudonyms import pseudonym, shift_days
from tests.evaluation.conftest import CANCELLATION_REASON, SAFETY_LOCATION, appointment, attend, person, switch_and_measure
from tests.factories import withdraw_consent

URL = "/api/v1/evaluation/exports/"


def export(api, world, **body):
    response = api(world.evaluator).post(URL, {"dataset": "sessions", "format": "csv", **body}, format="json")
    return response


def unzip(response) -> dict[str, bytes]:
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    return {name: archive.read(name) for name in archive.namelist()}


def csv_rows(data: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(data.decode())))


def test_a_csv_export_holds_the_data_and_its_dictionary_and_nothing_identifying(cohort, api):
    files = unzip(export(api, cohort.world, dates="exact"))
    assert set(files) == {"sessions.csv", "data-dictionary.csv", "data-dictionary.md"}
    rows = csv_rows(files["sessions.csv"])
    assert list(rows[0]) == SESSIONS.names
    assert [r["name"] for r in csv_rows(files["data-dictionary.csv"])] == SESSIONS.names
    assert "Rows: 17" in files["data-dictionary.md"].decode() and "people: 8" in files["data-dictionary.md"].decode()
    assert len(rows) == 17  # 8 face to face + 6 video + 2 not attended + 1 cancelled; never the refuser's
    assert {r["person"] for r in rows} == {pseudonym(p.pk) for p in cohort.people}
    everything = b"".join(files.values()).decode()
    for user in [*cohort.people, cohort.refuser, cohort.world.clinician]:
        assert user.full_name not in everything and user.email not in everything and str(user.pk) not in {r["person"] for r in rows}
    for secret in (CANCELLATION_REASON, SAFETY_LOCATION, "Private notes here", "07700 900999"):
        assert secret not in everything


def test_session_rows_say_what_happened(cohort, api):
    rows = csv_rows(unzip(export(api, cohort.world, dates="exact"))["sessions.csv"])
    by_status = {}
    for row in rows:
        by_status.setdefault(row["status"], []).append(row)
    assert {k: len(v) for k, v in by_status.items()} == {"attended": 14, "did_not_attend": 2, "cancelled": 1}
    video = [r for r in by_status["attended"] if r["delivered_modality"] == "video"]
    assert len(video) == 6 and all(r["chosen_modality"] == "video" and r["modality"] == "video" for r in video)
    assert all(r["duration_minutes"] == "45" and r["practitioner_role"] == "clinician" for r in by_status["attended"])
    assert all(r["modality"] == "video" and r["delivered_modality"] == "" for r in by_status["did_not_attend"])
    cancelled = by_status["cancelled"][0]
    assert cancelled["cancelled_by_role"] == "service_user" and cancelled["modality"] == ""
    assert all(r["offered_face_to_face"] == "true" for r in rows)


def test_a_switch_and_connection_quality_are_in_the_row(world, api):
    people = [person(world) for _ in range(5)]
    switched = switch_and_measure(world, people[0])
    for user in people[1:]:
        attend(world, appointment(world, user, days_ago=2), "face_to_face")
    rows = {r["appointment"]: r for r in csv_rows(unzip(export(api, world, dates="exact"))["sessions.csv"])}
    from backend.evaluation.pseudonyms import appointment_ref

    row = rows[appointment_ref(switched.pk)]
    assert (row["switch_count"], row["switched_to"], row["switch_reasons"]) == ("1", "phone", "video_failed")
    assert (row["delivered_modality"], row["delivery_reason"]) == ("phone", "video_failed")
    assert (row["connection_samples"], row["median_round_trip_ms"], row["median_packet_loss_pct"]) == ("2", "50", "2")


def test_parquet_has_the_dictionarys_types(cohort, api):
    files = unzip(export(api, cohort.world, format="parquet", dates="exact"))
    table = pq.read_table(io.BytesIO(files["sessions.parquet"]))
    assert table.column_names == SESSIONS.names and table.num_rows == 17
    types = {field.name: str(field.type) for field in table.schema}
    assert (types["date"], types["switch_count"], types["duration_minutes"], types["offered_video"]) == ("date32[day]", "int64", "double", "bool")


def test_excel_has_the_data_and_a_dictionary_sheet(cohort, api):
    files = unzip(export(api, cohort.world, format="xlsx", dataset="consent"))
    workbook = load_workbook(io.BytesIO(files["consent.xlsx"]), read_only=True)
    assert workbook.sheetnames == ["consent", "dictionary"]
    data = list(workbook["consent"].values)
    assert list(data[0]) == CONSENT.names
    assert len(data) - 1 == 8 * 3  # each consenting person: remote care, video, evaluation
    assert [row[0] for row in list(workbook["dictionary"].values)[1:]] == CONSENT.names


def test_dates_are_shifted_per_person_or_coarsened(cohort, api):
    exact = csv_rows(unzip(export(api, cohort.world, dates="exact"))["sessions.csv"])
    shifted = csv_rows(unzip(export(api, cohort.world, dates="shifted", max_shift_days=10))["sessions.csv"])
    month = csv_rows(unzip(export(api, cohort.world, dates="month"))["sessions.csv"])
    from datetime import date

    person_of = {pseudonym(p.pk): p.pk for p in cohort.people}
    for e, s in zip(exact, shifted, strict=True):
        offset = (date.fromisoformat(s["date"]) - date.fromisoformat(e["date"])).days
        assert offset == shift_days(person_of[e["person"]], 10) and -10 <= offset <= 10
    assert all(len(r["date"]) == 7 and r["date"] == e["date"][:7] for r, e in zip(month, exact, strict=True))


def test_only_people_consenting_now_are_exported_and_a_withdrawal_leaves_every_later_export(cohort, api):
    before = {r["person"] for r in csv_rows(unzip(export(api, cohort.world))["sessions.csv"])}
    assert pseudonym(cohort.refuser.pk) not in before and pseudonym(cohort.people[0].pk) in before
    withdraw_consent(cohort.people[0], PurposeCode.EVALUATION)
    for dataset in ("sessions", "consent"):
        after = {r["person"] for r in csv_rows(unzip(export(api, cohort.world, dataset=dataset))[f"{dataset}.csv"])}
        assert pseudonym(cohort.people[0].pk) not in after and len(after) == 7


def test_fewer_than_five_people_exports_nothing_and_says_why(cohort, api):
    for user in cohort.people[:4]:
        withdraw_consent(user, PurposeCode.EVALUATION)
    response = export(api, cohort.world)
    assert response.status_code == 409
    assert response.json()["code"] == "too_few_people" and "Fewer than 5" in response.json()["detail"]
    event = AuditEvent.objects.filter(object_type="evaluation.export").latest("sequence")
    assert event.detail["outcome"] == "refused_too_few_people" and event.actor == cohort.world.evaluator
    # A filter that narrows to fewer than five is refused the same way.
    assert export(api, cohort.world, filters={"modality": "phone"}).status_code == 409


@pytest.mark.parametrize("body, field, code", [
    ({"filters": {"colour": "blue"}}, "filters.colour", "unknown_field"),
    ({"filters": {"date_from": "2026-05-01", "date_to": "2026-04-01"}}, "filters.date_to", "date_range_backwards"),
    ({"filters": {"team": 999999}}, "filters.team", "does_not_exist"),
    ({"dataset": "consent", "filters": {"modality": "video"}}, "filters.modality", "not_applicable"),
    ({"dataset": "everything"}, "dataset", "invalid_choice"),
    ({"format": "pdf"}, "format", "invalid_choice"),
    ({"dates": "fuzzy"}, "dates", "invalid_choice"),
    ({"max_shift_days": 0}, "max_shift_days", "min_value"),
    ({"surprise": 1}, "surprise", "unknown_field"),
])
def test_bad_requests_are_400_naming_the_field(world, api, body, field, code):
    response = export(api, world, **body)
    assert response.status_code == 400, response.content
    error = response.json()
    assert error["status"] == 400 and {"field": field, "code": code} in [{k: e[k] for k in ("field", "code")} for e in error["errors"]]


def test_filters_narrow_the_rows(cohort, api):
    from datetime import timedelta

    from django.utils import timezone

    today = timezone.localdate()
    recent = csv_rows(unzip(export(api, cohort.world, dates="exact", filters={"date_from": str(today - timedelta(days=12)), "site": "LEEDS"}))["sessions.csv"])
    assert {r["status"] for r in recent} == {"attended", "did_not_attend", "cancelled"} and len(recent) == 9
    video = csv_rows(unzip(export(api, cohort.world, filters={"modality": "video", "team": cohort.world.north.pk}))["sessions.csv"])
    assert len(video) == 8 and {r["modality"] for r in video} == {"video"}


def test_every_export_is_audited_with_who_filters_counts_and_file_hashes(cohort, api):
    response = export(api, cohort.world, format="parquet", dates="shifted", filters={"site": "Leeds"})
    body = b"".join(response.streaming_content)
    files = {name: zipfile.ZipFile(io.BytesIO(body)).read(name) for name in zipfile.ZipFile(io.BytesIO(body)).namelist()}
    event = AuditEvent.objects.filter(object_type="evaluation.export").latest("sequence")
    assert (event.actor, event.actor_role, event.via) == (cohort.world.evaluator, "evaluator", "api")
    detail = event.detail
    assert (detail["dataset"], detail["format"], detail["dates"], detail["max_shift_days"]) == ("sessions", "parquet", "shifted", 30)
    assert detail["filters"] == {"site": "Leeds"} and (detail["rows"], detail["people"], detail["outcome"]) == (17, 8, "made")
    zip_name = response["Content-Disposition"].split('filename="')[1].rstrip('"')
    assert detail["sha256"][zip_name] == hashlib.sha256(body).hexdigest()
    for name, content in files.items():
        assert detail["sha256"][name] == hashlib.sha256(content).hexdigest()


def test_exports_stream_in_chunks_with_queries_per_chunk_not_per_row(cohort, tmp_path):
    def run(chunk_size):
        out = tmp_path / f"export-{chunk_size}.zip"
        with CaptureQueriesContext(connection) as queries:
            call_command("export_evaluation", "--dataset", "sessions", "--format", "csv", "--dates", "exact",
                         "--output", str(out), "--chunk-size", str(chunk_size), stdout=io.StringIO())
        return zipfile.ZipFile(out).read("sessions.csv"), len(queries)

    whole, one_chunk = run(1000)
    in_fives, four_chunks = run(5)  # 17 rows: four chunks
    assert in_fives == whole
    # Each further chunk costs its four related-table queries (events, samples, ICE changes, guests), whatever its size.
    assert four_chunks - one_chunk == 3 * 4


def test_the_command_records_the_evaluator_and_refuses_anyone_else(cohort, tmp_path):
    out = tmp_path / "consent.zip"
    printed = io.StringIO()
    call_command("export_evaluation", "--dataset", "consent", "--format", "parquet", "--output", str(out),
                 "--by", cohort.world.evaluator.email, stdout=printed)
    assert "24 rows, 8 people" in printed.getvalue()
    assert pq.read_table(io.BytesIO(zipfile.ZipFile(out).read("consent.parquet"))).num_rows == 24
    event = AuditEvent.objects.filter(object_type="evaluation.export").latest("sequence")
    assert (event.actor, event.via) == (cohort.world.evaluator, "command")
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("export_evaluation", "--dataset", "consent", "--format", "csv", "--output", str(out), "--by", cohort.world.admin.email)
    with pytest.raises(CommandError, match="date_to"):
        call_command("export_evaluation", "--dataset", "consent", "--format", "csv", "--output", str(out), "--from", "2026-05-02", "--to", "2026-05-01")


@pytest.mark.parametrize("dataset", ["sessions", "courses"])
def test_a_date_stored_before_the_input_bounds_does_not_break_shifted_exports(cohort, api, dataset):
    """Issue 10: one appointment at 0001-01-01 (stored before dates were bounded at input) once made every
    shifted export fail for every evaluator. It is shown empty; the export still works."""
    from datetime import datetime, timezone as dt_timezone

    from backend.sessions.models import Appointment, CourseOfCare

    early = cohort.appointments[0]
    Appointment.objects.filter(pk=early.pk).update(starts_at=datetime(1, 1, 2, 12, tzinfo=dt_timezone.utc))
    CourseOfCare.objects.filter(service_user=early.service_user).update(started_on="0001-01-01")
    files = unzip(export(api, cohort.world, dataset=dataset, dates="shifted", max_shift_days=30))
    assert any(name.endswith(".csv") for name in files)


def test_guest_roles_interpreter_languages_and_who_ran_it_are_in_the_row(world, api):
    """Issue 13: the roles of guests and the languages of interpreters, and whether a colleague covered."""
    from backend.audit.actor import Actor
    from backend.evaluation.pseudonyms import appointment_ref
    from backend.sessions import services

    people = [person(world) for _ in range(5)]
    with_guests = appointment(world, people[0], days_ago=2)
    services.guest_add(actor=Actor(world.clinician), appointment=with_guests, name="Ana Silva", guest_role="interpreter", language="Portuguese")
    services.guest_add(actor=Actor(world.clinician), appointment=with_guests, name="Sam Lee", guest_role="advocate")
    attend(world, with_guests, "face_to_face", clinician=world.peer_worker)  # a colleague covers
    for user in people[1:]:
        attend(world, appointment(world, user, days_ago=2), "face_to_face")
    rows = {r["appointment"]: r for r in csv_rows(unzip(export(api, world, dates="exact"))["sessions.csv"])}
    row = rows[appointment_ref(with_guests.pk)]
    assert (row["guest_roles"], row["interpreter_languages"]) == ("interpreter;advocate", "Portuguese")
    assert (row["run_by_booked_practitioner"], row["run_by_role"]) == ("false", "peer_worker")
    assert "Ana Silva" not in str(rows) and "Sam Lee" not in str(rows)  # guests' names never leave
    others = [r for ref, r in rows.items() if ref != row["appointment"]]
    assert all((r["guest_roles"], r["interpreter_languages"], r["run_by_booked_practitioner"]) == ("", "", "true") for r in others)

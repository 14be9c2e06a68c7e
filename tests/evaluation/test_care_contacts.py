"""The care_contacts dataset: every appointment in NHS Talking Therapies data set codes, with the same
consent filter, pseudonyms, dates and organisation boundary as the other datasets.

On conftest.contacts (conftest.cohort and six more appointments, one per mapping), expected codes:
    p0  phone session, attended                           02, 5
    p1  video session switched to phone while it ran      02, 5 (switched_to phone)
    p2  video session that went on as audio only          11, 5 (audio_only_during_video)
    p3  cancelled by the clinician                        empty mechanism, 4
    p4  an assessment, booked for next week (open)        empty attendance code
    p5  chose phone, did not attend                       02 (planned, not delivered), 3
The cohort's own: face to face attended (01, 5), video attended (11, 5), chose video and did not
attend (11 planned, 3), cancelled by the person (2).
"""

from __future__ import annotations

import io
import zipfile

import pyarrow.parquet as pq
import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from backend.accounts.models import Role
from backend.audit.actor import Actor
from backend.audit.models import AuditEvent
from backend.consent.models import PurposeCode
from backend.evaluation import national_codes
from backend.evaluation.dictionary import CARE_CONTACTS, DATASETS
from backend.evaluation.pseudonyms import appointment_ref, pseudonym
from backend.sessions import services
from backend.sessions.models import Appointment
from tests.evaluation.conftest import CANCELLATION_REASON, SAFETY_LOCATION
from tests.evaluation.test_exports import csv_rows, unzip
from tests.factories import book, give_consent, let_time_pass, make_user, withdraw_consent

URL = "/api/v1/evaluation/exports/"


def export(api, user, dataset="care_contacts", fmt="csv", **body):
    return api(user).post(URL, {"dataset": dataset, "format": fmt, "dates": "exact", **body}, format="json")


def rows_by_appointment(api, user, **body) -> dict[str, dict]:
    return {r["appointment"]: r for r in csv_rows(unzip(export(api, user, **body))["care_contacts.csv"])}


def test_every_status_and_modality_has_its_national_code(contacts, api):
    cohort, made = contacts
    rows = rows_by_appointment(api, cohort.world.evaluator)
    assert len(rows) == 17 + 6 and list(next(iter(rows.values()))) == CARE_CONTACTS.names

    def row(a):
        return rows[appointment_ref(a.pk)]

    def codes(a):
        r = row(a)
        return r["consultation_mechanism"], r["mechanism_delivered"], r["attendance_code"], r["status"]

    face_to_face, video, video_dna, cancelled_by_person = cohort.appointments[0], cohort.appointments[8], cohort.appointments[14], cohort.appointments[16]
    assert codes(face_to_face) == ("01", "true", "5", "attended")
    assert codes(video) == ("11", "true", "5", "attended")
    assert codes(video_dna) == ("11", "false", "3", "did_not_attend")
    assert codes(cancelled_by_person) == ("", "", "2", "cancelled") and row(cancelled_by_person)["cancelled_by_role"] == "service_user"
    assert codes(made["phone"]) == ("02", "true", "5", "attended")
    assert codes(made["video_to_phone"]) == ("02", "true", "5", "attended") and row(made["video_to_phone"])["switched_to"] == "phone"
    audio_only = row(made["video_to_audio_only"])
    assert codes(made["video_to_audio_only"]) == ("11", "true", "5", "attended")
    assert (audio_only["switched_to"], audio_only["audio_only_during_video"]) == ("audio_only", "true")
    assert row(made["video_to_phone"])["audio_only_during_video"] == "false"
    assert codes(made["cancelled_by_service"]) == ("", "", "4", "cancelled") and row(made["cancelled_by_service"])["cancelled_by_role"] == "clinician"
    assert codes(made["open_assessment"]) == ("", "", "", "open")
    assert codes(made["phone_dna"]) == ("02", "false", "3", "did_not_attend")
    # Codes Rapport cannot honestly give never appear: 6 and 7 (lateness), 0, group therapy mode.
    assert {r["attendance_code"] for r in rows.values()} == {"5", "3", "2", "4", ""}
    assert {r["therapy_mode"] for r in rows.values()} == {"1"} and {r["planned"] for r in rows.values()} == {"true"}
    # Duration in whole minutes, empty if it did not run; kind and whether it counts as treatment.
    assert (row(made["phone"])["duration_minutes"], row(face_to_face)["duration_minutes"], row(video_dna)["duration_minutes"]) == ("30", "45", "")
    assert (row(made["open_assessment"])["kind"], row(made["open_assessment"])["treatment_appointment"]) == ("assessment", "false")
    assert (row(video)["kind"], row(video)["treatment_appointment"], row(video)["practitioner_role"]) == ("treatment", "true", "clinician")
    assert {r["person"] for r in rows.values()} == {pseudonym(p.pk) for p in cohort.people}
    assert {r["team"] for r in rows.values()} == {"North"} and all(r["course"].startswith("C") for r in rows.values())


@pytest.mark.parametrize("status, cancelled_by, code", [
    (Appointment.Status.ENDED, None, "5"),
    (Appointment.Status.DID_NOT_ATTEND, None, "3"),
    (Appointment.Status.CANCELLED, Role.SERVICE_USER, "2"),
    (Appointment.Status.CANCELLED, Role.CARER, "2"),
    (Appointment.Status.CANCELLED, Role.CLINICIAN, "4"),
    (Appointment.Status.CANCELLED, Role.PEER_WORKER, "4"),
    (Appointment.Status.CANCELLED, Role.ADMIN, "4"),
    (Appointment.Status.CANCELLED, None, None),
    (Appointment.Status.SCHEDULED, None, None),
    (Appointment.Status.WAITING, None, None),
    (Appointment.Status.IN_PROGRESS, None, None),
])
def test_each_status_maps_to_one_attendance_code(status, cancelled_by, code):
    assert national_codes.attendance_code(status, cancelled_by) == code


def test_each_modality_maps_to_one_mechanism():
    assert [national_codes.consultation_mechanism(m) for m in ("face_to_face", "phone", "video", "", None)] == ["01", "02", "11", None, None]


def test_the_dataset_is_listed_with_its_dictionary_and_comes_as_parquet_and_excel(contacts, api):
    cohort, _ = contacts
    listed = {d["code"]: d for d in api(cohort.world.evaluator).get("/api/v1/evaluation/datasets/").json()}
    assert [c["name"] for c in listed["care_contacts"]["columns"]] == CARE_CONTACTS.names
    assert "care_contacts" in DATASETS
    files = unzip(export(api, cohort.world.evaluator, fmt="parquet", dates="month"))
    table = pq.read_table(io.BytesIO(files["care_contacts.parquet"]))
    assert table.num_rows == 23 and table.column_names == CARE_CONTACTS.names
    assert str(table.schema.field("duration_minutes").type) == "int64" and str(table.schema.field("planned").type) == "bool"
    assert all(len(d) == 7 for d in table.column("date").to_pylist())  # coarsened to the month
    assert "care_contacts.xlsx" in unzip(export(api, cohort.world.evaluator, fmt="xlsx"))


def test_nothing_identifying_is_exported_and_the_export_is_audited(contacts, api):
    cohort, _ = contacts
    everything = b"".join(unzip(export(api, cohort.world.evaluator)).values()).decode()
    for user in [*cohort.people, cohort.refuser, cohort.world.clinician]:
        assert user.full_name not in everything and user.email not in everything
    for secret in (CANCELLATION_REASON, "Clinician unwell", SAFETY_LOCATION, "07700 900999"):
        assert secret not in everything
    event = AuditEvent.objects.filter(object_type="evaluation.export").latest("sequence")
    assert (event.detail["dataset"], event.detail["rows"], event.detail["people"]) == ("care_contacts", 23, 8)


def test_only_people_consenting_now_are_in_it(contacts, api):
    cohort, _ = contacts
    assert pseudonym(cohort.refuser.pk) not in {r["person"] for r in rows_by_appointment(api, cohort.world.evaluator).values()}
    withdraw_consent(cohort.people[0], PurposeCode.EVALUATION)
    after = {r["person"] for r in rows_by_appointment(api, cohort.world.evaluator).values()}
    assert pseudonym(cohort.people[0].pk) not in after and len(after) == 7
    for user in cohort.people[1:4]:
        withdraw_consent(user, PurposeCode.EVALUATION)
    response = export(api, cohort.world.evaluator)
    assert response.status_code == 409 and response.json()["code"] == "too_few_people"


def test_filters_narrow_it_like_the_sessions_dataset(contacts, api):
    cohort, made = contacts
    video = rows_by_appointment(api, cohort.world.evaluator, filters={"modality": "video", "team": cohort.world.north.pk})
    expected = {*cohort.appointments[8:16], made["video_to_audio_only"]}
    assert set(video) == {appointment_ref(a.pk) for a in expected} and {r["consultation_mechanism"] for r in video.values()} == {"11"}
    # Three phone contacts of three people: too few to export.
    assert export(api, cohort.world.evaluator, filters={"modality": "phone"}).status_code == 409
    response = export(api, cohort.world.evaluator, filters={"instrument": "phq9"})
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "filters.instrument"


def _evaluated_elsewhere(elsewhere, count: int = 5) -> list:
    """`count` people of the other trust, on its team's caseload, consenting to evaluation, each with
    one past appointment they did not attend."""
    from backend.accounts import services as account_services
    from tests.factories import SYSTEM

    people = []
    for _ in range(count):
        user = make_user(Role.SERVICE_USER, organisation=elsewhere.organisation)
        account_services.caseload_add(actor=SYSTEM, team=elsewhere.team, service_user=user)
        give_consent(user, PurposeCode.EVALUATION)
        booked = let_time_pass(book(elsewhere.clinician, user, elsewhere.team), hours_ago=48)
        services.session_mark_did_not_attend(actor=Actor(elsewhere.clinician), appointment=booked)
        people.append(user)
    return people


def test_evaluators_see_only_their_own_organisations_contacts(contacts, elsewhere, api):
    cohort, _ = contacts
    theirs = _evaluated_elsewhere(elsewhere)
    ours = rows_by_appointment(api, cohort.world.evaluator)
    assert {r["team"] for r in ours.values()} == {"North"} and len(ours) == 23
    assert not {pseudonym(u.pk) for u in theirs} & {r["person"] for r in ours.values()}
    other = rows_by_appointment(api, elsewhere.evaluator)
    assert {r["team"] for r in other.values()} == {"Elsewhere"} and {r["person"] for r in other.values()} == {pseudonym(u.pk) for u in theirs}
    assert {(r["consultation_mechanism"], r["attendance_code"]) for r in other.values()} == {("", "3")}
    # Another trust's team is not a filter this evaluator may use.
    response = export(api, cohort.world.evaluator, filters={"team": elsewhere.team.pk})
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "filters.team"


def test_it_streams_in_chunks_with_one_query_per_chunk(contacts, tmp_path):
    def run(chunk_size):
        out = tmp_path / f"contacts-{chunk_size}.zip"
        with CaptureQueriesContext(connection) as queries:
            call_command("export_evaluation", "--dataset", "care_contacts", "--format", "csv", "--dates", "exact",
                         "--output", str(out), "--chunk-size", str(chunk_size), stdout=io.StringIO())
        return zipfile.ZipFile(out).read("care_contacts.csv"), len(queries)

    whole, one_chunk = run(1000)
    in_fives, five_chunks = run(5)  # 23 rows
    assert in_fives == whole
    assert five_chunks - one_chunk == 4  # each further chunk: its switch events, whatever its size

"""Importing historic records from CSV: every row checked first, all or nothing, each bad row reported
with its line number, and the same file imported twice changes nothing."""

import io

import pytest
from django.core.management import CommandError, call_command

from backend.accounts.models import ServiceUserReference, User
from backend.outcomes.models import Response, RiskFlag
from backend.sessions.models import Appointment, CourseOfCare

pytestmark = pytest.mark.django_db

PHQ = [f"phq9_{n}" for n in range(1, 10)]
GAD = [f"gad7_{n}" for n in range(1, 8)]
HEADER = ["service_user_ref", "course_ref", "referral_date", "end_date", "appointment_ref", "date", "type", "modality", "attended", *PHQ, *GAD]


def csv_text(*rows) -> str:
    lines = [",".join(HEADER)]
    for row in rows:
        lines.append(",".join(str(v) for v in row))
    return "\n".join(lines) + "\n"


def row(person, course, appointment, date, kind="treatment", modality="video", attended="yes", phq=(), gad=(), end=""):
    phq = list(phq) + [""] * (9 - len(phq))
    gad = list(gad) + [""] * (7 - len(gad))
    return [person, course, "2024-01-02", end, appointment, date, kind, modality, attended, *phq, *gad]


GOOD = csv_text(
    row("NHS-1", "C-1", "A-1", "2024-01-10", kind="assessment_and_treatment", modality="face_to_face", phq=[3, 3, 2, 2, 2, 2, 2, 1, 1], gad=[2, 2, 2, 2, 1, 1, 1], end="2024-03-30"),
    row("NHS-1", "C-1", "A-2", "2024-02-01", modality="video", attended="no", end="2024-03-30"),
    row("NHS-1", "C-1", "A-3", "2024-03-20", modality="phone", phq=[1, 1, 1, 0, 0, 0, 1, 0, 0], gad=[1, 0, 1, 0, 0, 1, 0], end="2024-03-30"),
    row("NHS-2", "C-2", "A-4", "2024-02-05", phq=[1, 1, 1, 1, 1, 1, 1, 1, ""]),
)


def import_file(world, api, text, **params):
    upload = io.BytesIO(text.encode())
    upload.name = "records.csv"
    return api(world.admin).post("/api/v1/outcomes/imports/", {"team_id": world.north.pk, "file": upload, **params}, format="multipart")


def test_a_good_file_creates_people_courses_appointments_and_scored_responses(world, api):
    answer = import_file(world, api, GOOD)
    assert answer.status_code == 201, answer.json()
    assert answer.json() == {"dry_run": False, "rows": 4, "service_users_created": 2, "courses_created": 2,
                             "appointments_created": 4, "responses_created": 5, "consents_recorded": 0, "unchanged": 0}
    person = ServiceUserReference.objects.get(organisation=world.organisation, reference="NHS-1").service_user
    assert person.role == "service_user" and not person.has_usable_password()
    assert world.north.caseload.filter(service_user=person).exists()
    course = CourseOfCare.objects.get(team=world.north, reference="C-1")
    assert (str(course.started_on), str(course.referral_date), str(course.ended_on)) == ("2024-01-10", "2024-01-02", "2024-03-30")
    statuses = list(course.appointments.order_by("starts_at").values_list("reference", "status", "delivered_modality", "kind"))
    assert statuses == [("A-1", "ended", "face_to_face", "assessment_and_treatment"), ("A-2", "did_not_attend", "", "treatment"),
                        ("A-3", "ended", "phone", "treatment")]
    phq = list(Response.objects.filter(course=course, instrument__code="phq9").order_by("completed_at").values_list("score", "mode"))
    assert [(int(score), mode) for score, mode in phq] == [(18, "imported"), (4, "imported")]
    # Historic answers do not page today's clinicians: risk flags are for answers given now.
    assert not RiskFlag.objects.exists()
    # The one unanswered PHQ-9 item (no prorating for the PHQ-9) is kept, unscored.
    incomplete = Response.objects.get(course__reference="C-2")
    assert (incomplete.status, incomplete.unanswered_items) == ("incomplete", 1)
    # Two attended treatment appointments (a combined assessment and treatment, then a treatment): finished.
    paired = api(world.clinician).get(f"/api/v1/courses/{course.pk}/paired-outcome/").json()
    assert (paired["finished_treatment"], paired["counts"], paired["recovered"], paired["reliable_recovery"]) == (True, True, True, True)


def test_an_assessment_does_not_count_towards_a_finished_course_of_treatment(world, api):
    # The same course with a plain assessment first: one attended treatment appointment, scores at two.
    answer = import_file(world, api, GOOD.replace("assessment_and_treatment", "assessment"))
    assert answer.status_code == 201, answer.json()
    course = CourseOfCare.objects.get(team=world.north, reference="C-1")
    paired = api(world.clinician).get(f"/api/v1/courses/{course.pk}/paired-outcome/").json()
    assert (paired["finished_treatment"], paired["counts"], paired["recovered"]) == (False, False, None)
    assert "1 attended treatment appointment" in paired["reason_not_counted"]


@pytest.mark.parametrize("kind", ["group", "assessment+treatment", "treatments", ""])
def test_an_appointment_kind_that_is_not_allowed_names_its_line_and_field_and_nothing_is_written(world, api, kind):
    bad = csv_text(
        row("NHS-1", "C-1", "A-1", "2024-01-10", kind="assessment", phq=[3, 3, 2, 2, 2, 2, 2, 1, 1]),
        row("NHS-1", "C-1", "A-2", "2024-02-10", kind=kind),
        row("NHS-1", "C-1", "A-3", "2024-03-10", kind="Assessment and treatment"),  # spelt out: allowed
    )
    answer = import_file(world, api, bad)
    assert answer.status_code == 400
    assert [(e["field"], e["code"]) for e in answer.json()["errors"]] == [("rows.3.type", "invalid_row")]
    message = answer.json()["errors"][0]["message"]
    assert message.startswith("Line 3:") and f"type '{kind}'" in message and "assessment_and_treatment" in message
    assert not CourseOfCare.objects.filter(reference="C-1").exists() and not Appointment.objects.exclude(reference="").exists()
    assert not ServiceUserReference.objects.exists()


def test_importing_the_same_file_twice_changes_nothing(world, api):
    import_file(world, api, GOOD)
    before = (User.objects.count(), CourseOfCare.objects.count(), Appointment.objects.count(), Response.objects.count())
    again = import_file(world, api, GOOD)
    assert again.status_code == 200 and again.json()["unchanged"] == 4 and again.json()["responses_created"] == 0
    assert (User.objects.count(), CourseOfCare.objects.count(), Appointment.objects.count(), Response.objects.count()) == before


def test_every_bad_row_is_reported_with_its_line_and_nothing_is_imported(world, api):
    bad = csv_text(
        row("NHS-1", "C-1", "A-1", "2024-01-10", phq=[3, 3, 2, 2, 2, 2, 2, 1, 1]),
        row("NHS-1", "C-1", "A-2", "2024-13-01"),
        row("NHS-1", "C-1", "A-3", "2024-02-01", phq=[4, 0, 0, 0, 0, 0, 0, 0, 0]),
        row("NHS-1", "C-1", "A-4", "2024-02-01", modality="carrier pigeon"),
        row("NHS-1", "C-1", "A-5", "2024-02-08", attended="no", gad=[1, 1, 1, 1, 1, 1, 1]),
        row("NHS-1", "C-1", "A-1", "2024-02-15"),
        row("NHS-9", "C-1", "A-6", "2024-02-22"),
    )
    answer = import_file(world, api, bad)
    assert answer.status_code == 400
    problems = [(e["field"], e["message"]) for e in answer.json()["errors"]]
    lines = [field.split(".")[1] for field, _ in problems]
    assert lines == ["3", "4", "5", "6", "7", "8"], problems
    assert "not a date" in problems[0][1] and "phq9_1" in problems[1][0] and "carrier pigeon" in problems[2][1]
    assert "not attended" in problems[3][1] and "already on line 2" in problems[4][1] and "different person" in problems[5][1]
    assert not CourseOfCare.objects.filter(reference="C-1").exists() and not ServiceUserReference.objects.exists()


def test_a_row_contradicting_an_earlier_import_is_refused_not_overwritten(world, api):
    import_file(world, api, GOOD)
    changed = GOOD.replace("2024-03-20,treatment,phone,yes,1,1,1", "2024-03-20,treatment,phone,yes,2,1,1")
    answer = import_file(world, api, changed)
    assert answer.status_code == 400 and "different details or answers" in answer.json()["errors"][0]["message"]
    assert Response.objects.filter(appointment__reference="A-3", instrument__code="phq9").get().raw_total == 4


def test_files_with_unknown_or_missing_columns_are_refused(world, api):
    assert import_file(world, api, "service_user_ref,course_ref\nX,Y\n").json()["code"] == "missing_columns"
    odd = csv_text(row("NHS-1", "C-1", "A-1", "2024-01-10")).replace("gad7_7", "gad7_8")
    assert import_file(world, api, odd).json()["code"] == "unknown_columns"
    assert import_file(world, api, csv_text()).json()["code"] == "empty"
    future = csv_text(row("NHS-1", "C-1", "A-1", "2099-01-10"))
    assert "future" in import_file(world, api, future).json()["errors"][0]["message"]


def test_a_dry_run_checks_without_importing(world, api):
    answer = import_file(world, api, GOOD, dry_run="true")
    assert answer.status_code == 200 and answer.json()["rows"] == 4 and answer.json()["dry_run"] is True
    assert not CourseOfCare.objects.filter(reference="C-1").exists()


def test_the_command_imports_the_same_way(world, tmp_path):
    path = tmp_path / "records.csv"
    path.write_text(GOOD)
    out = io.StringIO()
    call_command("import_outcomes", str(path), "--team", str(world.north.pk), stdout=out)
    assert "Imported 4 rows" in out.getvalue() and Response.objects.count() == 5
    path.write_text(csv_text(row("NHS-3", "C-3", "A-9", "someday")))
    err = io.StringIO()
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_outcomes", str(path), "--team", str(world.north.pk), stderr=err)
    assert "Line 2" in err.getvalue()


def test_an_import_writes_one_summary_event_naming_the_rows_references(world, api):
    """Not several chained appends per row (person, caseload, course, appointment, each response)."""
    from backend.audit.models import AuditEvent

    client = api(world.admin)
    before = AuditEvent.objects.count()
    upload = io.BytesIO(GOOD.encode())
    upload.name = "records.csv"
    assert client.post("/api/v1/outcomes/imports/", {"team_id": world.north.pk, "file": upload}, format="multipart").status_code == 201
    assert AuditEvent.objects.count() == before + 1
    summary = AuditEvent.objects.latest("sequence")
    assert (summary.action, summary.object_type, summary.object_id, summary.actor) == ("create", "outcomes.import", str(world.north.pk), world.admin)
    assert summary.detail["references"] == {"service_users": ["NHS-1", "NHS-2"], "courses": ["C-1", "C-2"],
                                            "appointments": ["A-1", "A-2", "A-3", "A-4"]}
    created = summary.detail["created"]
    assert sorted(created["telesessions.appointment"]) == sorted(str(pk) for pk in Appointment.objects.filter(team=world.north, reference__startswith="A-").values_list("pk", flat=True))
    assert len(created["outcomes.response"]) == 5 and len(created["telesessions.courseofcare"]) == 2

"""The historic import's consent columns (issue 11): decisions made in the earlier system recorded as
append-only consent records against the wording in force that day, by the importing admin with the
evidence noted; bad consent cells name their line and column and nothing is written. Also: columns
documented as optional are optional."""

import io

import pytest

from backend.accounts.models import ServiceUserReference
from backend.consent.models import ConsentRecord
from backend.consent.selectors import service_users_consenting_to
from backend.sessions.models import Appointment, CourseOfCare

pytestmark = pytest.mark.django_db

HEADER = ["service_user_ref", "course_ref", "appointment_ref", "date", "type", "modality", "attended",
          "consent_purpose", "consent_decision", "consent_date", "consent_method", "consent_evidence"]
# The seeded evaluation wording (version 1) took effect on 2026-01-01.


def csv_text(*rows, header=HEADER) -> str:
    return "\n".join([",".join(header), *(",".join(row) for row in rows)]) + "\n"


def row(person, appointment, consent=("", "", "", "", ""), date="2026-02-10"):
    return [person, f"C-{person}", appointment, date, "treatment", "video", "yes", *consent]


def import_file(world, api, text):
    upload = io.BytesIO(text.encode())
    upload.name = "records.csv"
    return api(world.admin).post("/api/v1/outcomes/imports/", {"team_id": world.north.pk, "file": upload}, format="multipart")


GIVE = ("evaluation", "give", "2026-02-01", "written", "Form EV-1")


def person(ref):
    return ServiceUserReference.objects.get(reference=ref).service_user


def test_consent_columns_record_decisions_that_let_imported_people_into_evaluation(world, api):
    text = csv_text(
        row("P1", "A-1", GIVE), row("P1", "A-2", GIVE, date="2026-02-17"),  # repeated on a person's rows: counted once
        row("P2", "A-3", ("evaluation", "Refuse", "2026-02-03T09:30", "verbal", "Call log 17")),
        row("P3", "A-4"),  # no consent columns filled in
    )
    answer = import_file(world, api, text)
    assert answer.status_code == 201, answer.json()
    assert answer.json()["consents_recorded"] == 2
    given = ConsentRecord.objects.get(service_user=person("P1"))
    assert (given.purpose.code, given.decision, given.wording.version, given.method, given.recorded_by) == (
        "evaluation", "given", 1, "written", world.admin)
    assert given.recorded_at.date().isoformat() == "2026-02-01" and "Form EV-1" in given.note
    refused = ConsentRecord.objects.get(service_user=person("P2"))
    assert (refused.decision, refused.method) == ("refused", "verbal")
    assert list(service_users_consenting_to("evaluation").filter(pk__in=[person(r).pk for r in ("P1", "P2", "P3")])) == [person("P1")]
    # The same file again records nothing more.
    again = import_file(world, api, text)
    assert again.status_code == 200 and again.json()["consents_recorded"] == 0 and ConsentRecord.objects.filter(
        service_user__in=[person("P1"), person("P2")]).count() == 2


def test_decisions_are_recorded_in_the_order_they_were_made(world, api):
    withdraw = ("evaluation", "withdraw", "2026-03-01", "written", "Letter 22")
    answer = import_file(world, api, csv_text(row("P1", "A-1", withdraw), row("P1", "A-2", GIVE)))  # file order reversed
    assert answer.status_code == 201, answer.json()
    assert list(ConsentRecord.objects.filter(service_user=person("P1")).order_by("id").values_list("decision", flat=True)) == [
        "given", "withdrawn"]
    assert not service_users_consenting_to("evaluation").filter(pk=person("P1").pk).exists()
    # A later file cannot put a decision in front of one already recorded.
    earlier = import_file(world, api, csv_text(row("P1", "A-9", ("evaluation", "give", "2026-02-15", "online", "Portal"))))
    assert earlier.status_code == 400
    assert earlier.json()["errors"][0]["field"] == "rows.2.consent_date" and "already recorded" in earlier.json()["errors"][0]["message"]


@pytest.mark.parametrize("consent,column,words", [
    (("evaluation", "give", "2025-06-01", "written", "Form 1"), "consent_date", "first took effect on 2026-01-01"),
    (("research", "give", "2026-02-01", "written", "Form 1"), "consent_purpose", "'research' is not a consent purpose"),
    (("evaluation", "agree", "2026-02-01", "written", "Form 1"), "consent_decision", "not give, refuse or withdraw"),
    (("evaluation", "given", "2026-02-01", "written", "Form 1"), "consent_decision", "not give, refuse or withdraw"),
    (("evaluation", "withdraw", "2026-02-01", "written", "Form 1"), "consent_decision", "no consent to withdraw"),
    (("evaluation", "give", "2026-02-01", "telepathy", "Form 1"), "consent_method", "not online, verbal or written"),
    (("evaluation", "give", "2026-02-01", "written", ""), "consent_evidence", "is empty"),
    (("evaluation", "give", "01/02/2026", "written", "Form 1"), "consent_date", "not a date"),
    (("carer_involvement", "give", "2026-02-01", "written", "Form 1"), "consent_purpose", "names a carer"),
    (("", "give", "2026-02-01", "written", "Form 1"), "consent_purpose", "consent_purpose is empty"),
])
def test_a_bad_consent_cell_names_its_line_and_column_and_nothing_is_written(world, api, consent, column, words):
    answer = import_file(world, api, csv_text(row("P1", "A-1", GIVE), row("P2", "A-2", consent)))
    assert answer.status_code == 400
    errors = answer.json()["errors"]
    assert [e["field"] for e in errors] == [f"rows.3.{column}"], errors
    assert errors[0]["message"].startswith("Line 3:") and words in errors[0]["message"]
    assert not ConsentRecord.objects.filter(recorded_by=world.admin).exists()
    assert not ServiceUserReference.objects.exists() and not CourseOfCare.objects.filter(reference__startswith="C-P").exists()
    assert not Appointment.objects.filter(reference__startswith="A-").exists()


def test_referral_date_end_date_and_the_consent_columns_are_optional(world, api):
    header = ["service_user_ref", "course_ref", "appointment_ref", "date", "type", "modality", "attended"]
    answer = import_file(world, api, csv_text(["P1", "C-1", "A-1", "2026-02-10", "assessment", "phone", "yes"], header=header))
    assert answer.status_code == 201, answer.json()
    course = CourseOfCare.objects.get(reference="C-1")
    assert (course.referral_date, course.ended_on, str(course.started_on)) == (None, None, "2026-02-10")

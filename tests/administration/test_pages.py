"""The admin pages through Django's test client: each write goes through the API's service, bad input
is shown on the page with the form kept and nothing saved, and the API refuses the same input."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from backend.accounts.models import Role, ServiceUserReference, Team, TeamMembership, User
from backend.audit.models import AuditEvent
from backend.consent.models import ConsentWording
from backend.outcomes.models import Instrument, MeasureSchedule, Response
from backend.sessions.models import TeamSessionSettings
from tests.outcomes.test_import import GOOD, csv_text, row

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(world, client):
    client.force_login(world.admin)
    return client


def text(response) -> str:
    return response.content.decode()


# --- Teams ---------------------------------------------------------------------------------------
def test_an_admin_sets_up_a_team_with_a_phone_number_settings_and_a_schedule(world, admin_client):
    response = admin_client.post("/administration/teams/", {
        "name": "East", "service": "Talking therapies", "site": "York", "phone_number": "0113 496 0000",
        "face_to_face_address": "1 Station Road, York", "opening_hours": "Monday to Friday, 9am to 5pm"})
    team = Team.objects.get(organisation=world.organisation, name="East")
    assert response.status_code == 302 and response["Location"] == f"/administration/teams/{team.pk}/"
    assert team.phone_number == "+441134960000"  # stored as E.164 by the API's PhoneNumberField
    page = text(admin_client.get(response["Location"]))
    assert "0113 496 0000" in page and "Set up the team" not in page

    admin_client.post(f"/administration/teams/{team.pk}/settings/", {"choice_cutoff_hours": "48"})
    settings_row = TeamSessionSettings.objects.get(team=team)
    assert (settings_row.choice_cutoff_hours, settings_row.safety_check_required) == (48, False)
    admin_client.post(f"/administration/teams/{team.pk}/schedules/", {"instrument": "phq9", "when": "every_session"})
    assert MeasureSchedule.objects.get(team=team).instrument.code == "phq9"
    assert AuditEvent.objects.filter(object_type="accounts.team", object_id=str(team.pk), action="create", actor=world.admin).exists()


def test_a_duplicate_team_name_is_shown_on_the_page_with_the_form_kept_and_nothing_saved(world, admin_client, api):
    before = Team.objects.count()
    response = admin_client.post("/administration/teams/", {"name": "north", "service": "Crisis", "site": "Leeds", "phone_number": "0113 496 0001"})
    assert response.status_code == 400
    page = text(response)
    assert "There is a problem" in page and "This organisation already has a team with this name." in page
    assert 'value="Crisis"' in page and 'value="0113 496 0001"' in page  # the form as typed
    assert Team.objects.count() == before
    # The API refuses the same with 409 naming the field.
    answer = api(world.admin).post("/api/v1/teams/", {"organisation_id": world.organisation.pk, "name": "north", "service": "Crisis", "site": "Leeds"}, format="json")
    assert answer.status_code == 409 and answer.json()["errors"][0]["field"] == "name"


def test_a_bad_phone_number_and_cut_off_are_refused_as_the_api_refuses_them(world, admin_client):
    response = admin_client.post(f"/administration/teams/{world.north.pk}/details/", {"name": "North", "service": "S", "site": "Leeds", "phone_number": "12"})
    assert response.status_code == 400 and "This phone number is not complete or not in use." in text(response)
    world.north.refresh_from_db()
    assert world.north.phone_number != "12"
    response = admin_client.post(f"/administration/teams/{world.north.pk}/settings/", {"choice_cutoff_hours": "9999"})
    assert response.status_code == 400 and not TeamSessionSettings.objects.filter(team=world.north, choice_cutoff_hours=9999).exists()


def test_an_admin_cannot_touch_another_organisations_team_or_people(world, elsewhere, client):
    client.force_login(elsewhere.admin)
    # The world's clinician is not offered for Elsewhere's team, and posting their id anyway is refused.
    response = client.post(f"/administration/teams/{elsewhere.team.pk}/members/", {"person": world.other_clinician.pk})
    assert response.status_code == 400 and "Select a valid choice" in text(response)
    response = client.post(f"/administration/teams/{elsewhere.team.pk}/caseload/", {"person": world.other_service_user.pk})
    assert response.status_code == 400
    response = client.post(f"/administration/staff/{elsewhere.clinician.pk}/teams/", {"team": world.north.pk})
    assert response.status_code == 400
    assert not TeamMembership.objects.filter(team=world.north, user=elsewhere.clinician).exists()
    assert not TeamMembership.objects.filter(team=elsewhere.team, user=world.other_clinician).exists()
    staff_page = text(client.get("/administration/staff/"))
    assert world.clinician.full_name not in staff_page and elsewhere.clinician.full_name in staff_page
    assert world.service_user.full_name not in text(client.get("/administration/people/"))


# --- Staff ---------------------------------------------------------------------------------------
def test_an_admin_adds_a_staff_member_puts_them_in_a_team_changes_their_role_and_deactivates_them(world, admin_client):
    response = admin_client.post("/administration/staff/", {"full_name": "Nia Clinician", "email": "Nia@Example.test", "role": "clinician",
                                                            "phone_number": "07911 123456"})
    nia = User.objects.get(email="nia@example.test")
    assert response["Location"] == f"/administration/staff/{nia.pk}/"
    assert (nia.organisation_id, nia.role, nia.has_usable_password(), nia.phone_number) == (world.organisation.pk, Role.CLINICIAN, False, "+447911123456")
    admin_client.post(f"/administration/staff/{nia.pk}/teams/", {"team": world.north.pk})
    assert TeamMembership.objects.filter(team=world.north, user=nia).exists()

    # An evaluator is not a team member: changing the role ends the membership, through user_update.
    admin_client.post(f"/administration/staff/{nia.pk}/details/", {"full_name": "Nia Clinician", "role": "evaluator"})
    nia.refresh_from_db()
    assert nia.role == Role.EVALUATOR and not TeamMembership.objects.filter(user=nia).exists()
    assert AuditEvent.objects.filter(object_type="accounts.teammembership", action="end", detail__reason="role_changed").exists()

    admin_client.post(f"/administration/staff/{nia.pk}/deactivate/")
    nia.refresh_from_db()
    assert not nia.is_active and User.objects.filter(pk=nia.pk).exists()  # never deleted
    assert "can no longer log in" in text(admin_client.get(f"/administration/staff/{nia.pk}/"))


def test_a_taken_email_keeps_the_form_and_an_admin_cannot_change_their_own_role(world, admin_client, api):
    response = admin_client.post("/administration/staff/", {"full_name": "Copy", "email": world.clinician.email, "role": "admin"})
    assert response.status_code == 400 and "An account with this email address already exists." in text(response)
    assert 'value="Copy"' in text(response)
    response = admin_client.post(f"/administration/staff/{world.admin.pk}/details/", {"full_name": world.admin.full_name, "role": "clinician"})
    assert response.status_code == 400 and "You cannot change your own role" in text(response)
    world.admin.refresh_from_db()
    assert world.admin.role == Role.ADMIN
    # The API: a service user's role never changes (400); a staff role may (200).
    client = api(world.admin)
    assert client.patch(f"/api/v1/users/{world.service_user.pk}/", {"role": "clinician"}, format="json").status_code == 400
    assert client.patch(f"/api/v1/users/{world.peer_worker.pk}/", {"role": "clinician"}, format="json").status_code == 200


def test_an_invitation_is_emailed_from_the_staff_page(world, admin_client, mail_server):
    admin_client.post("/administration/staff/", {"full_name": "Ivy Invited", "email": "ivy@example.test", "role": "peer_worker"})
    ivy = User.objects.get(email="ivy@example.test")
    response = admin_client.post(f"/administration/staff/{ivy.pk}/invite/", {"email": "ivy@example.test"})
    assert response.status_code == 302 and response["Location"] == f"/administration/staff/{ivy.pk}/"
    assert [received.envelope_to for received in mail_server.messages] == [["ivy@example.test"]]


# --- Service users -------------------------------------------------------------------------------
def test_an_admin_registers_a_service_user_and_puts_them_on_and_off_a_caseload(world, admin_client):
    response = admin_client.post("/administration/people/", {"full_name": "Rae Registered", "email": "rae@example.test"})
    rae = User.objects.get(email="rae@example.test")
    assert rae.role == Role.SERVICE_USER and rae.registrations.filter(organisation=world.organisation).exists()
    assert response["Location"] == f"/administration/people/{rae.pk}/"
    admin_client.post(f"/administration/people/{rae.pk}/caseload/", {"team": world.south.pk})
    assert world.south.caseload.filter(service_user=rae).exists()
    assert "Rae Registered" in text(admin_client.get(f"/administration/teams/{world.south.pk}/"))
    admin_client.post(f"/administration/teams/{world.south.pk}/caseload/{rae.pk}/remove/", {"next": "person"})
    assert not world.south.caseload.filter(service_user=rae).exists()


# --- Consent -------------------------------------------------------------------------------------
def test_an_admin_publishes_a_new_consent_wording_that_asks_everyone_again(world, admin_client):
    response = admin_client.post("/administration/consent/video/", {"text": "New words about video.", "effective_from": "2099-01-01",
                                                                     "requires_reconsent": "on"})
    assert response.status_code == 302
    wording = ConsentWording.objects.filter(purpose__code="video").order_by("-version").first()
    assert (wording.text, wording.requires_reconsent, str(wording.effective_from)) == ("New words about video.", True, "2099-01-01")
    response = admin_client.post("/administration/consent/video/", {"text": "Back-dated.", "effective_from": "2001-01-01"})
    assert response.status_code == 400 and "A new wording cannot take effect in the past." in text(response) and "Back-dated." in text(response)


# --- Local questionnaires ------------------------------------------------------------------------
QUESTIONNAIRE = {
    "code": "wellbeing3", "name": "WB-3", "title": "Three wellbeing questions", "stem": "Over the last week:",
    "items": "I felt calm\nI slept well\nR: I felt on edge", "options": "0 = Never\n1 = Sometimes\n2 = Often",
    "bands": "0 to 2 = Low\n3 to 6 = High", "higher_is_worse": "false", "max_missing_items": "0",
}


def test_a_local_questionnaire_is_made_through_the_api_service_and_one_that_does_not_score_is_refused(world, admin_client):
    response = admin_client.post("/administration/questionnaires/", {**QUESTIONNAIRE, "bands": "0 to 2 = Low\n4 to 6 = High"})
    assert response.status_code == 400
    assert "The bands must follow on without gaps or overlaps" in text(response) and "I slept well" in text(response)
    assert not Instrument.objects.filter(code="wellbeing3").exists()
    response = admin_client.post("/administration/questionnaires/", {**QUESTIONNAIRE, "max_missing_items": "3"})
    assert response.status_code == 400 and "At least one item must be answered to score." in text(response)

    assert admin_client.post("/administration/questionnaires/", QUESTIONNAIRE).status_code == 302
    instrument = Instrument.objects.get(code="wellbeing3")
    assert instrument.organisation_id == world.organisation.pk
    assert list(instrument.items.order_by("number").values_list("reverse_keyed", flat=True)) == [False, False, True]
    admin_client.post("/administration/questionnaires/wellbeing3/retire/")
    instrument.refresh_from_db()
    assert not instrument.is_active


# --- The historic import -------------------------------------------------------------------------
def _upload(content: bytes, name: str = "records.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="text/csv")


def test_an_import_that_fails_its_dry_run_lists_every_problem_by_line_then_a_good_file_imports(world, admin_client):
    bad = csv_text(row("NHS-9", "C-9", "A-9", "2024-13-40"), row("NHS-9", "C-9", "A-10", "2024-02-01", modality="carrier pigeon"))
    response = admin_client.post("/administration/import/", {"team": world.north.pk, "file": _upload(bad.encode()), "action": "check"})
    assert response.status_code == 400
    page = text(response)
    assert "2 problems found; nothing was imported." in page
    assert "<td>2</td>" in page and "<td>3</td>" in page  # each line named
    assert not ServiceUserReference.objects.filter(reference="NHS-9").exists() and not Response.objects.filter(appointment__reference="A-9").exists()

    response = admin_client.post("/administration/import/", {"team": world.north.pk, "file": _upload(GOOD.encode()), "action": "check"})
    assert response.status_code == 200 and "The file is ready to import" in text(response)
    assert not Response.objects.filter(appointment__course__team=world.north, appointment__reference="A-1").exists()
    response = admin_client.post("/administration/import/", {"team": world.north.pk, "file": _upload(GOOD.encode()), "action": "import"})
    assert response.status_code == 200 and "Imported" in text(response)
    assert Response.objects.filter(appointment__reference="A-1").exists()


def test_a_file_that_is_not_csv_is_refused_with_a_clear_message(world, admin_client):
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe"
    response = admin_client.post("/administration/import/", {"team": world.north.pk, "file": _upload(png, "scan.png"), "action": "check"})
    assert response.status_code == 400 and "The file is not UTF-8 text" in text(response)


# --- The audit trail and the export log ----------------------------------------------------------
def test_the_audit_trail_is_searched_by_person_actor_and_date_and_the_chain_check_runs(world, elsewhere, admin_client):
    page = text(admin_client.get("/administration/audit/", {"person": world.service_user.email, "actor": "", "date_from": "", "date_to": ""}))
    assert "Events, newest first" in page
    events = page.count("<tr>") - 1
    assert events >= 1
    # Elsewhere's service user is not the admin's to search for.
    page = text(admin_client.get("/administration/audit/", {"person": elsewhere.service_user.email}))
    assert "No events match this search" in page
    page = text(admin_client.get("/administration/audit/", {"date_from": "2026-12-02", "date_to": "2026-12-01"}))
    assert "The end date is before the start date." in page

    response = admin_client.post("/administration/audit/chain-check/")
    assert response.status_code == 302
    page = text(admin_client.get(response["Location"]))
    assert "The audit trail is whole." in page
    assert AuditEvent.objects.filter(object_type="audit.chain", actor=world.admin).exists()


def test_the_export_log_shows_this_organisations_exports_only(world, elsewhere, admin_client):
    from backend.audit.actor import Actor
    from backend.audit.services import audit_record

    audit_record(actor=Actor(world.evaluator, via="test"), action="list", object_type="evaluation.export",
                 detail={"dataset": "sessions", "format": "csv", "outcome": "made", "rows": 12, "people": 6, "sha256": "a" * 64})
    audit_record(actor=Actor(elsewhere.evaluator, via="test"), action="list", object_type="evaluation.export",
                 detail={"dataset": "secret_elsewhere", "format": "csv", "outcome": "made", "rows": 1, "people": 9, "sha256": "b" * 64})
    page = text(admin_client.get("/administration/exports/"))
    assert "sessions, csv" in page and "Made: 12 rows, 6 people" in page
    assert "secret_elsewhere" not in page


def test_the_audit_trail_never_shows_another_organisations_events(world, elsewhere, client):
    client.force_login(elsewhere.admin)
    client.get(f"/administration/people/{elsewhere.service_user.pk}/")  # an event by Elsewhere's admin about their own person
    client.force_login(world.admin)
    for search in ({"actor": elsewhere.admin.email}, {"person": elsewhere.service_user.full_name}):
        assert "No events match this search" in text(client.get("/administration/audit/", search))
    page = text(client.get("/administration/audit/", {"actor": ""}))
    assert elsewhere.admin.email not in page and elsewhere.service_user.full_name not in page


# --- Two-factor reset and subject access --------------------------------------------------------
def test_an_admin_removes_a_colleagues_authenticator_app_from_the_staff_page(world, admin_client):
    from backend.accounts import two_factor
    from tests.factories import enrol_totp

    enrol_totp(world.clinician)
    page = text(admin_client.get(f"/administration/staff/{world.clinician.pk}/"))
    assert "Remove" in page and "authenticator app" in page
    response = admin_client.post(f"/administration/staff/{world.clinician.pk}/two-factor/reset/")
    assert response.status_code == 302 and not two_factor.has_two_factor(world.clinician)
    assert AuditEvent.objects.filter(object_type="accounts.user", object_id=str(world.clinician.pk), actor=world.admin,
                                     detail__two_factor="reset_by_admin").exists()
    assert "has not set up an authenticator app" in text(admin_client.get(f"/administration/staff/{world.clinician.pk}/"))


def test_the_person_page_links_to_their_records_for_a_subject_access_request(world, admin_client):
    page = text(admin_client.get(f"/administration/people/{world.service_user.pk}/"))
    assert f'href="/people/{world.service_user.pk}/records/"' in page
    assert admin_client.get(f"/people/{world.service_user.pk}/records/").status_code == 200

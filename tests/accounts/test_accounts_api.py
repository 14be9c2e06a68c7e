"""Accounts, teams, caseloads and carer links through the API: the happy paths and bad input."""

import pytest

from backend.accounts.models import CarerLink, CaseloadEntry, Role, Team, User
from backend.audit.models import AuditEvent


def test_admin_creates_an_account_with_an_argon2_password(world, api):
    response = api(world.admin).post(
        "/api/v1/users/",
        {"email": "New.Clinician@Example.test", "full_name": "New Clinician", "role": "clinician", "password": "Long-enough-pass-42"},
        format="json",
    )
    assert response.status_code == 201
    user = User.objects.get(pk=response.json()["id"])
    assert user.email == "new.clinician@example.test" and user.password.startswith("argon2")
    assert "password" not in response.json()
    assert AuditEvent.objects.filter(action="create", object_type="accounts.user", object_id=str(user.pk), actor=world.admin).exists()


@pytest.mark.parametrize(
    "change, field",
    [
        ({"password": "short"}, "password"),
        ({"role": "superhero"}, "role"),
        ({"email": "service_user"}, "email"),
        ({"is_staff": True}, "is_staff"),
    ],
)
def test_bad_account_input_names_the_field_and_writes_nothing(world, api, change, field):
    body = {"email": "someone@example.test", "full_name": "Someone", "role": "clinician", "password": "Long-enough-pass-42", **change}
    before = User.objects.count()
    response = api(world.admin).post("/api/v1/users/", body, format="json")
    assert response.status_code == 400
    assert field in [e["field"] for e in response.json()["errors"]]
    assert User.objects.count() == before


def test_a_taken_email_is_a_409(world, api):
    body = {"email": world.clinician.email.upper(), "full_name": "Dup", "role": "clinician", "password": "Long-enough-pass-42"}
    response = api(world.admin).post("/api/v1/users/", body, format="json")
    assert response.status_code == 409 and response.json()["errors"][0]["field"] == "email"


def test_role_cannot_be_changed_after_creation(world, api):
    response = api(world.admin).patch(f"/api/v1/users/{world.carer.pk}/", {"role": "admin"}, format="json")
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "role"
    world.carer.refresh_from_db()
    assert world.carer.role == Role.CARER


def test_admin_cannot_deactivate_themselves(world, api):
    response = api(world.admin).patch(f"/api/v1/users/{world.admin.pk}/", {"is_active": False}, format="json")
    assert response.status_code == 409


def test_teams_are_made_in_an_organisation_with_unique_names(world, api):
    client = api(world.admin)
    body = {"organisation_id": world.organisation.pk, "name": "north", "service": "Crisis", "site": "York"}
    assert client.post("/api/v1/teams/", body, format="json").status_code == 409
    assert client.post("/api/v1/teams/", {**body, "organisation_id": 999999}, format="json").json()["errors"][0]["field"] == "organisation_id"
    assert client.post("/api/v1/teams/", {**body, "name": "East"}, format="json").status_code == 201
    assert Team.objects.filter(organisation=world.organisation).count() == 3


def test_only_practitioners_join_teams_and_only_service_users_join_caseloads(world, api):
    client = api(world.admin)
    response = client.post(f"/api/v1/teams/{world.north.pk}/members/", {"user_id": world.service_user.pk}, format="json")
    assert response.status_code == 400 and response.json()["code"] == "wrong_role"
    response = client.post(f"/api/v1/teams/{world.north.pk}/caseload/", {"service_user_id": world.clinician.pk}, format="json")
    # Not a service user answers as an unknown id does (tests/accounts/test_organisations.py).
    assert response.status_code == 404 and response.json()["errors"][0]["field"] == "service_user_id"
    response = client.post(f"/api/v1/teams/{world.north.pk}/caseload/", {"service_user_id": world.service_user.pk}, format="json")
    assert response.status_code == 409 and response.json()["code"] == "already_on_caseload"


def test_a_clinician_adds_a_referral_to_their_caseload_and_sees_them(world, api):
    client = api(world.clinician)
    response = client.post(f"/api/v1/teams/{world.north.pk}/caseload/", {"service_user_id": world.other_service_user.pk}, format="json")
    assert response.status_code == 201
    assert client.get(f"/api/v1/service-users/{world.other_service_user.pk}/").status_code == 200
    assert client.delete(f"/api/v1/teams/{world.north.pk}/caseload/{world.other_service_user.pk}/").status_code == 204
    assert client.get(f"/api/v1/service-users/{world.other_service_user.pk}/").status_code == 404


def test_service_user_detail_shows_their_teams(world, api):
    body = api(world.clinician).get(f"/api/v1/service-users/{world.service_user.pk}/").json()
    assert body["teams"] == [{"id": world.north.pk, "name": "North"}]
    assert body["email"] == world.service_user.email


def test_me_shows_teams_for_practitioners_and_service_users(world, api):
    assert [t["id"] for t in api(world.clinician).get("/api/v1/me/").json()["teams"]] == [world.north.pk]
    assert [t["id"] for t in api(world.service_user).get("/api/v1/me/").json()["teams"]] == [world.north.pk]
    assert api(world.evaluator).get("/api/v1/me/").json()["teams"] == []


def test_a_service_user_involves_a_carer_and_ends_the_link(world, api):
    client = api(world.service_user)
    response = client.post("/api/v1/carer-links/", {"carer_email": world.unlinked_carer.email, "relationship": "friend"}, format="json")
    assert response.status_code == 201
    link_id = response.json()["id"]
    assert response.json()["state"] == "pending" and response.json()["carer"] is None
    assert api(world.unlinked_carer).get("/api/v1/carer-links/").json()["results"][0]["service_user"]["id"] == world.service_user.pk
    ended = client.post(f"/api/v1/carer-links/{link_id}/end/")  # a proposal can be withdrawn before it is answered
    assert ended.status_code == 200 and ended.json()["is_active"] is False
    link = CarerLink.objects.get(pk=link_id)
    assert link.ended_by == world.service_user and link.ended_at is not None  # kept as history
    assert client.post(f"/api/v1/carer-links/{link_id}/end/").status_code == 409
    # A new link can be made after the old one ended; both stay in the history.
    assert client.post("/api/v1/carer-links/", {"carer_email": world.unlinked_carer.email, "relationship": "friend"}, format="json").status_code == 201
    assert CarerLink.objects.filter(service_user=world.service_user, carer=world.unlinked_carer).count() == 2


def test_a_carer_can_step_back(world, api):
    assert api(world.carer).post(f"/api/v1/carer-links/{world.carer_link.pk}/end/").status_code == 200
    assert api(world.carer).get(f"/api/v1/service-users/{world.service_user.pk}/").status_code == 403


@pytest.mark.parametrize(
    "body, field, status",
    [
        # An email with no carer account is not bad input: the proposal waits (test_organisations.py).
        ({"carer_email": "{carer}", "relationship": "friend"}, "carer_email", 409),  # already linked
        ({"carer_email": "{unlinked}", "relationship": "pet"}, "relationship", 400),
        ({"carer_email": "{unlinked}"}, "relationship", 400),
    ],
)
def test_bad_carer_link_input(world, api, body, field, status):
    body = {k: v.format(clinician=world.clinician.email, carer=world.carer.email, unlinked=world.unlinked_carer.email) for k, v in body.items()}
    before = CarerLink.objects.count()
    response = api(world.service_user).post("/api/v1/carer-links/", body, format="json")
    assert response.status_code == status
    assert response.json()["errors"][0]["field"] == field
    assert CarerLink.objects.count() == before


def test_unknown_api_path_is_a_json_404(db, api):
    response = api().get("/api/v1/no-such-thing/")
    assert response.status_code == 404 and response.json()["code"] == "not_found"


def test_method_not_allowed_is_a_json_405(world, api):
    response = api(world.admin).delete("/api/v1/teams/")
    assert response.status_code == 405 and response.json()["code"] == "method_not_allowed"


def test_caseload_removal_is_audited(world, api):
    api(world.clinician).delete(f"/api/v1/teams/{world.north.pk}/caseload/{world.service_user.pk}/")
    assert not CaseloadEntry.objects.filter(team=world.north, service_user=world.service_user).exists()
    event = AuditEvent.objects.get(action="end", object_type="accounts.caseloadentry")
    assert event.actor == world.clinician and event.detail == {"team": world.north.pk, "service_user": world.service_user.pk}

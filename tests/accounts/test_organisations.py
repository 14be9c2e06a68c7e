"""Organisations are a boundary (issue 10): every cross-organisation case.

The world's trust (tests/factories.py `World`) and a second trust (`Elsewhere`: its own team, clinician,
admin, evaluator and a service user on its team's caseload). Nothing of one may be seen, changed or
even confirmed to exist from the other; carer links take effect only when the carer accepts, and a
proposal never names anyone.
"""

from __future__ import annotations

import csv
import io
import zipfile

import pytest

from backend.accounts import services
from backend.accounts.models import CarerLink, CaseloadEntry, OrganisationRegistration, Role, Team, TeamMembership, User
from backend.accounts.selectors import sharing_carer_links
from backend.audit.actor import Actor
from backend.consent.models import PurposeCode
from backend.core.errors import InvalidInput
from backend.outcomes import services as outcome_services
from backend.outcomes.selectors import instrument_by_code
from backend.sessions import services as session_services
from tests.factories import SYSTEM, book, give_consent, let_time_pass, link_carer, make_user

ABSENT = 999_999


def caseload_add(api, actor, team, service_user_id):
    return api(actor).post(f"/api/v1/teams/{team.pk}/caseload/", {"service_user_id": service_user_id}, format="json")


# --- Caseload admission ------------------------------------------------------------------------------
@pytest.mark.parametrize("who", ["clinician", "admin"])
def test_a_service_user_of_another_organisation_cannot_be_added_to_a_caseload(world, elsewhere, api, who):
    """The finding: a clinician added another trust's service user by id (201), then read them."""
    actor = getattr(world, who)
    response = caseload_add(api, actor, world.north, elsewhere.service_user.pk)
    assert response.status_code == 404, response.content
    assert not CaseloadEntry.objects.filter(service_user=elsewhere.service_user, team=world.north).exists()
    assert elsewhere.service_user.full_name.encode() not in response.content
    # ... and so nothing of theirs can be read afterwards: record, phone number, consent history.
    client = api(world.clinician)
    for url in (f"/api/v1/service-users/{elsewhere.service_user.pk}/",
                f"/api/v1/service-users/{elsewhere.service_user.pk}/consent/",
                f"/api/v1/service-users/{elsewhere.service_user.pk}/consent/history/"):
        response = client.get(url)
        assert response.status_code == 404, (url, response.content)
        assert elsewhere.service_user.phone_number.encode() not in response.content


def test_the_caseload_answer_is_the_same_for_any_id_outside_the_organisation(world, elsewhere, api):
    """Absent, not a service user, a carer, or registered elsewhere: one status, one body."""
    answers = {
        name: caseload_add(api, world.clinician, world.north, pk)
        for name, pk in {"absent": ABSENT, "clinician": world.other_clinician.pk, "carer": world.unlinked_carer.pk,
                         "elsewhere_staff": elsewhere.clinician.pk, "elsewhere_service_user": elsewhere.service_user.pk}.items()
    }
    assert {r.status_code for r in answers.values()} == {404}
    assert len({r.content for r in answers.values()}) == 1, {name: r.content for name, r in answers.items()}


def test_a_service_user_registered_with_both_organisations_can_join_both_caseloads(world, elsewhere, api):
    services.service_user_register(actor=SYSTEM, organisation=world.organisation, service_user=elsewhere.service_user)
    response = caseload_add(api, world.clinician, world.north, elsewhere.service_user.pk)
    assert response.status_code == 201
    assert response.json()["service_user"]["id"] == elsewhere.service_user.pk
    # Each organisation sees only its own teams of the person's.
    for client, team in ((api(world.clinician), world.north), (api(elsewhere.clinician), elsewhere.team)):
        detail = client.get(f"/api/v1/service-users/{elsewhere.service_user.pk}/").json()
        listed = next(p for p in client.get("/api/v1/service-users/").json()["results"] if p["id"] == elsewhere.service_user.pk)
        assert detail["teams"] == listed["teams"] == [{"id": team.pk, "name": team.name}]


def test_the_caseload_service_itself_refuses_an_unregistered_person(world, elsewhere):
    from backend.core.errors import NotFound

    with pytest.raises(NotFound):
        services.caseload_add(actor=Actor(world.clinician, via="test"), team=world.north, service_user=elsewhere.service_user)


# --- Registration --------------------------------------------------------------------------------------
def test_an_admin_registers_people_with_their_own_organisation_only(world, elsewhere, api):
    legacy = services.user_create(actor=SYSTEM, email="legacy@example.test", full_name="Lee Gacy", role=Role.SERVICE_USER, password=None)
    assert not legacy.registrations.exists()
    client = api(world.admin)
    # Someone registered only elsewhere answers exactly as an unknown id.
    elsewhere_answer, absent_answer = (client.post("/api/v1/registrations/", {"service_user_id": pk}, format="json")
                                       for pk in (elsewhere.service_user.pk, ABSENT))
    assert elsewhere_answer.status_code == absent_answer.status_code == 404
    assert elsewhere_answer.json()["errors"] == absent_answer.json()["errors"] or (
        elsewhere_answer.json()["detail"].replace(str(elsewhere.service_user.pk), "") == absent_answer.json()["detail"].replace(str(ABSENT), ""))
    assert not OrganisationRegistration.objects.filter(organisation=world.organisation, service_user=elsewhere.service_user).exists()
    # Someone registered nowhere (an account from before organisations were a boundary) can be.
    response = client.post("/api/v1/registrations/", {"service_user_id": legacy.pk}, format="json")
    assert response.status_code == 201 and response.json()["organisation"] == world.organisation.pk
    assert client.post("/api/v1/registrations/", {"service_user_id": legacy.pk}, format="json").status_code == 409
    listed = {r["service_user"]["id"] for r in client.get("/api/v1/registrations/").json()["results"]}
    assert legacy.pk in listed and world.service_user.pk in listed and elsewhere.service_user.pk not in listed
    assert caseload_add(api, world.clinician, world.north, legacy.pk).status_code == 201


def test_an_admin_creates_staff_in_their_organisation_and_registers_service_users(world, elsewhere, api):
    client = api(elsewhere.admin)
    body = {"full_name": "New Person", "password": "Long-enough-pass-42"}
    clinician = client.post("/api/v1/users/", {**body, "email": "new.clin@example.test", "role": "clinician"}, format="json").json()
    person = client.post("/api/v1/users/", {**body, "email": "new.su@example.test", "role": "service_user"}, format="json").json()
    carer = client.post("/api/v1/users/", {**body, "email": "new.carer@example.test", "role": "carer"}, format="json").json()
    assert clinician["organisation"] == elsewhere.organisation.pk
    assert person["organisation"] is None and carer["organisation"] is None
    assert OrganisationRegistration.objects.filter(organisation=elsewhere.organisation, service_user_id=person["id"]).exists()
    assert not OrganisationRegistration.objects.filter(service_user_id=person["id"]).exclude(organisation=elsewhere.organisation).exists()
    assert caseload_add(api, elsewhere.clinician, elsewhere.team, person["id"]).status_code == 201
    assert caseload_add(api, world.clinician, world.north, person["id"]).status_code == 404


def test_staff_accounts_need_an_organisation(db):
    with pytest.raises(InvalidInput) as raised:
        services.user_create(actor=SYSTEM, email="orphan@example.test", full_name="Or Phan", role=Role.CLINICIAN, password=None)
    assert raised.value.field == "organisation"


def test_a_practitioner_joins_only_their_own_organisations_teams(world, elsewhere, api):
    with pytest.raises(InvalidInput) as raised:
        services.team_member_add(actor=SYSTEM, team=world.north, user=elsewhere.clinician)
    assert raised.value.code == "other_organisation"
    # Through the API another trust's clinician is an unknown account.
    response = api(world.admin).post(f"/api/v1/teams/{world.north.pk}/members/", {"user_id": elsewhere.clinician.pk}, format="json")
    assert response.status_code == 400 and response.json()["code"] == "does_not_exist"
    assert not TeamMembership.objects.filter(team=world.north, user=elsewhere.clinician).exists()


# --- Reads across organisations ------------------------------------------------------------------------
def test_practitioners_see_nothing_of_another_organisation(world, elsewhere, api):
    client = api(elsewhere.clinician)
    assert [p["id"] for p in client.get("/api/v1/service-users/").json()["results"]] == [elsewhere.service_user.pk]
    for url in (f"/api/v1/service-users/{world.service_user.pk}/", f"/api/v1/teams/{world.north.pk}/",
                f"/api/v1/teams/{world.north.pk}/caseload/", f"/api/v1/teams/{world.north.pk}/members/",
                f"/api/v1/service-users/{world.service_user.pk}/consent/", f"/api/v1/appointments/{world.appointment.pk}/"):
        assert client.get(url).status_code == 404, url
    assert [t["id"] for t in client.get("/api/v1/teams/").json()["results"]] == [elsewhere.team.pk]


# --- Admin powers ----------------------------------------------------------------------------------------
def test_an_admin_sees_only_their_own_organisations_accounts(world, elsewhere, api):
    listed = {u["id"] for u in api(world.admin).get("/api/v1/users/").json()["results"]}
    assert {world.clinician.pk, world.service_user.pk, world.carer.pk, world.admin.pk} <= listed
    assert listed.isdisjoint({elsewhere.clinician.pk, elsewhere.admin.pk, elsewhere.evaluator.pk, elsewhere.service_user.pk})
    assert world.unlinked_carer.pk not in listed  # a carer nobody of this trust involves


@pytest.mark.parametrize("target", ["clinician", "service_user", "admin", "evaluator"])
def test_an_admin_cannot_read_or_change_another_organisations_accounts(world, elsewhere, api, target):
    account = getattr(elsewhere, target)
    client = api(world.admin)
    assert client.get(f"/api/v1/users/{account.pk}/").status_code == 404
    response = client.patch(f"/api/v1/users/{account.pk}/", {"is_active": False, "phone_number": "0"}, format="json")
    assert response.status_code == 404
    account.refresh_from_db()
    assert account.is_active


def test_an_admin_manages_only_their_own_organisation(world, elsewhere, api):
    client = api(world.admin)
    assert [o["id"] for o in client.get("/api/v1/organisations/").json()["results"]] == [world.organisation.pk]
    assert client.get(f"/api/v1/organisations/{elsewhere.organisation.pk}/").status_code == 404
    assert client.patch(f"/api/v1/organisations/{elsewhere.organisation.pk}/", {"name": "Taken over"}, format="json").status_code == 404
    assert client.patch(f"/api/v1/organisations/{world.organisation.pk}/", {"name": "Renamed"}, format="json").status_code == 200
    # Organisations are made by the operator (manage.py organisation_create), not through the API.
    assert client.post("/api/v1/organisations/", {"name": "Another Trust"}, format="json").status_code == 405
    elsewhere.organisation.refresh_from_db()
    assert elsewhere.organisation.name.startswith("Elsewhere")


def test_an_admin_cannot_touch_another_organisations_teams(world, elsewhere, api):
    client, team = api(world.admin), elsewhere.team
    assert team.pk not in {t["id"] for t in client.get("/api/v1/teams/").json()["results"]}
    for method, url, body in (
        ("get", f"/api/v1/teams/{team.pk}/", None),
        ("patch", f"/api/v1/teams/{team.pk}/", {"site": "Hijacked"}),
        ("get", f"/api/v1/teams/{team.pk}/members/", None),
        ("post", f"/api/v1/teams/{team.pk}/members/", {"user_id": world.clinician.pk}),
        ("delete", f"/api/v1/teams/{team.pk}/members/{elsewhere.clinician.pk}/", None),
        ("get", f"/api/v1/teams/{team.pk}/caseload/", None),
        ("post", f"/api/v1/teams/{team.pk}/caseload/", {"service_user_id": world.service_user.pk}),
        ("delete", f"/api/v1/teams/{team.pk}/caseload/{elsewhere.service_user.pk}/", None),
        ("get", f"/api/v1/teams/{team.pk}/session-settings/", None),
        ("patch", f"/api/v1/teams/{team.pk}/session-settings/", {"choice_cutoff_hours": 1}),
        ("get", f"/api/v1/teams/{team.pk}/measure-schedules/", None),
        ("post", f"/api/v1/teams/{team.pk}/measure-schedules/", {"instrument": "phq9", "when": "every_session"}),
    ):
        response = getattr(client, method)(url, body, format="json")
        assert response.status_code == 404, (method, url, response.content)
    body = {"organisation_id": elsewhere.organisation.pk, "name": "Planted", "service": "Crisis", "site": "York"}
    response = client.post("/api/v1/teams/", body, format="json")
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "organisation_id"
    team.refresh_from_db()
    assert team.site != "Hijacked" and not Team.objects.filter(name="Planted").exists()
    assert TeamMembership.objects.filter(team=team, user=elsewhere.clinician).exists()
    assert CaseloadEntry.objects.filter(team=team, service_user=elsewhere.service_user).exists()


def test_an_admin_cannot_remove_another_organisations_schedule_or_import_into_its_team(world, elsewhere, api):
    schedule = outcome_services.schedule_set(actor=Actor(elsewhere.admin, via="test"), team=elsewhere.team,
                                             instrument=instrument_by_code("phq9"), when="every_session")
    client = api(world.admin)
    assert client.delete(f"/api/v1/teams/{elsewhere.team.pk}/measure-schedules/{schedule.pk}/").status_code == 404
    assert client.delete(f"/api/v1/teams/{world.north.pk}/measure-schedules/{schedule.pk}/").status_code == 404
    assert type(schedule).objects.filter(pk=schedule.pk).exists()
    upload = io.BytesIO(b"service_user_ref,course_ref\n")
    upload.name = "records.csv"
    response = client.post("/api/v1/outcomes/imports/", {"team_id": elsewhere.team.pk, "file": upload}, format="multipart")
    assert response.status_code == 404, response.content


def test_local_questionnaires_belong_to_the_admins_organisation(world, elsewhere, api):
    body = {"code": "local-check", "name": "Check", "title": "A local check", "stem": "How was it?", "higher_is_worse": False,
            "options": [{"value": 0, "label": "No"}, {"value": 1, "label": "Yes"}], "items": [{"number": 1, "text": "It helped"}]}
    assert api(world.admin).post("/api/v1/instruments/", {**body, "organisation_id": elsewhere.organisation.pk},
                                 format="json").status_code == 404
    assert api(elsewhere.admin).post("/api/v1/instruments/", {**body, "organisation_id": elsewhere.organisation.pk},
                                     format="json").status_code == 201
    assert api(world.admin).post("/api/v1/instruments/local-check/retire/").status_code == 404
    assert instrument_by_code("local-check").is_active


def test_an_admin_sees_carer_links_of_their_own_organisations_people_only(world, elsewhere, api):
    carer = make_user(Role.CARER)
    link_carer(elsewhere.service_user, carer)
    ids = {link["id"] for link in api(world.admin).get("/api/v1/carer-links/").json()["results"]}
    assert world.carer_link.pk in ids and not CarerLink.objects.filter(pk__in=ids, service_user=elsewhere.service_user).exists()
    elsewhere_link = CarerLink.objects.get(service_user=elsewhere.service_user)
    assert api(world.admin).post(f"/api/v1/carer-links/{elsewhere_link.pk}/end/").status_code == 404


# --- Evaluators --------------------------------------------------------------------------------------------
def _evaluated_people(team: Team, clinician: User, organisation, count: int = 5) -> list[User]:
    """`count` people registered with the organisation, on the team's caseload, consenting to
    evaluation, each with one past face-to-face appointment they did not attend."""
    people = []
    for _ in range(count):
        person = make_user(Role.SERVICE_USER, organisation=organisation)
        services.caseload_add(actor=SYSTEM, team=team, service_user=person)
        give_consent(person, PurposeCode.EVALUATION)
        booked = book(clinician, person, team)
        session_services.appointment_choose(actor=Actor(person, via="test"), appointment=booked, modality="face_to_face")
        booked = let_time_pass(booked, hours_ago=48)
        session_services.session_mark_did_not_attend(actor=Actor(clinician, via="test"), appointment=booked)
        people.append(person)
    return people


def _sessions_export(api, evaluator, **filters) -> list[dict]:
    response = api(evaluator).post("/api/v1/evaluation/exports/", {"dataset": "sessions", "format": "csv", "dates": "exact",
                                                                   "filters": filters}, format="json")
    assert response.status_code == 200, response.content
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    return list(csv.DictReader(io.StringIO(archive.read("sessions.csv").decode())))


@pytest.fixture
def two_cohorts(world, elsewhere):
    return (_evaluated_people(world.north, world.clinician, world.organisation),
            _evaluated_people(elsewhere.team, elsewhere.clinician, elsewhere.organisation))


def test_evaluators_export_only_their_own_organisations_data(world, elsewhere, api, two_cohorts):
    ours = _sessions_export(api, world.evaluator)
    theirs = _sessions_export(api, elsewhere.evaluator)
    assert {row["team"] for row in ours} == {"North"}
    assert {row["team"] for row in theirs} == {"Elsewhere"}
    assert len({row["person"] for row in ours}) == len({row["person"] for row in theirs}) == 5
    assert not {row["person"] for row in ours} & {row["person"] for row in theirs}


def test_an_evaluator_cannot_filter_by_another_organisations_team(world, elsewhere, api, two_cohorts):
    client = api(world.evaluator)
    answers = [client.post("/api/v1/evaluation/exports/", {"dataset": "sessions", "format": "csv", "filters": {"team": team}},
                           format="json") for team in (elsewhere.team.pk, ABSENT)]
    assert [a.status_code for a in answers] == [400, 400]
    assert [a.json()["errors"][0]["field"] for a in answers] == ["filters.team", "filters.team"]
    assert client.get(f"/api/v1/evaluation/report/?team={elsewhere.team.pk}").status_code == 400


def test_the_report_counts_only_the_evaluators_organisation(world, elsewhere, api, two_cohorts):
    report = api(world.evaluator).get("/api/v1/evaluation/report/").json()
    assert report["enough_people"] is True
    assert [t["team"] for t in report["by_team"]] == ["North"]
    total = next(row for row in report["by_modality"] if row["modality"] == "total")
    assert total["did_not_attend"] == 5  # the five of this trust, not the ten of both
    assert [t["team"] for t in api(elsewhere.evaluator).get("/api/v1/evaluation/report/").json()["by_team"]] == ["Elsewhere"]


def test_a_person_registered_with_both_appears_only_where_that_organisations_teams_saw_them(world, elsewhere, api, two_cohorts):
    ours, theirs = two_cohorts
    shared = theirs[0]
    services.service_user_register(actor=SYSTEM, organisation=world.organisation, service_user=shared)
    # Registered here, but seen only by the other trust's team: not in this trust's data.
    assert len({row["person"] for row in _sessions_export(api, world.evaluator)}) == 5
    # Seen by this trust's team too: now in both, with only this trust's sessions here.
    services.caseload_add(actor=SYSTEM, team=world.north, service_user=shared)
    let_time_pass(book(world.clinician, shared, world.north), hours_ago=24)
    rows = _sessions_export(api, world.evaluator)
    assert len({row["person"] for row in rows}) == 6 and {row["team"] for row in rows} == {"North"}


def test_evaluators_see_only_their_own_organisations_teams(world, elsewhere, api):
    assert [t["id"] for t in api(world.evaluator).get("/api/v1/teams/").json()["results"]] == [world.north.pk, world.south.pk]
    assert api(world.evaluator).get(f"/api/v1/teams/{elsewhere.team.pk}/").status_code == 404


# --- Carer links -------------------------------------------------------------------------------------------
def _propose(api, service_user, email):
    return api(service_user).post("/api/v1/carer-links/", {"carer_email": email, "relationship": "friend"}, format="json")


def test_a_carer_lookup_never_returns_a_name_or_says_whether_an_account_exists(world, api):
    """The finding: any email could be tested for a carer account, and the answer gave the carer's full name."""
    def shape(response):
        body = response.json()
        return response.status_code, sorted(body), body["carer"], body["state"], body["is_active"]

    with_account = _propose(api, world.service_user, world.unlinked_carer.email)
    without_account = _propose(api, world.service_user, "nobody.yet@example.test")
    staff_email = _propose(api, world.service_user, world.other_clinician.email)
    assert shape(with_account) == shape(without_account) == shape(staff_email) == (
        201, sorted(with_account.json()), None, "pending", False)
    for response, account in ((with_account, world.unlinked_carer), (staff_email, world.other_clinician)):
        assert account.full_name.encode() not in response.content
    listed = api(world.service_user).get("/api/v1/carer-links/").content
    assert world.unlinked_carer.full_name.encode() not in listed and world.other_clinician.full_name.encode() not in listed


def test_a_pending_link_shares_nothing_until_the_carer_accepts(world, api):
    person, carer = world.service_user, world.unlinked_carer
    link_id = _propose(api, person, carer.email).json()["id"]
    assert not sharing_carer_links().filter(pk=link_id).exists()
    # Consent to involve them cannot be given yet either: same answer as for an id that is no carer at all.
    answers = [api(person).post(f"/api/v1/service-users/{person.pk}/consent/", {
        "purpose": "carer_involvement", "decision": "given", "wording_version": 1, "carer_id": carer_id}, format="json")
        for carer_id in (carer.pk, ABSENT)]
    assert [a.status_code for a in answers] == [400, 400] and answers[0].content == answers[1].content
    assert api(carer).get("/api/v1/appointments/").json()["results"] == []
    assert api(carer).get(f"/api/v1/service-users/{person.pk}/outcomes/").status_code == 404

    accepted = api(carer).post(f"/api/v1/carer-links/{link_id}/accept/")
    assert accepted.status_code == 200 and accepted.json()["state"] == "accepted"
    assert accepted.json()["carer"]["full_name"] == carer.full_name  # named to the person once they accept
    assert api(carer).post(f"/api/v1/carer-links/{link_id}/accept/").status_code == 409
    assert sharing_carer_links().filter(pk=link_id).exists() is False  # still needs the person's consent
    give_consent(person, PurposeCode.CARER_INVOLVEMENT, carer=carer)
    assert sharing_carer_links().filter(pk=link_id).exists()
    assert {a["id"] for a in api(carer).get("/api/v1/appointments/").json()["results"]} >= {world.appointment.pk}


def test_only_the_carer_asked_can_accept_or_decline(world, api):
    link_id = _propose(api, world.service_user, world.unlinked_carer.email).json()["id"]
    assert api(world.carer).post(f"/api/v1/carer-links/{link_id}/accept/").status_code == 404
    assert api(world.service_user).post(f"/api/v1/carer-links/{link_id}/accept/").status_code == 403
    declined = api(world.unlinked_carer).post(f"/api/v1/carer-links/{link_id}/decline/")
    assert declined.status_code == 200 and declined.json()["state"] == "declined" and declined.json()["carer"] is None
    assert api(world.unlinked_carer).post(f"/api/v1/carer-links/{link_id}/accept/").status_code == 409
    link = CarerLink.objects.get(pk=link_id)
    assert link.ended_by == world.unlinked_carer and not sharing_carer_links().filter(pk=link_id).exists()


def test_a_proposal_waits_for_a_carer_account_with_that_email(world, api):
    link_id = _propose(api, world.service_user, "Later.Carer@example.test").json()["id"]
    assert CarerLink.objects.get(pk=link_id).carer is None
    carer = make_user(Role.CARER, email="later.carer@example.test")
    assert CarerLink.objects.get(pk=link_id).carer == carer
    assert [link["id"] for link in api(carer).get("/api/v1/carer-links/").json()["results"]] == [link_id]
    assert api(carer).post(f"/api/v1/carer-links/{link_id}/accept/").status_code == 200


def test_the_carers_home_page_accepts_a_proposal(world, client):
    link = link_carer(world.service_user, world.unlinked_carer, accept=False)
    client.force_login(world.unlinked_carer)
    page = client.get("/")
    assert b"Accept" in page.content and world.service_user.display_name.encode() in page.content
    client.post(f"/carers/{link.pk}/accept/")
    link.refresh_from_db()
    assert link.accepted_at is not None


def test_a_service_users_home_page_does_not_name_a_carer_before_they_accept(world, client):
    link_carer(world.service_user, world.unlinked_carer, accept=False)
    client.force_login(world.service_user)
    page = client.get("/").content
    assert world.unlinked_carer.full_name.encode() not in page and world.unlinked_carer.email.encode() in page


# --- The data migration ------------------------------------------------------------------------------------
def test_the_migration_gives_existing_rows_an_organisation_registrations_and_accepted_links(world, elsewhere):
    import importlib

    from django.apps import apps

    migration = importlib.import_module("backend.accounts.migrations.0003_organisation_boundary")
    # Rows as they were before organisations were a boundary.
    User.objects.filter(pk__in=[world.clinician.pk, world.admin.pk, elsewhere.clinician.pk]).update(organisation=None)
    OrganisationRegistration.objects.all().delete()
    CarerLink.objects.filter(pk=world.carer_link.pk).update(carer_email="", accepted_at=None)

    migration.forwards(apps, None)

    organisation_of = dict(User.objects.filter(pk__in=[world.clinician.pk, world.admin.pk, elsewhere.clinician.pk])
                           .values_list("pk", "organisation_id"))
    assert organisation_of[world.clinician.pk] == world.organisation.pk  # their team's
    assert organisation_of[elsewhere.clinician.pk] == elsewhere.organisation.pk
    assert organisation_of[world.admin.pk] == world.organisation.pk  # no team: the oldest organisation
    registered = set(OrganisationRegistration.objects.values_list("organisation_id", "service_user_id"))
    assert (world.organisation.pk, world.service_user.pk) in registered  # on North's caseload
    assert (elsewhere.organisation.pk, elsewhere.service_user.pk) in registered
    assert (world.organisation.pk, elsewhere.service_user.pk) not in registered
    link = CarerLink.objects.get(pk=world.carer_link.pk)
    assert link.carer_email == world.carer.email and link.accepted_at == link.created_at

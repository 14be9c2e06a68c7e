"""Object-level rules: who sees which service users, teams, caseloads and carer links, across teams."""

import pytest

from backend.accounts import selectors, services
from backend.accounts.models import Role
from backend.audit.actor import Actor
from backend.core.errors import Forbidden, NotFound
from tests.factories import link_carer, make_user


def ids(queryset):
    return {obj.pk for obj in queryset}


def test_practitioners_see_only_their_teams_caseloads(world):
    assert ids(selectors.service_users_visible_to(world.clinician)) == {world.service_user.pk}
    assert ids(selectors.service_users_visible_to(world.peer_worker)) == {world.service_user.pk}
    assert ids(selectors.service_users_visible_to(world.other_clinician)) == {world.other_service_user.pk}


def test_a_service_user_sees_only_themselves(world):
    assert ids(selectors.service_users_visible_to(world.service_user)) == {world.service_user.pk}


def test_a_carer_sees_only_the_person_who_linked_them_and_only_while_linked(world):
    assert ids(selectors.service_users_visible_to(world.carer)) == {world.service_user.pk}
    assert ids(selectors.service_users_visible_to(world.unlinked_carer)) == set()
    services.carer_link_end(actor=Actor(world.service_user), link=world.carer_link)
    assert ids(selectors.service_users_visible_to(world.carer)) == set()


def test_an_evaluator_sees_no_identifiable_record(world):
    assert ids(selectors.service_users_visible_to(world.evaluator)) == set()
    assert ids(selectors.carer_links_visible_to(world.evaluator)) == set()


def test_admin_sees_every_service_user(world):
    assert ids(selectors.service_users_visible_to(world.admin)) == {world.service_user.pk, world.other_service_user.pk}


def test_a_person_on_two_teams_is_seen_by_both_teams(world):
    services.caseload_add(actor=Actor.system(), team=world.south, service_user=world.service_user)
    assert world.service_user.pk in ids(selectors.service_users_visible_to(world.other_clinician))
    assert len(selectors.service_users_visible_to(world.clinician)) == 1  # no duplicate rows


@pytest.mark.parametrize(
    "who, url",
    [
        ("clinician", "/api/v1/service-users/{other_service_user}/"),
        ("peer_worker", "/api/v1/service-users/{other_service_user}/"),
        ("service_user", "/api/v1/service-users/{other_service_user}/"),
        ("clinician", "/api/v1/teams/{south}/caseload/"),
        ("clinician", "/api/v1/teams/{south}/members/"),
        ("clinician", "/api/v1/teams/{south}/"),
        ("service_user", "/api/v1/teams/{south}/"),
        ("clinician", "/api/v1/service-users/999999/"),
    ],
)
def test_another_teams_records_are_not_found(world, api, who, url):
    url = url.format(other_service_user=world.other_service_user.pk, south=world.south.pk)
    response = api(world.as_role(who)).get(url)
    assert response.status_code == 404
    body = response.json()
    assert body["code"] == "not_found" and body["errors"][0]["field"]


def test_a_clinician_cannot_add_to_or_remove_from_another_teams_caseload(world, api):
    client = api(world.clinician)
    assert client.post(f"/api/v1/teams/{world.south.pk}/caseload/", {"service_user_id": world.service_user.pk}, format="json").status_code == 404
    assert client.delete(f"/api/v1/teams/{world.south.pk}/caseload/{world.other_service_user.pk}/").status_code == 404
    assert world.other_service_user.caseload_entries.filter(team=world.south).exists()


def test_caseload_list_shows_only_that_team(world, api):
    response = api(world.clinician).get(f"/api/v1/teams/{world.north.pk}/caseload/")
    assert [entry["service_user"]["id"] for entry in response.json()["results"]] == [world.service_user.pk]


def test_team_list_is_narrowed_to_the_asker(world, api):
    assert {t["id"] for t in api(world.clinician).get("/api/v1/teams/").json()["results"]} == {world.north.pk}
    assert {t["id"] for t in api(world.service_user).get("/api/v1/teams/").json()["results"]} == {world.north.pk}
    assert api(world.carer).get("/api/v1/teams/").json()["results"] == []
    assert {t["id"] for t in api(world.evaluator).get("/api/v1/teams/").json()["results"]} == {world.north.pk, world.south.pk}


def test_carer_links_are_narrowed_to_the_asker(world, api):
    other_link = link_carer(world.other_service_user, world.unlinked_carer)
    assert {link["id"] for link in api(world.service_user).get("/api/v1/carer-links/").json()["results"]} == {world.carer_link.pk}
    assert {link["id"] for link in api(world.carer).get("/api/v1/carer-links/").json()["results"]} == {world.carer_link.pk}
    assert {link["id"] for link in api(world.clinician).get("/api/v1/carer-links/").json()["results"]} == {world.carer_link.pk}
    assert {link["id"] for link in api(world.other_clinician).get("/api/v1/carer-links/").json()["results"]} == {other_link.pk}


def test_nobody_else_can_end_a_link(world, api):
    assert api(world.other_service_user).post(f"/api/v1/carer-links/{world.carer_link.pk}/end/").status_code == 404
    assert api(world.unlinked_carer).post(f"/api/v1/carer-links/{world.carer_link.pk}/end/").status_code == 404
    world.carer_link.refresh_from_db()
    assert world.carer_link.is_active


def test_list_endpoints_do_not_grow_queries_with_the_caseload(world, api, django_assert_max_num_queries):
    client = api(world.clinician)
    for _ in range(10):
        person = make_user(Role.SERVICE_USER)
        services.caseload_add(actor=Actor.system(), team=world.north, service_user=person)
    # auth (2) + list (2) + audit append (lock, last, insert) + savepoints: bounded, whatever the caseload size.
    with django_assert_max_num_queries(12):
        assert len(client.get("/api/v1/service-users/").json()["results"]) == 11
    with django_assert_max_num_queries(12):
        assert len(client.get(f"/api/v1/teams/{world.north.pk}/caseload/").json()["results"]) == 11


def test_evaluator_is_refused_by_the_shared_rule(world):
    with pytest.raises(Forbidden):
        selectors.require_identifiable_reader(world.evaluator)
    with pytest.raises(NotFound):
        selectors.service_user_for(world.evaluator, world.service_user.pk)

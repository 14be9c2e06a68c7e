"""Connection maps, the directory and signposting: the services' rules, the one access rule, and the
evaluation datasets, through the real API and services on PostgreSQL (docs/network.md)."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import timedelta

import pytest
from django.utils import timezone

from backend.accounts.models import Role
from backend.audit.actor import Actor
from backend.audit.models import AuditEvent
from backend.consent.models import PurposeCode
from backend.network import selectors, services
from backend.network.models import MapMember, MapSharing, MapSnapshot, Resource, Signpost, SignpostFollowUp, SocialMap
from tests.factories import give_consent, make_user, withdraw_consent
from tests.network.helpers import RESOURCE, resource, signpost, started_map

pytestmark = pytest.mark.django_db


def _map_url(person) -> str:
    return f"/api/v1/service-users/{person.pk}/network/"


# --- Bad input: clear errors, nothing half-saved ---------------------------------------------------
@pytest.mark.parametrize("circle", [0, 4, -1, 99])
def test_a_member_on_a_circle_other_than_1_to_3_is_a_400_naming_circle(world, api, circle):
    started_map(world)
    before = MapMember.objects.count()
    response = api(world.clinician).post(_map_url(world.service_user) + "members/",
                                         {"kind": "person", "label": "Sam", "circle": circle, "contact_frequency": "weekly"}, format="json")
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == ["circle"]
    assert MapMember.objects.count() == before


def test_moving_a_member_off_the_circles_is_refused_and_changes_nothing(world, api):
    member = started_map(world).members.order_by("id").first()
    response = api(world.service_user).patch(_map_url(world.service_user) + f"members/{member.pk}/", {"circle": 5}, format="json")
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "circle"
    member.refresh_from_db()
    assert member.circle == 1


def test_the_database_refuses_a_fourth_circle_too(world):
    from django.db import IntegrityError, transaction

    social_map = started_map(world)
    with pytest.raises(IntegrityError), transaction.atomic():
        MapMember.objects.create(map=social_map, kind="person", label="X", circle=4, contact_frequency="daily")


@pytest.mark.parametrize("missing, field", [
    ({"name": ""}, "name"),
    ({"contact_phone": "", "contact_email": "", "contact_website": ""}, "contact_phone"),
    ({"categories": []}, "categories"),
    ({"postcode_district": "NOT A PLACE"}, "postcode_district"),
    ({"postcode_district": ""}, "postcode_district"),  # local and in person: where is it?
])
def test_a_resource_with_no_name_or_contact_or_bad_place_is_a_400_naming_the_field(world, api, missing, field):
    body = {**RESOURCE, "last_checked_on": "2026-01-05", **missing}
    response = api(world.admin).post("/api/v1/resources/", body, format="json")
    assert response.status_code == 400, response.content
    assert field in [e["field"] for e in response.json()["errors"]]
    assert not Resource.objects.exists()


def test_a_resource_checked_in_the_future_is_refused(world, api):
    body = {**RESOURCE, "last_checked_on": str(timezone.localdate() + timedelta(days=3))}
    response = api(world.admin).post("/api/v1/resources/", body, format="json")
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "last_checked_on"


def test_an_outcome_dated_before_the_signpost_is_refused(world, api):
    offered = signpost(world)
    url = f"/api/v1/service-users/{world.service_user.pk}/signposts/{offered.pk}/follow-ups/"
    day_before = str(offered.offered_on - timedelta(days=1))
    response = api(world.clinician).post(url, {"outcome": "went", "happened_on": day_before}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0] == {"field": "happened_on", "code": "before_signpost", "message": response.json()["errors"][0]["message"]}
    assert not SignpostFollowUp.objects.exists()


def test_did_not_go_needs_a_reason_and_the_outcome_is_then_recorded(world, api):
    offered = signpost(world)
    url = f"/api/v1/service-users/{world.service_user.pk}/signposts/{offered.pk}/follow-ups/"
    client = api(world.service_user)
    today = str(timezone.localdate())
    assert client.post(url, {"outcome": "did_not_go", "happened_on": today}, format="json").status_code == 400
    response = client.post(url, {"outcome": "did_not_go", "reason": "travel", "happened_on": today}, format="json")
    assert response.status_code == 201, response.content
    listed = client.get(f"/api/v1/service-users/{world.service_user.pk}/signposts/").json()["results"]
    assert listed[0]["outcome"] == "did_not_go" and listed[0]["follow_ups"][0]["reason"] == "travel"


def test_a_follow_up_date_before_today_is_refused(world, api):
    started_map(world)
    response = api(world.clinician).post(f"/api/v1/service-users/{world.service_user.pk}/signposts/",
                                         {"resource_id": resource(world).pk, "follow_up_on": "2020-01-01"}, format="json")
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "follow_up_on"
    assert not Signpost.objects.exists()


# --- The one access rule -----------------------------------------------------------------------------
def test_a_clinician_of_another_team_never_sees_a_map_shared_with_the_care_team(world, api):
    started_map(world)
    client = api(world.other_clinician)
    for url in ("", "snapshots/", "suggestions/"):
        assert client.get(_map_url(world.service_user) + url).status_code == 404
    assert client.get(f"/api/v1/service-users/{world.service_user.pk}/signposts/").status_code == 404
    assert client.post(_map_url(world.service_user) + "members/", {"kind": "place", "label": "Park", "circle": 1,
                                                                   "contact_frequency": "daily"}, format="json").status_code == 404
    assert api(world.clinician).get(_map_url(world.service_user)).status_code == 200


def test_another_organisations_clinician_and_admin_never_see_it(world, elsewhere, api):
    started_map(world)
    assert api(elsewhere.clinician).get(_map_url(world.service_user)).status_code == 404
    assert api(elsewhere.admin).get(_map_url(world.service_user)).status_code == 403
    assert api(elsewhere.admin).get(f"/api/v1/resources/{resource(world).pk}/").status_code == 404


def test_the_care_team_sees_the_map_only_while_the_person_shares_it(world, api):
    started_map(world)
    me = api(world.service_user)
    assert me.post(_map_url(world.service_user) + "sharing/", {"care_team": False, "carer_ids": [world.carer.pk]}, format="json").status_code == 201
    assert api(world.clinician).get(_map_url(world.service_user)).status_code == 404
    assert api(world.peer_worker).get(f"/api/v1/service-users/{world.service_user.pk}/signposts/").status_code == 404
    assert api(world.carer).get(_map_url(world.service_user)).status_code == 200
    # A practitioner cannot turn sharing back on, nor start it again.
    assert api(world.clinician).post(_map_url(world.service_user), {"care_team": True}, format="json").status_code == 409
    assert me.post(_map_url(world.service_user) + "sharing/", {"care_team": True}, format="json").status_code == 201
    assert api(world.clinician).get(_map_url(world.service_user)).status_code == 200
    assert api(world.carer).get(_map_url(world.service_user)).status_code == 404  # no longer named


def test_a_carer_reads_only_what_is_shared_and_only_while_consent_holds(world, api):
    started_map(world, share_with_carer=False)
    assert api(world.carer).get(_map_url(world.service_user)).status_code == 404
    services.sharing_set(actor=Actor(world.service_user), service_user=world.service_user, care_team=True, carer_ids=[world.carer.pk])
    body = api(world.carer).get(_map_url(world.service_user)).json()
    assert body["sharing"] is None and [m["label"] for m in body["members"]] == ["Mum", "Choir"]
    assert api(world.carer).post(_map_url(world.service_user) + "members/", {"kind": "place", "label": "Park", "circle": 1,
                                                                             "contact_frequency": "daily"}, format="json").status_code == 403
    assert api(world.carer).get(f"/api/v1/service-users/{world.service_user.pk}/signposts/").status_code == 403
    withdraw_consent(world.service_user, PurposeCode.CARER_INVOLVEMENT, carer=world.carer)
    assert api(world.carer).get(_map_url(world.service_user)).status_code == 404
    assert api(world.unlinked_carer).get(_map_url(world.service_user)).status_code == 404


def test_a_clinician_starts_a_map_only_with_the_persons_agreement_and_only_on_their_caseload(world, api):
    assert api(world.clinician).post(_map_url(world.service_user), {"care_team": False}, format="json").status_code == 400
    assert api(world.other_clinician).post(_map_url(world.service_user), {"care_team": True}, format="json").status_code == 404
    assert not SocialMap.objects.exists() and not MapSharing.objects.exists()
    response = api(world.clinician).post(_map_url(world.service_user), {"care_team": True}, format="json")
    assert response.status_code == 201 and response.json()["sharing"]["care_team"] is True


def test_only_the_person_chooses_carers_and_only_linked_ones(world, api):
    started_map(world)
    response = api(world.service_user).post(_map_url(world.service_user) + "sharing/", {"care_team": True, "carer_ids": [world.unlinked_carer.pk]},
                                            format="json")
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "carer_ids"


def test_a_linked_carer_can_be_a_member_but_not_someone_unlinked(world, api):
    started_map(world)
    url = _map_url(world.service_user) + "members/"
    body = {"kind": "person", "label": "A friend", "circle": 2, "contact_frequency": "weekly"}
    assert api(world.service_user).post(url, {**body, "carer_id": world.unlinked_carer.pk}, format="json").status_code == 400
    created = api(world.service_user).post(url, {**body, "carer_id": world.carer.pk}, format="json").json()
    assert created["is_linked_carer"] is True


def test_every_map_read_is_audited(world, api):
    started_map(world)
    client = api(world.carer)
    before = AuditEvent.objects.count()
    assert client.get(_map_url(world.service_user)).status_code == 200
    events = list(AuditEvent.objects.order_by("sequence")[before:])
    assert [(e.action, e.object_type, e.object_id) for e in events] == [("read", "network.socialmap", str(world.service_user.pk))]


# --- Measures, snapshots and suggestions -----------------------------------------------------------
def test_measures_count_circles_and_support_types(world, api):
    started_map(world)
    body = api(world.service_user).get(_map_url(world.service_user)).json()
    assert body["measures"]["by_circle"] == {"1": 1, "2": 0, "3": 1}
    assert body["measures"]["support_types_covered"] == ["everyday_support", "emotional_support"]
    assert body["measures"]["giving_no_support"] == 1


def test_a_second_snapshot_keeps_the_first_as_it_was(world, api):
    started_map(world)
    client = api(world.clinician)
    first = client.post(_map_url(world.service_user) + "snapshots/", {"setting": "in_session"}, format="json").json()
    client.post(_map_url(world.service_user) + "members/", {"kind": "activity", "label": "Allotment", "circle": 2,
                                                            "contact_frequency": "weekly", "emotional_support": True}, format="json")
    second = client.post(_map_url(world.service_user) + "snapshots/", {"setting": "in_session"}, format="json").json()
    assert first["measures"]["size"] == 2 and second["measures"]["size"] == 3
    again = client.get(_map_url(world.service_user) + f"snapshots/{first['id']}/").json()
    assert [m["label"] for m in again["members"]] == ["Mum", "Choir"]
    assert client.post(_map_url(world.service_user) + "snapshots/", {"setting": "on_own"}, format="json").status_code == 400
    with pytest.raises(Exception):
        MapSnapshot.objects.filter(pk=first["id"]).update(note="changed")


def test_suggestions_match_interests_and_place_and_leave_out_other_organisations(world, elsewhere, api):
    started_map(world)  # interests: physical activity; needs: money; district LS6
    near = resource(world)
    far = resource(world, name="Walking in Manchester", postcode_district="M1")
    national = resource(world, name="Money helpline", categories=["money"], scope="national", delivery="online", postcode_district="")
    resource(world, name="Art class", categories=["arts_music"])
    services.resource_create(actor=Actor(elsewhere.admin), **{**RESOURCE, "name": "Elsewhere walks"})
    names = [s["resource"]["name"] for s in api(world.service_user).get(_map_url(world.service_user) + "suggestions/").json()]
    assert names == [near.name, national.name] and far.name not in names


def test_a_service_user_sees_only_their_organisations_directory(world, elsewhere, api):
    mine = resource(world)
    services.resource_create(actor=Actor(elsewhere.admin), **{**RESOURCE, "name": "Elsewhere walks"})
    listed = api(world.service_user).get("/api/v1/resources/").json()["results"]
    assert [r["id"] for r in listed] == [mine.pk]
    assert api(world.carer).get("/api/v1/resources/").status_code == 403


def test_retired_resources_are_not_suggested(world, api):
    started_map(world)
    entry = resource(world)
    assert api(world.admin).patch(f"/api/v1/resources/{entry.pk}/", {"is_active": False}, format="json").status_code == 200
    assert api(world.service_user).get(_map_url(world.service_user) + "suggestions/").json() == []


# --- Evaluation datasets ---------------------------------------------------------------------------
def _consenting_people_with_maps(world, count=5):
    from backend.accounts import services as account_services
    from tests.factories import SYSTEM

    people = []
    entry = resource(world)
    for n in range(count):
        person = make_user(Role.SERVICE_USER)
        account_services.caseload_add(actor=SYSTEM, team=world.north, service_user=person)
        give_consent(person, PurposeCode.EVALUATION)
        me = Actor(person)
        services.map_start(actor=me, service_user=person, care_team=True)
        services.member_add(actor=me, service_user=person, kind="person", label=f"Secret Name {n}", circle=1, contact_frequency="daily",
                            emotional_support=True)
        services.snapshot_take(actor=me, service_user=person, setting="on_own", note="A private note")
        offered = services.signpost_offer(actor=Actor(world.clinician), service_user=person, resource_id=entry.pk,
                                          follow_up_on=timezone.localdate())
        services.follow_up_record(actor=me, service_user=person, signpost=offered, outcome="went", happened_on=timezone.localdate())
        people.append(person)
    return people


def _export(api, world, dataset):
    response = api(world.evaluator).post("/api/v1/evaluation/exports/", {"dataset": dataset, "format": "csv"}, format="json")
    assert response.status_code == 200, response.content
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    name = next(n for n in archive.namelist() if n.endswith(".csv") and "dictionary" not in n)
    return archive.read(name).decode(), list(csv.DictReader(io.StringIO(archive.read(name).decode())))


def test_maps_and_signposts_are_exported_pseudonymised_and_consent_filtered(world, api):
    from backend.evaluation.pseudonyms import pseudonym

    people = _consenting_people_with_maps(world)
    started_map(world)  # the world's person has a map too, but no evaluation consent
    services.snapshot_take(actor=Actor(world.service_user), service_user=world.service_user, setting="on_own")
    text, rows = _export(api, world, "network_maps")
    assert sorted(r["person"] for r in rows) == sorted(pseudonym(p.pk) for p in people)
    assert rows[0]["members"] == "1" and rows[0]["circle_1"] == "1" and rows[0]["emotional_support"] == "1"
    assert "Secret Name" not in text and "private note" not in text and "Mum" not in text
    text, rows = _export(api, world, "signposts")
    assert len(rows) == 5 and {r["outcome"] for r in rows} == {"went"} and rows[0]["days_to_outcome"] == "0"
    assert RESOURCE["name"] not in text
    withdraw_consent(people[0], PurposeCode.EVALUATION)
    response = api(world.evaluator).post("/api/v1/evaluation/exports/", {"dataset": "signposts", "format": "csv"}, format="json")
    assert response.status_code == 409  # four people left: too few to export


def test_the_network_selectors_narrow_to_what_the_asker_may_see(world):
    started_map(world)
    assert list(selectors.network_people_visible_to(world.clinician)) == [world.service_user]
    assert list(selectors.network_people_visible_to(world.other_clinician)) == []
    assert list(selectors.network_people_visible_to(world.carer)) == [world.service_user]
    assert list(selectors.network_people_visible_to(world.unlinked_carer)) == []


def test_the_persons_own_record_holds_their_map_and_signposts(world, api):
    signpost(world)
    services.snapshot_take(actor=Actor(world.service_user), service_user=world.service_user, setting="on_own")
    response = api(world.service_user).get(f"/api/v1/service-users/{world.service_user.pk}/records/")
    sections = {s["key"]: s["rows"] for s in response.json()["sections"]}
    assert [row["who or what"] for row in sections["network_members"]] == ["Mum", "Choir"]
    assert len(sections["network_snapshots"]) == 1 and sections["signposts"][0]["service"] == RESOURCE["name"]

"""The consent and preference API: states, history, bad input (a clear 4xx and nothing written)."""

import pytest

from backend.consent.models import ConsentRecord, ModalityPreference

PREFERENCE = {
    "ranking": ["phone", "face_to_face", "video"], "reasons": ["no_private_space", "poor_connection"], "note": "",
    "has_suitable_device": "yes", "has_enough_data": "no", "has_private_space": "no", "confident_using": "unsure", "wants_help": True,
}


def consent_url(world, person=None):
    return f"/api/v1/service-users/{(person or world.service_user).pk}/consent/"


def test_states_list_every_purpose_and_each_linked_carer(world, api):
    states = api(world.service_user).get(consent_url(world)).json()
    by_purpose = {(s["purpose"], s["carer"]["id"] if s["carer"] else None): s for s in states}
    assert by_purpose[("video", None)]["status"] == "given" and by_purpose[("video", None)]["holds"] is True
    assert by_purpose[("evaluation", None)]["status"] == "not_asked"
    assert by_purpose[("carer_involvement", world.carer.pk)]["status"] == "given"
    assert by_purpose[("video", None)]["current_wording_version"] == 1


def test_a_service_user_gives_and_withdraws_online(world, api):
    client = api(world.service_user)
    response = client.post(consent_url(world), {"purpose": "evaluation", "decision": "given", "wording_version": 1}, format="json")
    assert response.status_code == 201 and response.json()["method"] == "online"
    response = client.post(consent_url(world), {"purpose": "evaluation", "decision": "withdrawn"}, format="json")
    assert response.status_code == 201
    history = client.get(consent_url(world) + "history/").json()["results"]
    assert [(h["purpose"], h["decision"]) for h in history[:2]] == [("evaluation", "withdrawn"), ("evaluation", "given")]


@pytest.mark.parametrize(
    "body, status, field",
    [
        ({"purpose": "telepathy", "decision": "given", "wording_version": 1}, 400, "purpose"),
        ({"purpose": "evaluation", "decision": "given", "wording_version": 7}, 400, "wording_version"),
        ({"purpose": "evaluation", "decision": "given"}, 400, "wording_version"),
        ({"purpose": "evaluation", "decision": "maybe", "wording_version": 1}, 400, "decision"),
        ({"purpose": "evaluation", "decision": "given", "wording_version": 1, "signed": True}, 400, "signed"),
        ({"purpose": "carer_involvement", "decision": "given", "wording_version": 1}, 400, "carer_id"),
        ({"purpose": "carer_involvement", "decision": "given", "wording_version": 1, "carer_id": 999999}, 400, "carer_id"),
        ({"purpose": "video", "decision": "given", "wording_version": 1}, 409, "decision"),
        ({"purpose": "evaluation", "decision": "withdrawn"}, 409, "decision"),
    ],
)
def test_bad_consent_input_is_a_clear_4xx_and_writes_nothing(world, api, body, status, field):
    before = ConsentRecord.objects.count()
    response = api(world.service_user).post(consent_url(world), body, format="json")
    assert response.status_code == status, response.json()
    assert field in [e["field"] for e in response.json()["errors"]]
    assert ConsentRecord.objects.count() == before


def test_a_clinician_not_on_the_caseload_cannot_record_consent(world, api):
    response = api(world.other_clinician).post(consent_url(world), {"purpose": "evaluation", "decision": "given", "wording_version": 1, "note": "x"}, format="json")
    assert response.status_code == 404
    assert not ConsentRecord.objects.filter(purpose__code="evaluation").exists()


def test_a_carer_cannot_consent_for_the_service_user(world, api):
    response = api(world.carer).post(consent_url(world), {"purpose": "evaluation", "decision": "given", "wording_version": 1}, format="json")
    assert response.status_code == 403
    assert not ConsentRecord.objects.filter(purpose__code="evaluation").exists()


def test_verbal_consent_needs_a_note(world, api):
    response = api(world.clinician).post(consent_url(world), {"purpose": "evaluation", "decision": "given", "wording_version": 1}, format="json")
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "note"


def test_admins_publish_new_wording_versions(world, api):
    client = api(world.admin)
    response = client.post("/api/v1/consent/purposes/video/wordings/", {"text": "Updated.", "effective_from": "2099-01-01", "requires_reconsent": True}, format="json")
    assert response.status_code == 201 and response.json()["version"] == 2
    response = client.post("/api/v1/consent/purposes/video/wordings/", {"text": "Backdated.", "effective_from": "2001-01-01"}, format="json")
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "effective_from"
    assert client.post("/api/v1/consent/purposes/nothing/wordings/", {"text": "x", "effective_from": "2099-01-01"}, format="json").status_code == 404
    versions = [w["version"] for w in client.get("/api/v1/consent/purposes/video/wordings/").json()["results"]]
    assert versions == [1, 2]


def test_a_service_user_sets_a_preference_and_the_clinician_sees_needs_at_a_glance(world, api):
    url = f"/api/v1/service-users/{world.service_user.pk}/preference/"
    response = api(world.service_user).post(url, PREFERENCE, format="json")
    assert response.status_code == 201
    seen = api(world.clinician).get(url).json()
    assert seen["ranking"] == ["phone", "face_to_face", "video"]
    assert seen["access_needs"] == ["face_to_face", "phone", "support"]
    history = api(world.clinician).get(url + "history/").json()["results"]
    assert len(history) == 2 and history[1]["ranking"][0] == "video"  # the earlier one is kept


@pytest.mark.parametrize(
    "change, field",
    [
        ({"ranking": ["video", "phone"]}, "ranking"),
        ({"ranking": ["video", "video", "phone"]}, "ranking"),
        ({"ranking": ["video", "phone", "carrier_pigeon"]}, "ranking.2"),
        ({"reasons": ["too_busy_gardening"]}, "reasons"),
        ({"reasons": ["other"], "note": ""}, "note"),
        ({"has_private_space": "sometimes"}, "has_private_space"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_bad_preference_input_names_the_field_and_writes_nothing(world, api, change, field):
    before = ModalityPreference.objects.count()
    response = api(world.service_user).post(f"/api/v1/service-users/{world.service_user.pk}/preference/", {**PREFERENCE, **change}, format="json")
    assert response.status_code == 400
    assert field in [e["field"] for e in response.json()["errors"]]
    assert ModalityPreference.objects.count() == before


def test_no_preference_yet_is_a_404_that_says_so(world, api):
    response = api(world.other_clinician).get(f"/api/v1/service-users/{world.other_service_user.pk}/preference/")
    assert response.status_code == 404 and "No preference" in response.json()["detail"]


def test_reason_codes_are_published(world, api):
    codes = {r["code"] for r in api(world.service_user).get("/api/v1/consent/reason-codes/").json()}
    assert {"no_private_space", "no_suitable_device", "poor_connection", "prefers_in_person", "accessibility_needs", "travel_anxiety"} <= codes

"""Consent takes effect everywhere, through the one selector other apps call."""

import pytest

from backend.accounts import selectors as access
from backend.consent.models import PurposeCode
from backend.consent.selectors import ConsentMissing, service_users_consenting_to
from backend.sessions import selectors as session_selectors
from backend.sessions.services import appointment_choose
from backend.audit.actor import Actor
from tests.factories import book, give_consent, link_carer, withdraw_consent


def test_withdrawing_video_consent_stops_new_video_sessions_but_not_phone_or_face_to_face(world, api):
    client = api(world.service_user)
    url = f"/api/v1/appointments/{world.appointment.pk}/choice/"
    assert client.post(url, {"modality": "video"}, format="json").status_code == 200
    withdraw_consent(world.service_user, PurposeCode.VIDEO)
    response = client.post(url, {"modality": "video"}, format="json")
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "consent_missing" and body["errors"][0]["field"] == "consent.video"
    assert "Being seen on video" in body["detail"] and "face to face" in body["detail"]
    assert client.post(url, {"modality": "phone"}, format="json").json()["chosen_modality"] == "phone"
    assert client.post(url, {"modality": "face_to_face"}, format="json").json()["chosen_modality"] == "face_to_face"


def test_withdrawing_remote_care_consent_leaves_only_face_to_face(world):
    withdraw_consent(world.service_user, PurposeCode.REMOTE_CARE)
    for modality in ("video", "phone"):
        with pytest.raises(ConsentMissing) as error:
            appointment_choose(actor=Actor(world.service_user), appointment=world.appointment, modality=modality)
        assert error.value.field == "consent.remote_care"
    assert appointment_choose(actor=Actor(world.service_user), appointment=world.appointment, modality="face_to_face").chosen_modality == "face_to_face"


def test_withdrawing_carer_consent_ends_the_carers_access_at_once(world, api):
    carer = api(world.carer)
    assert {a["id"] for a in carer.get("/api/v1/appointments/").json()["results"]} == {world.appointment.pk, world.past_appointment.pk}
    assert carer.get(f"/api/v1/appointments/{world.appointment.pk}/").status_code == 200
    assert access.service_users_visible_to(world.carer).filter(pk=world.service_user.pk).exists()
    withdraw_consent(world.service_user, PurposeCode.CARER_INVOLVEMENT, carer=world.carer)
    assert carer.get(f"/api/v1/appointments/{world.appointment.pk}/").status_code == 404
    assert carer.get("/api/v1/appointments/").json()["results"] == []
    assert not access.service_users_visible_to(world.carer).exists()
    assert not session_selectors.appointments_visible_to(world.carer).exists()


def test_a_carer_sees_only_appointment_times(world, api):
    body = api(world.carer).get(f"/api/v1/appointments/{world.appointment.pk}/").json()
    assert set(body) == {"id", "service_user", "team_name", "starts_at", "duration_minutes"}


def test_a_linked_carer_without_consent_sees_nothing(world, api):
    link_carer(world.other_service_user, world.unlinked_carer, consent=False)
    book(world.other_clinician, world.other_service_user, world.south)
    assert api(world.unlinked_carer).get("/api/v1/appointments/").json()["results"] == []
    assert not access.service_users_visible_to(world.unlinked_carer).exists()
    give_consent(world.other_service_user, PurposeCode.CARER_INVOLVEMENT, carer=world.unlinked_carer)
    assert len(api(world.unlinked_carer).get("/api/v1/appointments/").json()["results"]) == 1


def test_consent_for_one_carer_does_not_extend_to_another(world):
    link_carer(world.service_user, world.unlinked_carer, consent=False)
    assert not access.service_users_visible_to(world.unlinked_carer).exists()
    assert access.service_users_visible_to(world.carer).exists()


def test_withdrawing_evaluation_consent_removes_the_person_from_every_later_export(world):
    give_consent(world.service_user, PurposeCode.EVALUATION)
    give_consent(world.other_service_user, PurposeCode.EVALUATION)
    assert set(service_users_consenting_to(PurposeCode.EVALUATION)) == {world.service_user, world.other_service_user}
    withdraw_consent(world.service_user, PurposeCode.EVALUATION)
    assert set(service_users_consenting_to(PurposeCode.EVALUATION)) == {world.other_service_user}


def test_people_never_asked_about_evaluation_are_not_exported(world):
    assert not service_users_consenting_to(PurposeCode.EVALUATION).exists()

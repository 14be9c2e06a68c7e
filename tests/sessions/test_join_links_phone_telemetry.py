"""Join links, phone calls, and connection telemetry."""

from datetime import timedelta

import pytest
from django.core import signing
from django.utils import timezone

from backend.audit.actor import Actor
from backend.core.errors import Conflict, InvalidInput
from backend.sessions import selectors, services
from backend.sessions.authentication import SESSION_KEY
from backend.sessions.models import Appointment
from backend.sessions.selectors import JOIN_LINK_SALT, JoinLinkInvalid
from tests.factories import book


def run_session(world, modality="video"):
    services.safety_check_record(actor=Actor(world.clinician), appointment=world.appointment, current_location="Home",
                                 is_private=True, emergency_contact_confirmed=True, identity_confirmed=True)
    services.waiting_room_enter(actor=Actor(world.service_user), appointment=world.appointment)
    services.participants_admit(actor=Actor(world.clinician), appointment=world.appointment)
    world.appointment.refresh_from_db()
    return world.appointment


def test_a_join_link_names_one_person_and_one_session(world):
    token, expires_at = services.join_link_issue(actor=Actor(world.clinician), appointment=world.appointment, user=world.service_user)
    grant = selectors.join_link_resolve(token)
    assert (grant.appointment_id, grant.user_id) == (world.appointment.pk, world.service_user.pk)
    assert expires_at == world.appointment.starts_at + timedelta(minutes=world.appointment.duration_minutes + 60)
    # The grant works for its own session only.
    session_value = grant.as_session_value()
    assert selectors.grant_user(session_value, world.appointment.pk) == world.service_user
    assert selectors.grant_user(session_value, world.past_appointment.pk) is None


def test_links_are_only_for_the_person_or_an_invited_carer(world):
    with pytest.raises(InvalidInput):
        services.join_link_issue(actor=Actor(world.clinician), appointment=world.appointment, user=world.carer)
    services.carer_invite(actor=Actor(world.service_user), appointment=world.appointment, carer=world.carer)
    token, _ = services.join_link_issue(actor=Actor(world.clinician), appointment=world.appointment, user=world.carer)
    assert selectors.join_link_resolve(token).user_id == world.carer.pk


@pytest.mark.parametrize("tamper, code", [("edit", "invalid"), ("expire", "expired"), ("end", "ended")])
def test_broken_expired_and_ended_links_say_why(world, tamper, code):
    token, _ = services.join_link_issue(actor=Actor(world.clinician), appointment=world.appointment, user=world.service_user)
    if tamper == "edit":
        token = token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")
    elif tamper == "expire":
        token = signing.dumps({"a": world.appointment.pk, "u": world.service_user.pk, "e": int(timezone.now().timestamp()) - 1}, salt=JOIN_LINK_SALT, compress=True)
    else:
        services.session_start(actor=Actor(world.clinician), appointment=world.appointment, modality="face_to_face")
        services.session_end(actor=Actor(world.clinician), appointment=world.appointment)
    with pytest.raises(JoinLinkInvalid) as error:
        selectors.join_link_resolve(token)
    assert error.value.code == code


def test_a_join_grant_authenticates_only_that_sessions_endpoints(world, client):
    other = book(world.clinician, world.service_user, world.north)
    session = client.session
    session[SESSION_KEY] = {"a": world.appointment.pk, "u": world.service_user.pk, "e": int((timezone.now() + timedelta(days=9)).timestamp())}
    session.save()
    assert client.get(f"/api/v1/appointments/{world.appointment.pk}/").status_code == 200
    assert client.get(f"/api/v1/appointments/{world.appointment.pk}/ice-servers/").status_code == 200
    assert client.get(f"/api/v1/appointments/{other.pk}/").status_code in (401, 403)
    assert client.get("/api/v1/me/").status_code in (401, 403)
    assert client.get(f"/api/v1/service-users/{world.service_user.pk}/").status_code in (401, 403)
    # Writes need the CSRF token, as for any session.
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.cookies = client.cookies
    assert strict.post(f"/api/v1/appointments/{world.appointment.pk}/waiting-room/").status_code == 403


def test_phone_calls_record_who_called_whom_on_which_number(world, api):
    appointment = run_session(world)
    client = api(world.clinician)
    response = client.post(f"/api/v1/appointments/{appointment.pk}/phone-calls/", {"number": "07400 123456"}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert (body["caller"]["id"], body["callee"]["id"], body["number"]) == (world.clinician.pk, world.service_user.pk, "+447400123456")  # stored as E.164
    assert client.post(f"/api/v1/appointments/{appointment.pk}/phone-calls/", {"number": "07400 123456"}, format="json").status_code == 409
    ended = client.post(f"/api/v1/appointments/{appointment.pk}/phone-calls/end/").json()
    assert ended["ended_at"] is not None
    appointment.refresh_from_db()
    assert appointment.delivered_modality == "phone"
    assert client.post(f"/api/v1/appointments/{appointment.pk}/phone-calls/end/").status_code == 409


@pytest.mark.parametrize("number", ["", "12", "call me maybe", "0" * 40])
def test_a_bad_number_is_refused(world, number):
    appointment = run_session(world)
    with pytest.raises(InvalidInput):
        services.phone_call_start(actor=Actor(world.clinician), appointment=appointment, number=number)
    assert not appointment.phone_calls.exists()


def test_telemetry_is_stored_and_summarised(world, api):
    appointment = run_session(world)
    host_peer = f"p{appointment.participants.get(user=world.clinician).pk}"
    person_peer = f"p{appointment.participants.get(user=world.service_user).pk}"
    t0 = timezone.now()
    at = lambda seconds: (t0 + timedelta(seconds=seconds)).isoformat()  # noqa: E731
    body = {
        "ice_states": [
            {"remote_peer": host_peer, "state": "checking", "changed_at": at(0)},
            {"remote_peer": host_peer, "state": "connected", "changed_at": at(2)},
            {"remote_peer": host_peer, "state": "disconnected", "changed_at": at(30)},
            {"remote_peer": host_peer, "state": "connected", "changed_at": at(33)},
        ],
        "samples": [
            {"remote_peer": host_peer, "measured_at": at(10), "round_trip_ms": 40, "packet_loss_pct": 0.5, "jitter_ms": 8, "inbound_kbps": 900,
             "frame_width": 640, "frame_height": 480},
            {"remote_peer": host_peer, "measured_at": at(20), "round_trip_ms": 60, "packet_loss_pct": 1.5, "jitter_ms": 12, "inbound_kbps": 700},
        ],
    }
    response = api(world.service_user).post(f"/api/v1/appointments/{appointment.pk}/telemetry/", body, format="json")
    assert response.status_code == 201 and response.json() == {"stored": 6}
    api(world.clinician).post(f"/api/v1/appointments/{appointment.pk}/telemetry/", {
        "ice_states": [{"remote_peer": person_peer, "state": "new", "changed_at": at(0)},
                       {"remote_peer": person_peer, "state": "connected", "changed_at": at(4)}]}, format="json")
    summary = api(world.clinician).get(f"/api/v1/appointments/{appointment.pk}/connection-summary/").json()
    assert summary == {"samples": 2, "median_round_trip_ms": 50.0, "median_packet_loss_pct": 1.0, "median_jitter_ms": 10.0,
                       "median_inbound_kbps": 800.0, "median_seconds_to_connect": 3.0, "reconnects": 1}


@pytest.mark.parametrize("sample, field", [
    ({"round_trip_ms": -1}, "samples.0.round_trip_ms"),
    ({"packet_loss_pct": 101}, "samples.0.packet_loss_pct"),
    ({"remote_peer": "evil"}, "samples.0.remote_peer"),
    ({"colour": "red"}, "samples.0.colour"),
])
def test_bad_telemetry_is_refused_whole(world, api, sample, field):
    appointment = run_session(world)
    good = {"remote_peer": "p1", "measured_at": timezone.now().isoformat(), "round_trip_ms": 40}
    body = {"samples": [{**good, **sample}, good]}
    response = api(world.service_user).post(f"/api/v1/appointments/{appointment.pk}/telemetry/", body, format="json")
    assert response.status_code == 400 and field in [e["field"] for e in response.json()["errors"]]
    assert not appointment.connection_samples.exists()


def test_someone_not_in_the_session_cannot_send_telemetry(world, api):
    appointment = run_session(world)
    response = api(world.other_service_user).post(f"/api/v1/appointments/{appointment.pk}/telemetry/", {"samples": []}, format="json")
    assert response.status_code == 404


def test_a_phone_session_needs_no_video_consent(world):
    from tests.factories import withdraw_consent

    withdraw_consent(world.service_user, "video")
    services.safety_check_record(actor=Actor(world.clinician), appointment=world.appointment, current_location="Home",
                                 is_private=True, emergency_contact_confirmed=True, identity_confirmed=True)
    appointment = services.session_start(actor=Actor(world.clinician), appointment=world.appointment, modality="phone")
    call = services.phone_call_start(actor=Actor(world.clinician), appointment=appointment, number="+44 7400 123456")
    assert call.callee == world.service_user
    assert Appointment.objects.get(pk=appointment.pk).delivered_modality == "phone"
    with pytest.raises(Conflict):
        services.phone_call_end(actor=Actor(world.clinician), appointment=appointment) and services.phone_call_end(actor=Actor(world.clinician), appointment=appointment)

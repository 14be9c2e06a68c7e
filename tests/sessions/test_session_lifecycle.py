"""The session state machine: scheduled → waiting → in progress → ended (or cancelled, did not attend),
with consent and the safety check checked at the start, and every transition kept with its actor."""

import pytest

from backend.audit.actor import Actor
from backend.consent.models import PurposeCode
from backend.consent.selectors import ConsentMissing
from backend.core.errors import Conflict, Forbidden, InvalidInput
from backend.sessions import services
from backend.sessions.models import Appointment, AppointmentEvent, Participant
from backend.sessions.services import IllegalTransition
from tests.factories import book, withdraw_consent

S = Appointment.Status


def safety_check(world, appointment, **change):
    fields = {"current_location": "At home, 1 High Street", "is_private": True, "emergency_contact_confirmed": True, "identity_confirmed": True, **change}
    return services.safety_check_record(actor=Actor(world.clinician), appointment=appointment, **fields)


def test_a_video_session_from_waiting_room_to_end(world):
    appointment = world.appointment
    safety_check(world, appointment)
    services.waiting_room_enter(actor=Actor(world.service_user), appointment=appointment)
    appointment.refresh_from_db()
    assert appointment.status == S.WAITING
    admitted = services.participants_admit(actor=Actor(world.clinician), appointment=appointment)
    assert [p.user for p in admitted] == [world.service_user]
    appointment.refresh_from_db()
    assert (appointment.status, appointment.delivered_modality) == (S.IN_PROGRESS, "video")
    assert appointment.started_at is not None
    services.session_end(actor=Actor(world.clinician), appointment=appointment)
    appointment.refresh_from_db()
    assert appointment.status == S.ENDED and appointment.ended_at >= appointment.started_at
    assert set(Participant.objects.filter(appointment=appointment).values_list("state", flat=True)) == {"left"}
    transitions = [(e.data["from"], e.data["to"], e.actor) for e in appointment.events.filter(kind=AppointmentEvent.Kind.STATUS_CHANGED)]
    assert transitions == [("scheduled", "waiting", world.service_user), ("waiting", "in_progress", world.clinician),
                           ("in_progress", "ended", world.clinician)]


def test_a_remote_session_needs_the_safety_check_first(world):
    with pytest.raises(Conflict) as error:
        services.session_start(actor=Actor(world.clinician), appointment=world.appointment, modality="video")
    assert error.value.code == "safety_check_required"
    safety_check(world, world.appointment, identity_confirmed=False)
    with pytest.raises(Conflict):
        services.session_start(actor=Actor(world.clinician), appointment=world.appointment, modality="phone")
    safety_check(world, world.appointment)  # a correction is a new record
    assert services.session_start(actor=Actor(world.clinician), appointment=world.appointment, modality="phone").status == S.IN_PROGRESS
    assert world.appointment.safety_checks.count() == 2


def test_the_team_can_turn_the_safety_check_off(world):
    services.team_settings_update(actor=Actor(world.admin), team=world.north, safety_check_required=False)
    assert services.session_start(actor=Actor(world.clinician), appointment=world.appointment, modality="video").status == S.IN_PROGRESS


def test_the_safety_check_needs_a_location(world):
    with pytest.raises(InvalidInput) as error:
        safety_check(world, world.appointment, current_location="  ")
    assert error.value.field == "current_location"


def test_starting_names_the_missing_consent(world):
    safety_check(world, world.appointment)
    withdraw_consent(world.service_user, PurposeCode.VIDEO)
    with pytest.raises(ConsentMissing) as error:
        services.session_start(actor=Actor(world.clinician), appointment=world.appointment, modality="video")
    assert error.value.field == "consent.video" and "Being seen on video" in error.value.detail
    world.appointment.refresh_from_db()
    assert world.appointment.status == S.SCHEDULED  # nothing half-done
    assert services.session_start(actor=Actor(world.clinician), appointment=world.appointment, modality="phone").delivered_modality == "phone"


def test_a_colleague_of_the_team_runs_the_session_and_is_recorded_as_running_it(world):
    """Issue 13: any clinician or peer worker of the appointment's team may cover; another team's may not."""
    safety_check(world, world.appointment)
    started = services.session_start(actor=Actor(world.peer_worker), appointment=world.appointment, modality="video")
    assert started.run_by == world.peer_worker and started.practitioner == world.clinician
    with pytest.raises(Forbidden):
        services.safety_check_record(actor=Actor(world.other_clinician), appointment=world.appointment, current_location="x",
                                     is_private=True, emergency_contact_confirmed=True, identity_confirmed=True)


@pytest.mark.parametrize("action", ["end", "mark_did_not_attend_future"])
def test_illegal_transitions_are_409_saying_why(world, action):
    with pytest.raises(IllegalTransition if action == "end" else Conflict) as error:
        if action == "end":
            services.session_end(actor=Actor(world.clinician), appointment=world.appointment)
        else:
            services.session_mark_did_not_attend(actor=Actor(world.clinician), appointment=world.appointment)
    assert "scheduled" in error.value.detail or "not come yet" in error.value.detail


def test_nothing_happens_after_the_end(world, api):
    services.session_start(actor=Actor(world.clinician), appointment=world.appointment, modality="face_to_face")
    services.session_end(actor=Actor(world.clinician), appointment=world.appointment)
    client = api(world.clinician)
    for path, body in (("start/", {}), ("cancel/", {"reason": "x"}), ("end/", None)):
        response = client.post(f"/api/v1/appointments/{world.appointment.pk}/{path}", body, format="json")
        assert response.status_code == 409, path
        assert response.json()["code"] == "illegal_transition" and "ended" in response.json()["detail"]


def test_cancel_by_the_service_user_records_who_and_why(world, api):
    response = api(world.service_user).post(f"/api/v1/appointments/{world.appointment.pk}/cancel/", {"reason": ""}, format="json")
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "reason"
    response = api(world.service_user).post(f"/api/v1/appointments/{world.appointment.pk}/cancel/", {"reason": "Feeling unwell."}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    world.appointment.refresh_from_db()
    assert (world.appointment.cancelled_by, world.appointment.cancellation_reason) == (world.service_user, "Feeling unwell.")


def test_did_not_attend_after_the_time(world):
    appointment = services.session_mark_did_not_attend(actor=Actor(world.clinician), appointment=world.past_appointment)
    assert appointment.status == S.DID_NOT_ATTEND


def test_a_carer_joins_only_when_invited_and_while_consent_holds(world):
    with pytest.raises(Forbidden):
        services.waiting_room_enter(actor=Actor(world.carer), appointment=world.appointment)
    with pytest.raises(Forbidden):
        services.carer_invite(actor=Actor(world.other_clinician), appointment=world.appointment, carer=world.carer)
    services.carer_invite(actor=Actor(world.service_user), appointment=world.appointment, carer=world.carer)
    assert services.waiting_room_enter(actor=Actor(world.carer), appointment=world.appointment).state == "waiting"
    withdraw_consent(world.service_user, PurposeCode.CARER_INVOLVEMENT, carer=world.carer)
    with pytest.raises(Forbidden):
        services.waiting_room_enter(actor=Actor(world.carer), appointment=world.appointment)


def test_inviting_a_carer_without_consent_names_it(world):
    from tests.factories import link_carer

    link_carer(world.service_user, world.unlinked_carer, consent=False)
    with pytest.raises(Conflict) as error:
        services.carer_invite(actor=Actor(world.service_user), appointment=world.appointment, carer=world.unlinked_carer)
    assert error.value.field == "consent.carer_involvement"


def running_session(world):
    safety_check(world, world.appointment)
    services.carer_invite(actor=Actor(world.service_user), appointment=world.appointment, carer=world.carer)
    services.waiting_room_enter(actor=Actor(world.service_user), appointment=world.appointment)
    services.waiting_room_enter(actor=Actor(world.carer), appointment=world.appointment)
    services.participants_admit(actor=Actor(world.clinician), appointment=world.appointment)
    world.appointment.refresh_from_db()
    return world.appointment


def test_the_host_sends_the_carer_back_to_the_waiting_room_for_a_private_word(world):
    appointment = running_session(world)
    moved = services.participant_move(actor=Actor(world.clinician), appointment=appointment, user=world.carer, state="waiting")
    assert moved.state == "waiting"
    assert services.participants_admit(actor=Actor(world.clinician), appointment=appointment, user_ids=[world.carer.pk])[0].state == "admitted"
    with pytest.raises(Conflict):
        services.participants_admit(actor=Actor(world.clinician), appointment=appointment, user_ids=[world.other_service_user.pk])


def test_switching_to_phone_is_an_event_and_the_delivered_modality_follows(world):
    appointment = running_session(world)
    with pytest.raises(Forbidden):
        services.modality_switch(actor=Actor(world.other_service_user), appointment=appointment, to="phone", reason="video_failed")
    services.modality_switch(actor=Actor(world.service_user), appointment=appointment, to="audio_only", reason="video_failed")
    appointment.refresh_from_db()
    assert appointment.delivered_modality == "video"  # audio only is still the video session
    services.modality_switch(actor=Actor(world.service_user), appointment=appointment, to="phone", reason="video_failed")
    appointment.refresh_from_db()
    # A call of three: only the person who switched is on the phone; the carer is still on video.
    assert appointment.delivered_modality == "video"
    assert modalities(appointment) == {"host": "video", "service_user": "phone", "carer": "video"}
    services.modality_switch(actor=Actor(world.carer), appointment=appointment, to="phone", reason="video_failed")
    appointment.refresh_from_db()
    assert (appointment.delivered_modality, appointment.delivery_reason) == ("phone", "video_failed")
    assert modalities(appointment) == {"host": "video", "service_user": "phone", "carer": "phone"}
    switches = [(e.data["to"], e.data["participant"]) for e in appointment.events.filter(kind=AppointmentEvent.Kind.MODALITY_SWITCHED)]
    assert switches == [("audio_only", world.service_user.pk), ("phone", world.service_user.pk), ("phone", world.carer.pk)]


def modalities(appointment) -> dict:
    return dict(Participant.objects.filter(appointment=appointment).values_list("role", "delivered_modality"))


def test_the_host_switching_moves_everyone_and_back_to_video_brings_everyone_back(world):
    appointment = running_session(world)
    services.modality_switch(actor=Actor(world.clinician), appointment=appointment, to="phone", reason="clinician_decided")
    appointment.refresh_from_db()
    assert appointment.delivered_modality == "phone"
    assert modalities(appointment) == {"host": "phone", "service_user": "phone", "carer": "phone"}
    services.modality_switch(actor=Actor(world.clinician), appointment=appointment, to="video", reason="person_asked")
    appointment.refresh_from_db()
    assert appointment.delivered_modality == "video"
    assert modalities(appointment) == {"host": "video", "service_user": "video", "carer": "video"}


def test_one_person_back_to_video_makes_the_session_video_again_and_a_phone_call_names_who_was_called(world):
    appointment = running_session(world)
    services.modality_switch(actor=Actor(world.carer), appointment=appointment, to="phone", reason="video_failed")
    call = services.phone_call_start(actor=Actor(world.clinician), appointment=appointment, number="07400 123456", callee=world.carer)
    appointment.refresh_from_db()
    assert (call.callee, appointment.delivered_modality) == (world.carer, "video")  # the service user is still on video
    services.phone_call_end(actor=Actor(world.clinician), appointment=appointment)
    services.modality_switch(actor=Actor(world.carer), appointment=appointment, to="video", reason="person_asked")
    assert modalities(appointment)["carer"] == "video"


def test_entering_the_waiting_room_of_another_persons_appointment_is_refused(world, api):
    theirs = book(world.other_clinician, world.other_service_user, world.south)
    assert api(world.service_user).post(f"/api/v1/appointments/{theirs.pk}/waiting-room/").status_code == 404


def test_ice_servers_carry_time_limited_turn_credentials(world, api, settings):
    import base64
    import hashlib
    import hmac
    import time

    settings.STUN_URLS = ["stun:turn.example.nhs.uk:3478"]
    settings.TURN_URLS = ["turn:turn.example.nhs.uk:3478?transport=udp"]
    settings.TURN_SECRET = "coturn-static-auth-secret"
    settings.TURN_TTL_SECONDS = 600
    body = api(world.service_user).get(f"/api/v1/appointments/{world.appointment.pk}/ice-servers/").json()
    stun, turn = body["ice_servers"]
    assert stun == {"urls": ["stun:turn.example.nhs.uk:3478"]}
    expiry, identity = turn["username"].split(":", 1)
    assert 590 <= int(expiry) - time.time() <= 600 and identity.startswith(str(world.appointment.pk))
    expected = base64.b64encode(hmac.new(b"coturn-static-auth-secret", turn["username"].encode(), hashlib.sha1).digest()).decode()
    assert turn["credential"] == expected


def test_no_ice_servers_are_configured_by_default(world, api):
    assert api(world.service_user).get(f"/api/v1/appointments/{world.appointment.pk}/ice-servers/").json()["ice_servers"] == []



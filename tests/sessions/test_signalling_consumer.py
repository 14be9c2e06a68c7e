"""The signalling consumer, in process through the whole ASGI stack and the Redis channel layer:
who may join, presence and politeness, relay to a named peer, bad messages, drops and reconnects."""

import json

import pytest
from aiortc import RTCPeerConnection
from aiortc.rtcconfiguration import RTCConfiguration
from channels.db import database_sync_to_async

from backend.audit.actor import Actor
from backend.sessions import services
from backend.sessions.signalling import MAX_MESSAGE_BYTES
from tests.factories import build_world
from tests.websockets import closed_with, open_socket

pytestmark = pytest.mark.django_db(transaction=True)


@database_sync_to_async
def running_session(with_carer=False):
    world = build_world()
    appointment = world.appointment
    services.safety_check_record(actor=Actor(world.clinician), appointment=appointment, current_location="Home",
                                 is_private=True, emergency_contact_confirmed=True, identity_confirmed=True)
    if with_carer:
        services.carer_invite(actor=Actor(world.service_user), appointment=appointment, carer=world.carer)
        services.waiting_room_enter(actor=Actor(world.carer), appointment=appointment)
    services.waiting_room_enter(actor=Actor(world.service_user), appointment=appointment)
    services.participants_admit(actor=Actor(world.clinician), appointment=appointment)
    return world


async def connect(user, appointment_id, expect_welcome=True):
    communicator = await open_socket(f"/ws/sessions/{appointment_id}/", user)
    if expect_welcome:
        welcome = await communicator.receive_json_from(timeout=5)
        assert welcome["type"] == "welcome", welcome
        communicator.welcome = welcome
    return communicator


async def real_offer() -> str:
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pc.addTransceiver("audio")
    pc.addTransceiver("video")
    await pc.setLocalDescription(await pc.createOffer())
    sdp = pc.localDescription.sdp
    await pc.close()
    return sdp


async def test_admitted_peers_see_each_other_with_one_polite_side_and_relay_to_a_named_peer():
    world = await running_session()
    host = await connect(world.clinician, world.appointment.pk)
    assert host.welcome["peers"] == [] and host.welcome["role"] == "host" and host.welcome["ice_servers"] == []
    person = await connect(world.service_user, world.appointment.pk)
    assert [(p["peer_id"], p["role"], p["polite"]) for p in person.welcome["peers"]] == [(host.welcome["peer_id"], "host", True)]
    joined = await host.receive_json_from(timeout=5)
    assert joined["type"] == "peer-joined" and joined["peer"]["peer_id"] == person.welcome["peer_id"]
    assert joined["peer"]["polite"] is False and joined["peer"]["name"] == world.service_user.display_name

    sdp = await real_offer()
    await host.send_json_to({"type": "offer", "to": person.welcome["peer_id"], "seq": 1, "sdp": sdp})
    relayed = await person.receive_json_from(timeout=5)
    assert relayed == {"type": "offer", "seq": 1, "sdp": sdp, "from": host.welcome["peer_id"]}
    candidate = {"candidate": "candidate:1 1 udp 2130706431 127.0.0.1 40000 typ host", "sdpMid": "0", "sdpMLineIndex": 0}
    await person.send_json_to({"type": "ice", "to": host.welcome["peer_id"], "seq": 1, "candidate": candidate})
    assert (await host.receive_json_from(timeout=5))["candidate"] == candidate
    await person.send_json_to({"type": "ack", "to": host.welcome["peer_id"], "seq": 2, "ack": 1})
    assert (await host.receive_json_from(timeout=5)) == {"type": "ack", "seq": 2, "ack": 1, "from": person.welcome["peer_id"]}
    await host.disconnect()
    await person.disconnect()


async def test_three_people_form_a_mesh_and_each_pair_has_exactly_one_polite_side():
    world = await running_session(with_carer=True)
    host = await connect(world.clinician, world.appointment.pk)
    person = await connect(world.service_user, world.appointment.pk)
    carer = await connect(world.carer, world.appointment.pk)
    carer_view = {p["role"]: p["polite"] for p in carer.welcome["peers"]}
    assert carer_view["host"] is True  # everyone yields to the host
    await host.receive_json_from(timeout=5)  # person joined
    seen_by_host = await host.receive_json_from(timeout=5)
    seen_by_person = await person.receive_json_from(timeout=5)
    assert seen_by_host["type"] == seen_by_person["type"] == "peer-joined"
    assert seen_by_host["peer"]["polite"] is False  # the host is never polite
    # Between the service user and the carer, exactly one side is polite.
    assert seen_by_person["peer"]["polite"] != carer_view["service_user"]
    # A message to the carer reaches only the carer.
    await host.send_json_to({"type": "offer", "to": carer.welcome["peer_id"], "seq": 1, "sdp": await real_offer()})
    assert (await carer.receive_json_from(timeout=5))["type"] == "offer"
    assert await person.receive_nothing(timeout=0.3)
    for c in (host, person, carer):
        await c.disconnect()


@pytest.mark.parametrize(
    "raw, code",
    [
        ("not json", "invalid-json"),
        ("[1, 2]", "invalid-json"),
        (json.dumps({"type": "hello"}), "unknown-type"),
        (json.dumps({"type": "offer", "seq": 1, "sdp": "v=0"}), "invalid-field"),
        (json.dumps({"type": "offer", "to": "p1", "sdp": "v=0\r\n"}), "invalid-field"),
        (json.dumps({"type": "offer", "to": "p1", "seq": 1, "sdp": "hello"}), "invalid-sdp"),
        (json.dumps({"type": "offer", "to": "p1", "seq": 1, "sdp": "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"}), "invalid-sdp"),
        (json.dumps({"type": "ice", "to": "p1", "seq": 1, "candidate": {"candidate": "bogus", "sdpMid": "0"}}), "invalid-candidate"),
        (json.dumps({"type": "ice", "to": "p1", "seq": 1, "candidate": {"candidate": "candidate:1 1 udp 1 127.0.0.1 9 typ host"}}), "invalid-field"),
        (json.dumps({"type": "answer", "to": "p999999", "seq": 1, "sdp": "SDP"}), "invalid-sdp"),
        (json.dumps({"type": "ack", "to": "p999999", "seq": 3, "ack": 1}), "peer-not-found"),
        ("x" * (MAX_MESSAGE_BYTES + 1), "too-large"),
    ],
)
async def test_a_bad_message_gets_an_error_and_the_connection_stays_up(raw, code):
    world = await running_session()
    host = await connect(world.clinician, world.appointment.pk)
    await host.send_to(text_data=raw)
    error = await host.receive_json_from(timeout=5)
    assert error["type"] == "error" and error["code"] == code, error
    await host.send_json_to({"type": "ping"})
    assert (await host.receive_json_from(timeout=5)) == {"type": "pong"}
    await host.disconnect()


async def test_a_message_to_yourself_is_refused():
    world = await running_session()
    host = await connect(world.clinician, world.appointment.pk)
    await host.send_json_to({"type": "ack", "to": host.welcome["peer_id"], "seq": 1, "ack": 1})
    assert (await host.receive_json_from(timeout=5))["code"] == "peer-not-found"
    await host.disconnect()


async def test_a_flood_is_rate_limited_then_disconnected():
    world = await running_session()
    host = await connect(world.clinician, world.appointment.pk)
    for _ in range(400):
        await host.send_json_to({"type": "ping"})
    messages = []
    code = None
    while code is None:
        output = await host.receive_output(timeout=5)
        if output["type"] == "websocket.close":
            code = output["code"]
        else:
            messages.append(json.loads(output["text"]))
    assert {"type": "error", "code": "rate-limited", "detail": "Too many messages: slow down."} in messages
    assert code == 4429


async def test_who_may_not_join():
    world = await running_session()
    # Not logged in.
    anonymous = await connect(None, world.appointment.pk, expect_welcome=False)
    assert (await anonymous.receive_json_from(timeout=5))["code"] == "not-logged-in"
    assert await closed_with(anonymous) == 4401
    # Not a participant of this session (another team's clinician), or a session that does not exist.
    for user, appointment_id in ((world.other_clinician, world.appointment.pk), (world.clinician, 999999)):
        outsider = await connect(user, appointment_id, expect_welcome=False)
        assert (await outsider.receive_json_from(timeout=5))["code"] == "not-found"
        assert await closed_with(outsider) == 4404
    # A session that is not in progress.
    other = await connect(world.service_user, world.past_appointment.pk, expect_welcome=False)
    assert await closed_with(other) == 4404  # never joined: not a participant


async def test_someone_in_the_waiting_room_cannot_signal_until_admitted():
    world = await running_session(with_carer=False)

    @database_sync_to_async
    def invite_carer_to_wait():
        services.carer_invite(actor=Actor(world.service_user), appointment=world.appointment, carer=world.carer)
        services.waiting_room_enter(actor=Actor(world.carer), appointment=world.appointment)

    await invite_carer_to_wait()
    carer = await connect(world.carer, world.appointment.pk, expect_welcome=False)
    error = await carer.receive_json_from(timeout=5)
    assert error["code"] == "not-admitted" and "waiting room" in error["detail"]
    assert await closed_with(carer) == 4403


async def test_a_session_not_in_progress_refuses_with_4409():
    world = await running_session()

    @database_sync_to_async
    def end():
        services.session_end(actor=Actor(world.clinician), appointment=world.appointment)

    await end()
    late = await connect(world.service_user, world.appointment.pk, expect_welcome=False)
    assert (await late.receive_json_from(timeout=5))["code"] == "not-in-progress"
    assert await closed_with(late) == 4409


async def test_a_dropped_peer_comes_back_and_the_others_are_told_to_restart_ice():
    world = await running_session()
    host = await connect(world.clinician, world.appointment.pk)
    person = await connect(world.service_user, world.appointment.pk)
    await host.receive_json_from(timeout=5)  # peer-joined
    await person.disconnect(code=1006)  # abnormal closure: the network dropped
    dropped = await host.receive_json_from(timeout=5)
    assert dropped == {"type": "peer-disconnected", "peer_id": person.welcome["peer_id"], "grace_seconds": 30}
    back = await connect(world.service_user, world.appointment.pk)
    assert back.welcome["peer_id"] == person.welcome["peer_id"]
    again = await host.receive_json_from(timeout=5)
    assert again["type"] == "peer-reconnected" and again["restart_ice"] is True
    await host.disconnect()
    await back.disconnect()


async def test_a_peer_saying_bye_is_gone_for_the_others():
    world = await running_session()
    host = await connect(world.clinician, world.appointment.pk)
    person = await connect(world.service_user, world.appointment.pk)
    await host.receive_json_from(timeout=5)
    await person.send_json_to({"type": "bye"})
    assert await closed_with(person) == 1000
    await person.disconnect()
    assert (await host.receive_json_from(timeout=5)) == {"type": "peer-left", "peer_id": person.welcome["peer_id"], "reason": "left"}
    await host.disconnect()


async def test_moving_someone_to_the_waiting_room_takes_them_out_of_the_call():
    world = await running_session()
    host = await connect(world.clinician, world.appointment.pk)
    person = await connect(world.service_user, world.appointment.pk)
    await host.receive_json_from(timeout=5)

    @database_sync_to_async
    def move():
        services.participant_move(actor=Actor(world.clinician), appointment=world.appointment, user=world.service_user, state="waiting")

    await move()
    assert (await person.receive_json_from(timeout=5)) == {"type": "moved", "state": "waiting"}
    assert await closed_with(person) == 4403
    assert (await host.receive_json_from(timeout=5))["type"] == "peer-left"
    refused = await connect(world.service_user, world.appointment.pk, expect_welcome=False)
    assert (await refused.receive_json_from(timeout=5))["code"] == "not-admitted"
    await host.disconnect()


async def test_ending_the_session_closes_everyone():
    world = await running_session()
    host = await connect(world.clinician, world.appointment.pk)
    person = await connect(world.service_user, world.appointment.pk)
    await host.receive_json_from(timeout=5)

    @database_sync_to_async
    def end():
        services.session_end(actor=Actor(world.clinician), appointment=world.appointment)

    await end()
    for communicator in (host, person):
        assert (await communicator.receive_json_from(timeout=5)) == {"type": "session-ended"}
        assert await closed_with(communicator) == 4000


async def test_presence_expires_without_heartbeats(settings):
    """A consumer whose disconnect handler never ran leaves a presence entry; it expires on its own."""
    from backend.sessions.presence import store
    from backend.sessions.signalling import presence_key

    world = await running_session()
    host = await connect(world.clinician, world.appointment.pk)
    key = presence_key(world.appointment.pk, host.welcome["peer_id"])
    assert 0 < await store().ttl(key) <= 30
    await host.disconnect()


async def lobby(user, appointment_id):
    return await open_socket(f"/ws/sessions/{appointment_id}/waiting-room/", user)


async def test_the_waiting_room_is_live_for_the_host_and_the_person_waiting():
    world = await database_sync_to_async(build_world)()
    appointment = world.appointment
    host = await lobby(world.clinician, appointment.pk)
    first = await host.receive_json_from(timeout=5)
    assert (first["status"], first["participants"], first["host_ready"]) == ("scheduled", [], False)
    person = await lobby(world.service_user, appointment.pk)
    mine = await person.receive_json_from(timeout=5)
    assert mine["participants"] is None and mine["my_state"] is None  # the person does not see the others

    await database_sync_to_async(services.waiting_room_enter)(actor=Actor(world.service_user), appointment=appointment)
    update = await host.receive_json_from(timeout=5)
    while update["status"] != "waiting" or not update["participants"]:
        update = await host.receive_json_from(timeout=5)
    assert [(p["name"], p["state"]) for p in update["participants"]] == [(world.service_user.display_name, "waiting")]

    await host.send_json_to({"type": "message", "text": "Running ten minutes late, sorry."})
    heard = await person.receive_json_from(timeout=5)
    while heard["type"] != "message":
        heard = await person.receive_json_from(timeout=5)
    assert heard["text"] == "Running ten minutes late, sorry."

    @database_sync_to_async
    def admit():
        services.safety_check_record(actor=Actor(world.clinician), appointment=appointment, current_location="Home",
                                     is_private=True, emergency_contact_confirmed=True, identity_confirmed=True)
        services.participants_admit(actor=Actor(world.clinician), appointment=appointment)

    await admit()
    ready = await person.receive_json_from(timeout=5)
    while not (ready["type"] == "lobby" and ready["my_state"] == "admitted" and ready["host_ready"]):
        ready = await person.receive_json_from(timeout=5)
    for communicator in (host, person):
        await communicator.disconnect()


async def test_only_the_host_sends_waiting_room_messages_and_outsiders_cannot_watch():
    world = await database_sync_to_async(build_world)()
    person = await lobby(world.service_user, world.appointment.pk)
    await person.receive_json_from(timeout=5)
    await person.send_json_to({"type": "message", "text": "Hello?"})
    error = await person.receive_json_from(timeout=5)
    assert error["type"] == "error" and error["code"] == "permission_denied"
    outsider = await lobby(world.other_service_user, world.appointment.pk)
    assert (await outsider.receive_json_from(timeout=5))["code"] == "not-found"
    assert await closed_with(outsider) == 4404
    await person.disconnect()

"""A real call, end to end: two aiortc peers signalling through two separate Rapport server processes.

Two uvicorn processes serve Rapport's ASGI app on loopback, on pytest-django's test database and the
suite's Redis (so they share the Channels layer). The clinician's peer connects to server A and the
service user's to server B, over real WebSockets with real API tokens; offers, answers and ICE cross
from one process to the other through Redis; media then flows peer to peer (aiortc's synthetic audio
and video), never through Rapport. Only 127.0.0.1 is used: no ICE servers, host candidates on
loopback only (aioice is patched in this test process; the servers run no ICE).

The servers only see committed rows, hence transactional tests.
"""

from __future__ import annotations

import asyncio
import os

import av
import pytest
from channels.db import database_sync_to_async

from backend.accounts.services import api_token_issue
from backend.audit.actor import Actor
from backend.sessions import services
from tests.factories import build_world
from tests.live_server import database_url_with_name, http_post, start_server, wait_until_up
from tests.signalling_client import FrameSink, SignallingClient, wait_connected

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("ice_on_loopback_only")]

CONNECT_TIMEOUT = 15  # ICE and DTLS on loopback take well under a second; generous for a loaded CI box
FRAME_TIMEOUT = 10


@pytest.fixture(scope="module")
def servers(django_db_setup, tmp_path_factory):
    """Servers A and B: two uvicorn processes on the test database, sharing the suite's Redis."""
    from django.conf import settings
    from django.db import connection

    test_database = connection.settings_dict["NAME"]
    env = dict(os.environ)
    current = env.get("DATABASE_URL")
    if not current:
        db = settings.DATABASES["default"]
        current = f"postgres://{db['USER']}{':' + db['PASSWORD'] if db.get('PASSWORD') else ''}@{db['HOST']}:{db['PORT']}/x"
    env["DATABASE_URL"] = database_url_with_name(current, test_database)
    assert env.get("REDIS_URL"), "both servers must share the Redis channel layer"
    logs = tmp_path_factory.mktemp("webrtc-e2e")
    a = start_server(env, logs / "server-a.log")
    b = start_server(env, logs / "server-b.log")
    try:
        wait_until_up(a, b)
    except RuntimeError as error:
        pytest.fail(str(error), pytrace=False)
    try:
        yield a, b
    finally:
        a.stop()
        b.stop()




@database_sync_to_async
def running_session():
    """A session in progress with the service user admitted; real API tokens for both people."""
    world = build_world()
    appointment = world.appointment
    services.safety_check_record(actor=Actor(world.clinician), appointment=appointment, current_location="Home",
                                 is_private=True, emergency_contact_confirmed=True, identity_confirmed=True)
    services.waiting_room_enter(actor=Actor(world.service_user), appointment=appointment)
    services.participants_admit(actor=Actor(world.clinician), appointment=appointment)
    tokens = {
        "clinician": api_token_issue(actor=Actor(world.clinician, via="test"), user=world.clinician)[0],
        "service_user": api_token_issue(actor=Actor(world.service_user, via="test"), user=world.service_user)[0],
    }
    return world, tokens


async def call_between_servers(servers, clients):
    """The clinician on server A, the service user on server B, connected with media flowing both ways."""
    server_a, server_b = servers
    made, sinks = clients
    world, tokens = await running_session()
    appointment_id = world.appointment.pk
    clinician = SignallingClient(appointment_id, tokens["clinician"], name="clinician")
    person = SignallingClient(appointment_id, tokens["service_user"], name="service user")
    made += [clinician, person]

    welcome = await clinician.connect(server_a.ws_url)
    assert (welcome["role"], welcome["peers"], welcome["ice_servers"]) == ("host", [], [])
    welcome = await person.connect(server_b.ws_url)
    assert [(p["peer_id"], p["role"], p["polite"]) for p in welcome["peers"]] == [(clinician.peer_id, "host", True)]
    joined = await clinician.wait_for_type("peer-joined")
    assert joined["peer"]["peer_id"] == person.peer_id and joined["peer"]["polite"] is False

    host_link, person_link = clinician.peers[person.peer_id], person.peers[clinician.peer_id]
    await asyncio.gather(wait_connected(host_link.pc, CONNECT_TIMEOUT), wait_connected(person_link.pc, CONNECT_TIMEOUT))
    await asyncio.gather(*(asyncio.wait_for(link.tracks_arrived.wait(), FRAME_TIMEOUT) for link in (host_link, person_link)))
    video = {}
    for who, link in (("clinician", host_link), ("service user", person_link)):
        video[who] = FrameSink(link.remote_tracks["video"])
        audio = FrameSink(link.remote_tracks["audio"])
        sinks += [video[who], audio]
        frame = await video[who].more(3, FRAME_TIMEOUT)
        assert isinstance(frame, av.VideoFrame) and frame.width > 0 and frame.height > 0, f"{who} got {frame!r}"
        assert isinstance(await audio.more(3, FRAME_TIMEOUT), av.AudioFrame)
    return world, tokens, clinician, person, video


async def test_a_call_across_two_servers_carries_video_both_ways_then_ending_it_closes_both_sockets(servers, clients):
    world, tokens, clinician, person, _ = await call_between_servers(servers, clients)
    host_link, person_link = clinician.peers[person.peer_id], person.peers[clinician.peer_id]
    assert (person_link.offers_sent, host_link.answers_sent, person_link.answers_applied) == (1, 1, 1)
    assert host_link.pc.connectionState == person_link.pc.connectionState == "connected"

    # Trickle ICE went both ways (the candidates, then the end-of-candidates null).
    for link in (host_link, person_link):
        for _ in range(100):
            if None in link.ice_received:
                break
            await asyncio.sleep(0.05)
        assert any(isinstance(c, dict) and c["candidate"].startswith("candidate:") for c in link.ice_received), link.ice_received
        assert link.ice_received[-1] is None
        assert all(" 127.0.0.1 " in c["candidate"] for c in link.ice_received if c), "only loopback candidates"
    for client in (clinician, person):  # the heartbeat was answered
        await client.wait_for_type("pong", timeout=5)

    status, body = await asyncio.to_thread(
        http_post, f"{servers[0].base_url}/api/v1/appointments/{world.appointment.pk}/end/", token=tokens["clinician"]
    )
    assert status == 200, body
    for client in (clinician, person):
        await client.wait_for_type("session-ended", timeout=10)
        assert await client.wait_closed(timeout=10) == 4000, client.name
        assert client.errors == [], f"{client.name}: {client.errors}"


async def test_a_dropped_socket_reconnecting_to_the_other_server_keeps_the_call(servers, clients):
    """The service user's WebSocket drops (TCP cut, no closing handshake) and comes back on server A.

    aiortc 1.16 has no ICE restart (no restartIce(), no iceRestart offers), so on `peer-reconnected`
    with `restart_ice: true` the clinician's (impolite) peer renegotiates with a fresh offer on the same
    RTCPeerConnection instead. This asserts the signalling part (peer-disconnected, the same peer_id
    back on the other server, peer-reconnected with restart_ice), that the new offer/answer exchange
    goes through the new socket and is applied, and that media keeps flowing afterwards. (The media
    path itself never broke: only the signalling socket dropped.)
    """
    world, tokens, clinician, person, video = await call_between_servers(servers, clients)
    server_a, _ = servers
    host_link, person_link = clinician.peers[person.peer_id], person.peers[clinician.peer_id]
    peer_id = person.peer_id

    person.drop()
    assert await person.wait_closed(timeout=5) == 1006
    dropped = await clinician.wait_for_type("peer-disconnected", timeout=10)
    assert dropped == {"type": "peer-disconnected", "peer_id": peer_id, "grace_seconds": 30}

    welcome = await person.connect(server_a.ws_url)  # the other server this time
    assert welcome["peer_id"] == peer_id
    assert [(p["peer_id"], p["polite"]) for p in welcome["peers"]] == [(clinician.peer_id, True)]
    back = await clinician.wait_for_type("peer-reconnected", timeout=10)
    assert back["peer"]["peer_id"] == peer_id and back["restart_ice"] is True

    await asyncio.wait_for(host_link.negotiated.wait(), 10)
    assert (host_link.offers_sent, host_link.answers_applied, person_link.answers_sent) == (1, 1, 1)
    assert person_link.pc is person.peers[clinician.peer_id].pc  # the same peer connection, renegotiated
    await asyncio.gather(wait_connected(host_link.pc, CONNECT_TIMEOUT), wait_connected(person_link.pc, CONNECT_TIMEOUT))
    for who in ("clinician", "service user"):
        frame = await video[who].more(5, FRAME_TIMEOUT)
        assert isinstance(frame, av.VideoFrame) and frame.width > 0, who
    for client in (clinician, person):
        assert client.errors == [], f"{client.name}: {client.errors}"

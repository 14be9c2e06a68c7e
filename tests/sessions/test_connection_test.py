"""The connection test: a real aiortc peer on the server sends the person's own media back.

In-process through the whole ASGI stack; ICE limited to 127.0.0.1 by the test (not the product)."""

import asyncio

import aioice.ice
import pytest
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import AudioStreamTrack, VideoStreamTrack
from channels.db import database_sync_to_async

from backend.accounts.models import Role
from backend.sessions.consumers import ConnectionTestConsumer
from tests.factories import make_user
from tests.websockets import open_socket

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch):
    monkeypatch.setattr(aioice.ice, "get_host_addresses", lambda use_ipv4=True, use_ipv6=True: ["127.0.0.1"])


async def open_test(user=None):
    return await open_socket("/ws/connection-test/", user)


async def test_the_person_gets_their_own_media_back():
    person = await database_sync_to_async(make_user)(Role.SERVICE_USER)
    communicator = await open_test(person)
    welcome = await communicator.receive_json_from(timeout=5)
    assert welcome["type"] == "welcome" and welcome["ice_servers"] == []

    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pc.addTrack(VideoStreamTrack())
    pc.addTrack(AudioStreamTrack())
    received = asyncio.get_running_loop().create_future()

    @pc.on("track")
    def on_track(track):
        if track.kind == "video" and not received.done():
            received.set_result(track)

    await pc.setLocalDescription(await pc.createOffer())
    await communicator.send_json_to({"type": "offer", "sdp": pc.localDescription.sdp})
    answer = await communicator.receive_json_from(timeout=10)
    assert answer["type"] == "answer"
    assert all(" 127.0.0.1 " in line for line in answer["sdp"].splitlines() if line.startswith("a=candidate"))
    await pc.setRemoteDescription(RTCSessionDescription(sdp=answer["sdp"], type="answer"))

    echoed = await asyncio.wait_for(received, 10)
    frame = await asyncio.wait_for(echoed.recv(), 10)
    assert frame.width > 0 and frame.height > 0
    kinds = {(await communicator.receive_json_from(timeout=10))["kind"] for _ in range(2)}
    assert kinds == {"audio", "video"}  # the server received both from us
    assert ConnectionTestConsumer.active == 1
    await communicator.disconnect()
    await pc.close()
    assert ConnectionTestConsumer.active == 0  # cleaned up when the page went away


async def test_server_side_peers_are_capped(settings):
    settings.CONNECTION_TEST_MAX_PEERS = 1
    person = await database_sync_to_async(make_user)(Role.SERVICE_USER)
    first = await open_test(person)
    await first.receive_json_from(timeout=5)
    second = await open_test(person)
    error = await second.receive_json_from(timeout=5)
    assert error["code"] == "busy" and "phone" in error["detail"]
    assert (await second.receive_output(timeout=5))["code"] == 4503
    await first.disconnect()
    third = await open_test(person)
    assert (await third.receive_json_from(timeout=5))["type"] == "welcome"
    await third.disconnect()


async def test_the_test_call_ends_itself_after_the_time_limit(settings):
    settings.CONNECTION_TEST_SECONDS = 1
    person = await database_sync_to_async(make_user)(Role.SERVICE_USER)
    communicator = await open_test(person)
    await communicator.receive_json_from(timeout=5)
    assert (await communicator.receive_json_from(timeout=5))["code"] == "time-up"
    assert (await communicator.receive_output(timeout=5))["code"] == 1000
    assert ConnectionTestConsumer.active == 0


@pytest.mark.parametrize("message, code", [
    ('{"type": "offer", "sdp": "nonsense"}', "invalid-sdp"),
    ('{"type": "hello"}', "unknown-type"),
    ("{{{", "invalid-json"),
])
async def test_bad_offers_are_refused_without_starting_a_peer(message, code):
    person = await database_sync_to_async(make_user)(Role.SERVICE_USER)
    communicator = await open_test(person)
    await communicator.receive_json_from(timeout=5)
    await communicator.send_to(text_data=message)
    assert (await communicator.receive_json_from(timeout=5))["code"] == code
    await communicator.disconnect()
    assert ConnectionTestConsumer.active == 0


async def test_only_logged_in_people_can_test():
    communicator = await open_test(None)
    assert (await communicator.receive_json_from(timeout=5))["code"] == "not-logged-in"
    assert (await communicator.receive_output(timeout=5))["code"] == 4401

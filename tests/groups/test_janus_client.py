"""Rapport's Janus client (backend/groups/janus.py) against a real Janus started by the tests.

Janus itself refuses: no token, a forged or expired token (core token auth), and a token minted for another
room (the VideoRoom `allowed` list). Removing an attendee kicks them and stops them rejoining. Rooms need
Rapport's admin key to be created. Eight aiortc peers publish audio and video and each receives frames of
both kinds from every other.
"""

from __future__ import annotations

import asyncio
import time

import aioice.ice
import pytest

from backend.groups import janus as client
from tests.janus_peer import JanusPeer, JanusRefused, http
from tests.janus_server import own_address

UNAUTHORIZED = 403  # Janus core: JANUS_ERROR_UNAUTHORIZED
VIDEOROOM_UNAUTHORIZED = 433  # JANUS_VIDEOROOM_ERROR_UNAUTHORIZED


@pytest.fixture(autouse=True)
def _local_only(monkeypatch):
    """The peers gather on the machine's own address only, as Janus does (tests/janus_server.py says why not
    127.0.0.1: libnice will not pair Janus's candidate with a loopback one). No STUN, no TURN."""
    address = own_address()
    monkeypatch.setattr(aioice.ice, "get_host_addresses", lambda use_ipv4=True, use_ipv6=True: [address])


def _token(ttl: int = 600) -> str:
    return client.sign_token(expires_at=int(time.time()) + ttl)


def _room(tokens: list[str], publishers: int = 10) -> int:
    room_id = client.new_room_id()
    client.room_ensure(room_id=room_id, description="test group", publishers=publishers, allowed=tokens)
    return room_id


def test_janus_refuses_requests_without_a_valid_token(janus):
    answer = asyncio.run(http(janus.url, {"janus": "create"}))
    assert answer["janus"] == "error" and answer["error"]["code"] == UNAUTHORIZED
    expired = client.sign_token(expires_at=int(time.time()) - 5)
    answer = asyncio.run(http(janus.url, {"janus": "create", "token": expired}))
    assert answer["janus"] == "error" and answer["error"]["code"] == UNAUTHORIZED
    forged = client.sign_token(expires_at=int(time.time()) + 600, secret="not-the-secret")
    answer = asyncio.run(http(janus.url, {"janus": "create", "token": forged}))
    assert answer["janus"] == "error" and answer["error"]["code"] == UNAUTHORIZED
    answer = asyncio.run(http(janus.url, {"janus": "create", "token": _token()}))
    assert answer["janus"] == "success"


def test_only_rapport_can_create_rooms(janus):
    """An attendee's valid token does not let them make a room: VideoRoom asks for the admin key."""
    async def attempt():
        peer = JanusPeer(janus.url, _token(), 0, 1, name="intruder")
        await peer.open()
        handle = await peer._attach()
        answer = await http(f"{peer.session_url}/{handle}", {"janus": "message", "token": peer.token, "body": {"request": "create", "room": 4242}})
        await peer.close()
        return answer["plugindata"]["data"]

    data = asyncio.run(attempt())
    assert data.get("error_code") in (VIDEOROOM_UNAUTHORIZED, 429, 456), data  # unauthorized / missing admin_key


def test_room_secret_and_servers_stay_on_the_server(janus, settings):
    settings.JANUS_SERVERS = ["http://a.internal/janus|https://rapport.example/janus-a", "http://b.internal/janus"]
    choices = {client.server_for_room(room) for room in range(1, 200)}
    assert {s.url for s in choices} == {"http://a.internal/janus", "http://b.internal/janus"}
    assert client.server_for_room(123456) == client.server_for_room(123456)
    assert client.configured_servers()[0].public_url == "https://rapport.example/janus-a"
    assert client.room_secret(1) != client.room_secret(2) and settings.JANUS_ADMIN_KEY not in client.room_secret(1)


def test_a_token_works_only_in_its_own_room_and_remove_takes_effect(janus):
    mine, theirs = _token(), _token()
    room = _room([mine])
    other_room = _room([theirs])

    async def scenario():
        stranger = JanusPeer(janus.url, theirs, room, client.new_feed_id(), name="from another room")
        await stranger.open()
        with pytest.raises(JanusRefused) as refused:
            await stranger.join()
        assert refused.value.code == VIDEOROOM_UNAUTHORIZED
        await stranger.close()

        attendee = JanusPeer(janus.url, mine, room, client.new_feed_id(), name="attendee")
        await attendee.open()
        await attendee.join()
        assert [p["id"] for p in await asyncio.to_thread(client.room_participants, room_id=room)] == [attendee.feed_id]

        await asyncio.to_thread(client.room_remove, room_id=room, tokens=[mine], feed_ids=[attendee.feed_id])
        assert await asyncio.to_thread(client.room_participants, room_id=room) == []
        with pytest.raises(JanusRefused) as refused:
            await attendee.join()  # their token is no longer on the room's list
        assert refused.value.code == VIDEOROOM_UNAUTHORIZED
        await attendee.close()

    asyncio.run(scenario())
    client.room_destroy(room_id=room)
    client.room_destroy(room_id=other_room)
    assert not client.room_exists(room_id=room)


def test_a_feed_rapport_did_not_assign_is_swept_out(janus):
    token = _token()
    room = _room([token])

    async def scenario():
        peer = JanusPeer(janus.url, token, room, client.new_feed_id(), name="second device")
        await peer.open()
        await peer.join()
        kicked = await asyncio.to_thread(client.room_sweep, room_id=room, assigned_feed_ids=set())
        assert kicked == [peer.feed_id]
        assert await asyncio.to_thread(client.room_participants, room_id=room) == []
        await peer.close()

    asyncio.run(scenario())
    client.room_destroy(room_id=room)


def test_eight_attendees_each_receive_audio_and_video_from_every_other(janus):
    tokens = [_token() for _ in range(8)]
    room = _room(tokens)

    async def scenario():
        peers = [JanusPeer(janus.url, t, room, client.new_feed_id(), name=f"attendee {i}") for i, t in enumerate(tokens)]
        try:
            for peer in peers:
                await peer.open()
                await peer.join()
            await asyncio.gather(*(peer.publish() for peer in peers))
            for peer in peers:
                others = await peer.wait_publishers(7)
                assert set(others) == {p.feed_id for p in peers if p is not peer}
            await asyncio.gather(*(peer.subscribe([p.feed_id for p in peers if p is not peer]) for peer in peers))
            deadline = time.monotonic() + 30
            while any(len(peer.sinks) < 14 for peer in peers) and time.monotonic() < deadline:
                await asyncio.sleep(0.2)
            for peer in peers:
                assert {key for key in peer.sinks} == {(p.feed_id, kind) for p in peers if p is not peer for kind in ("audio", "video")}
            for peer in peers:
                await asyncio.gather(*(sink.more(3, timeout=20) for sink in peer.sinks.values()))
        finally:
            for peer in peers:
                await peer.close()

    asyncio.run(scenario())
    client.room_destroy(room_id=room)


def test_mute_all_stops_the_audio_janus_forwards_and_unmute_restores_it(janus):
    tokens = [_token(), _token()]
    room = _room(tokens)

    async def scenario():
        facilitator, attendee = (JanusPeer(janus.url, t, room, client.new_feed_id(), name=n) for t, n in zip(tokens, ("facilitator", "attendee")))
        try:
            for peer in (facilitator, attendee):
                await peer.open()
                await peer.join()
            await asyncio.gather(facilitator.publish(), attendee.publish())
            await facilitator.wait_publishers(1)
            await facilitator.subscribe([attendee.feed_id])
            heard = facilitator.sinks  # filled as the tracks arrive
            deadline = time.monotonic() + 15
            while (attendee.feed_id, "audio") not in heard and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            audio = heard[(attendee.feed_id, "audio")]
            await audio.more(10, timeout=15)

            await asyncio.to_thread(client.room_mute_all, room_id=room, feed_ids=[facilitator.feed_id, attendee.feed_id], except_feed_ids={facilitator.feed_id})
            await asyncio.sleep(1)  # what was already on its way
            before = audio.count
            await asyncio.sleep(2)
            assert audio.count - before <= 2, "Janus still forwards the muted attendee's audio"

            await asyncio.to_thread(client.room_mute_all, room_id=room, feed_ids=[attendee.feed_id], mute=False)
            await audio.more(10, timeout=15)
        finally:
            await facilitator.close()
            await attendee.close()

    asyncio.run(scenario())
    client.room_destroy(room_id=room)


def test_after_a_janus_restart_the_room_is_recreated_and_the_same_token_joins_again(janus):
    token = _token()
    room = _room([token])
    janus.restart()  # rooms made through the API do not survive it
    assert not client.room_exists(room_id=room)
    client.room_ensure(room_id=room, description="test group", publishers=10, allowed=[token])

    async def scenario():
        peer = JanusPeer(janus.url, token, room, client.new_feed_id(), name="rejoining")
        await peer.open()
        await peer.join()
        await peer.close()

    asyncio.run(scenario())
    client.room_destroy(room_id=room)


def test_janus_down_is_reported_as_unavailable(janus, settings):
    from tests.live_server import free_port

    settings.JANUS_SERVERS = [f"http://127.0.0.1:{free_port()}/janus"]  # nothing listens there
    with pytest.raises(client.JanusUnavailable):
        client.room_ensure(room_id=client.new_room_id(), description="x", publishers=2, allowed=[])

"""Issue 12: signalling survives malformed messages, floods, faults, reconnect loops and slow clients.

In process through the whole ASGI stack and the real Redis channel layer (the bounded pub/sub layer,
backend/core/channel_layers.py), and the cache on the same Redis. Every finding of the issue is a row
or a test here that failed before the fix: deep JSON (RecursionError), a `type` that is a list or an
object (TypeError), integers beyond 64 bits (OverflowError in msgpack on relay), group events after a
4429 close (Channels' send_json skipping the send-after-close guard), candidates checked by prefix only,
a rate limit that measured processing, and a per-connection budget that reset on every reconnect.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time

import pytest
from channels.layers import get_channel_layer

from backend.core.channel_layers import OVERFLOW_EVENT, BoundedQueue
from backend.sessions import budget
from backend.sessions.protocol import MAX_DEPTH, MAX_PENDING_BYTES, MAX_SEQ, ArrivalGate, candidate_problem
from backend.sessions.presence import store
from backend.sessions.signalling import BUCKET_SIZE, FLOOD_STRIKES, MAX_MESSAGE_BYTES, RATE_PER_SECOND
from tests.sessions.test_signalling_consumer import connect, real_offer, running_session
from tests.websockets import closed_with

pytestmark = pytest.mark.django_db(transaction=True)

GOOD_CANDIDATE = "candidate:1 1 udp 2130706431 127.0.0.1 40000 typ host"


def ice(candidate, **extra) -> dict:
    return {"type": "ice", "to": "{peer}", "seq": 1, "candidate": candidate, **extra}


def cand(line: str, mid="0", index=0) -> dict:
    return ice({"candidate": line, "sdpMid": mid, "sdpMLineIndex": index})


# (what it is, the frame: text, bytes, or a message dict with "{peer}" for the other peer's id, the error code)
MALFORMED = [
    # Deep nesting: refused before json.loads can recurse.
    ("array nested 30,000 deep", "[" * 30000 + "]" * 30000, "too-deep"),
    ("object nested 10,000 deep", '{"":' * 10000 + "1" + "}" * 10000, "too-deep"),
    ("deep inside a valid message", '{"type": "ping", "x": ' + "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1) + "}", "too-deep"),
    ("unclosed deep nesting", "[" * 50000, "too-deep"),
    # Size.
    ("over 64 KiB", "x" * (MAX_MESSAGE_BYTES + 1), "too-large"),
    ("over 64 KiB of UTF-8 in fewer characters", json.dumps({"type": "ping", "x": "é" * 40000}, ensure_ascii=False), "too-large"),
    # Not JSON, not an object, not text.
    ("not JSON", "not json", "invalid-json"),
    ("a list", "[1, 2]", "invalid-json"),
    ("a binary frame", b'{"type": "ping"}', "invalid-json"),
    ("NaN", '{"type": "ack", "to": "{peer}", "seq": NaN, "ack": 1}', "invalid-json"),
    ("an integer of 5,000 digits", '{"type": "ack", "to": "{peer}", "seq": ' + "9" * 5000 + ', "ack": 1}', "invalid-json"),
    # `type` of the wrong kind.
    ("type is a list", {"type": ["offer"]}, "unknown-type"),
    ("type is an object", {"type": {"a": 1}}, "unknown-type"),
    ("type is a number", {"type": 7}, "unknown-type"),
    ("type is missing", {"seq": 1}, "unknown-type"),
    ("type is unknown", {"type": "hello"}, "unknown-type"),
    # seq.
    ("seq missing", {"type": "ack", "to": "{peer}", "ack": 1}, "invalid-field"),
    ("seq is text", {"type": "ack", "to": "{peer}", "seq": "1", "ack": 1}, "invalid-field"),
    ("seq is a fraction", {"type": "ack", "to": "{peer}", "seq": 1.5, "ack": 1}, "invalid-field"),
    ("seq is true", {"type": "ack", "to": "{peer}", "seq": True, "ack": 1}, "invalid-field"),
    ("seq is negative", {"type": "ack", "to": "{peer}", "seq": -1, "ack": 1}, "invalid-field"),
    ("seq beyond 64 bits", {"type": "ack", "to": "{peer}", "seq": 2**64, "ack": 1}, "invalid-field"),
    ("seq just beyond the bound", {"type": "ack", "to": "{peer}", "seq": MAX_SEQ + 1, "ack": 1}, "invalid-field"),
    # ack.
    ("ack beyond 64 bits", {"type": "ack", "to": "{peer}", "seq": 1, "ack": 2**70}, "invalid-field"),
    ("ack is null", {"type": "ack", "to": "{peer}", "seq": 1, "ack": None}, "invalid-field"),
    ("ack is text", {"type": "ack", "to": "{peer}", "seq": 1, "ack": "3"}, "invalid-field"),
    # to.
    ("to missing", {"type": "ack", "seq": 1, "ack": 1}, "invalid-field"),
    ("to is a number", {"type": "ack", "to": 7, "seq": 1, "ack": 1}, "invalid-field"),
    ("to is a list", {"type": "ack", "to": ["{peer}"], "seq": 1, "ack": 1}, "invalid-field"),
    ("to is not a peer id", {"type": "ack", "to": "everyone", "seq": 1, "ack": 1}, "invalid-field"),
    ("to is a lone surrogate", '{"type": "ack", "to": "\\ud800", "seq": 1, "ack": 1}', "invalid-field"),
    ("to names nobody present", {"type": "ack", "to": "p99999999", "seq": 1, "ack": 1}, "peer-not-found"),
    # sdp.
    ("sdp missing", {"type": "offer", "to": "{peer}", "seq": 1}, "invalid-field"),
    ("sdp is a number", {"type": "offer", "to": "{peer}", "seq": 1, "sdp": 5}, "invalid-field"),
    ("sdp is an object", {"type": "answer", "to": "{peer}", "seq": 1, "sdp": {"v": 0}}, "invalid-field"),
    ("sdp with a lone surrogate", '{"type": "offer", "to": "{peer}", "seq": 1, "sdp": "v=0\\r\\n\\udfff"}', "invalid-field"),
    ("sdp not SDP", {"type": "offer", "to": "{peer}", "seq": 1, "sdp": "hello"}, "invalid-sdp"),
    ("sdp without media", {"type": "offer", "to": "{peer}", "seq": 1, "sdp": "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"}, "invalid-sdp"),
    # The candidate object.
    ("candidate is text", ice("candidate:1"), "invalid-field"),
    ("candidate missing", {"type": "ice", "to": "{peer}", "seq": 1}, "invalid-field"),
    ("candidate.candidate is a number", ice({"candidate": 5, "sdpMid": "0"}), "invalid-field"),
    ("candidate.candidate too long", cand(GOOD_CANDIDATE + " x y" * 400), "invalid-field"),
    ("sdpMid is a number", cand(GOOD_CANDIDATE, mid=5, index=None), "invalid-field"),
    ("sdpMid and sdpMLineIndex missing", cand(GOOD_CANDIDATE, mid=None, index=None), "invalid-field"),
    ("sdpMLineIndex is text", cand(GOOD_CANDIDATE, mid=None, index="0"), "invalid-field"),
    ("sdpMLineIndex is negative", cand(GOOD_CANDIDATE, mid=None, index=-1), "invalid-field"),
    ("sdpMLineIndex beyond 64 bits", cand(GOOD_CANDIDATE, mid=None, index=2**64), "invalid-field"),
    # Candidates parsed, not prefix-matched.
    ("candidate:garbage", cand("candidate:garbage"), "invalid-candidate"),
    ("no candidate: prefix", cand("1 1 udp 2130706431 127.0.0.1 40000 typ host"), "invalid-candidate"),
    ("port 99999", cand("candidate:1 1 udp 2130706431 127.0.0.1 99999 typ host"), "invalid-candidate"),
    ("port negative", cand("candidate:1 1 udp 2130706431 127.0.0.1 -1 typ host"), "invalid-candidate"),
    ("component 0", cand("candidate:1 0 udp 2130706431 127.0.0.1 40000 typ host"), "invalid-candidate"),
    ("component 999", cand("candidate:1 999 udp 2130706431 127.0.0.1 40000 typ host"), "invalid-candidate"),
    ("protocol sctp", cand("candidate:1 1 sctp 2130706431 127.0.0.1 40000 typ host"), "invalid-candidate"),
    ("address not an address", cand("candidate:1 1 udp 2130706431 evil.example.com 40000 typ host"), "invalid-candidate"),
    ("address 999.1.1.1", cand("candidate:1 1 udp 2130706431 999.1.1.1 40000 typ host"), "invalid-candidate"),
    ("type unknown", cand("candidate:1 1 udp 2130706431 127.0.0.1 40000 typ bogus"), "invalid-candidate"),
    ("typ keyword missing", cand("candidate:1 1 udp 2130706431 127.0.0.1 40000 type host"), "invalid-candidate"),
    ("priority beyond 32 bits", cand("candidate:1 1 udp 99999999999 127.0.0.1 40000 typ host"), "invalid-candidate"),
    ("port beyond 64 bits", cand("candidate:1 1 udp 1 127.0.0.1 " + "9" * 30 + " typ host"), "invalid-candidate"),
    ("a second SDP line smuggled in", cand(GOOD_CANDIDATE + "\r\na=ice-lite"), "invalid-candidate"),
    ("foundation too long", cand("candidate:" + "a" * 40 + " 1 udp 1 127.0.0.1 40000 typ host"), "invalid-candidate"),
    ("rport out of range", cand("candidate:1 1 udp 1 127.0.0.1 40000 typ srflx raddr 0.0.0.0 rport 70000"), "invalid-candidate"),
    ("raddr not an address", cand("candidate:1 1 udp 1 127.0.0.1 40000 typ srflx raddr nowhere rport 9"), "invalid-candidate"),
    ("tcptype unknown", cand("candidate:1 1 tcp 1 127.0.0.1 9 typ host tcptype sideways"), "invalid-candidate"),
    ("an attribute without a value", cand(GOOD_CANDIDATE + " generation"), "invalid-candidate"),
]

# Messages that must still be relayed (each is checked to arrive at the other peer).
WELL_FORMED = [
    ("a host candidate", cand(GOOD_CANDIDATE)),
    ("an IPv6 candidate", cand("candidate:2 1 UDP 2122262783 2001:db8::1 54321 typ host generation 0")),
    ("a browser's mDNS candidate", cand("candidate:3 1 udp 2113937151 0f1e2d3c-aaaa-bbbb-cccc-0123456789ab.local 56789 typ host "
                                        "generation 0 ufrag Ab1c network-cost 999")),
    ("a relay candidate", cand("candidate:4 1 udp 41885439 203.0.113.5 3478 typ relay raddr 198.51.100.7 rport 50000 generation 0")),
    ("a TCP active candidate", cand("candidate:5 1 tcp 1518280447 192.0.2.1 9 typ host tcptype active")),
    ("end of a generation", cand("")),
    ("end of candidates", ice(None)),
    ("the largest seq and ack", {"type": "ack", "to": "{peer}", "seq": MAX_SEQ, "ack": MAX_SEQ}),
]


def frame(raw, peer_id: str) -> dict:
    if isinstance(raw, bytes):
        return {"bytes_data": raw}
    text = raw if isinstance(raw, str) else json.dumps(raw)
    return {"text_data": text.replace("{peer}", peer_id)}


async def forget_budget(*users) -> None:
    """The table sends far more bad messages than a budget allows one account; each row starts afresh."""
    for user in users:
        await budget.forget(user.pk)


async def call_of_two():
    world = await running_session()
    host = await connect(world.clinician, world.appointment.pk)
    person = await connect(world.service_user, world.appointment.pk)
    assert (await host.receive_json_from(timeout=5))["type"] == "peer-joined"
    return world, host, person



async def _channel_of(world, client) -> str | None:
    """The channel a connected client's consumer listens on, from signalling's presence store."""
    peer_id = client.welcome["peer_id"]
    return (await store().presence_of(world.appointment.pk, [peer_id])).get(peer_id)

async def test_every_malformed_message_gets_its_documented_error_and_the_socket_stays_usable(caplog):
    caplog.set_level(logging.WARNING)
    world, host, person = await call_of_two()
    target = person.welcome["peer_id"]
    for name, raw, code in MALFORMED:
        await forget_budget(world.clinician)
        await host.send_to(**frame(raw, target))
        answer = await host.receive_json_from(timeout=5)
        assert (answer["type"], answer["code"]) == ("error", code), f"{name}: {answer}"
        await host.send_json_to({"type": "ping"})
        assert (await host.receive_json_from(timeout=5)) == {"type": "pong"}, name
    assert await person.receive_nothing(timeout=0.3), "nothing malformed reached the other peer"
    for name, raw in WELL_FORMED:
        await host.send_to(**frame(raw, target))
        relayed = await person.receive_json_from(timeout=5)
        assert relayed["from"] == host.welcome["peer_id"] and relayed["type"] == raw["type"], name
        if raw["type"] == "ice":
            assert relayed["candidate"] == raw["candidate"], name
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
    await host.disconnect()
    await person.disconnect()


def test_the_candidate_parser_names_what_is_wrong():
    assert candidate_problem(GOOD_CANDIDATE) is None
    assert "port" in candidate_problem("candidate:1 1 udp 1 127.0.0.1 99999 typ host")
    assert "component" in candidate_problem("candidate:1 0 udp 1 127.0.0.1 9 typ host")
    assert "address" in candidate_problem("candidate:1 1 udp 1 nowhere 9 typ host")
    assert "type" in candidate_problem("candidate:1 1 udp 1 127.0.0.1 9 typ nope")


async def test_events_after_a_4429_close_are_not_sent_and_crash_nothing(caplog):
    """Before: a group event arriving between the server's close and the client's went out through
    Channels' send_json, past the send-after-close guard (a crash under uvicorn)."""
    caplog.set_level(logging.WARNING)
    world, host, person = await call_of_two()
    for _ in range(BUCKET_SIZE + FLOOD_STRIKES + 10):
        await person.send_json_to({"type": "ping"})
    assert await closed_with(person) == 4429
    # The person's consumer is still running until its client's disconnect arrives: give it events.
    await host.send_json_to({"type": "ack", "to": person.welcome["peer_id"], "seq": 1, "ack": 1})
    await host.disconnect(code=1006)  # peer.disconnected to the group
    assert await person.receive_nothing(timeout=0.5), "nothing is sent after the close"
    await person.disconnect()
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


async def test_a_flood_is_limited_by_arrival_not_by_how_fast_the_server_handles_it():
    """The burst is charged when it arrives: at most the bucket (plus what the clock refilled while
    sending) is admitted, however slowly the consumer works through it; then 4429."""
    world = await running_session()
    host = await connect(world.clinician, world.appointment.pk)
    started = time.monotonic()
    for _ in range(300):
        await host.send_json_to({"type": "ping"})
    sending = time.monotonic() - started
    pongs = refused = 0
    code = None
    while code is None:
        output = await host.receive_output(timeout=5)
        if output["type"] == "websocket.close":
            code = output["code"]
        else:
            message = json.loads(output["text"])
            pongs += message["type"] == "pong"
            refused += message.get("code") == "rate-limited"
    assert code == 4429
    assert BUCKET_SIZE - 5 <= pongs <= BUCKET_SIZE + RATE_PER_SECOND * sending + 1, (pongs, sending)
    assert refused >= 1
    await host.disconnect()


async def test_frames_waiting_to_be_handled_are_bounded_in_number_and_bytes():
    """The gate reads eagerly; what it holds for a consumer that has not caught up stays bounded."""
    frames: asyncio.Queue = asyncio.Queue()
    gate = ArrivalGate(frames.get)
    for _ in range(150):  # inside the burst the bucket allows, but 150 x 60 KB is far over the byte bound
        frames.put_nowait({"type": "websocket.receive", "text": "x" * 60_000})
    frames.put_nowait({"type": "websocket.disconnect", "code": 1000})
    handed = [await asyncio.wait_for(gate(), 5)]
    while handed[-1]["type"] != "websocket.disconnect":
        handed.append(await asyncio.wait_for(gate(), 5))
    admitted = [m for m in handed if m.get("text")]
    assert len(admitted) == MAX_PENDING_BYTES // 60_000
    refused = handed[len(admitted):-1]
    assert all(m.get("refused") for m in refused) and len(refused) == FLOOD_STRIKES  # then the rest is dropped unread
    assert gate.pending_bytes == 0
    gate.stop()


async def test_a_fault_in_a_handler_closes_with_1011_after_the_clean_up_and_logs_one_short_line(caplog):
    from backend.sessions.consumers import _CrashLog

    _CrashLog.last = float("-inf")  # no fault logged just before this test
    caplog.set_level(logging.WARNING)
    world, host, person = await call_of_two()
    layer = get_channel_layer()
    channel = await _channel_of(world, person)
    await layer.send(channel, {"type": "no.such.handler"})  # an event the consumer cannot handle
    error = await person.receive_json_from(timeout=5)
    assert (error["type"], error["code"]) == ("error", "server-error")
    assert await closed_with(person) == 1011
    # The clean-up a crash used to skip: presence gone, the other peer told at once.
    assert (await host.receive_json_from(timeout=5)) == {"type": "peer-disconnected", "peer_id": person.welcome["peer_id"], "grace_seconds": 30}
    assert await _channel_of(world, person) is None
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(lines) == 1 and "ValueError" in lines[0] and "\n" not in lines[0] and len(lines[0]) < 400, lines
    # A second fault at once (on the host) is counted, not logged: the log cannot be flooded.
    host_channel = await _channel_of(world, host)
    await layer.send(host_channel, {"type": "no.such.handler"})
    assert await closed_with(host) == 1011
    assert len([r for r in caplog.records if r.levelno >= logging.ERROR]) == 1
    await person.disconnect()
    await host.disconnect()


async def test_a_crash_reconnect_loop_by_one_account_is_slowed_then_refused():
    """Limits per connection reset on every reconnect; the account's budget does not."""
    world = await running_session()
    delays, refused_at = [], None
    for attempt in range(12):
        started = time.monotonic()
        socket = await connect(world.service_user, world.appointment.pk, expect_welcome=False)
        first = await socket.receive_json_from(timeout=10)
        delays.append(time.monotonic() - started)
        if first["type"] == "error":
            assert first["code"] == "too-many-errors" and first["retry_after"] == budget.WINDOW_SECONDS
            assert await closed_with(socket) == 4420
            refused_at = attempt
            break
        assert first["type"] == "welcome"
        closed = None
        for _ in range(9):  # a client that misbehaves, then drops and comes back
            await socket.send_to(text_data="[" * 10000)
            answer = await socket.receive_output(timeout=5)
            if answer["type"] == "websocket.close":
                closed = answer["code"]
                break
            if json.loads(answer["text"])["code"] == "too-many-errors":
                closed = await closed_with(socket)
                break
        await socket.disconnect(code=1006)
        if closed is not None:
            assert closed == 4420  # the budget ran out during this connection
    assert refused_at is not None and refused_at <= 8, delays
    assert max(delays) >= 1.0, f"reconnects were slowed before being refused: {delays}"
    # Only this account: the clinician still joins at once.
    host = await connect(world.clinician, world.appointment.pk)
    await host.disconnect()


async def test_the_bounded_layer_drops_beyond_its_capacity_and_answers_the_sender():
    """channels_redis's pub/sub queues are unbounded; ours hold `capacity` messages and `max_queued_bytes`."""
    layer = get_channel_layer()
    slow, sender = await layer.new_channel(), await layer.new_channel()
    layer.report_overflow(slow)
    loop_layer = layer._get_layer()
    queue = loop_layer.channels[slow]
    assert isinstance(queue, BoundedQueue)
    for seq in range(queue.capacity + 50):
        await layer.send(slow, {"type": "signal.relay", "message": {"seq": seq},
                                "reply_if_dropped": {"channel": sender, "message": {"type": "signal.busy", "seq": seq}}})
    busy = [await asyncio.wait_for(layer.receive(sender), 5) for _ in range(50)]
    assert [m["seq"] for m in busy] == list(range(queue.capacity, queue.capacity + 50))
    assert queue.qsize() == queue.capacity
    assert await layer.receive(slow) == {"type": OVERFLOW_EVENT, "dropped": 50}
    assert (await layer.receive(slow))["message"] == {"seq": 0}  # what was queued is still delivered, in order
    # The byte bound: large messages stop well before the count does.
    big = await layer.new_channel()
    for _ in range(40):
        await layer.send(big, {"type": "signal.relay", "message": {"sdp": "a" * 60000}})
    await asyncio.sleep(0.5)
    queue = loop_layer.channels[big]
    assert queue.queued_bytes <= queue.max_bytes and queue.qsize() < 20 and queue.dropped > 20


async def test_a_slow_consumer_is_closed_with_4408_and_its_senders_hear_peer_busy():
    """A client whose socket cannot take what is sent to it: its consumer's queue stays bounded, the
    sender is told `peer-busy` for what was dropped, and the slow socket is closed (4408) once it
    gets round to it; the other peer hears it dropped, so the call re-forms when it reconnects."""
    world, host, person = await call_of_two()
    layer = get_channel_layer()
    channel = await _channel_of(world, person)
    queue = layer._get_layer().channels[channel]
    sdp = await real_offer()
    # Stand-in for a client that stopped reading (its socket takes one more message, then each send
    # waits, as uvicorn's does when the client's TCP window is full): the communicator's output
    # queue, bounded to one message.
    person.output_queue._maxsize = 1
    for seq in range(queue.capacity + 30):  # within the burst the rate limit allows
        await host.send_json_to({"type": "offer", "to": person.welcome["peer_id"], "seq": seq, "sdp": sdp})
    busy = []
    while len(busy) < 20:
        message = await host.receive_json_from(timeout=10)
        if message.get("code") == "peer-busy":
            busy.append(message)
    assert busy[0]["ref_type"] == "offer" and busy[0]["seq"] > 0
    assert queue.qsize() <= queue.capacity
    person.output_queue._maxsize = 0  # the client reads again
    error = None
    while True:
        output = await person.receive_output(timeout=10)
        if output["type"] == "websocket.close":
            break
        message = json.loads(output["text"])
        if message["type"] == "error":
            error = message
    assert error["code"] == "too-slow" and output["code"] == 4408
    async def next_news():  # skipping the answers to the host's own offers still in flight
        message = await host.receive_json_from(timeout=5)
        while message.get("code") in ("peer-busy", "peer-not-found"):
            message = await host.receive_json_from(timeout=5)
        return message

    assert await next_news() == {"type": "peer-disconnected", "peer_id": person.welcome["peer_id"], "grace_seconds": 30}
    await person.disconnect()
    back = await connect(world.service_user, world.appointment.pk)
    assert back.welcome["peer_id"] == person.welcome["peer_id"]
    assert (await next_news())["type"] == "peer-reconnected"
    await back.disconnect()
    await host.disconnect()

"""An aiortc peer that joins a Janus VideoRoom over Janus's HTTP API, as a browser running janus.js would:
one Janus session, a publisher handle (audio + video) and one multistream subscriber handle for the others.

It contacts no STUN or TURN server (iceServers=[]) and, with the tests' monkeypatch, gathers on 127.0.0.1 only.
HTTP calls run in threads (urllib), so no HTTP client library is added for the tests.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import av
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import AudioStreamTrack, VideoStreamTrack
from aiortc.sdp import candidate_from_sdp

from tests.signalling_client import FrameSink


class SmallVideoTrack(VideoStreamTrack):
    """A 160x120 picture: eight encoders and fifty-six decoders must fit on a small test machine."""

    async def recv(self):
        pts, time_base = await self.next_timestamp()
        frame = av.VideoFrame(width=160, height=120)
        for plane in frame.planes:
            plane.update(bytes(plane.buffer_size))
        frame.pts, frame.time_base = pts, time_base
        return frame


class JanusRefused(Exception):
    """Janus answered a request with an error (core or VideoRoom)."""

    def __init__(self, code: int, reason: str):
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason


def _http(url: str, body: dict | None = None, timeout: float = 35) -> dict:
    data = None if body is None else json.dumps({**body, "transaction": secrets.token_hex(6)}).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - loopback Janus
        return json.loads(response.read())


_POOL = ThreadPoolExecutor(max_workers=96, thread_name_prefix="janus-http")  # each peer holds one long poll


async def http(url: str, body: dict | None = None, timeout: float = 35):
    return await asyncio.get_running_loop().run_in_executor(_POOL, _http, url, body, timeout)


@dataclass
class JanusPeer:
    """A group attendee's client. `token` is the one Rapport issued; `room` and `feed_id` come with it."""

    url: str
    token: str
    room: int
    feed_id: int
    name: str = ""
    audio: bool = True
    video: bool = True
    session_url: str = ""
    publisher_handle: int = 0
    subscriber_handle: int = 0
    private_id: int = 0
    publishers: dict = field(default_factory=dict)  # feed id -> streams
    events: list = field(default_factory=list)
    sinks: dict = field(default_factory=dict)  # (feed id, kind) -> FrameSink
    kicked: asyncio.Event = field(default_factory=asyncio.Event)
    _changed: asyncio.Event = field(default_factory=asyncio.Event)
    _poller: asyncio.Task | None = None
    pub_pc: RTCPeerConnection | None = None
    sub_pcs: dict = field(default_factory=dict)  # subscriber handle -> its peer connection
    _early: dict = field(default_factory=dict)  # candidates Janus trickled before its SDP was applied

    async def _request(self, url: str, body: dict) -> dict:
        answer = await http(url, {**body, "token": self.token})
        if answer.get("janus") == "error":
            raise JanusRefused(answer["error"]["code"], answer["error"]["reason"])
        return answer

    async def open(self) -> None:
        """Create the Janus session (Janus checks the token's signature and expiry here)."""
        created = await self._request(self.url, {"janus": "create"})
        self.session_url = f"{self.url}/{created['data']['id']}"
        self._poller = asyncio.create_task(self._poll())

    async def _attach(self) -> int:
        attached = await self._request(self.session_url, {"janus": "attach", "plugin": "janus.plugin.videoroom"})
        return attached["data"]["id"]

    async def _poll(self) -> None:
        while True:
            try:
                batch = await http(f"{self.session_url}?maxev=10&token={urllib.parse.quote(self.token)}")
            except (OSError, urllib.error.URLError, ValueError):
                await asyncio.sleep(0.2)
                continue
            for event in batch if isinstance(batch, list) else [batch]:
                await self._handle(event)

    async def _handle(self, event: dict) -> None:
        self.events.append(event)
        if event.get("janus") == "trickle":
            candidate = event.get("candidate", {})
            pc = self.pub_pc if event.get("sender") == self.publisher_handle else self.sub_pcs.get(event.get("sender"))
            if pc is not None and candidate.get("candidate"):
                if pc.remoteDescription is None:
                    self._early.setdefault(id(pc), []).append(candidate)
                    return
                parsed = candidate_from_sdp(candidate["candidate"].split(":", 1)[1])
                parsed.sdpMid = candidate.get("sdpMid")
                parsed.sdpMLineIndex = candidate.get("sdpMLineIndex")
                await pc.addIceCandidate(parsed)
        data = event.get("plugindata", {}).get("data", {})
        for publisher in data.get("publishers", []):
            self.publishers[publisher["id"]] = publisher.get("streams", [])
        for key in ("leaving", "unpublished"):
            if isinstance(data.get(key), int):
                self.publishers.pop(data[key], None)
        if data.get("reason") == "kicked" or data.get("videoroom") == "destroyed":  # Janus tells the kicked one
            self.kicked.set()
        self._changed.set()

    async def _flush(self, pc) -> None:
        for candidate in self._early.pop(id(pc), []):
            parsed = candidate_from_sdp(candidate["candidate"].split(":", 1)[1])
            parsed.sdpMid = candidate.get("sdpMid")
            parsed.sdpMLineIndex = candidate.get("sdpMLineIndex")
            await pc.addIceCandidate(parsed)

    async def wait_event(self, predicate, timeout: float = 15) -> dict:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            for event in self.events:
                if predicate(event):
                    return event
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise TimeoutError(f"{self.name}: no matching Janus event in {timeout} s; got {self.events[-5:]}")
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except TimeoutError:
                pass

    async def _message(self, handle: int, body: dict, jsep: dict | None = None) -> dict:
        """Send a plugin message; returns the plugin's answer (sync) or the first async event for it."""
        payload = {"janus": "message", "body": body}
        if jsep is not None:
            payload["jsep"] = jsep
        transaction = secrets.token_hex(6)
        answer = await http(f"{self.session_url}/{handle}", {**payload, "token": self.token, "transaction": transaction})
        if answer.get("janus") == "error":
            raise JanusRefused(answer["error"]["code"], answer["error"]["reason"])
        if answer.get("janus") == "success":
            return answer
        event = await self.wait_event(lambda e: e.get("transaction") == answer.get("transaction") and e.get("janus") == "event")
        data = event.get("plugindata", {}).get("data", {})
        if "error_code" in data:
            raise JanusRefused(data["error_code"], data.get("error", ""))
        return event

    async def join(self) -> None:
        """Join the room as a publisher with Rapport's feed id and the room token (VideoRoom checks the list)."""
        self.publisher_handle = await self._attach()
        joined = await self._message(self.publisher_handle, {
            "request": "join", "ptype": "publisher", "room": self.room, "id": self.feed_id,
            "display": self.name, "token": self.token,
        })
        data = joined["plugindata"]["data"]
        self.private_id = data["private_id"]
        for publisher in data.get("publishers", []):
            self.publishers[publisher["id"]] = publisher.get("streams", [])

    async def publish(self) -> None:
        self.pub_pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        if self.audio:
            self.pub_pc.addTrack(AudioStreamTrack())  # audio first: mid "0" (Rapport's mute-all moderates it)
        if self.video:
            self.pub_pc.addTrack(SmallVideoTrack())
        await self.pub_pc.setLocalDescription(await self.pub_pc.createOffer())
        offer = self.pub_pc.localDescription
        configured = await self._message(
            self.publisher_handle, {"request": "publish", "audio": self.audio, "video": self.video},
            {"type": offer.type, "sdp": offer.sdp, "trickle": False},
        )
        answer = configured["jsep"]
        await self.pub_pc.setRemoteDescription(RTCSessionDescription(sdp=answer["sdp"], type=answer["type"]))
        await self._flush(self.pub_pc)

    async def subscribe(self, feeds: list[int]) -> None:
        """One subscriber handle and peer connection per remote feed, as janus.js's classic demos do
        (aiortc routes RTP by SSRC and payload type only, so several video m-lines on one connection would
        share a payload type it cannot tell apart). Frames are read continuously."""
        await asyncio.gather(*(self._subscribe_one(feed) for feed in feeds))

    async def _subscribe_one(self, feed: int) -> None:
        handle = await self._attach()
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.sub_pcs[handle] = pc
        attached = await self._message(handle, {
            "request": "join", "ptype": "subscriber", "room": self.room, "private_id": self.private_id,
            "streams": [{"feed": feed}], "token": self.token,
        })

        @pc.on("track")
        def _on_track(track):
            self.sinks[(feed, track.kind)] = FrameSink(track)

        offer = attached["jsep"]
        await pc.setRemoteDescription(RTCSessionDescription(sdp=offer["sdp"], type=offer["type"]))
        await self._flush(pc)
        await pc.setLocalDescription(await pc.createAnswer())
        answer = pc.localDescription
        await self._message(handle, {"request": "start"}, {"type": answer.type, "sdp": answer.sdp, "trickle": False})

    async def wait_publishers(self, count: int, timeout: float = 20) -> list[int]:
        deadline = asyncio.get_running_loop().time() + timeout
        while len([f for f in self.publishers if f != self.feed_id]) < count:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise TimeoutError(f"{self.name}: {len(self.publishers)} publishers seen, expected {count}")
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except TimeoutError:
                pass
        return sorted(f for f in self.publishers if f != self.feed_id)

    async def close(self) -> None:
        for sink in self.sinks.values():
            sink.stop()
        for pc in (self.pub_pc, *self.sub_pcs.values()):
            if pc is not None:
                await pc.close()
        if self.session_url:
            try:
                await http(self.session_url, {"janus": "destroy", "token": self.token}, timeout=3)
            except (OSError, urllib.error.URLError, ValueError):
                pass
        if self._poller is not None:
            self._poller.cancel()

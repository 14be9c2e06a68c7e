"""A small client of Rapport's signalling protocol (docs/signalling.md) with aiortc peers.

Used by the end-to-end call tests and by bench/call_setup.py. One `SignallingClient` is one
participant: a WebSocket to a Rapport server (the `websockets` library) and one aiortc
`RTCPeerConnection` per remote peer, sending synthetic audio and video. It implements what a client
must: the welcome, the newcomer's first offer, offers and answers carrying `seq` and acknowledged with
`ack` (resent after 2 s, at most 3 times), trickle ICE (aiortc gathers every candidate before
`localDescription` is set, so the candidates are in the SDP already; they are still sent as `ice`
messages, then the end-of-candidates `null`), identical descriptions ignored, heartbeats, and
renegotiation by the impolite side after `peer-reconnected`.

What aiortc 1.16 cannot do, and so this client does not: `restartIce()` (aiortc has no ICE restart,
so after `peer-reconnected` the impolite side renegotiates with a fresh offer on the same connection),
and rolling back a local offer (an offer collision on the polite side is recorded as an error).

Loopback only: peers are made with `RTCConfiguration(iceServers=[])` (aiortc's default configuration
would contact a public STUN server), and `limit_ice_to_loopback()` must be called (or its
monkeypatch applied) so aioice gathers host candidates on 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import aioice.ice
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import AudioStreamTrack, VideoStreamTrack
from aiortc.sdp import SessionDescription, candidate_from_sdp, candidate_to_sdp
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

ACK_TIMEOUT = 2.0  # docs/signalling.md: resend a description not acknowledged within 2 s ...
MAX_SENDS = 4  # ... at most 3 times


def loopback_host_addresses(use_ipv4: bool = True, use_ipv6: bool = True) -> list[str]:
    """Replacement for `aioice.ice.get_host_addresses`: gather host candidates on 127.0.0.1 only."""
    return ["127.0.0.1"]


def limit_ice_to_loopback() -> None:
    """For scripts (benchmarks): make aioice gather on 127.0.0.1 only, in this process. Tests use
    pytest's monkeypatch with `loopback_host_addresses` instead, so the patch is undone afterwards."""
    aioice.ice.get_host_addresses = loopback_host_addresses


def new_peer_connection() -> RTCPeerConnection:
    """An aiortc peer that contacts no STUN or TURN server."""
    return RTCPeerConnection(RTCConfiguration(iceServers=[]))


def local_candidates(description: RTCSessionDescription) -> list[dict]:
    """The ICE candidates in a local description, as the protocol's `candidate` objects."""
    parsed = SessionDescription.parse(description.sdp)
    candidates = []
    for index, media in enumerate(parsed.media):
        mid = media.rtp.muxId or None
        for candidate in media.ice_candidates:
            candidates.append({"candidate": "candidate:" + candidate_to_sdp(candidate), "sdpMid": mid, "sdpMLineIndex": index})
    return candidates


@dataclass
class PeerLink:
    """This client's connection to one remote peer."""

    peer_id: str
    polite: bool
    pc: RTCPeerConnection
    role: str = ""
    remote_tracks: dict = field(default_factory=dict)  # kind -> remote MediaStreamTrack
    tracks_arrived: asyncio.Event = field(default_factory=asyncio.Event)
    last_remote_sdp: str | None = None
    making_offer: bool = False
    offers_sent: int = 0
    answers_sent: int = 0
    answers_applied: int = 0
    ice_received: list = field(default_factory=list)  # candidates (dict or None) as received
    negotiated: asyncio.Event = field(default_factory=asyncio.Event)  # set each time an answer is applied


class SignallingClient:
    def __init__(self, appointment_id: int, token: str, *, name: str = "", media: bool = True):
        self.appointment_id = appointment_id
        self.token = token
        self.name = name
        self.media = media
        self.ws: ClientConnection | None = None
        self.welcome: dict | None = None
        self.peers: dict[str, PeerLink] = {}
        self.received: list[dict] = []  # every message from the server that is not a relayed offer/answer/ice/ack
        self.errors: list = []  # `error` messages from the server, and anything that went wrong here
        self.pongs = 0
        self.close_code: int | None = None
        self.closed = asyncio.Event()
        self.first_offer_at: float | None = None  # perf_counter() when making the first offer began (benchmarks)
        self.moments: dict[str, float] = {}  # first "<kind> sent" / "<kind> received" times, perf_counter() (benchmarks)
        self._seq = itertools.count(1)
        self._acks: dict[int, asyncio.Future] = {}
        self._changed = asyncio.Event()
        self._tasks: set[asyncio.Task] = set()
        self._reader: asyncio.Task | None = None
        self._heartbeat: asyncio.Task | None = None

    # --- Connection --------------------------------------------------------------------------------
    async def connect(self, ws_url: str, *, timeout: float = 10) -> dict:
        """Open the signalling socket on `ws_url` (ws://127.0.0.1:<port>), read the welcome, and offer to
        every listed peer this client does not know yet (the newcomer offers). Returns the welcome."""
        origin = "http://" + ws_url.split("://", 1)[1].split("/", 1)[0]
        self.ws = await connect(
            f"{ws_url}/ws/sessions/{self.appointment_id}/", origin=origin,
            additional_headers={"Authorization": f"Token {self.token}"}, proxy=None, compression=None,
            open_timeout=timeout, ping_interval=None,
        )
        self.closed = asyncio.Event()
        self.close_code = None
        first = json.loads(await asyncio.wait_for(self.ws.recv(), timeout))
        if first.get("type") != "welcome":
            self.received.append(first)
            raise AssertionError(f"{self.name}: expected a welcome, got {first}")
        self.welcome = first
        self._reader = asyncio.create_task(self._read(self.ws))
        self._heartbeat = asyncio.create_task(self._beat(self.ws, first["heartbeat_seconds"]))
        for peer in first["peers"]:
            if peer["peer_id"] not in self.peers:
                link = self._link(peer["peer_id"], peer["polite"], peer["role"])
                self._spawn(self.negotiate(link.peer_id))
        return first

    @property
    def peer_id(self) -> str:
        return self.welcome["peer_id"]

    def drop(self) -> None:
        """The network drops: the TCP connection is cut without a closing handshake."""
        self.ws.transport.abort()

    async def close(self, *, bye: bool = False) -> None:
        """Tidy up: say bye (if asked), close the socket and every peer connection."""
        for task in (self._heartbeat, *self._tasks):
            if task is not None:
                task.cancel()
        if self.ws is not None:
            try:
                if bye:
                    await self.send({"type": "bye"})
                await asyncio.wait_for(self.ws.close(), 2)
            except (ConnectionClosed, TimeoutError, OSError):
                self.ws.transport.abort()
        if self._reader is not None:
            # Let the reader finish what it is doing (it may be closing a peer connection after a
            # peer-left): cancelling aiortc's close() halfway leaves the connection half closed.
            try:
                await asyncio.wait_for(asyncio.shield(self._reader), 5)
            except (TimeoutError, asyncio.CancelledError):
                self._reader.cancel()
        for link in list(self.peers.values()):
            await link.pc.close()

    async def send(self, message: dict) -> None:
        await self.ws.send(json.dumps(message))

    # --- Waiting for things --------------------------------------------------------------------------
    async def wait_for(self, predicate: Callable[[dict], bool], timeout: float = 10) -> dict:
        """The first message received so far, or arriving within `timeout`, for which `predicate` is true."""
        deadline = time.monotonic() + timeout
        while True:
            for message in self.received:
                if predicate(message):
                    return message
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"{self.name}: no matching message within {timeout} s; received {self.received}")
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except TimeoutError:
                pass

    async def wait_for_type(self, kind: str, timeout: float = 10) -> dict:
        return await self.wait_for(lambda m: m.get("type") == kind, timeout)

    async def wait_for_peer(self, timeout: float = 10) -> PeerLink:
        """The first remote peer, once known."""
        deadline = time.monotonic() + timeout
        while not self.peers:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.name}: no peer within {timeout} s")
            await asyncio.sleep(0.01)
        return next(iter(self.peers.values()))

    async def wait_closed(self, timeout: float = 10) -> int | None:
        await asyncio.wait_for(self.closed.wait(), timeout)
        return self.close_code

    # --- Negotiation -------------------------------------------------------------------------------
    def _link(self, peer_id: str, polite: bool, role: str = "") -> PeerLink:
        link = self.peers.get(peer_id)
        if link is not None:
            link.polite, link.role = polite, role or link.role
            return link
        pc = new_peer_connection()
        link = PeerLink(peer_id=peer_id, polite=polite, pc=pc, role=role)
        if self.media:
            pc.addTrack(AudioStreamTrack())
            pc.addTrack(VideoStreamTrack())
        else:
            pc.addTransceiver("audio")
            pc.addTransceiver("video")

        @pc.on("track")
        def on_track(track):
            link.remote_tracks[track.kind] = track
            if {"audio", "video"} <= link.remote_tracks.keys():
                link.tracks_arrived.set()

        self.peers[peer_id] = link
        return link

    async def negotiate(self, peer_id: str) -> None:
        """Send an offer to `peer_id` (the first one, or a renegotiation) and wait for it to be acknowledged."""
        link = self.peers[peer_id]
        if self.first_offer_at is None:
            self.first_offer_at = time.perf_counter()
        link.making_offer = True
        try:
            await link.pc.setLocalDescription(await link.pc.createOffer())
        finally:
            link.making_offer = False
        link.offers_sent += 1
        await self._send_reliably(peer_id, "offer", link.pc.localDescription.sdp)
        await self._trickle(link)

    async def _send_reliably(self, peer_id: str, kind: str, sdp: str) -> None:
        """Send a description; resend it with a new seq if no ack comes within 2 s (3 resends at most)."""
        for _ in range(MAX_SENDS):
            seq = next(self._seq)
            acked = asyncio.get_running_loop().create_future()
            self._acks[seq] = acked
            await self.send({"type": kind, "to": peer_id, "seq": seq, "sdp": sdp})
            self.moments.setdefault(f"{kind} sent", time.perf_counter())
            try:
                await asyncio.wait_for(acked, ACK_TIMEOUT)
                return
            except TimeoutError:
                continue
            finally:
                self._acks.pop(seq, None)
        self.errors.append(f"{kind} to {peer_id} was never acknowledged")

    async def _trickle(self, link: PeerLink) -> None:
        for candidate in local_candidates(link.pc.localDescription):
            await self.send({"type": "ice", "to": link.peer_id, "seq": next(self._seq), "candidate": candidate})
        await self.send({"type": "ice", "to": link.peer_id, "seq": next(self._seq), "candidate": None})

    async def _on_offer(self, message: dict) -> None:
        sender = message["from"]
        link = self.peers.get(sender) or self._link(sender, polite=False)
        await self.send({"type": "ack", "to": sender, "seq": next(self._seq), "ack": message["seq"]})
        if message["sdp"] == link.last_remote_sdp:
            return  # a resend of what is applied already
        if link.last_remote_sdp and _fingerprint(message["sdp"]) != _fingerprint(link.last_remote_sdp):
            # A new certificate: the peer reloaded its page and made a new RTCPeerConnection. Ours cannot
            # continue with it (docs/signalling.md): replace it and answer on a new one.
            self.peers.pop(sender, None)
            await link.pc.close()
            link = self._link(sender, polite=link.polite, role=link.role)
        collision = link.making_offer or link.pc.signalingState != "stable"
        if collision:
            if not link.polite:
                return  # impolite: ignore theirs, ours wins
            self.errors.append(f"offer collision with {sender}: aiortc cannot roll back a local offer")
            return
        await link.pc.setRemoteDescription(RTCSessionDescription(sdp=message["sdp"], type="offer"))
        link.last_remote_sdp = message["sdp"]
        await link.pc.setLocalDescription(await link.pc.createAnswer())
        link.answers_sent += 1
        self._spawn(self._answer_and_trickle(link))

    async def _answer_and_trickle(self, link: PeerLink) -> None:
        await self._send_reliably(link.peer_id, "answer", link.pc.localDescription.sdp)
        await self._trickle(link)

    async def _on_answer(self, message: dict) -> None:
        sender = message["from"]
        await self.send({"type": "ack", "to": sender, "seq": next(self._seq), "ack": message["seq"]})
        link = self.peers.get(sender)
        if link is None or message["sdp"] == link.last_remote_sdp:
            return
        if link.pc.signalingState != "have-local-offer":
            self.errors.append(f"answer from {sender} in state {link.pc.signalingState}")
            return
        await link.pc.setRemoteDescription(RTCSessionDescription(sdp=message["sdp"], type="answer"))
        link.last_remote_sdp = message["sdp"]
        link.answers_applied += 1
        link.negotiated.set()

    async def _on_ice(self, message: dict) -> None:
        link = self.peers.get(message["from"])
        if link is None:
            return
        link.ice_received.append(message["candidate"])
        if link.pc.remoteDescription is None:
            return  # aiortc needs the description first; its candidates are in the SDP anyway
        data = message["candidate"]
        if data is None:
            await link.pc.addIceCandidate(None)
        elif data["candidate"]:
            candidate = candidate_from_sdp(data["candidate"].split(":", 1)[1])
            candidate.sdpMid, candidate.sdpMLineIndex = data["sdpMid"], data["sdpMLineIndex"]
            await link.pc.addIceCandidate(candidate)  # one already known from the SDP is ignored

    # --- The socket ------------------------------------------------------------------------------
    async def _read(self, ws: ClientConnection) -> None:
        try:
            async for raw in ws:
                message = json.loads(raw)
                try:
                    await self._dispatch(message)
                except Exception as error:  # noqa: BLE001 - record, keep reading
                    self.errors.append(f"{type(error).__name__} handling {message.get('type')}: {error}")
        except ConnectionClosed:
            pass
        finally:
            if ws is self.ws:
                self.close_code = ws.close_code
                if self._heartbeat is not None:
                    self._heartbeat.cancel()
                self.closed.set()
                self._changed.set()

    async def _dispatch(self, message: dict) -> None:
        kind = message.get("type")
        self.moments.setdefault(f"{kind} received", time.perf_counter())
        if kind == "offer":
            await self._on_offer(message)
        elif kind == "answer":
            await self._on_answer(message)
        elif kind == "ice":
            await self._on_ice(message)
        elif kind == "ack":
            future = self._acks.get(message["ack"])
            if future is not None and not future.done():
                future.set_result(message)
        else:
            if kind == "pong":
                self.pongs += 1
            elif kind == "error":
                self.errors.append(message)
            elif kind == "peer-joined":
                peer = message["peer"]
                self._link(peer["peer_id"], peer["polite"], peer["role"])  # wait for the newcomer's offer
            elif kind == "peer-reconnected":
                peer = message["peer"]
                link = self._link(peer["peer_id"], peer["polite"], peer["role"])
                if message.get("restart_ice") and not link.polite:
                    # aiortc has no restartIce(): renegotiate on the same connection instead.
                    link.negotiated.clear()
                    self._spawn(self.negotiate(link.peer_id))
            elif kind == "peer-left":
                link = self.peers.pop(message["peer_id"], None)
                if link is not None:
                    await link.pc.close()
            self.received.append(message)
            self._changed.set()

    async def _beat(self, ws: ClientConnection, every: float) -> None:
        try:
            while True:
                await ws.send(json.dumps({"type": "ping"}))
                await asyncio.sleep(every)
        except (ConnectionClosed, asyncio.CancelledError):
            pass

    def _spawn(self, coroutine) -> None:
        task = asyncio.create_task(self._guard(coroutine))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _guard(self, coroutine) -> None:
        try:
            await coroutine
        except ConnectionClosed:
            pass
        except Exception as error:  # noqa: BLE001 - record it for the test to see
            self.errors.append(f"{type(error).__name__}: {error}")


def _fingerprint(sdp: str) -> str | None:
    """The DTLS certificate fingerprint of a description: new with every RTCPeerConnection."""
    for line in sdp.splitlines():
        if line.startswith("a=fingerprint:"):
            return line
    return None


async def wait_connected(pc: RTCPeerConnection, timeout: float = 10) -> None:
    """Wait until `pc.connectionState` is "connected" (raises TimeoutError, or AssertionError on "failed")."""
    changed = asyncio.Event()

    def on_change():
        changed.set()

    pc.on("connectionstatechange", on_change)
    try:
        deadline = time.monotonic() + timeout
        while pc.connectionState != "connected":
            if pc.connectionState in ("failed", "closed"):
                raise AssertionError(f"peer connection {pc.connectionState}")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"not connected within {timeout} s (state {pc.connectionState})")
            changed.clear()
            try:
                await asyncio.wait_for(changed.wait(), remaining)
            except TimeoutError:
                pass
    finally:
        pc.remove_listener("connectionstatechange", on_change)


class FrameSink:
    """Reads a remote track continuously (so counts reflect frames arriving now, not a backlog)."""

    def __init__(self, track):
        self.track = track
        self.count = 0
        self.last = None
        self.arrived = asyncio.Event()
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        try:
            while True:
                self.last = await self.track.recv()
                self.count += 1
                self.arrived.set()
        except Exception:  # noqa: BLE001 - the track ended (MediaStreamError) or the task was cancelled
            return

    async def more(self, frames: int = 1, timeout: float = 10):
        """Wait for `frames` more frames than have arrived so far; return the latest."""
        target = self.count + frames
        deadline = time.monotonic() + timeout
        while self.count < target:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self.task.done():
                raise TimeoutError(f"{self.track.kind}: {self.count} frames, expected {target} within {timeout} s")
            self.arrived.clear()
            try:
                await asyncio.wait_for(self.arrived.wait(), remaining)
            except TimeoutError:
                pass
        return self.last

    def stop(self) -> None:
        self.task.cancel()

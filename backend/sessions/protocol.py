"""What the signalling server accepts from a client, checked strictly before anything acts on it.

Hostile or broken input must get an `error` message, never a crashed consumer (issue 12): the JSON is
bounded in size and nesting *before* it is parsed (a 30,000-deep array blows Python's recursion limit
inside json.loads), every field has a type and bounds (an integer beyond 64 bits parses fine and then
breaks msgpack on the channel layer), every string must be encodable (a lone surrogate does the
same), and ICE candidates are parsed, not prefix-matched. Also here: the rate limit by arrival
(`ArrivalGate`), which reads the socket as fast as frames come so that a flood is measured when it
arrives, not when a busy consumer gets round to it. docs/signalling.md ("Limits") states every bound.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import re
import time

from aioice.candidate import Candidate

from backend.sessions.signalling import (
    ADDRESSED_TYPES,
    BUCKET_SIZE,
    CLIENT_TYPES,
    FLOOD_STRIKES,
    MAX_MESSAGE_BYTES,
    ProtocolError,
    TokenBucket,
    validate_sdp,
)

MAX_DEPTH = 4  # a message is an object holding at most an object (the candidate); 4 leaves room
MAX_SEQ = 2**53 - 1  # `seq` and `ack`: 0 ... Number.MAX_SAFE_INTEGER, so JavaScript clients count exactly
MAX_PEER_ID_CHARS = 24
MAX_MID_CHARS = 64  # sdpMid is an SDP token; browsers use "0", "1", "audio"...
MAX_MLINE_INDEX = 1023
MAX_CANDIDATE_CHARS = 1024
MAX_PENDING = BUCKET_SIZE  # messages read from the socket but not yet handled; beyond this they count as refused
MAX_PENDING_BYTES = 1024 * 1024  # ... and their size in all

_PEER_ID = re.compile(r"p[0-9]{1,20}")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = re.compile(r"[\[\]{}]")
_ICE_CHARS = re.compile(r"[A-Za-z0-9+/]{1,32}")  # RFC 8445 foundation: 1-32 ice-chars
_TOKEN = re.compile(r"[\x21-\x7e]{1,256}")  # an extension attribute's name or value: visible ASCII
_MDNS_NAME = re.compile(r"[A-Za-z0-9-]{1,63}\.local")  # browsers hide local addresses as <uuid>.local
CANDIDATE_TYPES = {"host", "srflx", "prflx", "relay"}
TCP_TYPES = {"active", "passive", "so"}


def _nesting_depth(text: str) -> int:
    """The deepest nesting of arrays and objects, outside strings, without parsing (so without recursion)."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:  # the common case, at C speed
        return MAX_DEPTH
    depth = deepest = 0
    for bracket in _BRACKETS.findall(_STRING.sub("", text)):
        depth += 1 if bracket in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def _no_constants(name: str):
    raise ValueError(f"{name} is not JSON")


# One decoder for every message: json.loads with an argument builds a new JSONDecoder each call (a
# few per cent of a relay's CPU).
_DECODER = json.JSONDecoder(parse_constant=_no_constants)


def load_message(text: str | bytes | None) -> dict:
    """One client frame as a JSON object, bounded in size and depth before parsing. Raises ProtocolError."""
    if not isinstance(text, str):
        raise ProtocolError("invalid-json", "Send text frames containing JSON objects.")
    if len(text) > MAX_MESSAGE_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_MESSAGE_BYTES:
        raise ProtocolError("too-large", f"Messages are limited to {MAX_MESSAGE_BYTES} bytes.")
    if _nesting_depth(text) > MAX_DEPTH:
        raise ProtocolError("too-deep", f"Messages nest objects and arrays at most {MAX_DEPTH} deep.")
    try:
        # Integers of more than 4,300 digits raise ValueError (Python's own limit); NaN and Infinity are refused.
        message = _DECODER.decode(text)
    except (ValueError, RecursionError):
        raise ProtocolError("invalid-json", "The message is not valid JSON.") from None
    if not isinstance(message, dict):
        raise ProtocolError("invalid-json", "A message is a JSON object.")
    return message


def _integer(value, low: int, high: int) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and low <= value <= high:
        return value
    return None


def _text(value, max_chars: int) -> str | None:
    """A string that fits and can be encoded (a lone surrogate cannot, and would break the relay)."""
    if not isinstance(value, str) or len(value) > max_chars:
        return None
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return None
    return value


def parse_client_message(text: str | bytes | None) -> dict:
    """Parse and validate one message from a client: the message to act on, with only the fields the
    protocol defines (unknown fields are dropped, never relayed), or ProtocolError."""
    message = load_message(text)
    kind = message.get("type")
    seq = _integer(message.get("seq"), 0, MAX_SEQ)
    if not isinstance(kind, str) or kind not in CLIENT_TYPES:
        shown = kind if isinstance(kind, str) and len(kind) <= 32 and _text(kind, 32) else "(not a known name)"
        raise ProtocolError("unknown-type", f"Unknown message type {shown!r}. Known: {', '.join(sorted(CLIENT_TYPES))}.", seq=seq)
    if kind not in ADDRESSED_TYPES:
        return {"type": kind}
    if seq is None:
        raise ProtocolError("invalid-field", f"'seq' is required: a whole number from 0 to {MAX_SEQ} that increases "
                                             "with each message you send.", ref_type=kind)
    to = _text(message.get("to"), MAX_PEER_ID_CHARS)
    if to is None or not _PEER_ID.fullmatch(to):
        raise ProtocolError("invalid-field", "'to' is required: a peer_id such as \"p7\".", seq=seq, ref_type=kind)
    if kind in ("offer", "answer"):
        sdp = _text(message.get("sdp"), MAX_MESSAGE_BYTES)
        if sdp is None:
            raise ProtocolError("invalid-field", "'sdp' is required and must be text.", seq=seq, ref_type=kind)
        validate_sdp(sdp, kind, seq)
        return {"type": kind, "to": to, "seq": seq, "sdp": sdp}
    if kind == "ice":
        return {"type": "ice", "to": to, "seq": seq, "candidate": _ice(message.get("candidate", "missing"), seq)}
    ack = _integer(message.get("ack"), 0, MAX_SEQ)
    if ack is None:
        raise ProtocolError("invalid-field", f"'ack' is required: the 'seq' (0 to {MAX_SEQ}) you acknowledge.", seq=seq, ref_type=kind)
    return {"type": "ack", "to": to, "seq": seq, "ack": ack}


def _ice(candidate, seq: int) -> dict | None:
    if candidate is None:  # end of candidates
        return None
    if not isinstance(candidate, dict):
        raise ProtocolError("invalid-field", "'candidate' is an object, or null at the end of candidates.", seq=seq, ref_type="ice")
    line = _text(candidate.get("candidate"), MAX_CANDIDATE_CHARS)
    if line is None:
        raise ProtocolError("invalid-field", f"'candidate.candidate' is required: text of at most {MAX_CANDIDATE_CHARS} characters.",
                            seq=seq, ref_type="ice")
    if line:  # empty: the end of one generation of candidates
        problem = candidate_problem(line)
        if problem:
            raise ProtocolError("invalid-candidate", f"The ICE candidate does not parse: {problem}.", seq=seq, ref_type="ice")
    mid, index = candidate.get("sdpMid"), candidate.get("sdpMLineIndex")
    if mid is not None:
        mid = _text(mid, MAX_MID_CHARS)
        if not mid or not _TOKEN.fullmatch(mid):
            raise ProtocolError("invalid-field", f"'sdpMid' is text of 1 to {MAX_MID_CHARS} visible characters.", seq=seq, ref_type="ice")
    if index is not None:
        index = _integer(index, 0, MAX_MLINE_INDEX)
        if index is None:
            raise ProtocolError("invalid-field", f"'sdpMLineIndex' is a whole number from 0 to {MAX_MLINE_INDEX}.", seq=seq, ref_type="ice")
    if mid is None and index is None:
        raise ProtocolError("invalid-field", "Give 'sdpMid' (text) or 'sdpMLineIndex' (a number).", seq=seq, ref_type="ice")
    return {"candidate": line, "sdpMid": mid, "sdpMLineIndex": index}


def _address_problem(address: str) -> str | None:
    try:
        ipaddress.ip_address(address)
        return None
    except ValueError:
        return None if _MDNS_NAME.fullmatch(address) else f"address {address[:64]!r} is neither an IP address nor a .local name"


def candidate_problem(line: str) -> str | None:
    """Why an ICE candidate line (RFC 8839 section 5.1, as `RTCIceCandidate.candidate`) is unacceptable, or None.
    Parsed with aioice's parser, then each part checked, since aioice accepts any text where we need a value."""
    if not line.startswith("candidate:"):
        return "it must start with 'candidate:'"
    if any(ch in line for ch in "\r\n\x00"):
        return "it must be one line"
    body = line[len("candidate:"):]
    bits = body.split()
    try:
        parsed = Candidate.from_sdp(body)
    except (ValueError, IndexError):
        return "expected 'candidate:<foundation> <component> <udp|tcp> <priority> <address> <port> typ <type> ...'"
    if not _ICE_CHARS.fullmatch(parsed.foundation):
        return "the foundation is 1 to 32 letters, digits, '+' or '/'"
    if not 1 <= parsed.component <= 256:
        return "the component is 1 to 256"
    if parsed.transport.lower() not in ("udp", "tcp"):
        return "the protocol is udp or tcp"
    if not 1 <= parsed.priority <= 2**32 - 1:
        return "the priority is 1 to 4294967295"
    problem = _address_problem(parsed.host)
    if problem:
        return problem
    if not 0 <= parsed.port <= 65535:
        return "the port is 0 to 65535"
    if bits[6] != "typ" or parsed.type not in CANDIDATE_TYPES:
        return "the type is 'typ' followed by host, srflx, prflx or relay"
    extensions = bits[8:]
    if len(extensions) % 2 or not all(_TOKEN.fullmatch(token) for token in extensions):
        return "attributes after the type come in name-value pairs of visible characters"
    if parsed.related_address is not None and _address_problem(parsed.related_address):
        return "raddr is an IP address or a .local name"
    if parsed.related_port is not None and not 0 <= parsed.related_port <= 65535:
        return "rport is 0 to 65535"
    if parsed.tcptype is not None and parsed.tcptype not in TCP_TYPES:
        return "tcptype is active, passive or so"
    if parsed.generation is not None and not 0 <= parsed.generation <= 2**32 - 1:
        return "generation is 0 to 4294967295"
    return None


class ArrivalGate:
    """Reads a socket's frames as they arrive and applies the rate limit then, not when handled.

    Wraps the ASGI `receive` callable. A background task pulls frames as fast as the server hands them
    over and charges each to the connection's token bucket at that moment; a frame over the limit is
    dropped on arrival and replaced by a small `refused` marker, so the consumer answers `rate-limited`
    for it. After FLOOD_STRIKES refusals the consumer closes (4429) and the gate drops every further frame
    (still reading, so the disconnect that follows gets through and the clean-up runs). Frames
    admitted but not yet handled are capped at MAX_PENDING and MAX_PENDING_BYTES (beyond that they
    count as refused), so a consumer slower than the limit cannot pile them up without bound either.
    """

    def __init__(self, receive, bucket: TokenBucket | None = None):
        self._receive = receive
        self.bucket = bucket or TokenBucket()
        self._pending: asyncio.Queue = asyncio.Queue()  # bounded by the checks in _read, not by maxsize
        self._task: asyncio.Task | None = None
        self.pending_bytes = 0
        self._event_taken = asyncio.Event()
        self._events: asyncio.Task | None = None

    def carry_events(self, receive_event) -> None:
        """Also hand over the consumer's channel-layer events (`receive_event`), one at a time, so the
        consumer waits on one queue instead of racing two receives per message (Channels'
        await_many_dispatch makes a task and an asyncio.wait for every message: a fifth of a relay's
        CPU, docs/performance.md). The next event is only fetched once the consumer has taken this one,
        so what waits beyond that stays in the layer's bounded queue, whose overflow is reported."""
        self._events = asyncio.ensure_future(self._carry(receive_event))

    async def _carry(self, receive_event) -> None:
        try:
            while True:
                event = await receive_event()
                self._event_taken.clear()
                self._pending.put_nowait(event)
                await self._event_taken.wait()
        except asyncio.CancelledError:
            raise
        except Exception as error:  # noqa: BLE001 - raised in the consumer, as Channels would
            self._pending.put_nowait(error)

    @staticmethod
    def _size(message: dict) -> int:
        return len(message.get("text") or message.get("bytes") or "")

    async def _read(self) -> None:
        try:
            while True:
                message = await self._receive()
                if message["type"] != "websocket.receive":
                    self._pending.put_nowait(message)
                    if message["type"] == "websocket.disconnect":
                        return
                    continue
                if self.bucket.flooding:
                    continue  # the consumer is closing with 4429: drop the rest, but keep reading for the disconnect
                admitted = self.bucket.allow(time.monotonic())
                size = self._size(message)
                if admitted and (self._pending.qsize() >= MAX_PENDING or self.pending_bytes + size > MAX_PENDING_BYTES):
                    admitted = False
                    self.bucket.strikes += 1
                if admitted:
                    self.pending_bytes += size
                    self._pending.put_nowait(message)
                else:
                    self._pending.put_nowait({"type": "websocket.receive", "refused": True, "flooding": self.bucket.flooding, "text": None})
        except Exception as error:  # noqa: BLE001 - handed to the consumer, which raises it where it would have
            self._pending.put_nowait(error)

    async def __call__(self) -> dict:
        if self._task is None:
            self._task = asyncio.ensure_future(self._read())
        message = await self._pending.get()
        if isinstance(message, Exception):
            raise message
        if message["type"].startswith("websocket."):
            self.pending_bytes -= self._size(message)
        else:
            self._event_taken.set()
        return message

    def stop(self) -> None:
        for task in (self._task, self._events):
            if task is not None:
                task.cancel()


__all__ = ["ArrivalGate", "FLOOD_STRIKES", "MAX_DEPTH", "MAX_SEQ", "candidate_problem", "load_message", "parse_client_message"]

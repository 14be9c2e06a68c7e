"""The signalling protocol: message validation, politeness, rate limits and presence.

Plain functions and small classes, used by the WebSocket consumer (consumers.py) and tested directly.
docs/signalling.md is the protocol's specification.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from aiortc.sdp import SessionDescription

MAX_MESSAGE_BYTES = 64 * 1024
HEARTBEAT_SECONDS = 10  # clients send a ping at least this often
PRESENCE_TTL_SECONDS = 30  # a peer not heard from for this long is gone, whatever its disconnect handler did
RECONNECT_GRACE_SECONDS = 30  # a dropped peer coming back within this keeps its place; others restart ICE

# Per connection, counted when each message arrives (protocol.ArrivalGate): a burst of BUCKET_SIZE
# messages, refilled at RATE_PER_SECOND. A client that keeps flooding (FLOOD_STRIKES refusals) is
# disconnected with close code 4429.
RATE_PER_SECOND = 50
BUCKET_SIZE = 200
FLOOD_STRIKES = 50

ADDRESSED_TYPES = {"offer", "answer", "ice", "ack"}
CLIENT_TYPES = ADDRESSED_TYPES | {"ping", "bye"}


class ProtocolError(Exception):
    """A message the server refuses: answered with an `error` message; the connection stays up."""

    def __init__(self, code: str, detail: str, *, seq: int | None = None, ref_type: str | None = None):
        super().__init__(detail)
        self.code, self.detail, self.seq, self.ref_type = code, detail, seq, ref_type

    def as_message(self) -> dict:
        message = {"type": "error", "code": self.code, "detail": self.detail}
        if self.seq is not None:
            message["seq"] = self.seq
        if self.ref_type is not None:
            message["ref_type"] = self.ref_type
        return message


# Parsing and validating a client's message: protocol.py (parse_client_message).


def validate_sdp(sdp: str, kind: str, seq) -> None:
    if not sdp.startswith("v=0"):
        raise ProtocolError("invalid-sdp", "The SDP must start with 'v=0'.", seq=seq, ref_type=kind)
    try:
        description = SessionDescription.parse(sdp)
    except Exception:  # noqa: BLE001 - any parser failure means the SDP is malformed
        raise ProtocolError("invalid-sdp", "The SDP does not parse.", seq=seq, ref_type=kind) from None
    if not description.media:
        raise ProtocolError("invalid-sdp", "The SDP describes no media.", seq=seq, ref_type=kind)


def is_polite(me: PeerInfo, other: PeerInfo) -> bool:
    """Perfect negotiation: in each pair exactly one side is polite (yields on offer collisions).
    The host is never polite; between two others, the later participant is."""
    if me.role == "host":
        return False
    if other.role == "host":
        return True
    return me.participant_id > other.participant_id


@dataclass(frozen=True)
class PeerInfo:
    """A participant as the protocol describes it to the others."""

    peer_id: str
    participant_id: int
    user_id: int
    role: str
    name: str

    def describe_to(self, viewer: PeerInfo) -> dict:
        return {"peer_id": self.peer_id, "user_id": self.user_id, "role": self.role, "name": self.name, "polite": is_polite(viewer, self)}


def peer_id_for(participant_id: int) -> str:
    return f"p{participant_id}"


@dataclass
class TokenBucket:
    """Rate limit for one connection."""

    rate: float = RATE_PER_SECOND
    size: float = BUCKET_SIZE
    tokens: float = BUCKET_SIZE
    updated: float = field(default_factory=time.monotonic)
    strikes: int = 0

    def allow(self, now: float | None = None) -> bool:
        """Charge one message at `now` (its arrival: consumers pass the time the frame was read)."""
        now = time.monotonic() if now is None else now
        self.tokens = min(self.size, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        self.strikes += 1
        return False

    @property
    def flooding(self) -> bool:
        return self.strikes >= FLOOD_STRIKES


def presence_key(appointment_id: int, peer_id: str) -> str:
    return f"rapport:presence:{appointment_id}:{peer_id}"


def departed_key(appointment_id: int, peer_id: str) -> str:
    return f"rapport:departed:{appointment_id}:{peer_id}"


def group_name(appointment_id: int) -> str:
    return f"session.{appointment_id}"


def lobby_group_name(appointment_id: int) -> str:
    return f"lobby.{appointment_id}"


def user_group_name(user_id: int) -> str:
    """Every session socket (call and waiting room) of one account: told when that account's access
    may have changed (sessions/revocation.py)."""
    return f"session-user.{user_id}"


def access_epoch_key(user_id: int) -> str:
    """Changes whenever the account's access may have narrowed. Sockets compare it before relaying,
    so a lost `access.changed` message (the channel layer delivers at most once) still leads to a re-check."""
    return f"rapport:access-epoch:{user_id}"

"""A per-account budget for connects and misbehaviour on the session sockets, kept in the shared cache.

Limits per connection reset with every reconnect, so a client that crashes (or is closed) and
reconnects in a loop would never run out (issue 12). This budget belongs to the account and lives in
the signalling store (presence.py: Redis in production, on the event loop, with no thread hop), so every connection of the account, on every server process, draws
on the same one. Each connect, each refused message and each forced close costs points; the points
of the last minute (a sliding window: this minute's count plus the share of the last minute's that
is still inside the window) decide:

- up to SLOW_AFTER points: nothing happens;
- above it: each new connection waits 0.1 s per point above, at most MAX_DELAY_SECONDS, before it joins;
- at REFUSE_AFTER points: new connections are refused, and an open one that misbehaves again is
  closed, with close code 4420 (`too-many-errors`, with `retry_after` in seconds).

A legitimate client reconnects a few times a minute at worst and never sends a malformed message, so
it stays far below. The store being unreachable never refuses anyone: the budget is a brake, not an
access rule (the access rule is selectors.session_access_for).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from backend.sessions.presence import UNAVAILABLE, store

logger = logging.getLogger(__name__)

WINDOW_SECONDS = 60
SLOW_AFTER = 30
REFUSE_AFTER = 60
DELAY_PER_POINT_SECONDS = 0.1
MAX_DELAY_SECONDS = 2.0

COST_CONNECT = 1
COST_ERROR = 1  # a malformed or refused message (an `error` reply, other than peer-not-found)
COST_FLOOD = 10  # closed with 4429
COST_CRASH = 10  # closed with 1011 by the last-resort handler
COST_OVERFLOW = 2  # closed with 4408 for falling behind

WARN_EVERY_SECONDS = 60
_last_warning = float("-inf")


@dataclass(frozen=True)
class Verdict:
    points: int
    delay: float  # seconds to wait before joining
    refused: bool

    @property
    def retry_after(self) -> int:
        return WINDOW_SECONDS


def _key(user_id: int, window: int) -> str:
    return f"rapport:budget:{user_id}:{window}"


def verdict_for(points: int) -> Verdict:
    if points >= REFUSE_AFTER:
        return Verdict(points, 0.0, True)
    delay = min(MAX_DELAY_SECONDS, DELAY_PER_POINT_SECONDS * max(0, points - SLOW_AFTER))
    return Verdict(points, delay, False)


async def charge(user_id: int, cost: int) -> Verdict:
    """Spend `cost` points of the account's budget; the verdict on what is left."""
    now = time.time()
    window = int(now // WINDOW_SECONDS)
    key, previous_key = _key(user_id, window), _key(user_id, window - 1)
    try:
        current, previous = await store().add_points(key, previous_key, cost, WINDOW_SECONDS * 2)
    except UNAVAILABLE as error:  # the store down must not refuse or crash anyone (module docstring)
        global _last_warning
        if time.monotonic() - _last_warning > WARN_EVERY_SECONDS:  # one line a minute, not one per message
            _last_warning = time.monotonic()
            logger.warning("session budget: store unavailable (%s), not charged", type(error).__name__)
        return Verdict(0, 0.0, False)
    still_inside = 1 - (now % WINDOW_SECONDS) / WINDOW_SECONDS
    return verdict_for(current + int(previous * still_inside))


async def forget(user_id: int) -> None:
    """Start the account's budget afresh (the current and the two neighbouring windows)."""
    window = int(time.time() // WINDOW_SECONDS)
    await store().forget_keys([_key(user_id, w) for w in (window - 1, window, window + 1)])

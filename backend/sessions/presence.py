"""Where signalling keeps its shared, short-lived state, and what happens while that store is down.

The store holds, per session, which connection each peer is on (presence, refreshed by heartbeats),
which peers dropped within the reconnect grace period (departed), and each account's access epoch
(revocation.py). With REDIS_URL it is Redis, reached with redis.asyncio on the event loop (never the
synchronous Django cache in a thread: a heartbeat must not queue behind database work, and a Redis
failure must surface as one exception we catch, not a traceback from a worker thread). Without
REDIS_URL (one development process) it is a dictionary in this process.

Nothing here is the only copy of anything that matters: when Redis restarts empty, every live socket
writes its presence again and announces itself (OutageWatch below, and the consumer's
`store_recovered`), and every socket re-checks its access with the database. docs/deploy.md
("What Redis holds") and docs/signalling.md ("When the server's store is down") describe the behaviour.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import weakref
from typing import Protocol

import redis
import redis.asyncio
from django.conf import settings
from redis.backoff import NoBackoff
from redis.retry import Retry

from backend.sessions.signalling import (
    PRESENCE_TTL_SECONDS,
    RECONNECT_GRACE_SECONDS,
    access_epoch_key,
    departed_key,
    presence_key,
)

logger = logging.getLogger(__name__)

# A store that does not answer within this long counts as down: a heartbeat waits no longer.
STORE_TIMEOUT_SECONDS = 1.0
PROBE_SECONDS = 0.5  # while down, how often this process checks whether the store is back
MONITOR_SECONDS = 1.0  # while up (and sockets are open), how often it checks the store is still there
# A failed request is not an outage until a second probe, on a connection of its own with a longer
# timeout, fails too: a process starved of CPU misses the 1 s timeout with Redis up (a busy 9 o'clock
# must not look like an outage; issue 12, docs/performance.md).
CONFIRM_DELAY_SECONDS = 0.2
CONFIRM_TIMEOUT_SECONDS = 3.0
# After an outage in which Redis did not restart (same run id: presence and epochs are still there),
# the sockets re-announce and re-check (a database query each) at most RECOVERY_PER_SECOND at a time,
# spread over at most RECOVERY_SPREAD_SECONDS, not all at once (which starved a busy process into the
# next false outage). After a restart (everything lost) they do it at once.
RECOVERY_PER_SECOND = 400
RECOVERY_SPREAD_SECONDS = 3.0
EPOCH_TTL_SECONDS = 24 * 3600  # longer than any socket stays open


class StoreUnavailable(Exception):
    """The shared store (Redis) did not answer: the caller degrades instead of crashing."""


# What a Redis client raises when the server is gone or slow (ConnectionError and TimeoutError are
# RedisErrors; the OS-level errors can escape while a connection is being set up).
REDIS_ERRORS = (redis.exceptions.RedisError, OSError, asyncio.TimeoutError)

# Redis (the store or the channel layer) not answering.
UNAVAILABLE = (StoreUnavailable, *REDIS_ERRORS)
CLOSE_TRY_AGAIN = 1013  # the server's store (Redis) is down: connect again in a few seconds (RFC 6455 "Try Again Later")
TRY_AGAIN_DETAIL = "The server cannot take new connections for a moment. Connect again in a few seconds."


async def refuse_before_consumer(receive, send) -> None:
    """Complete the WebSocket handshake only to close it with CLOSE_TRY_AGAIN (and say why), for a
    connection that arrived while the channel layer could not be reached."""
    message = await receive()
    if message.get("type") != "websocket.connect":
        return
    await send({"type": "websocket.accept"})
    await send({"type": "websocket.send", "text": json.dumps({"type": "error", "code": "try-again", "detail": TRY_AGAIN_DETAIL})})
    await send({"type": "websocket.close", "code": CLOSE_TRY_AGAIN})


class TryAgainWhileStoreDown:
    """Mix into a WebSocket consumer (before the Channels base class) so that a connection arriving
    while Redis is down is refused with CLOSE_TRY_AGAIN instead of an HTTP 500: Channels subscribes the
    consumer's channel (new_channel) before the handshake, and with Redis down that raises. Used by the
    session sockets and by higher apps' sockets (outcomes' risk flags)."""

    accepted = False

    async def __call__(self, scope, receive, send):
        try:
            return await super().__call__(scope, receive, send)
        except UNAVAILABLE as error:
            if self.accepted:
                raise
            outage_watch().report(error)
            await refuse_before_consumer(receive, send)

    async def accept(self, *args, **kwargs):
        await super().accept(*args, **kwargs)
        self.accepted = True


class _Store(Protocol):
    async def set_presence(self, appointment_id: int, peer_id: str, channel: str) -> None: ...
    async def presence_of(self, appointment_id: int, peer_ids: list[str]) -> dict[str, str]: ...
    async def forget_presence(self, appointment_id: int, peer_id: str, channel: str) -> bool: ...
    async def arrive(self, appointment_id: int, peer_id: str, channel: str, others: list[str] = ()) -> tuple[bool, dict[str, str]]: ...
    async def depart(self, appointment_id: int, peer_id: str) -> None: ...
    async def access_epoch(self, user_id: int) -> str | None: ...
    async def access_epochs(self, user_ids: list[int]) -> list[str | None]: ...
    async def add_points(self, key: str, previous_key: str, cost: int, ttl: int) -> tuple[int, int]: ...
    async def forget_keys(self, keys: list[str]) -> None: ...
    async def ping(self) -> None: ...
    async def server_id(self, confirm: bool = False) -> str: ...


class RedisStore:
    """The store on Redis, for one event loop (redis.asyncio connections belong to the loop that made them)."""

    def __init__(self, url: str):
        # No retries: a request fails fast, and the outage watch below does the waiting.
        self.client = redis.asyncio.Redis.from_url(
            url, socket_timeout=STORE_TIMEOUT_SECONDS, socket_connect_timeout=STORE_TIMEOUT_SECONDS,
            retry=Retry(NoBackoff(), 0), decode_responses=True, health_check_interval=0,
        )
        # The outage watch's second opinion (OutageWatch.report): its own connection, a longer timeout.
        self.probe_client = redis.asyncio.Redis.from_url(
            url, socket_timeout=CONFIRM_TIMEOUT_SECONDS, socket_connect_timeout=CONFIRM_TIMEOUT_SECONDS,
            retry=Retry(NoBackoff(), 0), decode_responses=True, health_check_interval=0,
        )
        self._epochs_wanted: dict[int, list[asyncio.Future]] = {}

    async def _run(self, coroutine, timeout: float = STORE_TIMEOUT_SECONDS * 2):
        # asyncio.timeout, not wait_for: on Python 3.11 wait_for wraps the request in a task of its own,
        # which for the epoch read (one per relayed message) was a few per cent of a relay's CPU.
        try:
            async with asyncio.timeout(timeout):
                return await coroutine
        except REDIS_ERRORS as error:
            raise StoreUnavailable(str(error) or type(error).__name__) from None

    async def set_presence(self, appointment_id, peer_id, channel):
        await self._run(self.client.set(presence_key(appointment_id, peer_id), channel, ex=PRESENCE_TTL_SECONDS))

    async def presence_of(self, appointment_id, peer_ids):
        if not peer_ids:
            return {}
        values = await self._run(self.client.mget([presence_key(appointment_id, p) for p in peer_ids]))
        return {peer_id: value for peer_id, value in zip(peer_ids, values, strict=True) if value}

    async def forget_presence(self, appointment_id, peer_id, channel):
        # Not if a newer connection of the same peer has taken over (False then).
        key = presence_key(appointment_id, peer_id)
        return bool(await self._run(self.client.eval(_DELETE_IF_EQUAL, 1, key, channel)))

    async def arrive(self, appointment_id, peer_id, channel, others=()):
        """Whether the peer was here a moment ago (dropped within the grace period, or its old connection
        still holds presence), and which of `others` are present (peer_id -> channel); clears the
        departed mark and takes presence on `channel`. One round trip."""
        departed, present = departed_key(appointment_id, peer_id), presence_key(appointment_id, peer_id)
        async with self.client.pipeline(transaction=False) as pipe:
            pipe.exists(present)
            pipe.exists(departed)
            pipe.delete(departed)
            pipe.set(present, channel, ex=PRESENCE_TTL_SECONDS)
            if others:
                pipe.mget([presence_key(appointment_id, p) for p in others])
            held, gone, _, _, *found = await self._run(pipe.execute())
        values = found[0] if found else []
        return bool(held or gone), {peer: value for peer, value in zip(others, values, strict=True) if value}

    async def depart(self, appointment_id, peer_id):
        await self._run(self.client.set(departed_key(appointment_id, peer_id), "1", ex=RECONNECT_GRACE_SECONDS))

    async def access_epoch(self, user_id):
        return (await self.access_epochs([user_id]))[0]

    async def access_epochs(self, user_ids: list[int]) -> list[str | None]:
        """Accounts' epochs, read when asked, but together: every read asked for in the same turn of the
        event loop goes in one MGET (a relay asks for its sender's and its receiver's; one GET each was a
        good part of a relay's cost, and one MGET per relay opened a Redis connection per relay in flight).
        A read is never older than the request, so the re-check stays exact."""
        loop = asyncio.get_running_loop()
        if not self._epochs_wanted:
            loop.call_soon(self._read_epochs)
        futures = []
        for user_id in user_ids:
            wanted = loop.create_future()
            self._epochs_wanted.setdefault(user_id, []).append(wanted)
            futures.append(wanted)
        results, failure = [], None
        for wanted in futures:  # all answered by the same MGET; every one retrieved, the first failure raised
            try:
                results.append(await wanted)
            except StoreUnavailable as error:
                failure = failure or error
        if failure is not None:
            raise failure
        return results

    def _read_epochs(self) -> None:
        wanted, self._epochs_wanted = self._epochs_wanted, {}
        _spawn(self._answer_epochs(wanted))

    async def _answer_epochs(self, wanted: dict[int, list[asyncio.Future]]) -> None:
        user_ids = list(wanted)
        try:
            epochs = await self._run(self.client.mget([access_epoch_key(u) for u in user_ids]))
        except StoreUnavailable as error:
            for futures in wanted.values():
                for future in futures:
                    if not future.done():
                        future.set_exception(StoreUnavailable(str(error)))
            return
        for user_id, epoch in zip(user_ids, epochs, strict=True):
            for future in wanted[user_id]:
                if not future.done():
                    future.set_result(epoch)

    async def add_points(self, key, previous_key, cost, ttl):
        """Add `cost` to the counter `key` (made with `ttl` seconds to live); its new value and `previous_key`'s."""
        async with self.client.pipeline(transaction=False) as pipe:
            pipe.set(key, 0, ex=ttl, nx=True)
            pipe.incrby(key, cost)
            pipe.get(previous_key)
            _, current, previous = await self._run(pipe.execute())
        return int(current), int(previous or 0)

    async def forget_keys(self, keys):
        if keys:
            await self._run(self.client.delete(*keys))

    async def ping(self):
        await self._run(self.client.ping())

    async def server_id(self, confirm: bool = False) -> str:
        """Redis's run id: new after every restart, so a restart faster than the monitor is noticed too.
        `confirm`: on the probe connection, with the longer timeout (OutageWatch's second probe)."""
        if confirm:
            return (await self._run(self.probe_client.info("server"), CONFIRM_TIMEOUT_SECONDS + 1))["run_id"]
        return (await self._run(self.client.info("server")))["run_id"]

    async def ttl(self, key: str) -> int:
        return await self._run(self.client.ttl(key))


# Delete unless another connection holds it (gone already counts as ours: 1).
_DELETE_IF_EQUAL = ("local v = redis.call('get', KEYS[1]) "
                    "if v == false or v == ARGV[1] then redis.call('del', KEYS[1]) return 1 end return 0")


class MemoryStore:
    """The store in this process (no REDIS_URL: one development process, in-memory channel layer)."""

    values: dict[str, tuple[str, float]] = {}  # key -> (value, expires at); shared by every loop and thread

    def _get(self, key):
        value = self.values.get(key)
        if value is None or value[1] < time.monotonic():
            self.values.pop(key, None)
            return None
        return value[0]

    def _set(self, key, value, ttl):
        self.values[key] = (value, time.monotonic() + ttl)

    async def set_presence(self, appointment_id, peer_id, channel):
        self._set(presence_key(appointment_id, peer_id), channel, PRESENCE_TTL_SECONDS)

    async def presence_of(self, appointment_id, peer_ids):
        found = {p: self._get(presence_key(appointment_id, p)) for p in peer_ids}
        return {p: channel for p, channel in found.items() if channel}

    async def forget_presence(self, appointment_id, peer_id, channel):
        key = presence_key(appointment_id, peer_id)
        if self._get(key) not in (None, channel):
            return False
        self.values.pop(key, None)
        return True

    async def arrive(self, appointment_id, peer_id, channel, others=()):
        back = bool(self._get(presence_key(appointment_id, peer_id)) or self._get(departed_key(appointment_id, peer_id)))
        self.values.pop(departed_key(appointment_id, peer_id), None)
        self._set(presence_key(appointment_id, peer_id), channel, PRESENCE_TTL_SECONDS)
        return back, await self.presence_of(appointment_id, list(others))

    async def depart(self, appointment_id, peer_id):
        self._set(departed_key(appointment_id, peer_id), "1", RECONNECT_GRACE_SECONDS)

    async def access_epoch(self, user_id):
        return self._get(access_epoch_key(user_id))

    async def access_epochs(self, user_ids):
        return [self._get(access_epoch_key(u)) for u in user_ids]

    async def add_points(self, key, previous_key, cost, ttl):
        current = int(self._get(key) or 0) + cost
        expires = self.values.get(key, (None, time.monotonic() + ttl))[1]
        self.values[key] = (str(current), expires)
        return current, int(self._get(previous_key) or 0)

    async def forget_keys(self, keys):
        for key in keys:
            self.values.pop(key, None)

    async def ping(self):
        return None

    async def server_id(self, confirm: bool = False) -> str:
        return "memory"


_stores: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def store() -> RedisStore | MemoryStore:
    """The store for the running event loop."""
    if not settings.REDIS_URL:
        return MemoryStore()
    loop = asyncio.get_running_loop()
    found = _stores.get(loop)
    if found is None:
        found = _stores[loop] = RedisStore(settings.REDIS_URL)
    return found


def set_access_epochs(epochs: dict[int, str]) -> None:
    """Move accounts' access epochs on, from synchronous code (revocation.py, in a request).
    Raises StoreUnavailable if Redis is down; the sockets re-check everyone when it returns anyway."""
    if not settings.REDIS_URL:
        for user_id, epoch in epochs.items():
            MemoryStore()._set(access_epoch_key(user_id), str(epoch), EPOCH_TTL_SECONDS)
        return
    client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=STORE_TIMEOUT_SECONDS,
                                  socket_connect_timeout=STORE_TIMEOUT_SECONDS, retry=Retry(NoBackoff(), 0))
    try:
        with client.pipeline(transaction=False) as pipe:
            for user_id, epoch in epochs.items():
                pipe.set(access_epoch_key(user_id), str(epoch), ex=EPOCH_TTL_SECONDS)
            pipe.execute()
    except REDIS_ERRORS as error:
        raise StoreUnavailable(str(error)) from None
    finally:
        client.close()


class OutageListener(Protocol):
    async def store_down(self) -> None: ...
    async def store_recovered(self) -> None: ...


class OutageWatch:
    """One per event loop (process). While sockets are open it checks the store every second; when the
    store stops answering it tells every live socket of this process (`store_down`), and when the store
    answers again, or turns out to have restarted (a new run id), it tells them to write their presence
    again and announce themselves (`store_recovered`). Sockets also report failures they meet.

    A failure (a socket's or the monitor's) is only a suspicion: the outage is declared when a second
    probe, on its own connection with a longer timeout (CONFIRM_TIMEOUT_SECONDS), fails as well. A
    process so busy that its requests miss the 1-second timeout is not told Redis is down (issue 12).
    After an outage in which Redis kept its data (same run id), the sockets' recoveries are spread over
    RECOVERY_SPREAD_SECONDS; after a restart, they run at once."""

    def __init__(self, store_for=None):
        self.down = False
        self.listeners: weakref.WeakSet = weakref.WeakSet()
        self._monitor: asyncio.Task | None = None
        self._confirming: asyncio.Task | None = None
        self._run_id: str | None = None
        self._store = store_for or store
        self.false_alarms = 0  # suspicions the second probe cleared (for the logs and the tests)

    def add(self, listener: OutageListener) -> None:
        self.listeners.add(listener)
        self._ensure_monitor()

    def discard(self, listener: OutageListener) -> None:
        self.listeners.discard(listener)
        if not self.listeners and not self.down and self._monitor is not None:
            self._monitor.cancel()  # nothing to watch for; the next socket starts it again
            self._monitor = None

    def report(self, error: Exception) -> None:
        """A store or channel-layer call failed: probe again before believing it (once at a time)."""
        if self.down:
            self._ensure_monitor()
            return
        if self._confirming is None or self._confirming.done():
            self._confirming = asyncio.get_running_loop().create_task(self._confirm(error))

    async def _confirm(self, error: Exception) -> None:
        await asyncio.sleep(CONFIRM_DELAY_SECONDS)
        if self.down:
            return
        try:
            run_id = await self._store().server_id(confirm=True)
        except StoreUnavailable as again:
            self.declare_down(again)
            return
        self.false_alarms += 1
        if self._run_id is not None and run_id != self._run_id:
            self._run_id = run_id
            self._recover(restarted=True)  # it restarted between two probes: everything it held is gone
        else:
            self._run_id = run_id
            logger.info("Signalling store slow (%s) but answering: not an outage.", error)

    def declare_down(self, error: Exception) -> None:
        """The store is down (confirmed): tell every socket once, and watch for its return."""
        if not self.down:
            self.down = True
            logger.warning("Signalling store unavailable (%s): sockets degraded until it returns.", error)
            for listener in list(self.listeners):
                _spawn(listener.store_down())
        self._ensure_monitor()

    def _recover(self, restarted: bool) -> None:
        listeners = list(self.listeners)
        logger.warning("Signalling store back%s: %d sockets re-announcing.", " (restarted)" if restarted else "", len(listeners))
        step = 0.0 if restarted else min(1 / RECOVERY_PER_SECOND, RECOVERY_SPREAD_SECONDS / max(1, len(listeners)))
        for index, listener in enumerate(listeners):
            delay = step * index
            _spawn(_after(delay, listener.store_recovered) if delay else listener.store_recovered())

    def _ensure_monitor(self) -> None:
        if self._monitor is None or self._monitor.done():
            self._monitor = asyncio.get_running_loop().create_task(self._watch())

    async def _watch(self) -> None:
        while self.down or self.listeners:
            await asyncio.sleep(PROBE_SECONDS if self.down else MONITOR_SECONDS)
            try:
                run_id = await self._store().server_id()
            except StoreUnavailable as error:
                self.report(error)
                continue
            restarted = self._run_id is not None and run_id != self._run_id
            self._run_id = run_id
            if self.down or restarted:
                self.down = False
                self._recover(restarted)
        self._monitor = None


async def _after(delay: float, callback) -> None:
    await asyncio.sleep(delay)
    await callback()


class QuietRedisOutage(logging.Filter):
    """For channels_redis's receive loop, which logs a full traceback every second while Redis is down:
    one short line instead, at most every 30 s per process (the outage watch logs the outage itself)."""

    EVERY_SECONDS = 30.0

    def __init__(self):
        super().__init__()
        self.last = float("-inf")

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if not isinstance(error, REDIS_ERRORS):
            return True
        now = time.monotonic()
        if now - self.last < self.EVERY_SECONDS:
            return False
        self.last = now
        record.msg, record.args = "%s (Redis unavailable: %s; repeats suppressed for 30 s)", (record.getMessage(), error)
        record.exc_info = record.exc_text = None
        return True


_background: set[asyncio.Task] = set()


def _spawn(coroutine) -> None:
    task = asyncio.get_running_loop().create_task(coroutine)
    _background.add(task)  # keep a reference until done (the loop holds tasks only weakly)
    task.add_done_callback(_background.discard)


_watches: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def outage_watch() -> OutageWatch:
    loop = asyncio.get_running_loop()
    found = _watches.get(loop)
    if found is None:
        found = _watches[loop] = OutageWatch()
    return found

"""Telling a slow Redis from a gone one (issue 12; presence.OutageWatch).

When the server process was starved of CPU, its Redis requests missed the 1-second timeout with Redis
up; the process declared an outage, told every socket `degraded` and refused new ones, and on the
"recovery" re-checked every socket with the database at once, which starved it into the next false
outage. Now a failed request is only a suspicion until a second probe, on its own connection with a
longer timeout, fails too; and recoveries from an outage in which Redis kept its data are spread.

Each test runs its own redis-server on a free loopback port, so that it can pause it (`CLIENT PAUSE`:
Redis answers nothing for a while, as a starved process sees it) or stop it, without touching the
Redis other tests share.
"""

from __future__ import annotations

import asyncio

import pytest
import redis

from backend.sessions import presence
from backend.sessions.presence import OutageWatch, RedisStore, StoreUnavailable
from tests.sessions.test_redis_outage import RedisServer


class Socket:
    """Stands in for a consumer: records when it was told the store went down or came back."""

    def __init__(self):
        self.downs: list[float] = []
        self.recoveries: list[float] = []

    async def store_down(self):
        self.downs.append(asyncio.get_running_loop().time())

    async def store_recovered(self):
        self.recoveries.append(asyncio.get_running_loop().time())


@pytest.fixture
def own_redis(tmp_path):
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


def pause(server: RedisServer, seconds: float) -> None:
    """Redis takes connections but answers no command for `seconds`."""
    redis.Redis(host="127.0.0.1", port=server.port).execute_command("CLIENT", "PAUSE", int(seconds * 1000), "ALL")


async def until(condition, within: float) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not condition():
        assert loop.time() < deadline, "not within the time allowed"
        await asyncio.sleep(0.05)


async def test_a_slow_store_is_not_an_outage(own_redis):
    """A request times out (Redis paused for 1.8 s), but the second probe, with its longer timeout, is
    answered: no socket is told `degraded`, and new sockets are not refused."""
    store = RedisStore(own_redis.url)
    watch = OutageWatch(lambda: store)
    sockets = [Socket() for _ in range(5)]
    for socket in sockets:
        watch.add(socket)
    pause(own_redis, 1.8)
    with pytest.raises(StoreUnavailable):
        await store.ping()  # what a heartbeat meets: the 1 s timeout
    watch.report(StoreUnavailable("timeout"))
    await until(lambda: watch.false_alarms >= 1, within=10)
    await asyncio.sleep(presence.MONITOR_SECONDS + 0.5)  # the monitor's own probe during the pause was cleared too
    assert not watch.down
    assert all(not s.downs and not s.recoveries for s in sockets)
    await store.ping()  # and the store works
    for socket in sockets:
        watch.discard(socket)


async def test_a_stopped_store_is_an_outage_and_a_restart_recovers_everyone_at_once(own_redis):
    store = RedisStore(own_redis.url)
    watch = OutageWatch(lambda: store)
    sockets = [Socket() for _ in range(5)]
    for socket in sockets:
        watch.add(socket)
    await until(lambda: watch._run_id is not None, within=5)  # the monitor has seen Redis once
    own_redis.stop()
    with pytest.raises(StoreUnavailable):
        await store.ping()
    watch.report(StoreUnavailable("refused"))
    await until(lambda: watch.down, within=10)  # the second probe failed too
    await until(lambda: all(len(s.downs) == 1 for s in sockets), within=5)
    own_redis.start()  # empty: a restart without persistence
    await until(lambda: all(s.recoveries for s in sockets), within=10)
    assert not watch.down
    times = [s.recoveries[0] for s in sockets]
    assert max(times) - min(times) < 0.5, "after a restart every socket re-announces at once"
    for socket in sockets:
        watch.discard(socket)


async def test_recovering_from_an_outage_that_kept_the_data_is_spread_out(own_redis):
    """Redis unanswering for longer than the second probe waits is an outage; when it answers again
    with the same run id (nothing lost), the sockets re-check at most RECOVERY_PER_SECOND a second."""
    store = RedisStore(own_redis.url)
    watch = OutageWatch(lambda: store)
    count = presence.RECOVERY_PER_SECOND  # a second's worth of sockets
    sockets = [Socket() for _ in range(count)]
    for socket in sockets:
        watch.add(socket)
    await until(lambda: watch._run_id is not None, within=5)
    pause(own_redis, presence.STORE_TIMEOUT_SECONDS + presence.CONFIRM_DELAY_SECONDS + presence.CONFIRM_TIMEOUT_SECONDS + 1.5)
    with pytest.raises(StoreUnavailable):
        await store.ping()
    watch.report(StoreUnavailable("timeout"))
    await until(lambda: watch.down, within=10)
    await until(lambda: all(s.recoveries for s in sockets), within=15)
    times = sorted(s.recoveries[0] for s in sockets)
    assert times[-1] - times[0] >= 0.5, "recoveries were not spread"
    for socket in sockets:
        watch.discard(socket)

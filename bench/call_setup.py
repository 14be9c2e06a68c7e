"""Benchmark: call set-up time through Rapport's signalling server, beside two peers signalling directly.

Two aiortc peers (synthetic audio and video, loopback ICE only) set up a call. Through Rapport, each
connects to the signalling socket of one Rapport uvicorn process (Redis channel layer) with a real API
token; the newcomer's offer, the answer, their acks and the trickle ICE messages are relayed by the
server (tests/signalling_client.py is the client). The reference, measured in the same run and
interleaved call by call: the same two peers in one process handing each other the SDP directly.
Measured: from the moment the offerer starts making its offer to both peers' connectionState
"connected" (ICE and DTLS done). The sockets are opened before the clock starts.

Target (the signalling issue): the server adds under 20 ms to the median.

    .venv/bin/python bench/call_setup.py

Options (all optional):
    --calls N         calls of each kind (default 20), after 2 unmeasured warm-up calls of each
    --redis-url URL   Redis for the channel layer and cache; its database is FLUSHED first
                      (default redis://127.0.0.1:6379/12)

Needs PostgreSQL (user postgres) and Redis on 127.0.0.1; uses the rapport_bench database (one session
per call, made through the services and reused by later runs and by bench/signalling.py). Everything listens and connects on loopback: no ICE
servers, and aioice gathers host candidates on 127.0.0.1 only (patched in this process).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.signalling import DB, DEFAULT_REDIS_URL, ensure_database, prepare_rooms  # noqa: E402 (sets the environment)

WARMUP_CALLS = 2
TIMEOUT = 15.0


async def call_through_rapport(ws_url: str, room: dict) -> tuple[float, dict]:
    from tests.signalling_client import SignallingClient, wait_connected

    host = SignallingClient(room["appointment"], room["sides"][0]["token"], name="clinician")
    person = SignallingClient(room["appointment"], room["sides"][1]["token"], name="service user")
    try:
        await host.connect(ws_url)
        await person.connect(ws_url)  # the newcomer: its offer starts now
        offerer = person.peers[host.peer_id]
        answerer = await host.wait_for_peer(TIMEOUT)
        try:
            await asyncio.gather(wait_connected(offerer.pc, TIMEOUT), wait_connected(answerer.pc, TIMEOUT))
        except (TimeoutError, AssertionError) as error:
            raise RuntimeError(
                f"call not connected: {error}\n  clinician saw {host.received}, errors {host.errors}\n"
                f"  service user saw {person.received}, errors {person.errors}"
            ) from None
        elapsed = time.perf_counter() - person.first_offer_at
        problems = host.errors + person.errors
        if problems:
            raise RuntimeError(f"signalling problems: {problems}")
        start, offerer_at, answerer_at = person.first_offer_at, person.moments, host.moments
        steps = {
            "making the offer": offerer_at["offer sent"] - start,
            "offer relayed": answerer_at["offer received"] - offerer_at["offer sent"],
            "answering": answerer_at["answer sent"] - answerer_at["offer received"],
            "answer relayed": offerer_at["answer received"] - answerer_at["answer sent"],
            "applying the answer, ICE and DTLS": elapsed - (offerer_at["answer received"] - start),
        }
        return elapsed, steps
    finally:
        await person.close(bye=True)
        await host.close(bye=True)


async def call_direct() -> float:
    from aiortc.mediastreams import AudioStreamTrack, VideoStreamTrack

    from tests.signalling_client import new_peer_connection, wait_connected

    offerer, answerer = new_peer_connection(), new_peer_connection()
    for pc in (offerer, answerer):
        pc.addTrack(AudioStreamTrack())
        pc.addTrack(VideoStreamTrack())
    try:
        started = time.perf_counter()
        await offerer.setLocalDescription(await offerer.createOffer())
        await answerer.setRemoteDescription(offerer.localDescription)
        await answerer.setLocalDescription(await answerer.createAnswer())
        await offerer.setRemoteDescription(answerer.localDescription)
        await asyncio.gather(wait_connected(offerer, TIMEOUT), wait_connected(answerer, TIMEOUT))
        return time.perf_counter() - started
    finally:
        await offerer.close()
        await answerer.close()


async def run(ws_url: str, rooms: list[dict]) -> tuple[list[float], list[float], dict[str, list[float]]]:
    through, direct, steps = [], [], {}
    for index, room in enumerate(rooms):
        # Interleaved, so both kinds see the same machine.
        server_time, server_steps = await call_through_rapport(ws_url, room)
        direct_time = await call_direct()
        if index >= WARMUP_CALLS:
            through.append(server_time)
            direct.append(direct_time)
            for name, seconds in server_steps.items():
                steps.setdefault(name, []).append(seconds)
        await asyncio.sleep(0.1)  # let the server finish with the goodbyes
    return through, direct, steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20, help="calls of each kind (default 20)")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL, help=f"Redis database to use; FLUSHED first (default {DEFAULT_REDIS_URL})")
    args = parser.parse_args()

    os.environ["REDIS_URL"] = args.redis_url
    os.environ["LOG_LEVEL"] = "WARNING"  # Django's logging config would print aioice's INFO lines
    ensure_database()
    import django

    django.setup()
    import redis
    from django.core.management import call_command

    from tests.live_server import start_server, wait_until_up
    from tests.signalling_client import limit_ice_to_loopback

    limit_ice_to_loopback()
    call_command("migrate", verbosity=0)
    redis.Redis.from_url(args.redis_url).flushdb()
    rooms, _ = prepare_rooms(WARMUP_CALLS + args.calls)  # one session per call, as in a clinic
    env = {
        **os.environ, "DEBUG": "0", "HTTPS": "0", "ALLOWED_HOSTS": "127.0.0.1", "REDIS_URL": args.redis_url,
        "CHANNEL_PREFIX": "rapport-bench", "LOG_LEVEL": "WARNING",
    }
    logs = Path(tempfile.mkdtemp(prefix="rapport-bench-call-setup-"))
    server = start_server(env, logs / "uvicorn.log", extra_args=("--log-level", "warning", "--no-access-log"))
    try:
        wait_until_up(server)
        through, direct, steps = asyncio.run(run(server.ws_url, rooms))
    finally:
        server.stop()

    def ms(values: list[float], q: float | None = None) -> float:
        if q is None:
            return statistics.median(values) * 1000
        return sorted(values)[min(len(values) - 1, round(q * (len(values) - 1)))] * 1000

    added = ms(through) - ms(direct)
    print(f"Call set-up, first offer to both peers connected, {args.calls} calls each (+{WARMUP_CALLS} warm-up), "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}; database {DB}")
    print(f"through Rapport (one uvicorn, Redis layer) : median {ms(through):6.1f} ms  (min {ms(through, 0):.1f}, max {ms(through, 1):.1f})")
    print(f"reference: SDP handed over directly        : median {ms(direct):6.1f} ms  (min {ms(direct, 0):.1f}, max {ms(direct, 1):.1f})")
    print(f"added by the server (difference of medians): {added:6.1f} ms")
    print("through Rapport, step by step (medians)     : " + ", ".join(f"{name} {ms(values):.1f} ms" for name, values in steps.items()))
    print(f"Target: the server adds under 20 ms: {'MET' if added < 20 else 'NOT MET'}")


if __name__ == "__main__":
    main()

"""Benchmark: signalling relay latency with many calls held by one Rapport process.

One uvicorn process serves Rapport with the Redis channel layer. N rooms (appointments in progress,
each with the clinician and the service user admitted) are made through the services in a dedicated
database, rapport_bench. Two WebSocket clients per room connect with real API tokens, and each sends
its room peer small `ack` messages at a fixed rate; the send time travels in `seq` (the server relays
only the protocol's fields; `seq` is an int, here time.perf_counter_ns() // 1000, which rises as the
protocol asks), and the receiver measures the relay latency on arrival. Pings keep presence alive.

The reference, measured in the same run under the same load: a bare relay written with the
`websockets` library, in its own process (uvloop, like uvicorn), which forwards each message to the
paired connection and does nothing else. The second reference: a bare Channels consumer under uvicorn
with Rapport's channel layer, forwarding each message to the other side's channel and nothing else
(the floor for anything built on Channels' consumers). All get the same clients and message schedule.

It prints, each beside the bare relay's figure from the same run and with the machine's load average
when it was measured: the time to open and join every socket (and the server's CPU time for it); the server's CPU time per relayed
message; relay latency (p50, p99); and with --workers N, the same load on N processes beside 1.

Targets (issue 12): 1,000 sockets (500 rooms) opened and joined within 5 s on one process; CPU per
relayed message at most 2x the bare relay's; one process relaying 3,000 messages/s (--rate 3 with 500
rooms) with p99 under 25 ms; 1,000 rooms at 1 message/s per client with p99 under 25 ms and p50 within
3x of the bare relay.

    .venv/bin/python bench/signalling.py                          # 500 rooms: the join storm, 1,000 messages/s
    .venv/bin/python bench/signalling.py --rooms 1000             # 1,000 rooms at 1 message/s per client
    .venv/bin/python bench/signalling.py --rate 3                 # 3,000 messages/s
    .venv/bin/python bench/signalling.py --workers 2 --rate 3     # 1 process, then 2, same load

Options (all optional):
    --rooms N              rooms, two connections each (default 500)
    --rate R               messages per second sent by each client (default 1)
    --seconds S            measured sending time (default 10), after --warmup W seconds (default 2)
    --workers N            uvicorn processes sharing Redis, room i on process i mod N (default 1); above 1
                           the same load runs on one process first, for the comparison
    --client-processes P   load-generator processes (default 1; rooms are split between them)
    --pool N               DATABASE_POOL_MAX_SIZE of each server process (default 8; 0: a connection each time)
    --ws IMPL              uvicorn's --ws (default auto)
    --redis-url URL        Redis for the channel layer and cache; its database is FLUSHED first
                           (default redis://127.0.0.1:6379/12)
    --skip-reference       do not run the bare relay nor the bare Channels consumer
    --skip-channels-reference  do not run the bare Channels consumer
    --profile PATH         run the (one-process) Rapport server under cProfile and write its stats to PATH;
                           py-spy (requirements-dev.txt) on the server's pid shows more with less overhead

Needs PostgreSQL (user postgres) and Redis on 127.0.0.1. Everything listens and connects on loopback.
Rooms made by an earlier run are reused (fresh tokens are issued); only the shortfall is created.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import re
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DB = "rapport_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/12"
os.environ.setdefault("DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/{DB}")
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-not-for-deployment-0123456789")
os.environ.setdefault("EVALUATION_PSEUDONYM_KEY", "bench-only-pseudonym-key-not-for-deployment-0123456789")
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings")

TRUST, TEAM = "Signalling bench trust", "Signalling bench"
CONNECT_CONCURRENCY = 32
CONNECT_TIMEOUT = 60.0
DRAIN_SECONDS = 1.5
HEARTBEAT_SECONDS = 10


def now_us() -> int:
    return time.perf_counter_ns() // 1000


# --- Setup: database, rooms, server ----------------------------------------------------------------


def ensure_database() -> None:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB]).fetchone():
            conn.execute(f"CREATE DATABASE {DB}")


def prepare_rooms(count: int) -> tuple[list[dict], int]:
    """`count` sessions in progress, clinician and service user admitted, made through the services.
    Returns, per room: appointment id, and for each side its API token and peer_id."""
    from datetime import timedelta

    from django.db.models import Count, Q
    from django.utils import timezone

    from backend.accounts import services as accounts
    from backend.accounts.models import Organisation, Role, Team
    from backend.accounts.services import api_token_issue
    from backend.audit.actor import Actor
    from backend.consent import services as consent
    from backend.consent.models import ConsentPurpose, ConsentRecord, Modality, PurposeCode
    from backend.consent.selectors import current_wording
    from backend.sessions import services as sessions
    from backend.sessions.models import Appointment, Participant
    from backend.sessions.signalling import peer_id_for

    system = Actor.system(via="bench")
    organisation = Organisation.objects.filter(name=TRUST).first() or accounts.organisation_create(actor=system, name=TRUST)
    team = Team.objects.filter(organisation=organisation, name=TEAM).first() or accounts.team_create(
        actor=system, organisation=organisation, name=TEAM, service="Talking therapies", site="Loopback"
    )
    admitted = Participant.State.ADMITTED
    rooms = list(
        Appointment.objects.filter(team=team, status=Appointment.Status.IN_PROGRESS)
        .annotate(admitted=Count("participants", filter=Q(participants__state=admitted)))
        .filter(admitted=2).order_by("id")[:count]
    )
    made = 0
    started = time.perf_counter()
    while len(rooms) < count:
        stamp = f"{os.getpid()}-{time.time_ns()}"
        clinician = accounts.user_create(actor=system, email=f"bench-clinician-{stamp}@example.test",
                                         full_name="Bench Clinician", role=Role.CLINICIAN, password=None, organisation=organisation)
        accounts.team_member_add(actor=system, team=team, user=clinician)
        person = accounts.user_create(actor=system, email=f"bench-person-{stamp}@example.test",
                                      full_name="Bench Person", role=Role.SERVICE_USER, password=None, organisation=organisation)
        accounts.caseload_add(actor=system, team=team, service_user=person)
        for code in (PurposeCode.REMOTE_CARE, PurposeCode.VIDEO):
            purpose = ConsentPurpose.objects.get(code=code)
            consent.consent_record(actor=Actor(person, via="bench"), service_user=person, purpose=purpose,
                                   decision=ConsentRecord.Decision.GIVEN, wording_version=current_wording(purpose).version)
        appointment = sessions.appointment_book(
            actor=Actor(clinician, via="bench"), service_user=person, team=team,
            starts_at=timezone.now() + timedelta(minutes=5), modalities_offered=list(Modality.values),
        )
        sessions.safety_check_record(actor=Actor(clinician, via="bench"), appointment=appointment, current_location="Home",
                                     is_private=True, emergency_contact_confirmed=True, identity_confirmed=True)
        sessions.waiting_room_enter(actor=Actor(person, via="bench"), appointment=appointment)
        sessions.participants_admit(actor=Actor(clinician, via="bench"), appointment=appointment)
        rooms.append(appointment)
        made += 1
        if made % 50 == 0:
            print(f"  made {made} rooms ({(time.perf_counter() - started) / made * 1000:.0f} ms each)", flush=True)
    specs = []
    for appointment in rooms:
        host = appointment.participants.get(role=Participant.Role.HOST)
        person = appointment.participants.get(role=Participant.Role.SERVICE_USER)
        specs.append({
            "appointment": appointment.pk,
            "sides": [
                {"token": api_token_issue(actor=Actor(host.user, via="bench"), user=host.user)[0], "peer": peer_id_for(host.pk)},
                {"token": api_token_issue(actor=Actor(person.user, via="bench"), user=person.user)[0], "peer": peer_id_for(person.pk)},
            ],
        })
    return specs, made


def raise_open_file_limit(needed: int) -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    if soft < needed:
        raise SystemExit(f"The open-file limit is {soft} (hard {hard}); {needed} are needed. Raise it (ulimit -n).")
    return soft


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads) so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def redis_cpu_seconds(url: str) -> float:
    import redis

    info = redis.Redis.from_url(url).info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise SystemExit(f"The server process exited with status {process.returncode}.")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise SystemExit(f"Nothing listens on 127.0.0.1:{port} after {timeout:.0f} s.") from None
            time.sleep(0.1)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


# --- The reference: a bare relay ---------------------------------------------------------------------


async def serve_bare_relay(port: int) -> None:
    """Forward every message from /<room>/<side> to the connection at /<room>/<other side>. Nothing else."""
    from websockets.asyncio.server import serve
    from websockets.exceptions import ConnectionClosed

    rooms: dict[str, list] = {}

    async def relay(ws):
        _, room, side = ws.request.path.split("/")
        mine = int(side)
        pair = rooms.setdefault(room, [None, None])
        pair[mine] = ws
        try:
            async for message in ws:
                other = pair[1 - mine]
                if other is not None:
                    try:
                        await other.send(message)
                    except ConnectionClosed:
                        pass
        finally:
            if pair[mine] is ws:
                pair[mine] = None

    async with serve(relay, "127.0.0.1", port, compression=None, ping_interval=None, max_size=65536, backlog=2048) as server:
        await server.serve_forever()


def serve_bare_channels(port: int, redis_url: str) -> None:
    """The second reference: a bare Channels consumer under uvicorn, with Rapport's channel layer on the
    same Redis, that forwards each message to the other side's channel and does nothing else (no
    authentication, access rule, validation, rate limit, presence or audit), and without Channels'
    per-event database housekeeping, which Rapport's consumers skip as well. Rapport's relay cannot cost
    much less than this while it is built on Channels' consumers (docs/performance.md)."""
    import django
    from django.conf import settings

    settings.configure(
        DEBUG=False, ALLOWED_HOSTS=["*"], INSTALLED_APPS=["channels"],
        CHANNEL_LAYERS={"default": {"BACKEND": "backend.core.channel_layers.BoundedRedisPubSubChannelLayer",
                                    "CONFIG": {"hosts": [redis_url], "prefix": "bench-bare-channels", "capacity": 100,
                                               "max_queued_bytes": 1024 * 1024}}},
    )
    django.setup()
    import uvicorn
    from channels.consumer import get_handler_name
    from channels.generic.websocket import AsyncWebsocketConsumer
    from channels.routing import URLRouter
    from django.urls import path

    rooms: dict[str, list] = {}

    class Relay(AsyncWebsocketConsumer):
        async def dispatch(self, message):
            # Without Channels' database housekeeping before every event (a hop to a thread for each):
            # Rapport's consumers skip it too, and with it this reference costs more than Rapport.
            await getattr(self, get_handler_name(message))(message)

        async def connect(self):
            self.room, self.side = self.scope["url_route"]["kwargs"]["room"], self.scope["url_route"]["kwargs"]["side"]
            rooms.setdefault(self.room, [None, None])[self.side] = self.channel_name
            await self.accept()

        async def receive(self, text_data=None, bytes_data=None):
            other = rooms[self.room][1 - self.side]
            if other is not None:
                await self.channel_layer.send(other, {"type": "relay", "text": text_data})

        async def relay(self, event):
            await self.send(text_data=event["text"])

        async def disconnect(self, code):
            if rooms.get(self.room, [None, None])[self.side] == self.channel_name:
                rooms[self.room][self.side] = None

    application = URLRouter([path("<str:room>/<int:side>", Relay.as_asgi())])
    uvicorn.run(application, host="127.0.0.1", port=port, log_level="warning", lifespan="off", ws="websockets",
                access_log=False, loop="uvloop")


# --- The load: clients ---------------------------------------------------------------------------


class LoadClient:
    def __init__(self, ws, to: str):
        self.ws = ws
        self.to = to
        self.latencies: list[int] = []
        self.sent_in_window = 0
        self.received_in_window = 0
        self.max_send_lag = 0.0
        self.errors: Counter = Counter()
        self.other: Counter = Counter()
        self.closed_early = False

    async def read(self, window: tuple[int, int]) -> None:
        from websockets.exceptions import ConnectionClosed

        try:
            async for raw in self.ws:
                arrived = now_us()
                message = json.loads(raw)
                kind = message.get("type")
                if kind == "ack":
                    sent = message["seq"]
                    if window[0] <= sent < window[1]:
                        self.latencies.append(arrived - sent)
                        self.received_in_window += 1
                    else:
                        self.other["ack outside the window"] += 1
                elif kind == "error":
                    self.errors[message.get("code")] += 1
                else:
                    self.other[kind] += 1
        except ConnectionClosed:
            pass
        self.closed_early = True

    async def send(self, start: float, end: float, rate: float, phase: float, window: tuple[int, int]) -> None:
        period = 1.0 / rate
        due = start + phase * period
        while due < end:
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            sent = now_us()
            self.max_send_lag = max(self.max_send_lag, sent / 1e6 - due)
            try:
                await self.ws.send(json.dumps({"type": "ack", "to": self.to, "seq": sent, "ack": 0}))
            except Exception:  # noqa: BLE001 - the connection went away: counted as lost messages
                return
            if window[0] <= sent < window[1]:
                self.sent_in_window += 1
            due += period
            if time.perf_counter() - due > period:  # fell behind: carry on from now, never burst
                due = time.perf_counter()

    async def heartbeat(self) -> None:
        try:
            while True:
                await asyncio.sleep(HEARTBEAT_SECONDS)
                await self.ws.send(json.dumps({"type": "ping"}))
        except Exception:  # noqa: BLE001 - closed
            return


async def drive(spec: dict, conn) -> dict:
    """One load-generator process: open its connections, report ready, then send on the shared schedule."""
    from websockets.asyncio.client import connect

    kind, rooms = spec["kind"], spec["rooms"]
    semaphore = asyncio.Semaphore(CONNECT_CONCURRENCY)
    failures: Counter = Counter()

    async def open_one(room: dict, side: int) -> LoadClient | None:
        me, other = room["sides"][side], room["sides"][1 - side]
        port = room["port"]
        async with semaphore:
            try:
                if kind == "rapport":
                    ws = await connect(
                        f"ws://127.0.0.1:{port}/ws/sessions/{room['appointment']}/", origin=f"http://127.0.0.1:{port}",
                        additional_headers={"Authorization": f"Token {me['token']}"}, proxy=None, compression=None,
                        open_timeout=CONNECT_TIMEOUT, ping_interval=None,
                    )
                    welcome = json.loads(await asyncio.wait_for(ws.recv(), CONNECT_TIMEOUT))
                    if welcome.get("type") != "welcome" or welcome["peer_id"] != me["peer"]:
                        failures[f"no welcome: {welcome.get('code', welcome.get('type'))}"] += 1
                        await ws.close()
                        return None
                else:
                    ws = await connect(f"ws://127.0.0.1:{port}/{room['appointment']}/{side}", proxy=None,
                                       compression=None, open_timeout=CONNECT_TIMEOUT, ping_interval=None)
            except Exception as error:  # noqa: BLE001 - counted and reported
                failures[type(error).__name__] += 1
                return None
        client = LoadClient(ws, other["peer"])
        if kind == "rapport":  # from the moment of connecting: presence expires 30 s after the last ping
            heartbeats.append(asyncio.create_task(client.heartbeat()))
        return client

    connect_started = time.perf_counter()
    pairs = []
    clients: list[LoadClient] = []
    heartbeats = []
    # Hosts first, then the people (as in a clinic); each side's peer_id is known from the rooms table.
    for side in (0, 1):
        opened = await asyncio.gather(*(open_one(room, side) for room in rooms))
        pairs.append(opened)
        for client in opened:
            if client is not None:
                clients.append(client)
    connect_seconds = time.perf_counter() - connect_started
    conn.send(("ready", len(clients), connect_seconds, dict(failures)))
    start, warmup, seconds, rate = await asyncio.to_thread(conn.recv)
    window = (int((start + warmup) * 1e6), int((start + warmup + seconds) * 1e6))
    end = start + warmup + seconds
    rng = random.Random(spec["seed"])
    readers = [asyncio.create_task(client.read(window)) for client in clients]
    cpu_before = time.process_time()
    senders = [asyncio.create_task(client.send(start, end, rate, rng.random(), window)) for client in clients]
    await asyncio.gather(*senders)
    cpu_sending = time.process_time() - cpu_before
    await asyncio.sleep(DRAIN_SECONDS)
    open_at_end = sum(1 for client in clients if not client.closed_early)
    both_ways = 0
    for host, person in zip(*pairs):
        if host and person and not host.closed_early and not person.closed_early and host.received_in_window and person.received_in_window:
            both_ways += 1
    for task in heartbeats + readers:
        task.cancel()
    for client in clients:
        client.ws.transport.abort()
    errors, other = Counter(), Counter()
    for client in clients:
        errors.update(client.errors)
        other.update(client.other)
    return {
        "latencies": [latency for client in clients for latency in client.latencies],
        "sent": sum(c.sent_in_window for c in clients),
        "received": sum(c.received_in_window for c in clients),
        "open_at_end": open_at_end,
        "rooms_both_ways": both_ways,
        "connections": len(clients),
        "connect_seconds": connect_seconds,
        "max_send_lag": max((c.max_send_lag for c in clients), default=0.0),
        "errors": dict(errors),
        "other_messages": dict(other),
        "client_cpu": cpu_sending,
        "failures": dict(failures),
    }


def client_process(spec: dict, conn) -> None:
    try:
        import uvloop

        runner = uvloop.run
    except ImportError:
        runner = asyncio.run
    raise_open_file_limit(2 * len(spec["rooms"]) + 256)
    try:
        conn.send(("done", runner(drive(spec, conn))))
    except Exception as error:  # noqa: BLE001 - reported by the parent
        conn.send(("failed", f"{type(error).__name__}: {error}"))


def run_load(kind: str, ports: list[int], rooms: list[dict], args, server_pids: list[int]) -> dict:
    """Drive the load against the servers (room i on server i mod len(ports)) with --client-processes
    processes; merge their results."""
    context = multiprocessing.get_context("spawn")
    rooms = [{**room, "port": ports[index % len(ports)]} for index, room in enumerate(rooms)]
    load_at_connect = os.getloadavg()[0]
    cpu_at_connect = sum(process_cpu_seconds(pid) for pid in server_pids)
    workers = []
    for index in range(args.client_processes):
        share = rooms[index::args.client_processes]
        parent, child = context.Pipe()
        process = context.Process(target=client_process, args=({"kind": kind, "rooms": share, "seed": index}, child))
        process.start()
        workers.append((process, parent))
    connections, connect_seconds, failures = 0, 0.0, Counter()
    for process, parent in workers:
        if not parent.poll(CONNECT_TIMEOUT * 4):
            raise SystemExit(f"{kind}: a load-generator process did not get its connections open in time.")
        message = parent.recv()
        if message[0] != "ready":
            raise SystemExit(f"{kind}: load generator failed: {message[1]}")
        connections += message[1]
        connect_seconds = max(connect_seconds, message[2])
        failures.update(message[3])
    join_cpu = sum(process_cpu_seconds(pid) for pid in server_pids) - cpu_at_connect
    start = time.perf_counter() + 0.5
    for _, parent in workers:
        parent.send((start, args.warmup, args.seconds, args.rate))
    # Sample the server's and Redis's CPU time over the measured window.
    time.sleep(max(0.0, start + args.warmup - time.perf_counter()))
    server_cpu = sum(process_cpu_seconds(pid) for pid in server_pids)
    redis_cpu = redis_cpu_seconds(args.redis_url)
    load_before = os.getloadavg()[0]
    time.sleep(max(0.0, start + args.warmup + args.seconds - time.perf_counter()))
    server_cpu = (sum(process_cpu_seconds(pid) for pid in server_pids) - server_cpu) / args.seconds
    redis_cpu = (redis_cpu_seconds(args.redis_url) - redis_cpu) / args.seconds
    results = []
    for process, parent in workers:
        if not parent.poll(args.seconds + 60):
            raise SystemExit(f"{kind}: a load-generator process did not report.")
        message = parent.recv()
        if message[0] != "done":
            raise SystemExit(f"{kind}: load generator failed: {message[1]}")
        results.append(message[1])
        process.join(timeout=10)
    latencies = sorted(latency for result in results for latency in result["latencies"])
    merged = {
        "kind": kind,
        "connections": connections,
        "connect_seconds": connect_seconds,
        "join_cpu": join_cpu,
        "failures": dict(failures),
        "sent": sum(r["sent"] for r in results),
        "received": sum(r["received"] for r in results),
        "open_at_end": sum(r["open_at_end"] for r in results),
        "rooms_both_ways": sum(r["rooms_both_ways"] for r in results),
        "max_send_lag": max(r["max_send_lag"] for r in results),
        "errors": sum((Counter(r["errors"]) for r in results), Counter()),
        "other_messages": sum((Counter(r["other_messages"]) for r in results), Counter()),
        "client_cpu": sum(r["client_cpu"] for r in results) / (args.warmup + args.seconds),
        "server_cpu": server_cpu,
        "redis_cpu": redis_cpu,
        "load_average": load_before,
        "load_at_connect": load_at_connect,
        "latencies": latencies,
        "workers": len(ports),
    }
    return merged


def percentile(values: list[int], fraction: float) -> float:
    if not values:
        return float("nan")
    index = min(len(values) - 1, max(0, round(fraction * (len(values) - 1))))
    return values[index] / 1000  # us -> ms


def cpu_per_message_us(result: dict, seconds: float) -> float:
    """Server CPU time spent per relayed message over the measured window, in microseconds."""
    return result["server_cpu"] * seconds / result["received"] * 1e6 if result["received"] else float("nan")


def describe(result: dict, rooms: int, seconds: float) -> str:
    lat = result["latencies"]
    lost = result["sent"] - result["received"]
    lines = [
        f"  connections open         : {result['connections']} of {2 * rooms} (opened and joined in {result['connect_seconds']:.1f} s, "
        f"server CPU {result['join_cpu']:.1f} s = {result['join_cpu'] * 1000 / max(1, result['connections']):.1f} ms per socket, "
        f"load average {result['load_at_connect']:.2f})" + (f", failures {result['failures']}" if result["failures"] else ""),
        f"  rooms relaying both ways : {result['rooms_both_ways']} of {rooms} (connections still open after: {result['open_at_end']})",
        f"  messages in the window   : {result['sent']} sent, {result['received']} relayed ({result['received'] / seconds:.0f}/s), {lost} lost"
        + (f", errors {dict(result['errors'])}" if result["errors"] else "")
        + (f", other messages {dict(result['other_messages'])}" if result["other_messages"] else ""),
        (f"  relay latency            : p50 {percentile(lat, 0.50):.2f} ms, p90 {percentile(lat, 0.90):.2f} ms, "
         f"p99 {percentile(lat, 0.99):.2f} ms, max {percentile(lat, 1.0):.2f} ms" if lat else
         "  relay latency            : nothing was relayed in the window"),
        f"  CPU (cores busy)         : server {result['server_cpu']:.2f} ({cpu_per_message_us(result, seconds):.0f} us per relayed message), "
        f"Redis {result['redis_cpu']:.2f}, load generator {result['client_cpu']:.2f}; worst send lag {result['max_send_lag'] * 1000:.1f} ms; "
        f"machine load average {result['load_average']:.2f}",
    ]
    return "\n".join(lines)


def start_rapport(count: int, env: dict, logs: Path, extra: tuple[str, ...], profile: str | None):
    """`count` uvicorn processes of Rapport, each on its own port, sharing the Redis layer."""
    from tests.live_server import free_port, resolve_python, start_server, wait_until_up

    servers = [start_server(env, logs / f"uvicorn-{index}.log", extra_args=extra) for index in range(count)]
    if profile:  # the same server, under cProfile (one process)
        servers[0].stop()
        port = free_port()
        command = [resolve_python(), "-m", "cProfile", "-o", profile, "-m", "uvicorn", "backend.asgi:application",
                   "--host", "127.0.0.1", "--port", str(port), "--lifespan", "off", *extra]
        with open(logs / "uvicorn-0.log", "wb") as log:
            process = subprocess.Popen(command, cwd=ROOT, env={**env, "PYTHONUNBUFFERED": "1"}, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
        servers[0] = type(servers[0])(process=process, port=port, log_path=logs / "uvicorn-0.log")
    wait_until_up(*servers, timeout=120)  # two processes starting at once on a busy machine take a while
    return servers


def run_rapport(count: int, rooms: list[dict], args, env: dict, extra: tuple[str, ...]) -> tuple[dict, Counter, Path]:
    import redis

    redis.Redis.from_url(args.redis_url).flushdb()  # no presence or budget left from an earlier pass
    logs = Path(tempfile.mkdtemp(prefix="rapport-bench-signalling-"))
    servers = start_rapport(count, env, logs, extra, args.profile if count == 1 else None)
    print(f"Rapport: {count} uvicorn process(es) (pids {', '.join(str(s.process.pid) for s in servers)}), Redis layer "
          f"{args.redis_url}; {args.client_processes} load-generator process(es)", flush=True)
    try:
        result = run_load("rapport", [s.port for s in servers], rooms, args, [s.process.pid for s in servers])
    finally:
        time.sleep(1)
        if args.profile and count == 1:  # uvicorn re-raises the signal it stopped on: SIGINT lets cProfile write its stats
            servers[0].process.send_signal(signal.SIGINT)
            servers[0].process.wait(timeout=30)
        for server in servers:
            server.stop()
    # Exceptions the servers logged (the last line of each traceback names the exception), and outages.
    problems = Counter(line.split(":")[0] for server in servers for line in server.log().splitlines()
                       if re.match(r"^[A-Za-z_][\w.]*(Error|Exception|Full)\b", line) or line.startswith("Signalling store unavailable"))
    return result, problems, logs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rooms", type=int, default=500, help="rooms, two connections each (default 500: 1,000 sockets)")
    # One message a second per client is ten times a call's steady signalling (a ping every 10 s),
    # leaving room for the burst of offers, answers and candidates while calls set up.
    parser.add_argument("--rate", type=float, default=1.0, help="messages per second sent by each client (default 1)")
    parser.add_argument("--seconds", type=float, default=10.0, help="measured sending time (default 10)")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured sending before it (default 2)")
    parser.add_argument("--workers", type=int, default=1,
                        help="uvicorn processes sharing Redis, rooms split between them; above 1, the same load also "
                             "runs on one process first, for the comparison (default 1)")
    parser.add_argument("--client-processes", type=int, default=1, help="load-generator processes (default 1)")
    parser.add_argument("--ws", default="auto", help="uvicorn's WebSocket implementation (--ws; default auto: websockets)")
    parser.add_argument("--pool", type=int, default=8, help="DATABASE_POOL_MAX_SIZE of each server process (default 8; 0: no pool)")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL, help=f"Redis database to use; FLUSHED first (default {DEFAULT_REDIS_URL})")
    parser.add_argument("--skip-reference", action="store_true", help="do not run the bare relay (nor the bare Channels consumer)")
    parser.add_argument("--skip-channels-reference", action="store_true", help="do not run the bare Channels consumer")
    parser.add_argument("--profile", metavar="PATH", help="run the (one-process) Rapport server under cProfile, stats to PATH")
    parser.add_argument("--serve-bare-relay", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument("--serve-bare-channels", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.serve_bare_channels:
        serve_bare_channels(args.serve_bare_channels, args.redis_url)
        return

    if args.serve_bare_relay:
        try:
            import uvloop

            uvloop.run(serve_bare_relay(args.serve_bare_relay))
        except ImportError:
            asyncio.run(serve_bare_relay(args.serve_bare_relay))
        return

    limit = raise_open_file_limit(4 * args.rooms + 512)
    os.environ["REDIS_URL"] = args.redis_url
    os.environ["LOG_LEVEL"] = "WARNING"
    ensure_database()
    import django

    django.setup()
    from django.core.management import call_command

    from tests.live_server import free_port, resolve_python

    call_command("migrate", verbosity=0)
    print(f"Preparing {args.rooms} rooms in {DB} ...", flush=True)
    started = time.perf_counter()
    rooms, made = prepare_rooms(args.rooms)
    print(f"  {len(rooms)} rooms ready ({made} made now) in {time.perf_counter() - started:.1f} s; open-file limit {limit}", flush=True)

    env = {
        **os.environ, "DEBUG": "0", "HTTPS": "0", "ALLOWED_HOSTS": "127.0.0.1", "REDIS_URL": args.redis_url,
        "CHANNEL_PREFIX": "rapport-bench", "LOG_LEVEL": "WARNING", "DATABASE_POOL_MAX_SIZE": str(args.pool),
    }
    extra = ("--log-level", "warning", "--no-access-log", "--ws", args.ws)
    runs = {}
    for count in sorted({1, args.workers}):
        runs[count] = run_rapport(count, rooms, args, env, extra)

    reference = None
    if not args.skip_reference:
        port = free_port()
        relay = subprocess.Popen([resolve_python(), str(Path(__file__).resolve()), "--serve-bare-relay", str(port)],  # noqa: S603
                                 cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        try:
            wait_for_port(port, relay)
            reference = run_load("bare", [port], rooms, args, [relay.pid])
        finally:
            stop(relay)
    channels_reference = None
    if not args.skip_reference and not args.skip_channels_reference:
        port = free_port()
        relay = subprocess.Popen([resolve_python(), str(Path(__file__).resolve()), "--serve-bare-channels", str(port),  # noqa: S603
                                  "--redis-url", args.redis_url], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        try:
            wait_for_port(port, relay)
            channels_reference = run_load("bare", [port], rooms, args, [relay.pid])
        finally:
            stop(relay)

    print()
    print(f"Signalling relay, {args.rooms} rooms x 2 clients, {args.rate:g} messages/s per client, "
          f"{args.seconds:g} s measured after {args.warmup:g} s warm-up ({os.cpu_count()} cores)")
    for count, (result, problems, logs) in runs.items():
        print(f"Rapport, {count} uvicorn process(es) (Channels + Redis layer):")
        print(describe(result, args.rooms, args.seconds))
        if problems:
            print(f"  logged by the server     : {dict(problems)} (logs: {logs})")
    if reference:
        print("Reference: bare websockets relay (one process), same load:")
        print(describe(reference, args.rooms, args.seconds))
    if channels_reference:
        print("Second reference: bare Channels consumer under uvicorn, Rapport's Redis layer, nothing else (one process), same load:")
        print(describe(channels_reference, args.rooms, args.seconds))

    rapport = runs[1][0]
    lat = rapport["latencies"]
    p50, p99 = percentile(lat, 0.5), percentile(lat, 0.99)
    held = rapport["rooms_both_ways"]
    sockets = 2 * args.rooms
    print()
    print("Figures, one Rapport process (machine load average when measured in brackets):")
    line = f"  open and join {sockets} sockets : {rapport['connect_seconds']:.1f} s [{rapport['load_at_connect']:.1f}]"
    if reference:
        line += f" vs bare relay {reference['connect_seconds']:.1f} s [{reference['load_at_connect']:.1f}]"
    if sockets >= 1000:
        line += f"; target 1,000 within 5 s: {'MET' if rapport['connect_seconds'] <= 5 * sockets / 1000 else 'NOT MET'}"
    print(line)
    ours = cpu_per_message_us(rapport, args.seconds)
    line = f"  CPU per relayed message    : {ours:.0f} us [{rapport['load_average']:.1f}]"
    if reference:
        base = cpu_per_message_us(reference, args.seconds)
        line += (f" vs bare relay {base:.0f} us [{reference['load_average']:.1f}] = {ours / base:.1f}x; "
                 f"target at most 2x: {'MET' if ours <= 2 * base else 'NOT MET'}")
    print(line)
    if channels_reference:
        floor = cpu_per_message_us(channels_reference, args.seconds)
        print(f"  bare Channels consumer     : open and join {channels_reference['connect_seconds']:.1f} s, CPU per relayed message "
              f"{floor:.0f} us [{channels_reference['load_average']:.1f}]"
              + (f" = {floor / base:.1f}x the bare relay; Rapport = {ours / floor:.1f}x the bare Channels consumer" if reference else ""))
    p99_text = f"p50 {p50:.2f} ms, p99 {p99:.2f} ms" if lat else "nothing relayed"
    line = (f"  {args.rooms} rooms held, relaying {rapport['received'] / args.seconds:.0f} messages/s: {held} held, {p99_text} "
            f"[{rapport['load_average']:.1f}]; target all held with p99 < 25 ms: {'MET' if held == args.rooms and lat and p99 < 25 else 'NOT MET'}")
    print(line)
    if reference and lat:
        base = percentile(reference["latencies"], 0.5)
        print(f"  p50 beside the bare relay  : {p50:.2f} ms vs {base:.2f} ms = {p50 / base:.1f}x; "
              f"target within 3x: {'MET' if p50 <= 3 * base else 'NOT MET'}")
    if args.workers > 1:
        many = runs[args.workers][0]
        one_rate, many_rate = rapport["received"] / args.seconds, many["received"] / args.seconds
        print(f"  {args.workers} processes vs 1        : {many_rate:.0f} vs {one_rate:.0f} messages/s relayed ({many_rate / one_rate:.2f}x), "
              f"p99 {percentile(many['latencies'], 0.99):.2f} vs {p99:.2f} ms, server CPU {many['server_cpu']:.2f} vs "
              f"{rapport['server_cpu']:.2f} cores, CPU per message {cpu_per_message_us(many, args.seconds):.0f} vs {ours:.0f} us "
              f"[{many['load_average']:.1f} vs {rapport['load_average']:.1f}]")


if __name__ == "__main__":
    main()

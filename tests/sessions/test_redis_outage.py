"""Redis stopped for about 5 s in the middle of a call across two server processes (issue 12, point 4).

The test starts its own redis-server on a free loopback port (no persistence: a restart comes back
empty, the worst case) and two uvicorn processes sharing it, then a real aiortc call between them.
While Redis is down: media keeps flowing (it never passed through the server), the open sockets stay
open and are told `degraded`, and a new socket is refused with close code 1013 (try again), not an
HTTP 500. After Redis returns empty: every socket re-announces itself, the clients are told who is
here (`recovered`), and a participant who reloads the page sees the others in the welcome and the call
re-forms with nobody else reconnecting. docs/signalling.md, "When the server's store is down".
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import time

import av
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.live_server import database_url_with_name, free_port, start_server, wait_until_up
from tests.sessions.test_webrtc_e2e import CONNECT_TIMEOUT, FRAME_TIMEOUT, call_between_servers
from tests.signalling_client import FrameSink, SignallingClient, wait_connected

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("ice_on_loopback_only")]

OUTAGE_SECONDS = 5


class RedisServer:
    """A redis-server of the test's own, on 127.0.0.1:<port>, that the test can stop and start again."""

    def __init__(self, directory):
        self.port = free_port()
        self.directory = directory
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        assert binary, "redis-server is needed (tests/setup_services.sh installs it)"
        self.process = subprocess.Popen(  # noqa: S603
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.directory)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if subprocess.run(["redis-cli", "-p", str(self.port), "ping"], capture_output=True, timeout=2).stdout.strip() == b"PONG":  # noqa: S603, S607
                    return
            except subprocess.TimeoutExpired:
                pass
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None


@pytest.fixture(scope="module")
def redis_and_servers(django_db_setup, tmp_path_factory):
    from django.conf import settings
    from django.db import connection

    directory = tmp_path_factory.mktemp("redis-outage")
    redis_server = RedisServer(directory)
    redis_server.start()
    env = dict(os.environ)
    current = env.get("DATABASE_URL")
    if not current:
        db = settings.DATABASES["default"]
        current = f"postgres://{db['USER']}{':' + db['PASSWORD'] if db.get('PASSWORD') else ''}@{db['HOST']}:{db['PORT']}/x"
    env["DATABASE_URL"] = database_url_with_name(current, connection.settings_dict["NAME"])
    env["REDIS_URL"] = redis_server.url
    a = start_server(env, directory / "server-a.log")
    b = start_server(env, directory / "server-b.log")
    try:
        wait_until_up(a, b)
    except RuntimeError as error:
        redis_server.stop()
        pytest.fail(str(error), pytrace=False)
    try:
        yield redis_server, (a, b)
    finally:
        a.stop()
        b.stop()
        redis_server.stop()




async def refused_socket(ws_url: str, appointment_id: int, token: str) -> tuple[list[dict], int | None]:
    """Open a signalling socket; return what the server said and the close code."""
    origin = "http://" + ws_url.split("://", 1)[1]
    messages = []
    async with connect(f"{ws_url}/ws/sessions/{appointment_id}/", origin=origin, proxy=None,
                       additional_headers={"Authorization": f"Token {token}"}, open_timeout=10) as ws:
        try:
            async for raw in ws:
                messages.append(json.loads(raw))
        except ConnectionClosed:
            pass
        return messages, ws.close_code


async def test_a_call_survives_redis_restarting_and_re_forms_when_someone_reloads(redis_and_servers, clients):
    redis_server, servers = redis_and_servers
    server_a, server_b = servers
    made, sinks = clients
    world, tokens, clinician, person, video = await call_between_servers(servers, clients)
    appointment_id = world.appointment.pk

    redis_server.stop()
    started = time.monotonic()
    for client in (clinician, person):  # each process notices within a second, heartbeat or not
        assert (await client.wait_for_type("degraded", timeout=5))["type"] == "degraded"
    for client in (clinician, person):  # a heartbeat now is still answered, and the socket stays
        pongs = client.pongs
        await client.send({"type": "ping"})
        for _ in range(100):
            if client.pongs > pongs:
                break
            await asyncio.sleep(0.05)
        assert client.pongs > pongs, client.name

    # A new socket now is refused with the documented code, on either server.
    for server in servers:
        messages, code = await refused_socket(server.ws_url, appointment_id, tokens["service_user"])
        assert code == 1013, (server.base_url, messages)
        assert messages and messages[-1]["code"] == "try-again"

    # Media never went through the server: it keeps flowing.
    for who in ("clinician", "service user"):
        assert isinstance(await video[who].more(5, FRAME_TIMEOUT), av.VideoFrame), who
    await asyncio.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - started)))
    assert clinician.close_code is None and person.close_code is None, "open sockets stay open"

    redis_server.start()  # empty: presence has to be rebuilt from the live sockets
    for client, other in ((clinician, person), (person, clinician)):
        recovered = await client.wait_for_type("recovered", timeout=10)
        assert [p["peer_id"] for p in recovered["peers"]] == [other.peer_id], recovered

    # The clinician reloads the page: a new client with no connections, on the same server.
    person_socket = person.ws
    await clinician.close()
    made.remove(clinician)
    reloaded = SignallingClient(appointment_id, tokens["clinician"], name="clinician, reloaded")
    made.append(reloaded)
    welcome = await reloaded.connect(server_a.ws_url)
    assert [p["peer_id"] for p in welcome["peers"]] == [person.peer_id], "the reloaded page sees who is here"
    back = await person.wait_for(lambda m: m.get("type") == "peer-reconnected" and m["peer"]["peer_id"] == welcome["peer_id"], timeout=10)
    assert back["restart_ice"] is True
    host_link = reloaded.peers[person.peer_id]
    await asyncio.wait_for(host_link.negotiated.wait(), 10)
    person_link = person.peers[reloaded.peer_id]
    await asyncio.gather(wait_connected(host_link.pc, CONNECT_TIMEOUT), wait_connected(person_link.pc, CONNECT_TIMEOUT))
    await asyncio.gather(*(asyncio.wait_for(link.tracks_arrived.wait(), FRAME_TIMEOUT) for link in (host_link, person_link)))
    for link in (host_link, person_link):
        sink = FrameSink(link.remote_tracks["video"])
        sinks.append(sink)
        assert isinstance(await sink.more(3, FRAME_TIMEOUT), av.VideoFrame)
    assert person.ws is person_socket and person.close_code is None, "the other participant did not reconnect"
    assert [e for e in person.errors + reloaded.errors if not (isinstance(e, dict) and e.get("code") == "degraded")] == []
    for server in servers:  # no crashed consumer, and no traceback a second from the channel layer either
        assert "Exception in ASGI application" not in server.log() and "Traceback" not in server.log(), server.log()[-3000:]

"""Issue 12's malformed-message table against a real uvicorn process (tests/live_server.py), whose log
is read afterwards: uvicorn is where a consumer crash showed as "Exception in ASGI application" and
where a send after the close raised. Real WebSockets (the `websockets` client), real API tokens, the
suite's Redis shared as channel layer and cache, pytest-django's test database (committed rows only,
hence transactional tests)."""

from __future__ import annotations

import asyncio
import json
import os

import pytest
from channels.db import database_sync_to_async
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed

from backend.accounts.services import api_token_issue
from backend.audit.actor import Actor
from backend.sessions import budget
from backend.sessions.signalling import BUCKET_SIZE, FLOOD_STRIKES
from tests.live_server import database_url_with_name, start_server, wait_until_up
from tests.sessions.test_hostile_input import MALFORMED, frame
from tests.sessions.test_signalling_consumer import running_session

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def server(django_db_setup, tmp_path_factory):
    from django.conf import settings
    from django.db import connection

    env = dict(os.environ)
    current = env.get("DATABASE_URL")
    if not current:
        db = settings.DATABASES["default"]
        current = f"postgres://{db['USER']}{':' + db['PASSWORD'] if db.get('PASSWORD') else ''}@{db['HOST']}:{db['PORT']}/x"
    env["DATABASE_URL"] = database_url_with_name(current, connection.settings_dict["NAME"])
    assert env.get("REDIS_URL"), "the server shares the suite's Redis"
    live = start_server(env, tmp_path_factory.mktemp("hostile") / "server.log")
    try:
        wait_until_up(live)
    except RuntimeError as error:
        pytest.fail(str(error), pytrace=False)
    yield live
    live.stop()


@database_sync_to_async
def tokens_for(world) -> dict:
    return {who: api_token_issue(actor=Actor(getattr(world, who), via="test"), user=getattr(world, who))[0]
            for who in ("clinician", "service_user")}


async def open_ws(server, appointment_id: int, token: str):
    ws = await ws_connect(f"{server.ws_url}/ws/sessions/{appointment_id}/", origin=server.base_url,
                          additional_headers={"Authorization": f"Token {token}"}, proxy=None, compression=None,
                          ping_interval=None, max_size=None)
    welcome = json.loads(await asyncio.wait_for(ws.recv(), 10))
    assert welcome["type"] == "welcome", welcome
    return ws, welcome


async def next_json(ws, timeout: float = 10) -> dict:
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


async def test_the_malformed_table_against_uvicorn_logs_no_exception(server):
    world = await running_session()
    tokens = await tokens_for(world)
    host, host_welcome = await open_ws(server, world.appointment.pk, tokens["clinician"])
    person, person_welcome = await open_ws(server, world.appointment.pk, tokens["service_user"])
    assert (await next_json(host))["type"] == "peer-joined"
    for name, raw, code in MALFORMED:
        await budget.forget(world.clinician.pk)
        data = frame(raw, person_welcome["peer_id"])
        await host.send(data.get("text_data", data.get("bytes_data")))
        answer = await next_json(host)
        assert (answer["type"], answer["code"]) == ("error", code), f"{name}: {answer}"
        await host.send(json.dumps({"type": "ping"}))
        assert await next_json(host) == {"type": "pong"}, name

    # A flood while the other side keeps sending to the flooder: closed with 4429, and the events
    # that reach its consumer between its close and the client's are not sent (no crash).
    async def keep_sending():
        for seq in range(100):
            await host.send(json.dumps({"type": "ack", "to": person_welcome["peer_id"], "seq": seq, "ack": 1}))
            await asyncio.sleep(0.005)

    sender = asyncio.create_task(keep_sending())
    try:
        for _ in range(BUCKET_SIZE + FLOOD_STRIKES + 50):
            await person.send(json.dumps({"type": "ping"}))
    except ConnectionClosed:
        pass
    await sender
    try:
        while True:
            await asyncio.wait_for(person.recv(), 10)
    except ConnectionClosed:
        pass
    assert person.close_code == 4429
    await host.close()
    await asyncio.sleep(0.5)
    log = server.log()
    assert "Exception in ASGI application" not in log and "Traceback" not in log, log[-3000:]

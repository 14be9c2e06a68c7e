"""Signalling's store (backend/sessions/presence.py) losing its data or not answering (issue 12, point 4),
in process through the ASGI stack. The full outage, with real processes and a Redis the test stops and
starts, is tests/sessions/test_redis_outage.py."""

import pytest
from channels.db import database_sync_to_async

from backend.consent.models import PurposeCode
from backend.sessions.presence import store
from tests.factories import withdraw_consent
from tests.live_server import free_port
from tests.sessions.test_signalling_consumer import connect, running_session
from tests.websockets import closed_with

pytestmark = pytest.mark.django_db(transaction=True)


async def test_a_reconnect_within_the_grace_period_is_a_reconnect_even_if_the_store_forgot_the_drop():
    """The finding: after a Redis restart lost the grace mark, a peer back within 30 s was announced as
    `peer-joined`, so nobody restarted ICE. The other peers' sockets remember it themselves."""
    world = await running_session()
    host = await connect(world.clinician, world.appointment.pk)
    person = await connect(world.service_user, world.appointment.pk)
    assert (await host.receive_json_from(timeout=5))["type"] == "peer-joined"
    await person.disconnect(code=1006)
    assert (await host.receive_json_from(timeout=5))["type"] == "peer-disconnected"
    await store().client.flushdb()  # what a restart of Redis without persistence does
    back = await connect(world.service_user, world.appointment.pk)
    again = await host.receive_json_from(timeout=5)
    assert again["type"] == "peer-reconnected" and again["restart_ice"] is True, again
    assert again["peer"]["peer_id"] == person.welcome["peer_id"]
    await host.disconnect()
    await back.disconnect()


async def test_a_new_socket_while_the_store_is_down_is_told_to_try_again(settings):
    world = await running_session()
    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there: the store is down
    socket = await connect(world.service_user, world.appointment.pk, expect_welcome=False)
    refused = await socket.receive_json_from(timeout=5)
    assert refused["type"] == "error" and refused["code"] == "try-again", refused
    assert await closed_with(socket) == 1013


@database_sync_to_async
def _withdraw(world):
    withdraw_consent(world.service_user, PurposeCode.VIDEO)


async def test_revoking_access_while_the_store_is_down_does_not_fail_the_request(settings):
    """The change is in the database; the sockets re-check everyone when the store returns."""
    world = await running_session()
    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"
    await _withdraw(world)  # the epoch write fails; the withdrawal still goes through


async def test_access_revoked_during_an_outage_is_enforced_when_the_store_returns():
    """During an outage a revocation can neither move the access epoch nor reach the sockets. Here the
    hook is left out (as if both had failed) and the carer's consent is withdrawn; then the store goes
    down and comes back: the carer's call and waiting-room sockets re-check with the database and close
    with 4430, the others carry on and hear who is here."""
    from redis.exceptions import ConnectionError as RedisConnectionError

    from backend.accounts.hooks import ACCESS_CHANGED
    from backend.sessions.presence import outage_watch
    from backend.sessions.revocation import on_access_changed
    from tests.sessions.test_revocation import call_with_carer, close_all, until_closed

    world, sockets = await call_with_carer()
    ACCESS_CHANGED.remove(on_access_changed)
    try:
        await database_sync_to_async(withdraw_consent)(world.service_user, PurposeCode.CARER_INVOLVEMENT, carer=world.carer)
    finally:
        ACCESS_CHANGED.append(on_access_changed)
    outage_watch().declare_down(RedisConnectionError("test: the store went away"))  # confirmed; the next probe finds it back
    for name in ("carer", "carer_lobby"):
        messages, code = await until_closed(sockets[name], within=3)
        assert code == 4430, (name, messages)
    for name in ("host", "person"):
        assert (await sockets[name].receive_json_from(timeout=3))["type"] == "degraded"
        seen = [await sockets[name].receive_json_from(timeout=5) for _ in range(2)]
        recovered = next(m for m in seen if m["type"] == "recovered")
        others = {"host": sockets["person"], "person": sockets["host"]}
        assert [p["peer_id"] for p in recovered["peers"]] == [others[name].welcome["peer_id"]], recovered
    await close_all({k: v for k, v in sockets.items() if not k.startswith("carer")})

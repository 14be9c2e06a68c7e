"""Revocation reaches open sockets (issue 10): when access narrows mid-call (carer consent withdrawn,
carer link ended, carer removed from the session, consent to video or remote care withdrawn, account
closed, host taken off the team), the affected call and waiting-room sockets close within a second
with the documented code (docs/signalling.md: 4430 access revoked, 4431 consent to the call withdrawn),
and nothing is relayed to them after. In process through the whole ASGI stack and the Redis layer."""

import asyncio
import json

import pytest
from channels.db import database_sync_to_async

from backend.accounts import services as account_services
from backend.accounts.hooks import ACCESS_CHANGED
from backend.audit.actor import Actor
from backend.consent.models import PurposeCode
from backend.sessions import services
from backend.sessions.presence import store
from backend.sessions.revocation import on_access_changed
from backend.sessions.signalling import access_epoch_key
from tests.factories import SYSTEM, withdraw_consent
from tests.sessions.test_signalling_consumer import connect, lobby, real_offer, running_session

pytestmark = pytest.mark.django_db(transaction=True)

REVOKED, CONSENT_WITHDRAWN = 4430, 4431


async def until_closed(communicator, within: float = 1.0) -> tuple[list[dict], int]:
    """Every message the socket gets before the server closes it, and the close code; fails if the
    close does not come within `within` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    messages = []
    while True:
        remaining = deadline - loop.time()
        assert remaining > 0, f"not closed within {within} s; got {messages}"
        try:
            output = await communicator.receive_output(timeout=remaining)
        except asyncio.TimeoutError:
            raise AssertionError(f"not closed within {within} s; got {messages}") from None
        if output["type"] == "websocket.close":
            return messages, output["code"]
        messages.append(json.loads(output["text"]))


async def drain(communicator, quiet: float = 0.3) -> list[dict]:
    """Read whatever is waiting (presence news) until the socket has been quiet for `quiet` seconds."""
    messages = []
    while not await communicator.receive_nothing(timeout=quiet):
        messages.append(await communicator.receive_json_from(timeout=1))
    return messages


async def call_with_carer():
    """A running session with host, person and carer in the call, and the carer's and person's waiting rooms open."""
    world = await running_session(with_carer=True)
    appointment_id = world.appointment.pk
    sockets = {
        "host": await connect(world.clinician, appointment_id),
        "person": await connect(world.service_user, appointment_id),
        "carer": await connect(world.carer, appointment_id),
        "carer_lobby": await lobby(world.carer, appointment_id),
        "person_lobby": await lobby(world.service_user, appointment_id),
    }
    for communicator in sockets.values():
        await drain(communicator)
    return world, sockets


async def close_all(sockets):
    for communicator in sockets.values():
        await communicator.disconnect()


async def assert_carer_cut_off(world, sockets, change, refused=("not-found", 4404)):
    """Make `change`, then at once have the host offer to the carer and message the waiting room:
    the carer's sockets close with 4430 within a second, and neither the offer nor the message reaches them."""
    sdp = await real_offer()
    await database_sync_to_async(change)()
    await sockets["host"].send_json_to({"type": "offer", "to": sockets["carer"].welcome["peer_id"], "seq": 1, "sdp": sdp})
    await database_sync_to_async(services.waiting_room_message)(
        actor=Actor(world.clinician), appointment=world.appointment, text="Back in a moment.")

    messages, code = await until_closed(sockets["carer"])
    assert code == REVOKED
    assert [m["type"] for m in messages] == ["error"] and messages[0]["code"] == "access-revoked", messages
    lobby_messages, lobby_code = await until_closed(sockets["carer_lobby"])
    assert lobby_code == REVOKED
    assert all(m["type"] != "message" for m in lobby_messages), lobby_messages
    assert await sockets["carer"].receive_nothing(timeout=0.3)
    assert await sockets["carer_lobby"].receive_nothing(timeout=0.1)

    # The others carry on: the host hears the carer left; the person still gets the host's message.
    host_heard = await drain(sockets["host"])
    assert {"type": "peer-left", "peer_id": sockets["carer"].welcome["peer_id"], "reason": "access-revoked"} in host_heard
    assert any(m["type"] == "message" and m["text"] == "Back in a moment." for m in await drain(sockets["person_lobby"]))
    # And the carer cannot come back.
    again = await connect(world.carer, world.appointment.pk, expect_welcome=False)
    assert (await again.receive_json_from(timeout=5))["code"] == refused[0]
    assert await again.receive_output(timeout=5) == {"type": "websocket.close", "code": refused[1]}
    await close_all(sockets)


async def test_withdrawing_carer_consent_mid_call_closes_the_carers_sockets_and_nothing_reaches_them_after():
    world, sockets = await call_with_carer()
    await assert_carer_cut_off(world, sockets, lambda: withdraw_consent(
        world.service_user, PurposeCode.CARER_INVOLVEMENT, carer=world.carer))


async def test_ending_the_carer_link_mid_call_closes_the_carers_sockets():
    world, sockets = await call_with_carer()
    await assert_carer_cut_off(world, sockets, lambda: account_services.carer_link_end(
        actor=Actor(world.service_user), link=world.carer_link))


async def test_removing_the_carer_from_the_session_closes_their_sockets():
    world, sockets = await call_with_carer()
    await assert_carer_cut_off(world, sockets, lambda: services.participant_remove(
        actor=Actor(world.service_user), appointment=world.appointment, user=world.carer))


async def test_closing_the_carers_account_closes_their_sockets():
    world, sockets = await call_with_carer()
    await assert_carer_cut_off(world, sockets, lambda: account_services.user_update(
        actor=SYSTEM, user=world.carer, is_active=False), refused=("not-logged-in", 4401))  # its tokens are gone too


async def test_a_lost_announcement_still_stops_the_relay():
    """The channel layer may lose `access.changed`: the account's access epoch still makes the socket
    re-check before it relays the next offer."""
    world, sockets = await call_with_carer()
    ACCESS_CHANGED.remove(on_access_changed)
    try:
        await database_sync_to_async(withdraw_consent)(world.service_user, PurposeCode.CARER_INVOLVEMENT, carer=world.carer)
    finally:
        ACCESS_CHANGED.append(on_access_changed)
    await store().client.set(access_epoch_key(world.carer.pk), "moved", ex=60)  # only the epoch; no message sent
    await sockets["host"].send_json_to({"type": "offer", "to": sockets["carer"].welcome["peer_id"], "seq": 1, "sdp": await real_offer()})
    messages, code = await until_closed(sockets["carer"])
    assert code == REVOKED and all(m["type"] != "offer" for m in messages), messages
    await close_all(sockets)


async def test_withdrawing_consent_to_video_stops_the_call_for_everyone_but_keeps_the_waiting_room():
    world, sockets = await call_with_carer()
    await database_sync_to_async(withdraw_consent)(world.service_user, PurposeCode.VIDEO)
    for name in ("host", "person", "carer"):
        messages, code = await until_closed(sockets[name])
        assert code == CONSENT_WITHDRAWN, name
        assert messages[-1]["code"] == "consent-withdrawn" and "video" in messages[-1]["detail"], messages
    # The waiting rooms stay: the clinician can still phone the person (switch to phone) from there.
    assert await sockets["person_lobby"].receive_nothing(timeout=0.5)
    again = await connect(world.service_user, world.appointment.pk, expect_welcome=False)
    assert (await again.receive_json_from(timeout=5))["code"] == "consent-withdrawn"
    assert await again.receive_output(timeout=5) == {"type": "websocket.close", "code": CONSENT_WITHDRAWN}
    await close_all(sockets)


async def test_withdrawing_consent_to_remote_care_stops_the_call():
    world, sockets = await call_with_carer()
    await database_sync_to_async(withdraw_consent)(world.service_user, PurposeCode.REMOTE_CARE)
    for name in ("host", "person", "carer"):
        messages, code = await until_closed(sockets[name])
        assert code == CONSENT_WITHDRAWN and "remote care" in messages[-1]["detail"], (name, messages)
    await close_all(sockets)


async def test_taking_the_host_off_the_team_closes_their_sockets():
    world, sockets = await call_with_carer()
    host_lobby = await lobby(world.clinician, world.appointment.pk)
    await drain(host_lobby)
    await database_sync_to_async(account_services.team_member_remove)(actor=SYSTEM, team=world.north, user=world.clinician)
    for communicator in (sockets["host"], host_lobby):
        _, code = await until_closed(communicator)
        assert code == REVOKED
    assert await sockets["carer"].receive_json_from(timeout=2) == {
        "type": "peer-left", "peer_id": sockets["host"].welcome["peer_id"], "reason": "access-revoked"}
    await host_lobby.disconnect()
    await close_all(sockets)


async def test_an_unrelated_change_leaves_everyone_connected():
    """Taking someone else off a caseload moves nobody in this call out."""
    world, sockets = await call_with_carer()
    await database_sync_to_async(account_services.caseload_remove)(actor=SYSTEM, team=world.south, service_user=world.other_service_user)
    await sockets["host"].send_json_to({"type": "offer", "to": sockets["carer"].welcome["peer_id"], "seq": 1, "sdp": await real_offer()})
    assert (await sockets["carer"].receive_json_from(timeout=5))["type"] == "offer"
    await close_all(sockets)

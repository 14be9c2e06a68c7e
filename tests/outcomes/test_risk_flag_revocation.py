"""Revocation reaches the risk-flag socket (issue 10): a person taken off the team's caseload, or the
clinician taken off the team, and the open socket stops showing that person's flags within a second
(`flags-removed`); a closed account's socket closes with 4430. Real Redis channel layer."""

import asyncio

import pytest
from channels.db import database_sync_to_async

from backend.accounts import services as account_services
from backend.audit.actor import Actor
from backend.outcomes import services
from backend.outcomes.models import RiskFlag
from backend.outcomes.selectors import instrument_by_code
from tests.factories import SYSTEM, build_world
from tests.outcomes.test_risk_flags import PHQ9_ITEM9, connect, submit
from tests.websockets import closed_with

pytestmark = pytest.mark.django_db(transaction=True)


async def flagged_world():
    world = await database_sync_to_async(build_world)()
    await database_sync_to_async(submit)(world, PHQ9_ITEM9)
    flag_id = await database_sync_to_async(lambda: RiskFlag.objects.get().pk)()
    socket = await connect(world.clinician)
    snapshot = await socket.receive_json_from(timeout=5)
    assert [f["id"] for f in snapshot["flags"]] == [flag_id]
    return world, socket, flag_id


async def test_taking_the_person_off_the_caseload_removes_their_flags_from_the_open_socket():
    world, socket, flag_id = await flagged_world()
    await database_sync_to_async(account_services.caseload_remove)(actor=SYSTEM, team=world.north, service_user=world.service_user)
    assert await socket.receive_json_from(timeout=1) == {"type": "flags-removed", "ids": [flag_id]}

    # A later answer of theirs raises nothing on this socket.
    @database_sync_to_async
    def answer_again():
        submission = services.Submission(
            instrument=instrument_by_code("phq9"), service_user=world.service_user, course=world.course,
            appointment=world.past_appointment, mode="self_online", answers=PHQ9_ITEM9, completed_at=world.past_appointment.starts_at,
        )
        services.response_submit(actor=Actor(world.service_user), submission=submission, idempotency_key="again")

    await answer_again()
    assert await socket.receive_nothing(timeout=0.5)
    await socket.disconnect()


async def test_taking_the_clinician_off_the_team_removes_the_teams_flags():
    world, socket, flag_id = await flagged_world()
    await database_sync_to_async(account_services.team_member_remove)(actor=SYSTEM, team=world.north, user=world.clinician)
    assert await socket.receive_json_from(timeout=1) == {"type": "flags-removed", "ids": [flag_id]}
    await socket.disconnect()


async def test_closing_the_clinicians_account_closes_the_socket_with_4430():
    world, socket, _ = await flagged_world()
    await database_sync_to_async(account_services.user_update)(actor=SYSTEM, user=world.clinician, is_active=False)
    error = await socket.receive_json_from(timeout=1)
    assert error["type"] == "error" and error["code"] == "access-revoked"
    assert await asyncio.wait_for(closed_with(socket), timeout=1) == 4430
    await socket.disconnect()

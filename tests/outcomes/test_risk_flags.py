"""Risk flags: raised by a risk item answered above its limit, pushed at once over the WebSocket to the
person's clinicians who are online (through the whole ASGI stack and the Redis channel layer), kept
for those who are not, acknowledged once with the action taken, and audited."""

import asyncio

import pytest
from channels.db import database_sync_to_async

from backend.accounts.models import Role
from backend.accounts.services import team_member_add
from backend.audit.actor import Actor
from backend.audit.models import AuditEvent
from backend.core.errors import Conflict, Forbidden
from backend.outcomes import selectors, services
from backend.outcomes.models import RiskFlag
from backend.outcomes.selectors import instrument_by_code
from tests.factories import SYSTEM, build_world, make_user
from tests.websockets import closed_with, open_socket

PHQ9_ITEM9 = {1: 1, 2: 1, 3: 1, 4: 1, 5: 1, 6: 1, 7: 1, 8: 1, 9: 2}


def submit(world, answers, key="k", instrument="phq9"):
    submission = services.Submission(
        instrument=instrument_by_code(instrument), service_user=world.service_user, course=world.course,
        appointment=world.past_appointment, mode="self_online", answers=answers,
        completed_at=world.past_appointment.starts_at,
    )
    return services.response_submit(actor=Actor(world.service_user), submission=submission, idempotency_key=key)[0]


@pytest.mark.django_db
def test_phq9_item9_above_zero_raises_a_flag_for_the_persons_clinicians(world):
    response = submit(world, PHQ9_ITEM9)
    flag = RiskFlag.objects.get()
    assert (flag.response, flag.service_user, flag.item.number, flag.value) == (response, world.service_user, 9, 2)
    assert list(selectors.open_risk_flags_visible_to(world.clinician)) == [flag]
    assert list(selectors.clinicians_responsible_for(world.service_user)) == [world.clinician]
    for other in (world.other_clinician, world.peer_worker, world.carer, world.admin, world.evaluator):
        assert not selectors.risk_flags_visible_to(other).exists()
    assert AuditEvent.objects.filter(object_type="outcomes.riskflag", object_id=str(flag.pk), action="create").exists()


@pytest.mark.django_db
def test_item9_at_zero_and_other_items_raise_nothing(world):
    submit(world, {**PHQ9_ITEM9, 9: 0})
    submit(world, {n: 0 for n in range(1, 8)}, key="gad", instrument="gad7")
    assert not RiskFlag.objects.exists()


@pytest.mark.django_db
def test_core10_item6_is_a_risk_item(world):
    submit(world, {1: 1, 2: 2, 3: 2, 4: 1, 5: 1, 6: 1, 7: 1, 8: 1, 9: 1, 10: 1}, instrument="core10")
    assert RiskFlag.objects.get().item.number == 6


@pytest.mark.django_db
def test_acknowledging_needs_the_action_taken_and_happens_once(world):
    submit(world, PHQ9_ITEM9)
    flag = RiskFlag.objects.get()
    with pytest.raises(Forbidden):
        services.risk_flag_acknowledge(actor=Actor(world.other_clinician), flag=flag, action_taken="Called")
    with pytest.raises(Forbidden):
        services.risk_flag_acknowledge(actor=Actor(world.peer_worker), flag=flag, action_taken="Called")
    services.risk_flag_acknowledge(actor=Actor(world.clinician), flag=flag, action_taken="Phoned; safety plan reviewed")
    with pytest.raises(Conflict, match="already acknowledged"):
        services.risk_flag_acknowledge(actor=Actor(world.clinician), flag=flag, action_taken="Again")
    assert not selectors.open_risk_flags_visible_to(world.clinician).exists()
    assert RiskFlag.objects.get(pk=flag.pk).acknowledgement.action_taken == "Phoned; safety plan reviewed"


@pytest.mark.django_db
def test_the_api_lists_and_acknowledges_flags(world, api):
    submit(world, PHQ9_ITEM9)
    flags = api(world.clinician).get("/api/v1/risk-flags/").json()["results"]
    assert [(f["item"], f["answer"]) for f in flags] == [(9, "More than half the days")]
    empty = api(world.clinician).post(f"/api/v1/risk-flags/{flags[0]['id']}/acknowledge/", {"action_taken": " "}, format="json")
    assert empty.status_code == 400 and empty.json()["errors"][0]["field"] == "action_taken"
    done = api(world.clinician).post(f"/api/v1/risk-flags/{flags[0]['id']}/acknowledge/", {"action_taken": "Called them"}, format="json")
    assert done.status_code == 200 and done.json()["acknowledged_by"] == world.clinician.full_name
    assert api(world.clinician).get("/api/v1/risk-flags/").json()["results"] == []
    assert len(api(world.clinician).get("/api/v1/risk-flags/?status=all").json()["results"]) == 1
    assert api(world.other_clinician).post(f"/api/v1/risk-flags/{flags[0]['id']}/acknowledge/", {"action_taken": "x"}, format="json").status_code == 404
    assert api(world.clinician).get("/api/v1/risk-flags/?status=closed").status_code == 400


# --- Live, over the WebSocket ------------------------------------------------------------------------

async def connect(user):
    return await open_socket("/ws/risk-flags/", user)


@pytest.mark.django_db(transaction=True)
async def test_a_flag_reaches_an_online_clinician_at_once():
    world = await database_sync_to_async(build_world)()
    second = await database_sync_to_async(make_user)(Role.CLINICIAN)
    await database_sync_to_async(team_member_add)(actor=SYSTEM, team=world.north, user=second)
    first_socket, second_socket, other_team_socket = await connect(world.clinician), await connect(second), await connect(world.other_clinician)
    for socket in (first_socket, second_socket, other_team_socket):
        assert await socket.receive_json_from(timeout=5) == {"type": "open-flags", "flags": []}

    await database_sync_to_async(submit)(world, PHQ9_ITEM9)
    for socket in (first_socket, second_socket):
        message = await socket.receive_json_from(timeout=5)
        assert message["type"] == "flag"
        assert (message["flag"]["service_user"]["id"], message["flag"]["item"], message["flag"]["value"]) == (world.service_user.pk, 9, 2)
    assert await other_team_socket.receive_nothing(timeout=0.5)

    flag = await database_sync_to_async(RiskFlag.objects.get)()
    await database_sync_to_async(services.risk_flag_acknowledge)(actor=Actor(second), flag=flag, action_taken="Rang them")
    acknowledged = await first_socket.receive_json_from(timeout=5)
    assert acknowledged["type"] == "acknowledged" and acknowledged["flag"]["acknowledged_by"] == second.full_name
    for socket in (first_socket, second_socket, other_team_socket):
        await socket.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_a_clinician_who_was_offline_gets_open_flags_on_connecting():
    world = await database_sync_to_async(build_world)()
    await database_sync_to_async(submit)(world, PHQ9_ITEM9)
    socket = await connect(world.clinician)
    snapshot = await socket.receive_json_from(timeout=5)
    assert snapshot["type"] == "open-flags" and [f["item"] for f in snapshot["flags"]] == [9]
    await socket.send_to(text_data="not json at all")
    assert (await socket.receive_json_from(timeout=5))["type"] == "error"
    await socket.disconnect()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("role,code", [("anonymous", 4401), ("peer_worker", 4403), ("service_user", 4403), ("carer", 4403),
                                       ("evaluator", 4403), ("admin", 4403)])
async def test_only_clinicians_may_listen(role, code):
    world = await database_sync_to_async(build_world)()
    socket = await connect(world.as_role(role))
    assert (await socket.receive_json_from(timeout=5))["type"] == "error"
    assert await closed_with(socket) == code
    await asyncio.sleep(0)


@pytest.mark.django_db(transaction=True)
async def test_every_flag_the_socket_sends_is_audited_and_a_refused_listener_too():
    world = await database_sync_to_async(build_world)()
    await database_sync_to_async(submit)(world, PHQ9_ITEM9)
    flag = await database_sync_to_async(RiskFlag.objects.get)()
    socket = await connect(world.clinician)
    assert [f["id"] for f in (await socket.receive_json_from(timeout=5))["flags"]] == [flag.pk]
    await database_sync_to_async(services.risk_flag_acknowledge)(actor=Actor(world.clinician), flag=flag, action_taken="Rang them")
    assert (await socket.receive_json_from(timeout=5))["type"] == "acknowledged"
    await socket.disconnect()

    def events(**filters):
        return list(AuditEvent.objects.filter(object_type="outcomes.riskflag", via="ws", **filters).values("action", "object_id", "detail"))

    listed = await database_sync_to_async(events)(actor=world.clinician, action="list")
    assert [e["detail"]["ids"] for e in listed] == [[str(flag.pk)]]
    read = await database_sync_to_async(events)(actor=world.clinician, action="read")
    assert [(e["object_id"], e["detail"]["sent_as"]) for e in read] == [(str(flag.pk), "acknowledged")]

    refused = await connect(world.peer_worker)
    assert (await refused.receive_json_from(timeout=5))["type"] == "error"
    assert await closed_with(refused) == 4403
    assert len(await database_sync_to_async(events)(actor=world.peer_worker, action="denied")) == 1

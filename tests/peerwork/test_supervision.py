"""The supervision log: the supervisor records, the supervisor and the peer worker read, nobody else."""

import pytest

from backend.audit.models import AuditEvent
from backend.peerwork.models import SupervisionEntry
from backend.accounts.models import Role
from tests.factories import make_user
from tests.peerwork.helpers import supervise

pytestmark = pytest.mark.django_db


def _body(world, **changes):
    return {"peer_worker_id": world.peer_worker.pk, "team_id": world.north.pk, "held_on": "2026-11-02",
            "topics": ["boundaries", "lived_experience"], "actions": "Book the next supervision", **changes}


def test_a_supervisor_records_and_the_peer_worker_reads_it(world, api):
    answer = api(world.clinician).post("/api/v1/peer-work/supervision/", _body(world), format="json")
    assert answer.status_code == 201, answer.content
    entry = answer.json()
    assert entry["peer_worker"]["id"] == world.peer_worker.pk and entry["supervisor"]["id"] == world.clinician.pk
    mine = api(world.peer_worker).get("/api/v1/peer-work/supervision/", {"as_role": "peer_worker"}).json()
    assert [e["id"] for e in mine["results"]] == [entry["id"]]
    assert AuditEvent.objects.filter(action="list", object_type="peerwork.supervisionentry").latest("sequence").detail["ids"] == [str(entry["id"])]
    detail = api(world.peer_worker).get(f"/api/v1/peer-work/supervision/{entry['id']}/")
    assert detail.status_code == 200 and detail.json()["actions"] == "Book the next supervision"
    assert AuditEvent.objects.filter(action="read", object_type="peerwork.supervisionentry", object_id=str(entry["id"])).exists()


def test_nobody_else_sees_an_entry(world, api):
    entry = supervise(world)
    assert api(world.other_clinician).get(f"/api/v1/peer-work/supervision/{entry.pk}/").status_code == 404
    assert api(world.other_clinician).get("/api/v1/peer-work/supervision/").json()["results"] == []
    for role_user in (world.admin, world.evaluator, world.service_user, world.carer):
        assert api(role_user).get(f"/api/v1/peer-work/supervision/{entry.pk}/").status_code == 403


def test_bad_supervision_input_saves_nothing(world, api, elsewhere):
    client = api(world.clinician)
    cases = [
        (_body(world, topics=[]), 400, "topics"),
        (_body(world, topics=["gossip"]), 400, "topics.0"),
        (_body(world, held_on="2999-01-01"), 400, "held_on"),
        (_body(world, actions="   "), 400, "actions"),
        (_body(world, peer_worker_id=world.clinician.pk), 404, "peer_worker_id"),  # not a peer worker
        (_body(world, team_id=world.south.pk), 404, "peer_worker_id"),  # not the peer worker's team
        (_body(world, peer_worker_id=make_user(Role.PEER_WORKER, organisation=elsewhere.organisation).pk), 404, "peer_worker_id"),
        ({**_body(world), "mood": "fine"}, 400, "mood"),
    ]
    for body, status, field in cases:
        answer = client.post("/api/v1/peer-work/supervision/", body, format="json")
        assert answer.status_code == status, (body, answer.content)
        assert answer.json()["errors"][0]["field"] == field
    assert not SupervisionEntry.objects.exists()


def test_a_peer_worker_cannot_record_their_own_supervision(world, api):
    answer = api(world.peer_worker).post("/api/v1/peer-work/supervision/", _body(world), format="json")
    assert answer.status_code == 404 and not SupervisionEntry.objects.exists()


def test_the_log_is_append_only(world):
    from backend.audit.append_only import AppendOnlyViolation

    entry = supervise(world)
    with pytest.raises(AppendOnlyViolation):
        SupervisionEntry.objects.filter(pk=entry.pk).update(actions="changed")

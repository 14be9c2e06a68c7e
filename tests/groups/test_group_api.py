"""A group through Rapport's HTTP API and a real Janus, end to end: the facilitator books eight people from the
caseload (one without video consent), starts the group and admits everyone; each attendee asks the API for their
media credentials and joins Janus with them as an aiortc peer; every attendee receives frames from every other;
the facilitator removes one through the API and Janus drops them; ending fills in the register."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import aioice.ice
import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from backend.accounts import services as account_services
from backend.accounts.models import Role
from backend.consent.models import PurposeCode
from backend.groups import janus as client
from tests.factories import SYSTEM, give_consent, make_user
from tests.janus_peer import JanusPeer, JanusRefused
from tests.janus_server import own_address

pytestmark = pytest.mark.django_db(transaction=True)  # API calls also run in worker threads, on their own connections


@pytest.fixture(autouse=True)
def _local_only(monkeypatch):
    address = own_address()
    monkeypatch.setattr(aioice.ice, "get_host_addresses", lambda use_ipv4=True, use_ipv6=True: [address])


def _as(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def test_a_group_of_eight_through_the_api_and_janus(world, janus):
    people = []
    for n in range(8):
        person = make_user(Role.SERVICE_USER)
        account_services.caseload_add(actor=SYSTEM, team=world.north, service_user=person)
        give_consent(person, PurposeCode.REMOTE_CARE)
        if n != 7:
            give_consent(person, PurposeCode.VIDEO)
        people.append(person)
    facilitator = _as(world.peer_worker)
    booked = facilitator.post("/api/v1/groups/", {
        "team_id": world.north.pk, "title": "Peer support group", "people": [p.pk for p in people],
        "starts_at": (timezone.now() + timedelta(minutes=2)).isoformat(), "co_facilitator_id": world.clinician.pk,
    }, format="json")
    assert booked.status_code == 201, booked.content
    group_id = booked.json()[0]["id"]
    assert _as(people[0]).post(f"/api/v1/groups/{group_id}/media/").status_code == 409  # waiting: not admitted yet
    assert facilitator.post(f"/api/v1/groups/{group_id}/start/").status_code == 200
    detail = facilitator.get(f"/api/v1/groups/{group_id}/").json()
    assert len(detail["attendees"]) == 8
    for attendee in detail["attendees"]:
        admitted = facilitator.post(f"/api/v1/groups/{group_id}/attendees/{attendee['id']}/admit/")
        assert admitted.status_code == 200, admitted.content
    media = [_as(p).post(f"/api/v1/groups/{group_id}/media/").json() for p in people]
    assert [m["video"] for m in media] == [True] * 7 + [False]
    assert all(m["server"] == janus.url and janus.token_secret not in str(m) and janus.admin_key not in str(m) for m in media)
    own_view = _as(people[0]).get(f"/api/v1/groups/{group_id}/").json()
    assert [a["person_id"] for a in own_view["attendees"]] == [people[0].pk]  # an attendee sees only their own place
    removed_attendee = next(a for a in detail["attendees"] if a["person_id"] == people[0].pk)

    async def scenario():
        peers = [JanusPeer(m["server"], m["token"], m["room"], m["feed_id"], name=f"attendee {i}", video=m["video"]) for i, m in enumerate(media)]
        try:
            no_token = JanusPeer(janus.url, "", media[0]["room"], client.new_feed_id(), name="no token")
            with pytest.raises(JanusRefused) as refused:
                await no_token.open()
            assert refused.value.code == 403
            for peer in peers:
                await peer.open()
                await peer.join()
            await asyncio.gather(*(peer.publish() for peer in peers))
            for peer in peers:
                await peer.wait_publishers(7)
            await asyncio.gather(*(peer.subscribe([p.feed_id for p in peers if p is not peer]) for peer in peers))
            expected = {peer.feed_id: {(p.feed_id, k) for p in peers if p is not peer for k in (("audio", "video") if p.video else ("audio",))} for peer in peers}
            deadline = time.monotonic() + 30
            while any(set(peer.sinks) != expected[peer.feed_id] for peer in peers) and time.monotonic() < deadline:
                await asyncio.sleep(0.2)
            for peer in peers:
                assert set(peer.sinks) == expected[peer.feed_id]
                await asyncio.gather(*(sink.more(3, timeout=20) for sink in peer.sinks.values()))

            response = await asyncio.to_thread(
                lambda: facilitator.post(f"/api/v1/groups/{group_id}/attendees/{removed_attendee['id']}/remove/", {"hold": False}, format="json"))
            assert response.status_code == 200 and response.json()["state"] == "removed"
            await asyncio.wait_for(peers[0].kicked.wait(), 10)
            with pytest.raises(JanusRefused):
                await peers[0].join()
            assert await asyncio.to_thread(lambda: _as(people[0]).post(f"/api/v1/groups/{group_id}/media/").status_code) == 409
        finally:
            for peer in peers:
                await peer.close()

    asyncio.run(scenario())
    ended = facilitator.post(f"/api/v1/groups/{group_id}/end/")
    assert ended.status_code == 200
    register = {a["person_id"]: a["attendance"] for a in ended.json()["attendees"]}
    assert register[people[0].pk] == "left_early" and all(register[p.pk] == "attended" for p in people[1:])
    assert not client.room_exists(room_id=media[0]["room"])

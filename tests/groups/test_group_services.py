"""Group sessions through Rapport's services and a real Janus: booking rules, consent per attendee (audio only
without video consent), admission minting a token Janus accepts for that room only, remove taking effect in
Janus, the register at the end, and Janus down at the start reported as "not available"."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import aioice.ice
import pytest
from django.utils import timezone

from backend.accounts import services as account_services
from backend.accounts.models import Role
from backend.audit.actor import Actor
from backend.consent.models import PurposeCode
from backend.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from backend.groups import janus as client
from backend.groups import services
from backend.groups.models import GroupAttendee, GroupSession
from backend.groups.selectors import JOIN, RUN, SEE, group_access_for
from tests.factories import SYSTEM, give_consent, make_user
from tests.janus_peer import JanusPeer, JanusRefused
from tests.janus_server import own_address

VIDEOROOM_UNAUTHORIZED = 433


@pytest.fixture(autouse=True)
def _local_only(monkeypatch):
    address = own_address()
    monkeypatch.setattr(aioice.ice, "get_host_addresses", lambda use_ipv4=True, use_ipv6=True: [address])


def _people(world, count: int, *, video: bool = True):
    people = []
    for _ in range(count):
        person = make_user(Role.SERVICE_USER)
        account_services.caseload_add(actor=SYSTEM, team=world.north, service_user=person)
        give_consent(person, PurposeCode.REMOTE_CARE)
        if video:
            give_consent(person, PurposeCode.VIDEO)
        people.append(person)
    return people


def _book(world, people, **kwargs) -> GroupSession:
    return services.group_book(
        actor=Actor(world.clinician, via="test"), team=world.north, title="Hearing Voices group", facilitator=world.clinician,
        co_facilitator=world.peer_worker, starts_at=timezone.now() + timedelta(minutes=5), people=people, **kwargs,
    )[0]


def test_booking_rules(world, settings):
    settings.GROUP_CAPACITY_DEFAULT = 3
    actor = Actor(world.clinician, via="test")
    people = _people(world, 2)
    with pytest.raises(InvalidInput) as error:
        _book(world, people + [world.other_service_user])
    assert error.value.field == "people"  # someone from another team's caseload
    with pytest.raises(InvalidInput) as error:
        services.group_book(actor=actor, team=world.north, title="x", facilitator=world.other_clinician, starts_at=timezone.now(), people=people)
    assert error.value.field == "facilitator"
    with pytest.raises(InvalidInput) as error:
        _book(world, people, capacity=4)
    assert error.value.field == "capacity"
    series = services.group_book(actor=actor, team=world.north, title="Recovery College", facilitator=world.peer_worker,
                                 starts_at=timezone.now() + timedelta(days=1), people=people, repeat_weeks=3)
    assert len({g.series for g in series}) == 1 and [g.starts_at - series[0].starts_at for g in series] == [timedelta(0), timedelta(weeks=1), timedelta(weeks=2)]
    assert all(g.attendees.count() == 2 and g.capacity == 3 for g in series)
    assert len({g.janus_room_id for g in series}) == 3


def test_one_access_rule_for_group_sessions(world):
    people = _people(world, 2)
    group = _book(world, people)
    assert group_access_for(world.clinician, group.pk, RUN).group == group
    assert group_access_for(people[0], group.pk, JOIN).attendee.person == people[0]
    with pytest.raises(Forbidden):
        group_access_for(people[0], group.pk, RUN)
    for outsider in (world.other_clinician, world.other_service_user, world.evaluator, world.carer):
        with pytest.raises(NotFound):
            group_access_for(outsider, group.pk, SEE)


def test_janus_down_at_the_start_says_so(world, settings):
    group = _book(world, _people(world, 1))
    settings.JANUS_SERVERS = []
    with pytest.raises(services.GroupsUnavailable) as error:
        services.group_start(actor=Actor(world.clinician, via="test"), group=group)
    assert "not available on this server" in error.value.detail
    from tests.live_server import free_port

    settings.JANUS_SERVERS, settings.JANUS_TOKEN_SECRET, settings.JANUS_ADMIN_KEY = [f"http://127.0.0.1:{free_port()}/janus"], "s", "k"
    with pytest.raises(services.GroupsUnavailable) as error:
        services.group_start(actor=Actor(world.clinician, via="test"), group=group)
    assert error.value.status == 409 and error.value.code == "groups_unavailable" and "phone" in error.value.detail
    group.refresh_from_db()
    assert group.status == GroupSession.Status.SCHEDULED


@pytest.mark.django_db(transaction=True)  # the remove runs in a worker thread, on its own connection
def test_eight_attendees_through_rapport_and_janus_then_remove_and_the_register(world, janus):
    facilitator = Actor(world.clinician, via="test")
    people = _people(world, 7) + _people(world, 1, video=False)
    group = services.group_start(actor=facilitator, group=_book(world, people))
    other_group = services.group_start(actor=facilitator, group=_book(world, _people(world, 1)))
    attendees = [services.attendee_admit(actor=facilitator, attendee=a) for a in group.attendees.order_by("id")]
    stranger = services.attendee_admit(actor=facilitator, attendee=other_group.attendees.get())
    assert [a.video_allowed for a in attendees] == [True] * 7 + [False]  # no video consent: audio only
    assert all(a.janus_token and a.janus_feed_id for a in attendees)

    async def scenario():
        peers = [JanusPeer(janus.url, a.janus_token, group.janus_room_id, a.janus_feed_id, name=str(a.pk), video=a.video_allowed)
                 for a in attendees]
        try:
            intruder = JanusPeer(janus.url, stranger.janus_token, group.janus_room_id, client.new_feed_id(), name="another room's token")
            await intruder.open()
            with pytest.raises(JanusRefused) as refused:
                await intruder.join()
            assert refused.value.code == VIDEOROOM_UNAUTHORIZED
            await intruder.close()

            for peer in peers:
                await peer.open()
                await peer.join()
            await asyncio.gather(*(peer.publish() for peer in peers))
            for peer in peers:
                await peer.wait_publishers(7)
            await asyncio.gather(*(peer.subscribe([p.feed_id for p in peers if p is not peer]) for peer in peers))
            expected = {peer.feed_id: {(p.feed_id, kind) for p in peers if p is not peer for kind in (("audio", "video") if p.video else ("audio",))}
                        for peer in peers}
            deadline = time.monotonic() + 30
            while any(set(peer.sinks) != expected[peer.feed_id] for peer in peers) and time.monotonic() < deadline:
                await asyncio.sleep(0.2)
            for peer in peers:
                assert set(peer.sinks) == expected[peer.feed_id]
                await asyncio.gather(*(sink.more(3, timeout=20) for sink in peer.sinks.values()))

            removed = peers[0]
            await asyncio.to_thread(services.attendee_remove, actor=facilitator, attendee=attendees[0])
            await asyncio.wait_for(removed.kicked.wait(), 10)
            await peers[1].wait_event(lambda e: e.get("plugindata", {}).get("data", {}).get("kicked") == removed.feed_id)
            participants = {p["id"] for p in await asyncio.to_thread(client.room_participants, room_id=group.janus_room_id)}
            assert removed.feed_id not in participants and len(participants) == 7
            with pytest.raises(JanusRefused) as refused:
                await removed.join()
            assert refused.value.code == VIDEOROOM_UNAUTHORIZED
        finally:
            for peer in peers:
                await peer.close()

    asyncio.run(scenario())
    with pytest.raises(Conflict):
        services.attendee_admit(actor=facilitator, attendee=attendees[0])  # removed stays removed

    services.group_end(actor=facilitator, group=group)
    assert not client.room_exists(room_id=group.janus_room_id)
    register = {a.pk: a for a in group.attendees.all()}
    assert register[attendees[0].pk].attendance == GroupAttendee.Attendance.LEFT_EARLY
    assert all(register[a.pk].attendance == GroupAttendee.Attendance.ATTENDED for a in attendees[1:])
    assert all(not a.janus_token for a in register.values())
    corrected = services.attendance_correct(actor=facilitator, attendee=register[attendees[0].pk], attendance=GroupAttendee.Attendance.ATTENDED)
    assert corrected.attendance_corrected_by == world.clinician
    services.group_end(actor=facilitator, group=other_group)
    assert other_group.attendees.get().attendance == GroupAttendee.Attendance.ATTENDED


def test_no_remote_care_consent_means_no_admission_and_not_attending_is_recorded(world, janus):
    facilitator = Actor(world.clinician, via="test")
    person = make_user(Role.SERVICE_USER)
    account_services.caseload_add(actor=SYSTEM, team=world.north, service_user=person)
    group = services.group_start(actor=facilitator, group=_book(world, [person]))
    with pytest.raises(Conflict) as error:
        services.attendee_admit(actor=facilitator, attendee=group.attendees.get())
    assert error.value.code == "remote_care_missing"
    services.group_end(actor=facilitator, group=group)
    assert group.attendees.get().attendance == GroupAttendee.Attendance.DID_NOT_ATTEND


def test_an_expired_token_is_refused_by_janus_and_rejoining_gets_a_new_one(world, janus):
    facilitator = Actor(world.clinician, via="test")
    group = services.group_start(actor=facilitator, group=_book(world, _people(world, 1)))
    attendee = services.attendee_admit(actor=facilitator, attendee=group.attendees.get())
    assert services.attendee_media(actor=facilitator, attendee=attendee).janus_token == attendee.janus_token  # still fresh: same one
    old = attendee.janus_token
    # Time passes: the token's expiry (checked by Janus itself) is behind us. A token Janus sees as expired:
    expired = client.sign_token(expires_at=int(time.time()) - 1)
    GroupAttendee.objects.filter(pk=attendee.pk).update(janus_token_expires_at=timezone.now() - timedelta(seconds=1))
    attendee.refresh_from_db()
    renewed = services.attendee_media(actor=Actor(attendee.person, via="test"), attendee=attendee)
    assert renewed.janus_token != old and renewed.janus_token_expires_at > timezone.now() + timedelta(minutes=30)

    async def scenario():
        stale = JanusPeer(janus.url, expired, group.janus_room_id, attendee.janus_feed_id, name="expired")
        with pytest.raises(JanusRefused) as refused:
            await stale.open()
        assert refused.value.code == 403  # Janus refuses an expired token at the door
        replaced = JanusPeer(janus.url, old, group.janus_room_id, attendee.janus_feed_id, name="replaced token")
        await replaced.open()
        with pytest.raises(JanusRefused) as refused:
            await replaced.join()  # the old token is off the room's list
        assert refused.value.code == VIDEOROOM_UNAUTHORIZED
        await replaced.close()
        peer = JanusPeer(janus.url, renewed.janus_token, group.janus_room_id, attendee.janus_feed_id, name="rejoined")
        await peer.open()
        await peer.join()
        await peer.close()

    asyncio.run(scenario())
    services.group_end(actor=facilitator, group=group)


def test_after_a_janus_restart_starting_again_recreates_the_room_with_the_admitted_tokens(world, janus):
    facilitator = Actor(world.clinician, via="test")
    group = services.group_start(actor=facilitator, group=_book(world, _people(world, 1)))
    attendee = services.attendee_admit(actor=facilitator, attendee=group.attendees.get())
    janus.restart()
    assert not client.room_exists(room_id=group.janus_room_id)
    services.group_start(actor=facilitator, group=group)  # what the facilitator's page does when Janus comes back

    async def scenario():
        peer = JanusPeer(janus.url, attendee.janus_token, group.janus_room_id, attendee.janus_feed_id, name="rejoined")
        await peer.open()
        await peer.join()
        await peer.close()

    asyncio.run(scenario())
    services.group_end(actor=facilitator, group=group)

"""The live group pages (backend/groups/views.py: group_room_*, group_call_*, group_facilitate_*): who may open and
do what, the safety check by team setting, the waiting room's status, CSP for Janus per page, and the media
endpoint recreating a room Janus lost. The browser side is tests/browser/test_group_call.py."""

from __future__ import annotations

import pytest
from django.test import Client

from backend.audit.actor import Actor
from backend.groups import janus as client
from backend.groups import services
from backend.groups.models import GroupAttendee, GroupSession, GroupTeamSettings
from tests.factories import book_group

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def _csp(response) -> str:
    return response.headers.get("Content-Security-Policy", "")


def test_pages_are_for_the_booked_and_the_team_only(world):
    group = book_group(world)
    room, facilitate = f"/groups/{group.pk}/room/", f"/groups/{group.pk}/facilitate/"
    assert _client(world.service_user).get(room).status_code == 200
    assert _client(world.other_service_user).get(room).status_code == 404  # not booked: may not know it exists
    assert _client(world.unlinked_carer).get(room).status_code == 404
    assert _client(world.clinician).get(room).status_code == 403  # a page for attendees
    assert _client(world.clinician).get(facilitate).status_code == 200
    assert _client(world.peer_worker).get(facilitate).status_code == 200
    assert _client(world.other_clinician).get(facilitate).status_code == 404  # another team's
    assert _client(world.service_user).get(facilitate).status_code == 403
    assert Client().get(room).status_code == 302  # to log in
    for path in ("start/", "admit-all/", "mute-all/", "end/", "message/", f"{group.attendees.get().pk}/remove/"):
        assert _client(world.other_clinician).post(f"/groups/{group.pk}/facilitate/{path}").status_code == 404, path
        assert _client(world.service_user).post(f"/groups/{group.pk}/facilitate/{path}").status_code == 403, path
    assert GroupAttendee.objects.get().state == GroupAttendee.State.BOOKED
    assert _client(world.clinician).post(f"/groups/{group.pk}/facilitate/999999/remove/").status_code == 404


def test_where_the_team_has_attendees_confirm_the_safety_check_they_must_to_wait(world):
    GroupTeamSettings.objects.create(team=world.north, safety_check="attendee")
    group = book_group(world)
    c = _client(world.service_user)
    c.post(f"/groups/{group.pk}/room/arrive/", {"private": "yes"})  # only one of the two
    attendee = GroupAttendee.objects.get()
    assert attendee.state == GroupAttendee.State.BOOKED and attendee.safety_confirmed_at is None
    c.post(f"/groups/{group.pk}/room/arrive/", {"private": "yes", "location": "yes"})
    attendee.refresh_from_db()
    assert attendee.state == GroupAttendee.State.WAITING and attendee.safety_confirmed_at is not None
    status = c.get(f"/groups/{group.pk}/room/status/").json()
    assert status["state"] == "waiting" and status["safety_confirmed"] and status["call_url"] == ""
    assert status["unavailable"] is True  # no Janus configured here: the page says so, with the team's number


def test_where_the_facilitator_ticks_it_they_must_before_letting_someone_in(world, janus):
    group = book_group(world)
    _client(world.service_user).post(f"/groups/{group.pk}/room/arrive/")
    attendee = GroupAttendee.objects.get()
    assert attendee.state == GroupAttendee.State.WAITING and attendee.safety_confirmed_at is None
    facilitator = _client(world.clinician)
    assert facilitator.post(f"/groups/{group.pk}/facilitate/start/", HTTP_ACCEPT="application/json").json()["ok"]
    refused = facilitator.post(f"/groups/{group.pk}/facilitate/{attendee.pk}/admit/", HTTP_ACCEPT="application/json")
    assert refused.status_code == 409 and refused.json()["code"] == "safety_check_required"
    admit_all = facilitator.post(f"/groups/{group.pk}/facilitate/admit-all/", HTTP_ACCEPT="application/json").json()
    assert admit_all["detail"].startswith("0 people let in.") and "safety" in admit_all["detail"]
    assert facilitator.post(f"/groups/{group.pk}/facilitate/{attendee.pk}/safety/", HTTP_ACCEPT="application/json").json()["ok"]
    assert facilitator.post(f"/groups/{group.pk}/facilitate/{attendee.pk}/admit/", HTTP_ACCEPT="application/json").json()["ok"]
    attendee.refresh_from_db()
    assert attendee.state == GroupAttendee.State.ADMITTED
    status = _client(world.service_user).get(f"/groups/{group.pk}/room/status/").json()
    assert status["call_url"] == f"/groups/{group.pk}/call/" and status["unavailable"] is False


def test_the_call_page_lets_only_its_own_janus_through_csp(world, janus):
    group = book_group(world)
    attendee = group.attendees.get()
    c = _client(world.service_user)
    assert c.get(f"/groups/{group.pk}/call/").status_code == 302  # not admitted: to the waiting room
    services.group_start(actor=Actor(world.clinician, via="test"), group=group)
    services.attendee_admit(actor=Actor(world.clinician, via="test"), attendee=attendee)
    response = c.get(f"/groups/{group.pk}/call/")
    assert response.status_code == 200
    origin = janus.url.rsplit("/janus", 1)[0]
    connect = next(part for part in _csp(response).split(";") if part.strip().startswith("connect-src"))
    assert origin in connect and "'self'" in connect
    assert origin in _csp(_client(world.clinician).get(f"/groups/{group.pk}/facilitate/"))
    assert origin not in _csp(c.get("/"))  # only the group pages
    assert "script-src 'self'" in _csp(response)
    # The call page's Janus credentials come from the media endpoint, never the page.
    attendee.refresh_from_db()
    assert attendee.janus_token and attendee.janus_token.encode() not in response.content


def test_message_hold_remove_and_leave_through_the_pages(world, janus):
    GroupTeamSettings.objects.create(team=world.north, safety_check="attendee")
    group = book_group(world)
    facilitator = _client(world.clinician)
    long = facilitator.post(f"/groups/{group.pk}/facilitate/message/", {"text": "x" * 501}, HTTP_ACCEPT="application/json")
    assert long.status_code == 400
    facilitator.post(f"/groups/{group.pk}/facilitate/message/", {"text": "  Starting   soon  "})
    group.refresh_from_db()
    assert group.waiting_message == "Starting soon"
    c = _client(world.service_user)
    assert c.get(f"/groups/{group.pk}/room/status/").json()["message"] == "Starting soon"
    c.post(f"/groups/{group.pk}/room/arrive/", {"private": "yes", "location": "yes"})
    facilitator.post(f"/groups/{group.pk}/facilitate/start/")
    attendee = group.attendees.get()
    facilitator.post(f"/groups/{group.pk}/facilitate/admit-all/")
    attendee.refresh_from_db()
    assert attendee.state == GroupAttendee.State.ADMITTED
    facilitator.post(f"/groups/{group.pk}/facilitate/{attendee.pk}/hold/")
    attendee.refresh_from_db()
    assert attendee.state == GroupAttendee.State.HELD and attendee.janus_token == ""
    assert c.get(f"/groups/{group.pk}/call/").status_code == 302
    facilitator.post(f"/groups/{group.pk}/facilitate/{attendee.pk}/admit/")
    c.post(f"/groups/{group.pk}/room/leave/")
    attendee.refresh_from_db()
    assert attendee.state == GroupAttendee.State.LEFT and attendee.last_left_at is not None
    c.post(f"/groups/{group.pk}/room/arrive/")  # back again (the check was confirmed already)
    attendee.refresh_from_db()
    assert attendee.state == GroupAttendee.State.WAITING
    facilitator.post(f"/groups/{group.pk}/facilitate/{attendee.pk}/remove/")
    c.post(f"/groups/{group.pk}/room/arrive/", {"private": "yes", "location": "yes"})
    attendee.refresh_from_db()
    assert attendee.state == GroupAttendee.State.REMOVED  # removed people cannot put themselves back
    facilitator.post(f"/groups/{group.pk}/facilitate/mute-all/", {"mute": "yes"})
    group.refresh_from_db()
    assert group.muted_all
    facilitator.post(f"/groups/{group.pk}/facilitate/end/")
    group.refresh_from_db()
    assert group.status == GroupSession.Status.ENDED
    assert c.get(f"/groups/{group.pk}/room/status/").json()["unavailable"] is False  # over, not "down"


def test_starting_with_janus_down_says_so_and_changes_nothing(world, settings):
    settings.JANUS_SERVERS = ["http://127.0.0.1:9/janus"]
    settings.JANUS_TOKEN_SECRET, settings.JANUS_ADMIN_KEY = "s", "k"
    group = book_group(world)
    response = _client(world.clinician).post(f"/groups/{group.pk}/facilitate/start/", HTTP_ACCEPT="application/json")
    assert response.status_code == 409 and response.json()["code"] == "groups_unavailable"
    page = _client(world.clinician).get(f"/groups/{group.pk}/facilitate/")
    assert b"Group video is not working at the moment" in page.content
    group.refresh_from_db()
    assert group.status == GroupSession.Status.SCHEDULED


@pytest.mark.django_db(transaction=True)
def test_media_after_a_janus_restart_recreates_the_room(world, janus):
    group = book_group(world)
    attendee = group.attendees.get()
    actor = Actor(world.clinician, via="test")
    group = services.group_start(actor=actor, group=group)
    services.attendee_admit(actor=actor, attendee=attendee)
    janus.restart()
    assert not client.room_exists(room_id=group.janus_room_id)
    services.attendee_media(actor=Actor(world.service_user, via="test"), attendee=GroupAttendee.objects.get(pk=attendee.pk))
    assert client.room_exists(room_id=group.janus_room_id)
    # The facilitator's way in: a fresh token and a feed id derived for them, the same each time.
    first = services.facilitator_media(actor=actor, group=group)
    second = services.facilitator_media(actor=actor, group=group)
    assert first["feed_id"] == second["feed_id"] and first["token"] != second["token"]
    assert first["feed_id"] != services.facilitator_media(actor=Actor(world.peer_worker, via="test"), group=group)["feed_id"]


def test_facilitator_media_needs_a_started_group(world):
    group = book_group(world)
    from backend.core.errors import Conflict

    with pytest.raises(Conflict):
        services.facilitator_media(actor=Actor(world.clinician, via="test"), group=group)


def test_the_home_page_shows_the_groups_a_person_is_booked_into(world):
    group = book_group(world)
    home = _client(world.service_user).get("/")
    assert b"Your groups" in home.content and f'href="/groups/{group.pk}/room/"'.encode() in home.content
    assert b"Your groups" not in _client(world.other_service_user).get("/").content
    services.attendee_remove(actor=Actor(world.clinician, via="test"), attendee=group.attendees.get())
    assert b"Your groups" not in _client(world.service_user).get("/").content  # removed: not offered

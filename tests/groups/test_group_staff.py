"""The staff's side of groups without Janus: booking through the page (and as a series), adding and taking people
off with capacity enforced, cancelling a meeting or the rest of a series, the register with corrections and their
history, the carers' group consent rule (booking and admission), the team's safety-check setting, and who may open
each page (another team's staff get 404; service users, carers, evaluators and admins get 403)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from backend.accounts import services as account_services
from backend.accounts.models import Role
from backend.audit.actor import Actor
from backend.audit.models import AuditEvent
from backend.consent.models import PurposeCode
from backend.core.errors import Conflict, InvalidInput
from backend.groups import services
from backend.groups.models import GroupAttendee, GroupSession, GroupTeamSettings
from backend.groups.selectors import group_safety_check_mode, media_allowed
from tests.factories import SYSTEM, book_group, give_consent, link_carer, make_user, withdraw_consent

pytestmark = pytest.mark.django_db


def text(response) -> str:
    return response.content.decode()


def _person(world, *, video=True):
    person = make_user(Role.SERVICE_USER)
    account_services.caseload_add(actor=SYSTEM, team=world.north, service_user=person)
    give_consent(person, PurposeCode.REMOTE_CARE)
    if video:
        give_consent(person, PurposeCode.VIDEO)
    return person


def _series(world, people, *, weeks=3, **kwargs) -> list[GroupSession]:
    return services.group_book(actor=Actor(world.clinician, via="test"), team=world.north, title="Hearing Voices", facilitator=world.clinician,
                               starts_at=timezone.now() + timedelta(days=1), people=people, repeat_weeks=weeks, **kwargs)


def _book_form(world, **changes):
    day = timezone.localdate() + timedelta(days=7)
    return {"title": "Managing anxiety", "team": world.north.pk, "facilitator": world.clinician.pk, "co_facilitator": world.peer_worker.pk,
            "date": day.isoformat(), "time": "14:00", "duration_minutes": 90, "repeat_weeks": 4, "capacity": 8,
            "people": [world.service_user.pk], **changes}


# --- Services ---------------------------------------------------------------------------------------
def test_adding_people_respects_capacity_and_the_series(world):
    actor = Actor(world.clinician, via="test")
    first, second, third = _series(world, [world.service_user], capacity=2)
    extra, more = _person(world), _person(world)
    with pytest.raises(InvalidInput) as full:
        services.group_people_add(actor=actor, group=first, people=[extra, more])
    assert full.value.code == "group_full" and "1 place left" in full.value.detail
    assert first.attendees.count() == 1  # nothing half-added
    services.group_people_add(actor=actor, group=second, people=[extra], whole_series=True)
    assert [g.attendees.count() for g in (first, second, third)] == [1, 2, 2]
    with pytest.raises(InvalidInput):  # someone from another team's caseload
        services.group_people_add(actor=actor, group=first, people=[world.other_service_user])
    with pytest.raises(InvalidInput):  # a carer into a group for service users
        services.group_people_add(actor=actor, group=first, people=[world.carer])
    assert AuditEvent.objects.filter(action="group.people_added").count() == 2


def test_taking_someone_off_and_cancelling(world):
    actor = Actor(world.clinician, via="test")
    extra = _person(world)
    first, second, third = _series(world, [world.service_user, extra])
    assert services.group_person_unbook(actor=actor, attendee=second.attendees.get(person=extra), whole_series=True) == 2
    assert [g.attendees.filter(person=extra).exists() for g in (first, second, third)] == [True, False, False]
    with pytest.raises(InvalidInput):
        services.group_cancel(actor=actor, group=second, reason="  ")
    services.group_cancel(actor=actor, group=second, reason="Facilitator on leave.", whole_series=True)
    statuses = [GroupSession.objects.get(pk=g.pk).status for g in (first, second, third)]
    assert statuses == ["scheduled", "cancelled", "cancelled"]
    assert GroupSession.objects.get(pk=third.pk).cancelled_reason == "Facilitator on leave."
    with pytest.raises(Conflict):
        services.group_cancel(actor=actor, group=GroupSession.objects.get(pk=second.pk), reason="again")
    with pytest.raises(Conflict):  # a cancelled meeting takes nobody new
        services.group_people_add(actor=actor, group=GroupSession.objects.get(pk=third.pk), people=[extra])


def test_register_corrections_keep_the_reason_and_their_history(world):
    group = book_group(world)
    attendee = group.attendees.get()
    actor = Actor(world.clinician, via="test")
    cancelled = book_group(world)
    services.group_cancel(actor=actor, group=cancelled, reason="No room")
    with pytest.raises(Conflict):
        services.attendance_correct(actor=actor, attendee=cancelled.attendees.get(), attendance="attended")
    services.attendance_correct(actor=actor, attendee=attendee, attendance="attended", attended_seconds=3600, reason="Came by phone")
    services.attendance_correct(actor=Actor(world.peer_worker, via="test"), attendee=attendee, attendance="dna", reason="Wrong person ticked")
    attendee.refresh_from_db()
    assert (attendee.attendance, attendee.attended_seconds, attendee.attendance_reason, attendee.attendance_corrected_by) == (
        "dna", 0, "Wrong person ticked", world.peer_worker)
    assert [h.attendance for h in attendee.history.order_by("pgh_id")] == ["", "attended", "dna"]


def test_carers_group_needs_the_cared_for_persons_consent_to_involve_the_carer(world):
    actor = Actor(world.clinician, via="test")
    with pytest.raises(InvalidInput) as refused:  # a carer nobody on the caseload involves
        _series(world, [world.unlinked_carer], weeks=1, for_carers=True)
    assert refused.value.code == "carer_involvement_missing" and world.unlinked_carer.display_name in refused.value.detail
    (group,) = _series(world, [world.carer], weeks=1, for_carers=True)
    attendee = group.attendees.get()
    assert media_allowed(attendee) == (True, True)
    withdraw_consent(world.service_user, PurposeCode.CARER_INVOLVEMENT, carer=world.carer)
    assert media_allowed(attendee) == (False, True)
    with pytest.raises(Conflict) as at_the_door:  # checked again at admission, before anything in Janus
        services.attendee_admit(actor=actor, attendee=attendee)
    assert at_the_door.value.code == "carer_involvement_missing"
    with pytest.raises(InvalidInput):  # and no longer bookable into another meeting
        _series(world, [world.carer], weeks=1, for_carers=True)
    # A carer of someone on another team's caseload is not this team's to book, even with consent.
    other_carer = make_user(Role.CARER)
    link_carer(world.other_service_user, other_carer)
    with pytest.raises(InvalidInput):
        _series(world, [other_carer], weeks=1, for_carers=True)


def test_the_teams_safety_check_setting(world):
    assert group_safety_check_mode(world.north) == "facilitator"
    services.group_settings_update(actor=Actor(world.admin, via="test"), team=world.north, safety_check="attendee")
    assert group_safety_check_mode(world.north) == "attendee" and group_safety_check_mode(world.south) == "facilitator"
    with pytest.raises(InvalidInput):
        services.group_settings_update(actor=SYSTEM, team=world.north, safety_check="nobody")
    assert AuditEvent.objects.filter(action="group.settings_updated").count() == 1


# --- Pages --------------------------------------------------------------------------------------------
def test_booking_a_series_through_the_page(world, client):
    client.force_login(world.clinician)
    page = client.get("/groups/book/")
    assert page.status_code == 200 and world.service_user.full_name in text(page)
    assert world.other_service_user.full_name not in text(page)  # another team's caseload is not offered
    response = client.post("/groups/book/", _book_form(world), follow=True)
    assert response.status_code == 200 and "Booked 4 weekly meetings of Managing anxiety" in text(response)
    meetings = GroupSession.objects.filter(title="Managing anxiety").order_by("starts_at")
    assert meetings.count() == 4 and len({m.series for m in meetings}) == 1
    assert all(m.co_facilitator == world.peer_worker and m.capacity == 8 for m in meetings)
    assert "meeting 1 of 4" in text(response)
    listing = client.get("/groups/")
    assert listing.status_code == 200 and "Managing anxiety" in text(listing) and "1 of 8 places" in text(listing)


def test_booking_mistakes_are_shown_on_the_page_and_nothing_is_booked(world, client, settings):
    settings.GROUP_CAPACITY_DEFAULT = 3
    client.force_login(world.clinician)
    for changes, words in (
        ({"title": ""}, "Enter the name of the group."),
        ({"capacity": 4}, "A group holds at most 3 people."),
        ({"team": world.south.pk}, "Choose one of your teams."),
        ({"people": [world.other_service_user.pk]}, "Choose people from the list."),
        ({"co_facilitator": world.clinician.pk}, "Choose someone other than the facilitator"),
        ({"date": "2020-01-01"}, "Choose a date and time in the future."),
        ({"date": "not a date"}, "Enter a real date"),
        ({"capacity": 2, "people": [world.service_user.pk, _person(world).pk, _person(world).pk]}, "3 people booked, but the group holds 2."),
    ):
        response = client.post("/groups/book/", _book_form(world, **changes))
        assert response.status_code == 400 and words in text(response), (changes, text(response)[:200])
    assert not GroupSession.objects.exists()


def test_booking_a_carers_group_through_the_page_offers_only_involved_carers(world, client):
    client.force_login(world.peer_worker)
    page = client.get("/groups/book/?for=carers")
    assert world.carer.full_name in text(page) and world.unlinked_carer.full_name not in text(page)
    response = client.post("/groups/book/", _book_form(world, for_whom="carers", people=[world.unlinked_carer.pk], repeat_weeks=1))
    assert response.status_code == 400 and not GroupSession.objects.exists()
    response = client.post("/groups/book/", _book_form(world, for_whom="carers", people=[world.carer.pk], repeat_weeks=1), follow=True)
    group = GroupSession.objects.get()
    assert group.for_carers and list(group.attendees.values_list("person", flat=True)) == [world.carer.pk]
    assert "A carers' group" in text(response)


def test_the_meeting_page_adds_takes_off_and_cancels(world, client, settings):
    first, second = _series(world, [world.service_user], weeks=2, capacity=2)
    extra, more = _person(world), _person(world)
    client.force_login(world.peer_worker)
    page = client.get(f"/groups/{first.pk}/")
    assert page.status_code == 200 and extra.full_name in text(page) and "1 booked of 2" in text(page)
    response = client.post(f"/groups/{first.pk}/people/", {"people": [extra.pk, more.pk]})
    assert response.status_code == 400 and "1 place left" in text(response)
    response = client.post(f"/groups/{first.pk}/people/", {"people": [extra.pk], "whole_series": "on"}, follow=True)
    assert f"Added {extra.full_name} to 2 meetings" in text(response)
    place = first.attendees.get(person=extra)
    response = client.post(f"/groups/{first.pk}/people/{place.pk}/unbook/", {}, follow=True)
    assert "no longer booked into this meeting" in text(response) and second.attendees.filter(person=extra).exists()
    response = client.post(f"/groups/{first.pk}/cancel/", {"cancel-reason": ""})
    assert response.status_code == 400 and "Say why the meeting is cancelled." in text(response)
    response = client.post(f"/groups/{first.pk}/cancel/", {"cancel-reason": "Room flooded", "cancel-whole_series": "on"}, follow=True)
    assert "Cancelled 2 meetings" in text(response) and "Room flooded" in text(response)
    assert set(GroupSession.objects.values_list("status", flat=True)) == {"cancelled"}


def test_the_register_page_corrects_with_a_reason_and_shows_the_history(world, client):
    group = book_group(world)
    GroupSession.objects.filter(pk=group.pk).update(starts_at=timezone.now() - timedelta(hours=2))  # it was due two hours ago
    attendee = group.attendees.get()
    client.force_login(world.clinician)
    page = client.get(f"/groups/{group.pk}/")
    assert "Register for this meeting" in text(page) and "Did not join online" in text(page)
    response = client.post(f"/groups/{group.pk}/register/{attendee.pk}/", {f"a{attendee.pk}-attendance": "left_early", f"a{attendee.pk}-minutes": "30"})
    assert response.status_code == 400 and "Say why the register is being corrected." in text(response)
    response = client.post(f"/groups/{group.pk}/register/{attendee.pk}/", {
        f"a{attendee.pk}-attendance": "left_early", f"a{attendee.pk}-minutes": "30", f"a{attendee.pk}-reason": "Joined by phone, left at half time"},
        follow=True)
    assert "The register now says" in text(response) and "Joined by phone, left at half time" in text(response)
    attendee.refresh_from_db()
    assert (attendee.attendance, attendee.attended_seconds) == ("left_early", 1800)
    assert "Changes to the register" in text(response) and f"recorded {world.service_user.full_name} as left early" in text(response)


@pytest.mark.parametrize("role", ["service_user", "carer", "evaluator", "admin"])
def test_other_roles_get_the_not_for_you_page(world, client, role):
    group = book_group(world)
    attendee = group.attendees.get()
    client.force_login(world.as_role(role))
    for method, url, data in (("get", "/groups/", None), ("get", "/groups/book/", None), ("post", "/groups/book/", _book_form(world)),
                              ("get", f"/groups/{group.pk}/", None), ("post", f"/groups/{group.pk}/cancel/", {"cancel-reason": "x"}),
                              ("post", f"/groups/{group.pk}/people/", {"people": [world.service_user.pk]}),
                              ("post", f"/groups/{group.pk}/people/{attendee.pk}/unbook/", {}),
                              ("post", f"/groups/{group.pk}/register/{attendee.pk}/", {f"a{attendee.pk}-attendance": "dna", f"a{attendee.pk}-reason": "x"})):
        response = getattr(client, method)(url, data)
        assert response.status_code == 403, (role, url)
    group.refresh_from_db()
    assert group.status == "scheduled" and group.attendees.count() == 1 and attendee.attendance == ""


def test_another_teams_staff_get_404_and_see_none_of_it(world, client):
    group = book_group(world)
    attendee = group.attendees.get()
    client.force_login(world.other_clinician)
    assert group.title not in text(client.get("/groups/"))
    for method, url, data in (("get", f"/groups/{group.pk}/", None), ("post", f"/groups/{group.pk}/cancel/", {"cancel-reason": "x"}),
                              ("post", f"/groups/{group.pk}/people/", {"people": [world.other_service_user.pk]}),
                              ("post", f"/groups/{group.pk}/people/{attendee.pk}/unbook/", {}),
                              ("post", f"/groups/{group.pk}/register/{attendee.pk}/", {f"a{attendee.pk}-attendance": "dna", f"a{attendee.pk}-reason": "x"}),
                              ("get", "/groups/999999/", None)):
        assert getattr(client, method)(url, data).status_code == 404, url
    # Their own team's caseload cannot be booked into North's group through the form either.
    client.force_login(world.clinician)
    response = client.post(f"/groups/{group.pk}/people/", {"people": [world.other_service_user.pk]})
    assert response.status_code == 400 and group.attendees.count() == 1
    other = book_group(world)
    assert client.post(f"/groups/{group.pk}/people/{other.attendees.get().pk}/unbook/", {}).status_code == 404


def test_anonymous_visitors_are_sent_to_log_in(world, client):
    response = client.get("/groups/")
    assert response.status_code == 302 and "/login" in response["Location"]


def test_admin_sets_the_safety_check_on_the_team_page(world, client, elsewhere):
    client.force_login(world.admin)
    page = client.get(f"/administration/teams/{world.north.pk}/")
    assert "Group sessions: the safety and privacy check" in text(page)
    response = client.post(f"/administration/teams/{world.north.pk}/groups/", {"safety_check": "sideways"})
    assert response.status_code == 400 and not GroupTeamSettings.objects.exists()
    response = client.post(f"/administration/teams/{world.north.pk}/groups/", {"safety_check": "attendee"}, follow=True)
    assert "group setting is saved" in text(response) and group_safety_check_mode(world.north) == "attendee"
    assert client.post(f"/administration/teams/{elsewhere.team.pk}/groups/", {"safety_check": "attendee"}).status_code == 404
    client.force_login(world.clinician)
    assert client.post(f"/administration/teams/{world.north.pk}/groups/", {"safety_check": "facilitator"}).status_code == 403
    assert group_safety_check_mode(world.north) == "attendee"


# --- API for the new services --------------------------------------------------------------------------
def test_api_add_unbook_cancel_and_correct_with_reason(world, api):
    group = book_group(world)
    extra = _person(world)
    client = api(world.clinician)
    response = client.post(f"/api/v1/groups/{group.pk}/people/", {"people": [extra.pk]}, format="json")
    assert response.status_code == 200 and group.attendees.count() == 2
    assert client.post(f"/api/v1/groups/{group.pk}/people/", {"people": [world.other_service_user.pk]}, format="json").status_code == 400
    place = group.attendees.get(person=extra)
    assert client.post(f"/api/v1/groups/{group.pk}/attendees/{place.pk}/unbook/", {}, format="json").status_code == 204
    attendee = group.attendees.get()
    response = client.patch(f"/api/v1/groups/{group.pk}/attendees/{attendee.pk}/attendance/", {"attendance": "dna", "reason": "Phoned to say ill"},
                            format="json")
    assert response.status_code == 200 and response.json()["attendance_reason"] == "Phoned to say ill"
    assert client.post(f"/api/v1/groups/{group.pk}/cancel/", {}, format="json").status_code == 400
    response = client.post(f"/api/v1/groups/{group.pk}/cancel/", {"reason": "Too few booked"}, format="json")
    assert response.status_code == 200 and response.json()[0]["status"] == "cancelled"
    assert api(world.other_clinician).post(f"/api/v1/groups/{group.pk}/cancel/", {"reason": "x"}, format="json").status_code == 404
    assert api(world.service_user).post(f"/api/v1/groups/{group.pk}/cancel/", {"reason": "x"}, format="json").status_code == 403

"""Issue 13: the team waiting area, colleagues covering a session, guests and carers added by the
clinician, phone numbers, and the denials around them (other team, bad input, one-session links)."""

import pytest

from backend.accounts.models import Role, User
from backend.audit.actor import Actor
from backend.consent.models import PurposeCode
from backend.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from backend.sessions import selectors, services
from backend.sessions.models import Appointment, Participant
from tests.factories import book, let_time_pass, withdraw_consent

pytestmark = pytest.mark.django_db


def today(world, **kwargs) -> Appointment:
    """An appointment of the North team whose time is now (it started a few minutes ago)."""
    return let_time_pass(book(world.clinician, world.service_user, world.north, in_hours=2, **kwargs), hours_ago=0.05)


def checked(world, appointment):
    services.safety_check_record(actor=Actor(world.clinician), appointment=appointment, current_location="At home, 1 High Street",
                                 is_private=True, emergency_contact_confirmed=True, identity_confirmed=True)


def waiting(world) -> Appointment:
    appointment = today(world)
    checked(world, appointment)
    services.waiting_room_enter(actor=Actor(world.service_user), appointment=appointment)
    return appointment


# --- The team waiting area --------------------------------------------------------------------------
def test_every_practitioner_of_the_team_sees_who_is_waiting_and_another_team_does_not(world, api):
    appointment = waiting(world)
    for user in (world.clinician, world.peer_worker):
        entries = list(selectors.team_waiting_area_for(user))
        assert [(e.appointment_id, e.user_id, e.state) for e in entries] == [(appointment.pk, world.service_user.pk, "waiting")]
        body = api(user).get("/api/v1/waiting-area/").json()
        assert [(r["appointment_id"], r["user"]["id"], r["booked_with"]["id"]) for r in body["results"]] == [
            (appointment.pk, world.service_user.pk, world.clinician.pk)]
    assert list(selectors.team_waiting_area_for(world.other_clinician)) == []
    assert api(world.other_clinician).get("/api/v1/waiting-area/").json()["results"] == []
    for role in ("service_user", "carer", "evaluator", "admin"):
        assert api(world.as_role(role)).get("/api/v1/waiting-area/").status_code == 403


def test_tomorrows_and_finished_sessions_are_not_in_the_waiting_area(world):
    later = book(world.clinician, world.service_user, world.north, in_hours=30)
    checked(world, later)
    services.waiting_room_enter(actor=Actor(world.service_user), appointment=later)
    assert list(selectors.team_waiting_area_for(world.clinician)) == []


def test_a_colleague_admits_from_the_waiting_area_and_is_recorded_as_running_the_session(world, client):
    appointment = waiting(world)
    client.force_login(world.peer_worker)
    page = client.get("/waiting-area/").content.decode()
    assert world.service_user.display_name in page and f'href="/sessions/{appointment.pk}/"' in page
    response = client.post(f"/waiting-area/{appointment.pk}/admit/{world.service_user.pk}/")
    assert response.status_code == 302 and response.url == f"/sessions/{appointment.pk}/"
    appointment.refresh_from_db()
    assert appointment.status == "in_progress" and appointment.run_by == world.peer_worker
    assert appointment.practitioner == world.clinician  # still booked with the clinician
    assert Participant.objects.get(appointment=appointment, user=world.service_user).state == "admitted"
    assert Participant.objects.get(appointment=appointment, user=world.peer_worker).role == "host"
    assert client.get(f"/sessions/{appointment.pk}/").status_code == 200  # the page offered it: no 404


def test_hold_and_message_from_the_waiting_area(world, client):
    appointment = waiting(world)
    client.force_login(world.clinician)
    client.post(f"/waiting-area/{appointment.pk}/hold/{world.service_user.pk}/")
    assert Participant.objects.get(appointment=appointment, user=world.service_user).state == "on_hold"
    client.post(f"/waiting-area/{appointment.pk}/message/", {"text": "Five more minutes, sorry."})
    assert appointment.events.filter(kind="message_sent", data__text="Five more minutes, sorry.").exists()
    response = client.post(f"/waiting-area/{appointment.pk}/message/", {"text": "   "}, follow=True)
    assert "Write a short message" in response.content.decode()


def test_another_teams_clinician_cannot_admit_hold_or_message(world, client, api):
    appointment = waiting(world)
    assert api(world.other_clinician).post(f"/api/v1/appointments/{appointment.pk}/admit/", {}, format="json").status_code == 404
    assert api(world.other_clinician).post(f"/api/v1/appointments/{appointment.pk}/messages/", {"text": "Hi"}, format="json").status_code == 404
    client.force_login(world.other_clinician)
    for url in (f"/waiting-area/{appointment.pk}/admit/{world.service_user.pk}/", f"/waiting-area/{appointment.pk}/hold/{world.service_user.pk}/"):
        response = client.post(url, follow=True)
        assert "not one of your team" in response.content.decode()
    assert Participant.objects.get(appointment=appointment, user=world.service_user).state == "waiting"
    appointment.refresh_from_db()
    assert appointment.status == "waiting" and appointment.run_by is None and not appointment.events.filter(kind="message_sent").exists()


def test_a_peer_worker_runs_their_own_session_from_the_person_page(world, client):
    appointment = book(world.peer_worker, world.service_user, world.north)
    client.force_login(world.peer_worker)
    page = client.get(f"/people/{world.service_user.pk}/").content.decode()
    for other in Appointment.objects.filter(service_user=world.service_user, status="scheduled"):
        assert f'href="/sessions/{other.pk}/"' in page
        assert client.get(f"/sessions/{other.pk}/").status_code == 200  # every link the page offered opens
    assert client.get(f"/sessions/{appointment.pk}/").status_code == 200


# --- Guests -------------------------------------------------------------------------------------------
def test_the_clinician_adds_an_interpreter_who_waits_and_is_admitted(world, api, client):
    appointment = today(world)
    response = api(world.clinician).post(f"/api/v1/appointments/{appointment.pk}/guests/",
                                         {"name": "Ana Silva", "guest_role": "interpreter", "language": "Portuguese"}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["participant"]["guest_role"], body["participant"]["guest_language"], body["participant"]["state"]) == ("interpreter", "Portuguese", "invited")
    guest = User.objects.get(pk=body["participant"]["user"]["id"])
    assert guest.role == Role.GUEST and not guest.has_usable_password()
    assert client.get(body["url"].replace("http://testserver", "")).status_code == 302
    assert api().post(f"/api/v1/appointments/{appointment.pk}/waiting-room/", format="json").status_code in (401, 403)  # no grant
    assert client.post(f"/api/v1/appointments/{appointment.pk}/waiting-room/").status_code == 200  # the link's grant
    assert [(e.user_id, e.role) for e in selectors.team_waiting_area_for(world.peer_worker)] == [(guest.pk, "guest")]
    checked(world, appointment)
    services.participants_admit(actor=Actor(world.clinician), appointment=appointment, user_ids=[guest.pk])
    assert selectors.call_participant_for(guest, appointment.pk).role == "guest"


@pytest.mark.parametrize("body, field", [
    ({"name": "Ana Silva"}, "guest_role"),
    ({"name": "Ana Silva", "guest_role": ""}, "guest_role"),
    ({"name": "Ana Silva", "guest_role": "interpreter"}, "language"),
    ({"name": "Ana Silva", "guest_role": "interpreter", "language": "  "}, "language"),
    ({"name": "", "guest_role": "advocate"}, "name"),
    ({"name": "Ana Silva", "guest_role": "chaperone"}, "guest_role"),
])
def test_a_guest_without_a_role_or_an_interpreter_without_a_language_is_refused_and_nothing_saved(world, api, body, field):
    appointment = today(world)
    users_before = User.objects.count()
    response = api(world.clinician).post(f"/api/v1/appointments/{appointment.pk}/guests/", body, format="json")
    assert response.status_code == 400
    assert field in [error["field"] for error in response.json()["errors"]]
    assert User.objects.count() == users_before and not appointment.participants.exists()


def test_a_guest_link_works_for_one_session_only(world, client):
    appointment, other = today(world), book(world.clinician, world.service_user, world.north, in_hours=5)
    guest = services.guest_add(actor=Actor(world.clinician), appointment=appointment, name="Sam Lee", guest_role="advocate").user
    assert selectors.session_access_for(guest, appointment.pk, selectors.JOIN).role == "guest"
    with pytest.raises(NotFound):
        selectors.session_access_for(guest, other.pk, selectors.SEE)
    with pytest.raises(InvalidInput):  # no link to another session for them
        services.join_link_issue(actor=Actor(world.clinician), appointment=other, user=guest)
    token, _ = services.join_link_issue(actor=Actor(world.clinician), appointment=appointment, user=guest)
    client.get(f"/join/{token}/")
    assert client.get(f"/sessions/{appointment.pk}/").status_code == 200
    assert client.get(f"/sessions/{other.pk}/").status_code == 302  # not theirs: asked to log in, which a guest cannot
    assert client.post(f"/api/v1/appointments/{other.pk}/waiting-room/").status_code in (401, 403)
    services.participant_remove(actor=Actor(world.clinician), appointment=appointment, user=guest)
    with pytest.raises(NotFound):
        selectors.session_access_for(guest, appointment.pk, selectors.JOIN)


def test_guests_cannot_be_made_as_accounts_by_an_admin(world, api):
    response = api(world.admin).post("/api/v1/users/", {"email": "g@example.test", "full_name": "G", "role": "guest",
                                                          "password": "Long-enough-pass-42"}, format="json")
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "role"


# --- Carers invited by the clinician --------------------------------------------------------------------
def test_the_clinician_invites_the_linked_carer_only_with_the_persons_consent(world, api):
    appointment = today(world)
    withdraw_consent(world.service_user, PurposeCode.CARER_INVOLVEMENT, carer=world.carer)
    response = api(world.clinician).post(f"/api/v1/appointments/{appointment.pk}/invite/", {"carer_id": world.carer.pk}, format="json")
    assert response.status_code == 409 and response.json()["errors"][0]["field"] == "consent.carer_involvement"
    assert not appointment.participants.exists()
    with pytest.raises(Conflict):
        services.carer_invite(actor=Actor(world.clinician), appointment=appointment, carer=world.unlinked_carer)


def test_the_carer_sees_the_sessions_they_are_invited_to_and_steps_back(world, client):
    appointment = today(world)
    services.carer_invite(actor=Actor(world.clinician), appointment=appointment, carer=world.carer)
    client.force_login(world.carer)
    page = client.get("/").content.decode()
    assert f'href="/sessions/{appointment.pk}/"' in page and world.service_user.display_name in page
    assert client.get(f"/sessions/{appointment.pk}/").status_code == 200
    client.post(f"/sessions/{appointment.pk}/step-back/")
    assert Participant.objects.get(appointment=appointment, user=world.carer).state == "removed"
    assert f'href="/sessions/{appointment.pk}/"' not in client.get("/").content.decode()


# --- Phone sessions and phone numbers ---------------------------------------------------------------------
def test_a_phone_session_runs_with_the_person_offline(world, api):
    appointment = today(world)
    checked(world, appointment)
    client = api(world.clinician)
    assert client.post(f"/api/v1/appointments/{appointment.pk}/start/", {"modality": "phone"}, format="json").status_code == 200
    bad = client.post(f"/api/v1/appointments/{appointment.pk}/phone-calls/", {"number": "call me maybe"}, format="json")
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "number"
    assert not appointment.phone_calls.exists()
    call = client.post(f"/api/v1/appointments/{appointment.pk}/phone-calls/", {"number": "07400 123456"}, format="json").json()
    assert (call["caller"]["id"], call["callee"]["id"], call["number"]) == (world.clinician.pk, world.service_user.pk, "+447400123456")
    assert client.post(f"/api/v1/appointments/{appointment.pk}/phone-calls/end/", format="json").json()["ended_at"]
    assert client.post(f"/api/v1/appointments/{appointment.pk}/end/", format="json").json()["status"] == "ended"
    assert not Participant.objects.filter(appointment=appointment, user=world.service_user).exists()  # never online


@pytest.mark.parametrize("who", ["service_user", "clinician"])
def test_the_person_and_their_clinician_record_the_phone_number(world, api, who):
    url = f"/api/v1/service-users/{world.service_user.pk}/phone-number/"
    client = api(getattr(world, who))
    response = client.put(url, {"phone_number": "0113 496 0000"}, format="json")
    assert response.status_code == 200 and response.json()["phone_number"] == "+441134960000"
    bad = client.put(url, {"phone_number": "not a number"}, format="json")
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "phone_number"
    world.service_user.refresh_from_db()
    assert world.service_user.phone_number == "+441134960000"


def test_another_teams_clinician_and_a_peer_worker_cannot_change_the_phone_number(world, api):
    url = f"/api/v1/service-users/{world.service_user.pk}/phone-number/"
    assert api(world.other_clinician).put(url, {"phone_number": "0113 496 0000"}, format="json").status_code == 404
    assert api(world.peer_worker).put(url, {"phone_number": "0113 496 0000"}, format="json").status_code == 403
    with pytest.raises(Forbidden):
        from backend.accounts.services import phone_number_update

        phone_number_update(actor=Actor(world.other_clinician), person=world.service_user, number="0113 496 0000")


def test_a_colleague_admitting_into_a_session_already_running_joins_it_as_a_host(world):
    appointment = waiting(world)
    services.participants_admit(actor=Actor(world.clinician), appointment=appointment)
    services.carer_invite(actor=Actor(world.clinician), appointment=appointment, carer=world.carer)
    services.waiting_room_enter(actor=Actor(world.carer), appointment=appointment)
    services.participants_admit(actor=Actor(world.peer_worker), appointment=appointment, user_ids=[world.carer.pk])
    assert selectors.call_participant_for(world.peer_worker, appointment.pk).role == "host"
    appointment.refresh_from_db()
    assert appointment.run_by == world.clinician  # who started it


def test_admitting_someone_who_is_not_waiting_starts_nothing(world, client):
    appointment = today(world)
    checked(world, appointment)
    client.force_login(world.peer_worker)
    response = client.post(f"/waiting-area/{appointment.pk}/admit/{world.service_user.pk}/", follow=True)
    assert "not in the waiting room" in response.content.decode()
    appointment.refresh_from_db()
    assert (appointment.status, appointment.run_by) == ("scheduled", None) and not appointment.participants.exists()


def test_the_clinician_takes_a_guest_out_of_the_session_from_the_people_page(world, client):
    appointment = today(world)
    guest = services.guest_add(actor=Actor(world.clinician), appointment=appointment, name="Ana Silva",
                               guest_role="interpreter", language="Portuguese").user
    client.force_login(world.clinician)
    page = client.get(f"/sessions/{appointment.pk}/people/").content.decode()
    assert "Take Ana Silva out of this session" in page
    response = client.post(f"/sessions/{appointment.pk}/people/", {"action": "remove", "user_id": guest.pk})
    assert response.status_code == 302
    assert Participant.objects.get(appointment=appointment, user=guest).state == Participant.State.REMOVED
    with pytest.raises((Forbidden, NotFound)):
        selectors.session_access_for(guest, appointment.pk, need=selectors.JOIN)
    # Someone who is not a guest or carer of this session (the person themselves) cannot be taken out here.
    client.post(f"/sessions/{appointment.pk}/people/", {"action": "remove", "user_id": world.service_user.pk})
    assert Participant.objects.filter(appointment=appointment, user=world.service_user, state=Participant.State.REMOVED).count() == 0
    # Another team's clinician cannot reach the page at all.
    client.force_login(world.other_clinician)
    assert client.post(f"/sessions/{appointment.pk}/people/", {"action": "remove", "user_id": guest.pk}).status_code == 404

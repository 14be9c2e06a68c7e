"""The booking, week and appointment pages and the service user's side, through Django's test client:
who may open them, what they show, and that bad input is a message on the page with nothing saved."""

from datetime import timedelta

import pytest
from django.utils import timezone

from backend.sessions.models import Appointment, AppointmentEvent, RearrangeRequest
from backend.core.times import nhs_when
from tests.factories import book


@pytest.fixture
def as_user(client):
    def log_in(user):
        client.force_login(user)
        return client

    return log_in


def text(response) -> str:
    return response.content.decode()


def _day(days: int):
    return (timezone.localdate() + timedelta(days=days)).isoformat()


def form(world, **change):
    return {"service_user": world.service_user.pk, "team": world.north.pk, "practitioner": world.clinician.pk, "date": _day(12),
            "time": "14:30", "duration_minutes": 50, "kind": "treatment", "remote_offered": ["video"], "repeat": "", **change}


# --- Who may open the pages ------------------------------------------------------------------------
@pytest.mark.parametrize("url", ["/appointments/book/", "/appointments/week/"])
@pytest.mark.parametrize("role", ["service_user", "carer", "evaluator", "admin"])
def test_practitioner_pages_refuse_other_roles(world, as_user, url, role):
    response = as_user(world.as_role(role)).get(url)
    assert response.status_code == 403 and "This page is not for your account" in text(response)


def test_another_teams_clinician_cannot_book_for_or_see_the_person(world, as_user):
    client = as_user(world.other_clinician)
    page = text(client.get("/appointments/book/"))
    assert world.service_user.full_name not in page
    before = Appointment.objects.count()
    response = client.post("/appointments/book/", form(world, team=world.south.pk, practitioner=world.other_clinician.pk))
    assert response.status_code == 200 and "Choose someone on your teams" in text(response)
    assert Appointment.objects.count() == before
    assert client.get(f"/appointments/{world.appointment.pk}/").status_code == 404
    assert world.service_user.full_name not in text(client.get("/appointments/week/", {"date": timezone.localtime(world.appointment.starts_at).date().isoformat()}))


def test_another_organisations_clinician_cannot_see_the_appointment(world, elsewhere, as_user):
    client = as_user(elsewhere.clinician)
    assert client.get(f"/appointments/{world.appointment.pk}/").status_code == 404
    response = client.post(f"/appointments/{world.appointment.pk}/reschedule/", {"date": _day(9), "time": "10:00", "duration_minutes": 50, "reason": "x"})
    assert response.status_code == 404


# --- Booking ---------------------------------------------------------------------------------------------
def test_a_clinician_books_from_the_page_and_lands_on_the_appointment(world, as_user):
    response = as_user(world.clinician).post("/appointments/book/", form(world), follow=True)
    booked = Appointment.objects.latest("id")
    assert response.redirect_chain[-1][0] == f"/appointments/{booked.pk}/"
    assert booked.modalities_offered == ["video", "face_to_face"] and booked.kind == "treatment"
    assert timezone.localtime(booked.starts_at).strftime("%H:%M") == "14:30"
    assert "at 2:30pm" in text(response) and "Booked: " in text(response)


def test_a_series_is_booked_from_the_page(world, as_user):
    response = as_user(world.peer_worker).post("/appointments/book/", form(world, practitioner=world.peer_worker.pk, repeat="fortnightly", count=4), follow=True)
    assert "Booked 4 appointments" in text(response) and "every 2 weeks" in text(response)
    assert Appointment.objects.filter(practitioner=world.peer_worker).values("series").distinct().count() == 1


@pytest.mark.parametrize("change, message", [
    ({"date": "2001-01-01"}, "The appointment must be in the future."),
    ({"service_user": 999999}, "Choose someone on your teams"),
    ({"repeat": "weekly", "count": 60}, "A series can last up to a year"),
    ({"repeat": "weekly", "count": ""}, "Enter how many sessions"),
    ({"time": ""}, "Enter the start time."),
    ({"duration_minutes": 500}, "at most 240 minutes"),
])
def test_bad_bookings_are_a_message_on_the_page_and_nothing_is_saved(world, as_user, change, message):
    before = Appointment.objects.count()
    response = as_user(world.clinician).post("/appointments/book/", form(world, **change))
    assert response.status_code == 200 and message in text(response)
    assert "There is a problem" in text(response) and "Nothing has been booked yet" in text(response)
    assert Appointment.objects.count() == before


def test_a_clash_is_shown_and_booking_needs_confirming(world, as_user):
    start = timezone.localtime(world.appointment.starts_at)
    clash = form(world, date=start.date().isoformat(), time=start.strftime("%H:%M"))
    client = as_user(world.clinician)
    before = Appointment.objects.count()
    response = client.post("/appointments/book/", clash)
    assert "This time overlaps other appointments" in text(response) and "Book it anyway" in text(response)
    assert Appointment.objects.count() == before
    client.post("/appointments/book/", {**clash, "confirm_clash": "on"})
    assert Appointment.objects.count() == before + 1


# --- One appointment: move, cancel, join links, leaflet -------------------------------------------------
def test_reschedule_and_cancel_from_the_appointment_page(world, as_user):
    client = as_user(world.clinician)
    url = f"/appointments/{world.appointment.pk}/"
    page = text(client.get(url))
    assert "Move this appointment" in page and "Cancel this appointment" in page and "Choosing closes" in page
    response = client.post(url + "reschedule/", {"date": _day(9), "time": "11:00", "duration_minutes": 50, "reason": "Room booked for training."}, follow=True)
    assert "Moved to" in text(response) and "11am" in text(response)
    world.appointment.refresh_from_db()
    assert timezone.localtime(world.appointment.starts_at).hour == 11
    response = client.post(url + "cancel/", {"cancel-reason": "Clinician unwell."}, follow=True)
    assert "Cancelled by" in text(response) and "Clinician unwell." in text(response)
    assert Appointment.objects.get(pk=world.appointment.pk).status == "cancelled"


def test_a_reschedule_without_a_reason_or_of_an_ended_appointment_changes_nothing(world, as_user):
    client = as_user(world.clinician)
    response = client.post(f"/appointments/{world.appointment.pk}/reschedule/", {"date": _day(9), "time": "11:00", "duration_minutes": 50, "reason": ""})
    assert response.status_code == 200 and "Say why the appointment is moving" in text(response)
    ended = world.past_appointment
    Appointment.objects.filter(pk=ended.pk).update(status="ended")
    response = client.post(f"/appointments/{ended.pk}/reschedule/", {"date": _day(9), "time": "11:00", "duration_minutes": 50, "reason": "x"})
    assert "You cannot move this appointment: it is ended." in text(response)
    assert not AppointmentEvent.objects.filter(kind="rescheduled").exists()


def test_a_join_link_is_made_with_its_message_and_printed_on_a_leaflet(world, as_user):
    world.north.phone_number, world.north.opening_hours = "+441134960000", "Monday to Friday, 9am to 5pm"
    world.north.save(update_fields=["phone_number", "opening_hours"])
    client = as_user(world.clinician)
    page = text(client.post(f"/appointments/{world.appointment.pk}/join-link/", {"user_id": world.service_user.pk}))
    assert "/join/" in page and "Copy the link" in page and "0113 496 0000" in page
    leaflet = text(client.post(f"/appointments/{world.appointment.pk}/join-link/", {"user_id": world.service_user.pk, "leaflet": "1"}))
    assert "How to join your video appointment" in leaflet and "/join/" in leaflet and nhs_when(world.appointment.starts_at) in leaflet
    assert "Monday to Friday, 9am to 5pm" in leaflet
    refused = client.post(f"/appointments/{world.appointment.pk}/join-link/", {"user_id": world.other_service_user.pk}, follow=True)
    assert "Links are for the person the appointment is for" in text(refused)


# --- The week ------------------------------------------------------------------------------------------
def test_the_week_shows_mine_and_the_teams_and_open_requests(world, as_user):
    theirs = book(world.peer_worker, world.service_user, world.north, in_hours=100)
    RearrangeRequest.objects.create(appointment=theirs, requested_by=world.service_user, reason="Evenings are better.")
    client = as_user(world.clinician)
    day = timezone.localtime(world.appointment.starts_at).date().isoformat()
    mine = text(client.get("/appointments/week/", {"date": day, "view": "day"}))
    assert world.service_user.full_name in mine and "Asked to rearrange (1)" in mine and "Evenings are better." in mine
    team_day = timezone.localtime(theirs.starts_at).date().isoformat()
    team = text(client.get("/appointments/week/", {"date": team_day, "team": world.north.pk}))
    assert f"/appointments/{theirs.pk}/" in team
    assert "not right" in text(client.get("/appointments/week/", {"date": "yesterday"}, follow=True))


# --- The service user's side ------------------------------------------------------------------------------
def test_the_person_sees_where_and_whom_to_phone_and_asks_to_rearrange(world, as_user):
    world.north.phone_number, world.north.face_to_face_address = "+441134960000", "1 Park Square\nLeeds"
    world.north.save(update_fields=["phone_number", "face_to_face_address"])
    client = as_user(world.service_user)
    page = text(client.get("/appointments/"))
    assert "1 Park Square<br>Leeds" in page and 'href="tel:+441134960000"' in page
    assert f"/appointments/{world.appointment.pk}/calendar.ics" in page
    response = client.post(f"/appointments/{world.appointment.pk}/rearrange/", {f"rearrange-{world.appointment.pk}-reason": ""})
    assert "Tell your team why" in text(response) and not RearrangeRequest.objects.exists()
    response = client.post(f"/appointments/{world.appointment.pk}/rearrange/", {f"rearrange-{world.appointment.pk}-reason": "Working late."}, follow=True)
    assert "will get in touch" in text(response) and "You asked to rearrange this" in text(response)
    assert RearrangeRequest.objects.get().reason == "Working late."


def test_the_person_cancels_with_a_reason_and_sees_it_cancelled(world, as_user):
    client = as_user(world.service_user)
    field = f"cancel-{world.appointment.pk}-reason"
    assert "Say why the appointment is cancelled." in text(client.post(f"/appointments/{world.appointment.pk}/cancel/", {field: ""}))
    response = client.post(f"/appointments/{world.appointment.pk}/cancel/", {field: "Feeling better."}, follow=True)
    assert "You cancelled this appointment" in text(response) and "Feeling better." in text(response)


def test_a_team_without_a_phone_number_falls_back_to_words(world, as_user):
    page = text(as_user(world.service_user).get("/appointments/"))
    assert "phone your care team" in page and "tel:" not in page


def test_a_person_cannot_act_on_someone_elses_appointment(world, as_user):
    client = as_user(world.other_service_user)
    assert client.post(f"/appointments/{world.appointment.pk}/cancel/", {f"cancel-{world.appointment.pk}-reason": "x"}).status_code == 404
    assert client.post(f"/appointments/{world.appointment.pk}/rearrange/", {f"rearrange-{world.appointment.pk}-reason": "x"}).status_code == 404
    assert Appointment.objects.get(pk=world.appointment.pk).status == "scheduled"

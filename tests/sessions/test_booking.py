"""Booking series, clashes, rescheduling, cancelling and requests to rearrange, through the API; the
calendar file; NHS-style times; the one place join links and their message are made."""

from datetime import datetime, timedelta

import icalendar
import pytest
from django.utils import timezone

from backend.core.times import nhs_time, nhs_when
from backend.sessions.models import Appointment, AppointmentEvent, RearrangeRequest
from tests.factories import book, let_time_pass, make_user


def _at(days: int, hour: int = 10, minute: int = 0) -> datetime:
    day = timezone.localtime() + timedelta(days=days)
    return day.replace(hour=hour, minute=minute, second=0, microsecond=0)


def series(world, **change):
    return {"service_user_id": world.service_user.pk, "team_id": world.north.pk, "starts_at": _at(10).isoformat(),
            "modalities_offered": ["video", "face_to_face"], "frequency": "weekly", "count": 6, **change}


# --- NHS-style times --------------------------------------------------------------------------------
@pytest.mark.parametrize("hour, minute, expected", [(10, 0, "10am"), (14, 30, "2:30pm"), (12, 0, "midday"), (0, 0, "midnight"),
                                                    (12, 15, "12:15pm"), (9, 5, "9:05am")])
def test_times_are_written_the_nhs_way(hour, minute, expected):
    assert nhs_time(timezone.make_aware(datetime(2026, 12, 7, hour, minute))) == expected


def test_a_date_and_time_read_as_a_sentence():
    assert nhs_when(timezone.make_aware(datetime(2026, 12, 7, 14, 30))) == "Monday 7 December 2026 at 2:30pm"


# --- Series -----------------------------------------------------------------------------------------
def test_a_weekly_series_is_booked_at_the_same_local_time_all_or_none(world, api):
    response = api(world.clinician).post("/api/v1/appointments/series/", series(world), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert len(body) == 6 and len({a["series"] for a in body}) == 1 and body[0]["series"]
    starts = [timezone.localtime(a.starts_at) for a in Appointment.objects.filter(pk__in=[a["id"] for a in body]).order_by("starts_at")]
    assert [(s.hour, s.minute) for s in starts] == [(10, 0)] * 6  # across a clock change too
    assert [(b.date() - a.date()).days for a, b in zip(starts, starts[1:])] == [7] * 5


def test_a_fortnightly_series_is_two_weeks_apart(world, api):
    body = api(world.peer_worker).post("/api/v1/appointments/series/", series(world, frequency="fortnightly", count=3), format="json").json()
    days = [datetime.fromisoformat(a["starts_at"]) for a in body]
    assert [(b - a).days for a, b in zip(days, days[1:])] in ([14, 14], [13, 14], [14, 13])  # a clock change moves UTC by an hour
    assert {a["practitioner"]["id"] for a in body} == {world.peer_worker.pk}


@pytest.mark.parametrize("change, field, code, status", [
    ({"count": 54}, "count", "series_too_long", 400),
    ({"frequency": "fortnightly", "count": 28}, "count", "series_too_long", 400),
    ({"count": 1}, "count", "min_value", 400),
    ({"frequency": "daily"}, "frequency", "invalid_choice", 400),
    ({"starts_at": "2001-01-01T10:00:00Z"}, "starts_at", "in_the_past", 400),
    ({"modalities_offered": ["video"]}, "modalities_offered", "face_to_face_required", 400),
    ({"service_user_id": "{other}"}, "service_user_id", "does_not_exist", 400),
    ({"team_id": "{south}"}, "team_id", "not_found", 404),
    ({"practitioner_id": "{other_clinician}"}, "practitioner_id", "does_not_exist", 400),
])
def test_bad_series_are_refused_and_nothing_is_booked(world, api, change, field, code, status):
    names = {"other": world.other_service_user.pk, "south": world.south.pk, "other_clinician": world.other_clinician.pk}
    change = {k: (names[v[1:-1]] if isinstance(v, str) and v.startswith("{") else v) for k, v in change.items()}
    before = Appointment.objects.count()
    response = api(world.clinician).post("/api/v1/appointments/series/", series(world, **change), format="json")
    assert response.status_code == status, response.json()
    assert (field, code) in [(e["field"], e["code"]) for e in response.json()["errors"]]
    assert Appointment.objects.count() == before


def test_a_year_of_weekly_sessions_is_the_longest_series(world, api):
    response = api(world.clinician).post("/api/v1/appointments/series/", series(world, count=53), format="json")
    assert response.status_code == 201 and len(response.json()) == 53


# --- Clashes ----------------------------------------------------------------------------------------
def test_a_clash_with_the_practitioners_own_session_needs_confirming(world, api):
    other_person = make_user(world.service_user.role)
    from backend.accounts import services as account_services
    from tests.factories import SYSTEM

    account_services.caseload_add(actor=SYSTEM, team=world.north, service_user=other_person)
    taken = book(world.clinician, other_person, world.north, in_hours=500)  # moved to the test's time below
    Appointment.objects.filter(pk=taken.pk).update(starts_at=_at(5))
    body = {"service_user_id": world.service_user.pk, "team_id": world.north.pk, "starts_at": _at(5, 10, 30).isoformat(),
            "modalities_offered": ["face_to_face"]}
    before = Appointment.objects.count()
    refused = api(world.clinician).post("/api/v1/appointments/", body, format="json")
    assert refused.status_code == 409 and refused.json()["code"] == "clash"
    assert refused.json()["errors"][0]["field"] == "starts_at"
    assert "you with" in refused.json()["detail"] and "10am" in refused.json()["detail"]
    assert Appointment.objects.count() == before
    confirmed = api(world.clinician).post("/api/v1/appointments/", {**body, "confirm_clash": True}, format="json")
    assert confirmed.status_code == 201


def test_a_clash_for_the_person_is_found_whoever_they_see(world, api):
    Appointment.objects.filter(pk=world.appointment.pk).update(starts_at=_at(6, 14))
    body = {"service_user_id": world.service_user.pk, "team_id": world.north.pk, "starts_at": _at(6, 14, 45).isoformat(),
            "modalities_offered": ["face_to_face"]}
    assert api(world.peer_worker).post("/api/v1/appointments/", body, format="json").json()["code"] == "clash"
    # Straight after the end is not a clash (the world's appointment lasts 50 minutes).
    assert api(world.peer_worker).post("/api/v1/appointments/", {**body, "starts_at": _at(6, 14, 50).isoformat()}, format="json").status_code == 201


def test_a_series_clashing_in_one_week_books_nothing_unless_confirmed(world, api):
    Appointment.objects.filter(pk=world.appointment.pk).update(starts_at=_at(24))  # the third week
    before = Appointment.objects.count()
    refused = api(world.clinician).post("/api/v1/appointments/series/", series(world), format="json")
    assert refused.status_code == 409 and Appointment.objects.count() == before
    assert api(world.clinician).post("/api/v1/appointments/series/", series(world, confirm_clash=True), format="json").status_code == 201


# --- Reschedule -------------------------------------------------------------------------------------
def test_the_team_reschedules_with_a_reason_and_the_person_sees_it(world, api):
    url = f"/api/v1/appointments/{world.appointment.pk}/reschedule/"
    response = api(world.peer_worker).post(url, {"starts_at": _at(8, 15).isoformat(), "reason": "Asha is on leave that day."}, format="json")
    assert response.status_code == 200, response.json()
    moved = Appointment.objects.get(pk=world.appointment.pk)
    assert timezone.localtime(moved.starts_at).hour == 15
    assert moved.choice_closes_at == moved.starts_at - timedelta(hours=24)
    history = api(world.service_user).get(f"/api/v1/appointments/{moved.pk}/history/").json()["results"]
    assert history[-1]["kind"] == "rescheduled" and history[-1]["data"]["reason"] == "Asha is on leave that day."
    assert history[-1]["actor"]["id"] == world.peer_worker.pk


@pytest.mark.parametrize("who", ["service_user", "carer", "other_clinician"])
def test_only_the_team_reschedules(world, api, who):
    response = api(getattr(world, who)).post(f"/api/v1/appointments/{world.appointment.pk}/reschedule/",
                                             {"starts_at": _at(8).isoformat(), "reason": "x"}, format="json")
    assert response.status_code in (403, 404)
    assert Appointment.objects.get(pk=world.appointment.pk).starts_at == world.appointment.starts_at


def test_an_ended_or_cancelled_appointment_cannot_be_rescheduled(world, api):
    ended = let_time_pass(book(world.clinician, world.service_user, world.north, in_hours=200))
    Appointment.objects.filter(pk=ended.pk).update(status=Appointment.Status.ENDED)
    response = api(world.clinician).post(f"/api/v1/appointments/{ended.pk}/reschedule/", {"starts_at": _at(8).isoformat(), "reason": "x"}, format="json")
    assert response.status_code == 409 and response.json()["code"] == "not_movable"
    assert response.json()["errors"][0]["field"] == "status"


@pytest.mark.parametrize("body, field", [({"starts_at": "2001-01-01T10:00:00Z", "reason": "x"}, "starts_at"),
                                         ({"starts_at": "2099-01-01T10:00:00Z", "reason": "  "}, "reason"),
                                         ({"starts_at": "2099-01-01T10:00:00Z"}, "reason")])
def test_bad_reschedules_change_nothing(world, api, body, field):
    response = api(world.clinician).post(f"/api/v1/appointments/{world.appointment.pk}/reschedule/", body, format="json")
    assert response.status_code == 400 and field in [e["field"] for e in response.json()["errors"]]
    assert not world.appointment.events.filter(kind=AppointmentEvent.Kind.RESCHEDULED).exists()


# --- Requests to rearrange ---------------------------------------------------------------------------
def test_the_person_asks_to_rearrange_and_the_team_sees_it_until_it_is_moved(world, api):
    url = f"/api/v1/appointments/{world.appointment.pk}/rearrange-requests/"
    made = api(world.service_user).post(url, {"reason": "I start a new job that week; afternoons suit me."}, format="json")
    assert made.status_code == 201 and made.json()["is_open"]
    again = api(world.service_user).post(url, {"reason": "Please!"}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "already_requested"
    seen = api(world.clinician).get("/api/v1/rearrange-requests/", {"open": "true"}).json()["results"]
    assert [(r["appointment"], r["reason"]) for r in seen] == [(world.appointment.pk, "I start a new job that week; afternoons suit me.")]
    assert api(world.other_clinician).get("/api/v1/rearrange-requests/").json()["results"] == []
    api(world.clinician).post(f"/api/v1/appointments/{world.appointment.pk}/reschedule/",
                              {"starts_at": _at(9, 15).isoformat(), "reason": "Moved to an afternoon as asked."}, format="json")
    answered = RearrangeRequest.objects.get()
    assert answered.answer == "rescheduled" and answered.answered_by == world.clinician
    assert api(world.clinician).get("/api/v1/rearrange-requests/", {"open": "true"}).json()["results"] == []


@pytest.mark.parametrize("body, status, field", [({"reason": ""}, 400, "reason"), ({}, 400, "reason"), ({"reason": "x" * 501}, 400, "reason")])
def test_a_request_without_a_reason_is_refused(world, api, body, status, field):
    response = api(world.service_user).post(f"/api/v1/appointments/{world.appointment.pk}/rearrange-requests/", body, format="json")
    assert response.status_code == status and field in [e["field"] for e in response.json()["errors"]]
    assert not RearrangeRequest.objects.exists()


def test_nobody_else_asks_for_the_person_and_a_past_one_cannot_be_rearranged(world, api):
    for who in (world.clinician, world.carer, world.other_service_user):
        assert api(who).post(f"/api/v1/appointments/{world.appointment.pk}/rearrange-requests/", {"reason": "x"}, format="json").status_code in (403, 404)
    response = api(world.service_user).post(f"/api/v1/appointments/{world.past_appointment.pk}/rearrange-requests/", {"reason": "x"}, format="json")
    assert response.status_code == 409 and not RearrangeRequest.objects.exists()


def test_cancelling_answers_the_request_and_the_person_sees_why(world, api):
    api(world.service_user).post(f"/api/v1/appointments/{world.appointment.pk}/rearrange-requests/", {"reason": "Away."}, format="json")
    api(world.clinician).post(f"/api/v1/appointments/{world.appointment.pk}/cancel/", {"reason": "We will book after your holiday."}, format="json")
    seen = api(world.service_user).get(f"/api/v1/appointments/{world.appointment.pk}/").json()
    assert seen["status"] == "cancelled" and seen["cancellation_reason"] == "We will book after your holiday."
    assert RearrangeRequest.objects.get().answer == "cancelled"


# --- The list endpoint's filters -------------------------------------------------------------------------
def test_the_list_filters_by_dates_practitioner_and_team(world, api):
    day = timezone.localtime(world.appointment.starts_at).date()
    client = api(world.clinician)
    found = client.get("/api/v1/appointments/", {"starts_from": day.isoformat(), "starts_until": day.isoformat()}).json()["results"]
    assert [a["id"] for a in found] == [world.appointment.pk]
    assert client.get("/api/v1/appointments/", {"practitioner_id": world.peer_worker.pk}).json()["results"] == []
    assert client.get("/api/v1/appointments/", {"team_id": world.south.pk}).json()["results"] == []
    assert client.get("/api/v1/appointments/", {"starts_from": "not a date"}).status_code == 400


# --- Join links ---------------------------------------------------------------------------------------
def test_the_join_link_comes_with_its_message(world, api):
    world.north.phone_number = "+441134960000"
    world.north.save(update_fields=["phone_number"])
    body = api(world.clinician).post(f"/api/v1/appointments/{world.appointment.pk}/join-links/", {"user_id": world.service_user.pk}, format="json").json()
    assert body["url"] in body["message"]
    assert nhs_when(world.appointment.starts_at) in body["message"]
    assert "0113 496 0000" in body["message"]


# --- Calendar file --------------------------------------------------------------------------------------
def test_the_person_downloads_a_calendar_file_that_parses(world, client):
    client.force_login(world.service_user)
    response = client.get(f"/appointments/{world.appointment.pk}/calendar.ics")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
    calendar = icalendar.Calendar.from_ical(response.content)
    event = next(iter(calendar.walk("VEVENT")))
    assert event.decoded("DTSTART") == world.appointment.starts_at.replace(microsecond=0)
    assert event.decoded("DTEND") - event.decoded("DTSTART") == timedelta(minutes=world.appointment.duration_minutes)
    assert world.north.name in str(event["SUMMARY"])
    assert str(event["UID"]).startswith(f"appointment-{world.appointment.pk}@")


@pytest.mark.parametrize("who", ["other_service_user", "clinician", "carer", "evaluator"])
def test_nobody_else_gets_the_persons_calendar_file(world, client, who):
    client.force_login(getattr(world, who))
    assert client.get(f"/appointments/{world.appointment.pk}/calendar.ics").status_code in (403, 404)

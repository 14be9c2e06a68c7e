"""Courses of care (open, hold appointments, end with a reason) and the team measure schedules that
decide which questionnaires are due at which appointment."""

from datetime import timedelta

import pytest
from django.utils import timezone

from backend.audit.actor import Actor
from backend.core.errors import Conflict, Forbidden, InvalidInput
from backend.outcomes import selectors, services
from backend.outcomes.models import MeasureSchedule
from backend.outcomes.selectors import instrument_by_code
from backend.sessions import services as session_services
from backend.sessions.models import CourseOfCare
from tests.factories import SYSTEM, book

pytestmark = pytest.mark.django_db


def test_a_course_holds_the_persons_appointments_with_the_team(world):
    assert set(world.course.appointments.all()) == {world.appointment, world.past_appointment}
    later = book(world.clinician, world.service_user, world.north, in_hours=200)
    assert later.course == world.course


def test_one_open_course_per_person_and_team(world):
    with pytest.raises(Conflict) as refused:
        session_services.course_open(actor=Actor(world.clinician), service_user=world.service_user, team=world.north)
    assert refused.value.code == "course_already_open"


def test_only_the_teams_practitioners_open_and_end_courses(world):
    with pytest.raises(Forbidden):
        session_services.course_open(actor=Actor(world.other_clinician), service_user=world.service_user, team=world.north)
    with pytest.raises(Forbidden):
        session_services.course_end(actor=Actor(world.service_user), course=world.course, reason="completed")
    with pytest.raises(InvalidInput):
        session_services.course_open(actor=Actor(world.other_clinician), service_user=world.service_user, team=world.south)


def test_ending_needs_a_reason_and_happens_once(world, api):
    client = api(world.clinician)
    assert client.post(f"/api/v1/courses/{world.course.pk}/end/", {"reason": "other"}, format="json").status_code == 400
    assert client.post(f"/api/v1/courses/{world.course.pk}/end/", {"reason": "finished"}, format="json").status_code == 400
    ended = client.post(f"/api/v1/courses/{world.course.pk}/end/", {"reason": "completed"}, format="json")
    assert ended.status_code == 200 and ended.json()["is_open"] is False
    again = client.post(f"/api/v1/courses/{world.course.pk}/end/", {"reason": "completed"}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "course_ended"
    reopened = client.post("/api/v1/courses/", {"service_user_id": world.service_user.pk, "team_id": world.north.pk}, format="json")
    assert reopened.status_code == 201
    assert CourseOfCare.objects.filter(service_user=world.service_user).count() == 2


def test_course_dates_must_make_sense(world, api):
    session_services.course_end(actor=Actor(world.clinician), course=world.course, reason="completed")
    today = timezone.localdate()
    answer = api(world.clinician).post("/api/v1/courses/", {
        "service_user_id": world.service_user.pk, "team_id": world.north.pk, "started_on": str(today), "referral_date": str(today + timedelta(days=1)),
    }, format="json")
    assert answer.status_code == 400 and answer.json()["errors"][0]["field"] == "referral_date"


def schedule(world, code, when):
    return services.schedule_set(actor=SYSTEM, team=world.north, instrument=instrument_by_code(code), when=when)


def due_codes(appointment):
    return [i.code for i in selectors.due_instruments(appointment)]


def test_schedules_decide_what_is_due(world):
    W = MeasureSchedule.When
    schedule(world, "phq9", W.EVERY_SESSION)
    schedule(world, "gad7", W.EVERY_SESSION)
    schedule(world, "core10", W.FIRST_AND_LAST)
    schedule(world, "wsas", W.FIRST_ONLY)
    first, second = world.past_appointment, world.appointment  # past_appointment is earlier
    assert sorted(due_codes(first)) == ["core10", "gad7", "phq9", "wsas"]
    assert sorted(due_codes(second)) == ["gad7", "phq9"]
    session_services.appointment_plan_last(actor=Actor(world.clinician), appointment=second)
    second.refresh_from_db()
    assert sorted(due_codes(second)) == ["core10", "gad7", "phq9"]


def test_answered_questionnaires_are_no_longer_due(world, api):
    schedule(world, "gad7", MeasureSchedule.When.EVERY_SESSION)
    api(world.service_user).post("/api/v1/responses/", {
        "instrument": "gad7", "service_user_id": world.service_user.pk, "appointment_id": world.past_appointment.pk,
        "mode": "self_online", "answers": {str(n): 1 for n in range(1, 8)},
    }, format="json", HTTP_IDEMPOTENCY_KEY="x")
    assert due_codes(world.past_appointment) == []
    assert api(world.service_user).get(f"/api/v1/appointments/{world.appointment.pk}/questionnaires-due/").json()[0]["code"] == "gad7"


def test_nothing_is_due_outside_a_course_or_at_a_cancelled_appointment(world):
    schedule(world, "phq9", MeasureSchedule.When.EVERY_SESSION)
    session_services.session_cancel(actor=Actor(world.service_user), appointment=world.appointment, reason="Unwell")
    world.appointment.refresh_from_db()
    assert due_codes(world.appointment) == []
    session_services.course_end(actor=Actor(world.clinician), course=world.course, reason="completed")
    assert due_codes(book(world.clinician, world.service_user, world.north)) == []


def test_a_retired_instrument_cannot_be_scheduled(world, api):
    schedule(world, "wsas", MeasureSchedule.When.EVERY_SESSION)
    assert api(world.admin).post("/api/v1/instruments/wsas/retire/").status_code == 200
    assert not MeasureSchedule.objects.filter(instrument__code="wsas").exists()
    refused = api(world.admin).post(f"/api/v1/teams/{world.north.pk}/measure-schedules/", {"instrument": "wsas", "when": "every_session"}, format="json")
    assert refused.status_code == 404


def test_an_admin_defines_a_local_questionnaire_without_code(world, api):
    definition = {
        "organisation_id": world.organisation.pk, "code": "experience-of-care", "name": "Experience", "title": "Your experience of video sessions",
        "stem": "Thinking about your sessions so far:", "higher_is_worse": False,
        "options": [{"value": 0, "label": "Not at all"}, {"value": 1, "label": "A little"}, {"value": 2, "label": "A lot"}],
        "items": [{"number": 1, "text": "I felt listened to"}, {"number": 2, "text": "The technology got in the way", "reverse_keyed": True}],
        "bands": [{"lower": 0, "upper": 1, "label": "Poor"}, {"lower": 2, "upper": 4, "label": "Good"}],
    }
    created = api(world.admin).post("/api/v1/instruments/", definition, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["caseness_threshold"] is None and created.json()["reliable_change"] is None
    schedule(world, "experience-of-care", MeasureSchedule.When.EVERY_SESSION)
    answer = api(world.service_user).post("/api/v1/responses/", {
        "instrument": "experience-of-care", "service_user_id": world.service_user.pk, "appointment_id": world.past_appointment.pk,
        "mode": "self_online", "answers": {"1": 2, "2": 0},
    }, format="json", HTTP_IDEMPOTENCY_KEY="e")
    assert answer.status_code == 201 and (answer.json()["raw_total"], answer.json()["band"]) == (4, "Good")
    duplicate = api(world.admin).post("/api/v1/instruments/", definition, format="json")
    assert duplicate.status_code == 409
    gap = {**definition, "code": "gappy", "bands": [{"lower": 0, "upper": 1, "label": "Poor"}, {"lower": 3, "upper": 4, "label": "Good"}]}
    assert api(world.admin).post("/api/v1/instruments/", gap, format="json").json()["errors"][0]["field"] == "bands"
    assert api(world.clinician).post("/api/v1/instruments/", {**definition, "code": "mine"}, format="json").status_code == 403

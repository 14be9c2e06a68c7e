"""Outcome pages through Django's test client: filling in by join link, a clinician entering answers
given by phone, starting and ending a course, and who may open each page."""

import pytest

from backend.audit.actor import Actor
from backend.outcomes.models import Response
from backend.sessions import services as session_services
from backend.sessions.models import CourseOfCare

PHQ9_FORM = {f"item_{n}": "1" for n in range(1, 10)} | {"item_9": "0"}


def logged_in(client, user):
    client.force_login(user)
    return client


@pytest.mark.django_db
def test_a_person_with_only_a_join_link_fills_in_a_questionnaire(world, client):
    link, _ = session_services.join_link_issue(actor=Actor(world.clinician), appointment=world.appointment, user=world.service_user)
    assert client.get(f"/join/{link}/").status_code == 302
    page = client.get(f"/outcomes/appointments/{world.appointment.pk}/questionnaires/phq9/")
    assert page.status_code == 200 and "PHQ-9" in page.content.decode()
    key = page.context["form"].initial["submission_key"]
    saved = client.post(f"/outcomes/appointments/{world.appointment.pk}/questionnaires/phq9/", {**PHQ9_FORM, "submission_key": key})
    assert saved.status_code == 302 and saved["Location"] == f"/sessions/{world.appointment.pk}/"
    response = Response.objects.get()
    assert (response.entered_by, response.mode, response.raw_total) == (world.service_user, "self_online", 8)
    # A double press (the same form sent twice) is stored once.
    client.post(f"/outcomes/appointments/{world.appointment.pk}/questionnaires/phq9/", {**PHQ9_FORM, "submission_key": key})
    assert Response.objects.count() == 1
    # The link is for that appointment only.
    assert client.get(f"/outcomes/appointments/{world.past_appointment.pk}/questionnaires/phq9/").status_code == 302


@pytest.mark.django_db
def test_a_clinician_enters_answers_given_by_phone(world, client):
    logged_in(client, world.clinician)
    url = f"/outcomes/appointments/{world.past_appointment.pk}/questionnaires/gad7/"
    form = {f"item_{n}": "2" for n in range(1, 8)}
    missing_mode = client.post(url, {**form, "submission_key": "k1"})
    assert missing_mode.status_code == 400 and "Choose how the person gave their answers." in missing_mode.content.decode()
    saved = client.post(url, {**form, "submission_key": "k1", "mode": "clinician_phone"})
    assert saved.status_code == 302
    response = Response.objects.get()
    assert (response.entered_by, response.mode, response.raw_total) == (world.clinician, "clinician_phone", 14)


@pytest.mark.django_db
def test_pages_refuse_people_outside_the_care_team(world, client):
    url = f"/outcomes/appointments/{world.past_appointment.pk}/questionnaires/gad7/"
    assert logged_in(client, world.other_clinician).get(url).status_code == 404
    assert logged_in(client, world.carer).get(url).status_code == 403
    assert logged_in(client, world.evaluator).get("/outcomes/").status_code == 403
    assert logged_in(client, world.other_clinician).get(f"/outcomes/people/{world.service_user.pk}/").status_code == 404
    assert logged_in(client, world.other_service_user).get(f"/outcomes/people/{world.service_user.pk}/").status_code == 404
    assert logged_in(client, world.service_user).get(f"/outcomes/people/{world.service_user.pk}/").status_code == 200
    assert logged_in(client, world.peer_worker).post("/outcomes/risk-flags/1/acknowledge/").status_code == 403


@pytest.mark.django_db
def test_a_clinician_ends_a_course_and_starts_another_from_the_page(world, client):
    logged_in(client, world.clinician)
    prefix = f"course-{world.course.pk}"
    no_reason = client.post(f"/outcomes/courses/{world.course.pk}/end/", {}, follow=True)
    assert "Choose why the course is ending." in no_reason.content.decode() and CourseOfCare.objects.get(pk=world.course.pk).is_open
    client.post(f"/outcomes/courses/{world.course.pk}/end/", {f"{prefix}-reason": "completed"})
    assert CourseOfCare.objects.get(pk=world.course.pk).ending_reason == "completed"
    page = client.get(f"/outcomes/people/{world.service_user.pk}/")
    assert "Start a course of care" in page.content.decode()
    # Ended without two attended treatment appointments: it did not finish a course of treatment.
    assert "Not counted in paired outcomes: It ended with 0 attended treatment appointments" in page.content.decode()
    assert "ended having had at least two attended treatment appointments" in page.content.decode()
    client.post(f"/outcomes/people/{world.service_user.pk}/courses/")
    assert CourseOfCare.objects.filter(service_user=world.service_user, ended_on__isnull=True).count() == 1


@pytest.mark.django_db
def test_every_page_tells_a_clinician_about_open_risk_flags(world, client, api):
    api(world.service_user).post("/api/v1/responses/", {
        "instrument": "phq9", "service_user_id": world.service_user.pk, "appointment_id": world.past_appointment.pk,
        "mode": "self_online", "answers": {str(n): (1 if n == 9 else 0) for n in range(1, 10)},
    }, format="json", HTTP_IDEMPOTENCY_KEY="flag")
    page = logged_in(client, world.clinician).get("/").content.decode()
    assert "1 open risk flag</strong>" in page and "Review and acknowledge it" in page
    assert "open risk flag" not in logged_in(client, world.other_clinician).get("/").content.decode()
    assert "open risk flag" not in logged_in(client, world.peer_worker).get("/").content.decode()

"""College pages against every role, the public prospectus, and the student's and staff's journeys."""

import datetime as dt

import pytest
from django.utils import timezone

from backend.audit.models import AuditEvent
from backend.college.models import CourseRun, Enrolment
from tests.college.helpers import attend, college_world

pytestmark = pytest.mark.django_db

ROLES = ["clinician", "peer_worker", "service_user", "carer", "evaluator", "admin"]
EVERYONE = {role: 200 for role in ROLES}
STAFF = {"clinician": 200, "peer_worker": 200, "admin": 200}
TEACHERS = {"clinician": 200, "peer_worker": 200, "admin": 200, "carer": 200}  # the carer co-facilitates the run
STUDENT = {"service_user": 200}

PAGES = {
    "/college/": EVERYONE,
    "run": EVERYONE,
    "register": TEACHERS,
    "my": STUDENT,
    "withdraw": STUDENT,
    "/college/manage/": STAFF,
    "manage-run": STAFF,
}


def _url(world, key):
    cw = college_world(world)
    return {"run": f"/college/runs/{cw.run.pk}/", "register": f"/college/runs/{cw.run.pk}/sessions/1/register/",
            "my": f"/college/my/{cw.enrolment.pk}/", "withdraw": f"/college/my/{cw.enrolment.pk}/withdraw/",
            "manage-run": f"/college/manage/runs/{cw.run.pk}/"}.get(key, key)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("key", sorted(PAGES))
def test_each_page_for_each_role(world, client, key, role):
    url = _url(world, key)
    client.force_login(world.as_role(role))
    response = client.get(url)
    expected = PAGES[key].get(role, 404 if key in ("my", "withdraw") else 403)
    assert response.status_code == expected, (url, role, response.status_code)
    if response.status_code == 403:
        assert b"for" in response.content
    client.logout()
    assert client.get(url).status_code == 302  # anonymous: to log in


def test_the_public_prospectus_needs_no_login_and_shows_no_personal_data(world, client):
    cw = college_world(world)
    response = client.get("/college/prospectus/")
    assert response.status_code == 200
    body = response.content.decode()
    assert cw.course.title in body and "Carer peer trainer".lower() in body.lower()
    for person in (world.clinician, world.carer, world.service_user):
        assert person.full_name not in body and person.email not in body
    assert cw.draft.pk not in [r.pk for r in response.context["runs"]]


def test_a_student_enrols_from_the_page_writes_a_plan_and_gets_a_certificate_only_after_attending(world, client):
    cw = college_world(world)
    client.force_login(world.other_service_user)
    response = client.post(f"/college/runs/{cw.run.pk}/enrol/")
    enrolment = Enrolment.objects.get(run=cw.run, student=world.other_service_user)
    assert response.status_code == 302 and response.url == f"/college/my/{enrolment.pk}/" and enrolment.state == "enrolled"
    response = client.post(f"/college/my/{enrolment.pk}/", {"goals": "Learn to manage worry.", "reflection": ""})
    assert response.status_code == 302
    response = client.get(f"/college/my/{enrolment.pk}/certificate/")
    assert response.status_code == 409 and b"needs 3 of the 4 sessions" in response.content
    attend(world, cw.run, world.other_service_user, 3)
    response = client.get(f"/college/my/{enrolment.pk}/certificate/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf" and response.content.startswith(b"%PDF")
    # Someone else's certificate or plan: not found.
    client.force_login(world.service_user)
    assert client.get(f"/college/my/{enrolment.pk}/certificate/").status_code == 404
    assert client.get(f"/college/my/{enrolment.pk}/").status_code == 404


def test_withdrawing_twice_from_the_page_says_so(world, client):
    cw = college_world(world)
    client.force_login(world.service_user)
    assert client.post(f"/college/my/{cw.enrolment.pk}/withdraw/").status_code == 302
    response = client.post(f"/college/my/{cw.enrolment.pk}/withdraw/", follow=True)
    assert b"already withdrawn" in response.content


def test_staff_create_a_run_from_the_page_and_publishing_without_a_peer_trainer_is_refused(world, client):
    cw = college_world(world)
    client.force_login(world.admin)
    first = (timezone.localtime() + dt.timedelta(days=5)).strftime("%Y-%m-%dT%H:%M")
    response = client.post("/college/manage/", {"form": "run", "run-course": cw.course.pk, "run-term": cw.term.pk, "run-team": world.north.pk,
                                                "run-delivery": "in_person", "run-first_session_at": first, "run-duration_minutes": 90, "run-venue": ""})
    assert response.status_code == 400 and b"This cannot be empty" in response.content  # venue for in person
    response = client.post("/college/manage/", {"form": "run", "run-course": cw.course.pk, "run-term": cw.term.pk, "run-team": world.north.pk,
                                                "run-delivery": "in_person", "run-first_session_at": first, "run-duration_minutes": 90, "run-venue": "The Hub"})
    run = CourseRun.objects.latest("id")
    assert response.status_code == 302 and run.venue == "The Hub"
    client.post(f"/college/manage/runs/{run.pk}/", {"form": "facilitator", "facilitator-trainer": cw.professional.pk})
    response = client.post(f"/college/manage/runs/{run.pk}/", {"form": "publish"}, follow=True)
    assert b"peer trainer" in response.content
    run.refresh_from_db()
    assert run.state == "draft"
    client.post(f"/college/manage/runs/{run.pk}/", {"form": "facilitator", "facilitator-trainer": cw.peer.pk})
    client.post(f"/college/manage/runs/{run.pk}/", {"form": "publish"})
    run.refresh_from_db()
    assert run.state == "published" and run.sessions.count() == 4


def test_the_carer_trainer_takes_the_register_on_the_page_and_the_read_is_audited(world, client):
    cw = college_world(world)
    attend(world, cw.run, world.service_user, 0)
    from backend.groups.models import GroupSession

    session = cw.run.sessions.get(number=1)
    GroupSession.objects.filter(pk=session.group_id).update(starts_at=timezone.now() - dt.timedelta(hours=1))
    client.force_login(world.carer)
    response = client.get(f"/college/runs/{cw.run.pk}/sessions/1/register/")
    assert response.status_code == 200 and world.service_user.full_name.encode() in response.content
    assert AuditEvent.objects.filter(action="list", object_type="college.enrolment", actor=world.carer).exists()
    response = client.post(f"/college/runs/{cw.run.pk}/sessions/1/register/", {f"e{cw.enrolment.pk}": "attended"})
    assert response.status_code == 302
    assert session.group.attendees.get(person=world.service_user).attendance == "attended"

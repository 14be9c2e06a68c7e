"""The college API: enrolment with the waiting list, withdrawal twice, staff enrolling someone with them, the
co-facilitation refusal, paged lists whose audit names the page shown, and bad input as 4xx."""

import pytest

from backend.accounts.models import Role
from backend.audit.models import AuditEvent
from tests.college.helpers import college_world
from tests.factories import make_user

pytestmark = pytest.mark.django_db


def test_enrolment_fills_then_waits_and_withdrawing_twice_is_a_409(world, api):
    cw = college_world(world)
    students = [make_user(Role.SERVICE_USER) for _ in range(3)]
    states = [api(s).post(f"/api/v1/college/runs/{cw.run.pk}/enrolments/", {}, format="json").json()["state"] for s in students]
    assert states == ["enrolled", "enrolled", "waiting"]
    first = api(world.service_user).post(f"/api/v1/college/enrolments/{cw.enrolment.pk}/withdraw/", format="json")
    assert first.status_code == 200 and first.json()["state"] == "withdrawn"
    again = api(world.service_user).post(f"/api/v1/college/enrolments/{cw.enrolment.pk}/withdraw/", format="json")
    assert again.status_code == 409 and again.json()["code"] == "already_withdrawn"
    mine = api(students[2]).get("/api/v1/college/enrolments/").json()["results"]
    assert [(e["state"], e["promoted"]) for e in mine] == [("enrolled", True)]


def test_staff_enrol_someone_they_can_see_and_nobody_else(world, api, elsewhere):
    cw = college_world(world)
    url = f"/api/v1/college/runs/{cw.run.pk}/enrolments/"
    assert api(world.clinician).post(url, {"student_id": world.unlinked_carer.pk}, format="json").status_code == 404  # no link to them
    assert api(world.clinician).post(url, {"student_id": elsewhere.service_user.pk}, format="json").status_code == 404
    assert api(world.service_user).post(url, {"student_id": world.other_service_user.pk}, format="json").status_code == 403
    made = api(world.admin).post(url, {"student_id": world.other_service_user.pk}, format="json")
    assert made.status_code == 201 and made.json()["student_id"] == world.other_service_user.pk
    assert not world.other_service_user.caseload_entries.filter(team=world.north).exists()


def test_publishing_without_a_peer_trainer_names_the_problem(world, api):
    cw = college_world(world)
    answer = api(world.admin).post(f"/api/v1/college/runs/{cw.draft.pk}/publish/", format="json")
    assert answer.status_code == 400 and answer.json()["errors"][0]["code"] == "co_facilitation"
    api(world.admin).post(f"/api/v1/college/runs/{cw.draft.pk}/facilitators/", {"trainer_id": cw.carer_peer.pk}, format="json")
    answer = api(world.admin).post(f"/api/v1/college/runs/{cw.draft.pk}/publish/", format="json")
    assert answer.status_code == 200 and answer.json()["state"] == "published"
    assert {f["kind"] for f in answer.json()["facilitators"]} == {"professional", "carer_peer"}


def test_the_run_enrolment_list_pages_and_its_audit_names_the_page(world, api):
    cw = college_world(world)
    for _ in range(3):
        student = make_user(Role.CARER)
        api(student).post(f"/api/v1/college/runs/{cw.run.pk}/enrolments/", {}, format="json")
    first = api(world.carer).get(f"/api/v1/college/runs/{cw.run.pk}/enrolments/", {"page_size": 2}).json()
    assert len(first["results"]) == 2 and first["next"]
    event = AuditEvent.objects.filter(action="list", object_type="college.enrolment").latest("sequence")
    assert event.detail["ids"] == [str(e["id"]) for e in first["results"]] and event.actor == world.carer


def test_the_learning_plan_is_the_students_alone_and_its_read_is_audited(world, api):
    cw = college_world(world)
    url = f"/api/v1/college/enrolments/{cw.enrolment.pk}/plan/"
    saved = api(world.service_user).put(url, {"goals": "Sleep better."}, format="json")
    assert saved.status_code == 200 and saved.json()["goals"] == "Sleep better."
    assert api(world.service_user).get(url).json()["goals"] == "Sleep better."
    assert AuditEvent.objects.filter(action="read", object_type="college.enrolment", object_id=str(cw.enrolment.pk)).exists()
    for other in (world.carer, world.clinician, world.admin):
        assert api(other).get(url).status_code == 404
    assert api(world.service_user).put(url, {"goals": "x", "notes": "y"}, format="json").status_code == 400  # unknown field


@pytest.mark.parametrize("marks", [{"abc": "attended"}, {"99999999999999999999999": "attended"}, {"1": "present"}, {"٣": "attended"}])
def test_bad_register_marks_are_400(world, api, marks):
    cw = college_world(world)
    answer = api(world.carer).post(f"/api/v1/college/runs/{cw.run.pk}/sessions/1/register/", {"marks": marks}, format="json")
    assert answer.status_code == 400, answer.content


def test_a_session_that_does_not_exist_is_404(world, api):
    cw = college_world(world)
    assert api(world.carer).post(f"/api/v1/college/runs/{cw.run.pk}/sessions/9/register/", {"marks": {}}, format="json").status_code == 404

"""The Recovery College datasets: course_runs, enrolments, course_attendance and completions. Pseudonymised,
only service users whose evaluation consent holds (carers and staff never appear as rows), the learning plan's
text never exported, and an export of fewer than five people refused, as for every dataset."""

from __future__ import annotations

from backend.accounts.models import Role
from backend.audit.actor import Actor
from backend.college import services
from backend.evaluation.college import run_ref
from backend.evaluation.dictionary import COMPLETIONS, COURSE_ATTENDANCE, COURSE_RUNS, ENROLMENTS
from backend.evaluation.pseudonyms import pseudonym
from tests.college.helpers import attend, college_world, make_run
from tests.evaluation.test_exports import csv_rows, unzip
from tests.factories import make_user

URL = "/api/v1/evaluation/exports/"
PLAN = "My goal is to visit my sister at 14 Quiet Lane"


def _export(api, world, dataset, **filters):
    return api(world.evaluator).post(URL, {"dataset": dataset, "format": "csv", "dates": "exact", **({"filters": filters} if filters else {})},
                                     format="json")


def _big_run(cohort):
    world = cohort.world
    cw = college_world(world)
    admin = Actor(world.admin, via="test")
    course = services.course_create(actor=admin, organisation_id=world.organisation.pk, title="Hope and recovery", description="About hope.",
                                    audience="anyone", delivery="online", sessions=4, capacity=6)
    run = make_run(world, course, cw.term, trainers=(cw.professional, cw.carer_peer, cw.peer))
    carer = make_user(Role.CARER)
    for student in [*cohort.people, cohort.refuser, carer]:
        services.enrol(actor=Actor(student, via="test"), run=run, student=student)
    return run, carer


def test_the_four_college_datasets_hold_consenting_service_users_only(cohort, api):
    world = cohort.world
    run, carer = _big_run(cohort)  # 6 places: people 1-6 enrolled; 7, 8, the refuser and the carer wait
    placed = cohort.people[:6]
    services.learning_plan_save(actor=Actor(placed[0], via="test"), enrolment=run.enrolments.get(student=placed[0]), goals=PLAN)
    for student in placed[:5]:
        attend(world, run, student, 3)
    services.withdraw(actor=Actor(placed[5], via="test"), enrolment=run.enrolments.get(student=placed[5]))  # person 7 is promoted

    runs = csv_rows(unzip(_export(api, world, "course_runs"))["course_runs.csv"])
    assert list(runs[0]) == COURSE_RUNS.names
    ours = next(r for r in runs if r["run"] == run_ref(run.pk))
    assert (ours["places_taken"], ours["waiting"], ours["facilitators"], ours["peer_facilitators"], ours["carer_peer_facilitators"]) == ("6", "3", "3", "2", "1")
    assert ours["sessions_held"] == "3" and ours["course"] == "Hope and recovery"

    enrolments = csv_rows(unzip(_export(api, world, "enrolments"))["enrolments.csv"])
    assert list(enrolments[0]) == ENROLMENTS.names
    ours = [r for r in enrolments if r["run"] == run_ref(run.pk)]
    persons = {r["person"] for r in ours}
    assert persons == {pseudonym(p.pk) for p in cohort.people}  # not the refuser, not the carer
    by_person = {r["person"]: r for r in ours}
    assert by_person[pseudonym(cohort.people[6].pk)]["waited"] == "true" and by_person[pseudonym(cohort.people[6].pk)]["state"] == "enrolled"
    assert by_person[pseudonym(cohort.people[5].pk)]["state"] == "withdrawn" and by_person[pseudonym(cohort.people[0].pk)]["days_waiting"] == "0"
    assert by_person[pseudonym(cohort.people[7].pk)]["state"] == "waiting" and by_person[pseudonym(cohort.people[7].pk)]["days_waiting"] == ""

    attendance = csv_rows(unzip(_export(api, world, "course_attendance"))["course_attendance.csv"])
    assert list(attendance[0]) == COURSE_ATTENDANCE.names
    ours = [r for r in attendance if r["run"] == run_ref(run.pk)]
    assert len(ours) == 6 * 4  # the six with a place now (1-5 and 7), four sessions each
    assert sum(r["attendance"] == "attended" for r in ours) == 15 and {r["attendance"] for r in ours} == {"attended", "unknown"}

    files = unzip(_export(api, world, "completions"))
    completions = csv_rows(files["completions.csv"])
    assert list(completions[0]) == COMPLETIONS.names
    ours = {r["person"]: r for r in completions if r["run"] == run_ref(run.pk)}
    first = ours[pseudonym(cohort.people[0].pk)]
    assert (first["attended"], first["required"], first["completed"], first["goals_written"], first["reflection_written"]) == ("3", "3", "true", "true", "false")
    assert ours[pseudonym(cohort.people[6].pk)]["completed"] == "false"
    everything = b"".join(files.values()).decode()
    assert "Quiet Lane" not in everything and carer.email not in everything and pseudonym(carer.pk) not in everything


def test_fewer_than_five_people_is_refused(cohort, api):
    world = cohort.world
    cw = college_world(world)  # one enrolled service user (the world's, who has no evaluation consent)
    for student in cohort.people[:2]:
        services.enrol(actor=Actor(student, via="test"), run=cw.run, student=student)
    response = _export(api, world, "enrolments")
    assert response.status_code == 409 and response.json()["code"] == "too_few_people"

"""College services: the prospectus, co-facilitation, enrolment with a waiting list, withdrawal, the register,
completion, certificates, learning plans and feedback, and the bad input the issue lists."""

import datetime as dt

import pytest
from django.utils import timezone

from backend.accounts.models import CaseloadEntry, Role
from backend.audit.actor import Actor
from backend.audit.models import AuditEvent
from backend.college import selectors, services
from backend.college.models import CourseRun, Enrolment, RunSession
from backend.core.errors import Conflict, Forbidden, InvalidInput
from backend.groups.models import GroupAttendee, GroupSession
from tests.college.helpers import attend, college_world, make_run
from tests.factories import make_user

pytestmark = pytest.mark.django_db


def _student(role=Role.SERVICE_USER):
    return make_user(role)


def test_publishing_books_each_session_as_a_group_session_of_the_hosting_team(world):
    cw = college_world(world)
    sessions = list(cw.run.sessions.select_related("group"))
    assert [s.number for s in sessions] == [1, 2, 3, 4]
    groups = [s.group for s in sessions]
    assert {g.team_id for g in groups} == {world.north.pk} and {g.facilitator_id for g in groups} == {world.clinician.pk}
    assert len({g.series for g in groups}) == 1 and (groups[1].starts_at - groups[0].starts_at) == dt.timedelta(weeks=1)
    # The enrolled student is booked into every session; nobody was put on a caseload.
    assert all(g.attendees.filter(person=world.service_user).exists() for g in groups)
    assert AuditEvent.objects.filter(action="college.run_published", object_id=str(cw.run.pk)).exists()


@pytest.mark.parametrize("trainers,message", [
    ((), "at least two facilitators"),
    (("professional",), "at least two facilitators"),
    (("professional", "other_professional"), "peer trainer"),
])
def test_a_run_without_two_facilitators_or_without_a_peer_trainer_is_not_published(world, trainers, message):
    cw = college_world(world)
    other = services.trainer_record_create(actor=Actor(world.admin, via="test"), organisation_id=world.organisation.pk,
                                           user=world.other_clinician, kind="professional", training_completed="Facilitation",
                                           training_completed_on=timezone.localdate())
    records = {"professional": cw.professional, "other_professional": other}
    run = make_run(world, cw.course, cw.term, trainers=[records[t] for t in trainers], publish=False)
    with pytest.raises(InvalidInput, match=message) as caught:
        services.run_publish(actor=Actor(world.admin, via="test"), run=run)
    assert caught.value.code == "co_facilitation"
    run.refresh_from_db()
    assert run.state == CourseRun.State.DRAFT and not RunSession.objects.filter(run=run).exists()


def test_a_carer_peer_trainer_counts_as_the_peer_trainer_and_stays_a_carer(world):
    cw = college_world(world)
    assert cw.run.state == CourseRun.State.PUBLISHED
    world.carer.refresh_from_db()
    assert world.carer.role == Role.CARER and world.carer.organisation_id is None
    assert not world.carer.team_memberships.exists()
    # The carer trainer sees the run they co-facilitate and its students, not anyone's care.
    assert selectors.run_for_teaching(world.carer, cw.run.pk) == cw.run
    assert list(selectors.enrolments_visible_to(world.carer).filter(run=cw.run)) == [cw.enrolment]
    with pytest.raises(Forbidden):
        selectors.run_for_teaching(world.unlinked_carer, cw.run.pk)


def test_without_a_team_member_to_host_the_run_is_not_published(world):
    cw = college_world(world)
    run = make_run(world, cw.course, cw.term, trainers=[cw.carer_peer, cw.professional], publish=False)
    run.team = world.south
    run.save(update_fields=["team"])
    with pytest.raises(InvalidInput, match="host") :
        services.run_publish(actor=Actor(world.admin, via="test"), run=run)


def test_enrolment_fills_places_then_the_waiting_list_and_a_withdrawal_promotes_the_first_waiting(world):
    cw = college_world(world)  # capacity 3, one enrolled
    students = [_student(), _student(Role.CARER), _student(Role.CLINICIAN), _student()]
    enrolments = [services.enrol(actor=Actor(s, via="test"), run=cw.run, student=s) for s in students]
    assert [e.state for e in enrolments] == ["enrolled", "enrolled", "waiting", "waiting"]
    first_group = cw.run.sessions.get(number=1).group
    assert not first_group.attendees.filter(person=students[2]).exists()
    services.withdraw(actor=Actor(world.service_user, via="test"), enrolment=cw.enrolment)
    promoted = Enrolment.objects.get(pk=enrolments[2].pk)
    assert promoted.state == "enrolled" and promoted.promoted and promoted.placed_at
    assert first_group.attendees.get(person=students[2]).state == GroupAttendee.State.BOOKED
    assert first_group.attendees.get(person=world.service_user).state == GroupAttendee.State.REMOVED
    assert Enrolment.objects.get(pk=enrolments[3].pk).state == "waiting"
    assert cw.run.enrolments.filter(state="enrolled").count() == 3
    assert not CaseloadEntry.objects.filter(service_user__in=[students[0], students[3]]).exists()


def test_withdrawing_twice_is_a_clear_error_and_changes_nothing(world):
    cw = college_world(world)
    actor = Actor(world.service_user, via="test")
    services.withdraw(actor=actor, enrolment=cw.enrolment)
    events = AuditEvent.objects.count()
    with pytest.raises(Conflict, match="already withdrawn") as caught:
        services.withdraw(actor=actor, enrolment=cw.enrolment)
    assert caught.value.code == "already_withdrawn" and AuditEvent.objects.count() == events


def test_enrolling_twice_the_wrong_audience_a_draft_or_someone_else_is_refused(world):
    cw = college_world(world)
    with pytest.raises(Conflict, match="Already on a place"):
        services.enrol(actor=Actor(world.service_user, via="test"), run=cw.run, student=world.service_user)
    with pytest.raises(Conflict, match="not open"):
        services.enrol(actor=Actor(world.service_user, via="test"), run=cw.draft, student=world.service_user)
    carers_course = services.course_create(actor=Actor(world.admin, via="test"), organisation_id=world.organisation.pk, title="Caring well",
                                           description="For carers.", audience="carers", delivery="online", sessions=2, capacity=5)
    carers_run = make_run(world, carers_course, cw.term, trainers=(cw.professional, cw.carer_peer))
    with pytest.raises(InvalidInput, match="carers"):
        services.enrol(actor=Actor(world.service_user, via="test"), run=carers_run, student=world.service_user)
    # A student cannot enrol someone else; college staff can, with them.
    other = _student(Role.CARER)
    with pytest.raises(Forbidden):
        services.enrol(actor=Actor(world.service_user, via="test"), run=carers_run, student=other)
    enrolment = services.enrol(actor=Actor(world.peer_worker, via="test"), run=carers_run, student=other)
    assert enrolment.state == "enrolled" and enrolment.enrolled_by == world.peer_worker


def test_staff_of_another_organisation_cannot_manage_or_enrol_others(world, elsewhere):
    cw = college_world(world)
    with pytest.raises(Forbidden):
        services.enrol(actor=Actor(elsewhere.clinician, via="test"), run=cw.run, student=world.other_service_user)
    with pytest.raises(Forbidden):
        services.run_publish(actor=Actor(elsewhere.admin, via="test"), run=cw.draft)
    with pytest.raises(Forbidden):
        services.course_create(actor=Actor(world.carer, via="test"), organisation_id=world.organisation.pk, title="x", description="y",
                               audience="anyone", delivery="online", sessions=1, capacity=1)


@pytest.mark.parametrize("changes,field", [
    ({"capacity": 0}, "capacity"), ({"capacity": 99}, "capacity"), ({"sessions": 0}, "sessions"),
    ({"audience": "everyone"}, "audience"), ({"delivery": "pigeon"}, "delivery"), ({"title": " "}, "title"),
])
def test_bad_course_input_is_refused_naming_the_field(world, changes, field):
    values = dict(title="A course", description="About it.", audience="anyone", delivery="online", sessions=3, capacity=10) | changes
    with pytest.raises(InvalidInput) as caught:
        services.course_create(actor=Actor(world.admin, via="test"), organisation_id=world.organisation.pk, **values)
    assert caught.value.field == field


def test_a_run_outside_its_term_or_in_person_without_a_venue_is_refused(world):
    cw = college_world(world)
    admin = Actor(world.admin, via="test")
    with pytest.raises(InvalidInput, match="within the term"):
        services.run_create(actor=admin, course=cw.course, term=cw.term, team=world.north, delivery="online",
                            first_session_at=timezone.now() + dt.timedelta(days=200))
    with pytest.raises(InvalidInput) as caught:
        services.run_create(actor=admin, course=cw.course, term=cw.term, team=world.north, delivery="in_person",
                            first_session_at=timezone.now() + dt.timedelta(days=2))
    assert caught.value.field == "venue"


def test_a_professional_trainer_is_staff_and_a_supervisor_is_staff_of_the_organisation(world):
    admin = Actor(world.admin, via="test")
    with pytest.raises(InvalidInput, match="professional trainer"):
        services.trainer_record_create(actor=admin, organisation_id=world.organisation.pk, user=world.unlinked_carer, kind="professional",
                                       training_completed="x", training_completed_on=timezone.localdate())
    with pytest.raises(InvalidInput) as caught:
        services.trainer_record_create(actor=admin, organisation_id=world.organisation.pk, user=world.unlinked_carer, kind="carer_peer",
                                       training_completed="x", training_completed_on=timezone.localdate(), supervisor=world.service_user)
    assert caught.value.field == "supervisor_id"


def test_completion_certificate_and_refusal_for_too_little_attendance(world):
    cw = college_world(world)  # 4 sessions: 0.75 of 4 is 3
    student = Actor(world.service_user, via="test")
    attend(world, cw.run, world.service_user, 2)
    completion = selectors.completion_of(cw.enrolment)
    assert (completion.sessions, completion.held, completion.attended, completion.required, completion.completed) == (4, 2, 2, 3, False)
    with pytest.raises(Conflict, match="needs 3 of the 4 sessions attended; the register shows 2") as caught:
        services.certificate_issue(actor=student, enrolment=cw.enrolment)
    assert caught.value.code == "not_enough_attendance"
    assert not AuditEvent.objects.filter(action="college.certificate_issued").exists()
    # The carer peer trainer takes the third register.
    attend(world, cw.run, world.service_user, 3, by=world.carer)
    pdf = services.certificate_issue(actor=student, enrolment=cw.enrolment)
    assert pdf.startswith(b"%PDF-") and len(pdf) > 1000
    assert AuditEvent.objects.filter(action="college.certificate_issued", object_id=str(cw.enrolment.pk)).exists()
    with pytest.raises(Forbidden):
        services.certificate_issue(actor=Actor(world.clinician, via="test"), enrolment=cw.enrolment)


@pytest.mark.parametrize("share,sessions,required", [(0.75, 4, 3), (0.75, 6, 5), (0.75, 8, 6), (1.0, 5, 5), (0.5, 1, 1), (0.1, 3, 1)])
def test_required_sessions_round_up(settings, share, sessions, required):
    settings.COLLEGE_COMPLETION_SHARE = share
    assert selectors.required_sessions(sessions) == required


def test_the_register_is_for_facilitators_and_staff_and_only_once_a_session_has_started(world):
    cw = college_world(world)
    session = cw.run.sessions.get(number=1)
    with pytest.raises(Conflict, match="started"):
        services.register_take(actor=Actor(world.carer, via="test"), session=session, marks={cw.enrolment.pk: "attended"})
    GroupSession.objects.filter(pk=session.group_id).update(starts_at=timezone.now() - dt.timedelta(minutes=5))
    session = RunSession.objects.select_related("group", "run").get(pk=session.pk)
    with pytest.raises(Forbidden):
        services.register_take(actor=Actor(world.service_user, via="test"), session=session, marks={cw.enrolment.pk: "attended"})
    with pytest.raises(InvalidInput):
        services.register_take(actor=Actor(world.carer, via="test"), session=session, marks={cw.enrolment.pk: "present"})
    with pytest.raises(InvalidInput):
        services.register_take(actor=Actor(world.carer, via="test"), session=session, marks={999999: "attended"})
    assert services.register_take(actor=Actor(world.carer, via="test"), session=session, marks={cw.enrolment.pk: "attended"}) == 1
    assert session.group.attendees.get(person=world.service_user).attendance == "attended"


def test_learning_plan_is_the_students_own_and_feedback_is_given_once_against_the_form(world):
    cw = college_world(world)
    student = Actor(world.service_user, via="test")
    plan = services.learning_plan_save(actor=student, enrolment=cw.enrolment, goals="Understand my panic attacks.")
    plan = services.learning_plan_save(actor=student, enrolment=cw.enrolment, reflection="Breathing helps.")
    assert (plan.goals, plan.reflection) == ("Understand my panic attacks.", "Breathing helps.")
    with pytest.raises(Forbidden):
        services.learning_plan_save(actor=Actor(world.carer, via="test"), enrolment=cw.enrolment, goals="x")
    with pytest.raises(InvalidInput) as caught:
        services.feedback_submit(actor=student, enrolment=cw.enrolment, answers={"welcome": "agree"})
    assert caught.value.field == "useful"
    with pytest.raises(InvalidInput) as caught:
        services.feedback_submit(actor=student, enrolment=cw.enrolment, answers={"score": "10"})
    assert caught.value.field == "score"
    answers = {"welcome": "agree", "useful": "strongly_agree", "lived_experience": "agree", "recommend": "agree", "comments": " Good. "}
    response = services.feedback_submit(actor=student, enrolment=cw.enrolment, answers=answers)
    assert response.answers["comments"] == "Good." and response.form_version == "rapport-course-feedback-1"
    with pytest.raises(Conflict, match="already given"):
        services.feedback_submit(actor=student, enrolment=cw.enrolment, answers=answers)

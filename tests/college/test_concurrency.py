"""Places under concurrent enrolment on PostgreSQL: real transactions in real threads, each on its own
connection, released together. The run's row lock makes them queue, so the run never over-fills, and a
withdrawal racing enrolments still hands its place to exactly one waiting student."""

import threading

import pytest
from django.db import connection

from backend.accounts.models import Role
from backend.audit.actor import Actor
from backend.college import services
from backend.college.models import Enrolment
from backend.core.errors import DomainError
from backend.groups.models import GroupAttendee
from tests.college.helpers import college_world
from tests.factories import make_user

pytestmark = pytest.mark.django_db(transaction=True)


def _race(calls):
    barrier = threading.Barrier(len(calls))
    errors = []

    def run(call):
        try:
            barrier.wait(timeout=30)
            call()
        except DomainError as error:
            errors.append(error)
        except Exception as error:  # noqa: BLE001 - any other failure fails the test below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return errors


def test_concurrent_enrolments_never_over_fill_a_run(world):
    cw = college_world(world)  # capacity 3, one place taken
    students = [make_user(Role.SERVICE_USER) for _ in range(8)]
    errors = _race([lambda s=s: services.enrol(actor=Actor(s, via="test"), run=cw.run, student=s) for s in students])
    assert errors == []
    states = list(cw.run.enrolments.values_list("state", flat=True))
    assert states.count("enrolled") == 3 and states.count("waiting") == 6
    # Each session's group holds exactly the enrolled students.
    enrolled = set(cw.run.enrolments.filter(state="enrolled").values_list("student_id", flat=True))
    for session in cw.run.sessions.all():
        assert set(GroupAttendee.objects.filter(group=session.group_id).exclude(state="removed").values_list("person_id", flat=True)) == enrolled


def test_a_withdrawal_racing_enrolments_promotes_one_waiting_student_and_never_over_fills(world):
    cw = college_world(world)
    first = [make_user(Role.SERVICE_USER) for _ in range(3)]  # fills the run (3 places) and starts a waiting list
    for s in first:
        services.enrol(actor=Actor(s, via="test"), run=cw.run, student=s)
    waiting_first = Enrolment.objects.get(student=first[2], run=cw.run)
    assert waiting_first.state == "waiting"
    late = [make_user(Role.SERVICE_USER) for _ in range(5)]
    calls = [lambda s=s: services.enrol(actor=Actor(s, via="test"), run=cw.run, student=s) for s in late]
    calls.append(lambda: services.withdraw(actor=Actor(world.service_user, via="test"), enrolment=cw.enrolment))
    assert _race(calls) == []
    assert cw.run.enrolments.filter(state="enrolled").count() == 3
    waiting_first.refresh_from_db()
    assert waiting_first.state == "enrolled" and waiting_first.promoted  # first come, first served


def test_the_same_student_enrolling_twice_at_once_gets_one_enrolment(world):
    cw = college_world(world)
    student = make_user(Role.CARER)
    errors = _race([lambda: services.enrol(actor=Actor(student, via="test"), run=cw.run, student=student) for _ in range(4)])
    assert cw.run.enrolments.filter(student=student).count() == 1
    assert len(errors) == 3 and all(getattr(e, "code", "") == "already_enrolled" for e in errors)

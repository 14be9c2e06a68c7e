"""The Recovery College in the test world (tests/factories.py), built through the real services.

A term of the world's organisation; one course for anyone (online, 4 sessions, capacity 3); trainer records for
the clinician (professional), the peer worker (peer trainer) and the world's carer (carer peer trainer, still a
carer: no team, no caseload); a run hosted by North, co-led by the clinician and the carer, published (its
sessions booked as group sessions); the world's service user enrolled. Cached on the world."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from backend.audit.actor import Actor
from backend.college import services
from backend.college.models import Course, CourseRun, Enrolment, Term, TrainerRecord


@dataclass
class CollegeWorld:
    term: Term
    course: Course
    professional: TrainerRecord
    peer: TrainerRecord
    carer_peer: TrainerRecord
    run: CourseRun
    draft: CourseRun
    enrolment: Enrolment


def make_term(world, name="Spring") -> Term:
    today = timezone.localdate()
    return services.term_create(actor=Actor(world.admin, via="test"), organisation_id=world.organisation.pk, name=name,
                                starts_on=today - dt.timedelta(days=7), ends_on=today + dt.timedelta(days=120))


def make_run(world, course, term, *, trainers=(), publish=True, delivery="online", days_ahead=3, **kwargs) -> CourseRun:
    admin = Actor(world.admin, via="test")
    first = (timezone.now() + dt.timedelta(days=days_ahead)).replace(microsecond=0)
    run = services.run_create(actor=admin, course=course, term=term, team=world.north, delivery=delivery, first_session_at=first,
                              venue="Recovery College, 1 High Street" if delivery == "in_person" else "", **kwargs)
    for trainer in trainers:
        services.facilitator_add(actor=admin, run=run, trainer=trainer)
    if publish:
        run = services.run_publish(actor=admin, run=run)
    return run


def college_world(world) -> CollegeWorld:
    built = getattr(world, "_college", None)
    if built is not None:
        return built
    admin = Actor(world.admin, via="test")
    org = world.organisation.pk
    term = make_term(world)
    course = services.course_create(actor=admin, organisation_id=org, title="Understanding anxiety", description="What anxiety is and what helps.",
                                    audience="anyone", delivery="both", sessions=4, capacity=3)
    trained = timezone.localdate() - dt.timedelta(days=60)
    professional = services.trainer_record_create(actor=admin, organisation_id=org, user=world.clinician, kind="professional",
                                                  training_completed="Co-production and facilitation", training_completed_on=trained)
    peer = services.trainer_record_create(actor=admin, organisation_id=org, user=world.peer_worker, kind="peer",
                                          training_completed="Peer trainer course", training_completed_on=trained, accredited_on=trained + dt.timedelta(days=10),
                                          supervisor=world.clinician)
    carer_peer = services.trainer_record_create(actor=admin, organisation_id=org, user=world.carer, kind="carer_peer",
                                                training_completed="Peer trainer course", training_completed_on=trained, supervisor=world.clinician)
    run = make_run(world, course, term, trainers=(professional, carer_peer))
    draft = make_run(world, course, term, trainers=(professional,), publish=False)
    enrolment = services.enrol(actor=Actor(world.service_user, via="test"), run=run, student=world.service_user)
    world._college = CollegeWorld(term=term, course=course, professional=professional, peer=peer, carer_peer=carer_peer, run=run,
                                  draft=draft, enrolment=enrolment)
    return world._college


def attend(world, run, student, sessions: int, *, by=None) -> None:
    """Let time pass over `sessions` of the run's sessions and mark the student attended at each (the register)."""
    from backend.groups.models import GroupSession

    actor = Actor(by or world.clinician, via="test")
    enrolment = run.enrolments.get(student=student, state="enrolled")
    for session in run.sessions.select_related("group").order_by("number")[:sessions]:
        GroupSession.objects.filter(pk=session.group_id).update(starts_at=timezone.now() - dt.timedelta(hours=2))
        session.group.refresh_from_db()
        services.register_take(actor=actor, session=session, marks={enrolment.pk: "attended"})

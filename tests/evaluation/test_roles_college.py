"""The Recovery College in evaluation by practitioner role and site, worked by hand.

The evaluation cohort (conftest.cohort: eight people on North's caseload, site Leeds; the clinician's sessions:
14 attended, 2 did not attend, 1 cancelled), plus two college runs of a four-session course (completion: 3 of 4):

- run A, hosted by North (Leeds), co-led by the clinician (professional trainer) and the world's carer (carer
  peer trainer). Persons 1-5 attend all four sessions; person 6 attends two and misses two; the refuser (no
  evaluation consent) attends all four.
- run B, hosted by South (made site Bradford here), co-led by the other clinician (professional) and the peer
  worker (peer trainer). Person 7 attends all four.

Engagement, Leeds, run A only (the group session's facilitator is the clinician, so without the college's rule
these places would be the clinician's):

    role          attended  did not attend  offered
    clinician        14           2            16
    peer worker       0           0             0
    peer trainer     22           2            24     (5 x 4 + 2 attended; 2 missed)
    all roles        36           4            40

Primary suppression hides the 2s and the 4; each row then hides its attended count as well (the smallest
non-zero entry left, inner before totals; in the all-roles row both are totals and 36 < 40), so a reader
cannot take a hidden entry as offered - attended: clinician (*, *, 16), peer trainer (*, *, 24), all roles
(*, *, 40). One site, so all sites are the same.

Courses completed by site: Leeds 5 (persons 1-5; person 6 attended 2 of the 3 needed; the refuser does not
consent), Bradford 1 (person 7), all sites 6. Bradford's 1 is hidden (1-4) and, as the line Bradford, Leeds,
all sites would then hide exactly one entry, Leeds' 5 too (the smallest non-zero inner entry): (*, *, 6).
When person 7 withdraws consent: Leeds 5, all sites 5, both shown (Bradford, with nobody in evaluation
there, is no longer a site of the report).
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from backend.accounts.models import Team
from backend.audit.actor import Actor
from backend.college import services
from backend.college.models import Facilitator
from backend.consent.models import PurposeCode
from backend.evaluation.pseudonyms import DateSetting
from backend.evaluation.roles import courses_completed_by_site, engagement_rows, role_site_report_build, site_rows
from backend.evaluation.selectors import Filters
from backend.evaluation.statistics import TOTAL
from tests.college.helpers import attend, college_world, make_run
from tests.evaluation.test_outcomes import export, rows_of, unzip
from tests.factories import withdraw_consent

LEEDS, BRADFORD = "Leeds", "Bradford"


def _course(world, title):
    return services.course_create(actor=Actor(world.admin, via="test"), organisation_id=world.organisation.pk, title=title,
                                  description="About recovery.", audience="anyone", delivery="both", sessions=4, capacity=8)


def _enrol(run, students):
    for student in students:
        services.enrol(actor=Actor(student, via="test"), run=run, student=student)


def _miss(world, run, student, numbers):
    enrolment = run.enrolments.get(student=student, state="enrolled")
    for session in run.sessions.filter(number__in=numbers):
        services.register_take(actor=Actor(world.clinician, via="test"), session=session, marks={enrolment.pk: "dna"})


@pytest.fixture
def run_a(cohort):
    """Run A (module docstring): co-led by a professional and a carer peer trainer, hosted by North (Leeds)."""
    world = cohort.world
    cw = college_world(world)
    run = make_run(world, _course(world, "Hope and recovery"), cw.term, trainers=(cw.professional, cw.carer_peer))
    _enrol(run, [*cohort.people[:6], cohort.refuser])
    for student in [*cohort.people[:5], cohort.refuser]:
        attend(world, run, student, 4)
    attend(world, run, cohort.people[5], 2)
    _miss(world, run, cohort.people[5], [3, 4])
    return run


@pytest.fixture
def run_b(cohort, run_a):
    """Run B (module docstring): co-led by a professional and a peer trainer, hosted by South (Bradford)."""
    world = cohort.world
    cw = college_world(world)
    Team.objects.filter(pk=world.south.pk).update(site=BRADFORD)
    world.south.refresh_from_db()
    other = services.trainer_record_create(actor=Actor(world.admin, via="test"), organisation_id=world.organisation.pk,
                                           user=world.other_clinician, kind="professional", training_completed="Co-production and facilitation",
                                           training_completed_on=timezone.localdate() - dt.timedelta(days=30))
    admin = Actor(world.admin, via="test")
    run = services.run_create(actor=admin, course=_course(world, "Living well"), term=cw.term, team=world.south, delivery="online",
                              first_session_at=(timezone.now() + dt.timedelta(days=3)).replace(microsecond=0), capacity=8)
    for trainer in (other, cw.peer):
        services.facilitator_add(actor=admin, run=run, trainer=trainer)
    run = services.run_publish(actor=admin, run=run)
    _enrol(run, [cohort.people[6]])
    attend(world, run, cohort.people[6], 4)
    return run


def _groups(filters=None):
    rows = [row for chunk, _ in engagement_rows(filters or Filters(), DateSetting(mode="exact")) for row in chunk]
    return [r for r in rows if r["session_type"] == "group"]


def _engagement(report):
    return {(r.site, r.role): (r.attended, r.did_not_attend, r.offered) for r in report.engagement}


def test_a_course_co_led_by_a_carer_peer_trainer_counts_under_peer_trainer(run_a):
    groups = _groups()
    assert len(groups) == 24  # persons 1-6, four sessions each; the refuser is not in evaluation
    assert {(r["practitioner_role"], r["peer_support"], r["site"]) for r in groups} == {("peer_trainer", True, LEEDS)}
    assert sum(r["status"] == "attended" for r in groups) == 22 and sum(r["status"] == "did_not_attend" for r in groups) == 2
    assert all(r["session"].startswith("L") for r in groups)

    report = role_site_report_build(Filters())
    rows = _engagement(report)
    for site in (LEEDS, TOTAL):
        assert rows[(site, "clinician")] == (None, None, 16)
        assert rows[(site, "peer_worker")] == (0, 0, 0)
        assert rows[(site, "peer_trainer")] == (None, None, 24)
        assert rows[(site, TOTAL)] == (None, None, 40)


def test_without_a_peer_trainer_the_sessions_keep_the_groups_rule(run_a, cohort):
    """Publishing refuses such a run; if its peer trainer's facilitation is gone (here removed in the
    database), the course sessions count under their group facilitator's role (the clinician) again."""
    Facilitator.objects.filter(run=run_a, trainer=college_world(cohort.world).carer_peer).delete()
    assert {r["practitioner_role"] for r in _groups()} == {"clinician"}


def test_a_peer_trainer_run_at_another_site(run_b, cohort):
    groups = _groups()
    bradford = [r for r in groups if r["site"] == BRADFORD]
    assert len(bradford) == 4 and {(r["practitioner_role"], r["status"]) for r in bradford} == {("peer_trainer", "attended")}
    assert {r["site"] for r in _groups(Filters(site=BRADFORD))} == {BRADFORD}


def test_courses_completed_by_site_are_suppressed_as_worked_by_hand(run_b, cohort, api):
    assert courses_completed_by_site(Filters()) == {LEEDS: 5, BRADFORD: 1}  # before suppression
    report = role_site_report_build(Filters())
    assert report.courses_completed == {BRADFORD: None, LEEDS: None, TOTAL: 6}
    rows = {r["site"]: r["courses_completed"] for chunk, _ in site_rows(Filters(), DateSetting()) for r in chunk}
    assert rows == {BRADFORD: None, LEEDS: None, "All sites": 6}

    body = api(cohort.world.evaluator).get("/api/v1/evaluation/report/by-role-and-site/").json()
    assert body["courses_completed"] == {BRADFORD: None, LEEDS: None, "total": 6}
    exported = rows_of(unzip(export(api, cohort.world, "site_fidelity_engagement")), "site_fidelity_engagement.csv")
    assert [(r["site"], r["courses_completed"]) for r in exported] == [(BRADFORD, ""), (LEEDS, ""), ("All sites", "6")]

    withdraw_consent(cohort.people[6], PurposeCode.EVALUATION)  # person 7: Bradford's only completer
    # Nobody at Bradford is in evaluation now, so the site drops out of the report.
    assert role_site_report_build(Filters()).courses_completed == {LEEDS: 5, TOTAL: 5}
    assert courses_completed_by_site(Filters(site=LEEDS)) == {LEEDS: 5}
    assert courses_completed_by_site(Filters(team=cohort.world.south.pk)) == {}


def test_the_report_page_shows_courses_completed(run_b, cohort, client):
    client.force_login(cohort.world.evaluator)
    page = client.get("/evaluation/")
    assert page.status_code == 200
    assert b"Recovery College courses completed" in page.content and b"Peer trainer" in page.content

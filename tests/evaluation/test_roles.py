"""Evaluation by practitioner role and site (issue 17, point 7), worked by hand.

`peer_cohort`: the evaluation cohort (conftest.cohort: eight people on North's caseload, site Leeds; the
clinician's sessions: 14 attended, 2 did not attend, 1 cancelled), plus one face-to-face session each
that the peer worker ran for persons 1-6 (6 attended). Engagement by role, Leeds (and all sites):

    role          attended  did not attend  offered
    clinician        14           2            16
    peer worker       6           0             6
    peer trainer      0           0             0
    all roles        20           2            22

Primary suppression hides the clinician's 2 and all roles' 2; each of those rows then hides one more
entry (its attended count, the smallest non-zero inner cell), so a reader cannot take 2 as 16 - 14:
clinician (*, *, 16), peer worker (6, 0, 6), all roles (*, *, 22). The attended column then hides two
entries (14 and 20), the did-not-attend column two (2 and 2): every line hides none or two or more.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from backend.accounts import services as account_services
from backend.accounts.models import Role
from backend.audit.actor import Actor
from backend.audit.models import AuditEvent
from backend.consent.models import PurposeCode
from backend.evaluation.pseudonyms import DateSetting, staff_ref
from backend.evaluation.roles import engagement_rows, role_site_report_build, site_rows
from backend.evaluation.selectors import Filters
from backend.evaluation.statistics import TOTAL
from backend.groups.models import GroupAttendee, GroupSession
from backend.peerwork import services as peer_services
from backend.sessions.models import Appointment
from tests.evaluation.conftest import appointment, attend, person
from tests.evaluation.test_outcomes import export, rows_of, unzip
from tests.factories import SYSTEM, book_group, make_user, withdraw_consent
from tests.peerwork.helpers import ANSWERS, load_all

SITE = "Leeds"


@pytest.fixture
def peer_cohort(cohort):
    for user in cohort.people[:6]:
        attend(cohort.world, appointment(cohort.world, user, days_ago=3, clinician=cohort.world.peer_worker), "face_to_face",
               clinician=cohort.world.peer_worker)
    return cohort


def _engagement(report):
    return {(r.site, r.role): (r.attended, r.did_not_attend, r.offered) for r in report.engagement}


def test_engagement_by_role_and_site_suppressed_as_worked_by_hand(peer_cohort):
    report = role_site_report_build(Filters())
    assert report.enough_people and report.unattributed == 0
    rows = _engagement(report)
    for site in (SITE, TOTAL):
        assert rows[(site, "clinician")] == (None, None, 16)
        assert rows[(site, "peer_worker")] == (6, 0, 6)
        assert rows[(site, "peer_trainer")] == (0, 0, 0)
        assert rows[(site, TOTAL)] == (None, None, 22)
    peer = next(r for r in report.engagement if (r.site, r.role) == (SITE, "peer_worker"))
    assert (peer.dna.value, peer.dna.low, round(peer.dna.high, 4)) == (0.0, 0.0, 0.3903)  # Wilson 0 of 6
    assert report.courses_completed == {SITE: 0, TOTAL: 0}  # no Recovery College run (test_roles_college.py has them)


def test_the_engagement_dataset_counts_group_places_under_the_peer_worker(peer_cohort):
    world = peer_cohort.world
    group = book_group(world, people=peer_cohort.people[:3])  # the clinician facilitates, the peer worker co-facilitates
    GroupSession.objects.filter(pk=group.pk).update(status=GroupSession.Status.ENDED, starts_at=timezone.now() - timedelta(days=1))
    places = list(GroupAttendee.objects.filter(group=group).order_by("id"))
    GroupAttendee.objects.filter(pk__in=[p.pk for p in places[:2]]).update(attendance=GroupAttendee.Attendance.ATTENDED)
    GroupAttendee.objects.filter(pk=places[2].pk).update(attendance=GroupAttendee.Attendance.DID_NOT_ATTEND)
    rows = [row for chunk, _ in engagement_rows(Filters(), DateSetting(mode="exact")) for row in chunk]
    groups = [r for r in rows if r["session_type"] == "group"]
    assert [(r["practitioner_role"], r["peer_support"], r["status"], r["site"]) for r in groups] == [
        ("peer_worker", True, "attended", SITE), ("peer_worker", True, "attended", SITE), ("peer_worker", True, "did_not_attend", SITE)]
    one_to_one = [r for r in rows if r["session_type"] == "one_to_one"]
    assert sum(r["practitioner_role"] == "peer_worker" for r in one_to_one) == 6
    assert sum(r["status"] == "cancelled" for r in one_to_one) == 1
    assert all(r["session"].startswith("L") for r in groups) and all(r["session"].startswith("A") for r in one_to_one)
    # The report now has the peer worker at 8 attended, 1 did not attend (primary), 9 offered: the 8 goes too.
    assert _engagement(role_site_report_build(Filters()))[(SITE, "peer_worker")] == (None, None, 9)


def test_paired_outcomes_by_the_role_that_ran_most_sessions(outcomes_cohort):
    """conftest.outcomes_cohort (test_outcomes.py's docstring has the numbers), its imported sessions (which
    record no practitioner) put down to the peer worker for courses A and B, the clinician for C and D:
    peer worker 10 courses, 10 at caseness, 10 recovered, 5 reliably recovered, 5 improved, 0 deteriorated;
    clinician 10, 5 at caseness, 0 recovered, 0 reliably recovered, 5 improved, 5 deteriorated. No count is
    from 1 to 4, so nothing is suppressed."""
    world = outcomes_cohort.world
    for course, user in outcomes_cohort.people.items():
        # The import records no practitioner: say who ran them (no service changes an imported appointment).
        Appointment.objects.filter(service_user=user).update(practitioner=world.peer_worker if course[0] in "AB" else world.clinician)
    report = role_site_report_build(Filters())
    rows = {(r.site, r.role): r for r in report.outcomes}
    peer, clinician, total = rows[(SITE, "peer_worker")], rows[(SITE, "clinician")], rows[(TOTAL, TOTAL)]
    assert (peer.ended, peer.finished, peer.paired, peer.at_caseness) == (10, 10, 10, 10)
    assert (clinician.ended, clinician.finished, clinician.paired, clinician.at_caseness) == (10, 10, 10, 5)
    assert [(r.numerator, r.denominator) for r in peer.rate_list] == [(10, 10), (5, 10), (5, 10), (0, 10)]
    assert [(r.numerator, r.denominator) for r in clinician.rate_list] == [(0, 5), (0, 5), (5, 10), (5, 10)]
    assert (total.ended, total.at_caseness) == (20, 15) and total.rates["recovery"].numerator == 10
    assert (rows[(SITE, "peer_trainer")].ended, rows[(SITE, "mixed")].ended) == (0, 0)
    assert rows[(SITE, "none")].ended == 0  # O1 is open; X1 does not consent


def test_withdrawing_one_person_suppresses_their_course_and_its_complement(outcomes_cohort):
    """Without A1: the peer worker has 9 courses, 4 reliably recovered (primary) and so 5 not reliably
    recovered, hidden as its line's complement; the other counts stay."""
    world = outcomes_cohort.world
    for course, user in outcomes_cohort.people.items():
        Appointment.objects.filter(service_user=user).update(practitioner=world.peer_worker if course[0] in "AB" else world.clinician)
    withdraw_consent(outcomes_cohort.people["A1"], PurposeCode.EVALUATION)
    peer = next(r for r in role_site_report_build(Filters()).outcomes if (r.site, r.role) == (SITE, "peer_worker"))
    assert (peer.ended, peer.at_caseness) == (9, 9)
    assert peer.rates["reliable_recovery"].suppressed and peer.rates["reliable_improvement"].suppressed
    assert (peer.rates["recovery"].numerator, peer.rates["recovery"].denominator) == (9, 9)


def test_the_report_api_and_page_answer_evaluators_only_and_are_audited(peer_cohort, api, client):
    world = peer_cohort.world
    answer = api(world.evaluator).get("/api/v1/evaluation/report/by-role-and-site/")
    assert answer.status_code == 200, answer.content
    body = answer.json()
    peer = next(r for r in body["engagement"] if (r["site"], r["role"]) == (SITE, "peer_worker"))
    assert (peer["attended"], peer["did_not_attend"], peer["offered"]) == (6, 0, 6) and body["courses_completed"] == {SITE: 0, "total": 0}
    assert AuditEvent.objects.filter(object_type="evaluation.report").latest("sequence").detail["report"] == "by_role_and_site"
    for user in (world.admin, world.clinician, world.peer_worker, world.service_user):
        assert api(user).get("/api/v1/evaluation/report/by-role-and-site/").status_code == 403
    assert api(world.evaluator).get("/api/v1/evaluation/report/by-role-and-site/", {"modality": "video"}).status_code == 400
    client.force_login(world.evaluator)
    page = client.get("/evaluation/")
    assert page.status_code == 200 and b"By practitioner role and site" in page.content and b"Peer worker" in page.content


def _peer_workers(world, n=4):
    workers = [world.peer_worker]
    for _ in range(n):
        worker = make_user(Role.PEER_WORKER)
        account_services.team_member_add(actor=SYSTEM, team=world.north, user=worker)
        workers.append(worker)
    return workers


def test_supervision_and_fidelity_datasets_are_pseudonymised(peer_cohort, api):
    world = peer_cohort.world
    load_all(world)
    workers = _peer_workers(world)
    for worker in workers:
        membership = worker.team_memberships.get()
        peer_services.supervision_record(actor=Actor(world.clinician), supervisor=world.clinician, membership=membership,
                                         held_on=timezone.localdate() - timedelta(days=2), topics=["boundaries", "wellbeing"],
                                         actions="Secret action at 12 Private Road", notes="Private supervision notes")
        peer_services.fidelity_rate(actor=Actor(worker), rater=worker, peer_worker_id=worker.pk, team_id=world.north.pk,
                                    rated_on=timezone.localdate() - timedelta(days=1), answers={int(k): v for k, v in ANSWERS.items()})
    files = unzip(export(api, world, "supervision", dates="exact"))
    rows = rows_of(files, "supervision.csv")
    assert len(rows) == 5 and {r["peer_worker"] for r in rows} == {staff_ref(w.pk) for w in workers}
    assert {(r["supervisor"], r["supervisor_role"], r["topics"], r["topic_count"], r["site"]) for r in rows} == {
        (staff_ref(world.clinician.pk), "clinician", "boundaries;wellbeing", "2", SITE)}
    everything = b"".join(files.values())
    for secret in (b"Private Road", b"Private supervision", world.peer_worker.full_name.encode(), world.peer_worker.email.encode()):
        assert secret not in everything
    ratings = rows_of(unzip(export(api, world, "fidelity", dates="exact")), "fidelity.csv")
    assert len(ratings) == 5
    # Scored answers 4, (1 reversed) 4, 3, 3, 2, 2, 4 and one unanswered: total 22 over 7, prorated to 25.
    assert {(r["informant"], r["score"], r["unanswered_items"], r["items"], r["trust_lived_experience_mean"], r["reciprocity_mutuality_mean"],
             r["leadership_choice_control_mean"], r["strengths_community_mean"], r["strengths_community_items"]) for r in ratings} == {
        ("peer_worker", "25", "1", "8", "4", "3", "2", "4", "1")}
    answers = rows_of(unzip(export(api, world, "fidelity_answers", dates="exact")), "fidelity_answers.csv")
    assert len(answers) == 40
    second = next(r for r in answers if r["item"] == "2")
    assert (second["value"], second["scored_value"], second["domain"]) == ("1", "4", "trust_lived_experience")


def test_too_few_peer_workers_refuses_the_supervision_export(peer_cohort, api):
    from tests.peerwork.helpers import supervise

    supervise(peer_cohort.world)
    answer = export(api, peer_cohort.world, "supervision")
    assert answer.status_code == 409 and answer.json()["code"] == "too_few_people"


def test_the_site_dataset_puts_fidelity_beside_engagement(peer_cohort, api):
    """Leeds and all sites alike: 5 ratings, all by the peer workers themselves (5 peer workers, each one
    rating; shown); engagement as the report (all sessions 20 attended / 2 not (primary) / 22: the 20 goes
    too; peer support 6 / 0 / 6, attendance rate 1.0). Each rating's mean scored item is 22 / 7 = 3.14."""
    world = peer_cohort.world
    load_all(world)
    for worker in _peer_workers(world):
        peer_services.fidelity_rate(actor=Actor(worker), rater=worker, peer_worker_id=worker.pk, team_id=world.north.pk,
                                    rated_on=timezone.localdate(), answers={int(k): v for k, v in ANSWERS.items()})
    rows = [row for chunk, _ in site_rows(Filters(), DateSetting()) for row in chunk]
    assert [r["site"] for r in rows] == [SITE, "All sites"]
    for row in rows:
        assert (row["peer_workers_rated"], row["ratings"], row["ratings_by_peer_worker"], row["ratings_by_supervisor"],
                row["ratings_by_person_supported"]) == (5, 5, 5, 0, 0)
        assert (row["fidelity_mean"], row["trust_lived_experience_mean"], row["leadership_choice_control_mean"]) == (3.14, 4.0, 2.0)
        assert (row["all_offered"], row["all_attended"], row["all_did_not_attend"], row["all_attendance_rate"]) == (22, None, None, None)
        assert (row["peer_support_offered"], row["peer_support_attended"], row["peer_support_did_not_attend"],
                row["peer_support_attendance_rate"]) == (6, 6, 0, 1.0)
        assert row["courses_completed"] == 0
    files = unzip(export(api, world, "site_fidelity_engagement"))
    exported = rows_of(files, "site_fidelity_engagement.csv")
    assert exported[0]["site"] == SITE and exported[0]["all_attended"] == "" and exported[0]["peer_support_attended"] == "6"


def test_a_rating_by_a_person_who_withdrew_consent_is_left_out(peer_cohort):
    world = peer_cohort.world
    load_all(world)
    supported = peer_cohort.people[0]  # the peer worker ran a session with them
    peer_services.fidelity_rate(actor=Actor(supported), rater=supported, peer_worker_id=world.peer_worker.pk, team_id=world.north.pk,
                                rated_on=timezone.localdate(), answers={1: 4})
    rows = [row for chunk, _ in site_rows(Filters(), DateSetting()) for row in chunk]
    assert rows[0]["ratings"] is None  # 1 rating: suppressed
    withdraw_consent(supported, PurposeCode.EVALUATION)
    rows = [row for chunk, _ in site_rows(Filters(), DateSetting()) for row in chunk]
    assert rows[0]["ratings"] == 0

"""Online college sessions through the group media engine (issue 17 point 4): a student reaches each session's group
waiting room from their course page; the run's facilitators, a carer peer trainer with no team included, facilitate
its sessions live through groups' hook (backend/groups/hooks.py) and nothing more; attendance that `group_end`
records counts toward completion and the certificate."""

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from backend.audit.actor import Actor
from backend.college import selectors as college
from backend.college import services
from backend.groups.models import GroupAttendee, GroupSession
from tests.college.helpers import college_world, make_run


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def _other_run(world):
    """A second published run of the same course, co-led by the clinician and the unlinked carer as a carer peer
    trainer (also no team)."""
    cw = college_world(world)
    trained = timezone.localdate() - dt.timedelta(days=30)
    record = services.trainer_record_create(actor=Actor(world.admin, via="test"), organisation_id=world.organisation.pk, user=world.unlinked_carer,
                                            kind="carer_peer", training_completed="Peer trainer course", training_completed_on=trained)
    return make_run(world, cw.course, cw.term, trainers=(cw.professional, record), days_ahead=5), record


@pytest.mark.django_db
def test_an_enrolled_student_reaches_each_online_sessions_waiting_room_from_my_course(world, client):
    cw = college_world(world)
    client.force_login(world.service_user)
    body = client.get(f"/college/my/{cw.enrolment.pk}/").content.decode()
    sessions = list(cw.run.sessions.select_related("group").order_by("number"))
    assert len(sessions) == 4
    for session in sessions:
        room = f"/groups/{session.group_id}/room/"
        assert f'href="{room}"' in body
        assert client.get(room).status_code == 200  # the groups' own waiting room lets them in
    # An ended session has no way in any more; an in-person run never had one.
    GroupSession.objects.filter(pk=sessions[0].group_id).update(status=GroupSession.Status.ENDED)
    body = client.get(f"/college/my/{cw.enrolment.pk}/").content.decode()
    assert f'href="/groups/{sessions[0].group_id}/room/"' not in body and f'href="/groups/{sessions[1].group_id}/room/"' in body
    in_person = make_run(world, cw.course, cw.term, trainers=(cw.professional, cw.carer_peer), delivery="in_person", days_ahead=6)
    enrolment = services.enrol(actor=Actor(world.service_user, via="test"), run=in_person, student=world.service_user)
    body = client.get(f"/college/my/{enrolment.pk}/").content.decode()
    assert "/room/" not in body and "Join session" not in body
    # Withdrawn: their places are taken out (groups' "removed"), the links go and the rooms do not let them wait.
    services.withdraw(actor=Actor(world.service_user, via="test"), enrolment=cw.enrolment)
    body = client.get(f"/college/my/{cw.enrolment.pk}/").content.decode()
    assert "/room/" not in body
    assert client.get(f"/groups/{sessions[1].group_id}/room/status/").json()["state"] == "removed"
    client.post(f"/groups/{sessions[1].group_id}/room/arrive/")
    assert GroupAttendee.objects.get(group_id=sessions[1].group_id, person=world.service_user).state == GroupAttendee.State.REMOVED


@pytest.mark.django_db
def test_the_carer_peer_trainer_facilitates_their_runs_sessions_live_and_nothing_more(world):
    cw = college_world(world)
    other, other_record = _other_run(world)
    mine = [s.group_id for s in cw.run.sessions.order_by("number")]
    theirs = [s.group_id for s in other.sessions.order_by("number")]
    carer, other_carer = _client(world.carer), _client(world.unlinked_carer)
    assert world.carer.role == "carer" and not world.carer.team_memberships.exists()

    # Their own run's sessions: the facilitator's live view and its attendee panel, without students' phone numbers.
    for group_id in mine:
        assert carer.get(f"/groups/{group_id}/facilitate/").status_code == 200
    panel = carer.get(f"/groups/{mine[0]}/facilitate/attendees/")
    assert panel.status_code == 200 and world.service_user.display_name in panel.content.decode()
    world.service_user.phone_number = "07700 900123"
    world.service_user.save(update_fields=["phone_number"])
    assert "900123" not in carer.get(f"/groups/{mine[0]}/facilitate/attendees/").content.decode()
    assert "900123" in _client(world.clinician).get(f"/groups/{mine[0]}/facilitate/attendees/").content.decode()
    # The run page links each online session's live view.
    assert f'href="/groups/{mine[0]}/facilitate/"' in carer.get(f"/college/runs/{cw.run.pk}/").content.decode()
    # Starting goes through (here no Janus is configured: 409 groups_unavailable, not a refusal of access).
    started = carer.post(f"/groups/{mine[0]}/facilitate/start/", HTTP_ACCEPT="application/json")
    assert started.status_code == 409 and started.json()["code"] == "groups_unavailable"
    assert carer.post(f"/api/v1/groups/{mine[0]}/media/").json()["code"] == "not_started"  # the facilitator's path, not an attendee's

    # Another run's sessions: as if they did not exist, both ways.
    for group_id in theirs:
        assert carer.get(f"/groups/{group_id}/facilitate/").status_code == 404
        assert carer.post(f"/groups/{group_id}/facilitate/start/").status_code == 404
        assert carer.post(f"/groups/{group_id}/facilitate/end/").status_code == 404
        assert carer.post(f"/api/v1/groups/{group_id}/media/").status_code == 404
        assert other_carer.get(f"/groups/{group_id}/facilitate/").status_code == 200
    for group_id in mine:
        assert other_carer.get(f"/groups/{group_id}/facilitate/").status_code == 404
        assert other_carer.post(f"/groups/{group_id}/facilitate/message/", {"text": "hello"}).status_code == 404
        assert other_carer.post(f"/api/v1/groups/{group_id}/media/").status_code == 404

    # Only the live facilitation: not the team's staff pages, booking, cancelling or the API's details.
    assert carer.get(f"/groups/{mine[0]}/").status_code == 403
    assert carer.post(f"/groups/{mine[0]}/cancel/", {"reason": "no"}).status_code == 403
    assert carer.get(f"/api/v1/groups/{mine[0]}/").status_code == 404
    assert carer.post(f"/api/v1/groups/{mine[0]}/cancel/", {"reason": "no"}, content_type="application/json").status_code == 403
    assert GroupSession.objects.get(pk=mine[0]).status == GroupSession.Status.SCHEDULED

    # The student is an attendee, not a facilitator: the page says who it is for. A stranger: 404.
    assert _client(world.service_user).get(f"/groups/{mine[0]}/facilitate/").status_code == 403
    assert _client(world.other_service_user).get(f"/groups/{mine[0]}/facilitate/").status_code == 404

    # A trainer record made inactive takes the way in away at once.
    other_record.active = False
    other_record.save(update_fields=["active"])
    assert other_carer.get(f"/groups/{theirs[0]}/facilitate/").status_code == 404
    assert not college.facilitates_session(world.unlinked_carer, theirs[0])
    assert not college.facilitates_session(world.carer, theirs[0]) and college.facilitates_session(world.carer, mine[0])


@pytest.mark.django_db(transaction=True)
def test_attendance_from_the_online_session_counts_toward_completion_and_the_certificate(world, janus, settings):
    """The carer peer trainer runs session 1 through Janus from the pages; the student waits, is let in, the group
    ends: the register `group_end` fills in is what completion counts, and the certificate follows."""
    settings.COLLEGE_COMPLETION_SHARE = 0.25  # 1 of the 4 sessions
    cw = college_world(world)
    group_id = cw.run.sessions.get(number=1).group_id
    carer, student = _client(world.carer), _client(world.service_user)
    assert college.completion_of(cw.enrolment).attended == 0
    assert student.get(f"/college/my/{cw.enrolment.pk}/certificate/").status_code == 409

    assert carer.post(f"/groups/{group_id}/facilitate/start/", HTTP_ACCEPT="application/json").json()["ok"]
    assert student.post(f"/groups/{group_id}/room/arrive/").status_code == 302
    attendee = GroupAttendee.objects.get(group_id=group_id, person=world.service_user)
    for step in ("safety", "admit"):
        answer = carer.post(f"/groups/{group_id}/facilitate/{attendee.pk}/{step}/", HTTP_ACCEPT="application/json")
        assert answer.json()["ok"], answer.json()
    assert student.get(f"/groups/{group_id}/room/status/").json()["call_url"] == f"/groups/{group_id}/call/"
    media = carer.post(f"/api/v1/groups/{group_id}/media/")
    assert media.status_code == 200 and media.json()["token"]
    assert student.post(f"/api/v1/groups/{group_id}/media/").status_code == 200
    assert college.completion_of(cw.enrolment).attended == 0  # not until the register is kept
    assert carer.post(f"/groups/{group_id}/facilitate/end/").status_code == 302

    attendee.refresh_from_db()
    assert attendee.attendance == GroupAttendee.Attendance.ATTENDED
    completion = college.completion_of(cw.enrolment)
    assert (completion.attended, completion.held, completion.required, completion.completed) == (1, 1, 1, True)
    page = student.get(f"/college/my/{cw.enrolment.pk}/").content.decode()
    assert "You have attended 1 of 4 sessions" in page and f'href="/groups/{group_id}/room/"' not in page
    pdf = student.get(f"/college/my/{cw.enrolment.pk}/certificate/")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    # With the usual share (3 of 4) one online session is not enough: a clear refusal.
    settings.COLLEGE_COMPLETION_SHARE = 0.75
    assert student.get(f"/college/my/{cw.enrolment.pk}/certificate/").status_code == 409

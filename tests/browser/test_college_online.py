"""An online Recovery College session in Chromium through the tests' real Janus (issue 17: "a service user finds
the course in the public prospectus, enrols, attends online sessions (through the group media engine) and gets a
certificate", with a carer peer trainer co-facilitating).

The world's run (tests/college/helpers.py) is co-led by the clinician (the hosting team's, the group's facilitator)
and the world's carer, a carer peer trainer with no team, who facilitates through the college's grant into groups
(backend/groups/hooks.py). A service user enrols from the public prospectus, joins session 1 from their course page
through the group's waiting room, is let in by the carer peer trainer and sees and hears both trainers; the
clinician ends the group; the register it fills in gives the student the certificate. The Rapport server of this
module needs one session of four for a certificate (COLLEGE_COMPLETION_SHARE=0.25). Fixtures and the media check
are test_group_call.py's (same Janus, same own-address ICE rule). Every page passes axe.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from backend.consent.models import PurposeCode
from backend.consent.selectors import consents_holding
from backend.groups.models import GroupAttendee, GroupSession
from tests.browser.conftest import PASSWORD, assert_accessible, log_in
from tests.browser.test_group_call import WAIT_MS, _remote_videos_playing, _server, chromium, open_page  # noqa: F401 (fixtures)
from tests.college.helpers import college_world
from tests.factories import give_consent


@pytest.fixture(scope="module")
def college_janus_url(django_db_setup, tmp_path_factory, _janus):
    """Rapport with the tests' Janus, needing one attended session of four for a certificate."""
    server = _server({"JANUS_SERVERS": _janus.url, "JANUS_TOKEN_SECRET": _janus.token_secret, "JANUS_ADMIN_KEY": _janus.admin_key,
                      "COLLEGE_COMPLETION_SHARE": "0.25"}, tmp_path_factory, "asgi-college-janus")
    yield server.base_url
    server.stop()


def test_a_clinician_and_a_carer_peer_trainer_teach_online_and_the_student_gets_a_certificate(open_page, world, college_janus_url, page_problems):
    cw = college_world(world)
    student, carer, clinician = world.other_service_user, world.carer, world.clinician
    for user in (student, carer, clinician):
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])
    held = consents_holding(student, [PurposeCode.REMOTE_CARE, PurposeCode.VIDEO])
    for purpose in (PurposeCode.REMOTE_CARE, PurposeCode.VIDEO):
        if purpose not in held:
            give_consent(student, purpose)

    # The public prospectus, logged out; the student logs in from it and enrols.
    page = open_page(college_janus_url)
    page.goto("/college/prospectus/")
    expect(page.get_by_role("heading", name="Understanding anxiety")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name="Log in to enrol on Understanding anxiety").click()
    page.get_by_label("Email address").fill(student.email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Log in", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Understanding anxiety")
    page.get_by_role("button", name="Enrol on Understanding anxiety").click()
    expect(page.get_by_role("status")).to_contain_text("You have a place on Understanding anxiety")
    expect(page.get_by_text("You have attended 0 of 4 sessions. A certificate needs 1.")).to_be_visible()
    expect(page.get_by_role("link", name="Join session 1")).to_be_visible()
    assert_accessible(page)
    course_page = page.url

    # Session 1 is due now.
    session = cw.run.sessions.get(number=1)
    GroupSession.objects.filter(pk=session.group_id).update(starts_at=timezone.now() - dt.timedelta(minutes=2))
    group_id = session.group_id

    # The carer peer trainer starts it from the run's page (they are no team's staff).
    trainer = open_page(college_janus_url)
    log_in(trainer, carer.email)
    trainer.goto(f"/college/runs/{cw.run.pk}/")
    assert_accessible(trainer)
    trainer.get_by_role("link", name="Run session 1 online").click()
    trainer.wait_for_url(f"**/groups/{group_id}/facilitate/")
    expect(trainer.get_by_role("heading", name="Run the group: Understanding anxiety")).to_be_visible()
    assert_accessible(trainer)
    trainer.get_by_role("button", name="Start the group").click()
    expect(trainer.locator("#group-call")).to_be_visible(timeout=WAIT_MS)

    # The clinician, the group's facilitator, comes into the same call.
    host = open_page(college_janus_url)
    log_in(host, clinician.email)
    host.goto(f"/groups/{group_id}/facilitate/")
    expect(host.locator("#group-call")).to_be_visible(timeout=WAIT_MS)

    # The student joins from their course page, through the waiting room.
    page.goto(course_page)
    page.get_by_role("link", name="Join session 1").click()
    page.wait_for_url(f"**/groups/{group_id}/room/")
    expect(page.get_by_role("heading", name="Understanding anxiety")).to_be_visible()
    assert_accessible(page)
    checked = page.get_by_role("button", name="I have checked: wait for the group")
    if checked.count():
        page.get_by_label("I am somewhere I can talk without being overheard", exact=False).check()
        page.get_by_label("I am at the address the team has for me", exact=False).check()
        checked.click()
    else:
        page.get_by_role("button", name="Wait for the group").click()
    expect(page.locator("#group-room-status")).to_have_text("You are in the waiting room. The facilitator will let you in.")

    # The carer peer trainer does the safety check and lets them in.
    safety = trainer.get_by_role("button", name=f"Safety check done for {student.display_name}")
    if GroupAttendee.objects.get(group_id=group_id, person=student).safety_confirmed_at is None:
        safety.click(timeout=WAIT_MS)
    trainer.get_by_role("button", name=f"Let {student.display_name} in").click(timeout=WAIT_MS)
    page.wait_for_url(f"**/groups/{group_id}/call/", timeout=WAIT_MS)

    # Everyone sees and hears the two others.
    for each in (trainer, host, page):
        _remote_videos_playing(each, 2, open_page.consoles)
    assert_accessible(page)
    assert_accessible(trainer)

    # The clinician ends the group: the student is told, and the register says they attended.
    host.get_by_role("button", name="End the group for everyone").click()
    expect(host.locator("#group-facilitate-status")).to_have_text("This group session has finished.", timeout=WAIT_MS)
    page.wait_for_url(f"**/groups/{group_id}/room/", timeout=WAIT_MS)
    expect(page.locator("#group-room-status")).to_have_text("This group session has finished.", timeout=WAIT_MS)
    assert GroupAttendee.objects.get(group_id=group_id, person=student).attendance == GroupAttendee.Attendance.ATTENDED

    # The student's course page counts it, and the certificate downloads.
    page.goto(course_page)
    expect(page.get_by_text("You have attended 1 of 4 sessions. A certificate needs 1.")).to_be_visible()
    expect(page.get_by_role("cell", name="Attended")).to_be_visible()
    assert_accessible(page)
    with page.expect_download() as download:
        page.get_by_role("link", name="Download your certificate (PDF)").click()
    with open(download.value.path(), "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"
    page_problems.assert_none(page)
    page_problems.assert_none(trainer)

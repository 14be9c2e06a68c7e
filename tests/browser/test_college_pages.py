"""The Recovery College end to end in Chromium, with axe on every page (desktop, and the public prospectus on a
phone): a service user finds a course in the public prospectus without logging in, logs in and enrols; a carer
who is a carer peer trainer sees the run they co-facilitate and takes the registers (in-person register on the
page, through groups' register); the student then downloads their certificate."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from playwright.sync_api import expect

from backend.college.models import Enrolment
from backend.groups.models import GroupSession
from tests.browser.conftest import PASSWORD, assert_accessible, log_in
from tests.college.helpers import college_world

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}


def _check(page) -> None:
    assert_accessible(page)
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth"), f"{page.url} scrolls sideways"


def test_a_service_user_enrols_from_the_public_prospectus_and_a_carer_peer_trainer_takes_the_register(new_page, world):
    cw = college_world(world)
    student, carer = world.other_service_user, world.carer
    for user in (student, carer):
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])

    # The public prospectus, on a phone, logged out: the course, its trainers' kinds, no names.
    phone = new_page(**PHONE)
    phone.goto("/college/prospectus/")
    expect(phone.get_by_role("heading", level=1)).to_have_text("Recovery College prospectus")
    expect(phone.get_by_role("heading", name="Understanding anxiety")).to_be_visible()
    expect(phone.get_by_text("carer peer trainer").first).to_be_visible()
    assert world.carer.full_name not in phone.content()
    _check(phone)

    # The service user follows the link, logs in and lands on the run's page.
    page = new_page(viewport={"width": 1280, "height": 900})
    page.goto("/college/prospectus/")
    page.get_by_role("link", name="Log in to enrol on Understanding anxiety").click()
    page.get_by_label("Email address").fill(student.email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Log in", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Understanding anxiety")
    assert page.url.endswith(f"/college/runs/{cw.run.pk}/")
    _check(page)
    page.get_by_role("button", name="Enrol on Understanding anxiety").click()
    expect(page.get_by_role("status")).to_contain_text("You have a place on Understanding anxiety")
    enrolment = Enrolment.objects.get(run=cw.run, student=student)
    assert enrolment.state == "enrolled" and not student.caseload_entries.filter(team=world.north).exists()  # no caseload
    page.get_by_label("What I hope to get from this course").fill("To understand what happens when I panic.")
    page.get_by_role("button", name="Save my learning plan").click()
    expect(page.get_by_role("status")).to_contain_text("Your learning plan is saved")
    expect(page.get_by_text("You have attended 0 of 4 sessions. A certificate needs 3.")).to_be_visible()
    _check(page)

    # Three sessions take place (time passes), and the carer peer trainer takes the registers.
    for session in cw.run.sessions.order_by("number")[:3]:
        GroupSession.objects.filter(pk=session.group_id).update(starts_at=timezone.now() - dt.timedelta(days=1, hours=4 - session.number))
    trainer = new_page(viewport={"width": 1280, "height": 900})
    log_in(trainer, carer.email)
    trainer.get_by_role("navigation", name="Main").get_by_role("link", name="Recovery College").click()
    expect(trainer.get_by_role("heading", name="Runs you facilitate")).to_be_visible()
    _check(trainer)
    trainer.get_by_role("link", name="Understanding anxiety, Spring: students and registers").click()
    expect(trainer.get_by_role("cell", name=student.full_name)).to_be_visible()
    _check(trainer)
    for number in (1, 2, 3):
        trainer.goto(f"/college/runs/{cw.run.pk}/sessions/{number}/register/")
        if number == 1:
            _check(trainer)
        trainer.get_by_role("group", name=student.full_name).get_by_label("Attended").check()
        trainer.get_by_role("button", name="Save the register").click()
        expect(trainer.get_by_role("status")).to_contain_text(f"The register for session {number} is saved")

    # The student downloads the certificate.
    page.goto(f"/college/my/{enrolment.pk}/")
    expect(page.get_by_text("You have attended 3 of 4 sessions. A certificate needs 3.")).to_be_visible()
    _check(page)
    with page.expect_download() as download:
        page.get_by_role("link", name="Download your certificate (PDF)").click()
    path = download.value.path()
    with open(path, "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"

"""An organisation set up and run from the browser alone (issue 14, "Done when"): the operator creates
the organisation and its first admin with the documented commands; from there on everything happens in
Chromium. The admin sets a password from the emailed link and sets up two-factor sign-in, sets up a
team with a phone number, adds a clinician to it and invites them, registers a service user onto the
caseload and invites them; the clinician sets a password and an authenticator app and sees the person
on their caseload; the service user signs in (two-factor offered, not forced). Every email is read from
the tests' SMTP server on loopback. axe on every page."""

from __future__ import annotations

import io
from urllib.parse import urlsplit

from django.core.management import call_command
from playwright.sync_api import Page, expect

from backend.accounts.models import Organisation, Role, User
from tests.browser.conftest import assert_accessible, submit_login
from tests.factories import totp_code_from_secret

PASSWORDS = {"admin": "Quayside-beacon-2026", "clinician": "Harbour-lantern-2026", "person": "Seagull-morning-2026"}


def _set_password(page: Page, link: str, password: str) -> None:
    page.goto(urlsplit(link).path)
    assert_accessible(page)
    page.get_by_label("New password", exact=True).fill(password)
    page.get_by_label("Type the new password again").fill(password)
    page.get_by_role("button", name="Set password").click()
    expect(page.get_by_role("status")).to_contain_text("Your password is set")


def _enrol_authenticator(page: Page) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text("Set up two-factor sign-in")
    assert_accessible(page)
    secret = page.locator("#totp-secret").inner_text()
    page.get_by_label("Code").fill(totp_code_from_secret(secret))
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your recovery codes")
    assert_accessible(page)
    page.get_by_role("link", name="I have kept them: continue").click()
    page.get_by_role("button", name="Log out").wait_for()


def test_an_organisation_is_set_up_and_run_from_the_browser_after_two_commands(transactional_db, new_page, page_problems, browser_mail):
    call_command("organisation_create", "Harbour Trust", stdout=io.StringIO())
    assert Organisation.objects.get(name="Harbour Trust").staff_two_factor_required  # on by default
    out = io.StringIO()
    call_command("first_admin_create", "Harbour Trust", "--email", "ada@harbour.test", "--name", "Ada Admin", stdout=out)
    [email] = browser_mail.wait_for("ada@harbour.test")
    assert email.link() in out.getvalue()  # the operator can hand the link over too

    # The first admin: password from the link, then two-factor at the first log in.
    admin = new_page()
    _set_password(admin, email.link(), PASSWORDS["admin"])
    submit_login(admin, "ada@harbour.test", PASSWORDS["admin"])
    _enrol_authenticator(admin)
    admin.goto("/")
    expect(admin.get_by_role("heading", level=1)).to_have_text("Administration")
    assert_accessible(admin)

    # A team with a phone number.
    admin.get_by_role("main").get_by_role("link", name="Teams", exact=True).click()
    admin.get_by_label("Team name").fill("Harbour Talking Therapies")
    admin.get_by_label("Kind of service").fill("Talking therapies")
    admin.get_by_label("Site", exact=True).fill("Whitby")
    admin.get_by_label("Team phone number").fill("0113 496 0000")
    admin.get_by_role("button", name="Set up the team").click()
    expect(admin.get_by_role("heading", level=1)).to_have_text("Harbour Talking Therapies")

    # A clinician, put in the team and invited.
    admin.get_by_role("navigation", name="Main").get_by_role("link", name="Staff").click()
    admin.get_by_label("Full name").fill("Ife Adeyemi")
    admin.get_by_label("Email address").fill("ife@harbour.test")
    admin.get_by_label("Clinician", exact=True).check()
    admin.get_by_role("button", name="Add the staff member").click()
    expect(admin.get_by_role("heading", level=1)).to_have_text("Ife Adeyemi")
    admin.get_by_label("Team", exact=True).select_option(label="Harbour Talking Therapies")
    admin.get_by_role("button", name="Put them in the team").click()
    admin.get_by_role("button", name="Send the invitation").click()
    expect(admin.get_by_role("status")).to_contain_text("We have emailed Ife Adeyemi a link")
    assert_accessible(admin)

    # A service user, registered onto the caseload and invited.
    admin.get_by_role("navigation", name="Main").get_by_role("link", name="Service users").click()
    admin.get_by_label("Full name").fill("Rae Morgan")
    admin.get_by_label("Email address").fill("rae@example.test")
    admin.get_by_role("button", name="Register the service user").click()
    expect(admin.get_by_role("heading", level=1)).to_have_text("Rae Morgan")
    admin.get_by_label("Team", exact=True).select_option(label="Harbour Talking Therapies")
    admin.get_by_role("button", name="Put them on the team's caseload").click()
    admin.get_by_role("button", name="Send the invitation").click()
    expect(admin.get_by_role("status")).to_contain_text("We have emailed Rae Morgan a link")
    assert_accessible(admin)

    # The clinician: password, authenticator app, and the person on their caseload.
    [invitation] = browser_mail.wait_for("ife@harbour.test")
    clinician = new_page()
    _set_password(clinician, invitation.link(), PASSWORDS["clinician"])
    submit_login(clinician, "ife@harbour.test", PASSWORDS["clinician"])
    _enrol_authenticator(clinician)
    clinician.goto("/")
    expect(clinician.get_by_role("table", name="People on this team's caseload (1)")).to_contain_text("Rae Morgan")
    assert_accessible(clinician)

    # The service user: password, then straight in (two-factor is offered on Your account, not forced).
    [invitation] = browser_mail.wait_for("rae@example.test")
    person = new_page()
    _set_password(person, invitation.link(), PASSWORDS["person"])
    submit_login(person, "rae@example.test", PASSWORDS["person"])
    person.get_by_role("button", name="Log out").wait_for()
    assert urlsplit(person.url).path == "/"
    expect(person.get_by_role("heading", level=1)).to_have_text("Hello, Rae Morgan")
    assert_accessible(person)

    people = {u.email: u for u in User.objects.filter(email__in=["ada@harbour.test", "ife@harbour.test", "rae@example.test"])}
    assert {e: (u.role, u.has_usable_password()) for e, u in people.items()} == {
        "ada@harbour.test": (Role.ADMIN, True), "ife@harbour.test": (Role.CLINICIAN, True), "rae@example.test": (Role.SERVICE_USER, True)}
    page_problems.assert_none(admin)

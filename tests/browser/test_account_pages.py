"""Sign-in journeys end to end in Chromium, on a desktop and a 390x844 phone, with axe on every page:
an invited clinician sets a password and an authenticator app; "forgotten password"; a locked-out
person recovers through the reset link; a service user downloads what Rapport holds about them.

Email goes from the server (uvicorn, a separate process) through SMTP to the tests' aiosmtpd server on
loopback (`browser_mail`); the tests read the links from there and follow them as a person would.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from playwright.sync_api import Page, expect

from backend.accounts import invitations, services
from backend.accounts.models import Role
from backend.audit.actor import Actor
from tests.browser.conftest import PASSWORD, assert_accessible, log_in, submit_login
from tests.factories import SYSTEM, build_world, make_user, totp_code_from_secret

VIEWPORTS = {
    "desktop": {"viewport": {"width": 1280, "height": 900}},
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2},
}
NEW_PASSWORD = "Harbour-lantern-2026"


def _check(page: Page) -> None:
    """Every page: axe finds nothing serious, and nothing scrolls sideways on a phone."""
    assert_accessible(page)
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth"), f"{page.url} scrolls sideways"


def _expected_refusals(page_problems, *paths: str) -> None:
    """Forget Chromium's console line for pages this test meant to answer 400 (a form sent with a
    mistake is re-shown with status 400); any other problem still fails the test."""
    page_problems.console_errors[:] = [
        (text, url) for text, url in page_problems.console_errors
        if not ("status of 400" in text and (urlsplit(url).path in paths or any(urlsplit(url).path.startswith(p) for p in paths if p.endswith("/"))))
    ]


def _set_password(page: Page, link: str, password: str) -> None:
    page.goto(urlsplit(link).path)
    assert "/set/" in page.url, "the token should leave the address bar"
    _check(page)
    page.get_by_label("New password", exact=True).fill(password)
    page.get_by_label("Type the new password again").fill(password)
    page.get_by_role("button", name="Set password").click()
    expect(page.get_by_role("status")).to_contain_text("Your password is set")
    assert urlsplit(page.url).path == "/login/"


@pytest.fixture
def world(transactional_db):
    world = build_world()
    # Two-factor sign-in on, as for a real organisation (the factories turn it off for other tests).
    services.organisation_update(actor=SYSTEM, organisation=world.organisation, staff_two_factor_required=True)
    return world


@pytest.mark.parametrize("device", sorted(VIEWPORTS))
def test_an_invited_clinician_sets_a_password_and_an_authenticator_app_then_signs_in(new_page, page_problems, world, browser_mail, device):
    clinician = make_user(Role.CLINICIAN, email=f"invited.{device}@example.test", full_name="Ife Adeyemi")
    invitations.invitation_send(actor=Actor(world.admin, via="test"), user=clinician, request_base_url="http://rapport.invalid")
    [email] = browser_mail.wait_for(clinician.email)
    assert "set your password" in email.subject.lower()

    page = new_page(**VIEWPORTS[device])
    # A weak password is refused with Django's reasons, and the form stays.
    page.goto(urlsplit(email.link()).path)
    page.get_by_label("New password", exact=True).fill("password1")
    page.get_by_label("Type the new password again").fill("password1")
    page.get_by_role("button", name="Set password").click()
    expect(page.get_by_role("alert")).to_contain_text("too common")
    _check(page)
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Type the new password again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set password").click()
    expect(page.get_by_role("status")).to_contain_text("Your password is set")

    # First sign-in: the password, then setting up the app.
    submit_login(page, clinician.email, NEW_PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_have_text("Set up two-factor sign-in")
    _check(page)
    expect(page.locator(".qr-code svg")).to_be_visible()
    secret = page.locator("#totp-secret").inner_text()
    page.get_by_label("Code").fill("000000")
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    expect(page.get_by_role("alert")).to_contain_text("That code is not right")
    page.get_by_label("Code").fill(totp_code_from_secret(secret))
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your recovery codes")
    expect(page.locator(".recovery-codes li")).to_have_count(10)
    _check(page)
    page.get_by_role("link", name="I have kept them: continue").click()
    page.get_by_role("button", name="Log out").wait_for()
    page.get_by_role("button", name="Log out").click()

    # Next sign-in: password, then the app's code.
    submit_login(page, clinician.email, NEW_PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_have_text("Enter the code from your authenticator app")
    _check(page)
    page.get_by_label("Code").fill(totp_code_from_secret(secret, steps_ahead=1))
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("button", name="Log out").wait_for()
    assert urlsplit(page.url).path == "/"

    # The invitation link worked once.
    page.goto(urlsplit(email.link()).path)
    expect(page.get_by_role("heading", level=1)).to_have_text("This link cannot be used")
    _check(page)
    _expected_refusals(page_problems, "/login/two-factor/set-up/", "/set-password/")
    page_problems.assert_none(page)


@pytest.mark.parametrize("device", sorted(VIEWPORTS))
def test_forgotten_password_end_to_end(new_page, page_problems, world, browser_mail, device):
    person = make_user(Role.SERVICE_USER, email=f"forgetful.{device}@example.test", password=PASSWORD)
    page = new_page(**VIEWPORTS[device])
    page.goto("/login/")
    page.get_by_role("link", name="Forgotten your password?").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Forgotten your password?")
    _check(page)
    page.get_by_label("Email address").fill(person.email)
    page.get_by_role("button", name="Email me a link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    _check(page)

    [email] = browser_mail.wait_for(person.email)
    _set_password(page, email.link(), NEW_PASSWORD)
    log_in(page, person.email, NEW_PASSWORD)
    page_problems.assert_none(page)


@pytest.mark.parametrize("device", sorted(VIEWPORTS))
def test_a_locked_out_person_recovers_through_the_reset_link(new_page, page_problems, world, browser_mail, device):
    person = make_user(Role.SERVICE_USER, email=f"locked.{device}@example.test", password=PASSWORD)
    page = new_page(**VIEWPORTS[device])
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        response = submit_login(page, person.email, f"Wrong-password-{attempt}")
    assert response.status == 429
    expect(page.get_by_role("heading", level=1)).to_have_text("Too many attempts to log in")
    _check(page)
    page.get_by_role("link", name="Email me a link to set a new one").click()
    page.get_by_label("Email address").fill(person.email)
    page.get_by_role("button", name="Email me a link").click()
    [email] = browser_mail.wait_for(person.email)
    _set_password(page, email.link(), NEW_PASSWORD)
    log_in(page, person.email, NEW_PASSWORD)
    page_problems.assert_none(page, error_page=(429, "/login/"))


@pytest.mark.parametrize("device", sorted(VIEWPORTS))
def test_a_service_user_downloads_their_records(new_page, page_problems, world, device):
    person = world.service_user
    person.set_password(PASSWORD)
    person.save(update_fields=["password"])
    page = new_page(**VIEWPORTS[device])
    log_in(page, person.email)
    page.get_by_role("link", name="Your account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your account")
    _check(page)
    page.get_by_role("link", name="See and download what Rapport holds about you").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("What Rapport holds about you")
    expect(page.get_by_role("heading", name="Your appointments and the choices you made")).to_be_visible()
    _check(page)
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download as a file (JSON)").click()
    download = download_info.value
    assert download.suggested_filename.startswith("rapport-records-") and download.suggested_filename.endswith(".json")
    record = json.loads(open(download.path(), encoding="utf-8").read())
    keys = {section["key"] for section in record["sections"]}
    assert {"account", "appointments", "consent", "questionnaires"} <= keys
    assert record["sections"][0]["rows"][0]["email"] == person.email
    page_problems.assert_none(page)

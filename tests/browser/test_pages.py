"""The web pages in a real browser: logging in, the role-aware home pages, error pages and the API docs.

Every page checked here must pass axe (WCAG 2.2 AA, serious and critical) and run without CSP
violations or console errors.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from playwright.sync_api import Page, expect

from backend.accounts import services
from backend.accounts.models import CarerLink, Role, Team, User
from tests.browser.conftest import PASSWORD, assert_accessible, log_in, submit_login
from tests.factories import SYSTEM, make_team, make_user

PHONE = {"viewport": {"width": 375, "height": 740}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}


@dataclass
class People:
    north: Team
    south: Team
    clinician: User
    service_user: User
    north_neighbour: User
    south_service_user: User
    carer: User


@pytest.fixture
def people(transactional_db) -> People:
    """Two teams: the clinician and two service users in North, one service user in South; a carer nobody involves yet."""
    organisation = services.organisation_create(actor=SYSTEM, name="Browser Test Trust", staff_two_factor_required=False)
    north, south = make_team(organisation, "North Leeds Talking Therapies"), make_team(organisation, "South Leeds Wellbeing")
    clinician = make_user(Role.CLINICIAN, email="nia.clarke@example.test", full_name="Nia Clarke", password=PASSWORD)
    service_user = make_user(
        Role.SERVICE_USER, email="amira.okafor@example.test", full_name="Amira Okafor", preferred_name="Amira",
        phone_number="07700 900123", password=PASSWORD,
    )
    north_neighbour = make_user(Role.SERVICE_USER, full_name="Tomasz Baxter")
    south_service_user = make_user(Role.SERVICE_USER, full_name="Bethan Price")
    carer = make_user(Role.CARER, email="grace.okafor@example.test", full_name="Grace Okafor")
    services.team_member_add(actor=SYSTEM, team=north, user=clinician)
    services.caseload_add(actor=SYSTEM, team=north, service_user=service_user)
    services.caseload_add(actor=SYSTEM, team=north, service_user=north_neighbour)
    services.caseload_add(actor=SYSTEM, team=south, service_user=south_service_user)
    return People(north, south, clinician, service_user, north_neighbour, south_service_user, carer)


def has_no_horizontal_scroll(page: Page) -> bool:
    return page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")


def test_clinician_sees_their_teams_caseload_and_no_one_elses(page: Page, page_problems, people: People):
    log_in(page, people.clinician.email)

    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Nia Clarke")
    team = page.get_by_role("region", name="North Leeds Talking Therapies")
    expect(team).to_be_visible()
    caseload = team.get_by_role("table", name="People on this team's caseload (2)")
    expect(caseload.get_by_role("cell", name="Amira Okafor", exact=True)).to_be_visible()
    expect(caseload.get_by_role("cell", name="Tomasz Baxter", exact=True)).to_be_visible()
    # Another team's caseload is not shown, nor that team.
    expect(page.get_by_text("Bethan Price")).to_have_count(0)
    expect(page.get_by_text("South Leeds Wellbeing")).to_have_count(0)

    assert_accessible(page)
    page_problems.assert_none(page)


def test_service_user_sees_their_care_and_involves_then_stops_involving_a_carer(page: Page, page_problems, people: People):
    log_in(page, people.service_user.email)

    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Amira")
    details = page.get_by_role("region", name="Your details")
    for value in ("Amira Okafor", "amira.okafor@example.test", "07700 900123"):
        expect(details.get_by_text(value, exact=True)).to_be_visible()
    teams = page.get_by_role("region", name="Your care teams")
    expect(teams.get_by_text("North Leeds Talking Therapies")).to_be_visible()
    expect(teams.get_by_text("South Leeds Wellbeing")).to_have_count(0)
    carers = page.get_by_role("region", name="People you involve in your care")
    expect(carers.get_by_text("You are not involving anyone at the moment.")).to_be_visible()

    carers.get_by_label("Their email address").fill("Grace.Okafor@example.test")
    carers.get_by_label("Who are they to you?").select_option(label="Son or daughter")
    with page.expect_navigation():
        carers.get_by_role("button", name="Involve this person").click()

    expect(page.get_by_role("status")).to_contain_text("Once they accept, they can see what you choose to share with them.")
    # Pending: named by the email typed, never by the account's name, until they accept.
    expect(carers.get_by_text("Grace Okafor")).to_have_count(0)
    expect(carers.get_by_text("waiting for them to accept")).to_be_visible()
    stop = carers.get_by_role("button", name="Stop asking grace.okafor@example.test")
    expect(stop).to_be_visible()
    assert_accessible(page)

    with page.expect_navigation():
        stop.click()
    expect(page.get_by_role("status")).to_contain_text("They can no longer see anything about your care.")
    expect(carers.get_by_text("You are not involving anyone at the moment.")).to_be_visible()
    expect(carers.get_by_role("button", name="Stop asking grace.okafor@example.test")).to_have_count(0)
    link = CarerLink.objects.get(service_user=people.service_user, carer=people.carer)
    assert link.relationship == CarerLink.Relationship.CHILD
    assert link.ended_at is not None and link.ended_by_id == people.service_user.pk  # ended, kept as history

    assert_accessible(page)
    page_problems.assert_none(page)


def test_wrong_password_shows_the_problem_then_repeated_failures_lock_the_account_out(page: Page, page_problems, people: People):
    email = people.clinician.email
    response = submit_login(page, email, "Not-the-right-password-1")

    assert response.status == 200
    assert urlsplit(page.url).path == "/login/"
    summary = page.get_by_role("alert")
    expect(summary.get_by_role("heading", name="There is a problem")).to_be_visible()
    expect(summary).to_contain_text("The email address or password is not right.")
    expect(summary).to_be_focused()  # rapport.js moves focus there so screen readers announce it
    expect(page.get_by_role("button", name="Log out")).to_have_count(0)
    assert_accessible(page)

    limit = settings.AXES_FAILURE_LIMIT
    assert limit >= 2, "the lockout test needs LOGIN_FAILURE_LIMIT of at least 2"
    for attempt in range(2, limit):
        response = submit_login(page, email, f"Not-the-right-password-{attempt}")
        assert response.status == 200, f"attempt {attempt} of {limit} was refused early"
        expect(page.get_by_role("alert")).to_contain_text("The email address or password is not right.")

    # The failure that reaches the limit is answered with the locked-out page...
    response = submit_login(page, email, f"Not-the-right-password-{limit}")
    assert response.status == 429
    expect(page.get_by_role("heading", level=1)).to_have_text("Too many attempts to log in")
    expect(page.get_by_role("main")).to_contain_text("Wait 15 minutes and try again")
    expect(page.get_by_role("main")).to_contain_text("contact your team to reset your password")
    expect(page.get_by_role("main")).to_contain_text("your care team can see you by phone or face to face")
    expect(page.get_by_role("link", name="Back to the log in page")).to_have_attribute("href", "/login/")
    assert_accessible(page)

    # ...and so is the right password, while the lockout lasts.
    response = submit_login(page, email, PASSWORD)
    assert response.status == 429
    expect(page.get_by_role("heading", level=1)).to_have_text("Too many attempts to log in")

    page_problems.assert_none(page, error_page=(429, "/login/"))


@pytest.mark.parametrize("role", ["clinician", "service_user"])
def test_login_and_home_pages_fit_a_phone(new_page, page_problems, people: People, role: str):
    page = new_page(**PHONE)
    page.goto("/login/")

    assert has_no_horizontal_scroll(page), "the log in page scrolls sideways on a phone"
    button = page.get_by_role("button", name="Log in", exact=True).bounding_box()
    assert button["width"] >= 44 and button["height"] >= 44, f"the log in button is too small to tap: {button}"
    assert_accessible(page)

    log_in(page, getattr(people, role).email)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hello")
    assert has_no_horizontal_scroll(page), f"the {role} home page scrolls sideways on a phone"
    log_out = page.get_by_role("button", name="Log out").bounding_box()
    assert log_out["width"] >= 44 and log_out["height"] >= 44, f"the log out button is too small to tap: {log_out}"
    assert_accessible(page)
    page_problems.assert_none(page)


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_api_docs_render_swagger_ui_within_the_csp_and_pass_axe(new_page, page_problems, asgi_server, size):
    """drf-spectacular's Swagger UI (from the sidecar) in Rapport's own page: no inline style or script,
    so no CSP exception; axe passes with the operations closed and with two opened (their examples)."""
    page = new_page(**PHONE) if size == "phone" else new_page(viewport={"width": 1280, "height": 900})
    response = page.goto("/api/docs/")

    assert response.status == 200
    assert page.evaluate("() => document.documentElement.lang") == "en-GB"
    login_operation = page.locator('.opblock-summary-path[data-path="/api/v1/auth/login/"]')
    expect(login_operation.first).to_be_visible(timeout=60_000)  # the schema is generated on first request
    expect(page.locator(".info .title")).to_contain_text("Rapport API")
    assert_accessible(page)
    login_operation.first.click()
    page.locator(".opblock-summary").first.click()
    expect(page.locator(".opblock-body").first).to_be_visible()
    assert_accessible(page)
    page_problems.assert_none(page)


def test_unknown_page_is_the_friendly_404_with_a_way_onward(page: Page, page_problems, transactional_db):
    response = page.goto("/no-such-page/")

    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    expect(page.get_by_role("main")).to_contain_text("contact your care team")
    assert_accessible(page)
    home = page.get_by_role("link", name="Go to your home page")
    with page.expect_navigation():
        home.click()
    # Not logged in, so the home page sends the browser on to log in.
    assert urlsplit(page.url).path == "/login/"
    expect(page.get_by_role("heading", level=1)).to_have_text("Log in to Rapport")
    page_problems.assert_none(page, error_page=(404, "/no-such-page/"))


def test_the_admin_home_page_fits_a_phone_and_links_to_every_admin_page(new_page, page_problems, transactional_db):
    admin = make_user(Role.ADMIN, email="ada.admin@example.test", full_name="Ada Admin", password=PASSWORD)
    page = new_page(**PHONE)
    log_in(page, admin.email)
    expect(page.get_by_role("heading", level=1)).to_have_text("Administration")
    records = page.get_by_role("region", name="Consent, questionnaires and records")
    expect(records.get_by_role("link", name="Import historic records")).to_have_attribute("href", "/administration/import/")
    assert has_no_horizontal_scroll(page), "the admin home page scrolls sideways on a phone"
    assert_accessible(page)
    page_problems.assert_none(page)


def test_a_carer_accepts_one_proposal_and_declines_another_on_a_phone(new_page, page_problems, people: People):
    """A proposal shares nothing until the carer accepts it on their home page; declining ends it."""
    from backend.audit.actor import Actor

    carer = make_user(Role.CARER, email="sam.okafor@example.test", full_name="Sam Okafor", password=PASSWORD)
    accepted = services.carer_link_create(actor=Actor(people.service_user, via="test"), service_user=people.service_user,
                                          carer_email=carer.email, relationship=CarerLink.Relationship.SIBLING)
    declined = services.carer_link_create(actor=Actor(people.north_neighbour, via="test"), service_user=people.north_neighbour,
                                          carer_email=carer.email, relationship=CarerLink.Relationship.FRIEND)
    page = new_page(**PHONE)
    log_in(page, carer.email)

    people_region = page.get_by_role("region", name="People who involve you in their care")
    expect(people_region.get_by_text("asked on")).to_have_count(2)
    assert has_no_horizontal_scroll(page)
    assert_accessible(page)

    with page.expect_navigation():
        people_region.get_by_role("button", name="Accept: be involved in Amira's care").click()
    expect(page.get_by_role("status")).to_contain_text("You are now involved in their care")
    expect(people_region.get_by_text("Amira", exact=True)).to_be_visible()
    accepted.refresh_from_db()
    assert accepted.accepted_at is not None and accepted.ended_at is None

    with page.expect_navigation():
        people_region.get_by_role("button", name="Decline").click()
    expect(page.get_by_role("status")).to_contain_text("You have said no")
    expect(people_region.get_by_text("Tomasz Baxter")).to_have_count(0)
    expect(people_region.get_by_role("button", name="Decline")).to_have_count(0)
    declined.refresh_from_db()
    assert declined.declined_at is not None and declined.ended_at is not None and declined.accepted_at is None

    assert has_no_horizontal_scroll(page)
    assert_accessible(page)
    page_problems.assert_none(page)

"""The admin pages in a real browser, at desktop and phone sizes: an admin sets up a team with a phone
number and a questionnaire schedule, adds a staff member to it, registers a service user onto its
caseload, imports a historic file after a failing dry run, searches the audit trail and runs the chain
check, and publishes a new consent wording. axe (WCAG 2.2 AA) on every page, no CSP violations or
console errors, and no sideways scrolling on a phone."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from backend.accounts.models import Role, Team, User
from backend.consent.models import ConsentWording
from backend.outcomes.models import MeasureSchedule, Response
from tests.browser.conftest import PASSWORD, assert_accessible, log_in
from tests.factories import make_user
from tests.outcomes.test_import import GOOD, csv_text, row

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
ADMIN_PAGES = [
    "/administration/teams/", "/administration/staff/", "/administration/people/", "/administration/consent/",
    "/administration/consent/video/", "/administration/questionnaires/", "/administration/import/",
    "/administration/audit/?person=&actor=&date_from=&date_to=", "/administration/exports/",
]


@pytest.fixture
def admin(world) -> User:
    return make_user(Role.ADMIN, email="ada.admin@example.test", full_name="Ada Admin", password=PASSWORD, organisation=world.organisation)


def _csv(text: str, name: str = "records.csv") -> dict:
    return {"name": name, "mimeType": "text/csv", "buffer": text.encode()}


def test_an_admin_sets_up_a_team_staff_caseload_import_audit_and_consent(page: Page, page_problems, world, admin):
    log_in(page, admin.email)
    expect(page.get_by_role("heading", level=1)).to_have_text("Administration")
    assert_accessible(page)

    # A new team with a phone number, then its questionnaire schedule.
    page.get_by_role("main").get_by_role("link", name="Teams", exact=True).click()
    page.get_by_label("Team name").fill("East")
    page.get_by_label("Kind of service").fill("Talking therapies")
    page.get_by_label("Site", exact=True).fill("York")
    page.get_by_label("Team phone number").fill("0113 496 0000")
    page.get_by_label("Opening hours").fill("Monday to Friday, 9am to 5pm")
    assert_accessible(page)
    page.get_by_role("button", name="Set up the team").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("East")
    expect(page.get_by_role("status")).to_contain_text("The team East is set up")
    expect(page.locator(".lead")).to_contain_text("Phone 0113 496 0000")
    page.get_by_label("Questionnaire", exact=True).select_option("phq9")
    page.get_by_label("At every session").check()
    page.get_by_role("button", name="Save the schedule").click()
    expect(page.get_by_role("region", name="Questionnaires and when to ask for them")).to_contain_text("PHQ-9: at every session")
    assert_accessible(page)
    east = Team.objects.get(organisation=world.organisation, name="East")
    assert MeasureSchedule.objects.filter(team=east, instrument__code="phq9", when="every_session").exists()

    # A staff member, put in the team.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Staff").click()
    page.get_by_label("Full name").fill("Nia Newcomer")
    page.get_by_label("Email address").fill("nia.newcomer@example.test")
    page.get_by_label("Clinician", exact=True).check()
    page.get_by_role("button", name="Add the staff member").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Nia Newcomer")
    page.get_by_label("Team", exact=True).select_option(label="East")
    page.get_by_role("button", name="Put them in the team").click()
    expect(page.get_by_role("region", name="Teams")).to_contain_text("East")
    assert_accessible(page)

    # A service user, registered and put on the caseload.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Service users").click()
    page.get_by_label("Full name").fill("Rae Registered")
    page.get_by_label("Email address").fill("rae.registered@example.test")
    page.get_by_role("button", name="Register the service user").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Rae Registered")
    page.get_by_label("Team", exact=True).select_option(label="East")
    page.get_by_role("button", name="Put them on the team's caseload").click()
    expect(page.get_by_role("region", name="Caseloads")).to_contain_text("East")
    assert_accessible(page)
    page.get_by_role("link", name="East").click()
    expect(page.get_by_role("region", name="Caseload")).to_contain_text("Rae Registered")
    expect(page.get_by_role("region", name="Staff in this team")).to_contain_text("Nia Newcomer")

    # The historic import: a failing dry run lists each problem by line, then the good file imports.
    page.goto("/")
    page.get_by_role("link", name="Import historic records").click()
    page.get_by_label("The team whose records these are").select_option(label="North")
    bad = csv_text(row("NHS-9", "C-9", "A-9", "2024-13-40"), row("NHS-9", "C-9", "A-10", "2024-02-01", modality="carrier pigeon"))
    page.get_by_label("The CSV file").set_input_files(_csv(bad))
    page.get_by_role("button", name="Check the file").click()
    expect(page.get_by_role("alert")).to_contain_text("2 problems found; nothing was imported.")
    problems = page.get_by_role("table", name="Fix these rows in the file, then check it again. Nothing was imported.")
    expect(problems.get_by_role("row")).to_have_count(3)
    assert_accessible(page)
    page.get_by_label("The team whose records these are").select_option(label="North")
    page.get_by_label("The CSV file").set_input_files(_csv(GOOD))
    page.get_by_role("button", name="Check the file").click()
    expect(page.get_by_role("status")).to_contain_text("The file is ready to import")
    page.get_by_label("The team whose records these are").select_option(label="North")
    page.get_by_label("The CSV file").set_input_files(_csv(GOOD))
    page.get_by_role("button", name="Import the file").click()
    expect(page.get_by_role("status")).to_contain_text("Imported")
    assert Response.objects.filter(appointment__reference="A-1").exists()

    # The audit trail: search by person, then run the chain check.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Audit trail").click()
    page.get_by_label("About this person (name or email)").fill("Rae Registered")
    page.get_by_role("button", name="Search the audit trail").click()
    results = page.get_by_role("table", name="Events, newest first")
    expect(results).to_contain_text("Ada Admin")
    expect(results).to_contain_text("Create")
    assert_accessible(page)
    page.get_by_role("button", name="Check the whole audit trail").click()
    expect(page.locator("#chain-result")).to_contain_text("The audit trail is whole.")
    assert_accessible(page)

    # A new consent wording version that asks everyone again.
    page.goto("/")
    page.get_by_role("link", name="Consent purposes and wording").click()
    page.get_by_role("link", name="Being seen on video").click()
    page.get_by_label("The new wording").fill("We will see you on video. You can stop at any time and we will phone you instead.")
    page.get_by_label("Takes effect on").fill("2099-01-01")
    page.get_by_label("Everyone must agree again to this new wording").check()
    page.get_by_role("button", name="Publish the new version").click()
    expect(page.get_by_role("status")).to_contain_text("Everyone will be asked to agree again.")
    assert_accessible(page)
    latest = ConsentWording.objects.filter(purpose__code="video").order_by("-version").first()
    assert latest.requires_reconsent and str(latest.effective_from) == "2099-01-01"

    for path in ("/administration/questionnaires/", "/administration/exports/"):
        page.goto(path)
        assert_accessible(page)
    page_problems.assert_none(page, error_page=(400, "/administration/import/"))


def test_every_admin_page_fits_a_phone_and_passes_axe(new_page, page_problems, world, admin):
    page = new_page(**PHONE)
    log_in(page, admin.email)
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth"), "the admin home scrolls sideways"
    assert_accessible(page)
    for path in [*ADMIN_PAGES, f"/administration/teams/{world.north.pk}/", f"/administration/staff/{world.clinician.pk}/",
                 f"/administration/people/{world.service_user.pk}/"]:
        response = page.goto(path)
        assert response.status == 200, path
        assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth"), f"{path} scrolls sideways on a phone"
        assert_accessible(page)
    # A refused form on a phone: the problem is shown above the form, which keeps what was typed.
    page.goto("/administration/teams/")
    page.get_by_label("Team name").fill("North")
    page.get_by_label("Kind of service").fill("Crisis")
    page.get_by_label("Site", exact=True).fill("Leeds")
    page.get_by_role("button", name="Set up the team").click()
    expect(page.get_by_role("alert")).to_contain_text("This organisation already has a team with this name.")
    expect(page.get_by_label("Kind of service")).to_have_value("Crisis")
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    assert_accessible(page)
    page_problems.assert_none(page, error_page=(400, "/administration/teams/"))

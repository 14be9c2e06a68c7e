"""Connection maps, suggestions, signposting and the resource directory in a real browser, on a desktop
and a 390x844 phone, with axe on every page (docs/network.md): a clinician starts a map with a person
and adds to it in a session; the person picks interests, sees suggestions, chooses one, and records
how it went; a second saved map shows what changed. An admin adds to the directory."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from backend.accounts import services as accounts
from backend.accounts.models import Role
from backend.audit.actor import Actor
from backend.network import services
from tests.browser.conftest import PASSWORD, assert_accessible, log_in
from tests.factories import SYSTEM, make_team, make_user, seed_reference_data

SIZES = {
    "desktop": {"viewport": {"width": 1280, "height": 900}},
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2},
}


def _no_sideways_scroll(page: Page) -> bool:
    return page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")


def _check(page: Page, page_problems, size: str, refused: str | None = None) -> None:
    """axe, no sideways scrolling on a phone, no browser problems. `refused`: the path the test meant to
    answer 400 (a form sent back with its problems), whose console line is then expected, once."""
    from urllib.parse import urlsplit

    assert_accessible(page)
    if size == "phone":
        assert _no_sideways_scroll(page), f"{page.url} scrolls sideways on a phone"
    page_problems.assert_none(page, error_page=(400, urlsplit(refused).path) if refused else None)
    page_problems.console_errors.clear()


@pytest.fixture
def trust(transactional_db):
    seed_reference_data()  # a transactional test empties the seeded consent catalogue
    organisation = accounts.organisation_create(actor=SYSTEM, name="Map Test Trust", staff_two_factor_required=False)
    team = make_team(organisation, "North Leeds Talking Therapies")
    clinician = make_user(Role.CLINICIAN, email="nia.clarke@example.test", full_name="Nia Clarke", password=PASSWORD, organisation=organisation)
    person = make_user(Role.SERVICE_USER, email="amira.okafor@example.test", full_name="Amira Okafor", preferred_name="Amira",
                       password=PASSWORD, organisation=organisation)
    admin = make_user(Role.ADMIN, email="ada.admin@example.test", full_name="Ada Admin", password=PASSWORD, organisation=organisation)
    accounts.team_member_add(actor=SYSTEM, team=team, user=clinician)
    accounts.caseload_add(actor=SYSTEM, team=team, service_user=person)
    return {"clinician": clinician, "person": person, "admin": admin, "organisation": organisation}


def _add_member(page: Page, label: str, kind: str, circle: str, frequency: str, support: str | None = None) -> None:
    form = page.locator("form", has=page.get_by_role("button", name="Add to the map"))
    form.get_by_label("Who or what").fill(label)
    form.get_by_role("group", name="What is it").get_by_label(kind, exact=True).check()
    form.get_by_role("group", name="How important").get_by_label(circle).check()
    form.get_by_role("group", name="How often are you in touch").get_by_label(frequency).check()
    if support:
        form.get_by_label(support).check()
    with page.expect_navigation():
        form.get_by_role("button", name="Add to the map").click()
    expect(page.get_by_role("status")).to_contain_text(f"{label} is on circle")


@pytest.mark.parametrize("size", sorted(SIZES))
def test_a_clinician_and_a_person_build_a_map_pick_interests_take_up_a_suggestion_and_see_change(new_page, page_problems, trust, size):
    services.resource_create(actor=Actor(trust["admin"]), name="Hyde Park walking group", categories=["physical_activity"], scope="local",
                             delivery="in_person", postcode_district="LS6", wheelchair_access="yes", contact_phone="0113 496 0100",
                             opening_times="Saturdays, 10am", last_checked_on=timezone.localdate() - timedelta(days=10))
    services.resource_create(actor=Actor(trust["admin"]), name="Walks in Manchester", categories=["physical_activity"], scope="local",
                             delivery="in_person", postcode_district="M1", contact_phone="0113 496 0101", last_checked_on=timezone.localdate())

    # The clinician, in a session with Amira, starts her map with her agreement and adds to it.
    page = new_page(**SIZES[size])
    log_in(page, trust["clinician"].email)
    page.get_by_role("link", name="Connection maps").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Connection maps")
    _check(page, page_problems, size)
    page.get_by_role("region", name="Start a map with someone").get_by_role("link", name="Amira Okafor").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Amira’s connection map")
    _check(page, page_problems, size)
    with page.expect_navigation():
        page.get_by_role("button", name="Start the map").click()  # without the person's agreement: refused
    expect(page.get_by_role("alert").first).to_contain_text("Tick this to build the map together")
    _check(page, page_problems, size, refused=page.url)
    page.get_by_label("The person agrees that their care team can see this map").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Start the map").click()
    _add_member(page, "Mum", "A person", "1: closest", "Every day or most days", "Gives emotional support (listens, someone to talk to)")
    _add_member(page, "Football", "An activity", "3: less close", "Every week")
    drawing = page.get_by_role("img", name="Amira’s connection map")
    expect(drawing).to_be_visible()
    expect(page.get_by_role("table", name="Members, by number on the map").get_by_role("row")).to_have_count(3)
    _check(page, page_problems, size)
    with page.expect_navigation():
        page.get_by_role("button", name="Save the map as it is today").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Compare saved maps")
    _check(page, page_problems, size)
    page.context.close()

    # Amira, on her own: her map, her interests, suggestions near her, one chosen and followed up.
    page = new_page(**SIZES[size])
    log_in(page, trust["person"].email)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Your connections").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your connection map")
    expect(page.get_by_role("table", name="Members, by number on the map")).to_contain_text("Mum")
    _check(page, page_problems, size)
    page.get_by_role("link", name="Choose interests and needs").click()
    _check(page, page_problems, size)
    page.get_by_role("group", name="What interests you").get_by_label("Sport, walking and physical activity").check()
    page.get_by_role("group", name="What you would like help with").get_by_label("Money, debt and benefits advice").check()
    page.get_by_label("The first part of your postcode (optional)").fill("ls6")
    with page.expect_navigation():
        page.get_by_role("button", name="Save and see suggestions").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Suggestions for you")
    expect(page.get_by_role("heading", name="Hyde Park walking group")).to_be_visible()
    expect(page.get_by_role("heading", name="Walks in Manchester")).to_have_count(0)  # in person, elsewhere
    _check(page, page_problems, size)
    with page.expect_navigation():
        page.get_by_role("region", name="Hyde Park walking group").get_by_role("button", name=re.compile("^I would like to try this")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Services offered")
    _check(page, page_problems, size)
    card = page.get_by_role("region", name="Hyde Park walking group")
    card.get_by_label("Date").fill(str(timezone.localdate() - timedelta(days=1)))
    card.get_by_label("Went", exact=True).check()
    with page.expect_navigation():
        card.get_by_role("button", name="Save how it went").click()
    expect(page.get_by_role("alert").first).to_contain_text("cannot be before the signpost")
    _check(page, page_problems, size, refused=page.url)
    card = page.get_by_role("region", name="Hyde Park walking group")
    card.get_by_label("Date").fill(str(timezone.localdate()))
    card.get_by_label("Went", exact=True).check()
    with page.expect_navigation():
        card.get_by_role("button", name="Save how it went").click()
    expect(page.get_by_role("region", name="Hyde Park walking group")).to_contain_text("How it wentWent")
    _check(page, page_problems, size)

    # The walking group joins her map; a second saved map shows the change beside the first.
    page.get_by_role("link", name="Back to the map").click()
    _add_member(page, "Walking group", "A group", "2: important", "Every week", "Gives emotional support (listens, someone to talk to)")
    page.get_by_label("By the person on their own").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Save the map as it is today").click()
    changes = page.get_by_role("region", name="What changed")
    expect(changes).to_contain_text("Walking group joined, on circle 2.")
    expect(page.get_by_role("img")).to_have_count(2)
    _check(page, page_problems, size)

    # She stops sharing with her care team: the clinician's page is then not found.
    page.get_by_role("link", name="Back to the map").click()
    page.get_by_label("My care team can see my map and change it with me").uncheck()
    with page.expect_navigation():
        page.get_by_role("button", name="Save who can see my map").click()
    expect(page.get_by_role("region", name="Who can see your map")).to_contain_text("your care team cannot see it")
    _check(page, page_problems, size)


@pytest.mark.parametrize("size", sorted(SIZES))
def test_an_admin_adds_a_resource_and_one_with_no_contact_is_refused(new_page, page_problems, trust, size):
    page = new_page(**SIZES[size])
    log_in(page, trust["admin"].email)
    page.get_by_role("link", name="Resource directory").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Resource directory")
    _check(page, page_problems, size)
    page.get_by_label("Name", exact=True).fill("Open art studio")
    page.get_by_role("group", name="Categories").get_by_label("Arts, crafts and music").check()
    page.get_by_role("group", name="Local or national").get_by_label("Local").check()
    page.get_by_role("group", name="How people use it").get_by_label("In person", exact=True).check()
    page.get_by_label("Postcode district").fill("LS2")
    with page.expect_navigation():
        page.get_by_role("button", name="Add to the directory").click()
    expect(page.get_by_role("alert").first).to_contain_text("Give at least one way to get in touch")
    _check(page, page_problems, size, refused=page.url)
    page.get_by_label("Contact phone").fill("0113 496 0102")
    with page.expect_navigation():
        page.get_by_role("button", name="Add to the directory").click()
    expect(page.get_by_role("table", name="Resources, what they offer and when they were last checked")).to_contain_text("Open art studio")
    _check(page, page_problems, size)
    page.get_by_role("link", name="Open art studio").click()
    with page.expect_navigation():
        page.get_by_role("button", name="Retire it from the directory").click()
    expect(page.get_by_role("status")).to_contain_text("Open art studio is retired from the directory")
    _check(page, page_problems, size)
    page.get_by_role("link", name="Back to the resource directory").click()
    expect(page.get_by_role("table", name="Resources, what they offer and when they were last checked")).to_contain_text("Retired")
    _check(page, page_problems, size)

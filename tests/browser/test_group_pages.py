"""The staff's group pages in a real browser: the list (from the main navigation), booking a weekly series with a
mistake explained first, adding someone beyond capacity refused on the page, a carers' group, and last week's
register corrected with a reason and its history shown; the admin's group setting on the team page. Every page
passes axe (WCAG 2.2 AA, serious and critical) without CSP violations or console errors, on a desktop and a phone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from backend.accounts import services
from backend.accounts.models import Role, Team, User
from backend.audit.actor import Actor
from backend.consent.models import PurposeCode
from backend.groups import services as group_services
from backend.groups.models import GroupSession
from backend.groups.selectors import group_safety_check_mode
from tests.browser.conftest import PASSWORD, assert_accessible, log_in
from tests.factories import SYSTEM, give_consent, link_carer, make_user, seed_reference_data

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}


@dataclass
class Groups:
    north: Team
    clinician: User
    peer_worker: User
    people: list[User]
    carer: User
    admin: User


@pytest.fixture
def groups(transactional_db) -> Groups:
    seed_reference_data()
    organisation = services.organisation_create(actor=SYSTEM, name="Group Trust", staff_two_factor_required=False)
    north = services.team_create(actor=SYSTEM, organisation=organisation, name="North Leeds Talking Therapies", service="Talking therapies",
                                 site="Leeds", phone_number="+441134960000")
    clinician = make_user(Role.CLINICIAN, email="nia.clarke@example.test", full_name="Nia Clarke", password=PASSWORD, organisation=organisation)
    peer_worker = make_user(Role.PEER_WORKER, email="sam.okafor@example.test", full_name="Sam Okafor", password=PASSWORD, organisation=organisation)
    admin = make_user(Role.ADMIN, email="ada.admin@example.test", full_name="Ada Admin", password=PASSWORD, organisation=organisation)
    for member in (clinician, peer_worker):
        services.team_member_add(actor=SYSTEM, team=north, user=member)
    people = []
    for name in ("Amira Khan", "Bethan Price", "Cai Jones"):
        person = make_user(Role.SERVICE_USER, full_name=name, organisation=organisation)
        services.caseload_add(actor=SYSTEM, team=north, service_user=person)
        give_consent(person, PurposeCode.REMOTE_CARE)
        people.append(person)
    carer = make_user(Role.CARER, full_name="Chris Khan")
    link_carer(people[0], carer)
    return Groups(north, clinician, peer_worker, people, carer, admin)


def fits(page: Page) -> None:
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth"), f"{page.url} scrolls sideways"


def checked(page: Page, problems, *, error_page: tuple[int, str] | None = None) -> None:
    """axe, no sideways scrolling, no browser problems; `error_page`: this page was meant to answer 400 (a form
    with mistakes), so that one console line is expected and then forgotten."""
    assert_accessible(page)
    fits(page)
    problems.assert_none(page, error_page=error_page)
    if error_page:
        problems.console_errors.clear()


def _book(page: Page, *, title: str, weeks: int, places: int, people: list[str]):
    page.get_by_label("Name of the group").fill(title)
    page.get_by_label("Date of the first meeting").fill((timezone.localdate() + timedelta(days=3)).isoformat())
    page.get_by_label("Start time").fill("18:00")
    page.get_by_label("Number of weekly meetings").fill(str(weeks))
    page.get_by_label("Places").fill(str(places))
    for name in people:
        page.get_by_label(name, exact=True).check()
    with page.expect_navigation():
        page.get_by_role("button", name="Book", exact=True).click()


@pytest.mark.parametrize("device", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_a_clinician_books_a_weekly_group_and_adds_people_within_its_places(new_page, page_problems, groups: Groups, device):
    page = new_page(**device)
    log_in(page, groups.clinician.email)
    page.goto("/groups/")
    expect(page.get_by_role("heading", level=1, name="Groups")).to_be_visible()
    expect(page.get_by_text("No groups are booked yet.")).to_be_visible()
    checked(page, page_problems)

    page.get_by_role("link", name="Book a group", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Book a group")
    checked(page, page_problems)
    _book(page, title="Managing anxiety", weeks=3, places=2, people=["Amira Khan", "Bethan Price", "Cai Jones"])
    expect(page.get_by_role("alert")).to_contain_text("3 people booked, but the group holds 2.")
    assert not GroupSession.objects.exists()
    checked(page, page_problems, error_page=(400, "/groups/book/"))

    page.get_by_label("Cai Jones", exact=True).uncheck()
    with page.expect_navigation():
        page.get_by_role("button", name="Book", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Booked 3 weekly meetings of Managing anxiety")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Managing anxiety")
    assert GroupSession.objects.count() == 3
    checked(page, page_problems)

    # Full: adding Cai is refused on the page, with nothing added.
    page.get_by_role("button", name="Take Bethan Price off this meeting").click()
    expect(page.get_by_role("status")).to_contain_text("Bethan Price is no longer booked into this meeting")
    page.get_by_label("Cai Jones", exact=True).check()
    page.get_by_label("Also book them into the later meetings of this series").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Add to the group").click()
    expect(page.get_by_role("alert")).to_contain_text("0 places left, but you chose 1 more person")
    group = GroupSession.objects.order_by("starts_at").first()
    assert not group.attendees.filter(person__full_name="Cai Jones").exists()
    checked(page, page_problems, error_page=(400, f"/groups/{group.pk}/people/"))

    page.get_by_role("link", name="Groups", exact=True).first.click()
    expect(page.get_by_role("link", name="Groups", exact=True).first).to_have_attribute("aria-current", "page")
    expect(page.get_by_role("cell", name="2 of 2 places").first).to_be_visible()
    checked(page, page_problems)


def test_a_carers_group_and_last_weeks_register_corrected(page: Page, page_problems, groups: Groups):
    log_in(page, groups.peer_worker.email)
    page.goto("/groups/book/?for=carers")
    expect(page.get_by_role("heading", level=1)).to_have_text("Book a carers' group")
    expect(page.get_by_label("Chris Khan (carer of Amira Khan)")).to_be_visible()
    checked(page, page_problems)
    _book(page, title="Carers' support group", weeks=1, places=8, people=["Chris Khan (carer of Amira Khan)"])
    expect(page.get_by_text("A carers' group of North Leeds Talking Therapies")).to_be_visible()
    assert GroupSession.objects.get().for_carers

    (past,) = group_services.group_book(actor=Actor(groups.clinician, via="test"), team=groups.north, title="Sleeping better",
                                        facilitator=groups.clinician, starts_at=timezone.now() - timedelta(days=7), people=groups.people[:2])
    page.goto(f"/groups/{past.pk}/")
    expect(page.get_by_role("table", name="Register for this meeting")).to_be_visible()
    checked(page, page_problems)
    page.get_by_text("Correct the register for Amira Khan").click()
    form = page.locator("details", has_text="Correct the register for Amira Khan")
    form.get_by_label("Left early").check()
    form.get_by_label("Minutes in the group").fill("40")
    with page.expect_navigation():
        form.get_by_role("button", name="Save the correction for Amira Khan").click()
    expect(page.get_by_role("alert")).to_contain_text("Say why the register is being corrected.")
    attendee = past.attendees.get(person=groups.people[0])
    checked(page, page_problems, error_page=(400, f"/groups/{past.pk}/register/{attendee.pk}/"))
    form = page.locator("details", has_text="Correct the register for Amira Khan")
    form.get_by_label("Why you are correcting it").fill("Joined by phone and left at 7:40pm")
    with page.expect_navigation():
        form.get_by_role("button", name="Save the correction for Amira Khan").click()
    expect(page.get_by_role("status")).to_contain_text("The register now says Amira Khan: left early.")
    expect(page.get_by_role("heading", name="Changes to the register")).to_be_visible()
    expect(page.get_by_text("Sam Okafor recorded Amira Khan as left early, because “Joined by phone and left at 7:40pm”")).to_be_visible()
    checked(page, page_problems)


def test_an_admin_sets_who_confirms_the_safety_check(page: Page, page_problems, groups: Groups):
    log_in(page, groups.admin.email)
    page.goto(f"/administration/teams/{groups.north.pk}/")
    page.get_by_label("Each person confirms it themselves as they come in").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Save the group setting").click()
    expect(page.get_by_role("status")).to_contain_text("The team's group setting is saved.")
    expect(page.get_by_label("Each person confirms it themselves as they come in")).to_be_checked()
    assert group_safety_check_mode(groups.north) == "attendee"
    checked(page, page_problems)

"""The relatives' space leftovers in Chromium, desktop and phone, axe on every page: the supporters' live count
of flags growing on an open page; a trained relative whose membership an admin ends sees it on the page they
have open; a relative chooses about the evaluation and leaves; the admin moves a draft's pages."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from backend.audit.actor import Actor
from backend.relatives import services
from tests.browser.conftest import PASSWORD, assert_accessible, log_in
from tests.relatives.helpers import relatives_world

VIEWPORTS = {
    "desktop": {"viewport": {"width": 1280, "height": 900}},
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2},
}
POLL = 25_000  # the page asks every 15 seconds


def _check(page: Page) -> None:
    assert_accessible(page)
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth"), f"{page.url} scrolls sideways"


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_live_flags_ending_a_membership_leaving_and_moving_pages(new_page, page_problems, world, device):
    rw = relatives_world(world)
    admin_actor = Actor(world.admin, via="test")
    trained = services.relative_invite(actor=admin_actor, email="trained.relative@example.test", full_name="Morgan Trained", notify=False)
    services.supporter_add(actor=admin_actor, user=trained.user)
    for user in (world.admin, world.peer_worker, world.carer, trained.user):
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])
    options = VIEWPORTS[device]

    # A supporter has the flagged items page open; a relative writes words from the risk list; the count grows.
    supporter = new_page(**options)
    log_in(supporter, world.peer_worker.email)
    supporter.goto("/relatives/flags/")
    notice = supporter.locator("[data-relatives-flags]")
    expect(notice).to_have_text("0 flagged items to look at")
    _check(supporter)
    services.message_send(actor=Actor(world.carer, via="test"), thread=rw.thread, body="I do not feel safe tonight and want to die.")
    expect(notice).to_have_text("New: 1 flagged item to look at", timeout=POLL)
    _check(supporter)

    # A trained relative supporting others has the moderation page open; the admin ends their membership.
    helper = new_page(**options)
    log_in(helper, trained.user.email)
    helper.goto("/relatives/moderation/")
    expect(helper.locator("[data-relatives-flags]")).to_have_text("1 flagged item to look at")
    admin = new_page(**options)
    log_in(admin, world.admin.email)
    admin.goto("/relatives/staff/")
    _check(admin)
    admin.get_by_role("button", name=f"End {trained.user.full_name}'s membership").click()
    expect(admin.get_by_role("status")).to_contain_text("is no longer in the relatives' space")
    expect(helper.locator("[data-relatives-flags]")).to_have_text("You no longer support relatives in this space.", timeout=POLL)
    helper.reload()
    expect(helper.get_by_role("heading", level=1)).to_have_text("The relatives' space")  # the page for people not in it
    expect(helper.get_by_text("whom a team has invited")).to_be_visible()

    # The admin moves a draft's pages.
    version = services.module_create(actor=admin_actor, title="Sleep")
    section = services.section_add(actor=admin_actor, version=version, title="Nights")
    for title in ("First thoughts", "Second steps"):
        services.page_add(actor=admin_actor, section=section, title=title, body="Words to read.")
    admin.goto(f"/relatives/staff/modules/{version.module_id}/")
    _check(admin)
    admin.get_by_role("button", name="Move \u201cSecond steps\u201d up").click()
    expect(admin.get_by_role("status")).to_contain_text("Moved")
    expect(admin.locator(f"section[aria-labelledby=\"s-{section.pk}\"] ol > li").first).to_contain_text("Second steps")
    _check(admin)

    # The relative says yes to the evaluation, then leaves; their open page cannot go on.
    relative = new_page(**options)
    log_in(relative, world.carer.email)
    relative.goto("/relatives/")
    relative.get_by_role("link", name="The service's evaluation: your choice").click()
    _check(relative)
    relative.get_by_label("Yes, count it").check()
    relative.get_by_role("button", name="Save my choice").click()
    expect(relative.get_by_role("status")).to_contain_text("counted in the evaluation")
    relative.goto("/relatives/")
    relative.get_by_role("link", name="Leave the relatives' space").click()
    _check(relative)
    other_tab = relative.context.new_page()
    other_tab.goto(f"/relatives/messages/{rw.thread.pk}/")
    relative.get_by_role("button", name="Leave the relatives' space").click()
    expect(relative.get_by_role("status")).to_contain_text("You have left")
    other_tab.get_by_label("Your message").fill("Are you still there?")
    other_tab.get_by_role("button", name="Send").click()
    expect(other_tab.get_by_role("heading", level=1)).to_have_text("The relatives' space")
    expect(other_tab.get_by_text("whom a team has invited")).to_be_visible()

    # The refusals this test meant: the ended member's count and pages, the leaver's message.
    page_problems.console_errors[:] = [(t, u) for t, u in page_problems.console_errors
                                       if not ("status of 403" in t and urlsplit(u).path.startswith("/relatives/"))]
    page_problems.assert_none()

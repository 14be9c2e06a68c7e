"""The relatives' space end to end in Chromium, on a desktop and a 390x844 phone, with axe on every page.

A clinician invites a carer from the carer link on the person's page; the carer sets a password from
the email (real SMTP on loopback), signs in, reads a module, writes to a supporter (words from the risk
list: the crisis numbers at once, and a flag for supporters); the supporter replies; the relative gets
the "reply waiting" email and reads the reply; posts in the forum (a caseload name is refused first) and
a supporter publishes the held post. The admin makes the supporter and adds the starter modules.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from backend.accounts import services as accounts
from backend.accounts.models import Role
from backend.audit.actor import Actor
from tests.browser.conftest import PASSWORD, assert_accessible, log_in
from tests.factories import make_user

VIEWPORTS = {
    "desktop": {"viewport": {"width": 1280, "height": 900}},
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2},
}
NEW_PASSWORD = "Kestrel-harbour-2026"


def _check(page: Page) -> None:
    assert_accessible(page)
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth"), f"{page.url} scrolls sideways"


def _with_password(*users):
    for user in users:
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])


def _allow_400(page_problems, *paths):
    """Forms sent with a mistake come back with status 400 on purpose."""
    page_problems.console_errors[:] = [(t, u) for t, u in page_problems.console_errors
                                       if not ("status of 400" in t and urlsplit(u).path in paths)]


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_a_relative_is_invited_reads_writes_to_a_supporter_and_posts_in_the_moderated_forum(
        new_page, page_problems, world, browser_mail, device):
    _with_password(world.admin, world.clinician, world.peer_worker)
    named = make_user(Role.SERVICE_USER, organisation=world.organisation, full_name="Jordan Okafor")
    accounts.caseload_add(actor=Actor(world.admin, via="test"), team=world.south, service_user=named)
    options = VIEWPORTS[device]

    # The admin adds the starter modules and makes the peer worker a supporter.
    admin = new_page(**options)
    log_in(admin, world.admin.email)
    admin.goto("/relatives/staff/modules/")
    _check(admin)
    admin.get_by_role("button", name="Add Rapport's starter modules").click()
    expect(admin.get_by_role("status")).to_contain_text("Added 2 starter modules")
    admin.get_by_role("link", name="Looking after yourself as a relative").click()
    expect(admin.get_by_role("heading", level=1)).to_have_text("Looking after yourself as a relative")
    _check(admin)
    admin.goto("/relatives/staff/")
    _check(admin)
    admin.get_by_label("Email address of the staff member or trained relative").fill(world.peer_worker.email)
    admin.get_by_role("button", name="Make them a supporter").click()
    expect(admin.get_by_role("status")).to_contain_text("is now a supporter")

    # The clinician invites the carer in one click from the carer link on the person's page.
    clinician = new_page(**options)
    log_in(clinician, world.clinician.email)
    clinician.goto(f"/people/{world.service_user.pk}/")
    # By keyboard: on the phone, Playwright's pointer hit-test on this long page (its appointment tables)
    # lands on a neighbouring element although the button shows; a keyboard user presses it the same way.
    clinician.get_by_role("button", name=f"Invite {world.carer.full_name} to the relatives' space").focus()
    clinician.keyboard.press("Enter")
    expect(clinician.get_by_role("status")).to_contain_text("Invited")
    expect(clinician.get_by_text("In the relatives' space.")).to_be_visible()
    _check(clinician)

    # The relative sets a password from the email and signs in.
    [invitation] = browser_mail.wait_for(world.carer.email)
    relative = new_page(**options)
    relative.goto(urlsplit(invitation.link()).path)
    _check(relative)
    relative.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    relative.get_by_label("Type the new password again").fill(NEW_PASSWORD)
    relative.get_by_role("button", name="Set password").click()
    expect(relative.get_by_role("status")).to_contain_text("Your password is set")
    log_in(relative, world.carer.email, NEW_PASSWORD)
    _check(relative)
    relative.get_by_role("link", name="Open the relatives' space").click()
    expect(relative.get_by_role("heading", level=1)).to_have_text("The relatives' space")
    _check(relative)

    # Reads a module: two pages, then the progress shows on the home page.
    relative.get_by_role("link", name="Looking after yourself as a relative").click()
    _check(relative)
    relative.get_by_role("link", name="Why your own wellbeing counts").click()
    expect(relative.get_by_role("heading", level=1)).to_have_text("Why your own wellbeing counts")
    _check(relative)
    relative.get_by_role("link", name="Next: Noticing how you are").click()
    expect(relative.get_by_role("heading", level=1)).to_have_text("Noticing how you are")
    relative.goto("/relatives/")
    expect(relative.get_by_text("You have opened 2 of 4 pages")).to_be_visible()

    # Writes to a supporter, with words from the risk list: the crisis numbers at once.
    relative.goto("/relatives/messages/")
    expect(relative.get_by_text("Information, not advice.", exact=True)).to_be_visible()
    _check(relative)
    relative.get_by_role("button", name="Send to a supporter").click()  # empty: the form says what is missing
    expect(relative.locator(".error-summary")).to_be_visible()
    relative.get_by_label("What is it about?").fill("Evenings are hard")
    relative.get_by_label("Your message").fill("I am scared he wants to end it all. What can I do in the evenings?")
    relative.get_by_role("button", name="Send to a supporter").click()
    expect(relative.get_by_role("heading", level=1)).to_have_text("We have passed this to a supporter")
    expect(relative.get_by_role("alert")).to_contain_text("call 999")
    expect(relative.get_by_role("alert")).to_contain_text("call NHS 111")
    _check(relative)
    relative.get_by_role("link", name="Continue").click()
    expect(relative.get_by_role("heading", level=1)).to_have_text("Evenings are hard")

    # The supporter sees the flag, looks, and replies.
    supporter = new_page(**options)
    log_in(supporter, world.peer_worker.email)
    supporter.goto("/relatives/flags/")
    expect(supporter.get_by_text("Words found: end it all")).to_be_visible()
    _check(supporter)
    supporter.get_by_role("button", name="Mark as looked at").click()
    expect(supporter.get_by_role("status")).to_contain_text("Marked as looked at")
    supporter.goto("/relatives/messages/")
    _check(supporter)
    supporter.get_by_role("link", name="Evenings are hard").click()
    expect(supporter.get_by_text("Information, not advice.", exact=True)).to_be_visible()
    _check(supporter)
    supporter.get_by_label("Your message").fill("Thank you for telling us. Many relatives find a short routine helps.")
    supporter.get_by_role("button", name="Send").click()
    expect(supporter.get_by_role("status")).to_contain_text("Sent")

    # The relative is emailed that a reply is waiting, and reads it.
    [reply_email] = browser_mail.wait_for(world.carer.email, count=2)[1:]
    assert reply_email.subject == "A reply is waiting for you in Rapport" and "short routine" not in reply_email.body
    relative.goto(urlsplit(reply_email.link()).path)
    expect(relative.get_by_text("Many relatives find a short routine helps.")).to_be_visible()
    _check(relative)

    # The forum: a post naming someone on a caseload is refused, naming the field; then a held post.
    relative.goto("/relatives/forum/")
    _check(relative)
    relative.get_by_label("Title").fill("Hello from a new member")
    relative.get_by_label("Your post").fill("I met Jordan's dad at the clinic.")
    relative.get_by_role("button", name="Post").click()
    expect(relative.locator(".error-summary")).to_contain_text("the name of someone our service cares for")
    _check(relative)
    _allow_400(page_problems, "/relatives/forum/", "/relatives/messages/")
    relative.get_by_label("Your post").fill("Hello everyone. I look after my son and I am new here.")
    relative.get_by_role("button", name="Post").click()
    expect(relative.get_by_role("status")).to_contain_text("A supporter will read your post")
    expect(relative.get_by_text("Waiting for a supporter")).to_be_visible()
    _check(relative)

    # The supporter publishes it; the relative sees it in the forum.
    supporter.goto("/relatives/moderation/")
    _check(supporter)
    supporter.get_by_role("button", name="Publish “Hello from a new member”").click()
    expect(supporter.get_by_role("status")).to_contain_text("Published")
    relative.goto("/relatives/forum/")
    expect(relative.get_by_role("link", name="Hello from a new member")).to_be_visible()
    expect(relative.get_by_text("(waiting for a supporter)")).to_have_count(0)

    # The admin sees use as counts only.
    admin.goto("/relatives/staff/")
    expect(admin.locator("#usage-caption")).to_contain_text("never who read what")
    _check(admin)
    page_problems.assert_none()

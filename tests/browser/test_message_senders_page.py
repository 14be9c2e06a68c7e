"""The organisation's message senders page in a real browser, at desktop and phone (390x844) sizes: an
admin finds it from the administration home page, reads how texts and emails go out now, is refused a
pasted key (the field named, the error linked from the summary), then sets GOV.UK Notify for texts.
axe (WCAG 2.2 AA) on each state, no CSP violations or console errors, no sideways scrolling on a phone."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from backend.accounts.models import Role, User
from backend.messaging.models import OrganisationMessaging
from tests.browser.conftest import PASSWORD, assert_accessible, log_in
from tests.browser.test_messaging_pages import DESKTOP, PHONE, _fits
from tests.factories import make_user

SMS_TEMPLATE = "f33517ff-2a88-4f6e-b855-c550268ce08a"


@pytest.fixture
def admin(world) -> User:
    return make_user(Role.ADMIN, email="ada.admin@example.test", full_name="Ada Admin", password=PASSWORD, organisation=world.organisation)


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_an_admin_sets_how_messages_are_sent(new_page, page_problems, world, admin, size):
    page = new_page(**(PHONE if size == "phone" else DESKTOP))
    log_in(page, admin.email)
    page.goto("/")
    page.get_by_role("link", name="How messages are sent").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("How messages are sent")
    expect(page.locator("dl.summary")).to_contain_text("Emails go")
    expect(page.get_by_text("Nothing is chosen yet")).to_be_visible()
    assert _fits(page) and assert_accessible(page) is None

    page.get_by_label("GOV.UK Notify").first.check()
    page.get_by_label("Notify text message template id").fill(SMS_TEMPLATE)
    page.get_by_label("Name of the environment variable holding the Notify API key").fill("live-abc123-secret")
    page.get_by_role("button", name="Save how messages are sent").click()
    expect(page.get_by_role("alert")).to_contain_text("Never paste the key itself here")
    expect(page.locator("#id_notify_key_variable_error")).to_be_visible()
    assert not OrganisationMessaging.objects.filter(organisation=world.organisation).exists()
    assert _fits(page) and assert_accessible(page) is None

    page.get_by_label("Name of the environment variable holding the Notify API key").fill("NOTIFY_API_KEY_NORTH")
    page.get_by_role("button", name="Save how messages are sent").click()
    expect(page.get_by_role("status")).to_contain_text("Every message sent from now on goes out this way")
    expect(page.locator("dl.summary")).to_contain_text("through GOV.UK Notify")
    expect(page.locator("dl.summary")).to_contain_text("NOTIFY_API_KEY_NORTH is not set")
    row = OrganisationMessaging.objects.get(organisation=world.organisation)
    assert (row.sms_sender, row.notify_key_variable, str(row.notify_sms_template_id)) == ("notify", "NOTIFY_API_KEY_NORTH", SMS_TEMPLATE)
    assert _fits(page) and assert_accessible(page) is None

    page.goto(f"/administration/teams/{world.north.pk}/messages/")
    page.get_by_role("link", name="how messages are sent").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("How messages are sent")
    page_problems.assert_none(page, error_page=(400, "/administration/messages/"))

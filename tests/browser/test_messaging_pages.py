"""The messaging pages in a real browser, at desktop and phone (390x844) sizes: an admin gives a team
its sender name, edits a reminder's wording with the live preview (an unknown placeholder and a banned
word shown as typed, then refused on saving, naming the field), and saves it; a person chooses how they
are contacted on their own page; a clinician sees that choice. axe (WCAG 2.2 AA) on every page, no CSP
violations or console errors, no sideways scrolling on a phone."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from backend.accounts.models import Role, User
from backend.messaging.models import ContactPreference, MessageTemplate, TeamMessaging
from tests.browser.conftest import PASSWORD, assert_accessible, log_in
from tests.factories import make_user

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}


def _fits(page: Page) -> bool:
    return page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")


@pytest.fixture
def admin(world) -> User:
    return make_user(Role.ADMIN, email="ada.admin@example.test", full_name="Ada Admin", password=PASSWORD, organisation=world.organisation)


@pytest.fixture
def person(world) -> User:
    world.service_user.set_password(PASSWORD)
    world.service_user.save(update_fields=["password"])
    return world.service_user


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_an_admin_names_the_sender_and_edits_a_reminder_with_a_live_preview(new_page, page_problems, world, admin, size):
    page = new_page(**(PHONE if size == "phone" else DESKTOP))
    log_in(page, admin.email)
    page.goto(f"/administration/teams/{world.north.pk}/")
    page.get_by_role("link", name="Messages: sender name, reminders and wording").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Messages from North")
    expect(page.get_by_role("note")).to_contain_text("No messages are sent yet")
    assert _fits(page) and assert_accessible(page) is None
    page.get_by_label("Sender name", exact=True).fill("Leeds NHS")
    page.get_by_label("Reminders, in days before the appointment").fill("7, 2")
    page.get_by_role("button", name="Save the message settings").click()
    expect(page.get_by_role("status")).to_contain_text("message settings are saved")
    assert TeamMessaging.objects.get(team=world.north).reminder_offsets_hours == [168, 48]

    page.get_by_role("link", name="change the reminder text message").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Reminder by text message")
    preview = page.locator("#message-preview")
    expect(preview).to_contain_text("Hello Sam.")
    expect(preview).to_contain_text("Leeds NHS")
    assert _fits(page) and assert_accessible(page) is None
    message = page.get_by_label("Message", exact=True)
    message.fill("Hi {name}, your PHQ-9 is due {when}. {firstname}")
    expect(preview).to_contain_text("Hi Sam, your PHQ-9 is due")  # filled in as typed
    expect(preview).to_contain_text("{firstname} is not a placeholder")
    expect(preview).to_contain_text("contains “phq-9”")
    page.get_by_role("button", name="Save this wording").click()
    expect(page.get_by_role("alert")).to_contain_text("{firstname} is not a placeholder")
    message = page.get_by_label("Message", exact=True)
    message.fill("Hi {name}, your PHQ-9 is due {when}.")
    page.get_by_role("button", name="Save this wording").click()
    expect(page.get_by_role("alert")).to_contain_text("The text message contains “phq-9”")
    expect(page.get_by_label("Message", exact=True)).to_have_value("Hi {name}, your PHQ-9 is due {when}.")  # kept as typed
    assert_accessible(page)
    page.get_by_label("Message", exact=True).fill("Hi {name}, see you {when}, {how}. {sender}")
    page.get_by_role("button", name="Save this wording").click()
    expect(page.get_by_role("status")).to_contain_text("The new wording is used")
    assert MessageTemplate.objects.get(team=world.north).body == "Hi {name}, see you {when}, {how}. {sender}"
    expect(page.get_by_role("link", name="change the reminder text message")).to_contain_text("This team's own")
    page_problems.assert_none(page, error_page=(400, f"/administration/teams/{world.north.pk}/messages/reminder/sms/"))


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_a_person_chooses_how_they_are_contacted_and_their_clinician_sees_it(new_page, page_problems, world, person, size):
    page = new_page(**(PHONE if size == "phone" else DESKTOP))
    log_in(page, person.email)
    page.get_by_role("link", name="How we contact you").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("How we contact you")
    assert _fits(page) and assert_accessible(page) is None
    page.get_by_label("Mobile number for text messages").fill("0113 496 0000")
    page.get_by_role("group", name="Reminders before an appointment").get_by_label("Both").check()
    page.get_by_role("button", name="Save how we contact you").click()
    expect(page.get_by_role("alert")).to_contain_text("not a mobile number")
    assert _fits(page) and assert_accessible(page) is None
    page.get_by_label("Mobile number for text messages").fill("07400 123456")
    for group in ("When an appointment is booked", "When an appointment is changed or cancelled"):
        page.get_by_role("group", name=group).get_by_label("Text message").check()
    expect(page.get_by_role("group", name="When an appointment is changed or cancelled").get_by_label("Do not send these")).to_have_count(0)
    page.get_by_role("group", name="Questions to answer before an appointment").get_by_label("Do not send these").check()
    page.get_by_role("button", name="Save how we contact you").click()
    expect(page.get_by_role("status")).to_contain_text("Saved")
    row = ContactPreference.objects.get(person=person)
    assert row.mobile_number == "+447400123456" and row.channels["reminder"] == "both" and row.channels["questionnaire"] == "off"
    expect(page.get_by_role("region", name="What we do now")).to_contain_text("+447400123456")
    page_problems.assert_none(page, error_page=(400, "/contact/"))

    clinician = new_page(**(PHONE if size == "phone" else DESKTOP))
    world.clinician.set_password(PASSWORD)
    world.clinician.save(update_fields=["password"])
    log_in(clinician, world.clinician.email)
    clinician.goto(f"/people/{person.pk}/")
    clinician.get_by_role("link", name=f"How {person.display_name} wants to be contacted").click()
    expect(clinician.locator("main")).to_contain_text("By text message and email")
    expect(clinician.locator("main")).to_contain_text("Do not send these")
    assert _fits(clinician) and assert_accessible(clinician) is None
    page_problems.assert_none(clinician, error_page=(400, "/contact/"))


def test_a_one_use_questionnaire_link_on_a_phone_then_the_used_page_with_the_teams_number(new_page, page_problems, world, admin):
    import re

    from backend.accounts import services as accounts
    from backend.audit.actor import Actor
    from backend.messaging import services as messaging
    from backend.messaging.models import Message
    from backend.outcomes import services as outcomes
    from backend.outcomes.models import MeasureSchedule
    from backend.outcomes.selectors import instrument_by_code
    from tests.factories import book

    by = Actor(admin, via="test")
    accounts.team_update(actor=by, team=world.north, phone_number="0113 496 0000")
    messaging.team_messaging_update(actor=by, team=world.north, sender_name="Leeds NHS", reminder_offsets_hours=[24],
                                    caller_number_kind="a withheld number", questionnaire_days_before=3, nudge_hours_before=24)
    outcomes.schedule_set(actor=by, team=world.north, instrument=instrument_by_code("gad7"), when=MeasureSchedule.When.EVERY_SESSION)
    appointment = book(world.clinician, world.service_user, world.north, in_hours=10 * 24)
    due = Message.objects.get(appointment=appointment, kind=Message.Kind.QUESTIONNAIRE_DUE)
    path = re.search(r"/q/[^/\s]+/", due.body).group(0)

    page = new_page(**PHONE)
    page.goto(path)
    expect(page.get_by_role("heading", level=1)).to_contain_text("GAD-7")
    assert _fits(page) and assert_accessible(page) is None
    page.get_by_role("button", name="Save my answers").click()
    expect(page.get_by_role("alert")).to_contain_text("Choose an answer for question 1")
    assert_accessible(page)
    for number in range(1, 8):
        page.get_by_role("group", name=re.compile(rf"^{number}\. ")).get_by_role("radio").first.check()
    page.get_by_role("button", name="Save my answers").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you: your answers are saved")
    assert_accessible(page)
    assert Message.objects.get(appointment=appointment, kind=Message.Kind.QUESTIONNAIRE_NUDGE).status == Message.Status.CANCELLED
    page.goto(path)
    expect(page.get_by_role("heading", level=1)).to_have_text("These questions are already answered")
    expect(page.get_by_role("main")).to_contain_text("0113 496 0000")
    expect(page.get_by_role("link", name="Log in")).to_be_visible()
    assert _fits(page) and assert_accessible(page) is None
    page.screenshot(path="/tmp/msgcontent-link-used.png")
    page_problems.assert_none(page, error_page=(400, path))

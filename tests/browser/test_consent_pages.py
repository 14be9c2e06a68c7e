"""Consent, preference, appointment and person pages in a real browser.

A service user agrees and stops agreeing, says how they would like to be seen and chooses how to be
seen at an appointment (on a phone-sized screen too); a clinician opens the person's page, sees that
choice and records consent given in words. Every page must pass axe (WCAG 2.2 AA, serious and
critical) and run without CSP violations or console errors.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from playwright.sync_api import Page, expect

from backend.accounts import services
from backend.accounts.models import Role, Team, User
from backend.audit.actor import Actor
from backend.consent.models import Access, ConsentRecord, Modality, PurposeCode
from backend.consent.selectors import has_consent, preference_current
from backend.sessions import services as session_services
from backend.sessions.models import Appointment
from tests.browser.conftest import PASSWORD, assert_accessible, log_in
from tests.factories import seed_reference_data, SYSTEM, book, give_consent, link_carer, make_team, make_user, set_preference

PHONE = {"viewport": {"width": 375, "height": 740}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}


@dataclass
class People:
    north: Team
    clinician: User
    service_user: User
    carer: User
    appointment: Appointment


@pytest.fixture
def people(transactional_db) -> People:
    """One team: clinician Nia and service user Amira, who involves her mother Grace (not yet agreed to)
    and has agreed to remote care but not to video. One appointment in three days, all ways offered."""
    seed_reference_data()
    organisation = services.organisation_create(actor=SYSTEM, name="Consent Pages Trust", staff_two_factor_required=False)
    north = make_team(organisation, "North Leeds Talking Therapies")
    clinician = make_user(Role.CLINICIAN, email="nia.clarke@example.test", full_name="Nia Clarke", password=PASSWORD)
    service_user = make_user(
        Role.SERVICE_USER, email="amira.okafor@example.test", full_name="Amira Okafor", preferred_name="Amira", password=PASSWORD,
    )
    carer = make_user(Role.CARER, email="grace.okafor@example.test", full_name="Grace Okafor")
    services.team_member_add(actor=SYSTEM, team=north, user=clinician)
    services.caseload_add(actor=SYSTEM, team=north, service_user=service_user)
    link_carer(service_user, carer, consent=False)
    give_consent(service_user, PurposeCode.REMOTE_CARE)
    return People(north, clinician, service_user, carer, book(clinician, service_user, north))


def has_no_horizontal_scroll(page: Page) -> bool:
    return page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")


def assert_big_enough(locator) -> None:
    box = locator.bounding_box()
    assert box["width"] >= 44 and box["height"] >= 44, f"too small to tap: {box}"


def go_to(page: Page, link_name: str) -> None:
    with page.expect_navigation():
        page.get_by_role("navigation", name="Main").get_by_role("link", name=link_name, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(link_name)


def press(page: Page, button) -> None:
    with page.expect_navigation():
        button.click()


def test_service_user_agrees_then_stops_agreeing(page: Page, page_problems, people: People):
    log_in(page, people.service_user.email)
    go_to(page, "What you have agreed to")
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="What you have agreed to")).to_have_attribute("aria-current", "page")
    expect(page.get_by_role("main")).to_contain_text("Stopping takes effect straight away.")
    assert_accessible(page)

    evaluation = page.get_by_role("region", name="Use of pseudonymised data for service evaluation")
    expect(evaluation).to_contain_text("Not asked yet.")
    expect(evaluation).to_contain_text("Wording version 1")
    press(page, evaluation.get_by_role("button", name="I agree"))

    expect(page.get_by_role("status")).to_contain_text("You have agreed to “Use of pseudonymised data for service evaluation”")
    expect(evaluation).to_contain_text("Agreed on")
    assert has_consent(people.service_user, PurposeCode.EVALUATION)
    assert_accessible(page)

    press(page, evaluation.get_by_role("button", name="Stop agreeing"))

    expect(page.get_by_role("status")).to_contain_text("This took effect straight away.")
    expect(evaluation).to_contain_text("You stopped agreeing on")
    expect(evaluation.get_by_role("button", name="I agree")).to_be_visible()
    assert not has_consent(people.service_user, PurposeCode.EVALUATION)

    # Involving a carer: agreeing can share questionnaire scores too.
    carer = page.get_by_role("region", name="Involving a named carer: Grace Okafor")
    carer.get_by_label("Also share my questionnaire scores with them").check()
    press(page, carer.get_by_role("button", name="I agree"))
    expect(carer).to_contain_text("They can see your appointment times and your questionnaire scores.")
    latest = ConsentRecord.objects.filter(service_user=people.service_user, carer=people.carer).order_by("-id").first()
    assert latest.decision == "given" and latest.share_outcomes is True

    assert_accessible(page)
    page_problems.assert_none(page)


def test_service_user_sets_how_they_would_like_to_be_seen_on_a_phone(new_page, page_problems, people: People):
    page = new_page(**PHONE)
    log_in(page, people.service_user.email)
    go_to(page, "How you would like to be seen")
    expect(page.get_by_role("region", name="What you have told us")).to_contain_text("You have not told us yet.")
    assert has_no_horizontal_scroll(page), "the preferences page scrolls sideways on a phone"
    assert_accessible(page)

    page.get_by_label("First choice").select_option(label="Phone call")
    page.get_by_label("Second choice").select_option(label="Phone call")
    page.get_by_label("Third choice").select_option(label="Video call")
    page.get_by_label("My internet connection is poor").check()
    answers = {
        "Do you have a phone, tablet or computer that can make video calls?": "Yes",
        "Do you have enough mobile data or broadband for a video call?": "No",
        "Do you have a private space where you can talk without being overheard?": "Not sure",
        "Do you feel confident using video calls?": "No",
    }
    for question, answer in answers.items():
        page.get_by_role("group", name=question).get_by_label(answer, exact=True).check()
    page.get_by_label("I would like help getting set up").check()
    save = page.get_by_role("button", name="Save how I would like to be seen")
    assert_big_enough(save)
    press(page, save)

    # The same choice twice: the form comes back with the problem, and keeps what was entered.
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("You chose phone call twice")
    expect(summary).to_be_focused()
    expect(page.get_by_label("My internet connection is poor")).to_be_checked()
    assert preference_current(people.service_user) is None
    assert has_no_horizontal_scroll(page)
    assert_accessible(page)

    page.get_by_label("Second choice").select_option(label="Face to face")
    press(page, page.get_by_role("button", name="Save how I would like to be seen"))

    expect(page.get_by_role("status")).to_contain_text("Saved. Your care team will see how you would like to be seen.")
    told = page.get_by_role("region", name="What you have told us")
    expect(told).to_contain_text("Phone call")
    expect(told).to_contain_text("My internet connection is poor")
    preference = preference_current(people.service_user)
    assert preference.ranking == [Modality.PHONE, Modality.FACE_TO_FACE, Modality.VIDEO]
    assert (preference.has_enough_data, preference.has_private_space, preference.wants_help) == (Access.NO, Access.UNSURE, True)
    assert has_no_horizontal_scroll(page)
    assert_accessible(page)
    page_problems.assert_none(page)


def test_service_user_chooses_how_to_be_seen_after_agreeing_to_video_on_a_phone(new_page, page_problems, people: People):
    page = new_page(**PHONE)
    log_in(page, people.service_user.email)
    go_to(page, "Your appointments")
    appointment = page.get_by_role("region").filter(has=page.get_by_role("button", name="Save my choice"))
    expect(appointment).to_have_count(1)
    expect(appointment).to_contain_text("North Leeds Talking Therapies")
    expect(appointment).to_contain_text("offered: video call, phone call, face to face")
    expect(appointment).to_contain_text("Not chosen yet")
    expect(appointment).to_contain_text("To choose this, first agree to “Being seen on video”")
    assert has_no_horizontal_scroll(page), "the appointments page scrolls sideways on a phone"
    assert_accessible(page)

    # Video needs consent first: the page says so and links to where to give it.
    appointment.get_by_label("Video call").check()
    press(page, appointment.get_by_role("button", name="Save my choice"))
    expect(page.get_by_role("alert")).to_contain_text("needs consent to 'Being seen on video'")
    assert Appointment.objects.get(pk=people.appointment.pk).chosen_modality == ""
    assert_accessible(page)

    with page.expect_navigation():
        page.get_by_role("link", name="Go to What you have agreed to").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("What you have agreed to")
    assert has_no_horizontal_scroll(page), "the consent page scrolls sideways on a phone"
    assert_accessible(page)
    video = page.get_by_role("region", name="Being seen on video")
    agree = video.get_by_role("button", name="I agree")
    assert_big_enough(agree)
    press(page, agree)
    expect(page.get_by_role("status")).to_contain_text("You have agreed to “Being seen on video”")

    go_to(page, "Your appointments")
    appointment = page.get_by_role("region").filter(has=page.get_by_role("button", name="Save my choice"))
    appointment.get_by_label("Video call").check()
    save = appointment.get_by_role("button", name="Save my choice")
    assert_big_enough(save)
    press(page, save)

    expect(page.get_by_role("status")).to_contain_text("Saved. You chose video call for your appointment on")
    expect(appointment.get_by_label("Video call")).to_be_checked()
    assert Appointment.objects.get(pk=people.appointment.pk).chosen_modality == Modality.VIDEO
    assert has_no_horizontal_scroll(page)
    assert_accessible(page)
    page_problems.assert_none(page)


def test_clinician_sees_the_choice_and_records_verbal_consent(page: Page, page_problems, people: People):
    set_preference(people.service_user, ranking=(Modality.PHONE, Modality.FACE_TO_FACE, Modality.VIDEO), has_private_space=Access.NO)
    session_services.appointment_choose(actor=Actor(people.service_user, via="test"), appointment=people.appointment, modality=Modality.PHONE)

    log_in(page, people.clinician.email)
    with page.expect_navigation():
        page.get_by_role("link", name="Amira Okafor").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Amira Okafor")
    glance = page.get_by_role("region", name="At a glance")
    expect(glance.get_by_role("listitem").filter(has_text="May need face to face")).to_be_visible()
    expect(glance.get_by_role("listitem").filter(has_text="May need a phone call")).to_be_visible()
    coming_up = page.get_by_role("table", name="Coming up, soonest first")
    expect(coming_up.get_by_role("cell", name="Phone call", exact=True)).to_be_visible()
    expect(page.get_by_role("table", name="Where each consent stands now").get_by_role("row", name="Being seen on video")).to_contain_text("Not asked yet")
    assert_accessible(page)

    # Without a note, nothing is recorded and the form says what to add.
    form = page.get_by_role("region", name="Consent", exact=True)
    form.get_by_label("What they decided about").select_option(label="Being seen on video (current wording: version 1)")
    form.get_by_role("group", name="What they decided").get_by_label("They agreed").check()
    press(page, form.get_by_role("button", name="Record their decision"))
    summary = page.locator(".error-summary")
    expect(summary).to_contain_text("Say how and when they told you")
    expect(summary).to_be_focused()
    assert not has_consent(people.service_user, PurposeCode.VIDEO)
    assert_accessible(page)

    form.get_by_label("How and when they told you").fill("By phone on 3 May, after I read her the wording.")
    press(page, form.get_by_role("button", name="Record their decision"))

    expect(page.get_by_role("status")).to_contain_text("Recorded: Amira Okafor agreed to “Being seen on video”")
    history = page.get_by_role("table", name="Every consent decision, newest first")
    newest = history.get_by_role("row").nth(1)
    expect(newest).to_contain_text("Verbally, recorded by a clinician")
    expect(newest).to_contain_text("Nia Clarke")
    expect(newest).to_contain_text("By phone on 3 May")
    assert has_consent(people.service_user, PurposeCode.VIDEO)
    assert_accessible(page)
    page_problems.assert_none(page)

"""Issue 13 in a real browser: the team waiting area (a colleague admits and runs the session), a guest
interpreter joining by link from a second browser, the carer invited by the clinician, a phone session
with the person offline, a peer worker running their own session, and the caseload dashboard. Every
page passes axe and fits a 390x844 phone without scrolling sideways."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from backend.accounts import services as accounts
from backend.accounts.models import Role, Team, User
from backend.audit.actor import Actor
from backend.consent.models import PurposeCode
from backend.outcomes import services as outcome_services
from backend.outcomes.selectors import instrument_by_code
from backend.sessions import services as sessions
from backend.sessions.models import Appointment, Participant
from tests.browser.conftest import PASSWORD, assert_accessible, log_in
from tests.browser.test_call import WAIT_MS, open_page, outside_playwrights_loop, remote_videos_playing, waiting_room_text
from tests.factories import SYSTEM, book, give_consent, let_time_pass, link_carer, make_team, make_user, seed_reference_data

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}


@dataclass
class Clinic:
    team: Team
    clinician: User
    colleague: User  # a peer worker on the same team
    other_clinician: User  # another team's
    service_user: User
    carer: User
    appointment: Appointment  # today, now, with the clinician; video chosen


@pytest.fixture
def clinic(transactional_db) -> Clinic:
    seed_reference_data()
    organisation = accounts.organisation_create(actor=SYSTEM, name="Clinic Test Trust", staff_two_factor_required=False)
    team, south = make_team(organisation, "North Leeds Talking Therapies"), make_team(organisation, "South Leeds")
    clinician = make_user(Role.CLINICIAN, email="nia.clarke@example.test", full_name="Nia Clarke", password=PASSWORD)
    colleague = make_user(Role.PEER_WORKER, email="sam.patel@example.test", full_name="Sam Patel", password=PASSWORD)
    other = make_user(Role.CLINICIAN, email="olu.ade@example.test", full_name="Olu Ade", password=PASSWORD)
    service_user = make_user(Role.SERVICE_USER, email="amira.okafor@example.test", full_name="Amira Okafor", preferred_name="Amira",
                             phone_number="07400 123456", password=PASSWORD)
    carer = make_user(Role.CARER, email="grace.okafor@example.test", full_name="Grace Okafor", password=PASSWORD)
    for user in (clinician, colleague):
        accounts.team_member_add(actor=SYSTEM, team=team, user=user)
    accounts.team_member_add(actor=SYSTEM, team=south, user=other)
    accounts.caseload_add(actor=SYSTEM, team=team, service_user=service_user)
    give_consent(service_user, PurposeCode.REMOTE_CARE)
    give_consent(service_user, PurposeCode.VIDEO)
    link_carer(service_user, carer)
    appointment = book(clinician, service_user, team, in_hours=48)
    sessions.appointment_choose(actor=Actor(service_user, via="test"), appointment=appointment, modality="video")
    appointment = let_time_pass(appointment, hours_ago=0.05)
    sessions.safety_check_record(actor=Actor(clinician), appointment=appointment, current_location="Home, 12 Example Street, Leeds",
                                 is_private=True, emergency_contact_confirmed=True, identity_confirmed=True)
    return Clinic(team, clinician, colleague, other, service_user, carer, appointment)


def fits_a_phone(page: Page) -> None:
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth"), f"{page.url} scrolls sideways on a phone"


def wait_for(check, what: str) -> None:
    deadline = time.monotonic() + WAIT_MS / 1000
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def test_a_colleague_admits_from_the_team_waiting_area_and_runs_the_session(new_page, page_problems, clinic: Clinic):
    person = open_page(new_page)
    log_in(person, clinic.service_user.email)
    person.goto(f"/sessions/{clinic.appointment.pk}/")
    expect(waiting_room_text(person)).to_be_visible(timeout=WAIT_MS)

    other = new_page(**DESKTOP)  # another team's clinician sees nobody
    log_in(other, clinic.other_clinician.email)
    other.goto("/waiting-area/")
    expect(other.get_by_text("Nobody is waiting for your team's sessions")).to_be_visible()
    assert_accessible(other)

    for options in (PHONE,):
        look = new_page(**options)
        log_in(look, clinic.colleague.email)
        look.goto("/waiting-area/")
        expect(look.get_by_role("heading", name="Amira")).to_be_visible()
        assert_accessible(look)
        fits_a_phone(look)

    colleague = open_page(new_page)
    log_in(colleague, clinic.colleague.email)
    colleague.get_by_role("link", name="Team waiting area").click()
    entry = colleague.get_by_role("region", name="Amira")
    expect(entry).to_contain_text("booked with Nia Clarke")
    expect(entry).to_contain_text("Waiting")
    assert_accessible(colleague)
    entry.get_by_role("button", name="Admit Amira and run the session").click()
    expect(colleague).to_have_url(f"/sessions/{clinic.appointment.pk}/")
    remote_videos_playing(person, 1)
    remote_videos_playing(colleague, 1)
    appointment = Appointment.objects.get(pk=clinic.appointment.pk)
    assert (appointment.status, appointment.run_by, appointment.practitioner) == ("in_progress", clinic.colleague, clinic.clinician)
    assert_accessible(colleague)
    page_problems.assert_none(colleague)


def test_the_clinician_adds_an_interpreter_who_joins_by_link_and_invites_the_carer(new_page, page_problems, clinic: Clinic):
    host = new_page(**DESKTOP)
    log_in(host, clinic.clinician.email)
    host.goto(f"/sessions/{clinic.appointment.pk}/people/")
    host.get_by_role("button", name="Add the guest").click()  # nothing filled in: says what is missing, adds nobody
    expect(host.get_by_role("alert")).to_contain_text("Write the guest's name")
    host.get_by_label("Their name").fill("Ana Silva")
    host.get_by_label("Interpreter", exact=True).check()
    host.get_by_role("button", name="Add the guest").click()
    expect(host.get_by_role("alert")).to_contain_text("Write the language the interpreter will interpret")
    assert not Participant.objects.filter(appointment=clinic.appointment).exists()
    assert_accessible(host)
    host.get_by_label("Language (for an interpreter)").fill("Portuguese")
    host.get_by_role("button", name="Add the guest").click()
    link = host.locator("#new-link").get_attribute("href")
    expect(host.get_by_role("region", name="Carers and guests in this session")).to_contain_text("Ana Silva: Interpreter (Portuguese), invited")
    assert_accessible(host)

    guest = open_page(new_page, options=PHONE)  # a second browser context: no account, only the link
    guest.goto(link)
    expect(guest).to_have_url(f"/sessions/{clinic.appointment.pk}/")
    expect(waiting_room_text(guest)).to_be_visible(timeout=WAIT_MS)
    assert_accessible(guest)
    fits_a_phone(guest)
    guest_user = Participant.objects.get(appointment=clinic.appointment, role="guest").user
    wait_for(lambda: Participant.objects.get(appointment=clinic.appointment, user=guest_user).state == "waiting", "the guest to wait")

    host.goto("/waiting-area/")
    host.get_by_role("region", name="Ana Silva").get_by_role("button", name="Admit Ana Silva and run the session").click()
    expect(host).to_have_url(f"/sessions/{clinic.appointment.pk}/")
    wait_for(lambda: Participant.objects.get(appointment=clinic.appointment, user=guest_user).state == "admitted", "the guest admitted")
    remote_videos_playing(guest, 1)

    host.goto(f"/sessions/{clinic.appointment.pk}/people/")
    host.get_by_label("Carer", exact=True).select_option(label="Grace Okafor")
    host.get_by_role("button", name="Invite the carer").click()
    expect(host.locator("#new-link")).to_be_visible()
    assert Participant.objects.get(appointment=clinic.appointment, user=clinic.carer).state == "invited"

    carer = new_page(**PHONE)
    log_in(carer, clinic.carer.email)
    invited = carer.get_by_role("region", name="Sessions you are invited to")
    expect(invited).to_contain_text("Amira")
    assert_accessible(carer)
    fits_a_phone(carer)
    invited.get_by_role("button", name="Step back from this session").click()
    expect(carer.get_by_text("You are not invited to any sessions at the moment.")).to_be_visible()
    assert Participant.objects.get(appointment=clinic.appointment, user=clinic.carer).state == "removed"
    page_problems.assert_none(host)


def test_a_phone_session_is_started_recorded_and_ended_with_the_person_offline(new_page, page_problems, clinic: Clinic):
    phone_appointment = let_time_pass(book(clinic.clinician, clinic.service_user, clinic.team, in_hours=3), hours_ago=0.02)
    for options in (DESKTOP, PHONE):
        page = new_page(**options)
        log_in(page, clinic.clinician.email)
        page.goto(f"/people/{clinic.service_user.pk}/")
        page.get_by_role("link", name="Run it as a phone call").first.click()
        page.goto(f"/sessions/{phone_appointment.pk}/phone/")
        expect(page.get_by_role("heading", level=1)).to_have_text("Phone session with Amira")
        assert_accessible(page)
        fits_a_phone(page)
    page.get_by_label("Where are they right now?").fill("Home, 12 Example Street, Leeds")
    page.get_by_label("They can talk without being overheard").check()
    page.get_by_label("I have confirmed their emergency contact").check()
    page.get_by_label("I have confirmed who they are").check()
    page.get_by_role("button", name="Record the safety check").click()
    page.get_by_role("button", name="Start the phone session").click()
    page.get_by_label("The number you are calling").fill("not a number")
    page.get_by_role("button", name="I am calling them now").click()
    expect(page.get_by_role("alert")).to_contain_text("not a phone number")
    assert not phone_appointment.phone_calls.exists()
    assert_accessible(page)
    page.get_by_label("The number you are calling").fill("07400 123456")
    page.get_by_role("button", name="I am calling them now").click()
    expect(page.get_by_text("A call is going on.")).to_be_visible()
    page.get_by_role("button", name="The call has ended").click()
    page.get_by_role("button", name="End the session").click()
    expect(page.get_by_role("region", name="Calls recorded")).to_contain_text("Nia Clarke called Amira Okafor on 07400 123456")
    assert_accessible(page)
    fits_a_phone(page)
    appointment = Appointment.objects.get(pk=phone_appointment.pk)
    call = appointment.phone_calls.get()
    assert (appointment.status, appointment.delivered_modality, appointment.run_by) == ("ended", "phone", clinic.clinician)
    assert (call.caller, call.callee, call.number, call.ended_at is not None) == (clinic.clinician, clinic.service_user, "+447400123456", True)
    assert not appointment.participants.filter(user=clinic.service_user).exists()  # never online
    page_problems.assert_none(page)


def test_a_peer_worker_runs_their_own_session_from_the_person_page(new_page, page_problems, clinic: Clinic):
    own = book(clinic.colleague, clinic.service_user, clinic.team, in_hours=5)
    page = new_page(**DESKTOP)
    log_in(page, clinic.colleague.email)
    page.goto(f"/people/{clinic.service_user.pk}/")
    links = page.get_by_role("link", name="Open the session")
    for index in range(links.count()):  # every session link the page offers opens (no 404)
        href = links.nth(index).get_attribute("href")
        assert page.request.get(href).status == 200, href
    page.locator(f'a[href="/sessions/{own.pk}/"]').click()
    expect(page.get_by_role("heading", name="Safety and privacy check")).to_be_visible()
    assert_accessible(page)
    page_problems.assert_none(page)


def test_the_caseload_dashboard_shows_scores_bands_and_flags_and_sorts_and_filters(new_page, page_problems, clinic: Clinic):
    calm = make_user(Role.SERVICE_USER, full_name="Zoe Brown", password=PASSWORD)
    accounts.caseload_add(actor=SYSTEM, team=clinic.team, service_user=calm)
    phq9 = instrument_by_code("phq9")
    course = sessions.course_open(actor=Actor(clinic.clinician), service_user=clinic.service_user, team=clinic.team,
                                  started_on=timezone.localdate() - timedelta(days=40))
    for days_ago, answers in ((30, [3] * 8 + [1]), (2, [1] * 8 + [0])):
        # A risk flag is pushed to the clinician's sockets: off Playwright's loop (see test_call.py).
        outside_playwrights_loop(
            outcome_services.response_submit,
            actor=Actor(clinic.clinician), idempotency_key=f"dash-{days_ago}",
            submission=outcome_services.Submission(instrument=phq9, service_user=clinic.service_user, course=course, appointment=None,
                                                   mode="in_person", answers=dict(enumerate(answers, start=1)),
                                                   completed_at=timezone.now() - timedelta(days=days_ago)),
        )
    page = new_page(**DESKTOP)
    log_in(page, clinic.clinician.email)
    page.get_by_role("link", name="Caseload dashboard").click()
    table = page.get_by_role("table")
    amira = table.get_by_role("row", name="Amira Okafor")
    expect(amira.locator('[data-measure="phq9"]')).to_contain_text("8")
    expect(amira.locator('[data-measure="phq9"]')).to_contain_text("mild")
    expect(amira.locator('[data-measure="phq9"]')).to_contain_text("down 17 since the course began")
    expect(amira).to_contain_text("1 open")  # item 9 answered above 0 in the first response
    expect(table.get_by_role("row").nth(1)).to_contain_text("Amira Okafor")  # by name
    assert_accessible(page)
    table.get_by_role("link", name="GAD-7").click()
    expect(page.get_by_role("table")).to_contain_text("sorted by GAD-7")
    page.get_by_role("table").get_by_role("link", name="PHQ-9").click()
    expect(page.get_by_role("table").get_by_role("row").nth(1)).to_contain_text("Amira Okafor")  # highest first
    page.get_by_label("Show").select_option(label="People with open risk flags")
    page.get_by_role("button", name="Show these people").click()
    expect(page.get_by_role("table").get_by_role("row")).to_have_count(2)
    expect(page.get_by_role("table")).not_to_contain_text("Zoe Brown")
    assert_accessible(page)

    small = new_page(**PHONE)
    log_in(small, clinic.colleague.email)  # a peer worker: no risk flags column
    small.goto("/caseload/")
    expect(small.get_by_role("table")).to_contain_text("Zoe Brown")
    expect(small.get_by_role("columnheader", name="Open risk flags")).to_have_count(0)
    assert_accessible(small)
    fits_a_phone(small)
    page_problems.assert_none(page)

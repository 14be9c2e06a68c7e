"""Running a clinic from the browser: booking (one appointment and a weekly series), the week, moving,
cancelling, join links and the leaflet; the service user's upcoming list, calendar file, choice and
request to rearrange. Every page passes axe (WCAG 2.2 AA, serious and critical), without CSP
violations or console errors, on a desktop and on a 390x844 phone without sideways scrolling."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import icalendar
import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from backend.accounts import services
from backend.accounts.models import Role, Team, User
from backend.consent.models import PurposeCode
from backend.sessions.models import Appointment, RearrangeRequest
from tests.browser.conftest import PASSWORD, assert_accessible, log_in
from tests.factories import SYSTEM, book, give_consent, make_user, seed_reference_data

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}


@dataclass
class Clinic:
    north: Team
    south: Team
    clinician: User
    peer_worker: User
    service_user: User
    south_clinician: User


@pytest.fixture
def clinic(transactional_db) -> Clinic:
    """North (a phone number and a face-to-face address): clinician Nia, peer worker Sam, service user
    Amira (agreed to remote care and video). South: clinician Tom and his own caseload."""
    seed_reference_data()
    organisation = services.organisation_create(actor=SYSTEM, name="Clinic Trust", staff_two_factor_required=False)
    north = services.team_create(actor=SYSTEM, organisation=organisation, name="North Leeds Talking Therapies", service="Talking therapies",
                                 site="Leeds", phone_number="+441134960000", face_to_face_address="1 Park Square\nLeeds\nLS1 2AA",
                                 opening_hours="Monday to Friday, 9am to 5pm")
    south = services.team_create(actor=SYSTEM, organisation=organisation, name="South Leeds Wellbeing", service="Wellbeing", site="Leeds")
    clinician = make_user(Role.CLINICIAN, email="nia.clarke@example.test", full_name="Nia Clarke", password=PASSWORD)
    peer_worker = make_user(Role.PEER_WORKER, email="sam.okafor@example.test", full_name="Sam Okafor", password=PASSWORD)
    south_clinician = make_user(Role.CLINICIAN, email="tom.reid@example.test", full_name="Tom Reid", password=PASSWORD)
    service_user = make_user(Role.SERVICE_USER, email="amira.khan@example.test", full_name="Amira Khan", preferred_name="Amira",
                             password=PASSWORD)
    for team, member in ((north, clinician), (north, peer_worker), (south, south_clinician)):
        services.team_member_add(actor=SYSTEM, team=team, user=member)
    services.caseload_add(actor=SYSTEM, team=north, service_user=service_user)
    services.caseload_add(actor=SYSTEM, team=south, service_user=make_user(Role.SERVICE_USER, full_name="Bethan Price"))
    give_consent(service_user, PurposeCode.REMOTE_CARE)
    give_consent(service_user, PurposeCode.VIDEO)
    return Clinic(north, south, clinician, peer_worker, service_user, south_clinician)


def fits(page: Page) -> None:
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth"), f"{page.url} scrolls sideways"


def checked(page: Page, problems) -> None:
    assert_accessible(page)
    fits(page)
    problems.assert_none(page)


def book_in_the_form(page: Page, *, days: int, time: str, video: bool = True, repeat: str | None = None, count: int | None = None):
    page.goto("/appointments/book/")
    page.get_by_label("Person").select_option(label="Amira Khan")
    page.get_by_label("Date").fill((timezone.localdate() + timedelta(days=days)).isoformat())
    page.get_by_label("Start time").fill(time)
    if video:
        page.get_by_label("Video call").check()
    if repeat:
        page.get_by_label(repeat).check()
        page.get_by_label("Number of sessions, including the first").fill(str(count))
    with page.expect_navigation():
        page.get_by_role("button", name="Book", exact=True).click()


@pytest.mark.parametrize("device", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_a_clinician_books_a_video_appointment_and_a_weekly_series_and_sees_their_week(new_page, page_problems, clinic: Clinic, device):
    page = new_page(**device)
    log_in(page, clinic.clinician.email)
    page.goto("/appointments/book/")
    expect(page.get_by_text("the person can choose online until 24 hours before the appointment")).to_be_visible()
    expect(page.get_by_label("Face to face (always offered)")).to_be_checked()
    checked(page, page_problems)

    book_in_the_form(page, days=10, time="14:30")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Amira Khan")
    expect(page.get_by_role("heading", level=1)).to_contain_text("at 2:30pm")
    booked = Appointment.objects.get()
    assert booked.modalities_offered == ["video", "phone", "face_to_face"] or booked.modalities_offered == ["video", "face_to_face"]
    assert booked.practitioner == clinic.clinician
    checked(page, page_problems)

    book_in_the_form(page, days=11, time="09:00", repeat="Every week", count=4)
    expect(page.get_by_role("status")).to_contain_text("Booked 4 appointments for Amira Khan, every week from")
    assert Appointment.objects.exclude(series=None).count() == 4

    page.goto(f"/appointments/week/?date={(timezone.localdate() + timedelta(days=10)).isoformat()}")
    expect(page.get_by_role("link", name="Amira Khan").first).to_be_visible()
    expect(page.get_by_text("2:30pm")).to_be_visible()
    checked(page, page_problems)


def test_bad_booking_is_explained_on_the_page_and_a_clash_needs_confirming(page: Page, page_problems, clinic: Clinic):
    log_in(page, clinic.clinician.email)
    book_in_the_form(page, days=-3, time="10:00")
    expect(page.get_by_role("alert")).to_contain_text("The appointment must be in the future.")
    assert not Appointment.objects.exists()
    checked(page, page_problems)

    book_in_the_form(page, days=5, time="10:00")
    book_in_the_form(page, days=5, time="10:30")
    expect(page.get_by_role("heading", name="This time overlaps other appointments")).to_be_visible()
    assert Appointment.objects.count() == 1
    checked(page, page_problems)
    page.get_by_label("Book it anyway, overlapping the appointments listed above").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Book", exact=True).click()
    assert Appointment.objects.count() == 2


def test_a_peer_worker_books_their_own_session(page: Page, page_problems, clinic: Clinic):
    log_in(page, clinic.peer_worker.email)
    book_in_the_form(page, days=6, time="11:15", video=False)
    booked = Appointment.objects.get()
    assert booked.practitioner == clinic.peer_worker and booked.modalities_offered[-1] == "face_to_face"
    expect(page.get_by_role("heading", level=1)).to_contain_text("11:15am")
    checked(page, page_problems)


@pytest.mark.parametrize("device", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_person_sees_it_adds_it_to_a_calendar_and_chooses_video(new_page, page_problems, clinic: Clinic, device):
    appointment = book(clinic.clinician, clinic.service_user, clinic.north, in_hours=24 * 6)
    page = new_page(accept_downloads=True, **device)
    log_in(page, clinic.service_user.email)
    page.goto("/appointments/")
    card = page.get_by_role("region", name=timezone.localtime(appointment.starts_at).strftime("%A"))
    expect(card.get_by_text("Nia Clarke, North Leeds Talking Therapies")).to_be_visible()
    expect(card.get_by_text("1 Park Square")).to_be_visible()
    expect(card.get_by_role("link", name="0113 496 0000").first).to_have_attribute("href", "tel:+441134960000")
    checked(page, page_problems)

    with page.expect_download() as download:
        card.get_by_role("link", name="Add to your calendar").click()
    calendar = icalendar.Calendar.from_ical(open(download.value.path(), "rb").read())
    event = next(iter(calendar.walk("VEVENT")))
    assert event.decoded("DTSTART") == appointment.starts_at.replace(microsecond=0)
    assert "1 Park Square" in str(event["LOCATION"]) and "0113 496 0000" in str(event["DESCRIPTION"])

    card.get_by_label("Video call").check()
    with page.expect_navigation():
        card.get_by_role("button", name="Save my choice").click()
    expect(page.get_by_role("status")).to_contain_text("You chose video call")
    appointment.refresh_from_db()
    assert appointment.chosen_modality == "video"
    checked(page, page_problems)


def test_moved_and_cancelled_with_reasons_the_person_sees_both(new_page, page_problems, clinic: Clinic):
    moved, cancelled = (book(clinic.clinician, clinic.service_user, clinic.north, in_hours=h) for h in (24 * 5, 24 * 8))
    page = new_page(**DESKTOP)
    log_in(page, clinic.clinician.email)
    page.goto(f"/appointments/{moved.pk}/")
    checked(page, page_problems)
    move = page.get_by_role("region", name="Move this appointment")
    move.get_by_label("Date").fill((timezone.localdate() + timedelta(days=7)).isoformat())
    move.get_by_label("Start time").fill("15:00")
    move.get_by_label("Why it is moving").fill("Nia is on a training course that morning.")
    with page.expect_navigation():
        move.get_by_role("button", name="Move").click()
    expect(page.get_by_role("status")).to_contain_text("Moved to")
    expect(page.get_by_role("heading", level=1)).to_contain_text("at 3pm")

    page.goto(f"/appointments/{cancelled.pk}/")
    page.get_by_label("Why it is cancelled").fill("The clinic is closed for a staff day.")
    with page.expect_navigation():
        page.get_by_role("button", name="Cancel the appointment").click()
    expect(page.get_by_text("Cancelled by Nia Clarke: The clinic is closed for a staff day.")).to_be_visible()
    checked(page, page_problems)

    person = new_page(**PHONE)
    log_in(person, clinic.service_user.email)
    person.goto("/appointments/")
    expect(person.get_by_text("Moved by Nia Clarke: “Nia is on a training course that morning.”")).to_be_visible()
    expect(person.get_by_text("Nia Clarke cancelled this appointment: “The clinic is closed for a staff day.”")).to_be_visible()
    checked(person, page_problems)


def test_the_person_asks_to_rearrange_and_the_team_sees_the_request(new_page, page_problems, clinic: Clinic):
    appointment = book(clinic.clinician, clinic.service_user, clinic.north, in_hours=24 * 4)
    person = new_page(**PHONE)
    log_in(person, clinic.service_user.email)
    person.goto("/appointments/")
    person.get_by_text("Ask to rearrange").click()
    person.get_by_role("button", name="Send to my team").click()
    expect(person.get_by_role("alert")).to_contain_text("Tell your team why")
    assert not RearrangeRequest.objects.exists()
    checked(person, page_problems)
    person.get_by_label("What would suit you better, and why").fill("I have started a new job; afternoons would be better.")
    with person.expect_navigation():
        person.get_by_role("button", name="Send to my team").click()
    expect(person.get_by_text("You asked to rearrange this")).to_be_visible()

    team = new_page(**DESKTOP)
    log_in(team, clinic.peer_worker.email)
    team.goto(f"/appointments/week/?team={clinic.north.pk}&date={timezone.localtime(appointment.starts_at).date().isoformat()}")
    requests = team.get_by_role("region", name="Asked to rearrange (1)")
    expect(requests).to_contain_text("afternoons would be better")
    requests.get_by_role("link", name="Amira Khan").click()
    expect(team.get_by_role("heading", name="Amira asked to rearrange this")).to_be_visible()
    checked(team, page_problems)


def test_a_join_link_is_made_copied_and_printed_on_a_leaflet(page: Page, page_problems, clinic: Clinic):
    appointment = book(clinic.clinician, clinic.service_user, clinic.north, in_hours=24 * 3)
    log_in(page, clinic.clinician.email)
    page.goto(f"/appointments/{appointment.pk}/")
    page.get_by_role("button", name="Make a link for Amira Khan").click()
    expect(page.locator("#join-link-url")).to_contain_text("/join/")
    expect(page.locator("#join-link-message")).to_contain_text("0113 496 0000")
    expect(page.get_by_role("button", name="Copy the link")).to_be_visible()
    checked(page, page_problems)
    page.get_by_role("button", name="Print a how-to-join leaflet for Amira Khan").click()
    expect(page.get_by_role("heading", name="How to join your video appointment")).to_be_visible()
    expect(page.get_by_role("button", name="Print the leaflet")).to_be_visible()
    checked(page, page_problems)


def test_another_teams_clinician_can_neither_book_for_nor_see_the_person(page: Page, page_problems, clinic: Clinic):
    appointment = book(clinic.clinician, clinic.service_user, clinic.north, in_hours=24 * 3)
    log_in(page, clinic.south_clinician.email)
    page.goto("/appointments/book/")
    expect(page.get_by_label("Person").locator("option", has_text="Amira Khan")).to_have_count(0)
    response = page.goto(f"/appointments/{appointment.pk}/")
    assert response.status == 404
    page.goto(f"/appointments/week/?team={clinic.north.pk}&date={timezone.localtime(appointment.starts_at).date().isoformat()}")
    expect(page.get_by_text("Amira Khan")).to_have_count(0)
    page_problems.assert_none(page, error_page=(404, f"/appointments/{appointment.pk}/"))

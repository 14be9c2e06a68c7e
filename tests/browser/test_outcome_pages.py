"""Outcome pages in a real browser: a person fills in the questionnaire due from the waiting room,
their clinician's open outcomes page shows the risk flag it raises at once (over the WebSocket) and
the clinician acknowledges it; the trajectory chart with its table. Every page passes axe."""

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
from backend.outcomes import services as outcome_services
from backend.outcomes.models import RiskFlag
from backend.outcomes.selectors import instrument_by_code
from backend.sessions import services as session_services
from backend.sessions.models import Appointment, CourseOfCare
from tests.browser.conftest import PASSWORD, assert_accessible, log_in
from tests.factories import SYSTEM, book, give_consent, let_time_pass, make_team, make_user, seed_reference_data


@dataclass
class People:
    north: Team
    clinician: User
    service_user: User
    appointment: Appointment
    course: CourseOfCare


@pytest.fixture
def people(transactional_db) -> People:
    """Clinician Nia and Amira, on a course of care with a team that asks for the PHQ-9 at every session."""
    seed_reference_data()
    organisation = services.organisation_create(actor=SYSTEM, name="Outcome Pages Trust", staff_two_factor_required=False)
    north = make_team(organisation, "North Leeds Talking Therapies")
    clinician = make_user(Role.CLINICIAN, email="nia.clinician@example.test", full_name="Nia Clinician", password=PASSWORD)
    service_user = make_user(Role.SERVICE_USER, email="amira@example.test", full_name="Amira Okafor", preferred_name="Amira", password=PASSWORD)
    services.team_member_add(actor=SYSTEM, team=north, user=clinician)
    services.caseload_add(actor=SYSTEM, team=north, service_user=service_user)
    give_consent(service_user, PurposeCode.REMOTE_CARE)
    give_consent(service_user, PurposeCode.VIDEO)
    outcome_services.schedule_set(actor=SYSTEM, team=north, instrument=instrument_by_code("phq9"), when="every_session")
    appointment = book(clinician, service_user, north, in_hours=1)
    course = session_services.course_open(actor=Actor(clinician), service_user=service_user, team=north,
                                          started_on=timezone.localdate() - timedelta(days=60))
    return People(north, clinician, service_user, Appointment.objects.get(pk=appointment.pk), course)


def test_a_flag_from_the_waiting_room_reaches_the_clinician_live(new_page, page_problems, people: People):
    clinician_page = new_page()
    log_in(clinician_page, people.clinician.email)
    clinician_page.goto("/outcomes/")
    expect(clinician_page.get_by_role("heading", level=1)).to_have_text("Outcomes and risk")
    expect(clinician_page.get_by_text("No open risk flags.")).to_be_visible()
    assert_accessible(clinician_page)
    clinician_page.wait_for_timeout(500)  # let the risk-flag socket connect

    person_page = new_page()
    log_in(person_page, people.service_user.email)
    person_page.goto(f"/sessions/{people.appointment.pk}/")
    panel = person_page.get_by_role("region", name="While you wait: 1 short questionnaire")
    expect(panel).to_be_visible()
    # The questionnaire opens in a tab of its own: the waiting room stays open where it was.
    expect(panel).to_contain_text("opens in a new tab")
    with person_page.context.expect_page() as opened:
        panel.get_by_role("link", name="PHQ-9").click()
    questionnaire = opened.value
    questionnaire.wait_for_load_state()
    expect(questionnaire.get_by_role("heading", level=1)).to_contain_text("PHQ-9")
    expect(questionnaire.get_by_text("Your waiting room is still open in your other tab")).to_be_visible()
    assert_accessible(questionnaire)

    # Saving with an answer missing says which, keeps what was chosen, and saves nothing.
    groups = questionnaire.locator("fieldset")
    groups.nth(0).get_by_label("Several days").check()
    with questionnaire.expect_navigation():
        questionnaire.get_by_role("button", name="Save my answers").click()
    expect(questionnaire.get_by_role("alert")).to_contain_text("Choose an answer for question 2.")
    expect(groups.nth(0).get_by_label("Several days")).to_be_checked()
    assert_accessible(questionnaire)
    assert not RiskFlag.objects.exists()

    for index in range(1, 8):
        groups.nth(index).get_by_label("Not at all").check()
    groups.nth(8).get_by_label("Several days").check()  # item 9: thoughts of being better off dead
    with questionnaire.expect_navigation():
        questionnaire.get_by_role("button", name="Save my answers").click()
    expect(questionnaire.get_by_role("status")).to_contain_text("Your answers to the PHQ-9 are saved.")
    expect(questionnaire.get_by_text("Go back to the tab with your waiting room")).to_be_visible()
    assert_accessible(questionnaire)
    # The waiting room never left its page; opened again, it no longer asks for the PHQ-9.
    assert person_page.url.endswith(f"/sessions/{people.appointment.pk}/")
    person_page.reload()
    expect(person_page.get_by_role("region", name="While you wait: 1 short questionnaire")).to_have_count(0)

    # The clinician's page, open all along, hears of it without reloading.
    expect(clinician_page.get_by_role("status")).to_contain_text("New risk flag: Amira Okafor, PHQ-9 question 9.", timeout=10_000)
    expect(clinician_page.locator("#flag-" + str(RiskFlag.objects.get().pk))).to_contain_text("Several days")
    assert_accessible(clinician_page)

    clinician_page.reload()
    flag = clinician_page.locator(f"#flag-{RiskFlag.objects.get().pk}")
    flag.get_by_label("What did you do?").fill("Phoned Amira; reviewed her safety plan together.")
    with clinician_page.expect_navigation():
        flag.get_by_role("button", name="Acknowledge").click()
    expect(clinician_page.get_by_role("status").first).to_contain_text("Risk flag for Amira acknowledged.")
    expect(clinician_page.get_by_text("No open risk flags.")).to_be_visible()
    assert RiskFlag.objects.get().acknowledgement.acknowledged_by == people.clinician
    # The one expected error on either page: the form sent back with a 400 when an answer was missing.
    page_problems.assert_none(clinician_page, error_page=(400, f"/outcomes/appointments/{people.appointment.pk}/questionnaires/phq9/"))


def test_the_trajectory_chart_marks_bands_cut_off_and_modality(page: Page, page_problems, people: People):
    appointments = []
    for days_ago, modality in ((42, "face_to_face"), (28, "video"), (14, "phone")):
        appointment = let_time_pass(book(people.clinician, people.service_user, people.north, in_hours=2), hours_ago=24 * days_ago)
        Appointment.objects.filter(pk=appointment.pk).update(delivered_modality=modality, status="ended")
        appointments.append(Appointment.objects.get(pk=appointment.pk))
    for appointment, answers in zip(appointments, ([3] * 5 + [2] * 4, [2] * 5 + [1] * 4, [1] * 4 + [0] * 5)):
        answers[8] = 0
        outcome_services.response_submit(
            actor=Actor(people.clinician), idempotency_key=f"chart-{appointment.pk}",
            submission=outcome_services.Submission(
                instrument=instrument_by_code("phq9"), service_user=people.service_user, course=people.course, appointment=appointment,
                mode="in_person", answers=dict(enumerate(answers, start=1)), completed_at=appointment.starts_at,
            ),
        )
    log_in(page, people.clinician.email)
    page.goto(f"/outcomes/people/{people.service_user.pk}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Outcomes for Amira Okafor")
    chart = page.get_by_role("img", name="PHQ-9 scores over time")
    expect(chart).to_be_visible()
    expect(page.locator(".chart-caseness")).to_have_count(1)
    expect(page.locator(".chart-point")).to_have_count(3)
    table = page.get_by_role("table", name="PHQ-9 scores")
    expect(table.get_by_role("row")).to_have_count(4)
    expect(table.get_by_role("row").nth(1)).to_contain_text("Face to face")
    expect(table.get_by_role("row").nth(3)).to_contain_text("Phone")
    expect(table).to_contain_text("reliable change index")
    # The x axis is dated: the first and the last score's days label its ends.
    for appointment in (appointments[0], appointments[-1]):
        label = timezone.localtime(appointment.starts_at).strftime("%d %b %Y").lstrip("0")
        expect(chart.locator("text.chart-tick", has_text=label)).to_have_count(1)
    assert_accessible(page)
    # Entering the PHQ-9 again for an appointment that has one: the page warns and asks why it corrects it.
    page.goto(f"/outcomes/appointments/{appointments[2].pk}/questionnaires/phq9/")
    expect(page.get_by_role("heading", name="This appointment already has PHQ-9 answers")).to_be_visible()
    expect(page.get_by_label("Why are you correcting the earlier answers?")).to_be_visible()
    expect(page.get_by_role("button", name="Save the corrected answers")).to_be_visible()
    assert_accessible(page)
    page_problems.assert_none(page)

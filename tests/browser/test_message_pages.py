"""The team sees what was sent (issue 15, the record): from the appointment page to its messages, one of
which failed and says why, then every message to the person, and back. Passes axe on a desktop and on a
390x844 phone, without scrolling sideways."""

from __future__ import annotations

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from backend.accounts.models import Role
from backend.messaging import services
from backend.messaging.models import Message
from tests.browser.conftest import PASSWORD, assert_accessible, log_in
from tests.browser.test_clinic_pages import DESKTOP, PHONE, fits_a_phone
from tests.factories import SYSTEM, book, make_team, make_user, seed_reference_data


@pytest.fixture
def booked(transactional_db):
    from backend.accounts import services as accounts

    seed_reference_data()
    organisation = accounts.organisation_create(actor=SYSTEM, name="Message Test Trust", staff_two_factor_required=False)
    team = make_team(organisation, "North Leeds Talking Therapies")
    clinician = make_user(Role.CLINICIAN, email="nia.clarke@example.test", full_name="Nia Clarke", password=PASSWORD)
    person = make_user(Role.SERVICE_USER, email="amira.okafor@example.test", full_name="Amira Okafor", preferred_name="Amira")
    accounts.team_member_add(actor=SYSTEM, team=team, user=clinician)
    accounts.caseload_add(actor=SYSTEM, team=team, service_user=person)
    appointment = book(clinician, person, team)
    for kind, status, reason in [("confirmation", "delivered", ""),
                                 ("reminder", "failed", "The number or address does not exist or is not in use (Notify: permanent-failure).")]:
        message = services.message_queue(recipient=person, organisation=organisation, team=team, appointment=appointment, kind=kind,
                                         channel="sms", to="+447700900123", sender_name="North Leeds", body="Your appointment.")
        Message.objects.filter(pk=message.pk).update(status=status, status_reason=reason, sent_at=timezone.now(), provider="notify")
    return clinician, person, appointment


@pytest.mark.parametrize("device", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_team_follows_an_appointments_messages_to_why_one_failed(new_page, page_problems, booked, device):
    clinician, person, appointment = booked
    page = new_page(**device)
    log_in(page, clinician.email)
    page.goto(f"/appointments/{appointment.pk}/")
    page.get_by_role("link", name="Text messages and emails about it").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Messages about this appointment")
    table = page.get_by_role("table")
    expect(table).to_contain_text("Booking confirmation")
    expect(table).to_contain_text("Delivered")
    expect(table).to_contain_text("Failed")
    expect(table).to_contain_text("The number or address does not exist or is not in use")
    assert_accessible(page)
    if device is PHONE:
        fits_a_phone(page)
    page.get_by_role("link", name="Every message to Amira").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Messages sent to Amira Okafor")
    assert_accessible(page)
    page.get_by_role("link", name="Amira Okafor’s page").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Amira Okafor")
    page_problems.assert_none(page)

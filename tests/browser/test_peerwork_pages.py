"""Peer work in a real browser, with axe on every page (docs/peerwork.md): a supervisor records a
supervision, the peer worker reads it and rates their own practice on the loaded questionnaire (placeholder
wording made for the test), and a colleague who is not an informant is told so, with nothing saved."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from backend.accounts import services as accounts
from backend.accounts.models import Role
from backend.peerwork.models import FidelityRating, SupervisionEntry
from tests.browser.conftest import PASSWORD, assert_accessible, log_in
from tests.factories import SYSTEM, make_team, make_user, seed_reference_data

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}


@pytest.fixture
def trust(transactional_db):
    from tests.factories import World

    seed_reference_data()
    organisation = accounts.organisation_create(actor=SYSTEM, name="Peer Test Trust", staff_two_factor_required=False)
    team = make_team(organisation, "North Leeds Recovery Team")
    supervisor = make_user(Role.CLINICIAN, email="nia.clarke@example.test", full_name="Nia Clarke", password=PASSWORD, organisation=organisation)
    colleague = make_user(Role.CLINICIAN, email="tom.reid@example.test", full_name="Tom Reid", password=PASSWORD, organisation=organisation)
    peer = make_user(Role.PEER_WORKER, email="sam.okafor@example.test", full_name="Sam Okafor", password=PASSWORD, organisation=organisation)
    admin = make_user(Role.ADMIN, email="ada.admin@example.test", full_name="Ada Admin", password=PASSWORD, organisation=organisation)
    for user in (supervisor, colleague, peer):
        accounts.team_member_add(actor=SYSTEM, team=team, user=user)
    world = World(organisation=organisation, north=team, south=team, clinician=supervisor, other_clinician=colleague, peer_worker=peer,
                  service_user=None, other_service_user=None, carer=None, unlinked_carer=None, evaluator=None, admin=admin,
                  carer_link=None, appointment=None, past_appointment=None, course=None)
    from tests.peerwork.helpers import load_all

    load_all(world)
    return world


def test_supervision_and_a_fidelity_rating_through_the_pages(new_page, page_problems, trust):
    page = new_page(viewport={"width": 1280, "height": 900})
    log_in(page, "nia.clarke@example.test")
    page.get_by_role("link", name="Peer work").click()
    assert_accessible(page)
    page.get_by_role("link", name="Record a supervision").click()
    assert_accessible(page)
    page.get_by_role("button", name="Save the supervision").click()  # nothing chosen: the problems, linked
    expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()
    assert_accessible(page)
    page_problems.console_errors.clear()  # the 400 of the refused form
    page.get_by_label("Peer worker and team").select_option(label="Sam Okafor, North Leeds Recovery Team")
    page.get_by_label("Boundaries").check()
    page.get_by_label("The peer worker's own wellbeing").check()
    page.get_by_label("Actions agreed").fill("Sam to read the lone working policy")
    page.get_by_role("button", name="Save the supervision").click()
    expect(page.get_by_text("is in the log")).to_be_visible()
    assert_accessible(page)
    assert SupervisionEntry.objects.get().topics == ["boundaries", "wellbeing"]
    page_problems.assert_none(page)

    peer_page = new_page(**PHONE)
    log_in(peer_page, "sam.okafor@example.test")
    peer_page.goto("/peer-work/")
    peer_page.get_by_role("link", name="with Nia Clarke").click()
    expect(peer_page.get_by_text("Sam to read the lone working policy")).to_be_visible()
    assert_accessible(peer_page)
    peer_page.goto("/peer-work/")
    peer_page.get_by_role("link", name="Your own practice in North Leeds Recovery Team").click()
    expect(peer_page.get_by_role("heading", name="Building trusting relationships based on shared lived experience")).to_be_visible()
    assert_accessible(peer_page)
    peer_page.get_by_role("group", name="1. Placeholder item 1").get_by_label("Option 3").check()
    peer_page.get_by_role("group", name="5. Placeholder item 5").get_by_label("Option 2").check()
    peer_page.get_by_role("button", name="Save my answers").click()
    expect(peer_page.get_by_text("your answers are saved")).to_be_visible()
    rating = FidelityRating.objects.get()
    assert (rating.informant, rating.rated_by.email, rating.unanswered_items) == ("peer_worker", "sam.okafor@example.test", 6)
    page_problems.assert_none(peer_page)


def test_a_colleague_who_is_not_an_informant_is_told_and_nothing_is_saved(page: Page, page_problems, trust):
    log_in(page, "tom.reid@example.test")
    path = f"/peer-work/fidelity/{trust.peer_worker.pk}/{trust.north.pk}/"
    response = page.goto(path)
    assert response.status == 403
    expect(page.get_by_role("heading", name="You cannot rate this peer worker")).to_be_visible()
    expect(page.get_by_text("three informants")).to_be_visible()
    assert_accessible(page)
    page_problems.assert_none(page, error_page=(403, path))
    assert not FidelityRating.objects.exists()

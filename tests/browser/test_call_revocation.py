"""Revocation in a real browser (issue 10): the person withdraws consent to involve their carer
mid-call; the carer's page stops the call at once with a plain message (close code 4430) and does
not try to reconnect, while the person and the clinician carry on. Withdrawing consent to video
stops the call on every page (4431) and the clinician is offered the phone."""

from __future__ import annotations

from playwright.sync_api import expect

from backend.audit.actor import Actor
from backend.consent.models import PurposeCode
from backend.sessions import services as sessions
from tests.browser.conftest import assert_accessible
from tests.browser.test_call import (  # noqa: F401 - fixtures used by name
    WAIT_MS,
    People,
    chromium,
    open_session,
    outside_playwrights_loop,
    people,
    record_safety_check,
    remote_videos_playing,
    waiting_room_text,
)
from tests.factories import withdraw_consent


def _three_in_a_call(new_page, people: People):
    outside_playwrights_loop(sessions.carer_invite, actor=Actor(people.service_user, via="test"), appointment=people.appointment, carer=people.carer)
    host = open_session(new_page, people.clinician, people.appointment)
    person = open_session(new_page, people.service_user, people.appointment)
    carer = open_session(new_page, people.carer, people.appointment)
    for page in (person, carer):
        expect(waiting_room_text(page)).to_be_visible(timeout=WAIT_MS)
    expect(host.get_by_role("region", name="People").get_by_role("button", name="Admit Grace Okafor", exact=True)).to_be_visible(timeout=WAIT_MS)
    record_safety_check(host)
    host.get_by_role("button", name="Admit everyone").click()
    for page in (host, person, carer):
        remote_videos_playing(page, 2)
    return host, person, carer


def test_withdrawing_carer_consent_mid_call_stops_the_carers_call_and_says_so(new_page, page_problems, people: People):
    host, person, carer = _three_in_a_call(new_page, people)
    outside_playwrights_loop(withdraw_consent, service_user=people.service_user, purpose_code=PurposeCode.CARER_INVOLVEMENT, carer=people.carer)

    expect(carer.get_by_role("heading", name="The call has stopped")).to_be_visible(timeout=WAIT_MS)
    expect(carer.locator("#stopped-reason")).to_have_text("You no longer have access to this session. If you think this is wrong, phone your care team.")
    expect(carer.locator("#video-grid .tile[data-peer]")).to_have_count(0)
    for page in (host, person):
        remote_videos_playing(page, 1)
    # It does not keep trying: no new socket to the call opens after the close.
    sockets_before = carer.evaluate("() => performance.getEntriesByType('resource').length")
    carer.wait_for_timeout(3000)
    expect(carer.get_by_role("heading", name="The call has stopped")).to_be_visible()
    assert carer.evaluate("() => performance.getEntriesByType('resource').length") == sockets_before
    assert_accessible(carer)
    for page in (host, person, carer):
        page_problems.assert_none(page)


def test_withdrawing_consent_to_video_stops_the_call_and_offers_the_clinician_the_phone(new_page, page_problems, people: People):
    host, person, carer = _three_in_a_call(new_page, people)
    outside_playwrights_loop(withdraw_consent, service_user=people.service_user, purpose_code=PurposeCode.VIDEO)

    for page in (host, person, carer):
        expect(page.get_by_role("heading", name="The call has stopped")).to_be_visible(timeout=WAIT_MS)
        expect(page.locator("#stopped-reason")).to_contain_text("no longer agrees to video calls")
    expect(host.get_by_role("button", name="Switch to phone").last).to_be_visible()
    assert_accessible(host)
    assert_accessible(person)
    for page in (host, person, carer):
        page_problems.assert_none(page)

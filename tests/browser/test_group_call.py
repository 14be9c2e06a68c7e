"""Group sessions in a real browser (issue #16): the attendees' waiting room, the facilitator's live view and the
group call through the tests' real Janus (tests/janus_server.py), with Chromium's fake camera and microphone.

The server for these tests is a uvicorn of its own, started with JANUS_SERVERS pointing at the tests' Janus (the
package's `asgi_server` is started without Janus). Janus never gathers ICE candidates on loopback
(tests/janus_server.py says why), so it and Chromium meet on the machine's own address: the pages keep only
candidates on that address (an init script of this test, not product code). Packets between two of the
machine's own addresses go through the loopback device: nothing leaves the machine. Every page passes axe and
runs without CSP violations or console errors.
"""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from backend.accounts import services as accounts
from backend.accounts.models import Role
from backend.audit.actor import Actor
from backend.consent.models import PurposeCode
from backend.groups.models import GroupAttendee, GroupSession, GroupTeamSettings
from backend.groups.services import group_book
from tests.browser.conftest import ACTION_TIMEOUT_MS, CHROMIUM, CHROMIUM_ARGS, PASSWORD, PageProblems, assert_accessible, log_in
from tests.factories import SYSTEM, give_consent, make_team, make_user, seed_reference_data
from tests.janus_server import own_address
from tests.live_server import database_url_with_name, free_port, start_server, wait_until_up

WAIT_MS = 20_000
MEDIA_MS = 45_000  # four pages, each publishing and subscribing to three others, on a loaded two-core machine
TEAM_PHONE = "+441134960000"
TEAM_PHONE_SHOWN = "0113 496 0000"

# Keep every ICE candidate on the machine's own address (where the tests' Janus listens); drop the others before
# the page's own listeners (janus.js trickling them to Janus) see them.
OWN_ADDRESS_ONLY = """
(() => {
  const Native = window.RTCPeerConnection;
  if (!Native || Native.__ownAddressOnly) return;
  const ALLOWED = new Set(%s);
  const addressOf = (line) => (line.replace(/^a=/, "").trim().split(/\\s+/)[4] || "");
  class OwnAddressOnly extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener("icecandidate", (event) => {
        const c = event.candidate;
        if (c && c.candidate && !ALLOWED.has(addressOf(c.candidate))) event.stopImmediatePropagation();
      });
    }
  }
  OwnAddressOnly.__ownAddressOnly = true;
  window.RTCPeerConnection = OwnAddressOnly;
})();
"""


@pytest.fixture(scope="module")
def chromium(chromium):
    """A browser with fake media, sound allowed to play without a click, and real host addresses (no mDNS names)."""
    extra = ["--autoplay-policy=no-user-gesture-required", "--disable-features=WebRtcHideLocalIpsWithMdns"]
    browser = chromium.browser_type.launch(executable_path=CHROMIUM, headless=True, args=[*CHROMIUM_ARGS, *extra])
    try:
        yield browser
    finally:
        browser.close()


def _server(env_extra: dict, tmp_path_factory, name: str):
    from django.db import connection

    env = dict(os.environ)
    env["DATABASE_URL"] = database_url_with_name(os.environ["DATABASE_URL"], connection.settings_dict["NAME"])
    env.update(env_extra)
    server = start_server(env, tmp_path_factory.mktemp(name) / "uvicorn.log")
    try:
        wait_until_up(server)
    except RuntimeError as error:
        pytest.fail(str(error), pytrace=False)
    return server


@pytest.fixture(scope="module")
def janus_server_url(django_db_setup, tmp_path_factory, _janus):
    """Rapport with the tests' Janus."""
    server = _server({"JANUS_SERVERS": _janus.url, "JANUS_TOKEN_SECRET": _janus.token_secret, "JANUS_ADMIN_KEY": _janus.admin_key},
                     tmp_path_factory, "asgi-janus")
    yield server.base_url
    server.stop()


@pytest.fixture(scope="module")
def janus_down_server_url(django_db_setup, tmp_path_factory):
    """Rapport configured for a Janus server that is not running (nothing listens on its port)."""
    server = _server({"JANUS_SERVERS": f"http://127.0.0.1:{free_port()}/janus", "JANUS_TOKEN_SECRET": "test-only-secret",
                      "JANUS_ADMIN_KEY": "test-only-admin-key"}, tmp_path_factory, "asgi-janus-down")
    yield server.base_url
    server.stop()


@pytest.fixture
def open_page(chromium, page_problems: PageProblems):
    contexts = []
    consoles: dict[Page, list[str]] = {}

    def make(base_url: str) -> Page:
        context = chromium.new_context(base_url=base_url, viewport={"width": 1280, "height": 900})
        contexts.append(context)
        context.set_default_timeout(ACTION_TIMEOUT_MS)
        from tests.browser.conftest import _CSP_LISTENER

        context.expose_binding("__rapportCspViolation", lambda _source, violation: page_problems.csp_violations.append(violation))
        context.add_init_script(_CSP_LISTENER)
        context.add_init_script(OWN_ADDRESS_ONLY % repr([own_address()]).replace("'", '"'))
        page = context.new_page()
        lines = consoles.setdefault(page, [])
        page.on("console", lambda message: lines.append(f"{message.type}: {message.text}"))
        page.on("console", lambda message: message.type == "error" and page_problems.console_errors.append(
            (message.text, message.location.get("url", ""))))
        page.on("pageerror", lambda error: page_problems.page_errors.append(str(error)))
        return page

    make.consoles = consoles
    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def group(transactional_db, _janus, settings):
    """A group of North Leeds's starting now, run by Nia, with Amira, Tomasz and Bethan booked (each agreed to
    remote care and video)."""
    seed_reference_data()
    settings.JANUS_SERVERS = [_janus.url]
    settings.JANUS_TOKEN_SECRET, settings.JANUS_ADMIN_KEY = _janus.token_secret, _janus.admin_key
    organisation = accounts.organisation_create(actor=SYSTEM, name="Group Test Trust", staff_two_factor_required=False)
    team = make_team(organisation, "North Leeds Talking Therapies")
    team.phone_number = TEAM_PHONE
    team.save(update_fields=["phone_number"])
    # The attendees confirm the safety and privacy check themselves (the tests below tick it in the waiting room).
    GroupTeamSettings.objects.create(team=team, safety_check=GroupTeamSettings.SafetyCheck.ATTENDEE)
    clinician = make_user(Role.CLINICIAN, email="nia.clarke@example.test", full_name="Nia Clarke", password=PASSWORD)
    accounts.team_member_add(actor=SYSTEM, team=team, user=clinician)
    people = []
    for number, name in enumerate(["Amira Okafor", "Tomasz Baxter", "Bethan Price"]):
        person = make_user(Role.SERVICE_USER, email=f"attendee{number}@example.test", full_name=name, password=PASSWORD)
        accounts.caseload_add(actor=SYSTEM, team=team, service_user=person)
        give_consent(person, PurposeCode.REMOTE_CARE)
        give_consent(person, PurposeCode.VIDEO)
        people.append(person)
    meeting = group_book(actor=Actor(clinician, via="test"), team=team, title="Managing anxiety group", facilitator=clinician,
                         starts_at=timezone.now() - timedelta(minutes=2), people=people)[0]
    return meeting, clinician, people


def _remote_videos_playing(page: Page, count: int, consoles) -> None:
    """`count` remote pictures on the page, each decoding frames (videoWidth > 0) and playing (currentTime moving)."""
    try:
        page.wait_for_function(
            """(count) => {
                const videos = [...document.querySelectorAll("#group-videos li[data-feed] video")];
                return videos.length === count && videos.every((v) => v.videoWidth > 0 && v.readyState >= 2 && !v.paused && v.currentTime > 0);
            }""",
            arg=count, timeout=MEDIA_MS,
        )
        before = page.evaluate("() => [...document.querySelectorAll('#group-videos li[data-feed] video')].map((v) => v.currentTime)")
        page.wait_for_timeout(1000)
        after = page.evaluate("() => [...document.querySelectorAll('#group-videos li[data-feed] video')].map((v) => v.currentTime)")
        assert all(b > a for a, b in zip(before, after, strict=True)), f"a remote video stopped: {before} -> {after}"
    except PlaywrightTimeoutError:
        state = page.evaluate("""() => JSON.stringify({
            status: document.getElementById("group-call-status")?.textContent,
            alert: document.getElementById("group-call-alert")?.textContent,
            videos: [...document.querySelectorAll("#group-videos li[data-feed]")].map((li) => ({
              feed: li.dataset.feed, width: li.querySelector("video").videoWidth, paused: li.querySelector("video").paused,
              time: li.querySelector("video").currentTime, tracks: li.querySelector("video").srcObject?.getTracks().length})),
        })""")
        pytest.fail(f"{count} remote videos did not play on {page.url}: {state}\n" + "\n".join(consoles.get(page, [])[-60:]), pytrace=False)


def test_facilitator_and_three_attendees_wait_are_admitted_and_see_each_other(open_page, group, janus_server_url, page_problems):
    meeting, clinician, people = group

    facilitator = open_page(janus_server_url)
    log_in(facilitator, clinician.email)
    facilitator.goto(f"/groups/{meeting.pk}/facilitate/")
    expect(facilitator.get_by_role("heading", name="Run the group: Managing anxiety group")).to_be_visible()
    assert_accessible(facilitator)
    facilitator.get_by_role("button", name="Start the group").click()
    expect(facilitator.locator("#group-call")).to_be_visible(timeout=WAIT_MS)

    attendees = []
    for person in people:
        page = open_page(janus_server_url)
        log_in(page, person.email)
        if not attendees:  # the first comes from their home page, where their groups are listed
            expect(page.get_by_role("heading", name="Your groups")).to_be_visible()
            assert_accessible(page)
            page.get_by_role("link", name="Managing anxiety group").click()
            page.wait_for_url(f"**/groups/{meeting.pk}/room/")
        else:
            page.goto(f"/groups/{meeting.pk}/room/")
        expect(page.get_by_role("heading", name="Managing anxiety group")).to_be_visible()
        if not attendees:
            assert_accessible(page)
        page.get_by_label("I am somewhere I can talk without being overheard", exact=False).check()
        page.get_by_label("I am at the address the team has for me", exact=False).check()
        page.get_by_role("button", name="I have checked: wait for the group").click()
        expect(page.locator("#group-room-status")).to_have_text("You are in the waiting room. The facilitator will let you in.")
        attendees.append(page)
    assert_accessible(attendees[0])

    # The facilitator sends a message to the waiting room: every attendee sees it without reloading.
    facilitator.get_by_label("Message to everyone in the waiting room").fill("We will start in a minute.")
    facilitator.get_by_role("button", name="Show this message").click()
    for page in attendees:
        expect(page.locator("#group-message-text")).to_have_text("We will start in a minute.", timeout=WAIT_MS)

    # The facilitator's list fills in by itself; then everyone is let in at once.
    expect(facilitator.locator("#group-waiting li[data-attendee]")).to_have_count(3, timeout=WAIT_MS)
    facilitator.get_by_role("button", name="Let everyone waiting in").click()
    expect(facilitator.locator("#group-admitted li[data-attendee]")).to_have_count(3, timeout=WAIT_MS)
    for page in attendees:
        page.wait_for_url(f"**/groups/{meeting.pk}/call/", timeout=WAIT_MS)

    everyone = [facilitator, *attendees]
    for page in everyone:
        _remote_videos_playing(page, 3, open_page.consoles)
    assert set(GroupAttendee.objects.filter(group=meeting).values_list("state", flat=True)) == {GroupAttendee.State.ADMITTED}
    assert_accessible(facilitator)
    assert_accessible(attendees[0])

    # Speaker view and own camera off, on one attendee's page.
    attendees[0].get_by_role("button", name="Show speaker view").click()
    expect(attendees[0].locator("#group-videos li.tile-speaker")).to_have_count(1)
    attendees[0].get_by_role("button", name="Turn my camera off").click()
    expect(attendees[0].get_by_role("button", name="Turn my camera on")).to_have_attribute("aria-pressed", "true")
    assert_accessible(attendees[0])

    # One attendee reloads: they rejoin with their token, and everyone sees everyone again.
    attendees[1].reload()
    attendees[1].wait_for_url(f"**/groups/{meeting.pk}/call/")
    for page in everyone:
        _remote_videos_playing(page, 3, open_page.consoles)

    # Mute all reaches every attendee's page.
    facilitator.get_by_role("button", name="Mute everyone").click()
    for page in attendees:
        expect(page.locator("#group-muted-all")).to_be_visible(timeout=WAIT_MS)
        expect(page.get_by_role("button", name="Unmute my microphone")).to_be_visible()
    assert GroupSession.objects.get(pk=meeting.pk).muted_all

    # The facilitator ends the group: the attendees are told it has finished.
    facilitator.get_by_role("button", name="End the group for everyone").click()
    expect(facilitator.locator("#group-facilitate-status")).to_have_text("This group session has finished.", timeout=WAIT_MS)
    for page in attendees:
        page.wait_for_url(f"**/groups/{meeting.pk}/room/", timeout=WAIT_MS)
        expect(page.locator("#group-room-status")).to_have_text("This group session has finished.", timeout=WAIT_MS)
    assert set(GroupAttendee.objects.filter(group=meeting).values_list("attendance", flat=True)) == {GroupAttendee.Attendance.ATTENDED}
    page_problems.assert_none(facilitator)


def test_janus_down_before_the_start_says_so_with_the_teams_number(open_page, group, janus_down_server_url, page_problems):
    meeting, clinician, people = group

    attendee = open_page(janus_down_server_url)
    log_in(attendee, people[0].email)
    attendee.goto(f"/groups/{meeting.pk}/room/")
    unavailable = attendee.locator("#group-unavailable")
    expect(unavailable).to_be_visible()
    expect(unavailable).to_contain_text("Group video is not working at the moment")
    expect(unavailable.get_by_role("link", name=TEAM_PHONE_SHOWN)).to_have_attribute("href", f"tel:{TEAM_PHONE}")
    expect(unavailable.get_by_role("link", name="Try again")).to_be_visible()
    assert attendee.locator(".spinner, [aria-busy=true]").count() == 0
    assert_accessible(attendee)

    facilitator = open_page(janus_down_server_url)
    log_in(facilitator, clinician.email)
    facilitator.goto(f"/groups/{meeting.pk}/facilitate/")
    expect(facilitator.locator("#group-unavailable")).to_be_visible()
    facilitator.get_by_role("button", name="Start the group").click()
    expect(facilitator.locator("#group-facilitate-alert")).to_contain_text("not answering", timeout=WAIT_MS)
    assert GroupSession.objects.get(pk=meeting.pk).status == GroupSession.Status.SCHEDULED
    assert_accessible(facilitator)
    page_problems.assert_none(facilitator, error_page=(409, f"/groups/{meeting.pk}/facilitate/start/"))


def test_janus_restarted_mid_session_the_room_is_recreated_and_both_rejoin(open_page, group, janus_server_url, _janus, page_problems):
    meeting, clinician, people = group
    facilitator = open_page(janus_server_url)
    log_in(facilitator, clinician.email)
    facilitator.goto(f"/groups/{meeting.pk}/facilitate/")
    facilitator.get_by_role("button", name="Start the group").click()
    expect(facilitator.locator("#group-call")).to_be_visible(timeout=WAIT_MS)

    attendee = open_page(janus_server_url)
    log_in(attendee, people[0].email)
    attendee.goto(f"/groups/{meeting.pk}/room/")
    attendee.get_by_label("I am somewhere I can talk without being overheard", exact=False).check()
    attendee.get_by_label("I am at the address the team has for me", exact=False).check()
    attendee.get_by_role("button", name="I have checked: wait for the group").click()
    facilitator.get_by_role("button", name=f"Let {people[0].display_name} in").click(timeout=WAIT_MS)
    attendee.wait_for_url(f"**/groups/{meeting.pk}/call/", timeout=WAIT_MS)
    for page in (facilitator, attendee):
        _remote_videos_playing(page, 1, open_page.consoles)

    _janus.restart()  # every session and room on it is gone

    for page in (facilitator, attendee):
        _remote_videos_playing(page, 1, open_page.consoles)
        expect(page.locator("#group-unavailable")).to_be_hidden()
    assert attendee.url.endswith(f"/groups/{meeting.pk}/call/")
    # While Janus was down, the browser said its long polls to Janus failed: expected, and only those.
    page_problems.console_errors = [(text, url) for text, url in page_problems.console_errors
                                    if not (url.startswith(_janus.url) and "net::ERR_" in text)]
    page_problems.assert_none(facilitator)

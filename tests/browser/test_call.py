"""The session page in a real browser: the waiting room, then a real WebRTC call between pages.

Each person is a separate browser context (their own cookies, camera and microphone: Chromium's fake
devices) on the real server, signalling through the real Channels layer (Redis). Media flows between
the pages directly, and only over loopback: Chromium runs with --allow-loopback-in-peer-connection, and
the test harness (tests/browser/loopback_only.js, an init script, not product code) drops every ICE
candidate that is not 127.0.0.1 or ::1. Every state checked must pass axe (WCAG 2.2 AA, serious and
critical) and run without CSP violations or console errors.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.core import signing
from django.db import connections
from playwright.sync_api import Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from backend.accounts import services as accounts
from backend.accounts.models import Role, Team, User
from backend.audit.actor import Actor
from backend.consent.models import PurposeCode
from backend.sessions import services as sessions
from backend.sessions.models import Appointment, AppointmentEvent, ConnectionSample, IceStateChange, Participant, SafetyCheck
from backend.sessions.selectors import JOIN_LINK_SALT
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, PASSWORD, assert_accessible, log_in
from tests.factories import seed_reference_data, SYSTEM, book, give_consent, link_carer, make_team, make_user

LOOPBACK_ONLY = Path(__file__).resolve().parent / "loopback_only.js"
CALL_FLAGS = ["--allow-loopback-in-peer-connection", "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]
PHONE = {"viewport": {"width": 375, "height": 740}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}
LOOPBACK = {"127.0.0.1", "::1"}
WAIT_MS = 15_000  # page changes: well under a second on a quiet machine; room for a loaded CI host
MEDIA_MS = 20_000  # camera start (now at joining, not on page load), ICE, DTLS and the first decoded frames, three pages at once on a loaded box


@pytest.fixture(scope="module")
def chromium(chromium):
    """The package's browser if it was started with the flags calls need; otherwise one that is."""
    missing = [flag for flag in CALL_FLAGS if flag not in CHROMIUM_ARGS]
    if not missing:
        yield chromium
        return
    browser = chromium.browser_type.launch(executable_path=CHROMIUM, headless=True, args=[*CHROMIUM_ARGS, *missing])
    try:
        yield browser
    finally:
        browser.close()


@dataclass
class People:
    team: Team
    clinician: User
    service_user: User
    carer: User
    appointment: Appointment


@pytest.fixture
def people(transactional_db) -> People:
    """Clinician Nia; Amira, who agreed to remote care and video and involves her mother Grace (agreed
    to); an appointment with Nia, all ways offered, Amira chose video."""
    seed_reference_data()
    organisation = accounts.organisation_create(actor=SYSTEM, name="Call Test Trust", staff_two_factor_required=False)
    team = make_team(organisation, "North Leeds Talking Therapies")
    clinician = make_user(Role.CLINICIAN, email="nia.clarke@example.test", full_name="Nia Clarke", password=PASSWORD)
    service_user = make_user(
        Role.SERVICE_USER, email="amira.okafor@example.test", full_name="Amira Okafor", preferred_name="Amira",
        phone_number="07400 123456", password=PASSWORD,
    )
    carer = make_user(Role.CARER, email="grace.okafor@example.test", full_name="Grace Okafor", password=PASSWORD)
    accounts.team_member_add(actor=SYSTEM, team=team, user=clinician)
    accounts.caseload_add(actor=SYSTEM, team=team, service_user=service_user)
    give_consent(service_user, PurposeCode.REMOTE_CARE)
    give_consent(service_user, PurposeCode.VIDEO)
    link_carer(service_user, carer)  # with her consent to involve Grace
    appointment = book(clinician, service_user, team, in_hours=48)
    sessions.appointment_choose(actor=Actor(service_user, via="test"), appointment=appointment, modality="video")
    return People(team, clinician, service_user, carer, appointment)


# --- Helpers -------------------------------------------------------------------------------------


# What each page sent on its sockets, to check what it signalled.
SENT_FRAMES: dict[Page, list[str]] = {}
CONSOLE: dict[Page, list[str]] = {}  # every console line, for failure messages


@pytest.fixture(autouse=True)
def _forget_what_pages_did():
    yield
    SENT_FRAMES.clear()
    CONSOLE.clear()


def open_page(new_page, *, options=DESKTOP, init_scripts=()) -> Page:
    page = new_page(**options)
    frames = SENT_FRAMES.setdefault(page, [])
    lines = CONSOLE.setdefault(page, [])
    page.on("console", lambda message: lines.append(f"{message.type}: {message.text}"))
    page.on("websocket", lambda socket: socket.on("framesent", lambda payload: frames.append(payload) if isinstance(payload, str) else None))
    page.context.add_init_script(path=str(LOOPBACK_ONLY))
    for script in init_scripts:
        page.context.add_init_script(script)
    return page


def outside_playwrights_loop(service, **kwargs):
    """Call a service that tells the Channels layer (async_to_sync) from a thread of its own: this
    thread's event loop is marked running while Playwright is, and async_to_sync refuses to run there."""
    outcome = {}

    def run():
        try:
            outcome["value"] = service(**kwargs)
        except BaseException as error:  # noqa: BLE001 - handed back to the test
            outcome["error"] = error
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=30)
    assert not thread.is_alive(), f"{service.__name__} did not finish"
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def open_session(new_page, user: User, appointment: Appointment, **kwargs) -> Page:
    page = open_page(new_page, **kwargs)
    log_in(page, user.email)
    page.goto(f"/sessions/{appointment.pk}/")
    return page


def remote_videos_playing(page: Page, count: int) -> None:
    """`count` remote pictures, each decoding frames (videoWidth > 0, playing), each connection "Connected"."""
    try:
        page.wait_for_function(
            """(count) => {
                const tiles = [...document.querySelectorAll("#video-grid .tile[data-peer]")];
                return tiles.length === count && tiles.every((tile) => {
                    const video = tile.querySelector("video");
                    return video.videoWidth > 0 && video.readyState >= 2 && !video.paused
                        && tile.querySelector(".tile-state").textContent === "Connected";
                });
            }""",
            arg=count, timeout=MEDIA_MS,
        )
    except PlaywrightTimeoutError:
        pages = "\n".join(f"--- page {index}{' (this one)' if other is page else ''}:\n{describe_call(other)}" for index, other in enumerate(CONSOLE))
        pytest.fail(f"{count} remote picture(s) did not play on {page.url}:\n{pages}", pytrace=False)


def describe_call(page: Page) -> str:
    """What the page's call looks like now, for a failure message."""
    return page.evaluate(
        """() => JSON.stringify({
            status: document.getElementById("session-status").textContent,
            tiles: [...document.querySelectorAll("#video-grid .tile[data-peer]")].map((tile) => ({
                peer: tile.dataset.peer, caption: tile.querySelector(".tile-caption").textContent,
                width: tile.querySelector("video").videoWidth, paused: tile.querySelector("video").paused,
            })),
            connections: window.__rapportPeerConnections.map((pc) => [pc.connectionState, pc.iceConnectionState, pc.iceGatheringState, pc.signalingState]),
        }, null, 1)"""
    ) + "\nconsole:\n" + "\n".join(CONSOLE.get(page, [])[-150:])


def _candidate_address(line: str) -> str:
    """The address in "candidate:<foundation> <component> <transport> <priority> <address> <port> typ ..."."""
    return line.removeprefix("a=").split()[4].strip("[]")


def only_loopback_signalled(page: Page) -> None:
    """Every ICE candidate the page sent through the call's socket (trickled, or inside an offer or an
    answer) names a loopback address, and at least one was sent."""
    candidates = []
    for frame in SENT_FRAMES[page]:
        message = json.loads(frame)
        if message.get("type") == "ice" and message.get("candidate") and message["candidate"]["candidate"]:
            candidates.append(message["candidate"]["candidate"])
        elif message.get("type") in ("offer", "answer"):
            candidates += [line for line in message["sdp"].split("\r\n") if line.startswith("a=candidate:")]
    assert candidates, "the page signalled no ICE candidates"
    others = [line for line in candidates if _candidate_address(line) not in LOOPBACK]
    assert not others, f"the page signalled candidates off loopback: {others}"


def media_over_loopback(page: Page) -> None:
    """Every connected peer connection sends to the other page's loopback candidate, host to host (no
    STUN or TURN). Chrome's ICE agent may send from one of this machine's own non-loopback host
    addresses (it prefers them to loopback), in which case the other page sees a peer-reflexive
    candidate, whose address getStats hides: the packets still never leave this machine."""
    routes = page.evaluate(
        """async () => {
            const routes = [];
            for (const pc of window.__rapportPeerConnections) {
                if (pc.connectionState !== "connected") continue;
                const stats = await pc.getStats();
                let pair = null;
                stats.forEach((s) => { if (s.type === "transport" && s.selectedCandidatePairId) pair = stats.get(s.selectedCandidatePairId); });
                if (!pair) { routes.push(null); continue; }
                const local = stats.get(pair.localCandidateId), remote = stats.get(pair.remoteCandidateId);
                routes.push({local: [local.candidateType, local.address], remote: [remote.candidateType, remote.address]});
            }
            return routes;
        }"""
    )
    assert routes, "no connected peer connection"
    for route in routes:
        assert route is not None, "a connected peer connection has no chosen route"
        assert route["local"][0] == "host", f"media is not sent from a host candidate: {route}"
        kind, address = route["remote"]
        assert (kind == "host" and address in LOOPBACK) or (kind == "prflx" and address in LOOPBACK | {""}), (
            f"media is sent somewhere other than the other page's loopback candidate: {route}"
        )


def fits_a_phone(page: Page) -> None:
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth"), "the page scrolls sideways on a phone"
    for button in page.locator("main button:visible").all():
        box = button.bounding_box()
        assert box["width"] >= 44 and box["height"] >= 44, f"{button.inner_text()!r} is too small to tap: {box}"


def record_safety_check(host: Page) -> None:
    safety = host.get_by_role("region", name="Safety and privacy check")
    safety.get_by_label("Where are they right now?").fill("Home: 12 Example Street, Leeds")
    safety.get_by_label("They can talk without being overheard").check()
    safety.get_by_label("I have confirmed their emergency contact").check()
    safety.get_by_label("I have confirmed who they are").check()
    safety.get_by_label("Notes (optional)").fill("Alone at home; sister is the emergency contact.")
    safety.get_by_role("button", name="Record the safety check").click()
    expect(safety.get_by_text("Safety and privacy check recorded")).to_be_visible(timeout=WAIT_MS)


def expect_event(appointment: Appointment, kind: str, data: dict, timeout: float = WAIT_MS / 1000) -> None:
    """The appointment's history gains an event of this kind with this data (the page posts it)."""
    deadline = time.monotonic() + timeout
    while not AppointmentEvent.objects.filter(appointment=appointment, kind=kind, data__contains=data).exists():
        assert time.monotonic() < deadline, f"no {kind} event with {data}"
        time.sleep(0.1)


def waiting_room_text(page: Page):
    return page.get_by_role("region", name="Waiting room").get_by_text("You are in the waiting room. Your clinician will let you in.", exact=True)


# --- Tests ---------------------------------------------------------------------------------------


def test_clinician_sees_the_person_wait_admits_them_and_they_talk_until_the_clinician_ends_it(new_page, page_problems, people: People):
    host = open_session(new_page, people.clinician, people.appointment)
    people_list = host.get_by_role("region", name="People")
    expect(people_list.get_by_text("Nobody is in the waiting room yet.", exact=False)).to_be_visible()
    assert_accessible(host)

    # Amira, on her phone, arrives: she is told she is waiting, and Nia sees her arrive without reloading.
    person = open_session(new_page, people.service_user, people.appointment, options=PHONE)
    expect(waiting_room_text(person)).to_be_visible(timeout=WAIT_MS)
    admit = people_list.get_by_role("button", name="Admit Amira", exact=True)
    expect(admit).to_be_visible(timeout=WAIT_MS)
    expect(people_list.get_by_text("In the waiting room", exact=True)).to_be_visible()
    assert Participant.objects.get(appointment=people.appointment, user=people.service_user).state == Participant.State.WAITING

    # A one-way message reaches the waiting room.
    host.get_by_label("Message to everyone waiting").fill("Running five minutes late, sorry.")
    host.get_by_role("button", name="Send message").click()
    expect(person.get_by_role("region", name="Waiting room").get_by_text("Running five minutes late, sorry.")).to_be_visible(timeout=WAIT_MS)
    assert_accessible(person)
    fits_a_phone(person)

    record_safety_check(host)
    check = SafetyCheck.objects.get(appointment=people.appointment)
    assert (check.current_location, check.is_private, check.emergency_contact_confirmed, check.identity_confirmed) == (
        "Home: 12 Example Street, Leeds", True, True, True,
    )
    assert_accessible(host)

    admit.click()

    # Both join the call, and each sees and hears the other, over loopback only.
    remote_videos_playing(host, 1)
    remote_videos_playing(person, 1)
    for page in (host, person):
        only_loopback_signalled(page)
        media_over_loopback(page)
    expect(person.get_by_role("heading", name="Video call")).to_be_visible()
    expect(host.locator("#video-grid .tile[data-peer]")).to_contain_text("Amira")
    expect(person.locator("#video-grid .tile[data-peer]")).to_contain_text("Nia Clarke (clinician)")
    expect(people_list.get_by_role("button", name="Put on hold Amira", exact=True)).to_be_visible()
    expect(people_list.get_by_role("button", name="Back to waiting room Amira", exact=True)).to_be_visible()
    appointment = Appointment.objects.get(pk=people.appointment.pk)
    assert (appointment.status, appointment.delivered_modality) == (Appointment.Status.IN_PROGRESS, "video")
    assert_accessible(host)
    assert_accessible(person)
    fits_a_phone(person)

    # Amira mutes her microphone: her track stops sending sound, and the button says how to undo it.
    mute = person.get_by_role("button", name="Mute microphone", exact=True)
    mute.click()
    unmute = person.get_by_role("button", name="Unmute microphone", exact=True)
    expect(unmute).to_be_visible()
    assert person.evaluate("() => document.getElementById('local-video').srcObject.getAudioTracks()[0].enabled") is False
    expect(person.locator("#session-status")).to_contain_text("Your microphone is off")
    unmute.click()
    expect(person.get_by_role("button", name="Mute microphone", exact=True)).to_be_visible()
    assert person.evaluate("() => document.getElementById('local-video').srcObject.getAudioTracks()[0].enabled") is True

    # Amira's picture freezes: she switches to audio only. Her page stops sending video and records why.
    person.get_by_role("button", name="Switch to audio only").click()
    expect(person.get_by_role("button", name="Turn video back on")).to_be_visible()
    expect(person.locator("#session-status")).to_contain_text("You are now on audio only")
    assert person.evaluate("""() => window.__rapportPeerConnections.filter((pc) => pc.connectionState === "connected")
        .every((pc) => !pc.getSenders().some((sender) => sender.track && sender.track.kind === "video"))""")
    expect_event(people.appointment, "modality_switched", {"to": "audio_only", "reason": "video_failed"})
    person.get_by_role("button", name="Turn video back on").click()
    expect(person.get_by_role("button", name="Switch to audio only")).to_be_visible()
    person.wait_for_function("""() => window.__rapportPeerConnections.filter((pc) => pc.connectionState === "connected")
        .every((pc) => pc.getSenders().some((sender) => sender.track && sender.track.kind === "video"))""", timeout=WAIT_MS)

    # A private word: Nia puts Amira on hold, then brings her back.
    people_list.get_by_role("button", name="Put on hold Amira", exact=True).click()
    expect(person.get_by_role("region", name="Waiting room")).to_contain_text("Your clinician has put you on hold.", timeout=WAIT_MS)
    expect(person.locator("#call")).to_be_hidden()
    expect(host.locator("#video-grid .tile[data-peer]")).to_have_count(0, timeout=WAIT_MS)
    assert_accessible(person)
    people_list.get_by_role("button", name="Admit Amira", exact=True).click()
    remote_videos_playing(host, 1)
    remote_videos_playing(person, 1)

    # The clinician ends it: after confirming, both pages say so, and so does the database.
    host.get_by_role("button", name="End the session", exact=True).first.click()
    host.get_by_role("button", name="Yes, end the session").click()
    expect(host.get_by_role("heading", name="The session has ended")).to_be_visible(timeout=WAIT_MS)
    expect(person.get_by_role("heading", name="The session has ended")).to_be_visible(timeout=WAIT_MS)
    expect(person.locator("#call")).to_be_hidden()
    assert Appointment.objects.get(pk=people.appointment.pk).status == Appointment.Status.ENDED
    assert_accessible(host)
    assert_accessible(person)

    # The pages reported how the connection went (the clinician's page sends its last batch before ending).
    assert IceStateChange.objects.filter(appointment=people.appointment, state="connected").exists()
    samples = ConnectionSample.objects.filter(appointment=people.appointment)
    assert samples.filter(round_trip_ms__isnull=False, frame_width__gt=0, frame_height__gt=0).exists(), list(samples.values())
    for page in (host, person):
        page_problems.assert_none(page)


def test_an_invited_carer_joins_and_all_three_see_each_other(new_page, page_problems, people: People):
    outside_playwrights_loop(sessions.carer_invite, actor=Actor(people.service_user, via="test"), appointment=people.appointment, carer=people.carer)
    host = open_session(new_page, people.clinician, people.appointment)
    person = open_session(new_page, people.service_user, people.appointment)
    carer = open_session(new_page, people.carer, people.appointment)
    for page in (person, carer):
        expect(waiting_room_text(page)).to_be_visible(timeout=WAIT_MS)
    people_list = host.get_by_role("region", name="People")
    expect(people_list.get_by_role("button", name="Admit Grace Okafor", exact=True)).to_be_visible(timeout=WAIT_MS)
    expect(people_list.get_by_role("button", name="Admit Amira", exact=True)).to_be_visible(timeout=WAIT_MS)

    record_safety_check(host)
    host.get_by_role("button", name="Admit everyone").click()

    # A mesh: every page has a connection to each of the other two, and shows both pictures.
    for page in (host, person, carer):
        remote_videos_playing(page, 2)
    expect(carer.locator("#video-grid")).to_contain_text("Nia Clarke (clinician)")
    expect(carer.locator("#video-grid")).to_contain_text("Amira")
    expect(host.locator("#video-grid")).to_contain_text("Grace Okafor (carer)")
    for page in (host, person, carer):
        only_loopback_signalled(page)
        media_over_loopback(page)
    assert_accessible(carer)

    # The carer leaves: the others let her picture go, and she can come back.
    carer.get_by_role("button", name="Leave the call").click()
    expect(carer.get_by_role("heading", name="You have left the call")).to_be_visible(timeout=WAIT_MS)
    for page in (host, person):
        remote_videos_playing(page, 1)
    carer.get_by_role("button", name="Join the call again").click()
    for page in (host, person, carer):
        remote_videos_playing(page, 2)

    for page in (host, person, carer):
        page_problems.assert_none(page)


def test_a_join_link_opens_the_waiting_room_without_logging_in_and_the_call_works(new_page, page_problems, people: People):
    token, _ = sessions.join_link_issue(actor=Actor(people.clinician, via="test"), appointment=people.appointment, user=people.service_user)
    person = open_page(new_page, options=PHONE)
    person.goto(f"/join/{token}/")

    assert person.url.endswith(f"/sessions/{people.appointment.pk}/")
    expect(waiting_room_text(person)).to_be_visible(timeout=WAIT_MS)
    expect(person.get_by_role("button", name="Log out")).to_have_count(0)  # not logged in: the link is enough
    # The camera stays off in the waiting room until the person asks to check it.
    expect(person.get_by_role("region", name="Check your camera")).to_be_hidden()
    expect(person.locator("#camera-state")).to_be_hidden()
    person.get_by_role("button", name="Check your camera").click()
    expect(person.get_by_role("region", name="Check your camera")).to_be_visible(timeout=WAIT_MS)
    expect(person.locator("#camera-state")).to_have_text("Your camera and microphone are on.")
    assert_accessible(person)
    fits_a_phone(person)

    host = open_session(new_page, people.clinician, people.appointment)
    record_safety_check(host)
    host.get_by_role("button", name="Admit Amira", exact=True).click()
    remote_videos_playing(person, 1)
    remote_videos_playing(host, 1)
    assert_accessible(person)
    fits_a_phone(person)

    host.get_by_role("button", name="End the session", exact=True).first.click()
    host.get_by_role("button", name="Yes, end the session").click()
    expect(person.get_by_role("heading", name="The session has ended")).to_be_visible(timeout=WAIT_MS)
    page_problems.assert_none(host)
    page_problems.assert_none(person)

    # Coming back to the page later: the link has done its job, and the page says so (not "log in").
    response = person.reload()
    assert response.status == 410
    expect(person.get_by_role("heading", level=1)).to_have_text("This session has finished")
    assert_accessible(person)
    page_problems.assert_none(person, error_page=(410, f"/sessions/{people.appointment.pk}/"))


@pytest.mark.parametrize(("kind", "status", "title"), [
    ("garbage", 404, "This link does not work"),
    ("expired", 410, "This link has expired"),
])
def test_a_broken_or_expired_join_link_says_what_to_do(new_page, page_problems, people: People, kind, status, title):
    if kind == "garbage":
        token = "not-a-real-link"
    else:
        token = signing.dumps({"a": people.appointment.pk, "u": people.service_user.pk, "e": int(time.time()) - 60}, salt=JOIN_LINK_SALT, compress=True)
    page = open_page(new_page, options=PHONE)
    response = page.goto(f"/join/{token}/")

    assert response.status == status
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    expect(page.get_by_role("main")).to_contain_text("your care team can call you, or see you face to face")
    assert not Participant.objects.filter(appointment=people.appointment).exists()
    assert_accessible(page)
    page_problems.assert_none(page, error_page=(status, f"/join/{token}/"))


# The browser refuses the camera and microphone, as when the person said no to its question.
_DENY_MEDIA = """
Object.defineProperty(navigator.mediaDevices, "getUserMedia", {
  value: () => Promise.reject(new DOMException("Permission denied", "NotAllowedError")),
});
"""


def test_when_the_camera_is_refused_the_page_says_how_to_allow_it_and_offers_the_phone(new_page, page_problems, people: People):
    person = open_page(new_page, options=PHONE, init_scripts=[_DENY_MEDIA])
    log_in(person, people.service_user.email)
    person.goto(f"/sessions/{people.appointment.pk}/")
    expect(waiting_room_text(person)).to_be_visible(timeout=WAIT_MS)
    person.get_by_role("button", name="Check your camera").click()

    problem = person.get_by_role("region", name="We cannot use your camera or microphone")
    expect(problem).to_be_visible(timeout=WAIT_MS)
    expect(problem).to_contain_text("Your browser is not letting Rapport use your camera and microphone.")
    expect(problem).to_contain_text("choose Allow")
    expect(problem.get_by_role("button", name="Try again")).to_be_visible()
    expect(waiting_room_text(person)).to_be_visible()  # still in the waiting room: no dead end
    assert_accessible(person)
    fits_a_phone(person)

    # Choosing the phone: once admitted, the page asks for the switch and the clinician's page offers the call form.
    problem.get_by_role("button", name="Continue by phone").click()
    expect(problem).to_contain_text("we will tell them you would like a phone call")
    host = open_session(new_page, people.clinician, people.appointment)
    record_safety_check(host)
    host.get_by_role("button", name="Admit Amira", exact=True).click()
    expect(person.get_by_role("heading", name="Your clinician will phone you now")).to_be_visible(timeout=WAIT_MS)
    expect(host.get_by_role("heading", name="Continue by phone")).to_be_visible(timeout=WAIT_MS)
    expect(host.get_by_label("Phone number you are calling")).to_have_value("07400 123456")
    host.get_by_role("button", name="Record that I am calling").click()
    expect(host.get_by_text("Call to 07400 123456 (Amira) recorded")).to_be_visible(timeout=WAIT_MS)
    appointment = Appointment.objects.get(pk=people.appointment.pk)
    assert (appointment.delivered_modality, appointment.delivery_reason) == ("phone", "video_failed")
    assert appointment.phone_calls.get().number == "+447400123456"  # checked and stored as E.164
    assert_accessible(person)
    assert_accessible(host)
    for page in (person, host):
        page_problems.assert_none(page)


def test_admitting_before_the_safety_check_shows_why_it_cannot_start(new_page, page_problems, people: People):
    host = open_session(new_page, people.clinician, people.appointment)
    person = open_session(new_page, people.service_user, people.appointment)
    expect(waiting_room_text(person)).to_be_visible(timeout=WAIT_MS)

    host.get_by_role("button", name="Admit Amira", exact=True).click()

    problem = host.get_by_role("region", name="People").get_by_role("alert")
    expect(problem).to_contain_text("Record the safety and privacy check before the session starts.", timeout=WAIT_MS)
    expect(problem).to_contain_text("they are still in the waiting room")
    expect(waiting_room_text(person)).to_be_visible()
    assert Appointment.objects.get(pk=people.appointment.pk).status != Appointment.Status.IN_PROGRESS
    assert_accessible(host)
    # The refused request is logged by Chromium as a failed resource load; that line is the expected one.
    host_path = f"/api/v1/appointments/{people.appointment.pk}/admit/"
    page_problems.assert_none(host, error_page=(409, host_path))


# Test harness: keep the page's sockets, so a test can drop one as a flaky network would.
_KEEP_SOCKETS = """
(() => {
  const Native = window.WebSocket;
  window.__rapportSockets = [];
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      window.__rapportSockets.push(this);
    }
  };
})();
"""


def test_when_the_connection_to_the_call_drops_the_page_reconnects_and_the_call_carries_on(new_page, page_problems, people: People):
    host = open_session(new_page, people.clinician, people.appointment)
    person = open_session(new_page, people.service_user, people.appointment, init_scripts=[_KEEP_SOCKETS])
    expect(waiting_room_text(person)).to_be_visible(timeout=WAIT_MS)
    record_safety_check(host)
    host.get_by_role("button", name="Admit Amira", exact=True).click()
    remote_videos_playing(host, 1)
    remote_videos_playing(person, 1)
    call_path = f"/ws/sessions/{people.appointment.pk}/"
    offers_before = sent(host, "offer")

    # Amira's connection to the call server drops (without a goodbye): the server keeps her place, her
    # page connects again by itself, and Nia's page restarts ICE (it is the impolite side).
    person.evaluate(
        "(path) => window.__rapportSockets.find((s) => s.url.endsWith(path) && s.readyState === WebSocket.OPEN).close(4001)", call_path,
    )
    person.wait_for_function(
        """(path) => {
            const calls = window.__rapportSockets.filter((s) => s.url.endsWith(path));
            return calls.length === 2 && calls[1].readyState === WebSocket.OPEN;
        }""",
        arg=call_path, timeout=WAIT_MS,
    )
    deadline = time.monotonic() + WAIT_MS / 1000
    while sent(host, "offer") == offers_before:
        assert time.monotonic() < deadline, "the clinician's page did not restart ICE when Amira came back"
        host.wait_for_timeout(100)
    remote_videos_playing(host, 1)
    remote_videos_playing(person, 1)
    expect(person.locator("#call")).to_be_visible()
    for page in (host, person):
        page_problems.assert_none(page)


def sent(page: Page, kind: str) -> int:
    """How many messages of this type the page has sent on its sockets."""
    return sum(1 for frame in SENT_FRAMES[page] if json.loads(frame).get("type") == kind)

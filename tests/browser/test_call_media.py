"""The call page asks for the camera and microphone only when needed, lets them go when they are not,
and switching to phone is per person (issue 13, points 7, 8 and 10).

getUserMedia is wrapped by an init script (test harness, not product code) that counts the calls and
keeps every track the page obtained, so a test can check each was stopped (`readyState === "ended"`).
"""

from __future__ import annotations

from playwright.sync_api import Page, expect

from backend.audit.actor import Actor
from backend.consent.models import PurposeCode
from backend.sessions import services as sessions
from backend.sessions.models import Appointment, Participant, PhoneCall
from tests.browser.conftest import assert_accessible
from tests.browser.test_call import (  # noqa: F401 - fixtures used by name
    DESKTOP,
    WAIT_MS,
    People,
    _forget_what_pages_did,
    chromium,
    fits_a_phone,
    open_session,
    outside_playwrights_loop,
    people,
    record_safety_check,
    remote_videos_playing,
    waiting_room_text,
)
from tests.factories import withdraw_consent

# A phone the size the issue names (390 x 844).
PHONE_390 = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}

_COUNT_MEDIA = """
(() => {
  window.__media = { calls: 0, tracks: [] };
  const devices = navigator.mediaDevices;
  if (!devices) return;
  const original = devices.getUserMedia.bind(devices);
  devices.getUserMedia = async (constraints) => {
    window.__media.calls += 1;
    const stream = await original(constraints);
    window.__media.tracks.push(...stream.getTracks());
    return stream;
  };
})();
"""


def media_calls(page: Page) -> int:
    return page.evaluate("() => window.__media.calls")


def live_tracks(page: Page, kind: str | None = None) -> list[str]:
    """The kinds of the tracks the page obtained that are still live (not stopped)."""
    return page.evaluate(
        "(kind) => window.__media.tracks.filter((t) => t.readyState !== 'ended' && (!kind || t.kind === kind)).map((t) => t.kind)", kind,
    )


def all_tracks_ended(page: Page) -> None:
    page.wait_for_function("() => window.__media.tracks.length > 0 && window.__media.tracks.every((t) => t.readyState === 'ended')", timeout=WAIT_MS)


def choose(people: People, modality: str) -> None:
    sessions.appointment_choose(actor=Actor(people.service_user, via="test"), appointment=people.appointment, modality=modality)


def test_a_phone_appointment_never_asks_for_the_camera_or_microphone(new_page, page_problems, people: People):
    choose(people, "phone")
    person = open_session(new_page, people.service_user, people.appointment, options=PHONE_390, init_scripts=[_COUNT_MEDIA])
    expect(waiting_room_text(person)).to_be_visible(timeout=WAIT_MS)
    expect(person.get_by_role("button", name="Check your camera")).to_be_hidden()
    assert_accessible(person)
    fits_a_phone(person)

    host = open_session(new_page, people.clinician, people.appointment, init_scripts=[_COUNT_MEDIA])
    record_safety_check(host)
    expect(host.get_by_label("Phone call")).to_be_checked()
    host.get_by_role("button", name="Admit Amira", exact=True).click()
    expect(person.get_by_role("heading", name="Your clinician will phone you now")).to_be_visible(timeout=WAIT_MS)
    expect(host.get_by_role("heading", name="Continue by phone")).to_be_visible(timeout=WAIT_MS)
    person.wait_for_timeout(1000)  # anything the page was going to ask for, it would have asked by now
    assert (media_calls(person), media_calls(host)) == (0, 0)
    expect(person.locator("#camera-state")).to_be_hidden()
    assert_accessible(person)
    assert_accessible(host)
    for page in (person, host):
        page_problems.assert_none(page)


def test_without_consent_to_video_the_waiting_room_never_asks_for_the_camera(new_page, page_problems, people: People):
    withdraw_consent(people.service_user, PurposeCode.VIDEO)
    person = open_session(new_page, people.service_user, people.appointment, init_scripts=[_COUNT_MEDIA])
    expect(waiting_room_text(person)).to_be_visible(timeout=WAIT_MS)
    expect(person.get_by_role("button", name="Check your camera")).to_be_hidden()
    person.wait_for_timeout(1000)
    assert media_calls(person) == 0
    assert_accessible(person)
    page_problems.assert_none(person)


def test_the_camera_is_off_until_needed_and_stopped_on_audio_only_leave_and_phone(new_page, page_problems, people: People):
    person = open_session(new_page, people.service_user, people.appointment, options=PHONE_390, init_scripts=[_COUNT_MEDIA])
    expect(waiting_room_text(person)).to_be_visible(timeout=WAIT_MS)
    person.wait_for_timeout(500)
    assert media_calls(person) == 0  # the waiting room's preview is off until asked for
    expect(person.get_by_role("region", name="Check your camera")).to_be_hidden()

    # Checking the camera, then turning it off again: the tracks are stopped.
    person.get_by_role("button", name="Check your camera").click()
    expect(person.get_by_role("region", name="Check your camera")).to_be_visible(timeout=WAIT_MS)
    expect(person.locator("#camera-state")).to_have_text("Your camera and microphone are on.")
    assert sorted(live_tracks(person)) == ["audio", "video"]
    person.get_by_role("button", name="Turn the camera off").click()
    all_tracks_ended(person)
    expect(person.locator("#camera-state")).to_be_hidden()

    host = open_session(new_page, people.clinician, people.appointment, init_scripts=[_COUNT_MEDIA])
    record_safety_check(host)
    host.get_by_role("button", name="Admit Amira", exact=True).click()
    remote_videos_playing(person, 1)
    remote_videos_playing(host, 1)
    expect(person.locator("#camera-state")).to_have_text("Your camera and microphone are on.")
    # On a phone, the other person's picture is the first thing on the page (below the site's header),
    # whole on the first screen, above the page's heading and the status.
    first = person.evaluate("""() => {
        const top = (selector) => document.querySelector(selector).getBoundingClientRect().top;
        const remote = document.querySelector("#video-grid .tile[data-peer] video").getBoundingClientRect();
        return {remoteTop: remote.top, remoteBottom: remote.bottom, headingTop: top("main h1"), statusTop: top("#session-status"),
                height: window.innerHeight};
    }""")
    assert first["remoteTop"] < min(first["headingTop"], first["statusTop"]) and first["remoteBottom"] <= first["height"], first
    assert_accessible(person)
    fits_a_phone(person)

    # Audio only: the camera's track is stopped, the microphone's is not.
    person.get_by_role("button", name="Switch to audio only").click()
    expect(person.get_by_role("button", name="Turn video back on")).to_be_visible(timeout=WAIT_MS)
    person.wait_for_function("() => window.__media.tracks.filter((t) => t.kind === 'video').every((t) => t.readyState === 'ended')", timeout=WAIT_MS)
    assert live_tracks(person) == ["audio"]
    expect(person.locator("#camera-state")).to_have_text("Your microphone is on. Your camera is off.")

    # Leaving: everything is stopped.
    person.get_by_role("button", name="Leave the call").click()
    expect(person.get_by_role("heading", name="You have left the call")).to_be_visible(timeout=WAIT_MS)
    all_tracks_ended(person)
    expect(person.locator("#camera-state")).to_be_hidden()

    # Back in, then to the phone: everything is stopped again.
    person.get_by_role("button", name="Join the call again").click()
    remote_videos_playing(person, 1)
    assert sorted(live_tracks(person)) == ["audio", "video"]
    person.get_by_role("button", name="Switch to phone").click()
    expect(person.get_by_role("heading", name="Your clinician will phone you now")).to_be_visible(timeout=WAIT_MS)
    all_tracks_ended(person)
    expect(person.locator("#camera-state")).to_be_hidden()
    assert_accessible(person)
    for page in (person, host):
        page_problems.assert_none(page)


def test_in_a_call_of_three_one_person_switching_to_phone_leaves_the_other_two_on_video(new_page, page_problems, people: People):
    outside_playwrights_loop(sessions.carer_invite, actor=Actor(people.service_user, via="test"), appointment=people.appointment, carer=people.carer)
    host = open_session(new_page, people.clinician, people.appointment)
    person = open_session(new_page, people.service_user, people.appointment, init_scripts=[_COUNT_MEDIA])
    carer = open_session(new_page, people.carer, people.appointment, options=PHONE_390)
    for page in (person, carer):
        expect(waiting_room_text(page)).to_be_visible(timeout=WAIT_MS)
    people_list = host.get_by_role("region", name="People")
    expect(people_list.get_by_role("button", name="Admit Grace Okafor", exact=True)).to_be_visible(timeout=WAIT_MS)
    record_safety_check(host)
    host.get_by_role("button", name="Admit everyone").click()
    for page in (host, person, carer):
        remote_videos_playing(page, 2)
    expect(people_list.locator("li", has_text="Amira")).to_contain_text("In the call", timeout=WAIT_MS)

    # Amira's video fails: she switches to phone. Only she leaves the call.
    person.get_by_role("button", name="Switch to phone").click()
    expect(person.get_by_role("heading", name="Your clinician will phone you now")).to_be_visible(timeout=WAIT_MS)
    all_tracks_ended(person)
    remote_videos_playing(host, 1)
    remote_videos_playing(carer, 1)
    expect(carer.locator("#video-grid .tile[data-peer]")).to_contain_text("Nia Clarke (clinician)")
    expect(carer.locator("#call")).to_be_visible()
    expect(host.locator("#call")).to_be_visible()
    rows = {p.user_id: p.delivered_modality for p in Participant.objects.filter(appointment=people.appointment)}
    assert rows == {people.clinician.pk: "video", people.service_user.pk: "phone", people.carer.pk: "video"}
    assert Appointment.objects.get(pk=people.appointment.pk).delivered_modality == "video"

    # The clinician, still on video with Grace, is asked to phone Amira, and records the call.
    expect(people_list.locator("li", has_text="Amira")).to_contain_text("On the phone", timeout=WAIT_MS)
    phone = host.get_by_role("region", name="Someone needs a phone call")
    expect(phone).to_be_visible(timeout=WAIT_MS)
    expect(phone.get_by_label("Who you are phoning")).to_have_value(str(people.service_user.pk))
    expect(phone.get_by_label("Phone number you are calling")).to_have_value("07400 123456")
    phone.get_by_role("button", name="Record that I am calling").click()
    expect(phone.get_by_text("Call to 07400 123456 (Amira) recorded")).to_be_visible(timeout=WAIT_MS)
    call = PhoneCall.objects.get(appointment=people.appointment)
    assert (call.callee_id, call.number) == (people.service_user.pk, "+447400123456")
    assert_accessible(host)
    assert_accessible(carer)
    fits_a_phone(carer)

    # Grace leaves the call: the clinician's list of people says so at once.
    carer.get_by_role("button", name="Leave the call").click()
    expect(people_list.locator("li", has_text="Grace Okafor")).to_contain_text("Left the call", timeout=WAIT_MS)
    remote_videos_playing(host, 0)
    for page in (host, person, carer):
        page_problems.assert_none(page)

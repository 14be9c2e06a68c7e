"""The connection test page in a real browser: the server's aiortc peer sends the person's own camera
and microphone back. The server keeps its WebRTC on loopback (tests/harness/sitecustomize.py) and the
page's candidates are filtered to loopback (tests/browser/loopback_only.js); neither is product code."""

from pathlib import Path

from playwright.sync_api import expect

from backend.accounts.models import Role
from tests.browser.conftest import PASSWORD, assert_accessible, log_in
from tests.factories import make_user

LOOPBACK_ONLY = Path(__file__).resolve().parent / "loopback_only.js"


def test_the_page_gets_the_persons_own_media_back(new_page, page_problems, transactional_db):
    person = make_user(Role.SERVICE_USER, password=PASSWORD)
    page = new_page(viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True)
    page.context.add_init_script(path=str(LOOPBACK_ONLY))
    log_in(page, person.email)
    page.goto("/connection-test/")
    assert_accessible(page)
    page.get_by_role("button", name="Allow camera and microphone").click()
    expect(page.locator("#device-status")).to_contain_text("work", timeout=10_000)
    page.get_by_role("button", name="Start the test call").click()
    expect(page.locator("#result-receiving")).to_contain_text("you can see yourself", timeout=15_000)
    expect(page.locator("#result-sending")).to_contain_text("received your picture and sound", timeout=15_000)
    assert page.evaluate("document.getElementById('echo-video').videoWidth") > 0
    expect(page.locator("#result-delay")).to_contain_text("ms")
    signalled = page.evaluate("""() => window.__rapportPeerConnections.flatMap((pc) =>
        (pc.localDescription ? pc.localDescription.sdp.split('\\r\\n') : []).filter((l) => l.startsWith('a=candidate:')))""")
    assert signalled and all(line.split()[4] in ("127.0.0.1", "::1") for line in signalled)
    assert_accessible(page)
    page_problems.assert_none(page)


def test_a_refused_camera_says_how_to_allow_it(chromium, asgi_server, transactional_db):
    """Without the fake-UI grant, a denied permission: the page explains what to do and offers the phone."""
    person = make_user(Role.SERVICE_USER, password=PASSWORD)
    context = chromium.new_context(base_url=asgi_server)
    try:
        page = context.new_page()
        page.add_init_script("navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('denied', 'NotAllowedError'));")
        log_in(page, person.email)
        page.goto("/connection-test/")
        page.get_by_role("button", name="Allow camera and microphone").click()
        help_box = page.locator("#permission-help")
        expect(help_box).to_be_visible()
        expect(help_box).to_contain_text("Allow")
        expect(help_box).to_contain_text("phone you instead")
        assert_accessible(page)
    finally:
        context.close()

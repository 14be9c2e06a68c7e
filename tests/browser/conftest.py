"""Browser tests: Debian's Chromium, driven by Playwright, against the real ASGI app served by uvicorn.

The server is a separate process on a free loopback port, pointed at pytest-django's test database.
It only sees rows a test has committed, so these tests use `transactional_db` (never `db`).

Playwright's sync API marks the test thread's asyncio loop as running while it is started. That makes
Django refuse ORM calls from the test ("async context") unless DJANGO_ALLOW_ASYNC_UNSAFE is set, and it
would stop pytest-asyncio tests elsewhere from running their own loop. So Playwright lives only as long
as this package's tests (scope="package": one browser for all of them), and the ORM escape hatch is set
only while a browser test runs, never for the server.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, sync_playwright

from tests.live_server import database_url_with_name, start_server, wait_until_up

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
CHROMIUM = "/usr/bin/chromium"
AXE_JS = HERE / "node_modules" / "axe-core" / "axe.min.js"
PASSWORD = "Browser-test-pass-2026"  # passes Django's password validators
ACTION_TIMEOUT_MS = 10_000

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    "--allow-loopback-in-peer-connection",
]

# WCAG 2.0, 2.1 and 2.2, levels A and AA.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
AXE_BLOCKING_IMPACTS = {"serious", "critical"}


def pytest_collection_modifyitems(config, items):
    """Every test in this folder is a browser test (`-m "not browser"` skips them all)."""
    for item in items:
        if HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.browser)


# --- The server ----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def asgi_server(django_db_setup, tmp_path_factory, _mail_server) -> str:
    """Rapport's real ASGI app under uvicorn (tests/live_server.py), on the test database, sending email to
    the tests' SMTP server on loopback (`browser_mail`). Yields its base URL."""
    from django.db import connection

    env = dict(os.environ)
    env["DATABASE_URL"] = database_url_with_name(os.environ["DATABASE_URL"], connection.settings_dict["NAME"])
    env["EMAIL_URL"] = _mail_server.url
    server = start_server(env, tmp_path_factory.mktemp("asgi-server") / "uvicorn.log")
    try:
        wait_until_up(server)
    except RuntimeError as error:
        pytest.fail(str(error), pytrace=False)
    try:
        yield server.base_url
    finally:
        server.stop()


@pytest.fixture
def browser_mail(mail_server):
    """What the server (and this test, through Django's SMTP backend) emailed during this test
    (tests/mail_server.py), empty at its start."""
    return mail_server


# --- Django beside Playwright ----------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _django_orm_beside_playwright(monkeypatch):
    """Let the test (and its transactional_db flush) use the ORM while Playwright's loop is marked running."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def world(transactional_db):
    """The shared world, committed so the server can see it (overrides tests/conftest.py's `db` version)."""
    from tests.factories import build_world

    return build_world()


# --- The browser -----------------------------------------------------------------------------------


@pytest.fixture(scope="package")
def chromium():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make test`, which installs Debian's chromium.", pytrace=False)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


# Runs in every document before its own scripts: reports CSP violations to the test through a binding
# (bindings come in through the DevTools protocol, so the page's CSP does not apply to them).
_CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.__rapportCspViolation({
    directive: event.effectiveDirective || event.violatedDirective,
    blocked: event.blockedURI,
    source: event.sourceFile,
    line: event.lineNumber,
    sample: event.sample,
    document: event.documentURI,
  });
}, true);
"""


@dataclass
class PageProblems:
    """What went wrong in the browser while a test ran: CSP violations, console errors, uncaught errors."""

    csp_violations: list[dict] = field(default_factory=list)
    console_errors: list[tuple[str, str]] = field(default_factory=list)  # (text, URL it is about)
    page_errors: list[str] = field(default_factory=list)

    def assert_none(self, page: Page | None = None, *, error_page: tuple[int, str] | None = None) -> None:
        """Fail if anything went wrong. `error_page=(status, path)`: the test meant that page to answer with
        that HTTP error, so Chromium's "Failed to load resource: ... status of <status>" line for it is fine."""
        if page is not None:
            # Let any violation event already queued in the page reach the binding first.
            page.evaluate("() => new Promise((resolve) => setTimeout(resolve, 0))")

        def expected(text: str, url: str) -> bool:
            if error_page is None:
                return False
            status, path = error_page
            return f"the server responded with a status of {status}" in text and urlsplit(url).path == path

        problems = (
            [f"CSP violation: {v}" for v in self.csp_violations]
            + [f"console error: {text} ({url})" for text, url in self.console_errors if not expected(text, url)]
            + [f"uncaught error: {line}" for line in self.page_errors]
        )
        assert not problems, "The browser reported problems:\n" + "\n".join(problems)


@pytest.fixture
def page_problems() -> PageProblems:
    return PageProblems()


@pytest.fixture
def new_page(chromium, asgi_server, page_problems):
    """new_page(**context_options): a page in a fresh browser context, recording into `page_problems`."""
    contexts = []

    def make(**options) -> Page:
        context = chromium.new_context(base_url=asgi_server, **options)
        contexts.append(context)
        context.set_default_timeout(ACTION_TIMEOUT_MS)
        context.expose_binding("__rapportCspViolation", lambda _source, violation: page_problems.csp_violations.append(violation))
        context.add_init_script(_CSP_LISTENER)
        page = context.new_page()
        page.on("console", lambda message: message.type == "error" and page_problems.console_errors.append(
            (message.text, message.location.get("url", ""))
        ))
        page.on("pageerror", lambda error: page_problems.page_errors.append(str(error)))
        return page

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page) -> Page:
    """A desktop-sized page in a fresh context."""
    return new_page(viewport={"width": 1280, "height": 900})


# --- Helpers ---------------------------------------------------------------------------------------


def submit_login(page: Page, email: str, password: str):
    """Fill in and send the real login form. Returns the response the browser lands on."""
    page.goto("/login/")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Log in", exact=True).click()
    return navigation.value


def log_in(page: Page, email: str, password: str = PASSWORD) -> None:
    """Log in through the form and check the browser arrives on the home page, logged in."""
    response = submit_login(page, email, password)
    assert response is not None and response.status == 200, f"log in answered {response and response.status}"
    assert urlsplit(page.url).path == "/", f"expected the home page after logging in, got {page.url}"
    page.get_by_role("button", name="Log out").wait_for()


_axe_source: str | None = None


def assert_accessible(page: Page) -> None:
    """Run axe-core (WCAG 2.0/2.1/2.2 A and AA) on the page; fail on any serious or critical violation.

    axe is evaluated through the DevTools protocol (page.evaluate), not an inline <script>, so the
    page's CSP (no inline scripts) does not block it, and it adds no CSP violation of its own.
    """
    global _axe_source
    if _axe_source is None:
        if not AXE_JS.exists():
            pytest.fail(f"{AXE_JS} is missing: run `make test` (tests/setup_services.sh installs axe-core).", pytrace=False)
        _axe_source = AXE_JS.read_text(encoding="utf-8")
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(_axe_source)
    violations = page.evaluate(
        """async (tags) => {
            const results = await window.axe.run(document, {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]});
            return results.violations.map((v) => ({
                id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
                nodes: v.nodes.map((n) => ({target: n.target, impact: n.impact, summary: n.failureSummary})),
            }));
        }""",
        AXE_TAGS,
    )
    blocking = [v for v in violations if v["impact"] in AXE_BLOCKING_IMPACTS]
    if blocking:
        lines = [f"axe found {len(blocking)} serious or critical accessibility violation(s) on {page.url}:"]
        for v in blocking:
            lines.append(f"- {v['id']} ({v['impact']}): {v['help']} <{v['helpUrl']}>")
            for node in v["nodes"]:
                summary = " ".join((node["summary"] or "").split())
                lines.append(f"    {node['target']}: {summary}")
        pytest.fail("\n".join(lines), pytrace=False)

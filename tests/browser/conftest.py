"""Fixtures for the browser tests: Debian's Chromium driven by Playwright
against pytest-django's live server.

Each test gets its own browser (see `browser` for why) and a fresh context
whose locale is Simplified Chinese, the portal's default language. No browser
is ever downloaded: Playwright drives /usr/bin/chromium.
Set PORTAL_TEST_SHOTS to a folder to keep the screenshots the tests take.
"""

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from django.db import connections

from wagtail.models import Site

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Long enough for a slow CI machine, short enough that a missing element fails
# the test in seconds rather than minutes.
TIMEOUT_MS = 10_000
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture
def browser(monkeypatch) -> Iterator:
    """Chromium, started for one test and stopped before its database is reset.

    Playwright's sync API runs an event loop in the test thread. While it runs,
    Django refuses ORM calls from this thread unless DJANGO_ALLOW_ASYNC_UNSAFE
    is set, and its connection handler (an asgiref Local) hands out separate
    connection objects; these miss the state the transactional test case needs
    to restore the migrations' rows (serialized_rollback). So Playwright lives
    only inside the test: the database is restored before it starts and
    flushed after it stops. The variable is set for the test only, not the
    session: it would leak into the subprocesses other tests start, and
    `manage.py check --deploy` rejects it.
    """
    if not CHROMIUM.exists():
        # A failure, not a skip: `make test` installs Debian's chromium, so a
        # missing browser is a broken set-up that must not pass in silence.
        pytest.fail(f"no Chromium at {CHROMIUM}: run `make test`, which installs it")
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()
        # The connections opened while the loop ran belong to its context.
        connections.close_all()


@pytest.fixture
def live_site(home, live_server):
    """The default Wagtail site answers on the live server's host and port, so
    page URLs and the links in e-mails point at it."""
    address = urlsplit(live_server.url)
    site = Site.objects.get(is_default_site=True)
    site.hostname, site.port = address.hostname, address.port
    site.save()
    return live_server


#: What Chromium writes to the console when the Content-Security-Policy blocks
#: something (a script, a style, an image, a connection, a frame...).
CSP_CONSOLE_MARKERS = ("Content Security Policy", "Refused to")


@pytest.fixture
def csp_violations() -> list[str]:
    """The Content-Security-Policy violations the tabs of this test reported
    on their consoles; a test that provokes one on purpose clears the list."""
    return []


@pytest.fixture(autouse=True)
def no_csp_violations(csp_violations) -> Iterator[None]:
    """Fail every browser test in which the browser blocked something under
    the portal's Content-Security-Policy: a page that needs an inline script
    or style would work in a test without the policy and break for users.
    Set up before `new_page`, so checked after its tabs are closed."""
    yield
    assert not csp_violations, csp_violations


@pytest.fixture
def new_page(live_site, browser, csp_violations) -> Iterator[Callable]:
    """Open a tab in a new Simplified Chinese context; keyword arguments go to
    browser.new_context (viewport, java_script_enabled...). Each tab fails the
    test on a server error, an uncaught JavaScript error or (no_csp_violations)
    a Content-Security-Policy violation."""
    contexts = []
    errors: list[str] = []

    def console(message) -> None:  # type: ignore[no-untyped-def]
        if any(marker in message.text for marker in CSP_CONSOLE_MARKERS):
            csp_violations.append(f"{message.text} (on {message.location.get('url')})")

    def open_page(**options):  # type: ignore[no-untyped-def]
        settings = {
            "base_url": live_site.url,
            "locale": "zh-CN",
            "timezone_id": "Asia/Shanghai",
            "viewport": DESKTOP,
        } | options
        context = browser.new_context(**settings)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        tab = context.new_page()
        tab.on("pageerror", lambda error: errors.append(f"JavaScript: {error}"))
        tab.on("console", console)
        tab.on(
            "response",
            lambda response: (
                errors.append(f"HTTP {response.status} {response.url}")
                if response.status >= 500
                else None
            ),
        )
        return tab

    yield open_page
    for context in contexts:
        context.close()
    assert not errors, errors


@pytest.fixture
def page(new_page):
    """A desktop-sized tab with JavaScript on."""
    return new_page()


@pytest.fixture
def screenshot() -> Callable:
    """Save a full-page screenshot to $PORTAL_TEST_SHOTS, if it is set."""
    folder = os.environ.get("PORTAL_TEST_SHOTS")

    def take(tab, name: str) -> None:  # type: ignore[no-untyped-def]
        if folder:
            Path(folder).mkdir(parents=True, exist_ok=True)
            tab.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)

    return take

"""Fixtures for the browser tests: Debian's Chromium driven by Playwright
against pytest-django's live server.

The browser is started once per session; every test gets a fresh context
(no cookies carried over) whose locale is Simplified Chinese, the portal's
default language. No browser is ever downloaded: Playwright drives the
system's /usr/bin/chromium.
"""

import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from wagtail.models import Site

# Playwright's sync API runs an event loop in the test thread, which makes
# Django refuse ORM calls from it unless told that this is intended.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path(os.environ.get("PORTAL_TEST_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Long enough for a slow CI machine, short enough that a missing element
# fails the test in seconds rather than minutes.
TIMEOUT_MS = 10_000


@pytest.fixture(scope="session")
def browser() -> Iterator:
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture(autouse=True)
def _restore_migration_data(django_db_serialized_rollback) -> None:
    """The live server needs a transactional database, which is flushed after
    each test; the rows the migrations create (the home page, the
    vocabularies, the locales) are put back from the serialized copy."""


@pytest.fixture
def live_site(home, live_server):
    """The default Wagtail site answers on the live server's host and port,
    so page URLs and e-mail links point at it."""
    address = urlsplit(live_server.url)
    site = Site.objects.get(is_default_site=True)
    site.hostname, site.port = address.hostname, address.port
    site.save()
    return live_server


@pytest.fixture
def page(browser, live_site) -> Iterator:
    """A fresh browser tab in a Simplified Chinese context; it fails fast on
    server errors and on uncaught JavaScript errors."""
    context = browser.new_context(
        base_url=live_site.url,
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        viewport={"width": 1280, "height": 900},
    )
    context.set_default_timeout(TIMEOUT_MS)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    tab.on(
        "response",
        lambda response: errors.append(f"{response.status} {response.url}")
        if response.status >= 500
        else None,
    )
    yield tab
    context.close()
    assert not errors, errors

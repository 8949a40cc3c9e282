"""The browser tests run under the portal's Content-Security-Policy, and the
harness (tests/browser/conftest.py, no_csp_violations) fails any test whose
page the browser had to block something on. This proves the harness sees a
violation: an inline script, the cheapest injection, is refused and caught."""

import contextlib
import time

import pytest
from playwright.sync_api import Error as PlaywrightError

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_an_injected_inline_script_is_refused_and_reported(
    page, csp_violations, caplog
):
    page.goto("/")
    refused = page.expect_console_message(
        lambda message: "Content Security Policy" in message.text
    )
    # Playwright may report the refusal as an error as well.
    with refused, contextlib.suppress(PlaywrightError):
        page.add_script_tag(content="window.injected = true;")
    assert page.evaluate("window.injected") is None
    assert any("inline script" in violation for violation in csp_violations)
    # The browser also posts the report to /csp-report/, which logs it.
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not any(
        record.name == "portal.csp" for record in caplog.records
    ):
        time.sleep(0.1)
    assert any(record.name == "portal.csp" for record in caplog.records)
    # Provoked on purpose: not a failure of this test.
    csp_violations.clear()

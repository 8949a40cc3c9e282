"""Helpers for the browser tests: finding fields by their Chinese labels and
checking pages with axe-core."""

import re
import time

from axe_playwright_python.sync_playwright import Axe

# axe-core impacts that fail a test; "moderate" and "minor" do not.
BLOCKING_IMPACTS = {"serious", "critical"}


#: The password tests.factories.UserFactory gives every user.
FACTORY_PASSWORD = "correct horse battery staple"


def sign_in(tab, email: str, password: str = FACTORY_PASSWORD) -> None:  # type: ignore[no-untyped-def]
    """Sign in on the site's own login page (in Chinese); ends on My learning."""
    tab.goto("/accounts/login/")
    field(tab, "电子邮件").fill(email)
    field(tab, "密码").fill(password)
    tab.get_by_role("main").get_by_role("button", name="登录").click()
    tab.wait_for_url(re.compile(r"/learning/$"))


def sign_in_with_code(tab, email: str, secret: str) -> None:  # type: ignore[no-untyped-def]
    """Sign in as staff do: password, then the code from their authenticator
    (allauth's MFA stage); ends on My learning."""
    from tests.portal.test_admin_access import current_code

    tab.goto("/accounts/login/")
    field(tab, "电子邮件").fill(email)
    field(tab, "密码").fill(FACTORY_PASSWORD)
    tab.get_by_role("main").get_by_role("button", name="登录").click()
    tab.wait_for_url(re.compile(r"/accounts/2fa/authenticate/$"))
    # A code is good for the rest of its 30-second window only (allauth's
    # tolerance is 0): one typed in the window's last seconds could reach the
    # server in the next, as a person would then type the next one.
    left = 30 - time.time() % 30
    if left < 3:
        time.sleep(left + 0.2)
    tab.locator("input[name=code]").fill(current_code(secret))
    tab.get_by_role("main").get_by_role("button", name="登录").click()
    tab.wait_for_url(re.compile(r"/learning/$"))


def field(tab, label: str):  # type: ignore[no-untyped-def]
    """The form control whose <label> reads `label`, with or without the
    required-field asterisk; "密码" does not match "密码（重复）"."""
    return tab.get_by_label(re.compile(rf"^{re.escape(label)}\s*\*?$"))


def axe_violations(tab) -> list[dict]:  # type: ignore[no-untyped-def]
    """axe-core's violations on the current page."""
    return Axe().run(tab).response["violations"]


def axe_report(violations: list[dict]) -> str:
    """One paragraph per violation: what, how bad, where, and how to fix it."""
    lines = []
    for violation in violations:
        lines.append(
            f"{violation['id']} ({violation['impact']}): {violation['help']}"
            f" <{violation['helpUrl']}>"
        )
        for node in violation["nodes"]:
            target = " ".join(str(part) for part in node["target"])
            lines.append(f"  - {target}\n      {node['html'][:200]}")
            summary = (node.get("failureSummary") or "").replace("\n", "\n        ")
            if summary:
                lines.append(f"        {summary}")
    return "\n".join(lines)


def assert_no_serious_axe_violations(tab) -> None:  # type: ignore[no-untyped-def]
    violations = axe_violations(tab)
    blocking = [v for v in violations if v["impact"] in BLOCKING_IMPACTS]
    assert not blocking, f"axe-core on {tab.url}:\n{axe_report(blocking)}"


def sign_up_and_sign_in(tab, *, email: str, password: str, name: str) -> None:  # type: ignore[no-untyped-def]
    """Sign up in Chinese, follow the verification e-mail, sign in."""
    import time

    from django.core import mail

    tab.goto("/accounts/signup/")
    field(tab, "电子邮件").fill(email)
    field(tab, "真实姓名").fill(name)
    field(tab, "密码").fill(password)
    field(tab, "密码（重复）").fill(password)
    tab.locator("input[name=privacy_consent]").check()
    tab.get_by_role("main").get_by_role("button", name="注册").click()
    tab.wait_for_url(re.compile(r"/accounts/confirm-email/$"))
    deadline = time.monotonic() + 5
    while (
        not [m for m in mail.outbox if m.to == [email]] and time.monotonic() < deadline
    ):
        time.sleep(0.05)
    message = [m for m in mail.outbox if m.to == [email]][-1]
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", message.body)
    tab.goto(link.group(0))
    tab.get_by_role("main").get_by_role("button", name="确认").click()
    tab.wait_for_url(re.compile(r"/accounts/login/$"))
    field(tab, "电子邮件").fill(email)
    field(tab, "密码").fill(password)
    tab.get_by_role("main").get_by_role("button", name="登录").click()
    tab.wait_for_url(re.compile(r"/learning/$"))


def delivered_to(address: str, seconds: float = 5.0) -> list:
    """The e-mails delivered to `address` (the outbox row keeps no body once
    sent, so a test reads what was delivered). The live server delivers on
    commit, in its own thread: wait a moment for at least one."""
    import time

    from django.core import mail

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if found := [m for m in mail.outbox if m.to == [address]]:
            return found
        time.sleep(0.05)
    return []

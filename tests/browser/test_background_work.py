"""Settings › Background work in a real browser: reached from the menu, no
serious axe-core problem, and a failed e-mail retried by its button."""

import datetime
import re
import time

import pytest
from playwright.sync_api import expect

from django.utils import timezone

from portal.models import OutgoingEmail
from tests.browser.helpers import assert_no_serious_axe_violations, sign_in_with_code
from tests.factories import StaffFactory, activate_totp

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_an_operator_finds_a_failed_email_and_retries_it(page, screenshot):
    operator = StaffFactory(email="yunwei@example.org", mfa=False)
    secret = activate_totp(operator)
    failed = OutgoingEmail.objects.create(
        status=OutgoingEmail.Status.FAILED,
        subject="培训报名确认",
        body="正文",
        from_email="noreply@example.org",
        to=["xueyuan@example.org"],
        attempts=5,
        last_error="SMTPServerDisconnected: 连接中断",
    )
    OutgoingEmail.objects.filter(pk=failed.pk).update(
        created_at=timezone.now() - datetime.timedelta(hours=1)
    )
    sign_in_with_code(page, operator.email, secret)

    page.goto("/admin/")
    page.get_by_role("button", name=re.compile("设置|Settings")).click()
    page.get_by_role("link", name=re.compile("后台任务|Background work")).click()
    expect(page).to_have_url(re.compile(r"/admin/background-work/$"))
    emails = page.locator("#work-email")
    expect(emails.get_by_role("table").last).to_contain_text("SMTPServerDisconnected")
    screenshot(page, "admin-background-work")
    assert_no_serious_axe_violations(page)

    emails.get_by_role("button", name=re.compile("培训报名确认")).click()
    expect(page).to_have_url(re.compile(r"/admin/background-work/#work-email$"))
    expect(page.locator(".messages")).to_contain_text(
        re.compile("已重新排队 1 封邮件|Re-queued 1 e-mail")
    )
    failed.refresh_from_db()
    assert failed.status == OutgoingEmail.Status.SENT
    expect(emails).not_to_contain_text("培训报名确认")
    # The message fades in; axe reads its colours once it has (admin.css):
    # mid-fade its green is paler, blended with the page behind it.
    # Polled from here: wait_for_function polls inside the page with eval,
    # which the admin's Content-Security-Policy refuses.
    settled = (
        "() => getComputedStyle(document.querySelector('.messages .success'))"
        ".backgroundColor === 'rgb(23, 115, 90)'"
        " && document.getAnimations().every(a => a.playState !== 'running')"
    )
    deadline = time.monotonic() + 10
    while not page.evaluate(settled) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert_no_serious_axe_violations(page)

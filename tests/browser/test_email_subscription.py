"""Subscribing without an account, and scheduling an announcement, in a
real browser (issue 17, part 7): the sign-up form (also with its errors),
the "check your e-mail" page, the confirmation pages and a refused link,
and the announcement's preview with its schedule and test-send forms; no
serious axe-core violation on any of them."""

import re
import time

import pytest
from playwright.sync_api import expect

from django.core import mail

from subscriptions.models import Announcement, EmailSubscriber
from tests.browser.helpers import (
    assert_no_serious_axe_violations,
    field,
    sign_in_with_code,
)
from tests.factories import StaffFactory, activate_totp
from tests.subscriptions.factories import AnnouncementFactory, SubscriptionFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_a_visitor_subscribes_by_email_and_confirms(page, home):
    page.goto("/subscriptions/")
    assert_no_serious_axe_violations(page)

    page.get_by_role("main").get_by_role("button", name="订阅").click()
    expect(page.locator(".field__errors").first).to_be_visible()
    assert_no_serious_axe_violations(page)  # the form with its errors

    field(page, "电子邮箱").fill("wang.fang@example.cn")
    page.get_by_label("通知公告").check()
    page.get_by_label(re.compile("我同意通过电子邮件接收这些公告")).check()
    page.get_by_role("main").get_by_role("button", name="订阅").click()
    expect(page).to_have_url(re.compile(r"/subscriptions/sent/$"))
    assert_no_serious_axe_violations(page)

    [message] = [m for m in mail.outbox if m.to == ["wang.fang@example.cn"]]
    link = re.search(r"https?://\S+/subscriptions/confirm/\S+/", message.body)
    assert link
    path = "/" + link.group(0).split("/", 3)[3]
    page.goto(path)
    expect(page.get_by_role("main")).to_contain_text("wang.fang@example.cn")
    assert_no_serious_axe_violations(page)
    page.get_by_role("main").get_by_role("button", name="确认订阅").click()
    expect(page.get_by_role("status")).to_contain_text("wang.fang@example.cn")
    assert_no_serious_axe_violations(page)
    assert EmailSubscriber.objects.get().is_active

    page.goto("/subscriptions/confirm/forged/")
    expect(page.get_by_role("alert")).to_contain_text("无效")
    assert_no_serious_axe_violations(page)


def test_an_editor_schedules_an_announcement_from_its_preview(page, home):
    editor = StaffFactory(email="bianji@example.org", mfa=False)
    secret = activate_totp(editor)
    SubscriptionFactory()
    announcement = AnnouncementFactory()
    sign_in_with_code(page, editor.email, secret)

    page.goto(f"/admin/announcements/preview/{announcement.pk}/")
    assert_no_serious_axe_violations(page)
    page.get_by_label(re.compile("发送时间")).fill("2099-04-20T09:30")
    page.get_by_role("button", name="设置定时发送").click()
    expect(page.locator(".messages")).to_contain_text("2099-04-20 09:30")
    announcement.refresh_from_db()
    assert announcement.status == Announcement.Status.SCHEDULED
    settle_messages(page)
    assert_no_serious_axe_violations(page)  # the scheduled preview

    page.get_by_role("button", name="给我发送测试邮件").click()
    expect(page.locator(".messages")).to_contain_text("bianji@example.org")
    page.get_by_role("button", name="取消定时").click()
    expect(page.locator(".messages")).to_contain_text("草稿")
    announcement.refresh_from_db()
    assert announcement.status == Announcement.Status.DRAFT


def settle_messages(page) -> None:  # type: ignore[no-untyped-def]
    """Wait for the admin's message to finish fading in: mid-fade its green
    is paler (as tests/browser/test_background_work.py explains). Polled
    from here: the admin's Content-Security-Policy refuses eval."""
    settled = (
        "() => getComputedStyle(document.querySelector('.messages .success'))"
        ".backgroundColor === 'rgb(23, 115, 90)'"
        " && document.getAnimations().every(a => a.playState !== 'running')"
    )
    deadline = time.monotonic() + 10
    while not page.evaluate(settled) and time.monotonic() < deadline:
        time.sleep(0.1)

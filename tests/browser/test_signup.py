"""A visitor signs up in Chinese through a real browser, confirms the e-mail
address from the verification message, signs in and reaches the profile."""

import re
import time

import pytest
from playwright.sync_api import expect

from django.core import mail

from portal.models import OutgoingEmail, User
from tests.browser.helpers import field

pytestmark = [
    pytest.mark.browser,
    # The live server runs in another thread, so the test cannot hold its data
    # in an open transaction; the migrations' rows are restored after each test.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

EMAIL = "zhang.wei@example.org"
PASSWORD = "Zhishi-Chanquan-2027"


def wait_for_mail(count: int, seconds: float = 5.0) -> list:
    """The live server sends on commit, in its own thread; give it a moment."""
    deadline = time.monotonic() + seconds
    while len(mail.outbox) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    return mail.outbox


def test_signup_in_chinese_then_verify_sign_in_and_see_the_profile(page, live_site):
    page.goto("/accounts/signup/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    expect(page.get_by_role("heading", level=1)).to_have_text("注册")

    field(page, "电子邮件").fill(EMAIL)
    field(page, "真实姓名").fill("张伟")
    field(page, "人员类别").select_option(label="公务员")
    field(page, "密码").fill(PASSWORD)
    field(page, "密码（重复）").fill(PASSWORD)
    # The privacy notice is linked from the box that must be ticked.
    consent = page.locator("input[name=privacy_consent]")
    expect(page.locator("label[for=id_privacy_consent] a")).to_have_attribute(
        "href", "/privacy/"
    )
    consent.check()
    page.get_by_role("main").get_by_role("button", name="注册").click()

    # "Verify your e-mail address", in Chinese.
    expect(page).to_have_url(re.compile(r"/accounts/confirm-email/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("验证")
    expect(page.get_by_role("main")).to_contain_text("验证邮件")
    expect(page.get_by_role("status")).to_contain_text(EMAIL)
    user = User.objects.get(email=EMAIL)
    assert (user.real_name, user.audience.code, user.language) == (
        "张伟",
        "civil_servant",
        "zh-hans",
    )

    # The message went through the outbox row, then to the delivery backend.
    (message,) = wait_for_mail(1)
    outgoing = OutgoingEmail.objects.get(to=[EMAIL])
    assert outgoing.status == OutgoingEmail.Status.SENT
    assert message.to == [EMAIL]
    assert "确认" in message.subject
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", message.body)
    assert link, message.body
    assert link.group(0).startswith(live_site.url)

    # Opening the link asks for a confirmation; it does not confirm on GET.
    page.goto(link.group(0))
    expect(page.get_by_role("main")).to_contain_text(EMAIL)
    page.get_by_role("main").get_by_role("button", name="确认").click()

    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    expect(page.get_by_role("status")).to_contain_text("已确认")
    field(page, "电子邮件").fill(EMAIL)
    field(page, "密码").fill(PASSWORD)
    page.get_by_role("main").get_by_role("button", name="登录").click()

    # Signing in ends on My learning; the profile is one link away.
    expect(page).to_have_url(re.compile(r"/learning/$"))
    page.goto("/accounts/profile/")
    expect(page.get_by_role("heading", level=1)).to_have_text("个人资料")
    expect(page.get_by_role("main")).to_contain_text(EMAIL)
    expect(field(page, "真实姓名")).to_have_value("张伟")
    account_nav = page.get_by_role("navigation", name="账号")
    expect(account_nav.get_by_role("link", name="张伟")).to_be_visible()

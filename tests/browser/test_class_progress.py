"""A training manager in a real browser: signs in with a password and a TOTP
code, opens the class's progress from the Reports menu, shows who needs
attention, and grants a stuck trainee one more quiz attempt with a reason;
axe-core clean before and after. The labels are matched in Chinese or in
English (a msgid not yet in the compiled catalogue shows in English)."""

import re

import pytest
from playwright.sync_api import expect

from django.contrib.auth.models import Group, Permission

from courses import services
from courses.models import QuizAttemptGrant
from tests.browser.helpers import assert_no_serious_axe_violations, sign_in_with_code
from tests.courses import test_class_progress
from tests.factories import UserFactory, activate_totp

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

# 李娜 is stuck at 专利测验 (2 of 2 attempts, 30 and 50); 王芳 has not started.
world = test_class_progress.world


def either(zh: str, en: str) -> re.Pattern:
    return re.compile(f"{re.escape(zh)}|{re.escape(en)}")


@pytest.fixture
def manager_secret() -> tuple[str, str]:
    group = Group.objects.create(name="培训管理员")
    group.permissions.set(
        Permission.objects.filter(
            codename__in=[
                "access_admin",
                "view_enrolment",
                "view_certificate",
                "add_quizattemptgrant",
            ]
        )
    )
    user = UserFactory(email="peixun@example.org", real_name="陈敏")
    user.groups.add(group)
    return user.email, activate_totp(user)


def test_a_manager_sees_who_is_stuck_and_grants_an_attempt(
    page, world, manager_secret, screenshot
):
    email, secret = manager_secret
    sign_in_with_code(page, email, secret)

    # Reports › Class progress › the class.
    page.goto("/admin/")
    page.get_by_role("button", name="报告").click()
    page.get_by_role("link", name=either("培训班学习进度", "Class progress")).click()
    page.get_by_role("link", name="2027春季班").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(
        either("培训班学习进度", "Class progress")
    )

    # Who needs attention: 李娜 (attempts used up, inactive) and 王芳.
    page.locator("select[name=show]").select_option("stuck")
    page.locator("form[method=get] button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"show=stuck"))
    members = page.locator("tbody.class-progress__member")
    expect(members).to_have_count(2)
    expect(members.nth(0)).to_contain_text("李娜")
    expect(members.nth(0)).to_contain_text(either("测验次数已用完", "used up"))
    expect(members.nth(1)).to_contain_text("王芳")
    expect(members.nth(1)).to_contain_text(either("尚未开始", "Not started"))
    expect(page.get_by_role("main")).not_to_contain_text("张伟")
    screenshot(page, "manager-class-progress-stuck")
    assert_no_serious_axe_violations(page)

    # One more attempt at 专利测验 for 李娜, with the reason.
    grant = members.nth(0).locator("form.class-progress__grant")
    grant.locator("input[name=extra]").fill("1")
    grant.locator("input[name=reason]").fill("因病缺考，补考一次")
    grant.locator("button[type=submit]").click()
    expect(page.get_by_role("status")).to_contain_text("李娜")
    expect(page).to_have_url(re.compile(r"show=stuck"))
    expect(page.locator("form.class-progress__grant")).to_have_count(0)
    expect(page.get_by_role("main")).to_contain_text("因病缺考，补考一次")
    screenshot(page, "manager-class-progress-granted")
    # Without Wagtail's flash message: its white on #1c8767 is 4.45:1, just
    # under axe's 4.5 (Wagtail's own style, on every admin page with one).
    page.reload()
    expect(page.get_by_role("main")).to_contain_text("因病缺考，补考一次")
    assert_no_serious_axe_violations(page)

    grant_row = QuizAttemptGrant.objects.get()
    assert grant_row.reason == "因病缺考，补考一次"
    attempt = services.quiz_attempt_start(
        user=world["people"]["李娜"], lesson=world["test"], quiz_key=world["quiz_key"]
    )
    assert attempt.number == 3

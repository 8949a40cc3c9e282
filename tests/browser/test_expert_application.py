"""A signed-in user applies to join the talent pool in a real browser; a
reviewer (signed in with a TOTP code) asks for changes in the admin; the
applicant reads the reason, corrects and sends again; the reviewer approves;
the expert is then found on /talent/. axe-core on every page visited.

The applicant's pages are visited in English (/en/...) and the reviewer's
admin is set to English, so that the test reads the labels this feature
added whether or not their Chinese translations are compiled yet."""

import re

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from playwright.sync_api import expect

from wagtail.users.models import UserProfile

from talentpool.models import Expert, ExpertApplication
from tests.browser.helpers import assert_no_serious_axe_violations, field
from tests.browser.test_certificate_admin import totp_code
from tests.factories import StaffFactory, UserFactory
from tests.talentpool.helpers import talent_page

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PASSWORD = "correct horse battery staple"
NAME = "欧阳明轩"


@pytest.fixture
def talent(live_site, home):  # type: ignore[no-untyped-def]
    return talent_page(home)


@pytest.fixture
def applicant():  # type: ignore[no-untyped-def]
    return UserFactory(email="ouyang@example.org", real_name=NAME)


@pytest.fixture
def reviewer() -> tuple[str, str]:
    staff = StaffFactory(email="shenhe@example.org", real_name="审核员", mfa=False)
    profile = UserProfile.get_for_user(staff)
    profile.preferred_language = "en"
    profile.save()
    secret = generate_totp_secret()
    TOTP.activate(staff, secret)
    return staff.email, secret


def sign_in(tab, email: str) -> None:  # type: ignore[no-untyped-def]
    tab.goto("/accounts/login/")
    field(tab, "电子邮件").fill(email)
    field(tab, "密码").fill(PASSWORD)
    tab.get_by_role("main").get_by_role("button", name="登录").click()


def decide(tab, decision: str, reason: str = "") -> None:  # type: ignore[no-untyped-def]
    """On the review queue: open the application and record a decision."""
    tab.goto("/admin/talentpool/applications/")
    tab.get_by_role("link", name=NAME).click()
    expect(tab.get_by_role("main")).to_contain_text("Proposed profile")
    assert_no_serious_axe_violations(tab)
    tab.get_by_label(decision, exact=True).check()
    if reason:
        tab.get_by_label("Reason").fill(reason)
    tab.get_by_role("button", name="Record the decision").click()
    expect(tab).to_have_url(re.compile(r"/admin/talentpool/applications/$"))


def test_apply_review_correct_approve_and_be_found(
    new_page, talent, applicant, reviewer, screenshot
):
    # The applicant fills the form: profile, a qualification, the consent.
    tab = new_page()
    sign_in(tab, applicant.email)
    tab.goto("/en/expert/apply/")
    expect(tab.get_by_label("Name")).to_have_value(NAME)
    tab.get_by_label("Patent attorney", exact=True).check()
    tab.get_by_label("Patents", exact=True).check()
    tab.get_by_label("Filing and prosecution").check()
    tab.get_by_label("Organisation").fill("重庆某某专利代理事务所")
    tab.get_by_label("Years of practice").fill("9")
    qualification = tab.get_by_role("group", name="Qualification 1")
    qualification.get_by_label("Category").select_option(label="Patent attorney")
    qualification.get_by_label("Licence number").fill("50012019000123")
    consent = tab.get_by_label("I agree that my public profile is published.")
    expect(consent).not_to_be_checked()
    assert_no_serious_axe_violations(tab)
    # A malformed e-mail address: a clear message, nothing sent.
    tab.get_by_label("E-mail").fill("ouyang@")
    consent.check()
    tab.get_by_role("button", name="Send my application").click()
    expect(tab.get_by_role("alert").first).to_contain_text("nothing was saved")
    assert not ExpertApplication.objects.exists()
    tab.get_by_label("E-mail").fill("ouyang@example.cn")
    tab.get_by_role("button", name="Send my application").click()
    expect(tab).to_have_url(re.compile(r"/en/expert/application/$"))
    expect(tab.get_by_role("main")).to_contain_text("Waiting for review")
    assert_no_serious_axe_violations(tab)
    screenshot(tab, "expert-application-submitted")

    # The reviewer asks for changes, with a reason.
    admin = new_page()
    email, secret = reviewer
    sign_in(admin, email)
    expect(admin).to_have_url(re.compile(r"/accounts/2fa/authenticate/$"))
    admin.locator("input[name=code]").fill(totp_code(secret))
    admin.get_by_role("main").get_by_role("button", name="登录").click()
    decide(admin, "Request changes", "请填写执业证的发证机关。")

    # The applicant reads the reason, corrects and sends again.
    tab.goto("/en/expert/application/")
    expect(tab.get_by_role("main")).to_contain_text("请填写执业证的发证机关。")
    assert_no_serious_axe_violations(tab)
    tab.get_by_role("link", name="Correct and send again").click()
    expect(tab.get_by_label("Licence number").first).to_have_value("50012019000123")
    tab.get_by_label("Issued by").first.fill("国家知识产权局")
    assert_no_serious_axe_violations(tab)
    tab.get_by_role("button", name="Send the corrected application").click()
    expect(tab.get_by_role("main")).to_contain_text("Waiting for review")

    # The reviewer approves; the expert is listed.
    decide(admin, "Approve")
    expert = Expert.objects.get(user=applicant)
    assert expert.qualifications.get().issued_by == "国家知识产权局"

    visitor = new_page()
    visitor.goto("/talent/")
    link = visitor.get_by_role("link", name=NAME)
    expect(link).to_be_visible()
    assert_no_serious_axe_violations(visitor)
    link.click()
    expect(visitor.get_by_role("heading", level=1)).to_have_text(NAME)
    expect(visitor.get_by_role("main")).to_contain_text("50012019000123")

    # The applicant's own page now says the profile is published.
    tab.goto("/en/expert/profile/")
    expect(tab.get_by_role("main")).to_contain_text("Your profile is published.")
    assert_no_serious_axe_violations(tab)
    screenshot(tab, "expert-profile")

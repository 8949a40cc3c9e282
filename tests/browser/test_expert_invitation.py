"""Reaching an expert without an account, in a real browser (issue 15, parts
3 and 4): an imported expert is invited, opens the link in the e-mail, signs
in (the link is carried through the sign-in), checks the profile, confirms it
and consents, and the public profile then says the expert can be contacted;
and an expert who never signs in answers a contact request from the link in
its e-mail. axe-core finds no serious or critical problem on the pages
visited.

The new pages are visited in English (/en/): their Chinese labels come with
the translation catalogue."""

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from django.utils import timezone

from talentpool.invitations.services import invite_experts
from talentpool.models import ContactRequest, Expert, ExpertConsent
from tests.browser.helpers import (
    FACTORY_PASSWORD,
    assert_no_serious_axe_violations,
    delivered_to,
)
from tests.factories import StaffFactory, UserFactory
from tests.talentpool.factories import EnterpriseFactory, ExpertFactory
from tests.talentpool.helpers import listed_expert, talent_page

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

EXPERT_ADDRESS = "wu.min.private@example.cn"
NEED = "我们需要一位熟悉商标许可的专家，审阅一份许可合同。"


def english_link(body: str, pattern: str) -> str:
    """The path of the English link of a bilingual e-mail."""
    links = [urlsplit(url).path for url in re.findall(pattern, body)]
    (english,) = [link for link in links if link.startswith("/en/")]
    return english


def test_an_invited_expert_claims_the_profile_and_becomes_contactable(
    new_page, live_site, home
):
    talent_page(home)
    now = timezone.now()
    expert = ExpertFactory(
        name="吴敏",
        email=EXPERT_ADDRESS,
        verification_status=Expert.Verification.VERIFIED,
        verified_at=now - timedelta(days=30),
    )
    UserFactory(email="wumin@example.org", real_name="吴敏")
    invite_experts(expert_ids=[expert.pk], by=StaffFactory(mfa=False))
    (invitation,) = delivered_to(EXPERT_ADDRESS)
    link = english_link(
        invitation.body, r"https?://\S+/contacts/invitations/claim/\S+/"
    )

    tab = new_page()
    tab.goto(link)
    expect(
        tab.get_by_role("heading", name="Claim your profile in the talent pool")
    ).to_be_visible()
    assert EXPERT_ADDRESS not in tab.content()  # not before signing in
    assert_no_serious_axe_violations(tab)

    # Sign in: the link comes back as `next`.
    tab.get_by_role("main").get_by_role("link", name="Sign in").click()
    tab.wait_for_url(re.compile(r"/accounts/login/\?next="))
    tab.locator('input[name="login"]').fill("wumin@example.org")
    tab.locator('input[name="password"]').fill(FACTORY_PASSWORD)
    tab.get_by_role("main").locator('button[type="submit"]').click()
    tab.wait_for_url(re.compile(re.escape(link) + "$"))

    # The expert checks the profile (the private part too) and claims it.
    expect(tab.get_by_text(EXPERT_ADDRESS)).to_be_visible()
    assert_no_serious_axe_violations(tab)
    tab.get_by_role("button", name="Claim my profile").click()
    # Refused until the profile is confirmed correct.
    expect(
        tab.get_by_text("Confirm that the profile is yours and correct to claim it.")
    ).to_be_visible()
    assert Expert.objects.get(pk=expert.pk).user is None
    tab.get_by_label(
        "I have checked this profile: it is mine and it is correct."
    ).check()
    tab.locator('input[name="consent"]').check()
    tab.get_by_role("button", name="Claim my profile").click()
    tab.wait_for_url(re.compile(r"/en/expert/profile/$"))
    expect(tab.get_by_text("Your profile is linked to your account")).to_be_visible()

    expert.refresh_from_db()
    assert expert.user is not None and expert.user.email == "wumin@example.org"
    assert ExpertConsent.objects.get(expert=expert).method == "online"
    assert Expert.objects.listed().reachable().filter(pk=expert.pk).exists()

    # The public profile now says so, and offers the request.
    visitor = new_page()
    visitor.goto(f"/en/talent/experts/{expert.pk}/")
    expect(visitor.get_by_text("Can be contacted through the portal")).to_be_visible()
    expect(visitor.get_by_role("link", name="Request contact")).to_be_visible()
    assert EXPERT_ADDRESS not in visitor.content()
    assert_no_serious_axe_violations(visitor)


def test_an_expert_without_an_account_answers_from_the_email(new_page, live_site):
    expert = listed_expert(name="单敏", email=EXPERT_ADDRESS)
    enterprise = EnterpriseFactory(name="重庆山城科技有限公司")
    from talentpool.contacts.services import contact_request_send

    request = contact_request_send(
        user=enterprise.registered_by, expert=expert, need=NEED
    )
    (message,) = delivered_to(EXPERT_ADDRESS)
    link = english_link(message.body, r"https?://\S+/contacts/requests/\d+/answer/\S+/")

    tab = new_page()
    tab.goto(link)
    expect(tab.get_by_text(NEED)).to_be_visible()
    expect(tab.get_by_role("link", name="Claim my profile")).to_be_visible()
    assert_no_serious_axe_violations(tab)
    tab.get_by_label(
        "I declare that I have no conflict of interest with this enterprise in "
        "this matter."
    ).check()
    tab.get_by_role("button", name="Accept the request").click()
    expect(tab.get_by_text("You accepted the request.")).to_be_visible()
    assert_no_serious_axe_violations(tab)
    request.refresh_from_db()
    assert request.status == ContactRequest.Status.ACCEPTED
    assert request.no_conflict_declared_at is not None


def test_staff_confirm_the_invitations_from_the_expert_listing(page, home):
    """The bulk action opens the confirmation (how many invited, how many
    skipped); confirming sends the e-mails. axe-core checks the page."""
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    from tests.browser.helpers import field
    from tests.browser.test_training_manager import PASSWORD, totp_code
    from tests.talentpool.test_invitations import in_english

    staff = StaffFactory(email="rencai@example.org", real_name="周静", mfa=False)
    in_english(staff)
    secret = generate_totp_secret()
    TOTP.activate(staff, secret)
    invited = ExpertFactory(name="吴敏", email=EXPERT_ADDRESS)
    claimed = ExpertFactory(name="已认领", user=UserFactory())
    page.goto("/admin/")
    field(page, "电子邮件").fill(staff.email)
    field(page, "密码").fill(PASSWORD)
    page.get_by_role("main").get_by_role("button", name="登录").click()
    expect(page).to_have_url(re.compile(r"/accounts/2fa/authenticate/$"))
    page.locator("input[name=code]").fill(totp_code(secret))
    page.get_by_role("main").get_by_role("button", name="登录").click()
    expect(page).to_have_url(re.compile(r"/admin/$"))

    page.goto(
        f"/admin/bulk/talentpool/expert/invite/?id={invited.pk}&id={claimed.pk}"
        "&next=/admin/snippets/talentpool/expert/"
    )
    expect(page).to_have_url(re.compile(r"/admin/talent-pool/invite/\?"))
    main = page.get_by_role("main")
    expect(main).to_contain_text("1 expert will be invited")
    expect(main).to_contain_text("1 already claimed")
    assert_no_serious_axe_violations(page)
    main.get_by_role("button", name="Send the invitations").click()
    expect(page).to_have_url(re.compile(r"/admin/snippets/talentpool/expert/"))
    (invitation,) = delivered_to(EXPERT_ADDRESS)
    assert "/contacts/invitations/claim/" in invitation.body
    assert Expert.objects.get(pk=invited.pk).invited_at is not None
    assert Expert.objects.get(pk=claimed.pk).invited_at is None

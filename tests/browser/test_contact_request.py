"""Contact with consent, in a real browser: a verified enterprise's user finds
an expert on the talent search and sends a contact request; the expert's
e-mail and phone are on no page; the expert signs in, sees the request and
accepts it, declaring no conflict of interest; only then does each side see
the other's contact details, and the disclosure log and the outbox have the
rows. axe-core finds no serious or critical problem on the pages visited.

The pages of this feature are visited in English (/en/): their Chinese
labels come with the translation catalogue; the search, profile and sign-in
pages are checked in Chinese too."""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from django.utils import timezone

from talentpool.models import ContactDisclosure, ContactRequest
from tests.browser.helpers import (
    assert_no_serious_axe_violations,
    delivered_to,
    field,
    sign_in,
)
from tests.factories import UserFactory
from tests.talentpool.factories import EnterpriseFactory
from tests.talentpool.helpers import listed_expert, talent_page

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

EXPERT_EMAIL = "zengwei.private@example.cn"
EXPERT_PHONE = "13900001111"
ENTERPRISE_EMAIL = "wang@shancheng.example"
ENTERPRISE_PHONE = "023-6700 8888"
NEED = "我们需要一位熟悉集成电路布图设计的专利代理师，评估新产品的侵权风险。"


@pytest.fixture
def people(live_site, home):  # type: ignore[no-untyped-def]
    from talentpool.search import experts_reindex

    talent_page(home)
    expert = listed_expert(
        name="曾伟",
        categories=["patent_attorney"],
        ip_types=["patent", "ic_layout"],
        industries=["integrated_circuits"],
        organisation="重庆某某专利代理事务所",
        biography="从事集成电路领域专利代理十二年。",
        email=EXPERT_EMAIL,
        phone=EXPERT_PHONE,
        user=UserFactory(email="zengwei@example.org", real_name="曾伟"),
    )
    enterprise = EnterpriseFactory(
        name="重庆山城科技有限公司",
        contact_name="王经理",
        contact_email=ENTERPRISE_EMAIL,
        contact_phone=ENTERPRISE_PHONE,
        registered_by=UserFactory(email="wang@example.org", real_name="王芳"),
    )
    experts_reindex()
    return {"expert": expert, "enterprise": enterprise}


def assert_expert_details_hidden(tab) -> None:  # type: ignore[no-untyped-def]
    html = tab.content()
    assert EXPERT_EMAIL not in html
    assert EXPERT_PHONE not in html


def test_an_enterprise_and_an_expert_get_in_touch_with_consent(
    new_page, people, screenshot
):
    expert, enterprise = people["expert"], people["enterprise"]

    # The enterprise's user finds the expert on the talent search.
    company = new_page()
    sign_in(company, "wang@example.org")
    company.goto("/talent/")
    field(company, "搜索专家").fill("集成电路 专利代理")
    company.get_by_role("search", name="搜索人才库").get_by_role(
        "button", name="搜索"
    ).click()
    company.wait_for_url(re.compile(r"/talent/\?q="))
    assert_expert_details_hidden(company)
    company.get_by_role("link", name="曾伟").click()
    company.wait_for_url(re.compile(rf"/talent/experts/{expert.pk}/$"))
    assert_expert_details_hidden(company)
    screenshot(company, "contact-profile")
    assert_no_serious_axe_violations(company)

    # In English, the profile offers to request contact.
    company.goto(f"/en/talent/experts/{expert.pk}/")
    assert_expert_details_hidden(company)
    assert_no_serious_axe_violations(company)
    company.get_by_role("link", name="Request contact").click()
    company.wait_for_url(re.compile(rf"/en/contacts/experts/{expert.pk}/request/$"))
    expect(
        company.get_by_role("heading", name="Request contact with 曾伟", level=1)
    ).to_be_visible()
    assert_expert_details_hidden(company)
    assert_no_serious_axe_violations(company)

    # A date in the past is refused with a message; nothing is sent.
    field(company, "What your enterprise needs").fill(NEED)
    company.get_by_label("IP type").select_option(
        label="Integrated circuit layout designs"
    )
    yesterday = timezone.localdate() - timedelta(days=1)
    field(company, "Answer needed by").fill(yesterday.isoformat())
    company.get_by_role("button", name="Send the request").click()
    expect(company.get_by_text("The date to answer by is in the past.")).to_be_visible()
    assert not ContactRequest.objects.exists()
    assert_no_serious_axe_violations(company)

    deadline = timezone.localdate() + timedelta(days=7)
    field(company, "Answer needed by").fill(deadline.isoformat())
    company.get_by_role("button", name="Send the request").click()
    company.wait_for_url(re.compile(r"/en/contacts/sent/$"))
    expect(company.get_by_text("Your request was sent to 曾伟.")).to_be_visible()
    expect(company.get_by_text("Waiting for the expert")).to_be_visible()
    assert_expert_details_hidden(company)
    screenshot(company, "contact-request-sent")
    assert_no_serious_axe_violations(company)
    request = ContactRequest.objects.get()
    assert request.deadline == deadline

    # The expert is e-mailed; the message has no contact details.
    (to_expert,) = delivered_to("zengwei@example.org")
    assert "重庆山城科技有限公司" in to_expert.subject
    assert ENTERPRISE_EMAIL not in to_expert.body
    assert ENTERPRISE_PHONE not in to_expert.body

    # The expert signs in and sees the request, without the enterprise's details.
    person = new_page()
    sign_in(person, "zengwei@example.org")
    person.goto("/en/contacts/received/")
    entry = person.locator(f"#request-{request.pk}")
    expect(entry).to_contain_text(NEED)
    expect(entry).to_contain_text("重庆山城科技有限公司")
    assert ENTERPRISE_EMAIL not in person.content()
    assert ENTERPRISE_PHONE not in person.content()
    assert_no_serious_axe_violations(person)

    # Accepting needs the declaration (the browser keeps the form until ticked).
    entry.get_by_label(
        "I declare that I have no conflict of interest with this enterprise in "
        "this matter."
    ).check()
    entry.get_by_role("button", name=re.compile(r"^Accept")).click()
    person.wait_for_url(re.compile(r"/en/contacts/received/"))
    expect(person.get_by_text("You accepted the request.")).to_be_visible()
    details = person.locator(f"#request-{request.pk} .contact-details")
    expect(details).to_contain_text(ENTERPRISE_EMAIL)
    expect(details).to_contain_text(ENTERPRISE_PHONE)
    expect(details).to_contain_text("王经理")
    screenshot(person, "contact-request-accepted")
    assert_no_serious_axe_violations(person)

    # Now the enterprise sees the expert's e-mail and phone.
    company.goto("/en/contacts/sent/")
    details = company.locator(f"#request-{request.pk} .contact-details")
    expect(details).to_contain_text(EXPERT_EMAIL)
    expect(details).to_contain_text(EXPERT_PHONE)
    assert_no_serious_axe_violations(company)
    # ...and still not on the public profile.
    company.goto(f"/talent/experts/{expert.pk}/")
    assert_expert_details_hidden(company)

    request.refresh_from_db()
    assert request.status == ContactRequest.Status.ACCEPTED
    assert request.no_conflict_declared_at is not None
    log = list(ContactDisclosure.objects.order_by("pk"))
    assert [(row.subject, row.viewer.email, row.request_id) for row in log] == [
        ("enterprise", "zengwei@example.org", request.pk),
        ("expert", "wang@example.org", request.pk),
    ]
    (to_enterprise,) = delivered_to("wang@example.org")
    assert "曾伟" in to_enterprise.subject
    assert EXPERT_EMAIL not in to_enterprise.body
    assert enterprise.members.count() == 1


def test_a_user_without_a_verified_enterprise_is_told_why(new_page, people):
    expert = people["expert"]
    UserFactory(email="visitor@example.org")
    tab = new_page()
    sign_in(tab, "visitor@example.org")
    tab.goto(f"/en/talent/experts/{expert.pk}/")
    expect(
        tab.get_by_text("Only verified enterprises can send contact requests.")
    ).to_be_visible()
    expect(tab.get_by_role("link", name="Request contact")).to_have_count(0)
    tab.get_by_role("link", name="Register your enterprise").click()
    tab.wait_for_url(re.compile(r"/en/contacts/enterprise/$"))
    assert_no_serious_axe_violations(tab)
    field(tab, "Name of the enterprise").fill("重庆某新公司")
    field(tab, "Unified social credit code").fill("91500000123456789X")
    field(tab, "Contact person").fill("赵")
    field(tab, "Contact e-mail").fill("zhao@example.org")
    tab.get_by_role("button", name="Register the enterprise").click()
    expect(tab.get_by_text(re.compile("GB 32100-2015"))).to_be_visible()
    assert_no_serious_axe_violations(tab)

"""A checker opens a certificate's verification page (as from its QR code) and
the look-up form, in Chinese: the state is said in words, and axe-core finds
no serious or critical problem."""

import re

import pytest
from playwright.sync_api import expect

from courses.certificates import services
from tests.browser.helpers import assert_no_serious_axe_violations, field
from tests.courses.factories import CertificateRequestFactory
from tests.factories import UserFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def certificate(live_site):
    request = CertificateRequestFactory(
        user=UserFactory(real_name="李堃"), title="专利信息检索与利用"
    )
    return services.certificate_issue(request_id=request.pk, render=False)[0]


def test_the_verification_page_says_valid_and_passes_axe(page, certificate, screenshot):
    page.goto(f"/certificates/verify/{certificate.code}/")
    state = page.get_by_role("heading", name="状态：有效")
    expect(state).to_be_visible()
    main = page.get_by_role("main")
    expect(main).to_contain_text("李堃")
    expect(main).to_contain_text(certificate.serial)
    screenshot(page, "certificate-verify")
    assert_no_serious_axe_violations(page)


def test_the_revoked_page_and_a_failed_look_up_pass_axe(page, certificate, screenshot):
    services.certificate_revoke(
        certificate_id=certificate.pk, reason="学时有误", by=None
    )
    page.goto(f"/certificates/verify/{certificate.code}/")
    expect(page.get_by_role("heading", name="状态：已撤销")).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text("学时有误")
    assert_no_serious_axe_violations(page)

    page.goto("/certificates/verify/")
    field(page, "证书编号").fill(certificate.serial)
    field(page, "证书上的姓名").fill("李昆")
    page.get_by_role("main").get_by_role("button", name="查验").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "没有与该证书编号和姓名相符的证书"
    )
    screenshot(page, "certificate-lookup-error")
    assert_no_serious_axe_violations(page)

    field(page, "证书上的姓名").fill("李堃")
    page.get_by_role("main").get_by_role("button", name="查验").click()
    page.wait_for_url(
        re.compile(rf"/certificates/verify/{re.escape(certificate.code)}/$")
    )
    expect(page.get_by_role("heading", name="状态：已撤销")).to_be_visible()

"""Issue 4's "done when", in a real browser and in Chinese: 李堃 completes a
course, finds the certificate on My learning and in the e-mail, opens the
link printed under the QR code and sees Valid; an administrator revokes it
and the same link says Revoked, with the reason; axe-core on each public page.
"""

import re
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from playwright.sync_api import expect

from django.core import mail
from django.urls import reverse

from courses.models import Certificate
from portal.models import User
from tests.browser.helpers import (
    assert_no_serious_axe_violations,
    field,
    sign_up_and_sign_in,
)
from tests.browser.test_certificate_admin import totp_code
from tests.courses.factories import (
    CourseIndexPageFactory,
    CoursePageFactory,
    LessonPageFactory,
    paragraph,
)
from tests.courses.reading import read_for_the_minimum_time
from tests.factories import StaffFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def pdf_text(data: bytes) -> str:
    return subprocess.run(
        ["pdftotext", "-", "-"], input=data, capture_output=True, check=True
    ).stdout.decode()


@pytest.fixture
def course(home):
    catalogue = CourseIndexPageFactory(parent=home, show_in_menus=True)
    course = CoursePageFactory(parent=catalogue, slug="ip-basics", title="知识产权基础")
    LessonPageFactory(
        parent=course,
        slug="reading",
        title="第一课 什么是知识产权",
        body=[paragraph("知识产权是权利人对其智力劳动成果所享有的专有权利。" * 6)],
    )
    return course


def test_a_certificate_from_completion_to_revocation(page, course):
    sign_up_and_sign_in(
        page, email="li.kun@example.org", password="Zhishi-Chanquan-2027", name="李堃"
    )
    page.goto("/courses/ip-basics/")
    page.get_by_role("button", name="报名参加本课程").click()
    expect(page).to_have_url(re.compile(r"/courses/ip-basics/reading/$"))
    # The learner spends the lesson's minimum reading time on it first.
    read_for_the_minimum_time(
        User.objects.get(email="li.kun@example.org"),
        course.get_children().get(slug="reading").specific,
    )
    page.reload()
    page.get_by_role("button", name="标记为已完成").click()
    expect(page.get_by_text("课时已完成。")).to_be_visible()

    # My learning lists the certificate once the worker (eager here) made it.
    certificate = Certificate.objects.get(user__email="li.kun@example.org")
    page.goto("/learning/")
    assert_no_serious_axe_violations(page)
    certificates = page.locator("#certificates").locator("..")
    expect(certificates).to_contain_text(certificate.serial)
    with page.expect_download() as download:
        certificates.get_by_role("link", name=re.compile("下载 PDF")).click()
    downloaded = Path(download.value.path()).read_bytes()
    assert "李堃" in pdf_text(downloaded)

    # The e-mail carries the same PDF; the link under its QR code verifies it.
    message = [m for m in mail.outbox if m.to == ["li.kun@example.org"]][-1]
    name, attached, kind = message.attachments[0]
    assert (name, kind) == (f"{certificate.serial}.pdf", "application/pdf")
    text = pdf_text(attached)
    assert "李堃" in text and "知识产权基础" in text
    # The link may wrap over lines under the QR code.
    printed = re.search(
        r"https?://[\w.:-]+/certificates/verify/[\w-]+/", re.sub(r"\s", "", text)
    )
    link = urlsplit(printed.group(0)).path
    assert link == reverse("certificates:verify", args=[certificate.code])
    page.goto(link)
    expect(page.get_by_role("heading", name="状态：有效")).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text("李堃")
    assert_no_serious_axe_violations(page)

    # An administrator revokes it in the admin.
    page.get_by_role("button", name="退出").click()
    admin = StaffFactory(email="admin@example.org", mfa=False)
    secret = generate_totp_secret()
    TOTP.activate(admin, secret)
    page.goto("/admin/")
    field(page, "电子邮件").fill(admin.email)
    field(page, "密码").fill("correct horse battery staple")
    page.get_by_role("main").get_by_role("button", name="登录").click()
    page.locator("input[name=code]").fill(totp_code(secret))
    page.get_by_role("main").get_by_role("button", name="登录").click()
    expect(page).to_have_url(re.compile(r"/admin/$"))
    page.goto(reverse("certificate_admin:revoke", args=[certificate.pk]))
    page.locator("textarea[name=reason]").fill("培训记录核查有误")
    page.get_by_role("button", name="撤销证书").click()

    # The same link now says Revoked, with the reason.
    page.goto(link)
    expect(page.get_by_role("heading", name="状态：已撤销")).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text("培训记录核查有误")
    assert_no_serious_axe_violations(page)

"""An auditor's question answered in a real browser: a training manager
signs in with a code, opens a certificate in the admin, follows its link to
the evidence, reads the lessons, videos and attempts, prints it (no sidebar
or buttons on paper) and downloads the CSV; axe-core on the page."""

import re

import pytest
from playwright.sync_api import expect

from django.urls import reverse

from tests.browser.helpers import assert_no_serious_axe_violations, sign_in_with_code
from tests.courses.test_evidence import MANAGER_PERMISSIONS, completion, staff
from tests.factories import activate_totp

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

__all__ = ["completion"]  # the fixture, from the view's own tests


def test_a_manager_reads_prints_and_downloads_a_certificates_evidence(
    page, completion, screenshot
):
    auditor = staff(*MANAGER_PERMISSIONS, mfa=False, email="shenji@example.org")
    secret = activate_totp(auditor)
    certificate = completion["certificate"]
    evidence_url = reverse("courses_evidence:certificate", args=(certificate.pk,))
    sign_in_with_code(page, auditor.email, secret)

    page.goto(reverse("certificate_admin:inspect", args=(certificate.pk,)))
    page.locator(f'a[href="{evidence_url}"]').first.click()
    expect(page).to_have_url(re.compile(re.escape(evidence_url) + "$"))

    expect(page.get_by_role("heading", level=1)).to_contain_text("张晓明")
    main = page.get_by_role("main")
    lessons = main.get_by_role("table").filter(has_text="第一课 检索基础").first
    expect(lessons).to_contain_text("2027年4月20日 09:00:05")
    videos = main.get_by_role("table").filter(has_text="0–300, 310–560")
    row = videos.get_by_role("row").filter(has_text="专利导航概述")
    expect(row).to_contain_text("550")
    expect(row).to_contain_text("600")
    attempts = main.get_by_role("table").filter(has_text="33.3")
    expect(attempts).to_contain_text("100.0")
    # Every table says what it holds.
    assert main.locator("table > caption").count() >= 7
    screenshot(page, "evidence")
    assert_no_serious_axe_violations(page)

    # On paper: the record only.
    page.emulate_media(media="print")
    expect(page.locator("#wagtail-sidebar")).to_be_hidden()
    expect(page.locator('a[href="?export=csv"]')).to_be_hidden()
    expect(lessons).to_be_visible()
    page.emulate_media(media="screen")

    with page.expect_download() as download:
        page.locator('a[href="?export=csv"]').click()
    assert download.value.suggested_filename == f"evidence-{certificate.serial}.csv"
    text = download.value.path().read_text(encoding="utf-8-sig")
    assert "2027-04-20 09:00:05" in text and "学时记录有误" in text

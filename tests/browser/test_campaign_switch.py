"""An editor schedules a campaign page's go-live in the Wagtail admin; the
beat task publishes it and the home page shows the campaign; axe-core on the
home page with the campaign.

The go-live is set a few minutes ahead in the admin, as an editor would; the
test then moves the scheduled time a second into the past in the database
rather than waiting (no timed assertions), and runs the beat task's function
itself, as beat would on its next minute."""

import datetime
import re
import time

import pytest
from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
)
from playwright.sync_api import expect

from django.utils import timezone

from wagtail.models import Revision

from events.models import CampaignPage
from portal.tasks import publish_scheduled_pages
from tests.browser.helpers import assert_no_serious_axe_violations, field
from tests.events.factories import CampaignPageFactory
from tests.factories import StaffFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PASSWORD = "correct horse battery staple"
TITLE = "4·26 知识产权宣传周"


def totp_code(secret: str) -> str:
    period = mfa_settings.TOTP_PERIOD
    if period - time.time() % period < 3:
        time.sleep(period - time.time() % period + 0.1)
    return format_hotp_value(hotp_value(secret, int(time.time()) // period))


def test_an_editor_schedules_a_campaign_and_the_home_page_switches(page, home):
    staff = StaffFactory(email="bianji@example.org", real_name="编辑", mfa=False)
    secret = generate_totp_secret()
    TOTP.activate(staff, secret)
    now = timezone.now()
    campaign = CampaignPageFactory(
        parent=home,
        title=TITLE,
        slug="world-ip-day",
        summary="全市集中开展知识产权宣传活动。",
        starts_at=now - datetime.timedelta(hours=1),
        ends_at=now + datetime.timedelta(days=6),
        live=False,
    )

    page.goto("/admin/")
    field(page, "电子邮件").fill(staff.email)
    field(page, "密码").fill(PASSWORD)
    page.get_by_role("main").get_by_role("button", name="登录").click()
    expect(page).to_have_url(re.compile(r"/accounts/2fa/authenticate/$"))
    page.locator("input[name=code]").fill(totp_code(secret))
    page.get_by_role("main").get_by_role("button", name="登录").click()
    expect(page).to_have_url(re.compile(r"/admin/$"))

    # The go-live a few minutes ahead, then "publish": Wagtail schedules it.
    page.goto(f"/admin/pages/{campaign.pk}/edit/")
    go_live = timezone.localtime(now + datetime.timedelta(minutes=3))
    page.locator("input[name=go_live_at]").evaluate(
        "(input, value) => { input.value = value; }",
        go_live.strftime("%Y-%m-%d %H:%M"),
    )
    page.locator("button[name=action-publish]").evaluate("button => button.click()")
    expect(page).to_have_url(re.compile(r"/admin/pages/\d+/(edit/)?$"))
    campaign.refresh_from_db()
    assert not campaign.live
    revision = Revision.objects.get(
        object_id=str(campaign.pk), approved_go_live_at__isnull=False
    )

    page.goto("/")
    expect(page.get_by_role("heading", level=1)).not_to_contain_text(TITLE)

    # The time comes; beat's next tick publishes the page.
    past = timezone.now() - datetime.timedelta(seconds=1)
    revision.approved_go_live_at = past
    revision.content["go_live_at"] = past.isoformat()
    revision.save()
    publish_scheduled_pages()
    assert CampaignPage.objects.get(pk=campaign.pk).live

    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_contain_text(TITLE)
    expect(page.get_by_role("main")).to_contain_text("全市集中开展知识产权宣传活动。")
    assert_no_serious_axe_violations(page)

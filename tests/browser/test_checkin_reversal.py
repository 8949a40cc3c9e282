"""A check-in scanned by mistake, undone in a real browser: the organiser
signs in with a code, reverses the check-in with a reason, and the learner's
hours and certificate follow (the learner is e-mailed); the hours ledger shows
the reversing entry and takes an adjustment. axe-core on both pages."""

from decimal import Decimal
from unittest import mock

import pytest
from playwright.sync_api import expect

from django.contrib.auth.models import Group, Permission
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from wagtail.models import GroupPagePermission

from courses import ledger
from courses.certificates import services as certificate_services
from courses.models import Certificate, CertificateRequest
from events.checkin import services
from tests.browser.helpers import (
    assert_no_serious_axe_violations,
    field,
    sign_in_with_code,
)
from tests.events.factories import EventIndexPageFactory, EventPageFactory, shanghai
from tests.events.test_checkin import register
from tests.factories import UserFactory, activate_totp

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

REASON = "扫错了二维码"


@pytest.fixture(autouse=True)
def _during_the_event():  # type: ignore[no-untyped-def]
    """Half an hour into the event; the clock runs on (the live server runs
    in this process, so it sees the same clock)."""
    real_now = timezone.now
    offset = shanghai(2027, 4, 26, 1, 0) - real_now()
    with mock.patch("django.utils.timezone.now", lambda: real_now() + offset):
        yield


def test_an_organiser_reverses_a_check_in_and_the_hours_and_certificate_follow(
    page, home, screenshot
):
    index = EventIndexPageFactory(parent=home)
    event = EventPageFactory(
        parent=index,
        title="4·26 专利检索实务讲座",
        starts_at=shanghai(2027, 4, 26, 0, 30),
        ends_at=shanghai(2027, 4, 26, 3, 0),
        training_hours=Decimal("3.5"),
        issues_certificate=True,
    )
    organiser = UserFactory(real_name="组织者王", email="wang@example.org")
    group = Group.objects.create(name="活动组织者")
    group.permissions.add(
        Permission.objects.get(codename="access_admin"),
        *Permission.objects.filter(
            content_type__app_label="courses",
            codename__in=["view_hoursledgerentry", "add_hoursledgerentry"],
        ),
    )
    GroupPagePermission.objects.create(
        group=group,
        page=index,
        permission=Permission.objects.get(
            content_type__app_label="wagtailcore", codename="change_page"
        ),
    )
    organiser.groups.add(group)
    secret = activate_totp(organiser)
    trainee = UserFactory(real_name="赵𪚥", email="zhao@example.org")
    registration = register(event, trainee)
    services.attendance_record(code=registration.code, event_id=event.pk, by=organiser)
    request = CertificateRequest.objects.get(user=trainee)
    certificate, _created = certificate_services.certificate_issue(
        request_id=request.pk, render=False
    )
    assert ledger.hours_total(trainee) == Decimal("3.5")

    sign_in_with_code(page, organiser.email, secret)
    page.goto(reverse("events:checkin_reverse", args=(registration.pk,)))
    expect(page.get_by_role("heading", level=1)).to_have_text("撤销签到")
    expect(page.get_by_role("main")).to_contain_text("赵𪚥")
    # A reason is required: the form says so and nothing changes.
    page.get_by_role("button", name="撤销签到").click()
    expect(page.get_by_role("main")).to_contain_text("请说明撤销签到的原因。")
    assert ledger.hours_total(trainee) == Decimal("3.5")
    screenshot(page, "checkin-reverse")
    assert_no_serious_axe_violations(page)

    field(page, "为什么撤销这次签到？").fill(REASON)
    page.get_by_role("button", name="撤销签到").click()
    expect(page.locator(".messages")).to_contain_text(certificate.serial)

    assert ledger.hours_total(trainee) == 0
    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.REVOKED
    assert certificate.revoked_reason == REASON
    # Delivered (the outbox keeps no body once sent): the learner is told why.
    told = [m for m in mail.outbox if trainee.email in m.to]
    assert told and REASON in told[-1].body

    # The ledger shows what happened, with the reason, and takes a correction.
    page.goto(reverse("courses_ledger:learner", args=(trainee.pk,)))
    entries = page.get_by_role("table")
    expect(entries).to_contain_text("冲销")
    expect(entries).to_contain_text(REASON)
    screenshot(page, "hours-ledger-learner")
    assert_no_serious_axe_violations(page)

    adjustment = page.get_by_role("region", name="添加调整").or_(
        page.locator("section[aria-labelledby=ledger-adjust]")
    )
    adjustment.get_by_label("学时", exact=False).fill("1.5")
    adjustment.get_by_label("原因", exact=False).fill("补录线下培训（纸质签到表）")
    page.get_by_role("button", name="添加调整").click()
    expect(page.get_by_role("table")).to_contain_text("补录线下培训")
    assert ledger.hours_total(trainee) == Decimal("1.5")

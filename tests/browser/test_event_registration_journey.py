"""Issue 6, "done when", in a real browser and in Chinese: a trainee registers
for an event, gets the e-mail with the QR code, is checked in from a
phone-sized browser through the QR's link, sees the hours on My learning, and
has a certificate after the organiser's bulk run; axe-core on each page."""

import datetime
import re
from decimal import Decimal

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from playwright.sync_api import expect

from django.contrib.auth.models import Group, Permission
from django.urls import reverse
from django.utils import timezone

from wagtail.models import GroupPagePermission

from courses.models import Certificate, HoursLedgerEntry
from events.models import Registration
from tests.browser.helpers import (
    FACTORY_PASSWORD,
    assert_no_serious_axe_violations,
    delivered_to,
    field,
    sign_in,
    sign_in_with_code,
)
from tests.browser.test_certificate_admin import totp_code
from tests.events.factories import EventIndexPageFactory, EventPageFactory
from tests.factories import StaffFactory, UserFactory, activate_totp

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PHONE = {"width": 390, "height": 844}
TITLE = "4·26 商标保护实务培训"


@pytest.fixture
def event(home):  # type: ignore[no-untyped-def]
    index = EventIndexPageFactory(parent=home)
    return EventPageFactory(
        parent=index,
        title=TITLE,
        # Starts soon: registration is still open and check-in (from an
        # hour before the start) already is.
        starts_at=timezone.now() + datetime.timedelta(minutes=30),
        ends_at=timezone.now() + datetime.timedelta(hours=3),
        capacity=30,
        training_hours=Decimal("3.0"),
        issues_certificate=True,
    )


@pytest.fixture
def door_staff(event):  # type: ignore[no-untyped-def]
    """Checks people in: may edit the event's page, nothing else."""
    user = UserFactory(email="menkou@example.org", real_name="签到员周")
    group = Group.objects.create(name="活动签到")
    GroupPagePermission.objects.create(
        group=group,
        page=event.get_parent(),
        permission=Permission.objects.get(
            content_type__app_label="wagtailcore", codename="change_page"
        ),
    )
    user.groups.add(group)
    # Staff powers need a second factor, door staff's too.
    return user, activate_totp(user)


@pytest.fixture
def organiser():  # type: ignore[no-untyped-def]
    """Runs the bulk certificate runs, in the admin, with an authenticator."""
    staff = StaffFactory(email="zuzhi@example.org", real_name="组织者陈", mfa=False)
    secret = generate_totp_secret()
    TOTP.activate(staff, secret)
    return staff, secret


def test_register_check_in_on_a_phone_hours_and_certificate(
    new_page, event, door_staff, organiser, screenshot
):
    trainee = UserFactory(email="li.kun@example.org", real_name="李堃")

    # The trainee registers on the event page.
    tab = new_page()
    sign_in(tab, trainee.email)
    tab.goto(event.url)
    assert_no_serious_axe_violations(tab)
    tab.get_by_role("main").get_by_role("button", name="报名", exact=True).click()
    registration = Registration.objects.get(user=trainee)
    assert registration.status == Registration.Status.CONFIRMED
    tab.goto(event.url)
    expect(tab.get_by_role("main")).to_contain_text("您已报名成功")

    # The confirmation e-mail: the event's calendar file and the QR code.
    (email,) = delivered_to(trainee.email)
    assert TITLE in email.subject
    names = [attachment[0] for attachment in email.attachments]
    assert any(name.endswith(".ics") for name in names), names
    assert any(name.endswith(".png") for name in names), names
    assert registration.code in email.body

    # The registration's own page shows the QR code, whose link is the
    # check-in page with the code.
    tab.get_by_role("link", name="我的报名与签到二维码").click()
    expect(tab.locator("svg").first).to_be_visible()
    assert_no_serious_axe_violations(tab)

    # At the door: the QR's link opened on a phone, confirmed by the staff.
    phone = new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    door, door_secret = door_staff
    sign_in_with_code(phone, door.email, door_secret)
    phone.goto(f"/events/check-in/?code={registration.code}")
    expect(phone.get_by_role("main")).to_contain_text("李堃")
    assert_no_serious_axe_violations(phone)
    registration.refresh_from_db()
    assert registration.checked_in_at is None  # nothing on opening the link
    phone.locator("[data-checkin-form] button[type=submit]").click()
    expect(phone.get_by_role("status").filter(has_text="李堃")).to_contain_text(TITLE)
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(phone, "event-qr-check-in-phone")
    assert HoursLedgerEntry.objects.get(user=trainee).hours == Decimal("3.0")

    # My learning: the hours, with the event's title.
    tab.goto("/learning/")
    hours = tab.get_by_role("region", name="培训学时")
    expect(hours).to_contain_text(TITLE)
    expect(hours).to_contain_text("3.0")
    assert not Certificate.objects.exists()  # the organiser's run issues it

    # The organiser's bulk run for the event's attendees, in the admin.
    staff, secret = organiser
    admin = new_page()
    admin.goto("/admin/")
    field(admin, "电子邮件").fill(staff.email)
    field(admin, "密码").fill(FACTORY_PASSWORD)
    admin.get_by_role("main").get_by_role("button", name="登录").click()
    expect(admin).to_have_url(re.compile(r"/accounts/2fa/authenticate/$"))
    admin.locator("input[name=code]").fill(totp_code(secret))
    admin.get_by_role("main").get_by_role("button", name="登录").click()
    expect(admin).to_have_url(re.compile(r"/admin/$"))
    # The event's 活动证书 button in the page tree leads here.
    admin.goto(reverse("certificate_batches:add") + f"?source=event:{event.pk}")
    expect(admin.get_by_role("main")).to_contain_text(TITLE)
    admin.get_by_role("main").get_by_role("button", name="开始批量发证").click()
    expect(admin).to_have_url(re.compile(r"/admin/certificate_batches/inspect/\d+/$"))
    expect(admin.get_by_role("status").filter(has_text="已完成")).to_contain_text(
        "1 / 1"
    )
    certificate = Certificate.objects.get(user=trainee)
    assert certificate.title == TITLE

    # The trainee's certificate on My learning.
    tab.goto("/learning/")
    certificates = tab.get_by_role("region", name="证书")
    expect(certificates).to_contain_text(TITLE)
    expect(certificates).to_contain_text(certificate.serial)
    assert_no_serious_axe_violations(tab)

"""Check-in at the door on a phone (issue 17): an organiser signs in on a
phone-sized tab, checks in a code read aloud in lower case, loses the network
and scans on (the scan waits in the phone and is sent when the network comes
back, once even if sent twice), finds someone by name and confirms, and
registers a walk-in. Nothing covers the page (no Wagtail userbar), the camera
button is at the bottom within thumb reach; axe-core finds nothing serious.
The vendored QR decoder reads the portal's own QR codes."""

import base64
import datetime
from decimal import Decimal
from unittest import mock

import pytest
from playwright.sync_api import expect

from django.contrib.auth.models import Group, Permission
from django.urls import reverse
from django.utils import timezone

from wagtail.models import GroupPagePermission

from courses.models import HoursLedgerEntry
from events.models import Registration
from events.registration.qr import registration_qr_png
from tests.browser.helpers import (
    assert_no_serious_axe_violations,
    sign_in_with_code,
)
from tests.events.factories import EventIndexPageFactory, EventPageFactory, shanghai
from tests.events.test_checkin import register
from tests.factories import UserFactory, activate_totp

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PHONE = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 2,
}


@pytest.fixture(autouse=True)
def _during_the_event():  # type: ignore[no-untyped-def]
    real_now = timezone.now
    offset = shanghai(2027, 4, 26, 0, 20) - real_now()
    with mock.patch("django.utils.timezone.now", lambda: real_now() + offset):
        yield


def person(event, name, code, phone=""):  # type: ignore[no-untyped-def]
    registration = register(event, UserFactory(real_name=name))
    Registration.objects.filter(pk=registration.pk).update(code=code, phone=phone)
    return Registration.objects.get(pk=registration.pk)


def test_a_phone_at_the_door_checks_in_by_code_offline_by_name_and_walk_ins(
    new_page, home, screenshot
):
    index = EventIndexPageFactory(parent=home)
    event = EventPageFactory(
        parent=index,
        title="4·26 专利检索实务讲座",
        starts_at=shanghai(2027, 4, 26, 0, 30),
        ends_at=shanghai(2027, 4, 26, 3, 0),
        training_hours=Decimal("2"),
        capacity=4,
    )
    organiser = UserFactory(real_name="组织者王", email="wang@example.org")
    group = Group.objects.create(name="活动组织者")
    GroupPagePermission.objects.create(
        group=group,
        page=index,
        permission=Permission.objects.get(
            content_type__app_label="wagtailcore", codename="change_page"
        ),
    )
    organiser.groups.add(group)
    organiser.is_superuser = False
    organiser.save()
    secret = activate_totp(organiser)
    first = person(event, "钱一", "K1QM0XPA")
    second = person(event, "孙二", "K7QM3XPB")
    third = person(event, "李三", "K7QM3XPC", phone="13812345678")

    tab = new_page(**PHONE)
    sign_in_with_code(tab, organiser.email, secret)
    tab.goto(reverse("events:checkin_event", args=[event.pk]))

    # Nothing covers the page; the camera button is at the bottom, in reach.
    assert tab.locator("wagtail-userbar, .w-userbar").count() == 0
    scan = tab.locator("[data-checkin-scan]")
    expect(scan).to_be_visible()
    box = scan.bounding_box()
    assert box is not None
    assert box["height"] >= 48 and box["width"] >= 300
    assert box["y"] + box["height"] <= 844 and box["y"] > 844 * 2 / 3
    screenshot(tab, "checkin-door-phone")
    assert_no_serious_axe_violations(tab)

    code = tab.locator("[data-checkin-form] input[name=code]")
    submit = tab.locator("[data-checkin-form] button[type=submit]")
    result = tab.locator("[data-checkin-result]")

    # A code read aloud: lower case, grouped, look-alikes.
    code.fill("k-lqm oxpa")
    submit.click()
    expect(result).to_contain_text("钱一")
    expect(tab.locator("[data-checkin-count]")).to_contain_text("1")
    first.refresh_from_db()
    assert first.checked_in_by == organiser

    # The network drops: the scan waits on the phone with its time.
    tab.context.set_offline(True)
    scanned = timezone.now()
    code.fill("K7QM-3XPB")
    submit.click()
    queue = tab.locator("[data-checkin-queue]")
    expect(queue).to_be_visible()
    expect(queue).to_contain_text("1")
    second.refresh_from_db()
    assert second.checked_in_at is None
    tab.context.set_offline(False)
    # Its answer on the queue's line: the result line answers the next person.
    expect(queue).to_contain_text("孙二", timeout=15_000)
    expect(queue).not_to_contain_text("待发送")
    second.refresh_from_db()
    assert second.checked_in_at is not None
    assert abs(second.checked_in_at - scanned) < datetime.timedelta(seconds=5)

    # Sent again (its answer lost): already checked in, nothing new.
    tab.evaluate(
        """(key) => {
            localStorage.setItem(key, JSON.stringify(
                [{code: "K7QM3XPB", scanned_at: new Date().toISOString()}]));
            window.dispatchEvent(new Event("online"));
        }""",
        tab.locator("[data-checkin]").get_attribute("data-queue-key"),
    )
    expect(queue).to_contain_text("不再重复记录", timeout=15_000)  # already
    expect(queue).not_to_contain_text("待发送")
    assert HoursLedgerEntry.objects.filter(user=second.user).count() == 1

    # No code with them: found by phone, picked, confirmed.
    tab.locator("[data-checkin-search] input[name=q]").fill("5678")
    tab.locator("[data-checkin-search] button[type=submit]").click()
    tab.get_by_role("button", name="选择 李三").click()
    tab.locator(".checkin__picked button").click()
    expect(result).to_contain_text("李三")
    third.refresh_from_db()
    assert third.checked_in_by == organiser

    # A walk-in, within the places (4: three registered, one left).
    walkin = tab.locator("[data-checkin-walkin]")
    walkin.locator("input[name=name]").fill("周四")
    walkin.locator("input[name=phone]").fill("13900001111")
    walkin.locator("button[type=submit]").click()
    expect(result).to_contain_text("周四")
    walkin.locator("input[name=name]").fill("吴五")
    walkin.locator("input[name=phone]").fill("13900002222")
    walkin.locator("button[type=submit]").click()
    expect(result).to_contain_text("4")  # full: all 4 places are taken
    assert Registration.objects.filter(walk_in=True).count() == 1
    assert HoursLedgerEntry.objects.count() == 4
    screenshot(tab, "checkin-door-after")
    assert_no_serious_axe_violations(tab)


def test_the_vendored_decoder_reads_the_portals_qr_codes(new_page, home):
    index = EventIndexPageFactory(parent=home)
    event = EventPageFactory(parent=index, title="讲座")
    registration = person(event, "钱一", "K1QM0XPA")
    from io import BytesIO

    from PIL import Image

    image = Image.open(BytesIO(registration_qr_png(registration))).convert("RGBA")
    rgba = base64.b64encode(image.tobytes()).decode()
    tab = new_page(**PHONE)
    tab.goto("/")
    tab.add_script_tag(url="/static/events/vendor/jsqr/jsQR.js")
    text = tab.evaluate(
        """([rgba, width, height]) => {
            const bytes = Uint8ClampedArray.from(atob(rgba), (c) => c.charCodeAt(0));
            const code = window.jsQR(bytes, width, height);
            return code ? code.data : "";
        }""",
        [rgba, image.width, image.height],
    )
    assert text.endswith("/events/check-in/?code=K1QM-0XPA")

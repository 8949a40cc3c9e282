"""Check-in at the door with three phones (issue 17, found by
benchmarks.checkin_phones): the answer to the person in front of the phone
is the one the staff member reads.

- On a slow network, while one code is being sent, the staff member types
  the next person's code: when the first answer comes, that code stays in
  the field (it used to be emptied, and the next person was silently not
  checked in), and is checked in with the next tap.
- When the network comes back, the scans kept on the phone are answered on
  the queue's own line: they no longer replace, on the result line, the
  answer to the person now in front of the phone (a refusal could go
  unread). On a small phone scrolled down to the field, that answer is
  brought into sight, above the camera bar."""

from unittest import mock

import pytest
from playwright.sync_api import expect

from django.urls import reverse
from django.utils import timezone

from events.models import Registration
from tests.browser.helpers import sign_in_with_code
from tests.browser.test_checkin_door import PHONE, person
from tests.events.factories import EventIndexPageFactory, EventPageFactory, shanghai
from tests.factories import StaffFactory, activate_totp

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture(autouse=True)
def _during_the_event():
    real_now = timezone.now
    offset = shanghai(2027, 4, 26, 0, 20) - real_now()
    with mock.patch("django.utils.timezone.now", lambda: real_now() + offset):
        yield


def test_the_next_code_typed_while_one_is_sent_is_kept(new_page, home):
    index = EventIndexPageFactory(parent=home)
    event = EventPageFactory(
        parent=index,
        title="4·26 专利检索实务讲座",
        starts_at=shanghai(2027, 4, 26, 0, 30),
        ends_at=shanghai(2027, 4, 26, 3, 0),
    )
    staff = StaffFactory(real_name="门口工作人员", mfa=False)
    secret = activate_totp(staff)
    first = person(event, "钱一", "K1QM0XPA")
    second = person(event, "孙二", "K7QM3XPB")

    tab = new_page(**PHONE)
    sign_in_with_code(tab, staff.email, secret)
    station = reverse("events:checkin_event", args=[event.pk])
    tab.goto(station)
    code = tab.locator("[data-checkin-form] input[name=code]")
    submit = tab.locator("[data-checkin-form] button[type=submit]")
    result = tab.locator("[data-checkin-result]")

    # The network is slow: the first check-in is held on its way.
    held = []
    tab.route(
        f"**{station}",
        lambda route: (
            held.append(route) if route.request.method == "POST" else route.continue_()
        ),
    )
    code.fill("K1QM-0XPA")
    submit.tap()
    expect(result).to_contain_text("签到")  # "Checking in…"
    expect(submit).to_be_disabled()
    code.fill("k7qm-3xpb")  # the next person reads theirs aloud
    held[0].continue_()
    expect(result).to_contain_text("钱一")
    tab.unroute(f"**{station}")

    expect(code).to_have_value("k7qm-3xpb")
    expect(submit).to_be_enabled()
    submit.tap()
    expect(result).to_contain_text("孙二")
    expect(code).to_have_value("")
    assert (
        Registration.objects.filter(
            pk__in=[first.pk, second.pk], checked_in_at__isnull=False
        ).count()
        == 2
    )


SMALL_PHONE = {
    "viewport": {"width": 320, "height": 568},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 2,
}


def test_the_queue_answers_on_its_own_line_and_the_answer_is_in_sight(new_page, home):
    index = EventIndexPageFactory(parent=home)
    event = EventPageFactory(
        parent=index,
        title="4·26 专利检索实务讲座：企业知识产权管理与专利导航",
        starts_at=shanghai(2027, 4, 26, 0, 30),
        ends_at=shanghai(2027, 4, 26, 3, 0),
    )
    staff = StaffFactory(real_name="门口工作人员", mfa=False)
    secret = activate_totp(staff)
    first = person(event, "钱一", "K1QM0XPA")
    person(event, "孙二", "K7QM3XPB")

    tab = new_page(**SMALL_PHONE)
    sign_in_with_code(tab, staff.email, secret)
    station = reverse("events:checkin_event", args=[event.pk])
    tab.goto(station)
    code = tab.locator("[data-checkin-form] input[name=code]")
    result = tab.locator("[data-checkin-result]")
    queue = tab.locator("[data-checkin-queue]")

    tab.context.set_offline(True)
    code.fill("K1QM-0XPA")
    code.press("Enter")
    expect(queue).to_contain_text("1")

    # Back online: the queued scan is on its way (held) when the next person
    # steps up, on a phone scrolled down to the field.
    held = []
    tab.route(
        f"**{station}",
        lambda route: (
            held.append(route)
            if "scanned_at" in (route.request.post_data or "")
            else route.continue_()
        ),
    )
    tab.context.set_offline(False)
    for _ in range(150):
        if held:
            break
        tab.wait_for_timeout(100)
    assert held, "the queued scan was not sent when the network came back"
    tab.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    code.fill("k7qm-3xpb")
    code.press("Enter")
    expect(result).to_contain_text("孙二")
    held[0].continue_()
    expect(queue).to_contain_text("钱一")
    expect(result).to_contain_text("孙二")
    expect(result).not_to_contain_text("钱一")
    first.refresh_from_db()
    assert first.checked_in_at is not None

    box = result.bounding_box()
    bar = tab.locator("[data-checkin-bar]").bounding_box()
    assert box is not None and bar is not None
    assert box["y"] >= 0 and box["y"] + box["height"] <= bar["y"]

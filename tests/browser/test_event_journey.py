"""An event's attendance in a real browser: an organiser checks a registrant
in from a phone-sized screen by typing the code, then the trainee sees the
hours on My learning; axe-core on each page.

The registration is made with the model (the registration part's pages are
tested on their own). The selectors avoid the check-in page's own wording,
which is translated separately, so the test holds before and after the
Chinese translations are merged.
"""

import datetime
import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from django.contrib.auth.models import Group, Permission
from django.utils import timezone

from wagtail.models import GroupPagePermission

from courses.models import HoursLedgerEntry
from events.models import Registration
from tests.browser.helpers import (
    assert_no_serious_axe_violations,
    sign_in,
    sign_in_with_code,
)
from tests.events.factories import EventIndexPageFactory, EventPageFactory
from tests.factories import UserFactory, activate_totp

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PHONE = {"width": 390, "height": 844}
TITLE = "4·26 专利检索实务讲座"


@pytest.fixture
def event(home):  # type: ignore[no-untyped-def]
    index = EventIndexPageFactory(parent=home)
    return EventPageFactory(
        parent=index,
        title=TITLE,
        # Check-in opens an hour before the start: it is open now.
        starts_at=timezone.now() + datetime.timedelta(minutes=30),
        ends_at=timezone.now() + datetime.timedelta(hours=3),
        training_hours=Decimal("2.5"),
        issues_certificate=True,
    )


@pytest.fixture
def organiser(event):  # type: ignore[no-untyped-def]
    """May edit the event's page in Wagtail, hence check its attendees in."""
    user = UserFactory(email="organiser@example.org", real_name="组织者王")
    group = Group.objects.create(name="活动组织者")
    GroupPagePermission.objects.create(
        group=group,
        page=event.get_parent(),
        permission=Permission.objects.get(
            content_type__app_label="wagtailcore", codename="change_page"
        ),
    )
    user.groups.add(group)
    # Staff powers need a second factor: the organiser has an authenticator.
    user.totp_secret = activate_totp(user)
    return user


@pytest.fixture
def registration(event):  # type: ignore[no-untyped-def]
    trainee = UserFactory(email="li.kun@example.org", real_name="李堃")
    return Registration.objects.create(
        event=event,
        event_title=event.title,
        event_starts_at=event.starts_at,
        user=trainee,
        status=Registration.Status.CONFIRMED,
        confirmed_at=timezone.now(),
    )


def test_an_organiser_checks_a_registrant_in_on_a_phone_and_the_hours_show(
    new_page, event, organiser, registration, screenshot
):
    phone = new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    sign_in_with_code(phone, organiser.email, organiser.totp_secret)
    phone.goto("/events/check-in/")
    assert_no_serious_axe_violations(phone)
    phone.get_by_role("link", name=TITLE).click()
    expect(phone).to_have_url(re.compile(rf"/events/check-in/{event.pk}/$"))
    count = phone.locator("[data-checkin-count]")
    expect(count).to_contain_text(re.compile(r"0\D+1"))
    assert_no_serious_axe_violations(phone)

    # Nothing wider than the phone: no sideways scrolling at the door.
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"]

    code = phone.locator("input[name=code]")
    code.fill(registration.code)
    phone.locator("[data-checkin-form] button[type=submit]").click()
    status = phone.get_by_role("status").filter(has_text="李堃")
    expect(status).to_contain_text(TITLE)
    expect(status).to_contain_text("2.5")
    expect(count).to_contain_text(re.compile(r"1\D+1"))
    expect(code).to_have_value("")  # ready for the next one
    expect(code).to_be_focused()
    registration.refresh_from_db()
    assert registration.checked_in_by == organiser
    assert_no_serious_axe_violations(phone)
    screenshot(phone, "event-check-in-phone")

    # The same code again: refused, nothing doubled.
    code.fill(registration.code)
    phone.locator("[data-checkin-form] button[type=submit]").click()
    expect(phone.locator(".checkin__result--refused")).to_contain_text("李堃")
    assert HoursLedgerEntry.objects.count() == 1

    # The trainee sees the hours, with the event's title, on My learning.
    trainee = new_page()
    sign_in(trainee, registration.user.email)
    trainee.goto("/learning/")
    main = trainee.get_by_role("main")
    expect(main).to_contain_text("2.5")
    expect(main).to_contain_text(TITLE)
    assert_no_serious_axe_violations(trainee)


def test_the_typed_form_works_without_javascript(
    new_page, event, organiser, registration
):
    phone = new_page(viewport=PHONE, java_script_enabled=False)
    sign_in_with_code(phone, organiser.email, organiser.totp_secret)
    # The registration's QR link: the code is filled in, nothing is recorded
    # until the organiser confirms.
    phone.goto(f"/events/check-in/?code={registration.code}")
    expect(phone.locator("input[name=code]")).to_have_value(registration.code)
    expect(phone.get_by_role("main")).to_contain_text("李堃")
    registration.refresh_from_db()
    assert registration.checked_in_at is None
    phone.locator("[data-checkin-form] button[type=submit]").click()
    expect(phone).to_have_url(re.compile(rf"/events/check-in/{event.pk}/$"))
    expect(phone.get_by_role("status").filter(has_text="李堃")).to_contain_text(TITLE)
    registration.refresh_from_db()
    assert registration.checked_in_at is not None
    # Scanning needs the script: without it the camera button stays hidden.
    expect(phone.locator("[data-checkin-scan]")).to_be_hidden()

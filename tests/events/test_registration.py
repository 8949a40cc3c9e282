"""Registering for events: places, the waiting list and its automatic
promotion, every refusal with its message and nothing written, the e-mails
(with the .ics and the QR code, in the recipient's language), the pages a
trainee uses (the event's panel, My registrations, a registration with its
QR code), the reminder the day before, and the organisers' XLSX export."""

import base64
import datetime
import io
import subprocess

import openpyxl
import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

from django.contrib.auth.models import Group, Permission
from django.contrib.messages import get_messages
from django.db import connection
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import formats, timezone, translation

from wagtail.models import GroupPagePermission, PageLogEntry
from wagtail.users.models import UserProfile

from events.models import Registration
from events.registration import qr, services
from events.registration.tasks import send_event_reminders
from portal.exports import LOG_EXPORTED
from portal.models import OutgoingEmail
from tests.events.factories import EventIndexPageFactory, EventPageFactory
from tests.factories import StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

Status = Registration.Status
HOUR = datetime.timedelta(hours=1)
DAY = datetime.timedelta(days=1)


@pytest.fixture
def index(home):  # type: ignore[no-untyped-def]
    return EventIndexPageFactory(parent=home)


@pytest.fixture
def event(index):  # type: ignore[no-untyped-def]
    return EventPageFactory(
        parent=index, slug="lecture", title="专利检索讲座", capacity=2
    )


def register(event, user=None, **user_fields) -> Registration:  # type: ignore[no-untyped-def]
    return services.registration_create(
        user=user or UserFactory(**user_fields), event=event
    )


def written() -> tuple[int, int, list]:  # type: ignore[type-arg]
    """What a refused call must leave as it was."""
    return (
        Registration.objects.count(),
        OutgoingEmail.objects.count(),
        list(Registration.objects.values_list("pk", "status").order_by("pk")),
    )


def attachments(email: OutgoingEmail) -> dict[str, tuple[str, bytes]]:
    return {
        a["filename"]: (a["mimetype"], base64.b64decode(a["content"]))
        for a in email.attachments
    }


def flash(response) -> list[str]:  # type: ignore[no-untyped-def]
    """The messages the next page shows (those of earlier requests not shown
    yet, then this one's)."""
    return [str(m) for m in get_messages(response.wsgi_request)]


# --- registering ---


def test_confirmed_while_places_last_then_waiting(event):
    first, second = register(event), register(event)
    third = register(event)
    assert [first.status, second.status] == [Status.CONFIRMED, Status.CONFIRMED]
    assert first.confirmed_at is not None and first.waiting_since is None
    assert third.status == Status.WAITING
    assert third.waiting_since is not None and third.confirmed_at is None
    # The record outlives the page: title and start copied in.
    assert third.event_title == "专利检索讲座"
    assert third.event_starts_at == event.starts_at
    assert len({first.code, second.code, third.code}) == 3


def test_no_limit_confirms_everyone(index):
    event = EventPageFactory(parent=index, slug="open", capacity=None)
    assert {register(event).status for _ in range(5)} == {Status.CONFIRMED}


def test_confirmation_email_has_the_ics_and_qr_code_in_the_users_language(event):
    registration = register(event, email="li@example.org", language="en")
    email = OutgoingEmail.objects.get()
    assert email.to == ["li@example.org"]
    assert email.subject == "Registration confirmed: 专利检索讲座"
    assert registration.code in email.body
    with translation.override("en"):
        assert f"When: {event.when_display}" in email.body
    assert "Where: 重庆市知识产权局报告厅" in email.body
    assert "http://testserver/en/events/lecture/" in email.body
    assert "http://testserver/en/events/registrations/" in email.body
    files = attachments(email)
    mimetype, ics = files["event.ics"]
    assert mimetype == "text/calendar; method=REQUEST"
    assert b"BEGIN:VEVENT" in ics
    assert "SUMMARY:专利检索讲座" in ics.decode()
    mimetype, png = files["check-in-qr-code.png"]
    assert mimetype == "image/png"
    assert png == qr.registration_qr_png(registration)


def test_confirmation_email_in_chinese(event):
    register(event, language="zh-hans")
    email = OutgoingEmail.objects.get()
    assert email.subject == "报名成功：专利检索讲座"
    assert "http://testserver/events/registrations/" in email.body


def test_waiting_list_email_has_no_calendar_entry_nor_qr_code(event):
    register(event), register(event)
    OutgoingEmail.objects.all().delete()
    register(event, language="en")
    email = OutgoingEmail.objects.get()
    assert email.subject == "On the waiting list: 专利检索讲座"
    # No place yet: no calendar entry (promotion sends it).
    assert attachments(email) == {}


def refused(event, user, message: str) -> None:  # type: ignore[no-untyped-def]
    before = written()
    with translation.override("en"), pytest.raises(services.RegistrationError) as error:
        services.registration_create(user=user, event=event)
    assert str(error.value) == message
    assert written() == before


def test_full_without_waiting_list_is_refused(event):
    event.waiting_list = False
    event.save()
    register(event), register(event)
    refused(event, UserFactory(), "This event is full and has no waiting list.")


def test_event_without_registration_is_refused(event):
    event.registration_required = False
    event.save()
    refused(event, UserFactory(), "This event does not take registrations.")


def test_registration_not_open_yet_is_refused(event):
    event.registration_opens_at = timezone.now() + DAY
    event.save()
    with translation.override("en"):
        when = formats.date_format(
            timezone.localtime(event.registration_opens_at), "DATETIME_FORMAT"
        )
    refused(event, UserFactory(), f"Registration opens on {when}.")


def test_registration_closed_is_refused(event):
    event.registration_closes_at = timezone.now() - HOUR
    event.registration_opens_at = timezone.now() - 3 * DAY
    event.save()
    refused(event, UserFactory(), "Registration for this event has closed.")


def test_registration_closes_when_the_event_starts(event):
    event.starts_at = timezone.now() - HOUR
    event.save()
    refused(event, UserFactory(), "Registration for this event has closed.")


def test_unpublished_event_is_refused(event):
    event.unpublish()
    refused(event, UserFactory(), "This event does not exist.")


def test_registering_twice_is_refused(event):
    user = UserFactory()
    register(event, user)
    refused(event, user, "You are already registered for this event.")


def test_joining_the_waiting_list_twice_is_refused(event):
    register(event), register(event)
    user = UserFactory()
    assert register(event, user).status == Status.WAITING
    refused(event, user, "You are already on the waiting list for this event.")


def test_a_double_that_passes_the_check_is_stopped_by_the_constraint(
    event, monkeypatch
):
    """Two requests of one user at once: the second's check may run before
    the first commits; the partial unique constraint then refuses it."""
    user = UserFactory()
    register(event, user)
    monkeypatch.setattr(services, "ACTIVE", ())  # the check sees nothing
    refused(event, user, "You are already registered for this event.")


def test_registering_again_after_cancelling(event):
    user = UserFactory()
    first = register(event, user)
    services.registration_cancel(user=user, registration_id=first.pk)
    second = register(event, user)
    assert second.status == Status.CONFIRMED
    assert second.code != first.code


# --- cancelling and the waiting list ---


def test_cancelling_a_place_promotes_the_first_waiting(event):
    holder, other = register(event), register(event)
    first = register(event, language="en")
    second = register(event)
    OutgoingEmail.objects.all().delete()
    # The waiting list's order is waiting_since, then id.
    Registration.objects.filter(pk=second.pk).update(
        waiting_since=first.waiting_since - HOUR
    )

    cancelled = services.registration_cancel(
        user=holder.user, registration_id=holder.pk
    )

    assert cancelled.status == Status.CANCELLED and cancelled.cancelled_at
    statuses = dict(Registration.objects.values_list("pk", "status"))
    assert statuses == {
        holder.pk: Status.CANCELLED,
        other.pk: Status.CONFIRMED,
        first.pk: Status.WAITING,
        second.pk: Status.CONFIRMED,
    }
    promoted = Registration.objects.get(pk=second.pk)
    assert promoted.confirmed_at is not None
    email = OutgoingEmail.objects.get()
    assert email.to == [second.user.email]
    assert email.subject == "有空位了：您已确认参加 专利检索讲座"
    assert set(attachments(email)) == {"event.ics", "check-in-qr-code.png"}


def test_promotion_email_in_english(event):
    holder = register(event)
    register(event)
    waiting = register(event, language="en")
    OutgoingEmail.objects.all().delete()
    services.registration_cancel(user=holder.user, registration_id=holder.pk)
    email = OutgoingEmail.objects.get()
    assert email.to == [waiting.user.email]
    assert email.subject == ("A place became free: you are confirmed for 专利检索讲座")
    assert waiting.code in email.body


def test_leaving_the_waiting_list_promotes_nobody(event):
    register(event), register(event)
    first, second = register(event), register(event)
    OutgoingEmail.objects.all().delete()
    services.registration_cancel(user=first.user, registration_id=first.pk)
    assert Registration.objects.get(pk=second.pk).status == Status.WAITING
    assert not OutgoingEmail.objects.exists()


def test_more_places_published_promote_the_waiting_list(event):
    register(event), register(event)
    waiting = [register(event) for _ in range(3)]
    event.capacity = 4
    event.save()
    promoted = services.registrations_promote(event_id=event.pk)
    assert [r.pk for r in promoted] == [waiting[0].pk, waiting[1].pk]
    assert Registration.objects.get(pk=waiting[2].pk).status == Status.WAITING
    assert services.registrations_promote(event_id=event.pk) == []


def test_publishing_more_places_in_the_admin_promotes_on_commit(
    event, django_capture_on_commit_callbacks
):
    from events.registration.wagtail_hooks import promote_after_publish

    register(event), register(event)
    waiting = register(event)
    event.capacity = 3
    event.save()
    with django_capture_on_commit_callbacks(execute=True):
        promote_after_publish(None, event)
        # Nothing before the commit: the task is enqueued on it.
        assert Registration.objects.get(pk=waiting.pk).status == Status.WAITING
    assert Registration.objects.get(pk=waiting.pk).status == Status.CONFIRMED


def cancel_refused(user, registration_id: int, message: str) -> None:  # type: ignore[no-untyped-def]
    before = written()
    with translation.override("en"), pytest.raises(services.RegistrationError) as error:
        services.registration_cancel(user=user, registration_id=registration_id)
    assert str(error.value) == message
    assert written() == before


def test_cancel_refusals(event):
    registration = register(event)
    register(event), register(event)  # one more confirmed, one waiting
    cancel_refused(UserFactory(), registration.pk, "This registration does not exist.")
    cancel_refused(registration.user, 987654, "This registration does not exist.")

    Registration.objects.filter(pk=registration.pk).update(checked_in_at=timezone.now())
    cancel_refused(
        registration.user,
        registration.pk,
        "You have been checked in: this registration can no longer be cancelled.",
    )


def test_cancelling_twice_is_refused(event):
    registration = register(event)
    services.registration_cancel(
        user=registration.user, registration_id=registration.pk
    )
    cancel_refused(
        registration.user, registration.pk, "This registration is already cancelled."
    )


def test_cancelling_after_the_start_is_refused(event):
    registration = register(event)
    event.starts_at = timezone.now() - HOUR
    event.save()
    cancel_refused(
        registration.user,
        registration.pk,
        "The event has started: registrations can no longer be cancelled.",
    )


# --- the QR code ---


def test_qr_code_opens_the_check_in_page_with_the_code(event, tmp_path):
    registration = register(event)
    url = qr.registration_checkin_url(registration)
    # The code grouped as printed (K7QM-3XPA); check-in reads it either way.
    assert url == (
        f"http://testserver/events/check-in/?code={registration.code_display}"
    )
    with translation.override("en"):  # the same address in every language
        assert qr.registration_checkin_url(registration) == url
    # A phone's barcode reader (here ZBar) reads the PNG back to the address.
    (tmp_path / "qr.png").write_bytes(qr.registration_qr_png(registration))
    scanned = subprocess.run(
        ["zbarimg", "--quiet", "--raw", "qr.png"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert scanned == url
    svg = qr.registration_qr_svg(registration, title="签到二维码")
    assert svg.startswith('<svg role="img" ')
    assert "<title>签到二维码</title>" in svg


# --- the pages ---


def register_url(event) -> str:  # type: ignore[no-untyped-def]
    return reverse("events:register", args=[event.pk])


def test_register_view_confirms_and_shows_the_qr_code(client, event):
    user = UserFactory()
    client.force_login(user)
    response = client.post(register_url(event))
    registration = Registration.objects.get(user=user)
    assert response.status_code == 302
    assert response["Location"] == f"/events/registrations/{registration.code}/"
    assert flash(response) == [
        "您已报名“专利检索讲座”。包含签到二维码的确认邮件即将发出。"
    ]
    page = client.get(response["Location"]).content.decode()
    assert '<svg role="img"' in page
    assert registration.code in page
    assert reverse("events:registration_qr", args=[registration.code]) in page


def test_register_view_in_english_and_the_waiting_list(client, event):
    register(event), register(event)
    client.force_login(UserFactory())
    response = client.post(f"/en{register_url(event)}")
    assert flash(response) == [
        "“专利检索讲座” is full: you are number 1 on the waiting list. If a "
        "place becomes free, you get it automatically and we e-mail you."
    ]
    page = client.get(response["Location"]).content.decode()
    assert "<svg" not in page  # no QR code without a place
    assert "number 1 on the waiting list" in page


def test_register_view_refusal_goes_back_to_the_event(client, event):
    user = UserFactory()
    register(event, user)
    client.force_login(user)
    url = register_url(event)  # reverse() before a request leaves English active
    response = client.post(f"/en{url}")
    assert response.status_code == 302
    assert response["Location"] == event.url
    assert flash(response) == ["You are already registered for this event."]
    response = client.post(url)
    assert flash(response)[-1] == "您已报名此活动。"
    assert Registration.objects.count() == 1


def test_anonymous_is_sent_to_sign_in_and_back_to_the_event(client, event):
    response = client.post(register_url(event))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert response["Location"].endswith(f"?next={event.url}")
    assert not Registration.objects.exists()
    for url in (
        reverse("events:my_registrations"),
        reverse("events:registration_detail", args=["abc"]),
    ):
        assert client.get(url)["Location"].startswith(reverse("account_login"))


def test_bad_ids_and_codes_are_never_a_server_error(client, event):
    client.force_login(UserFactory())
    assert client.post(reverse("events:register", args=[987654])).status_code == 404
    assert client.get(register_url(event)).status_code == 405
    assert client.post("/events/register/abc/").status_code == 404
    huge = 10**30
    assert client.post(reverse("events:register", args=[huge])).status_code == 404
    # An id past the database's range is no address at all (portal.converters).
    assert (
        client.post(reverse("events:registration_cancel", args=[huge])).status_code
        == 404
    )
    response = client.post(reverse("events:registration_cancel", args=[987654]))
    assert response["Location"] == reverse("events:my_registrations")
    assert flash(response)[-1] == "此报名不存在。"
    other = register(event)  # someone else's registration
    for url in (
        reverse("events:registration_detail", args=[other.code]),
        reverse("events:registration_qr", args=[other.code]),
        reverse("events:registration_detail", args=["no-such-code"]),
    ):
        assert client.get(url).status_code == 404
    response = client.post(reverse("events:registration_cancel", args=[other.pk]))
    assert flash(response)[-1] == "此报名不存在。"
    assert Registration.objects.get(pk=other.pk).status == Status.CONFIRMED


def test_cancel_view_goes_back_to_a_safe_next(client, event):
    registration = register(event)
    my_url = reverse("events:my_registrations")
    client.force_login(registration.user)
    response = client.post(
        f"/en{reverse('events:registration_cancel', args=[registration.pk])}",
        {"next": "https://evil.example/"},
    )
    assert response["Location"] == f"/en{my_url}"
    assert flash(response) == ["Your registration for “专利检索讲座” is cancelled."]
    again = register(event, registration.user)
    translation.activate("zh-hans")
    response = client.post(
        reverse("events:registration_cancel", args=[again.pk]),
        {"next": event.url},
    )
    assert response["Location"] == event.url
    assert flash(response)[-1] == "您对“专利检索讲座”的报名已取消。"


def test_qr_png_download_for_the_owner(client, event):
    registration = register(event)
    client.force_login(registration.user)
    response = client.get(reverse("events:registration_qr", args=[registration.code]))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response.content == qr.registration_qr_png(registration)


def my_registrations(client) -> str:  # type: ignore[no-untyped-def]
    response = client.get("/en" + reverse("events:my_registrations"))
    assert response.status_code == 200
    return response.content.decode()


def test_my_registrations_lists_upcoming_and_past(client, index):
    user = UserFactory()
    soon = EventPageFactory(parent=index, slug="soon", title="即将开始的讲座")
    registration = register(soon, user)
    full = EventPageFactory(parent=index, slug="full", title="已满的培训班", capacity=1)
    register(full)
    waiting = register(full, user)
    past = EventPageFactory(parent=index, slug="past", title="上周的宣传活动")
    old = register(past, user)
    Registration.objects.filter(pk=old.pk).update(checked_in_at=timezone.now())
    past.starts_at = timezone.now() - 7 * DAY
    past.ends_at = past.starts_at + HOUR
    past.save()
    client.force_login(user)

    html = my_registrations(client)
    upcoming, past_part = html.split('id="past-title"')
    assert "即将开始的讲座" in upcoming and "已满的培训班" in upcoming
    assert "上周的宣传活动" in past_part
    assert "Waiting list" in upcoming and "Confirmed" in upcoming
    assert reverse("events:registration_detail", args=[registration.code]) in upcoming
    assert reverse("events:registration_cancel", args=[registration.pk]) in upcoming
    assert reverse("events:registration_cancel", args=[waiting.pk]) in upcoming
    # A past registration cannot be cancelled.
    assert reverse("events:registration_cancel", args=[old.pk]) not in past_part


def test_my_registrations_query_count_does_not_grow(client, index):
    user = UserFactory()
    client.force_login(user)

    def add(n: int) -> None:
        for _ in range(n):
            event = EventPageFactory(parent=index)
            register(event, user)

    def queries() -> int:
        url = reverse("events:my_registrations")
        client.get(url)  # warm caches
        with CaptureQueriesContext(connection) as context:
            assert client.get(url).status_code == 200
        return len(
            [q for q in context.captured_queries if "portal_cache" not in q["sql"]]
        )

    add(1)
    small = queries()
    add(6)
    assert queries() == small


# --- the event page's panel ---


def panel(event, user=None, language: str = "en") -> str:  # type: ignore[no-untyped-def]
    from django.contrib.auth.models import AnonymousUser

    request = RequestFactory().get(event.url)
    request.user = user or AnonymousUser()
    with translation.override(language):
        return " ".join(
            render_to_string(
                "events/includes/registration_panel.html", {"page": event}, request
            ).split()
        )


def test_panel_signed_out_offers_to_sign_in(event):
    html = panel(event)
    assert "2 places left of 2." in html
    assert "Sign in to register" in html
    assert f"{reverse('account_login')}?next=" in html
    assert "<form" not in html


def test_panel_offers_to_register_then_shows_the_status(event):
    user = UserFactory()
    html = panel(event, user)
    assert f'action="/en{register_url(event)}"' in html
    assert "csrfmiddlewaretoken" in html
    registration = register(event, user)
    html = panel(event, user)
    assert "1 place left of 2." in html
    assert "You are registered" in html
    assert reverse("events:registration_detail", args=[registration.code]) in html
    assert reverse("events:registration_cancel", args=[registration.pk]) in html
    assert f'action="/en{register_url(event)}"' not in html


def test_panel_when_full_offers_the_waiting_list(event):
    register(event), register(event)
    user = UserFactory()
    html = panel(event, user)
    assert "Full: all 2 places are taken." in html
    assert "Join the waiting list" in html
    register(event, user)
    html = panel(event, user)
    assert "You are number 1 on the waiting list." in html
    assert "Leave the waiting list" in html
    event.waiting_list = False
    event.save()
    html = panel(event, UserFactory())
    assert "This event is full and has no waiting list." in html


def test_panel_when_closed_and_in_chinese(event):
    event.registration_closes_at = timezone.now() - HOUR
    event.registration_opens_at = timezone.now() - DAY
    event.save()
    html = panel(event, UserFactory(), language="zh-hans")
    assert "报名已截止。" in html
    assert "<form" not in html


# --- the reminder the day before ---


def tomorrow_at(hour: int) -> datetime.datetime:
    day = timezone.localdate() + DAY
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


def test_reminder_goes_once_to_confirmed_registrants_of_tomorrows_events(index):
    tomorrow = EventPageFactory(
        parent=index,
        slug="tomorrow",
        title="明天的讲座",
        capacity=1,
        starts_at=tomorrow_at(14),
        ends_at=tomorrow_at(16),
    )
    later = EventPageFactory(
        parent=index,
        slug="later",
        starts_at=tomorrow_at(14) + 2 * DAY,
        ends_at=tomorrow_at(16) + 2 * DAY,
    )
    confirmed = register(tomorrow, language="en")
    register(tomorrow)  # waiting: no reminder
    cancelled = register(later)
    register(later)  # too far ahead
    OutgoingEmail.objects.all().delete()

    assert send_event_reminders.delay().get() == 1
    email = OutgoingEmail.objects.get()
    assert email.to == [confirmed.user.email]
    assert email.subject == "Reminder: 明天的讲座 is coming up"
    assert set(attachments(email)) == {"event.ics", "check-in-qr-code.png"}
    assert Registration.objects.get(pk=confirmed.pk).reminded_at is not None

    # Beat again, a retry, or one row reminded twice: nothing more is sent.
    assert send_event_reminders.delay().get() == 0
    assert services.registration_remind(registration_id=confirmed.pk) is False
    assert OutgoingEmail.objects.count() == 1
    assert Registration.objects.get(pk=cancelled.pk).reminded_at is None


def test_reminder_runs_each_morning_in_shanghai(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["events-registration-reminders"]
    assert entry["task"] == send_event_reminders.name
    assert entry["schedule"].hour == {9}
    assert settings.CELERY_TIMEZONE == "Asia/Shanghai"


# --- the organisers' export ---


def staff_with_mfa(**kwargs):  # type: ignore[no-untyped-def]
    staff = StaffFactory(**kwargs, mfa=False)
    TOTP.activate(staff, generate_totp_secret())
    return staff


def attendees_url(event) -> str:  # type: ignore[no-untyped-def]
    return reverse("events_registration_attendees", args=[event.pk])


def test_attendee_list_and_xlsx_export(client, event):
    confirmed = register(
        event, real_name="王芳", email="wang@example.org", organisation="重庆大学"
    )
    register(event)
    waiting = register(event, real_name="=HYPERLINK(1)")
    Registration.objects.filter(pk=confirmed.pk).update(checked_in_at=timezone.now())
    staff = staff_with_mfa()
    client.force_login(staff)

    page = client.get(attendees_url(event))
    assert page.status_code == 200
    assert "王芳" in page.content.decode()
    assert "下载参加者名单（XLSX）" in page.content.decode()

    profile = UserProfile.get_for_user(staff)
    profile.preferred_language = "en"
    profile.save()
    response = client.get(attendees_url(event), {"export": "xlsx"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    sheet = openpyxl.load_workbook(
        io.BytesIO(b"".join(response.streaming_content))
    ).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == (
        "Name",
        "E-mail",
        "Organisation",
        "Status",
        "Registered at",
        "Confirmed at",
        "Waiting since",
        "Checked in at",
        "Cancelled at",
        "Check-in reversed at",
        "Why the check-in was reversed",
    )
    assert len(rows) == 4
    first = rows[1]
    assert first[:4] == ("王芳", "wang@example.org", "重庆大学", "Confirmed")
    # Times as read in Shanghai, not UTC.
    registered = timezone.localtime(confirmed.created_at).replace(tzinfo=None)
    assert abs(first[4] - registered) < datetime.timedelta(seconds=1)
    assert first[7] is not None
    last = rows[3]
    assert last[0] == "=HYPERLINK(1)"  # text, never a formula
    assert last[3] == "Waiting list"
    assert last[6] is not None and waiting.waiting_since is not None


def test_attendee_list_needs_the_permission(client, event):
    register(event, email="private@example.org")
    assert client.get(attendees_url(event))["Location"].startswith(
        reverse("account_login")
    )
    staff = staff_with_mfa(is_superuser=False)
    group = Group.objects.create(name="活动组织者")
    group.permissions.add(
        Permission.objects.get(
            content_type__app_label="wagtailadmin", codename="access_admin"
        )
    )
    staff.groups.add(group)
    client.force_login(staff)
    for query in ("", "?export=xlsx"):
        response = client.get(attendees_url(event) + query)
        assert response.status_code == 302
        assert response["Location"] == reverse("wagtailadmin_home")

    group.permissions.add(
        Permission.objects.get(
            content_type__app_label="events", codename="view_registration"
        )
    )
    staff = type(staff).objects.get(pk=staff.pk)  # no cached permissions
    client.force_login(staff)
    # The model permission alone opens no event's list
    # (tests/events/test_registration_informed.py): its page's too.
    assert client.get(attendees_url(event)).status_code == 403
    GroupPagePermission.objects.create(
        group=group,
        page=event,
        permission=Permission.objects.get(
            content_type__app_label="wagtailcore", codename="change_page"
        ),
    )
    staff = type(staff).objects.get(pk=staff.pk)
    client.force_login(staff)
    assert "private@example.org" in client.get(attendees_url(event)).content.decode()


def test_attendee_list_is_reached_from_the_event_in_the_admin(client, event):
    client.force_login(staff_with_mfa())
    edit = client.get(reverse("wagtailadmin_pages:edit", args=[event.pk]))
    assert attendees_url(event) in edit.content.decode()
    listing = client.get(reverse("wagtailadmin_explore", args=[event.get_parent().pk]))
    assert attendees_url(event) in listing.content.decode()
    for missing in (987654, 10**30):
        url = reverse("events_registration_attendees", args=[missing])
        assert client.get(url).status_code == 404


def test_the_event_page_shows_the_panel_and_registering_works(client, event):
    user = UserFactory()
    client.force_login(user)
    html = client.get(event.url).content.decode()
    assert f'action="{register_url(event)}"' in html
    response = client.post(register_url(event))
    detail = response["Location"]
    html = client.get(event.url).content.decode()
    assert "您已报名成功，名额已为您保留。" in html
    assert detail in html
    assert "剩余名额 1 个（共 2 个）。" in html


def test_each_attendee_export_is_in_the_event_history(client, event):
    register(event, email="private@example.org")
    register(event)
    staff = staff_with_mfa()
    client.force_login(staff)
    client.get(attendees_url(event))  # looking at the list is not an export
    assert not PageLogEntry.objects.filter(action=LOG_EXPORTED).exists()

    client.get(attendees_url(event), {"export": "xlsx"})
    (entry,) = PageLogEntry.objects.filter(action=LOG_EXPORTED)
    assert entry.page_id == event.pk and entry.user_id == staff.pk
    assert entry.data["rows"] == 2 and entry.data["format"] == "xlsx"
    history = client.get(reverse("wagtailadmin_pages:history", args=[event.pk]))
    assert "已导出活动报名名单（XLSX）：2 行。" in history.content.decode()


def test_a_refused_attendee_export_leaves_no_record(client, event):
    register(event, email="private@example.org")
    staff = staff_with_mfa(is_superuser=False)
    group = Group.objects.create(name="仅后台访问")
    group.permissions.add(
        Permission.objects.get(
            content_type__app_label="wagtailadmin", codename="access_admin"
        )
    )
    staff.groups.add(group)
    client.force_login(staff)
    assert client.get(attendees_url(event), {"export": "xlsx"}).status_code == 302
    assert not PageLogEntry.objects.filter(action=LOG_EXPORTED).exists()

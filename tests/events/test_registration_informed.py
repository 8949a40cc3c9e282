"""Keeping attendees informed (issue 17, part 2): a published change of time
or place e-mails the registrants an updated .ics (same UID, SEQUENCE raised,
METHOD:REQUEST), the event's cancellation a METHOD:CANCEL; staff message an
event's registrants; the attendee list's search, paging and exports; each
event's list only for its own organisers; cancelling a registration asks
first; the waiting list gets no calendar entry."""

import base64
import datetime
import io

import icalendar
import openpyxl
import pytest

from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from wagtail.models import GroupPagePermission, PageLogEntry

from events.models import EventMessage, EventPage, Registration
from events.registration import services
from portal.models import OutgoingEmail
from tests.events.factories import EventIndexPageFactory, EventPageFactory
from tests.factories import StaffFactory, UserFactory, activate_totp

pytestmark = pytest.mark.django_db

Status = Registration.Status
DAY = datetime.timedelta(days=1)


@pytest.fixture
def index(home):  # type: ignore[no-untyped-def]
    return EventIndexPageFactory(parent=home)


def new_event(index, **kwargs) -> EventPage:  # type: ignore[no-untyped-def]
    event = EventPageFactory(parent=index, **kwargs)
    # Published once in the admin: its time and place as first announced.
    event.save_revision().publish()
    return EventPage.objects.get(pk=event.pk)


@pytest.fixture
def event(index):  # type: ignore[no-untyped-def]
    return new_event(index, slug="lecture", title="专利检索讲座", capacity=1)


def register(event, **user_fields) -> Registration:  # type: ignore[no-untyped-def]
    return services.registration_create(user=UserFactory(**user_fields), event=event)


def ics_of(email: OutgoingEmail) -> icalendar.Calendar | None:
    for attachment in email.attachments:
        if attachment["filename"] == "event.ics":
            return icalendar.Calendar.from_ical(base64.b64decode(attachment["content"]))
    return None


def vevent(calendar: icalendar.Calendar) -> icalendar.Event:
    [found] = calendar.walk("VEVENT")
    return found


def publish(event: EventPage, **changes) -> EventPage:  # type: ignore[no-untyped-def]
    page = EventPage.objects.get(pk=event.pk)
    for name, value in changes.items():
        setattr(page, name, value)
    page.save_revision().publish()
    return EventPage.objects.get(pk=event.pk)


# --- a new time or place ---


def test_a_new_time_emails_confirmed_an_ics_update_and_waiting_the_news(
    event, django_capture_on_commit_callbacks
):
    confirmed = register(event, email="li@example.org", language="en")
    waiting = register(event, email="wang@example.org", language="en")
    assert waiting.status == Status.WAITING
    first = ics_of(OutgoingEmail.objects.get(to=["li@example.org"]))
    assert first is not None and str(first["method"]) == "REQUEST"
    assert vevent(first)["sequence"] == 0
    OutgoingEmail.objects.all().delete()

    later = event.starts_at + DAY
    with django_capture_on_commit_callbacks(execute=True):
        event = publish(
            event, starts_at=later, ends_at=later + datetime.timedelta(hours=2)
        )
    assert event.ical_sequence == 1

    to_confirmed = OutgoingEmail.objects.get(to=["li@example.org"])
    assert to_confirmed.subject == "Changed: 专利检索讲座 has a new time or place"
    update = ics_of(to_confirmed)
    assert update is not None
    assert str(update["method"]) == "REQUEST"
    entry = vevent(update)
    assert entry["uid"] == vermin_uid(first)
    assert entry["sequence"] == 1
    assert entry.decoded("dtstart") == later
    assert str(entry["attendee"]) == "mailto:li@example.org"
    # The waiting list hears of it, without a calendar entry (no place yet).
    to_waiting = OutgoingEmail.objects.get(to=["wang@example.org"])
    assert ics_of(to_waiting) is None
    assert "still on the waiting list" in to_waiting.body
    assert Registration.objects.get(pk=confirmed.pk).notified_sequence == 1
    # Nobody twice: the task again sends nothing.
    assert services.registrations_notify(event_id=event.pk) == 0
    assert OutgoingEmail.objects.count() == 2


def vermin_uid(calendar: icalendar.Calendar) -> str:
    return str(vevent(calendar)["uid"])


def test_a_new_venue_is_a_change_too(event, django_capture_on_commit_callbacks):
    register(event, email="li@example.org")
    OutgoingEmail.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        event = publish(event, venue="重庆市科技馆")
    assert event.ical_sequence == 1
    email = OutgoingEmail.objects.get()
    assert "LOCATION:重庆市科技馆" in base64.b64decode(
        email.attachments[0]["content"]
    ).decode().replace("\r\n ", "")


def test_only_the_text_changed_sends_nothing(event, django_capture_on_commit_callbacks):
    register(event)
    OutgoingEmail.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        event = publish(event, title="专利检索讲座（更新）", summary="新的简介")
    assert event.ical_sequence == 0
    assert not OutgoingEmail.objects.exists()


def test_the_first_publish_only_records_the_time_and_place(
    index, django_capture_on_commit_callbacks
):
    page = EventPageFactory(parent=index)
    with django_capture_on_commit_callbacks(execute=True):
        page.save_revision().publish()
    page.refresh_from_db()
    assert page.ical_sequence == 0 and page.ical_fingerprint
    assert not OutgoingEmail.objects.exists()


def test_publishing_an_older_revision_never_lowers_the_sequence(
    event, django_capture_on_commit_callbacks
):
    old = EventPage.objects.get(pk=event.pk).save_revision()
    with django_capture_on_commit_callbacks(execute=True):
        event = publish(
            event, starts_at=event.starts_at + DAY, ends_at=event.ends_at + DAY
        )
    assert event.ical_sequence == 1
    with django_capture_on_commit_callbacks(execute=True):
        old.publish()  # back to the first time: a change again
    event.refresh_from_db()
    assert event.ical_sequence == 2


def test_a_registration_after_the_change_is_not_told_of_it_again(
    event, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        event = publish(
            event, starts_at=event.starts_at + DAY, ends_at=event.ends_at + DAY
        )
    register(event)  # before the task ran: its confirmation has sequence 1
    OutgoingEmail.objects.all().delete()
    for callback in callbacks:
        callback()
    assert not OutgoingEmail.objects.exists()


# --- cancelling the event ---


def organiser(*pages, publish: bool = True, view_registration: bool = True):  # type: ignore[no-untyped-def]
    """Staff (MFA proven) who may edit (and publish) these pages, with the
    "view registration" permission."""
    staff = StaffFactory(is_superuser=False, mfa=False)
    activate_totp(staff)
    group = Group.objects.create(name=f"组织者 {staff.pk}")
    group.permissions.add(
        Permission.objects.get(
            content_type__app_label="wagtailadmin", codename="access_admin"
        )
    )
    if view_registration:
        group.permissions.add(
            Permission.objects.get(
                content_type__app_label="events", codename="view_registration"
            )
        )
    codenames = ["change_page"] + (["publish_page"] if publish else [])
    for page in pages:
        for codename in codenames:
            GroupPagePermission.objects.create(
                group=group,
                page=page,
                permission=Permission.objects.get(
                    content_type__app_label="wagtailcore", codename=codename
                ),
            )
    staff.groups.add(group)
    return staff


def cancel_url(event) -> str:  # type: ignore[no-untyped-def]
    return reverse("events_registration_cancel_event", args=[event.pk])


def test_cancelling_the_event_sends_a_cancel_to_everyone_active(
    client, event, django_capture_on_commit_callbacks
):
    register(event, email="li@example.org", language="en")
    register(event, email="wang@example.org")
    gone = register(event, email="gone@example.org")
    Registration.objects.filter(pk=gone.pk).update(status=Status.CANCELLED)
    first_uid = vermin_uid(ics_of(OutgoingEmail.objects.get(to=["li@example.org"])))
    OutgoingEmail.objects.all().delete()
    staff = organiser(event)
    client.force_login(staff)

    page = client.get(cancel_url(event)).content.decode()
    assert "2" in page  # who will be told
    assert EventPage.objects.get(pk=event.pk).cancelled_at is None  # not on a GET
    assert client.post(cancel_url(event), {"reason": ""}).status_code == 200
    assert EventPage.objects.get(pk=event.pk).cancelled_at is None

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(cancel_url(event), {"reason": "场馆检修，活动取消。"})
    assert response.status_code == 302
    event.refresh_from_db()
    assert event.cancelled_at is not None and event.ical_sequence == 1
    emails = {tuple(e.to): e for e in OutgoingEmail.objects.all()}
    assert set(emails) == {("li@example.org",), ("wang@example.org",)}
    english = emails[("li@example.org",)]
    assert english.subject == "Cancelled: 专利检索讲座"
    assert "场馆检修，活动取消。" in english.body
    for email in emails.values():
        [attachment] = email.attachments
        assert attachment["mimetype"] == "text/calendar; method=CANCEL"
        calendar = ics_of(email)
        assert calendar is not None and str(calendar["method"]) == "CANCEL"
        entry = vevent(calendar)
        assert str(entry["uid"]) == first_uid
        assert entry["sequence"] == 1
        assert str(entry["status"]) == "CANCELLED"
    (entry,) = PageLogEntry.objects.filter(action=services.LOG_CANCELLED)
    assert entry.user_id == staff.pk and entry.data["registrants"] == 2

    # The page says so; registration is closed; a second cancel is refused.
    html = client.get(event.url).content.decode()
    assert "活动已取消" in html or "This event has been cancelled." in html
    assert "场馆检修，活动取消。" in html
    with pytest.raises(services.RegistrationError):
        register(event)
    with pytest.raises(services.RegistrationError):
        services.event_cancel(event_id=event.pk, reason="again", by=staff)
    # No reminder for a cancelled event.
    assert services.registrations_remind_due(now=event.starts_at - DAY / 2) == []


def test_an_editor_who_may_not_publish_cannot_cancel_or_message(client, event):
    register(event)
    client.force_login(organiser(event, publish=False))
    assert client.get(attendees_url(event)).status_code == 200
    assert client.post(cancel_url(event), {"reason": "x"}).status_code == 403
    assert client.post(message_url(event), MESSAGE | {"send": "1"}).status_code == 403
    assert EventPage.objects.get(pk=event.pk).cancelled_at is None
    assert not EventMessage.objects.exists()


# --- messaging registrants ---


def message_url(event) -> str:  # type: ignore[no-untyped-def]
    return reverse("events_registration_message", args=[event.pk])


MESSAGE = {"audience": "all", "subject": "集合地点变更", "body": "请到二楼报告厅。"}


def test_staff_preview_then_send_a_message_in_batches(
    client, index, django_capture_on_commit_callbacks, monkeypatch
):
    event = new_event(index, capacity=3)
    people = [register(event, email=f"p{n}@example.org") for n in range(5)]
    checked_in = people[0]
    Registration.objects.filter(pk=checked_in.pk).update(checked_in_at=timezone.now())
    Registration.objects.filter(pk=people[4].pk).update(status=Status.CANCELLED)
    OutgoingEmail.objects.all().delete()
    staff = organiser(event)
    client.force_login(staff)

    assert client.get(message_url(event)).status_code == 200
    preview = client.post(message_url(event), MESSAGE | {"preview": "1"})
    assert "4" in preview.content.decode()
    assert "Send to 4 people" in preview.content.decode() or "发送给 4 人" in (
        preview.content.decode()
    )
    assert not EventMessage.objects.exists() and not OutgoingEmail.objects.exists()

    monkeypatch.setattr(services, "NOTIFY_BATCH", 3)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(message_url(event), MESSAGE | {"send": "1"})
    assert response.status_code == 302
    message = EventMessage.objects.get()
    assert message.recipients == 4 and message.finished_at is not None
    assert sorted(e.to[0] for e in OutgoingEmail.objects.all()) == [
        f"p{n}@example.org" for n in range(4)
    ]
    email = OutgoingEmail.objects.first()
    assert email.subject == "集合地点变更" and "请到二楼报告厅。" in email.body
    assert not email.attachments
    # A retried batch writes nothing again.
    assert services.event_message_batch(message_id=message.pk) is True
    assert OutgoingEmail.objects.count() == 4
    (entry,) = PageLogEntry.objects.filter(action=services.LOG_MESSAGE_SENT)
    assert entry.user_id == staff.pk and entry.data["recipients"] == 4

    OutgoingEmail.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            message_url(event), MESSAGE | {"audience": "checked_in", "send": "1"}
        )
    assert [e.to for e in OutgoingEmail.objects.all()] == [["p0@example.org"]]


def test_a_message_needs_a_post_and_recipients(client, event):
    client.force_login(organiser(event))
    # Nobody registered: refused with a message, nothing stored.
    response = client.post(message_url(event), MESSAGE | {"send": "1"})
    assert response.status_code == 200
    assert not EventMessage.objects.exists()
    # A GET with the fields sends nothing.
    register(event)
    client.get(message_url(event), MESSAGE | {"send": "1"})
    assert not EventMessage.objects.exists()


# --- the attendee list: search, paging, exports, query counts ---


def attendees_url(event) -> str:  # type: ignore[no-untyped-def]
    return reverse("events_registration_attendees", args=[event.pk])


def many(event, count: int, prefix: str = "u") -> None:  # type: ignore[no-untyped-def]
    for n in range(count):
        Registration.objects.create(
            event=event,
            event_title=event.title,
            event_starts_at=event.starts_at,
            user=UserFactory(
                real_name=f"学员{n:03d}", email=f"{prefix}{n:03d}@example.org"
            ),
            status=Status.CONFIRMED,
            confirmed_at=timezone.now(),
        )


def test_search_paging_and_the_filtered_exports(client, index):
    event = new_event(index, capacity=None)
    many(event, 60)
    wang = register(event, real_name="王芳", email="wang@example.org")
    client.force_login(organiser(event))

    first = client.get(attendees_url(event)).content.decode()
    assert "u000@example.org" in first and "u055@example.org" not in first
    second = client.get(attendees_url(event), {"p": 2}).content.decode()
    assert "u055@example.org" in second and "wang@example.org" in second
    assert client.get(attendees_url(event), {"p": "x' or 1=1"}).status_code == 200

    for term in ("王芳", "WANG@example", wang.code):
        html = client.get(attendees_url(event), {"q": term}).content.decode()
        assert "wang@example.org" in html and "u000@example.org" not in html, term
    nothing = client.get(attendees_url(event), {"q": "nobody-like-this"})
    assert "u000@example.org" not in nothing.content.decode()

    csv = client.get(attendees_url(event), {"q": "wang", "export": "csv"})
    assert csv.status_code == 200 and csv["Content-Type"].startswith("text/csv")
    lines = b"".join(csv.streaming_content).decode("utf-8-sig").splitlines()
    assert len(lines) == 2 and "wang@example.org" in lines[1]
    xlsx = client.get(attendees_url(event), {"q": "u00", "export": "xlsx"})
    rows = list(
        openpyxl.load_workbook(
            io.BytesIO(b"".join(xlsx.streaming_content))
        ).active.iter_rows(values_only=True)
    )
    assert len(rows) == 11  # the headings and u000…u009
    logged = PageLogEntry.objects.filter(action="portal.export").order_by("pk")
    assert [(e.data["format"], e.data["rows"]) for e in logged] == [
        ("csv", 1),
        ("xlsx", 10),
    ]
    assert logged[0].data["filters"] == "q=wang"


def test_the_list_takes_as_many_queries_for_600_as_for_5(client, index):
    small, big = new_event(index, capacity=None), new_event(index, capacity=None)
    many(small, 5, prefix="s")
    many(big, 600, prefix="b")
    client.force_login(organiser(small, big))
    client.get(attendees_url(small))  # warm caches (content types, site)

    def queries(event) -> int:  # type: ignore[no-untyped-def]
        with CaptureQueriesContext(connection) as captured:
            assert client.get(attendees_url(event)).status_code == 200
        return len(captured)

    assert queries(big) == queries(small)
    html = client.get(attendees_url(big)).content.decode()
    assert html.count("@example.org</td>") == 50


# --- per-event access: the attacker's requests ---


def test_the_organiser_of_event_a_gets_nothing_of_event_b(client, index):
    a = new_event(index, title="活动甲")
    b = new_event(index, title="活动乙")
    register(b, email="b-private@example.org")
    staff = organiser(a)
    client.force_login(staff)
    assert client.get(attendees_url(a)).status_code == 200
    for url, method, data in [
        (attendees_url(b), "get", {}),
        (attendees_url(b), "get", {"export": "xlsx"}),
        (attendees_url(b), "get", {"export": "csv"}),
        (message_url(b), "get", {}),
        (message_url(b), "post", MESSAGE | {"send": "1"}),
        (cancel_url(b), "post", {"reason": "x"}),
    ]:
        response = getattr(client, method)(url, data)
        assert response.status_code == 403, (url, data)
        assert b"b-private@example.org" not in response.content
    assert not PageLogEntry.objects.filter(
        page=b, action__in=["portal.export", services.LOG_CANCELLED]
    ).exists()
    assert not EventMessage.objects.exists()
    assert EventPage.objects.get(pk=b.pk).cancelled_at is None
    # No button to it either (the page tree's listing and header).
    from events.registration.wagtail_hooks import attendees_listing_button

    staff = type(staff).objects.get(pk=staff.pk)
    assert [button.url for button in attendees_listing_button(a, staff)] == [
        attendees_url(a)
    ]
    assert list(attendees_listing_button(b, staff)) == []


def test_view_registration_alone_opens_no_event(client, event):
    register(event, email="private@example.org")
    client.force_login(organiser(view_registration=True))
    for query in ({}, {"export": "xlsx"}, {"export": "csv"}):
        response = client.get(attendees_url(event), query)
        assert response.status_code == 403
        assert b"private@example.org" not in response.content
    assert not PageLogEntry.objects.filter(action="portal.export").exists()


# --- the registrant cancels: a confirmation first ---


def test_cancelling_a_registration_asks_first(client, event):
    registration = register(event)
    client.force_login(registration.user)
    html = client.get(event.url).content.decode()
    confirm_url = reverse("events:registration_cancel", args=[registration.pk])
    assert f'href="{confirm_url}?next=' in html
    assert f'action="{confirm_url}"' not in html  # no one-click form any more

    page = client.get(confirm_url, {"next": event.url})
    assert page.status_code == 200
    assert f'action="{confirm_url}"' in page.content.decode()
    assert Registration.objects.get(pk=registration.pk).status == Status.CONFIRMED

    response = client.post(confirm_url, {"next": event.url})
    assert response["Location"] == event.url
    assert Registration.objects.get(pk=registration.pk).status == Status.CANCELLED


def test_another_users_confirmation_page_is_not_found(client, event):
    registration = register(event)
    client.force_login(UserFactory())
    url = reverse("events:registration_cancel", args=[registration.pk])
    assert client.get(url).status_code == 404
    assert (
        client.get(reverse("events:registration_cancel", args=[10**30])).status_code
        == 404
    )


# --- the waiting list has no calendar entry; promotion brings it ---


def test_waiting_gets_no_ics_and_promotion_sends_the_request(event):
    first = register(event, email="first@example.org")
    waiting = register(event, email="waiting@example.org")
    assert ics_of(OutgoingEmail.objects.get(to=["waiting@example.org"])) is None
    OutgoingEmail.objects.all().delete()
    services.registration_cancel(user=first.user, registration_id=first.pk)
    promoted = OutgoingEmail.objects.get(to=["waiting@example.org"])
    calendar = ics_of(promoted)
    assert calendar is not None and str(calendar["method"]) == "REQUEST"
    assert str(vevent(calendar)["attendee"]) == "mailto:waiting@example.org"
    assert Registration.objects.get(pk=waiting.pk).status == Status.CONFIRMED

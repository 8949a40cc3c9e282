"""Announcements: editors write one in the admin, preview it and send it to
the subscribers of its topics (and audience groups). Each recipient gets one
e-mail, in their language, with a one-click unsubscribe link and the RFC 8058
headers; a retry never sends twice; the delivery report counts what
happened."""

from datetime import timedelta

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

from django.core import mail
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from wagtail.models import ModelLogEntry

from portal.exports import LOG_EXPORTED
from portal.models import Audience, OutgoingEmail
from subscriptions import selectors, services, tasks
from subscriptions.models import Announcement, AnnouncementDelivery
from tests.factories import StaffFactory, UserFactory
from tests.subscriptions.factories import (
    AnnouncementFactory,
    SubscriptionFactory,
    topic,
)

pytestmark = pytest.mark.django_db


def send(announcement, capture):  # type: ignore[no-untyped-def]
    """Send as the admin does, running the tasks that the commit enqueues."""
    with capture(execute=True):
        return services.announcement_send(announcement=announcement, by=None)


# --- who receives it ---------------------------------------------------------------


def test_recipients_by_topic_and_audience():
    civil, teachers = Audience.objects.all()[:2]
    notices, events = topic("notices"), topic("events")
    to_civil = SubscriptionFactory(topics=[notices], audiences=[civil]).user
    to_teachers = SubscriptionFactory(topics=[notices], audiences=[teachers]).user
    to_any_group = SubscriptionFactory(topics=[notices]).user
    SubscriptionFactory(topics=[events], audiences=[civil])  # another topic
    withdrawn = SubscriptionFactory(topics=[notices])
    services.subscription_withdraw(user=withdrawn.user)
    inactive = SubscriptionFactory(topics=[notices]).user
    inactive.is_active = False
    inactive.save()

    for_all = AnnouncementFactory(topics=[notices])
    assert set(selectors.announcement_recipients(announcement=for_all)) == {
        to_civil,
        to_teachers,
        to_any_group,
    }
    for_civil = AnnouncementFactory(topics=[notices], audiences=[civil])
    assert set(selectors.announcement_recipients(announcement=for_civil)) == {
        to_civil,
        to_any_group,
    }
    two_topics = AnnouncementFactory(topics=[notices, events], audiences=[teachers])
    assert set(selectors.announcement_recipients(announcement=two_topics)) == {
        to_teachers,
        to_any_group,
    }


# --- sending -----------------------------------------------------------------------


def test_one_email_per_recipient_with_the_unsubscribe_headers(
    home, django_capture_on_commit_callbacks
):
    subscribers = [SubscriptionFactory().user for _ in range(3)]
    announcement = AnnouncementFactory()
    assert send(announcement, django_capture_on_commit_callbacks) == 3

    deliveries = AnnouncementDelivery.objects.filter(announcement=announcement)
    assert deliveries.count() == 3
    assert set(deliveries.values_list("status", flat=True)) == {"queued"}
    assert {d.user for d in deliveries} == set(subscribers)
    announcement.refresh_from_db()
    assert announcement.status == Announcement.Status.SENT
    assert announcement.sent_at is not None

    assert OutgoingEmail.objects.filter(status="sent").count() == 3
    assert len(mail.outbox) == 3
    message = next(m for m in mail.outbox if m.to == [subscribers[0].email])
    assert message.subject == announcement.subject
    assert "知识产权宣传周" in message.body
    link = message.extra_headers["List-Unsubscribe"]
    assert link.startswith("<http://testserver/subscriptions/unsubscribe/")
    assert link.endswith("/>")
    assert message.extra_headers["List-Unsubscribe-Post"] == (
        "List-Unsubscribe=One-Click"
    )
    assert link[1:-1] in message.body  # the same link, in the text
    assert "/subscriptions/" in message.body

    # The header's link unsubscribes with one POST (RFC 8058).
    from django.test import Client

    path = link[1:-1].removeprefix("http://testserver")
    Client(enforce_csrf_checks=True).post(
        path,
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    report = selectors.announcement_report(announcement=announcement)
    assert report.unsubscribed == 1


def test_each_recipient_in_their_language(home, django_capture_on_commit_callbacks):
    chinese = SubscriptionFactory().user
    english = SubscriptionFactory(user=UserFactory(language="en")).user
    announcement = AnnouncementFactory(
        subject_en="IP Publicity Week 2027", body_en="Join us from 20 to 26 April."
    )
    send(announcement, django_capture_on_commit_callbacks)
    by_address = {m.to[0]: m for m in mail.outbox}
    assert by_address[english.email].subject == "IP Publicity Week 2027"
    assert "Join us" in by_address[english.email].body
    assert "/en/subscriptions/unsubscribe/" in by_address[english.email].body
    assert "Unsubscribe:" in by_address[english.email].body
    assert by_address[chinese.email].subject == announcement.subject
    assert "/en/" not in by_address[chinese.email].body


def test_one_language_only_goes_to_everyone(home, django_capture_on_commit_callbacks):
    english = SubscriptionFactory(user=UserFactory(language="en")).user
    announcement = AnnouncementFactory()
    send(announcement, django_capture_on_commit_callbacks)
    (message,) = mail.outbox
    assert message.to == [english.email]
    assert message.subject == announcement.subject
    assert "知识产权宣传周" in message.body


def test_the_link_to_a_page(site_pages, django_capture_on_commit_callbacks):
    SubscriptionFactory()
    announcement = AnnouncementFactory(link_page=site_pages["notice"])
    send(announcement, django_capture_on_commit_callbacks)
    announcement.refresh_from_db()
    assert announcement.link_url == site_pages["notice"].get_full_url()
    assert announcement.link_url in mail.outbox[0].body


def test_a_second_send_is_refused_and_nothing_doubles(
    home, django_capture_on_commit_callbacks
):
    SubscriptionFactory()
    announcement = AnnouncementFactory()
    send(announcement, django_capture_on_commit_callbacks)
    with pytest.raises(services.SubscriptionError, match="already sent|已发送"):
        send(announcement, django_capture_on_commit_callbacks)
    assert AnnouncementDelivery.objects.count() == 1
    assert OutgoingEmail.objects.count() == 1


def test_running_a_batch_again_sends_nothing_twice(
    home, django_capture_on_commit_callbacks
):
    for _ in range(4):
        SubscriptionFactory()
    announcement = AnnouncementFactory()
    send(announcement, django_capture_on_commit_callbacks)
    ids = AnnouncementDelivery.objects.values_list("pk", flat=True)
    # A redelivered message, a sweep: the same batch task runs again.
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.send_announcement_batch(announcement.pk, min(ids), max(ids)) == 0
        assert tasks.sweep_announcements() == 0
    assert OutgoingEmail.objects.count() == 4
    assert len(mail.outbox) == 4


def test_the_sweep_sends_what_a_lost_task_left_pending(
    home, django_capture_on_commit_callbacks
):
    for _ in range(3):
        SubscriptionFactory()
    announcement = AnnouncementFactory()
    # The broker lost the batch tasks: nothing was enqueued.
    with django_capture_on_commit_callbacks(execute=False):
        services.announcement_send(announcement=announcement, by=None)
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.sweep_announcements() == 0  # too recent to call lost
    assert not mail.outbox
    Announcement.objects.filter(pk=announcement.pk).update(
        send_started_at=timezone.now() - timedelta(minutes=10)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.sweep_announcements() == 1
    assert len(mail.outbox) == 3
    announcement.refresh_from_db()
    assert announcement.status == Announcement.Status.SENT
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.sweep_announcements() == 0
    assert len(mail.outbox) == 3


def test_the_database_refuses_a_second_row_for_one_user():
    subscription = SubscriptionFactory()
    announcement = AnnouncementFactory()
    AnnouncementDelivery.objects.create(
        announcement=announcement, user=subscription.user
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        AnnouncementDelivery.objects.create(
            announcement=announcement, user=subscription.user
        )


def test_no_recipient_is_refused():
    SubscriptionFactory(topics=[topic("events")])
    announcement = AnnouncementFactory(topics=[topic("notices")])
    with pytest.raises(services.SubscriptionError):
        services.announcement_send(announcement=announcement, by=None)
    announcement.refresh_from_db()
    assert announcement.status == Announcement.Status.DRAFT
    assert not AnnouncementDelivery.objects.exists()


@pytest.mark.parametrize(
    "changes",
    [{"subject": "  "}, {"body": ""}, {"subject_en": "Only a subject"}],
)
def test_an_incomplete_announcement_is_refused(changes):
    SubscriptionFactory()
    announcement = AnnouncementFactory(**changes)
    with pytest.raises(services.SubscriptionError):
        services.announcement_send(announcement=announcement, by=None)
    assert not AnnouncementDelivery.objects.exists()


def test_who_unsubscribed_before_their_batch_is_skipped(
    home, django_capture_on_commit_callbacks
):
    stays, leaves = SubscriptionFactory(), SubscriptionFactory()
    announcement = AnnouncementFactory()
    # The batch tasks are left pending (not executed): the user leaves first.
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.announcement_send(announcement=announcement, by=None)
    services.subscription_withdraw(user=leaves.user)
    with django_capture_on_commit_callbacks(execute=True):
        for callback in callbacks:
            callback()
    assert [m.to for m in mail.outbox] == [[stays.user.email]]
    report = selectors.announcement_report(announcement=announcement)
    assert (report.recipients, report.sent, report.skipped) == (2, 1, 1)
    announcement.refresh_from_db()
    assert announcement.status == Announcement.Status.SENT


def test_the_batch_queries_do_not_grow_with_its_size(
    home, django_capture_on_commit_callbacks
):
    def queries_for(count: int) -> int:
        for _ in range(count):
            SubscriptionFactory(topics=[topic("courses")])
        announcement = AnnouncementFactory(topics=[topic("courses")])
        with django_capture_on_commit_callbacks(execute=False):
            services.announcement_send(announcement=announcement, by=None)
        rows = AnnouncementDelivery.objects.filter(announcement=announcement)
        ids = list(rows.values_list("pk", flat=True))
        with (
            django_capture_on_commit_callbacks(execute=False),
            CaptureQueriesContext(connection) as context,
        ):
            sent = services.announcement_batch_send(
                announcement_id=announcement.pk, first=min(ids), last=max(ids)
            )
        assert sent == count
        assert rows.filter(status="queued").count() == count
        for subscription in selectors.active_subscriptions():
            services.subscription_withdraw(user=subscription.user)
        return len(context.captured_queries)

    assert queries_for(10) == queries_for(50)


# --- the report --------------------------------------------------------------------


def test_the_report_counts(home, django_capture_on_commit_callbacks, settings):
    for _ in range(4):
        SubscriptionFactory()
    announcement = AnnouncementFactory()
    with django_capture_on_commit_callbacks(execute=False):
        services.announcement_send(announcement=announcement, by=None)
    report = selectors.announcement_report(announcement=announcement)
    assert (report.recipients, report.pending, report.sent) == (4, 4, 0)

    settings.PORTAL_EMAIL_MAX_ATTEMPTS = 1
    ids = AnnouncementDelivery.objects.values_list("pk", flat=True)
    with django_capture_on_commit_callbacks(execute=False):
        services.announcement_batch_send(
            announcement_id=announcement.pk, first=min(ids), last=max(ids)
        )
    emails = list(OutgoingEmail.objects.order_by("pk"))
    from portal import services as portal_services

    settings.PORTAL_EMAIL_DELIVERY_BACKEND = (
        "tests.subscriptions.test_announcements.Refuse"
    )
    portal_services.email_deliver(email_id=emails[0].pk)
    settings.PORTAL_EMAIL_DELIVERY_BACKEND = (
        "django.core.mail.backends.locmem.EmailBackend"
    )
    portal_services.email_deliver(email_id=emails[1].pk)
    portal_services.email_deliver(email_id=emails[2].pk)

    report = selectors.announcement_report(announcement=announcement)
    assert (report.pending, report.sent, report.failed) == (1, 2, 1)
    (failure,) = selectors.announcement_failures(announcement=announcement)
    assert "mailbox full" in failure.email.last_error


class Refuse:
    """A delivery backend whose server refuses every message."""

    def __init__(self, **kwargs) -> None:  # type: ignore[no-untyped-def]
        pass

    def send_messages(self, messages):  # type: ignore[no-untyped-def]
        raise OSError("550 mailbox full")


# --- the admin ---------------------------------------------------------------------


@pytest.fixture
def editor(client, home):  # type: ignore[no-untyped-def]
    """Staff sign in to the admin with two factors."""
    staff = StaffFactory(mfa=False)
    TOTP.activate(staff, generate_totp_secret())
    client.force_login(staff)
    return staff


def test_an_editor_writes_previews_and_sends_in_the_admin(
    client, editor, django_capture_on_commit_callbacks
):
    SubscriptionFactory(user=UserFactory(language="en"))
    SubscriptionFactory()
    notices = topic("notices")

    refused = client.post(
        "/admin/announcements/new/", {"subject": "", "body": "", "topics": []}
    )
    assert refused.status_code == 200
    assert not Announcement.objects.exists()

    response = client.post(
        "/admin/announcements/new/",
        {
            "subject": "宣传周通知",
            "body": "欢迎参加。",
            "subject_en": "Publicity week",
            "body_en": "Welcome.",
            "topics": [notices.pk],
        },
    )
    announcement = Announcement.objects.get()
    assert announcement.created_by == editor
    preview_url = f"/admin/announcements/preview/{announcement.pk}/"
    assert response["Location"] == preview_url

    preview = client.get(preview_url).content.decode()
    assert "宣传周通知" in preview and "Publicity week" in preview
    assert "2" in preview  # subscribers

    with django_capture_on_commit_callbacks(execute=True):
        sent = client.post(f"/admin/announcements/send/{announcement.pk}/")
    assert sent["Location"] == f"/admin/announcements/report/{announcement.pk}/"
    assert len(mail.outbox) == 2

    again = client.post(f"/admin/announcements/send/{announcement.pk}/", follow=True)
    assert (
        "already sent" in again.content.decode() or "已发送" in again.content.decode()
    )
    assert AnnouncementDelivery.objects.count() == 2

    report = client.get(f"/admin/announcements/report/{announcement.pk}/")
    assert report.status_code == 200
    exported = client.get(f"/admin/announcements/report/{announcement.pk}/csv/")
    assert exported["Content-Type"].startswith("text/csv")
    assert exported.content.decode("utf-8-sig").count("\n") == 3

    # A sent announcement is a record: editing leads to its report.
    edit = client.get(f"/admin/announcements/edit/{announcement.pk}/")
    assert edit["Location"] == f"/admin/announcements/report/{announcement.pk}/"
    delete = client.post(f"/admin/announcements/delete/{announcement.pk}/")
    assert delete.status_code == 302
    assert Announcement.objects.filter(pk=announcement.pk).exists()


def test_sending_with_no_recipient_in_the_admin_explains(client, editor):
    announcement = AnnouncementFactory()
    response = client.post(f"/admin/announcements/send/{announcement.pk}/", follow=True)
    assert response.status_code == 200
    assert "Nobody has subscribed" in response.content.decode() or "没有人订阅" in (
        response.content.decode()
    )
    announcement.refresh_from_db()
    assert announcement.status == Announcement.Status.DRAFT


def test_topics_are_edited_in_the_admin(client, editor):
    response = client.get("/admin/subscription_topics/")
    assert response.status_code == 200
    assert "活动与培训" in response.content.decode()


def test_unsubscribing_on_the_settings_page_counts_in_the_report(
    home, django_capture_on_commit_callbacks
):
    leaves, stays = SubscriptionFactory(), SubscriptionFactory()
    announcement = AnnouncementFactory()
    send(announcement, django_capture_on_commit_callbacks)
    assert selectors.announcement_report(announcement=announcement).unsubscribed == 0
    services.subscription_withdraw(user=leaves.user)
    report = selectors.announcement_report(announcement=announcement)
    assert (report.recipients, report.sent, report.unsubscribed) == (2, 2, 1)
    stays.refresh_from_db()
    assert stays.is_active


def staff_with(*codenames: str):  # type: ignore[no-untyped-def]
    from django.contrib.auth.models import Group, Permission

    group = Group.objects.create(name="announcers " + " ".join(codenames))
    group.permissions.set(
        Permission.objects.filter(
            codename__in=["access_admin", *codenames],
        )
    )
    user = UserFactory(is_staff=True)
    user.groups.add(group)
    TOTP.activate(user, generate_totp_secret())
    return user


def test_an_editor_needs_the_announcement_permissions(client, home):
    SubscriptionFactory()
    announcement = AnnouncementFactory()
    client.force_login(staff_with())
    for url in (
        f"/admin/announcements/preview/{announcement.pk}/",
        f"/admin/announcements/report/{announcement.pk}/",
    ):
        assert client.get(url).status_code in (302, 403)
    client.post(f"/admin/announcements/send/{announcement.pk}/")
    assert not AnnouncementDelivery.objects.exists()

    client.force_login(
        staff_with("add_announcement", "change_announcement", "view_announcement")
    )
    assert (
        client.get(f"/admin/announcements/preview/{announcement.pk}/").status_code
        == 200
    )
    client.post(f"/admin/announcements/send/{announcement.pk}/")
    assert AnnouncementDelivery.objects.count() == 1


def test_administrators_read_the_consent_records(client, editor):
    subscription = SubscriptionFactory()
    listing = client.get("/admin/subscribers/")
    assert listing.status_code == 200
    assert (
        subscription.user.email in listing.content.decode()
        or str(subscription.user) in listing.content.decode()
    )
    # A record of the user's own consent: nobody adds or edits one here.
    assert client.get("/admin/subscribers/new/").status_code in (302, 403)
    before = subscription.consented_at
    client.post(
        f"/admin/subscribers/edit/{subscription.pk}/",
        {"consented_at": "2020-01-01 00:00"},
    )
    subscription.refresh_from_db()
    assert subscription.consented_at == before


def test_each_recipient_export_is_in_the_announcement_history(
    client, editor, django_capture_on_commit_callbacks
):
    SubscriptionFactory()
    SubscriptionFactory()
    announcement = AnnouncementFactory()
    send(announcement, django_capture_on_commit_callbacks)
    url = f"/admin/announcements/report/{announcement.pk}/csv/"
    client.get(url)

    (entry,) = ModelLogEntry.objects.filter(action=LOG_EXPORTED)
    assert entry.object_id == str(announcement.pk)
    assert entry.user_id == editor.pk
    assert entry.data["rows"] == 2 and entry.data["format"] == "csv"

    # Someone signed in but not staff gets no file and leaves no record.
    client.force_login(UserFactory())
    assert client.get(url).status_code == 302
    assert ModelLogEntry.objects.filter(action=LOG_EXPORTED).count() == 1

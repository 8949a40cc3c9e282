"""Sending an announcement later, and a test to oneself (issue 17, part 7).

An editor schedules a draft for a date and time, given in China Standard
Time whatever their admin time zone; it waits as "scheduled" and the beat
(second 0 of every minute) sends it at that minute, once, however often the
beat or a retry runs. Until then it can be cancelled (a draft again) or
moved; a time in the past is refused with a clear message. A test goes to
the editor's own address only, marked [测试] / [Test], and changes nothing.
"""

from datetime import datetime, timedelta
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from celery.schedules import crontab

from django.core import mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from portal.models import OutgoingEmail
from subscriptions import background_work, services, tasks
from subscriptions.models import Announcement, AnnouncementDelivery
from tests.factories import StaffFactory, UserFactory
from tests.subscriptions.factories import (
    AnnouncementFactory,
    SubscriptionFactory,
)

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def editor(client, home):  # type: ignore[no-untyped-def]
    staff = StaffFactory(mfa=False)
    TOTP.activate(staff, generate_totp_secret())
    client.force_login(staff)
    return staff


def tomorrow_at(hour: int, minute: int) -> datetime:
    day = timezone.localtime(timezone.now(), SHANGHAI).date() + timedelta(days=1)
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI)


def at(moment: datetime):  # type: ignore[no-untyped-def]
    """The clock of the services set to `moment`."""
    return mock.patch("django.utils.timezone.now", return_value=moment)


# --- scheduling in the admin -------------------------------------------------------


def test_an_editor_schedules_in_china_time_whatever_their_admin_zone(client, editor):
    from wagtail.users.models import UserProfile

    profile = UserProfile.get_for_user(editor)
    profile.current_time_zone = "Europe/London"
    profile.save()
    SubscriptionFactory()
    announcement = AnnouncementFactory()
    when = tomorrow_at(9, 30)
    response = client.post(
        f"/admin/announcements/schedule/{announcement.pk}/",
        {"send_at": when.strftime("%Y-%m-%dT%H:%M")},
        follow=True,
    )
    assert response.status_code == 200
    announcement.refresh_from_db()
    assert announcement.status == Announcement.Status.SCHEDULED
    assert announcement.scheduled_at == when
    assert announcement.scheduled_by == editor
    html = response.content.decode()
    assert when.strftime("%Y-%m-%d %H:%M") in html  # shown in China time
    assert not AnnouncementDelivery.objects.exists()
    assert not mail.outbox

    # Scheduled: not edited, not sent now, until the schedule is cancelled.
    edit = client.get(f"/admin/announcements/edit/{announcement.pk}/")
    assert edit["Location"] == f"/admin/announcements/preview/{announcement.pk}/"
    send_now = client.post(f"/admin/announcements/send/{announcement.pk}/", follow=True)
    assert "取消定时" in send_now.content.decode() or "Cancel the schedule" in (
        send_now.content.decode()
    )
    announcement.refresh_from_db()
    assert announcement.status == Announcement.Status.SCHEDULED


def test_a_time_in_the_past_is_refused_with_a_clear_message(client, editor):
    announcement = AnnouncementFactory()
    past = timezone.localtime(timezone.now(), SHANGHAI) - timedelta(minutes=5)
    response = client.post(
        f"/admin/announcements/schedule/{announcement.pk}/",
        {"send_at": past.strftime("%Y-%m-%dT%H:%M")},
        follow=True,
    )
    html = response.content.decode()
    assert past.strftime("%Y-%m-%d %H:%M") in html
    assert "已过" in html or "already passed" in html
    announcement.refresh_from_db()
    assert announcement.status == Announcement.Status.DRAFT
    assert announcement.scheduled_at is None


@pytest.mark.parametrize("value", ["", "tomorrow", "2027-13-45T25:61"])
def test_a_malformed_time_is_refused_not_a_500(client, editor, value):
    announcement = AnnouncementFactory()
    response = client.post(
        f"/admin/announcements/schedule/{announcement.pk}/", {"send_at": value}
    )
    assert response.status_code == 302
    announcement.refresh_from_db()
    assert announcement.status == Announcement.Status.DRAFT


def test_cancel_and_move_before_it_goes(client, editor):
    announcement = AnnouncementFactory()
    services.announcement_schedule(
        announcement=announcement, at=tomorrow_at(9, 0), by=editor
    )
    moved = tomorrow_at(15, 45)
    client.post(
        f"/admin/announcements/schedule/{announcement.pk}/",
        {"send_at": moved.strftime("%Y-%m-%dT%H:%M")},
    )
    announcement.refresh_from_db()
    assert announcement.scheduled_at == moved

    client.post(f"/admin/announcements/unschedule/{announcement.pk}/")
    announcement.refresh_from_db()
    assert announcement.status == Announcement.Status.DRAFT
    assert announcement.scheduled_at is None
    with at(moved + timedelta(minutes=1)):
        assert services.announcement_send_due() == []
    assert not AnnouncementDelivery.objects.exists()


def test_the_actions_are_post_only(client, editor):
    announcement = AnnouncementFactory()
    for action in ("schedule", "unschedule", "test", "send"):
        response = client.get(f"/admin/announcements/{action}/{announcement.pk}/")
        assert response.status_code == 405
    assert not OutgoingEmail.objects.exists()


def test_an_editor_without_the_change_permission_cannot_schedule(client, home):
    from tests.subscriptions.test_announcements import staff_with

    client.force_login(staff_with("view_announcement"))
    announcement = AnnouncementFactory()
    response = client.post(
        f"/admin/announcements/schedule/{announcement.pk}/",
        {"send_at": tomorrow_at(9, 0).strftime("%Y-%m-%dT%H:%M")},
    )
    assert response.status_code in (302, 403)
    announcement.refresh_from_db()
    assert announcement.status == Announcement.Status.DRAFT


# --- sending at the minute ---------------------------------------------------------


def test_it_goes_out_at_its_minute_and_only_once(
    home, django_capture_on_commit_callbacks
):
    subscribers = [SubscriptionFactory().user for _ in range(3)]
    announcement = AnnouncementFactory()
    minute = tomorrow_at(9, 0)
    services.announcement_schedule(announcement=announcement, at=minute, by=None)

    with at(minute - timedelta(seconds=1)):
        assert services.announcement_send_due() == []
    with at(minute), django_capture_on_commit_callbacks(execute=True):
        assert services.announcement_send_due() == [announcement.pk]
    with (
        at(minute + timedelta(minutes=1)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert services.announcement_send_due() == []  # the next minute's beat
        assert (
            services.announcement_send_scheduled(announcement_id=announcement.pk)
            is None
        )  # a retry racing the beat
    announcement.refresh_from_db()
    assert announcement.status == Announcement.Status.SENT
    assert announcement.recipient_count == 3
    assert AnnouncementDelivery.objects.count() == 3
    assert sorted(m.to[0] for m in mail.outbox) == sorted(u.email for u in subscribers)

    # Sent: it cannot be scheduled, cancelled or sent again.
    with pytest.raises(services.SubscriptionError):
        services.announcement_schedule(
            announcement=announcement, at=minute + timedelta(days=1), by=None
        )
    with pytest.raises(services.SubscriptionError):
        services.announcement_unschedule(announcement=announcement)
    with pytest.raises(services.SubscriptionError):
        services.announcement_send(announcement=announcement, by=None)


def test_with_nobody_subscribed_by_then_it_is_recorded_as_sent_to_nobody():
    announcement = AnnouncementFactory()
    minute = tomorrow_at(9, 0)
    services.announcement_schedule(announcement=announcement, at=minute, by=None)
    with at(minute):
        assert services.announcement_send_due() == [announcement.pk]
    announcement.refresh_from_db()
    assert announcement.status == Announcement.Status.SENT
    assert announcement.recipient_count == 0


def test_the_beat_checks_every_minute_at_second_0(settings):
    [entry] = [
        entry
        for entry in settings.CELERY_BEAT_SCHEDULE.values()
        if entry["task"] == "subscriptions.tasks.send_scheduled_announcements"
    ]
    assert entry["schedule"] == crontab(minute="*")
    assert tasks.send_scheduled_announcements() == 0


def test_the_database_refuses_a_scheduled_announcement_without_a_time():
    announcement = AnnouncementFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Announcement.objects.filter(pk=announcement.pk).update(status="scheduled")


# --- the background-work page ------------------------------------------------------


def test_scheduled_announcements_wait_and_a_missed_minute_is_stuck(
    home, django_capture_on_commit_callbacks
):
    SubscriptionFactory()
    waiting, missed = AnnouncementFactory(subject="定时"), AnnouncementFactory()
    soon = timezone.now() + timedelta(hours=1)
    services.announcement_schedule(announcement=waiting, at=soon, by=None)
    services.announcement_schedule(
        announcement=missed, at=timezone.now() + timedelta(minutes=1), by=None
    )
    summary = background_work.announcements_waiting_summary()
    assert (summary.pending, summary.stuck, summary.failed) == (2, 0, 0)
    row = next(row for row in summary.rows if row.pk == waiting.pk)
    assert row.state == "pending" and "定时" in row.what
    assert timezone.localtime(soon, SHANGHAI).strftime("%H:%M") in row.detail

    # The beat did not run: three minutes past its minute, it is stuck, and
    # the page's retry sends it (once).
    later = timezone.now() + timedelta(minutes=4)
    with at(later):
        summary = background_work.announcements_waiting_summary()
        assert (summary.pending, summary.stuck) == (1, 1)
        with django_capture_on_commit_callbacks(execute=True):
            assert background_work.announcements_retry() == 1
    missed.refresh_from_db()
    assert missed.status == Announcement.Status.SENT
    assert len(mail.outbox) == 1


# --- a test to oneself -------------------------------------------------------------


def test_a_test_goes_to_the_editor_only_and_changes_nothing(
    client, editor, django_capture_on_commit_callbacks
):
    SubscriptionFactory()
    announcement = AnnouncementFactory(subject_en="Publicity week", body_en="Welcome.")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/admin/announcements/test/{announcement.pk}/", follow=True
        )
    assert response.status_code == 200
    assert {tuple(m.to) for m in mail.outbox} == {(editor.email,)}
    subjects = sorted(m.subject for m in mail.outbox)
    assert subjects == sorted(
        [f"[测试] {announcement.subject}", "[Test] Publicity week"]
    )
    announcement.refresh_from_db()
    assert announcement.status == Announcement.Status.DRAFT
    assert announcement.recipient_count == 0 and announcement.send_started_at is None
    assert not AnnouncementDelivery.objects.exists()

    # A scheduled one too, and it stays scheduled.
    services.announcement_schedule(
        announcement=announcement, at=tomorrow_at(9, 0), by=None
    )
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/admin/announcements/test/{announcement.pk}/")
    announcement.refresh_from_db()
    assert announcement.status == Announcement.Status.SCHEDULED
    assert len(mail.outbox) == 4


def test_a_test_to_an_account_without_address_explains():
    announcement = AnnouncementFactory()
    with pytest.raises(services.SubscriptionError):
        services.announcement_test_send(
            announcement=announcement, to=UserFactory(email="")
        )

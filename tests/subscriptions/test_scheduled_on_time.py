"""A scheduled announcement goes out at its minute (issue 17, part 7), with a
real `celery beat` and a real worker, as scheduled pages do
(tests/portal/test_fault_beat_on_time.py, whose fixtures this reuses): its
delivery rows are written within SENT_WITHIN after the minute, not before,
and its e-mails reach the outbox. Beat's entry is a crontab at second 0 of
every minute (portal/settings/base.py), so there is no poll interval to
wait for. The test waits for the next whole minute (at most about a minute
and ten seconds in all)."""

from datetime import timedelta

import pytest

from django.utils import timezone

from portal.models import OutgoingEmail
from subscriptions import services
from subscriptions.models import Announcement, AnnouncementDelivery
from tests.portal.test_fault_beat_on_time import (  # noqa: F401  (fixtures)
    beat,
    next_whole_minute,
    worker,
)
from tests.portal.test_worker import wait_for
from tests.subscriptions.factories import AnnouncementFactory, SubscriptionFactory

pytestmark = [
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

SENT_WITHIN = timedelta(seconds=5)


def test_an_announcement_scheduled_for_the_next_minute_goes_out_at_it(
    beat,  # noqa: F811
    worker,  # noqa: F811
    home,
):
    subscribers = [SubscriptionFactory().user for _ in range(3)]
    announcement = AnnouncementFactory(subject="整点发送的公告")
    minute = next_whole_minute()
    services.announcement_schedule(announcement=announcement, at=minute, by=None)

    deadline = minute + SENT_WITHIN
    started = wait_for(
        lambda: (
            Announcement.objects.get(pk=announcement.pk).send_started_at is not None
        ),
        timeout=(deadline - timezone.now()).total_seconds(),
        interval=0.05,
    )
    assert started, (
        f"not sent {SENT_WITHIN.seconds} s after {minute:%H:%M}\n"
        + beat.read_text()[-3000:]
        + worker.log()[-3000:]
    )
    announcement.refresh_from_db()
    assert announcement.send_started_at is not None
    assert announcement.send_started_at >= minute  # not before its minute
    print(
        "sending started "
        f"{(announcement.send_started_at - minute).total_seconds():.2f} s "
        "after the minute"
    )
    assert AnnouncementDelivery.objects.filter(announcement=announcement).count() == 3
    in_outbox = wait_for(
        lambda: OutgoingEmail.objects.filter(subject="整点发送的公告").count() == 3,
        timeout=30,
    )
    assert in_outbox
    assert {
        address
        for email in OutgoingEmail.objects.filter(subject="整点发送的公告")
        for address in email.to
    } == {user.email for user in subscribers}

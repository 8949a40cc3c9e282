"""At once (issue 17, part 7): beats and retries racing over one scheduled
announcement send it once; sign-ups of one address racing each other write
one row and one confirmation e-mail. Truly concurrent threads, each with its
own database connection; meaningful on PostgreSQL (row locks), also run on
SQLite, where writes are serialised."""

from datetime import timedelta

import pytest

from django.utils import timezone

from portal.models import OutgoingEmail
from subscriptions import services
from subscriptions.models import Announcement, AnnouncementDelivery, EmailSubscriber
from tests.courses.test_concurrency import at_once
from tests.subscriptions.factories import (
    AnnouncementFactory,
    SubscriptionFactory,
    topic,
)

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_beats_racing_over_a_scheduled_announcement_send_it_once():
    for _ in range(5):
        SubscriptionFactory()
    announcement = AnnouncementFactory()
    minute = (timezone.now() + timedelta(minutes=2)).replace(second=0, microsecond=0)
    services.announcement_schedule(announcement=announcement, at=minute, by=None)

    results = at_once(lambda: services.announcement_send_due(now=minute), 4)

    assert not [r for r in results if isinstance(r, Exception)], results
    assert sorted(len(r) for r in results) == [0, 0, 0, 1]
    announcement.refresh_from_db()
    assert announcement.status != Announcement.Status.SCHEDULED
    assert announcement.recipient_count == 5
    assert AnnouncementDelivery.objects.count() == 5


def test_sign_ups_of_one_address_at_once_send_one_email():
    notices = topic("notices")

    def sign_up() -> bool:
        return services.email_subscriber_signup(
            email="race@example.cn", topics=[notices], audiences=[], language="zh-hans"
        )

    results = at_once(sign_up, 4)

    assert not [r for r in results if isinstance(r, Exception)], results
    assert sorted(results) == [False, False, False, True]
    assert EmailSubscriber.objects.count() == 1
    assert OutgoingEmail.objects.filter(to=["race@example.cn"]).count() == 1

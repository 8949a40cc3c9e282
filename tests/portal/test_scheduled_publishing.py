"""Wagtail's go-live and expiry happen through the beat task, on time."""

import copy
import time
from datetime import timedelta

import pytest

from django.utils import timezone

from portal.models import NewsPage
from portal.tasks import publish_scheduled_pages
from tests.factories import NewsIndexPageFactory, NewsPageFactory

pytestmark = pytest.mark.django_db


def test_a_news_item_scheduled_to_go_live_is_published_by_the_beat_task(client, home):
    index = NewsIndexPageFactory(parent=home)
    news = NewsPageFactory(
        parent=index, slug="scheduled", live=False, title="定时发布的新闻"
    )
    news.go_live_at = timezone.now() + timedelta(seconds=2)
    revision = news.save_revision()
    revision.publish()  # with a future go-live, Wagtail only schedules it
    news.refresh_from_db()
    assert not news.live
    assert client.get("/news/scheduled/").status_code == 404

    publish_scheduled_pages.delay()  # beat's minute tick, before the time
    news.refresh_from_db()
    assert not news.live

    time.sleep(max(0.0, (news.go_live_at - timezone.now()).total_seconds()) + 0.1)
    publish_scheduled_pages.delay()  # the next tick, after the time
    news.refresh_from_db()
    assert news.live
    assert "定时发布的新闻" in client.get("/news/scheduled/").content.decode()


def test_a_page_past_its_expiry_is_unpublished_by_the_beat_task(client, home):
    index = NewsIndexPageFactory(parent=home)
    news = NewsPageFactory(parent=index, slug="expiring")
    NewsPage.objects.filter(pk=news.pk).update(
        expire_at=timezone.now() - timedelta(seconds=1)
    )
    publish_scheduled_pages.delay()
    news.refresh_from_db()
    assert not news.live and news.expired
    assert client.get("/news/expiring/").status_code == 404


@pytest.mark.parametrize("second", [0.4, 17, 59.6])
def test_the_beat_runs_the_go_live_at_the_minute_not_up_to_a_minute_later(
    settings, second
):
    """Beat's publishing entry is due at second 0 of every minute (Asia/
    Shanghai), whenever beat started: a page scheduled for 09:00 is
    published by the run due at 09:00:00."""
    from celery.schedules import maybe_schedule

    from portal.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["publish-scheduled-pages"]["schedule"]
    schedule = copy.copy(maybe_schedule(entry, app=app))
    last_run = timezone.localtime().replace(
        hour=8, minute=58, second=0, microsecond=0
    ) + timedelta(minutes=1, seconds=second)  # beat last ran at 08:59:<second>
    now = last_run + timedelta(seconds=0.1)
    schedule.nowfun = lambda: now
    due = now + schedule.remaining_estimate(last_run)
    assert (due.hour, due.minute, due.second) == (9, 0, 0)
    assert due.microsecond == 0

"""Wagtail's go-live and expiry happen through the beat task, on time."""

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

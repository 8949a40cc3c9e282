"""Factories for events and campaigns."""

import datetime

import factory
import wagtail_factories

from django.utils import timezone

from events.models import CampaignPage, EventIndexPage, EventPage


def shanghai(*args: int) -> datetime.datetime:
    """An aware datetime in Asia/Shanghai: shanghai(2027, 4, 26, 9, 0)."""
    return timezone.make_aware(datetime.datetime(*args))


class EventIndexPageFactory(wagtail_factories.PageFactory):
    title = "活动"
    slug = "events"

    class Meta:
        model = EventIndexPage


class EventPageFactory(wagtail_factories.PageFactory):
    title = factory.Sequence(lambda n: f"知识产权讲座 {n}")
    event_type = "lecture"
    starts_at = factory.LazyFunction(
        lambda: timezone.now().replace(microsecond=0) + datetime.timedelta(days=7)
    )
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + datetime.timedelta(hours=2))
    venue = "重庆市知识产权局报告厅"
    organiser = "重庆市知识产权局"
    capacity = 100
    training_hours = 2

    class Meta:
        model = EventPage


class CampaignPageFactory(wagtail_factories.PageFactory):
    title = "4·26 知识产权宣传周"
    starts_at = factory.LazyFunction(
        lambda: timezone.now().replace(microsecond=0) + datetime.timedelta(days=3)
    )
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + datetime.timedelta(days=7))

    class Meta:
        model = CampaignPage

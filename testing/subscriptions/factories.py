"""Factories for subscriptions and announcements."""

import factory

from django.utils import timezone

from subscriptions.models import Announcement, Subscription, Topic
from testing.factories import UserFactory


def topic(code: str) -> Topic:
    """A topic seeded by the migration (notices, policies, events…)."""
    return Topic.objects.get(code=code)


class SubscriptionFactory(factory.django.DjangoModelFactory):
    """An active subscription; pass topics=[...] and audiences=[...]."""

    user = factory.SubFactory(UserFactory)
    consented_at = factory.LazyFunction(timezone.now)

    class Meta:
        model = Subscription
        skip_postgeneration_save = True

    @factory.post_generation
    def topics(self, create, extracted, **kwargs):  # type: ignore[no-untyped-def]
        if create:
            self.topics.set(extracted if extracted is not None else [topic("notices")])

    @factory.post_generation
    def audiences(self, create, extracted, **kwargs):  # type: ignore[no-untyped-def]
        if create and extracted:
            self.audiences.set(extracted)


class AnnouncementFactory(factory.django.DjangoModelFactory):
    subject = "关于开展2027年知识产权宣传周活动的通知"
    body = "各位学员：\n\n4月20日至26日举办知识产权宣传周活动，欢迎参加。"

    class Meta:
        model = Announcement
        skip_postgeneration_save = True

    @factory.post_generation
    def topics(self, create, extracted, **kwargs):  # type: ignore[no-untyped-def]
        if create:
            self.topics.set(extracted if extracted is not None else [topic("notices")])

    @factory.post_generation
    def audiences(self, create, extracted, **kwargs):  # type: ignore[no-untyped-def]
        if create and extracted:
            self.audiences.set(extracted)

"""The factories for subscriptions and announcements live in
testing.subscriptions.factories; this module keeps the suite's imports as
they were."""

from testing.subscriptions.factories import *  # noqa: F403

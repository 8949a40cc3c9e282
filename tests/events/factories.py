"""The factories for events and campaigns live in testing.events.factories;
this module keeps the suite's imports as they were."""

from testing.events.factories import *  # noqa: F403

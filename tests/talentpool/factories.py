"""The factories for the talent pool live in testing.talentpool.factories;
this module keeps the suite's imports as they were."""

from testing.talentpool.factories import *  # noqa: F403

"""The factories for courses live in testing.courses.factories, which the
benchmarks import too; this module keeps the suite's imports as they were."""

from testing.courses.factories import *  # noqa: F403

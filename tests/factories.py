"""The factories for users, staff and the site pages live in
testing.factories, which the benchmarks import too; this module keeps the
suite's imports (`from tests.factories import ...`) as they were."""

from testing.factories import *  # noqa: F403

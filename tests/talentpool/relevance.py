"""The expert search's relevance set lives in testing.talentpool.relevance,
which the benchmarks import too; this module keeps the suite's imports as
they were."""

from testing.talentpool.relevance import *  # noqa: F403

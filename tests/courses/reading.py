"""Reading a lesson for its minimum time lives in testing.courses.reading,
which the benchmarks import too; this module keeps the suite's imports as
they were."""

from testing.courses.reading import *  # noqa: F403

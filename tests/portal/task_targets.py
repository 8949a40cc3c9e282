"""Targets a forged queue message may name (tests/portal/test_task_allow_list.py):
each records that it ran, so a test can tell that it did not."""

from django_tasks import task

CALLS: list[tuple] = []


def record_call(*args, **kwargs) -> None:  # type: ignore[no-untyped-def]
    CALLS.append(("record_call", args, kwargs))


@task()
def recorded_task(*args) -> None:  # type: ignore[no-untyped-def]
    """A real django-tasks Task, but not one the portal lists."""
    CALLS.append(("recorded_task", args))

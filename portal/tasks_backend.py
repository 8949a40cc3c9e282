"""A django-tasks backend that runs Wagtail's background tasks in Celery.

Wagtail 8 queues its own work (reference index updates, image renditions,
deleting replaced files) through django-tasks, whose default backend runs it
inside the web request. This backend hands each task to the Celery worker
when the current transaction commits, so the portal has one kind of worker to
run and watch. It is this small because Celery does the queueing; results are
not kept (Wagtail does not read them).

A queue message names the task by its dotted path, and whoever can write to
the broker writes the message: the worker runs only the tasks listed in
PORTAL_DJANGO_TASKS (allowed_task), checked before anything is imported, and
checks the arguments of a task that would import what they name
(ARGUMENT_CHECKS). Enqueueing any other task fails at once, in the process
that asked, so a task a Wagtail upgrade adds is noticed in the tests.
"""

import logging
from collections.abc import Callable
from typing import Any

from django_tasks.backends.base import BaseTaskBackend
from django_tasks.base import Task, TaskResult, TaskResultStatus
from django_tasks.exceptions import InvalidTaskError
from django_tasks.utils import get_random_id, normalize_json

from django.conf import settings
from django.core.files.storage import storages
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


def allowed_task(module_path: str) -> Task | None:
    """The django-tasks Task at module_path if the portal runs it, else None.

    The path must be listed in PORTAL_DJANGO_TASKS (compared as a string,
    before any import: naming a module runs its import) and must resolve to
    a Task defined there (not, say, a function a listed module imports).
    """
    if not isinstance(module_path, str) or module_path not in set(
        settings.PORTAL_DJANGO_TASKS
    ):
        return None
    try:
        target = import_string(module_path)
    except ImportError:
        return None
    if not isinstance(target, Task) or target.module_path != module_path:
        return None
    return target


def _storage_is_configured(args: list, kwargs: dict) -> bool:
    """delete_file_from_storage_task imports the storage class its message
    names and calls it: only a storage of settings.STORAGES may be named
    (FileSystemStorage keeps the path inside its folder)."""
    named = kwargs.get("deconstructed_storage", args[0] if args else None)
    return any(
        normalize_json(list(storages[alias].deconstruct())) == named  # type: ignore[attr-defined]  # storages are @deconstructible
        for alias in settings.STORAGES
    )


#: Tasks whose arguments name something to import: a check of them.
ARGUMENT_CHECKS: dict[str, Callable[[list, dict], bool]] = {
    "wagtail.tasks.delete_file_from_storage_task": _storage_is_configured,
}


def run_message(module_path: Any, args: Any, kwargs: Any) -> bool:
    """Run the task a queue message names; returns whether it ran.

    Refused, with an error logged and nothing imported or called: a path
    that allowed_task rejects, arguments that are not a list and a dict, or
    arguments that fail the task's ARGUMENT_CHECKS.
    """
    task = allowed_task(module_path)
    well_formed = isinstance(args, list) and isinstance(kwargs, dict)
    check = ARGUMENT_CHECKS.get(module_path) if task is not None else None
    if task is None or not well_formed or (check and not check(args, kwargs)):
        logger.error(
            "Refused a django-tasks message for %r: not a task the portal "
            "runs, or not its arguments (PORTAL_DJANGO_TASKS).",
            module_path,
        )
        return False
    task.call(*args, **kwargs)
    return True


class CeleryTaskBackend(BaseTaskBackend):
    supports_defer = False
    supports_async_task = False
    supports_get_result = False
    supports_priority = False

    def enqueue(self, task: Task, args: Any, kwargs: Any) -> TaskResult:
        from portal.tasks import run_django_task

        self.validate_task(task)
        # Here, not in validate_task: django-tasks validates a task when its
        # module defines it, before the module path can be resolved.
        if task.module_path not in settings.PORTAL_DJANGO_TASKS:
            raise InvalidTaskError(
                f"{task.module_path} is not in PORTAL_DJANGO_TASKS: the worker "
                "would refuse it."
            )
        args, kwargs = normalize_json(list(args)), normalize_json(dict(kwargs))
        run_django_task.delay_on_commit(task.module_path, args, kwargs)
        return TaskResult(
            task=task,
            id=get_random_id(),
            status=TaskResultStatus.READY,
            enqueued_at=None,
            started_at=None,
            last_attempted_at=None,
            finished_at=None,
            args=args,
            kwargs=kwargs,
            backend=self.alias,
            errors=[],
            worker_ids=[],
        )

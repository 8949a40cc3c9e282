"""A django-tasks backend that runs Wagtail's background tasks in Celery.

Wagtail 8 queues its own work (reference index updates, image renditions,
deleting replaced files) through django-tasks, whose default backend runs it
inside the web request. This backend hands each task to the Celery worker
when the current transaction commits, so the portal has one kind of worker to
run and watch. It is this small because Celery does the queueing; results are
not kept (Wagtail does not read them).
"""

from typing import Any

from django_tasks.backends.base import BaseTaskBackend
from django_tasks.base import Task, TaskResult, TaskResultStatus
from django_tasks.utils import get_random_id, normalize_json


class CeleryTaskBackend(BaseTaskBackend):
    supports_defer = False
    supports_async_task = False
    supports_get_result = False
    supports_priority = False

    def enqueue(self, task: Task, args: Any, kwargs: Any) -> TaskResult:
        from portal.tasks import run_django_task

        self.validate_task(task)
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

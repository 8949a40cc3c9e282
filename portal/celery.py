"""The Celery app, configured from Django settings under the CELERY_ namespace.

Celery is only the trigger (docs/decisions.md, decision 1): every job is a
row first and a beat sweep re-enqueues what a lost message left pending.
"""

import functools
import logging
import os
from collections.abc import Callable

from celery import Celery
from celery.contrib.django.task import DjangoTask
from kombu.exceptions import OperationalError

from django.db import transaction

logger = logging.getLogger(__name__)

# Production unless DJANGO_SETTINGS_MODULE says otherwise, as manage.py.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.production")


class PortalTask(DjangoTask):
    """Celery's Django task, with an enqueue after commit that cannot fail the
    request when the broker is down: the row is already committed, so the
    error is logged and the beat sweep enqueues the work once the broker is
    back (decision 1). Without this, a learner completing a course saw an
    error page for work that was in fact saved. Errors of an eager task (the
    tests) still propagate: only the broker's are caught."""

    def _send_logged(
        self, send: Callable[..., object], *args: object, **kwargs: object
    ) -> None:
        try:
            send(*args, **kwargs)
        except OperationalError:
            logger.exception(
                "Broker unreachable: %s not enqueued; the beat sweep will retry.",
                self.name,
            )

    def delay_on_commit(self, *args: object, **kwargs: object) -> None:
        transaction.on_commit(
            functools.partial(self._send_logged, self.delay, *args, **kwargs)
        )

    def apply_async_on_commit(self, *args: object, **kwargs: object) -> None:
        transaction.on_commit(
            functools.partial(self._send_logged, self.apply_async, *args, **kwargs)
        )


app = Celery("portal", task_cls=PortalTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_finalize.connect
def _make_broker_folders(sender: Celery, **kwargs: object) -> None:
    """The filesystem transport needs its folders to exist before it polls."""
    options = sender.conf.broker_transport_options or {}
    for key in (
        "data_folder_in",
        "data_folder_out",
        "processed_folder",
        "control_folder",
    ):
        if options.get(key):
            os.makedirs(options[key], exist_ok=True)

"""Readiness: can this web process do its work right now?

`/healthz/` (portal.views.health) only says that the process answers; a load
balancer or process supervisor asks it. `/readyz/` is for monitoring and for a
deployment that waits before sending traffic: it tries each service a request
may need and says which one fails (docs/operations.md):

    database  `SELECT 1` on the default database
    cache     set, read back and delete a random key in the default cache
    broker    connect to CELERY_BROKER_URL with kombu (Redis, or the
              filesystem transport of the embedded default, whose outgoing
              folder must be writable)
    storage   write, read back and delete a small file under `healthcheck/`
              in the default media storage

Each check runs in a thread of its own and is given CHECK_TIMEOUT seconds;
the checks run side by side, so the answer comes within about that time even
when a service does not answer at all (a firewall that drops packets, a Redis
that is stopped). A check that overruns is reported as `TimeoutError` and left
to finish on its own; its thread is a daemon, so it never holds up the
process's exit. While a check is still running, a new request waits for that
same run instead of starting another one: probes of a hanging service never
pile up threads (at most one per check), and two probes at the same moment
share one run.

The answer names a failure by its exception's class only, never its message:
a message may carry a host, a password in a URL or a file path. The full error
goes to the log (logger `portal.health`), which only operators read.
"""

from __future__ import annotations

import contextvars
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable
from urllib.parse import urlsplit

from kombu import Connection

from django.conf import settings
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connections
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

logger = logging.getLogger(__name__)

#: Seconds each check may take before it counts as failed.
CHECK_TIMEOUT = 2.0


class ReadBackMismatch(Exception):
    """What a check wrote could not be read back unchanged (a cache that
    answers every read with a miss, a storage that lost the file)."""


class BrokerFolderUnwritable(Exception):
    """The filesystem broker's outgoing folder cannot be written: no task
    could be queued."""


def check_database() -> None:
    """Return if `SELECT 1` answers on the default database; raise otherwise.

    It runs in a pool thread, which opens a connection of its own; that
    connection is closed afterwards, so none is left open between checks (a
    test database could not be dropped with one open)."""
    connection = connections["default"]
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    finally:
        connection.close()


def check_cache() -> None:
    """Return if a random key can be set, read back and deleted in the
    default cache; raise otherwise. The embedded cache reports its own
    failures as misses (portal/cache.py), hence the comparison."""
    key = f"portal:readyz:{uuid.uuid4().hex}"
    value = uuid.uuid4().hex
    cache.set(key, value, timeout=60)
    try:
        if cache.get(key) != value:
            raise ReadBackMismatch
    finally:
        cache.delete(key)


def check_broker() -> None:
    """Return if kombu can connect to CELERY_BROKER_URL; raise otherwise.

    One attempt and one retry, without waiting between them, with socket
    timeouts of CHECK_TIMEOUT (used by the Redis transport, ignored by the
    others). The filesystem transport "connects" without touching the disk,
    so for it the folder that web processes write tasks to must also be a
    writable folder: it is created if missing, as the Celery app itself does
    before sending (portal/celery.py)."""
    url = settings.CELERY_BROKER_URL
    options = dict(getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", None) or {})
    options.setdefault("socket_timeout", CHECK_TIMEOUT)
    options.setdefault("socket_connect_timeout", CHECK_TIMEOUT)
    with Connection(
        url, connect_timeout=CHECK_TIMEOUT, transport_options=options
    ) as connection:
        connection.ensure_connection(
            max_retries=1, interval_start=0, interval_step=0, timeout=CHECK_TIMEOUT
        )
    if urlsplit(url).scheme == "filesystem":
        folder = options.get("data_folder_out", "data_out")
        os.makedirs(folder, exist_ok=True)
        if not os.access(folder, os.W_OK | os.X_OK):
            raise BrokerFolderUnwritable


def check_storage() -> None:
    """Return if a small file can be saved under `healthcheck/` in the
    default media storage, read back unchanged and deleted; raise otherwise."""
    content = uuid.uuid4().hex.encode()
    name = default_storage.save(
        f"healthcheck/{uuid.uuid4().hex}.txt", ContentFile(content)
    )
    try:
        with default_storage.open(name, "rb") as file:
            if file.read() != content:
                raise ReadBackMismatch
    finally:
        default_storage.delete(name)


#: The checks, by the name the answer gives them.
CHECKS: dict[str, Callable[[], None]] = {
    "database": check_database,
    "cache": check_cache,
    "broker": check_broker,
    "storage": check_storage,
}


class CheckRun:
    """One run of a check in a daemon thread; `error` is what it raised
    (None if it passed), once `thread` has finished."""

    def __init__(self, name: str, check: Callable[[], None]) -> None:
        self.error: BaseException | None = None
        self._check = check
        # The thread sees this request's context (its request id in the log).
        context = contextvars.copy_context()
        self.thread = threading.Thread(
            target=context.run, args=(self._run,), name=f"readyz-{name}", daemon=True
        )

    def _run(self) -> None:
        try:
            self._check()
        except BaseException as error:
            self.error = error


#: The latest run of each check, by name; guarded by _runs_lock.
_runs: dict[str, CheckRun] = {}
_runs_lock = threading.Lock()


def _start_or_join(name: str, check: Callable[[], None]) -> CheckRun:
    """A run of `check` that has started: the one still running from an
    earlier request, if any, else a new one."""
    with _runs_lock:
        run = _runs.get(name)
        if run is None or not run.thread.is_alive():
            run = _runs[name] = CheckRun(name, check)
            run.thread.start()
        return run


def run_checks() -> dict[str, str]:
    """Run every check at once and give each one's result within about
    CHECK_TIMEOUT seconds: "ok", or "error: <exception class>"
    (`TimeoutError` for a check still running at the deadline). Failures
    are logged with their full error. Raises only when a thread cannot be
    started; a check's own error never escapes."""
    runs = {name: _start_or_join(name, check) for name, check in CHECKS.items()}
    deadline = time.monotonic() + CHECK_TIMEOUT
    results = {}
    for name, run in runs.items():
        run.thread.join(max(0.0, deadline - time.monotonic()))
        error = TimeoutError() if run.thread.is_alive() else run.error
        if error is None:
            results[name] = "ok"
        else:
            logger.warning("Readiness check %s failed", name, exc_info=error)
            results[name] = f"error: {type(error).__name__}"
    return results


@never_cache
@require_safe
def ready(request: HttpRequest) -> JsonResponse:
    """200 `{"status": "ready", "checks": {...: "ok"}}` when every check
    passes, else 503 `{"status": "unavailable", "checks": {...}}` naming
    each failure by its class. No session, no cookie, no rate limit; never
    cached."""
    try:
        checks = run_checks()
    except Exception as error:  # a thread that cannot be started, say
        logger.exception("Readiness checks could not run")
        checks = {name: f"error: {type(error).__name__}" for name in CHECKS}
    healthy = all(result == "ok" for result in checks.values())
    return JsonResponse(
        {"status": "ready" if healthy else "unavailable", "checks": checks},
        status=200 if healthy else 503,
    )

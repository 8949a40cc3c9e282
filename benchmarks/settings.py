"""Settings for `make bench`: the test settings on a throwaway SQLite file.

Everything comes from portal.settings.test (Celery tasks run eagerly in the
process, e-mail is delivered to Django's locmem backend); only the places
where data lands are moved into one temporary folder that benchmarks.run
creates and removes. The embedded default is forced even when DATABASE_URL or
REDIS_URL are set in the shell, so that figures from two machines compare.
"""

import os
import tempfile
from pathlib import Path

from portal.settings.test import *  # noqa: F403
from portal.settings.test import LOGGING

BENCH_DIR = Path(
    os.environ.get("PORTAL_BENCH_DIR") or tempfile.mkdtemp(prefix="portal-bench-")
)

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(BENCH_DIR / "bench.sqlite3"),
        # The same options as the embedded default in portal.settings.base.
        "OPTIONS": {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        },
    }
}
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "portal_cache",
    }
}
MEDIA_ROOT = str(BENCH_DIR / "media")
STATIC_ROOT = str(BENCH_DIR / "static")

# Eager: a task runs in the process when its transaction commits, so the
# broker is never contacted; memory:// makes sure of it.
CELERY_TASK_ALWAYS_EAGER = True
CELERY_BROKER_URL = "memory://"
CELERY_BROKER_TRANSPORT_OPTIONS: dict = {}
PORTAL_EMAIL_DELIVERY_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

# The outbox logs nothing on success, but Wagtail and Celery chat at INFO.
LOGGING = {**LOGGING, "root": {**LOGGING["root"], "level": "WARNING"}}

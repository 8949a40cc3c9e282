"""Settings for benchmarks.certificates and the Celery worker it starts.

The test settings (portal.settings.test) with the database, broker and media
that benchmarks.certificates chose and exported: DATABASE_URL (a throwaway
PostgreSQL database, or an SQLite file in its temporary folder), the broker
(Redis when REDIS_URL is set, else the filesystem broker in that folder) and
PORTAL_TEST_SHARED_DIR (media and broker folders). Tasks go to a queue of
their own, so no other worker on the same Redis takes them.
"""

import os

from portal.settings.test import *  # noqa: F403
from portal.settings.test import LOGGING, queues

CELERY_TASK_ALWAYS_EAGER = False
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("PORTAL_BENCH_QUEUE", "portal-bench")
CELERY_TASK_ROUTES = queues.task_routes(CELERY_TASK_DEFAULT_QUEUE)
# E-mails are rows in the outbox, then delivered to nowhere: the dummy
# backend keeps nothing in the worker's memory (locmem would, and the memory
# figures would grow with every message).
PORTAL_EMAIL_DELIVERY_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
LOGGING = {**LOGGING, "root": {**LOGGING["root"], "level": "WARNING"}}

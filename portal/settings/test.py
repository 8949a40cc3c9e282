"""The test suite: SQLite by default, PostgreSQL and Redis when DATABASE_URL and
REDIS_URL are set (the second CI run)."""

import atexit
import os
import shutil
import tempfile

from .base import *  # noqa: F403
from .base import (
    AWS_STORAGE_BUCKET_NAME,
    CACHES,
    CELERY_BROKER_URL,
    DATABASES,
    REDIS_URL,
    STORAGES,
    env,
    queues,
)

# --- A folder shared with the worker a test may start ------------------------
# tests/portal/test_worker.py starts a real Celery worker process. It must see
# the test database and the same broker, so both live where a second process
# can open them: an SQLite file (not :memory:) and a broker folder. The process
# that creates the folder exports its path (the worker inherits it) and removes
# it when it exits.
_shared = os.environ.get("PORTAL_TEST_SHARED_DIR")
if not _shared:
    _shared = os.environ["PORTAL_TEST_SHARED_DIR"] = tempfile.mkdtemp(
        prefix="portal-test-"
    )
    atexit.register(shutil.rmtree, _shared, ignore_errors=True)

SECRET_KEY = "test-secret-key-not-for-production-0123456789abcdefghijklmnop"
DEBUG = False
ALLOWED_HOSTS = ["*"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
PORTAL_DEMO_ALLOWED = True
# Tests change the sites between two requests, some with a queryset update
# that no signal reports: every request asks the database, as Wagtail does
# (tests/portal/test_sites.py turns the process's copy on).
PORTAL_SITE_CACHE_SECONDS = 0
PORTAL_EMAIL_DELIVERY_BACKEND = env.str(
    "PORTAL_EMAIL_DELIVERY_BACKEND",
    default="django.core.mail.backends.locmem.EmailBackend",
)
EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH", default=os.path.join(_shared, "mail"))
STORAGES = {
    # On disk in the shared folder, unless a test starts processes with an
    # S3_BUCKET of their own (tests/portal/test_cluster.py): then base's.
    "default": STORAGES["default"]
    if AWS_STORAGE_BUCKET_NAME
    else {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_ROOT = os.path.join(_shared, "media")
STATIC_ROOT = os.path.join(_shared, "static")
os.makedirs(STATIC_ROOT, exist_ok=True)
PORTAL_BASE_URL = WAGTAILADMIN_BASE_URL = "http://testserver"

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["TEST"] = {"NAME": os.path.join(_shared, "test.sqlite3")}
else:
    # One test database per run, so that two runs on one server (a developer's
    # and CI's) never drop each other's database.
    _name = DATABASES["default"]["NAME"]
    DATABASES["default"]["TEST"] = {"NAME": f"test_{_name}_{os.getpid()}"}
if CACHES["default"]["BACKEND"] == "portal.cache.SQLiteCache":
    # The embedded default's cache file, beside the test database (a worker
    # started by a test shares it), never the developer's var/cache.sqlite3.
    CACHES["default"]["LOCATION"] = os.path.join(_shared, "cache.sqlite3")
if REDIS_URL:
    # The suite clears the cache between tests, and Django's RedisCache.clear()
    # empties the whole Redis database: the tests' cache lives in a database
    # of its own (15), apart from the broker's queues and a developer's portal.
    from urllib.parse import urlsplit, urlunsplit

    _parts = urlsplit(REDIS_URL)
    CACHES["default"]["LOCATION"] = urlunsplit(_parts._replace(path="/15"))
    CACHES["default"]["KEY_PREFIX"] = "portal-test"

# Tasks run in the test process unless a test starts a real worker.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)
CELERY_TASK_EAGER_PROPAGATES = True
# Its own queue, so that a developer's running worker never takes test tasks.
CELERY_TASK_DEFAULT_QUEUE = "portal-test"
CELERY_TASK_ROUTES = queues.task_routes(CELERY_TASK_DEFAULT_QUEUE)
if CELERY_BROKER_URL == "filesystem://":
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": os.path.join(_shared, "broker"),
        "data_folder_out": os.path.join(_shared, "broker"),
        "processed_folder": os.path.join(_shared, "processed"),
        "store_processed": False,
        "control_folder": os.path.join(_shared, "control"),
        "polling_interval": 0.2,
    }

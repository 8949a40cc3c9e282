"""The test suite: SQLite by default, PostgreSQL and Redis when DATABASE_URL and
REDIS_URL are set (the second CI run)."""

import tempfile

from .base import *  # noqa: F403
from .base import CACHES, REDIS_URL, env

SECRET_KEY = "test-secret-key-not-for-production-0123456789abcdefghijklmnop"
DEBUG = False
ALLOWED_HOSTS = ["*"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
PORTAL_EMAIL_DELIVERY_BACKEND = env.str(
    "PORTAL_EMAIL_DELIVERY_BACKEND",
    default="django.core.mail.backends.locmem.EmailBackend",
)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_ROOT = tempfile.mkdtemp(prefix="portal-test-media-")
STATIC_ROOT = tempfile.mkdtemp(prefix="portal-test-static-")
# Tasks run in the test process unless a test starts a real worker.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)
CELERY_TASK_EAGER_PROPAGATES = True
if REDIS_URL:
    # A separate key prefix per run keeps rate-limit counters apart.
    CACHES["default"]["KEY_PREFIX"] = "portal-test"
WAGTAILADMIN_BASE_URL = "http://testserver"

# --- Sharing the test database and broker with a real worker -----------------
# tests/portal/test_worker.py starts a Celery worker process. It must see the
# test database and the same broker, so both live in places a second process
# can open: an SQLite file (not :memory:) and a broker folder, whose paths are
# exported for the worker to inherit.
import os  # noqa: E402

from .base import DATABASES  # noqa: E402

_shared = os.environ.setdefault(
    "PORTAL_TEST_SHARED_DIR", tempfile.mkdtemp(prefix="portal-test-")
)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["TEST"] = {"NAME": os.path.join(_shared, "test.sqlite3")}
if CELERY_BROKER_URL == "filesystem://":  # noqa: F405
    _queue = os.path.join(_shared, "broker")
    CELERY_BROKER_TRANSPORT_OPTIONS = {  # noqa: F405
        **CELERY_BROKER_TRANSPORT_OPTIONS,  # noqa: F405
        "data_folder_in": _queue,
        "data_folder_out": _queue,
        "processed_folder": os.path.join(_shared, "processed"),
        "control_folder": os.path.join(_shared, "control"),
    }
# Its own queue, so that a developer's running worker never takes test tasks.
CELERY_TASK_DEFAULT_QUEUE = "portal-test"
EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH", default=os.path.join(_shared, "mail"))

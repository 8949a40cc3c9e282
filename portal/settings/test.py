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
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
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

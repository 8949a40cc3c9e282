"""Settings for benchmarks.load: production, served over plain HTTP on 127.0.0.1.

Everything comes from portal.settings.production (DEBUG off, WhiteNoise's
hashed and compressed static files, persistent PostgreSQL connections, the
same middleware and templates), which reads the environment. benchmarks.load
sets that environment for itself and for the gunicorn it starts: a random
SECRET_KEY shared by both (sessions are created in one process and read in
the other), DATABASE_URL naming the throwaway database, EMAIL_URL and
PORTAL_VAR_DIR (a temporary folder for static and media files) and, when it
was given a REDIS_URL, BENCH_REDIS_URL and BENCH_CACHE_PREFIX. Only what
plain HTTP and a closed benchmark need differs from production, below; nothing
leaves the machine (no SMTP, no broker, no S3).
"""

from django.core.exceptions import ImproperlyConfigured

from portal.settings.production import *  # noqa: F403
from portal.settings.production import DATABASES, LOGGING, STORAGES, env

if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured("benchmarks.load_settings needs a PostgreSQL database")
# portal.settings.base keeps connections for CONN_MAX_AGE seconds (default 60);
# benchmarks.load checks that it is on.

DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

# Plain HTTP: no redirect to HTTPS, no HSTS, cookies sent without TLS.
SECURE_SSL_REDIRECT = False
SECURE_HSTS_SECONDS = 0
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
LANGUAGE_COOKIE_SECURE = False

# The shared cache (and so the sessions' cache): Redis when benchmarks.load
# was started with REDIS_URL set, under a key prefix of its own that the run
# deletes at the end; otherwise the portal's default, a table in the database.
if env.str("BENCH_REDIS_URL", default=""):
    CACHES = {
        "default": {
            "BACKEND": "portal.cache.RedisCache",
            "LOCATION": env.str("BENCH_REDIS_URL"),
            "KEY_PREFIX": env.str("BENCH_CACHE_PREFIX"),
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "portal_cache",
        }
    }

# Tasks run in the web process when their transaction commits; e-mail goes to
# Django's locmem backend; media stay on disk under PORTAL_VAR_DIR.
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BROKER_URL = "memory://"
CELERY_BROKER_TRANSPORT_OPTIONS: dict = {}
PORTAL_EMAIL_DELIVERY_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    **STORAGES,
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
}

# Warnings and errors only: gunicorn's error log is kept in the temporary
# folder and printed if the server fails.
LOGGING = {**LOGGING, "root": {**LOGGING["root"], "level": "WARNING"}}

"""Production: everything from the environment, secure by default.

`manage.py check --deploy --fail-level WARNING` passes with these settings and a
SECRET_KEY of fifty random characters (see docs/configuration.md).
"""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import LOGGING, STORAGES, env

# Required, with no default: without them a server would sign sessions with a
# guessable key or "send" e-mail into a log. All missing ones are named at once,
# before anything else reads them (manage.py prints this without a traceback).
_missing = [name for name in ("SECRET_KEY", "EMAIL_URL") if not env.str(name, "")]
if _missing:
    raise ImproperlyConfigured(
        f"Set the environment variable(s) {', '.join(_missing)}: production "
        "settings refuse to start without them (docs/deploy.md, step 3, and "
        "docs/configuration.md). For development on this machine, use "
        "DJANGO_SETTINGS_MODULE=portal.settings.dev, as `make run` does."
    )

# A production server must deliver e-mail: no console fallback here, so a
# missing EMAIL_URL stops the start instead of "sending" into a log.
_email_config = env.email_url("EMAIL_URL")
PORTAL_EMAIL_DELIVERY_BACKEND = _email_config.pop("EMAIL_BACKEND")
vars().update(_email_config)

DEBUG = False
SECRET_KEY = env.str("SECRET_KEY")

# No default address in production: links in e-mails and QR codes to the
# development server would be wrong for years (deploy check portal.E010).
PORTAL_BASE_URL = env.str("BASE_URL", default="").rstrip("/")
WAGTAILADMIN_BASE_URL = PORTAL_BASE_URL

STORAGES["staticfiles"] = {
    "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
}

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
# The probes answer over plain HTTP too: a supervisor or monitoring on the
# machine asks gunicorn directly (docs/operations.md); neither sets a cookie
# or shows anything but a status.
SECURE_REDIRECT_EXEMPT = [r"^healthz/$", r"^readyz/$"]
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
LANGUAGE_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool(
    "SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True
)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Wagtail's preview views send SAMEORIGIN themselves; everything else DENY.
X_FRAME_OPTIONS = "DENY"
# One line of JSON per record, with the request's id (portal/logs.py;
# docs/operations.md). Development keeps base's plain text.
LOGGING = {
    **LOGGING,
    "formatters": {
        **LOGGING["formatters"],
        "json": {"()": "portal.logs.JsonFormatter"},
    },
    "handlers": {
        **LOGGING["handlers"],
        "console": {**LOGGING["handlers"]["console"], "formatter": "json"},
    },
}

SILENCED_SYSTEM_CHECKS = [
    # HSTS preload is a decision for the operator of the domain, not the code.
    "security.W021",
]

"""Production: everything from the environment, secure by default.

`manage.py check --deploy --fail-level WARNING` passes with these settings and a
SECRET_KEY of fifty random characters (see docs/configuration.md).
"""

from .base import *  # noqa: F403
from .base import STORAGES, env

# A production server must deliver e-mail: no console fallback here, so a
# missing EMAIL_URL stops the start instead of "sending" into a log.
_email_config = env.email_url("EMAIL_URL")
PORTAL_EMAIL_DELIVERY_BACKEND = _email_config.pop("EMAIL_BACKEND")
vars().update(_email_config)

DEBUG = False
SECRET_KEY = env.str("SECRET_KEY")

STORAGES["staticfiles"] = {
    "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
}

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
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
SILENCED_SYSTEM_CHECKS = [
    # HSTS preload is a decision for the operator of the domain, not the code.
    "security.W021",
]

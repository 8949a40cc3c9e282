"""Production: everything from the environment, secure by default.

`manage.py check --deploy --fail-level WARNING` passes with these settings and a
SECRET_KEY of fifty random characters (see docs/configuration.md).
"""

from .base import *  # noqa: F403
from .base import STORAGES, env

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
X_FRAME_OPTIONS = "SAMEORIGIN"
SILENCED_SYSTEM_CHECKS = [
    # HSTS preload is a decision for the operator of the domain, not the code.
    "security.W021",
    # Wagtail's live preview shows the page in a same-origin frame, which
    # DENY would break; SAMEORIGIN still blocks framing by other sites.
    "security.W019",
]

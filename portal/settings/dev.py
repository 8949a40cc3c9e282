"""Local development: the embedded default that `make run` starts."""

from django.core.management.utils import get_random_secret_key

from .base import *  # noqa: F403
from .base import DATABASES, VAR_DIR, env

DEBUG = env.bool("DEBUG", default=True)


def _local_secret_key() -> str:
    """A key kept in var/ so that sessions survive a restart of `make run`."""
    path = VAR_DIR / "secret_key"
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(get_random_secret_key())
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = env.str("SECRET_KEY", default="") or _local_secret_key()
# The development server runs each request in a thread of its own: a
# connection kept for the next request (CONN_MAX_AGE) is never reused, and
# on PostgreSQL each client left one open until the server ran out of them.
if DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)

# The demo's accounts have published passwords: fine on a developer's machine.
PORTAL_DEMO_ALLOWED = True
# E-mails stay readable in the admin (设置 › 发出的邮件), verification links
# included: no mail leaves a developer's machine (README, "Trying it out").
PORTAL_EMAIL_KEEP_CONTENT = True
(VAR_DIR / "static").mkdir(parents=True, exist_ok=True)

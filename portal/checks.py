"""Deployment checks of the portal (`manage.py check --deploy`).

A broker that anyone on the network may write to runs tasks for them: the
worker runs what a queue message names (only tasks on its allow-lists, but
with the arguments the message gives), and a cache without a password holds
sessions and rate-limit counters. docs/configuration.md, "Cache and Celery
broker", shows a Redis with a password.

The filesystem broker (the embedded default) is not warned about: it is the
documented one-machine deployment, and its folder is protected as the
SQLite file is, by who may write to it; a folder that anyone may write to
is warned about instead.
"""

import os
import stat
from urllib.parse import urlsplit

from django.conf import settings
from django.core import checks

#: Network transports whose URL must carry a password.
NETWORK_SCHEMES = {"redis", "rediss", "amqp", "amqps", "pyamqp", "librabbitmq"}


def register() -> None:
    """Register the checks (from PortalConfig.ready)."""
    checks.register(check_broker_credentials, checks.Tags.security, deploy=True)
    checks.register(check_cache_credentials, checks.Tags.security, deploy=True)
    checks.register(check_certificate_fonts, deploy=True)
    checks.register(check_base_url, deploy=True)
    checks.register(check_outbox_keeps_no_secrets, deploy=True)


def _without_password(url: str) -> bool:
    """A network URL with no password (or RabbitMQ's well-known guest one)."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in NETWORK_SCHEMES:
        return False
    if scheme in {"redis", "rediss"}:
        return not parts.password
    return parts.password in (None, "", "guest")  # RabbitMQ's default user


def _shown(url: str) -> str:
    """The URL without its credentials, for a message."""
    parts = urlsplit(url.strip())
    host = parts.netloc.rpartition("@")[2]
    return f"{parts.scheme}://{host}{parts.path}"


def check_broker_credentials(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """portal.W001: a Redis/AMQP broker without a password; portal.W003: a
    filesystem broker whose folders anyone may write to."""
    url = str(getattr(settings, "CELERY_BROKER_URL", "") or "")
    messages: list[checks.CheckMessage] = []
    # Celery takes a list of fail-over URLs separated by ";".
    for each in filter(None, url.split(";")):
        if _without_password(each):
            messages.append(
                checks.Warning(
                    f"CELERY_BROKER_URL ({_shown(each)}) has no password: "
                    "whoever reaches the broker can queue tasks for the worker.",
                    hint="Set requirepass in redis.conf (or a RabbitMQ user) and "
                    "give it in the URL: redis://:PASSWORD@host:6379/1.",
                    id="portal.W001",
                )
            )
    if url.startswith("filesystem://"):
        options = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {}) or {}
        folders = {
            options[key]
            for key in ("data_folder_in", "data_folder_out", "control_folder")
            if options.get(key)
        }
        messages += [
            checks.Warning(
                f"The filesystem broker's folder {folder} is writable by every "
                "user of the machine: any of them can queue tasks for the worker.",
                hint=f"chmod o-w {folder} (PORTAL_VAR_DIR belongs to the "
                "portal's user).",
                id="portal.W003",
            )
            for folder in sorted(folders)
            if os.path.isdir(folder) and os.stat(folder).st_mode & stat.S_IWOTH
        ]
    return messages


def check_cache_credentials(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """portal.W002: a Redis cache (REDIS_URL) without a password."""
    messages: list[checks.CheckMessage] = []
    for alias, cache in settings.CACHES.items():
        if "redis" not in str(cache.get("BACKEND", "")).lower():
            continue
        location = cache.get("LOCATION", "")
        # Django's RedisCache takes a list, or servers separated by ",".
        urls = location if isinstance(location, list | tuple) else location.split(",")
        for url in urls:
            if _without_password(str(url)):
                messages.append(
                    checks.Warning(
                        f"The cache {alias!r} ({_shown(str(url))}) has no "
                        "password: whoever reaches Redis can read sessions and "
                        "reset rate limits.",
                        hint="Set requirepass in redis.conf and give it in "
                        "REDIS_URL: redis://:PASSWORD@host:6379/0.",
                        id="portal.W002",
                    )
                )
    return messages


def check_certificate_fonts(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """portal.W004: a font family of the certificate is not installed. Its
    characters would print as boxes, and the name forms refuse them
    (portal.fonts)."""
    from portal import fonts

    missing = fonts.missing_families()
    if not missing:
        return []
    packages = sorted({fonts.PACKAGES[family] for family in missing})
    return [
        checks.Warning(
            f"Certificate fonts not installed: {', '.join(missing)}. Names with "
            "characters only they have cannot be entered, and certificates "
            "cannot print them.",
            hint=f"apt-get install {' '.join(packages)} (scripts/system-deps.sh "
            "run does it).",
            id="portal.W004",
        )
    ]


#: Hosts that are never a public address.
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "0.0.0.0", "testserver"}


def check_base_url(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """portal.E010: no public address (BASE_URL), or one that is not an
    http(s) address of a host, or a local one; portal.W010: not https. Every
    absolute link (e-mails, QR codes on certificates, feeds, the sitemap)
    is written with it, and a printed QR code cannot be corrected."""
    url = str(getattr(settings, "PORTAL_BASE_URL", "") or "")
    parts = urlsplit(url)
    hint = (
        "Set BASE_URL to the address visitors use, e.g. "
        "BASE_URL=https://ip.example.gov.cn (docs/configuration.md)."
    )
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return [
            checks.Error(
                f"BASE_URL is not set to the portal's public address ({url!r}): "
                "links in e-mails and the QR codes printed on certificates would "
                "point nowhere.",
                hint=hint,
                id="portal.E010",
            )
        ]
    if parts.hostname in LOCAL_HOSTS or parts.path not in ("", "/"):
        return [
            checks.Error(
                f"BASE_URL ({url}) is not a public address: it names this "
                "machine or has a path, and every link the portal sends would "
                "carry it.",
                hint=hint,
                id="portal.E010",
            )
        ]
    if parts.scheme != "https":
        return [
            checks.Warning(
                f"BASE_URL ({url}) is not https: links in e-mails and on "
                "certificates would send visitors to an unencrypted address.",
                hint=hint,
                id="portal.W010",
            )
        ]
    return []


def check_outbox_keeps_no_secrets(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """portal.E011: e-mails kept after delivery (PORTAL_EMAIL_KEEP_CONTENT),
    account e-mails shown in the admin: reset links and confirmation keys
    readable by every administrator. Development only."""
    if not getattr(settings, "PORTAL_EMAIL_KEEP_CONTENT", False):
        return []
    return [
        checks.Error(
            "PORTAL_EMAIL_KEEP_CONTENT keeps every e-mail after delivery and shows "
            "password-reset links and confirmation keys in the admin.",
            hint="It is for development (portal.settings.dev); production "
            "settings leave it off.",
            id="portal.E011",
        )
    ]

"""The portal's public address: one setting, `PORTAL_BASE_URL` (the
environment's `BASE_URL`), for every absolute link the portal writes —
e-mails, QR codes, feeds, the sitemap, share tags, robots.txt and the API.

Wagtail builds a page's full URL from its Site record, so the default Site
follows the setting: `site_sync` writes its hostname and port after every
`migrate` (a deployment runs it; `make run` runs it at each start). In
development the address follows `make run PORT=…` (the settings read
PORTAL_PORT); production requires BASE_URL (deploy check portal.E010).
"""

import logging
from urllib.parse import urlsplit

from django.conf import settings

logger = logging.getLogger(__name__)


def base_url() -> str:
    """The public address without a trailing slash: https://portal.example.org."""
    return str(settings.PORTAL_BASE_URL).rstrip("/")


def absolute_url(path: str) -> str:
    """`path` (starting with "/", as reverse() and Page.url give it) on the
    public address."""
    if not path.startswith("/"):
        path = "/" + path
    return base_url() + path


def site_address() -> tuple[str, int]:
    """(hostname, port) of the public address as a Wagtail Site holds them:
    80 for http and 443 for https when the address names no port."""
    parts = urlsplit(base_url())
    default = 443 if parts.scheme == "https" else 80
    return parts.hostname or "localhost", parts.port or default


def site_sync(**kwargs: object) -> None:
    """Make the default Wagtail Site the public address (post_migrate).
    Changes nothing when it already is, or when there is no default site
    (before the migration that creates it)."""
    from wagtail.models import Site

    site = Site.objects.filter(is_default_site=True).first()
    if site is None:
        return
    hostname, port = site_address()
    if (site.hostname, site.port) == (hostname, port):
        return
    logger.info(
        "Default site %s:%s set to the public address %s",
        site.hostname,
        site.port,
        base_url(),
    )
    site.hostname, site.port = hostname, port
    site.save(update_fields=["hostname", "port"])

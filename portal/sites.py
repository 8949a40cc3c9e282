"""The request's Wagtail site without a query on every request.

Wagtail finds the site of each request with a query (Site.find_for_request:
the sites matching the host, with their root page), the one query every
page, form and feed makes before anything else. Its answer changes only when
an administrator edits the sites, or the root page's own row (its slug,
its title), so each process keeps the rows it read for
PORTAL_SITE_CACHE_SECONDS (default 10; 0 turns this off) and builds fresh
instances from them for every request: nothing one request sets on its site
or root page reaches the next.

A change is seen at once in the process that made it (the cache is emptied
when a site or a page is saved or deleted) and within the period in the
others (gunicorn's other workers). A renamed or moved root page is the only
thing that could send a request the wrong way for those seconds; the site's
root page is renamed about never.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db.models import Model
from django.db.models.signals import post_delete, post_save
from django.http import HttpRequest, HttpResponse
from django.http.request import split_domain_port

from wagtail.models import Page, Site
from wagtail.models.sites import get_site_for_hostname

#: (hostname, port) -> (read at, the site's row, its root page's row), or
#: (read at, None, None) when no site answers for that host.
_kept: dict[tuple[str, int | str], tuple[float, dict | None, dict | None]] = {}


def _row(instance: Any) -> dict[str, Any]:
    return {
        field.attname: getattr(instance, field.attname)
        for field in type(instance)._meta.concrete_fields
    }


def _built(model: type[Model], row: dict[str, Any]) -> Any:
    return model.from_db("default", list(row), list(row.values()))


def site_for_request(request: HttpRequest) -> Site | None:
    """What Site.find_for_request answers for `request`, from the rows kept
    for its host if they are recent enough."""
    seconds = getattr(settings, "PORTAL_SITE_CACHE_SECONDS", 10)
    # The raw host, as Wagtail reads it: ALLOWED_HOSTS is not this check's.
    hostname = split_domain_port(request._get_raw_host())[0]  # type: ignore[attr-defined]  # private in the stubs
    key = (hostname, request.get_port())
    now = time.monotonic()
    kept = _kept.get(key)
    if kept is None or now - kept[0] >= seconds:
        try:
            site = get_site_for_hostname(hostname, key[1])
        except Site.DoesNotExist:
            site = None
        kept = (
            now,
            None if site is None else _row(site),
            None if site is None else _row(site.root_page),
        )
        if seconds > 0:
            _kept[key] = kept
    if kept[1] is None or kept[2] is None:
        return None
    site = _built(Site, kept[1])
    site.root_page = _built(Page, kept[2])
    return site


def forget(**_kwargs: Any) -> None:
    """Empty this process's rows: a site or a page changed."""
    _kept.clear()


post_save.connect(forget, sender=Site, dispatch_uid="portal.sites.site_saved")
post_delete.connect(forget, sender=Site, dispatch_uid="portal.sites.site_deleted")


def _page_changed(sender: type, instance: Any, **_kwargs: Any) -> None:
    if isinstance(instance, Page):
        forget()


post_save.connect(_page_changed, dispatch_uid="portal.sites.page_saved")
post_delete.connect(_page_changed, dispatch_uid="portal.sites.page_deleted")


class SiteMiddleware:
    """Give the request its site (site_for_request) before anything asks
    Wagtail for it; Site.find_for_request then answers from the request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if getattr(settings, "PORTAL_SITE_CACHE_SECONDS", 10) > 0:
            request._wagtail_site = site_for_request(request)  # type: ignore[attr-defined]  # Wagtail's own per-request cache
        return self.get_response(request)

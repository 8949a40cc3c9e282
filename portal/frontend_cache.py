"""Pages the reverse proxy may keep, and their purge when they change
(docs/deploy.md, "The proxy's cache"); off unless FRONTEND_CACHE_URL is set.

What an anonymous visitor reads most, a news item, a notice, a policy, an
ordinary page, is the same for every visitor until an editor publishes it
again. With FRONTEND_CACHE_URL set, such a page answered to a visitor who is
not signed in, with no view restriction, setting no cookie, carries
`Cache-Control: public, max-age=0, s-maxage=<FRONTEND_CACHE_SECONDS>`: nginx
keeps it that long (browsers do not), and every visitor with no cookie gets
nginx's copy. Publishing or unpublishing the page sends a PURGE for its
address in each language to nginx (Wagtail's frontend-cache HTTP backend,
through the worker), so an edit shows at once.

Not kept, by design: the home page and campaign pages (they change at the
minute a campaign opens, with no publish to purge them), index pages (their
lists and pages of results change when a child is published), courses and
lessons (signed-in learners), the talent pool (every profile view counts
towards a visitor's daily cap) and anything a signed-in visitor sees.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.cache import patch_cache_control

# Imported here, not when the first page is published: the purge is a
# django-task of PORTAL_DJANGO_TASKS, defined in every process that starts.
from wagtail.contrib.frontend_cache import tasks as _purge_task  # noqa: F401
from wagtail.contrib.frontend_cache.utils import purge_urls_from_cache
from wagtail.models import Page

#: The page types whose published version is the same for every anonymous
#: visitor and changes only when it is published.
CACHED_PAGE_TYPES = frozenset(
    {
        "portal.NewsPage",
        "portal.NoticePage",
        "portal.PolicyDocumentPage",
        "portal.StandardPage",
    }
)

#: Set on a request whose answer may be kept by the proxy.
MARK = "portal_shared_cache"


def enabled() -> bool:
    return bool(getattr(settings, "WAGTAILFRONTENDCACHE", None))


def cached_type(page: Page) -> bool:
    return page.specific_class._meta.label in CACHED_PAGE_TYPES


def mark_for_the_proxy(
    page: Page, request: HttpRequest, serve_args: Any, serve_kwargs: Any
) -> None:
    """Wagtail's before_serve_page (registered in portal/wagtail_hooks.py):
    mark the request; the middleware decides once the answer is known."""
    if (
        enabled()
        and request.method in ("GET", "HEAD")
        and not request.user.is_authenticated
        and not getattr(request, "is_preview", False)
        and cached_type(page)
        and not page.get_view_restrictions().exists()
    ):
        setattr(request, MARK, True)


class SharedCacheMiddleware:
    """Give a marked request's answer its shared-cache lifetime, unless it
    is not a plain 200 or sets a cookie (a CSRF token, a message, a
    session): such an answer belongs to one visitor."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            getattr(request, MARK, False)
            and response.status_code == 200
            and not response.cookies
        ):
            seconds = settings.PORTAL_FRONTEND_CACHE_SECONDS
            patch_cache_control(response, public=True, max_age=0, s_maxage=seconds)
            # nginx's own header, first among its rules, removed before the
            # browser sees it (nginx 1.22 does not read s-maxage).
            response["X-Accel-Expires"] = str(seconds)
        return response


def page_addresses(page: Page) -> list[str]:
    """The page's address in each language of the site (the default one
    without a prefix, the others under /<language>/)."""
    addresses = []
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            address = page.get_full_url()
        if address and address not in addresses:
            addresses.append(address)
    return addresses


def purge_on_publish(sender: Any, instance: Page, **kwargs: Any) -> None:
    """page_published / page_unpublished: purge the page in every language."""
    if not (enabled() and cached_type(instance)):
        return
    purge_urls_from_cache(page_addresses(instance))


def connect() -> None:
    from wagtail.signals import page_published, page_unpublished

    page_published.connect(purge_on_publish, dispatch_uid="portal-frontend-cache")
    page_unpublished.connect(purge_on_publish, dispatch_uid="portal-frontend-cache")

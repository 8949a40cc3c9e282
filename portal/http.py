"""What the apps' views share: the signed-in user, rate limits that answer
429 with a page or JSON of their own, the decorator for read-only public
JSON, and the one check every `next` address passes before a redirect.

Counters live in the shared cache (RATELIMIT_USE_CACHE), so every web
process agrees. Over a limit, the view answers 429 itself: no
RATELIMIT_VIEW or exception class is set, so other views' 403 handling is
untouched.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING

from django_ratelimit import ALL
from django_ratelimit.core import is_ratelimited

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

if TYPE_CHECKING:
    from portal.models import User

View = Callable[..., HttpResponse]

# A line break in a Location header is refused by Django as a server error;
# no address of ours has a control character.
CONTROL_CHARACTER = re.compile(r"[\x00-\x1f\x7f]")


def signed_in_user(request: HttpRequest) -> User:
    """The request's user, in a view that only signed-in users reach
    (login_required, or Wagtail's admin), narrowed to the portal's User for
    the type checker. Reached anonymously after all (a view wired without
    its login check), it refuses with 403 instead of acting for nobody."""
    if not request.user.is_authenticated:
        raise PermissionDenied
    return request.user


def safe_next(request: HttpRequest, default: str) -> str:
    """The request's `next` (form field, else query string) when it is an
    address on this site, else `default` (an address, not a URL name).

    "On this site": Django's own check, as its login view makes it: no other
    host (`https://evil.example/`, `//evil.example`, `/\\evil.example`), no
    other scheme (`javascript:`), and no step down from HTTPS to HTTP. Every
    redirect to an address the client sent goes through here, so that no
    link of ours sends a visitor to another site (an open redirect).
    """
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if (
        candidate
        and not CONTROL_CHARACTER.search(candidate)
        and url_has_allowed_host_and_scheme(
            candidate,
            allowed_hosts={request.get_host()},
            require_https=request.is_secure(),
        )
    ):
        return candidate
    return default


def too_many_requests(request: HttpRequest, *, api: bool) -> HttpResponse:
    """The 429 answer: JSON for an API, otherwise a page in the site's frame;
    either way with Retry-After, since the limits are per minute."""
    message = _("Too many requests from your network. Wait a minute and try again.")
    if api:
        response: HttpResponse = JsonResponse(
            {"error": "rate_limited", "detail": message}, status=429
        )
    else:
        response = render(request, "429.html", {"message": message}, status=429)
    response["Retry-After"] = "60"
    return response


def rate_limit(
    group: str,
    *,
    rate: Callable[[], str],
    per_user: bool = False,
    method: str | list = ALL,
    api: bool = False,
) -> Callable[[View], View]:
    """Count each request against `group`'s limit for its client IP and, with
    `per_user`, for the signed-in user as well (an account spread over many
    addresses is held to the same limit); over either, answer 429 instead of
    calling the view. `rate` is read on every request ("30/m"), so settings
    changed in tests or at run time apply."""

    def current_rate(_group: str, _request: HttpRequest) -> str:
        return rate()

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            # Both counters are incremented, whichever is over.
            limited = is_ratelimited(
                request=request,
                group=group,
                key="ip",
                rate=current_rate,
                method=method,
                increment=True,
            )
            user = getattr(request, "user", None)
            if per_user and user is not None and user.is_authenticated:
                limited = (
                    is_ratelimited(
                        request=request,
                        group=f"{group}.user",
                        key="user",
                        rate=current_rate,
                        method=method,
                        increment=True,
                    )
                    or limited
                )
            if limited:
                return too_many_requests(request, api=api)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def public_api(view: View) -> View:
    """Read-only JSON anyone may fetch, from any origin, never cached and not
    for search engines."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = view(request, *args, **kwargs)
        response["Access-Control-Allow-Origin"] = "*"
        response["X-Robots-Tag"] = "noindex"
        return response

    return never_cache(require_safe(wrapped))

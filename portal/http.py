"""What the apps' views share: the signed-in user, rate limits that answer
429 with a page or JSON of their own, the decorator for read-only public
JSON, and the one check every `next` address passes before a redirect.

Counters live in the shared cache (RATELIMIT_USE_CACHE), so every web
process agrees. Over a limit, the view answers 429 itself: no
RATELIMIT_VIEW or exception class is set, so other views' 403 handling is
untouched. A limit that cannot be counted (the cache fails) never answers
429: reads go on and the error is logged; limits declared `fail_closed`,
and allauth's sign-in limits (CacheUnavailableMiddleware), answer 503 with
that reason (docs/security.md, "Limits that fail, and an import that runs").
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import TYPE_CHECKING

from django_ratelimit import ALL
from django_ratelimit.core import _split_rate, get_usage

from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.timesince import timeuntil
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

if TYPE_CHECKING:
    from portal.models import User

View = Callable[..., HttpResponse]

logger = logging.getLogger(__name__)

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


def too_many_requests(
    request: HttpRequest, *, api: bool, retry_after: int = 60
) -> HttpResponse:
    """The 429 answer: JSON for an API, otherwise a page in the site's frame;
    either way with Retry-After, the seconds until the window that is full
    ends (a minute for the per-minute limits)."""
    if retry_after <= 60:
        message = _("Too many requests from your network. Wait a minute and try again.")
    else:
        message = _("Too many requests from your network. Try again in %(time)s.") % {
            "time": timeuntil(timezone.now() + timedelta(seconds=retry_after))
        }
    return refusal(
        request, api=api, code="rate_limited", message=message, retry_after=retry_after
    )


def refusal(
    request: HttpRequest,
    *,
    api: bool,
    code: str,
    message: str,
    retry_after: int,
    status: int = 429,
) -> HttpResponse:
    """A refusal with `message`: `{"error": code, "detail": message}` for an
    API, otherwise the 429 page (503: the 503 page), with Retry-After."""
    if api:
        response: HttpResponse = JsonResponse(
            {"error": code, "detail": message},
            status=status,
            json_dumps_params={"ensure_ascii": False},
        )
    else:
        template = "503.html" if status == 503 else "429.html"
        response = render(request, template, {"message": message}, status=status)
    response["Retry-After"] = str(max(1, retry_after))
    return response


def limiter_unavailable(request: HttpRequest, *, api: bool) -> HttpResponse:
    """The 503 of a limit that fails closed when its counter cannot be read:
    the truth (the server cannot check), not "too many requests"."""
    message = _(
        "This cannot be done at the moment: the server cannot check its "
        "request limits. Try again in a few minutes."
    )
    return refusal(
        request,
        api=api,
        code="temporarily_unavailable",
        message=message,
        retry_after=120,
        status=503,
    )


def _rates(text: str | None) -> list[str]:
    """The rates of a setting: each of "60/m,1000/d"; none for None or ""."""
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def _count(
    request: HttpRequest, *, group: str, key: str, rate: str, method: str | list
) -> dict | None:
    """django-ratelimit's count of this request against one rate; None when
    the method is not limited. Raises LimiterError when the count could
    not be kept: django-ratelimit reports a cache that failed quietly (an add
    that returned False and an incr that found nothing) as "over the limit",
    with a limit of 0 and no time left, which a real rate never gives."""
    usage = get_usage(
        request=request,
        group=group,
        key=key,
        rate=rate,
        method=method,
        increment=True,
    )
    if usage is not None and usage["limit"] == 0 and usage["time_left"] == -1:
        raise LimiterError(f"the cache did not keep the count of {group}")
    return usage


class LimiterError(Exception):
    """A limit's counter could not be read or written."""


def rate_limit(
    group: str,
    *,
    rate: Callable[[], str | None],
    per_user: bool = False,
    per_client: bool = False,
    method: str | list = ALL,
    api: bool = False,
    fail_closed: bool = False,
) -> Callable[[View], View]:
    """Count each request against `group`'s limits; over any, answer 429
    with Retry-After instead of calling the view.

    Who is counted: the client address (`portal.clientip`, IPv6 by /64); with
    `per_user` the signed-in user as well (an account spread over many
    addresses is held to the same limit); with `per_client` the signed-in
    user instead of the address, and the address for anonymous visitors (one
    budget per client, whatever it calls itself in other headers).

    `rate` is read on every request, so settings changed in tests or at run
    time apply: "30/m", several rates separated by commas ("60/m,1000/d",
    each counted), or empty for none.

    When the count cannot be kept (the cache is down, locked past its
    timeout, or errs), the failure is logged and the request goes on
    (`fail_closed=False`, for reads: searching and reading profiles stay up
    while the limiter is blind), or is answered 503 (`fail_closed=True`, for
    limits that stop password guessing). Never a 429 that is not true.
    """

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            try:
                retry_after = _over_limit(request)
            except Exception:
                logger.exception(
                    "Rate limit %s could not be checked; %s",
                    group,
                    "refused (503)" if fail_closed else "request let through",
                )
                if fail_closed:
                    return limiter_unavailable(request, api=api)
                retry_after = None
            if retry_after is not None:
                return too_many_requests(request, api=api, retry_after=retry_after)
            return view(request, *args, **kwargs)

        return wrapped

    def _over_limit(request: HttpRequest) -> int | None:
        user = getattr(request, "user", None)
        signed_in = user is not None and user.is_authenticated
        keys = [(group, "user_or_ip" if per_client else "ip")]
        if per_user and signed_in:
            keys.append((f"{group}.user", "user"))
        return limit_wait(request, keys=keys, rate=rate(), method=method)

    return decorator


def limit_wait(
    request: HttpRequest,
    *,
    keys: list[tuple[str, str]],
    rate: str | None,
    method: str | list = ALL,
) -> int | None:
    """Count this request against each rate of `rate` for each (group,
    django-ratelimit key) of `keys`; the seconds to wait when any count is
    over, else None. Every counter is incremented, whichever is over.
    Raises (LimiterError or the cache's error) when a count cannot be kept:
    the caller decides whether that lets the request through or refuses it
    with limiter_unavailable (rate_limit's fail_closed)."""
    waits = []
    for rate_text in _rates(rate):
        for counted_group, key in keys:
            usage = _count(
                request, group=counted_group, key=key, rate=rate_text, method=method
            )
            if usage is not None and usage["should_limit"]:
                _limit, period = _split_rate(rate_text)
                waits.append(60 if period <= 60 else max(usage["time_left"], 1))
    return max(waits) if waits else None


def seconds_until_tomorrow() -> int:
    """Seconds until the next midnight of the site's time zone."""
    now = timezone.localtime()
    midnight = (now + timedelta(days=1)).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    return max(1, math.ceil((midnight - now).total_seconds()))


def daily_distinct(
    request: HttpRequest, *, group: str, client: str, item: object, cap: int
) -> int | None:
    """Count `item` among the distinct items `client` used in `group` today
    (the site's time zone); None when it may be used, else the seconds until
    tomorrow. An item already used today is always allowed again and not
    counted twice; a new one past `cap` is refused and not recorded.

    Kept in the cache, atomically where the cache is (Redis, portal.cache):
    a marker per item (`add`) and a counter (`add` + `incr`), both expiring
    after the day. Two requests for the same new item at the same moment may
    count it twice (the stricter error). When the cache fails, the failure is
    logged and the item allowed: a reader is never refused for our fault.
    """
    day = timezone.localdate().isoformat()
    prefix = f"portal:distinct:{group}:{day}:{client}"
    marker = f"{prefix}:{item}"
    ttl = seconds_until_tomorrow() + 3600
    try:
        if cache.get(marker) is not None:
            return None
        cache.add(f"{prefix}:count", 0, ttl)
        if cache.incr(f"{prefix}:count") > cap:
            return seconds_until_tomorrow()
        cache.add(marker, 1, ttl)
    except Exception:
        logger.exception("Daily count %s could not be kept; allowed", group)
    return None


def cache_failure(error: BaseException) -> bool:
    """Whether `error` says the shared cache cannot be reached: the embedded
    cache's CacheUnavailable, or Redis's connection errors and timeouts."""
    from portal.cache import CacheUnavailable

    if isinstance(error, CacheUnavailable):
        return True
    try:
        from redis.exceptions import ConnectionError, TimeoutError
    except ImportError:  # pragma: no cover - redis is a dependency
        return False
    return isinstance(error, ConnectionError | TimeoutError)


class CacheUnavailableMiddleware:
    """A view that fails because the cache cannot be reached answers 503
    with that message, never a 500 nor a 429. allauth's limits on signing in,
    signing up and password resets take a lock in the cache first; when the
    cache fails they fail closed, here: no password is checked without its
    limit (docs/security.md, "Limits that fail")."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(
        self, request: HttpRequest, exception: Exception
    ) -> HttpResponse | None:
        if not cache_failure(exception):
            return None
        logger.error("The cache failed in %s", request.path, exc_info=exception)
        api = request.path.startswith("/api/")
        return limiter_unavailable(request, api=api)


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

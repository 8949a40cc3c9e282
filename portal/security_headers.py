"""Security headers on every response: Content-Security-Policy (django-csp),
Permissions-Policy, and the endpoint browsers send CSP violation reports to.

The policies themselves are settings (portal/settings/base.py, "Security
headers"); docs/security.md says what each one promises.
"""

import json
import logging
from collections.abc import Callable
from functools import wraps
from typing import Any

from csp.middleware import CSPMiddleware, PolicyParts
from django_ratelimit.core import is_ratelimited

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

logger = logging.getLogger("portal.csp")

#: A report is a few hundred bytes; anything much larger is not a report.
REPORT_MAX_BYTES = 16 * 1024
#: Fields of a report worth a log line, in both report formats (report-uri's
#: "csp-report" object and the Reporting API's "body"), each cut to this length.
REPORT_FIELDS = (
    "document-uri",
    "documentURL",
    "violated-directive",
    "effective-directive",
    "effectiveDirective",
    "blocked-uri",
    "blockedURL",
    "source-file",
    "sourceFile",
    "line-number",
    "lineNumber",
)
REPORT_FIELD_MAX = 300


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware, with one policy for Wagtail's admin.

    Every response gets CONTENT_SECURITY_POLICY, except those under
    PORTAL_CSP_ADMIN_PREFIXES, which get PORTAL_CSP_ADMIN_DIRECTIVES: Wagtail
    frames its own previews (HTML and PDF). Scripts and styles are as strict
    there as anywhere (portal/admin_scripts.py, static/css/admin.css). The
    admin's redirects (the login redirect that anyone may request) keep the
    strict policy. A view's own @csp_override / @csp_replace / @csp_update
    still applies, as in django-csp.
    """

    def get_policy_parts(
        self,
        request: HttpRequest,
        response: HttpResponseBase,
        report_only: bool = False,
    ) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        if (
            not report_only
            and parts.config is None
            and request.path_info.startswith(tuple(settings.PORTAL_CSP_ADMIN_PREFIXES))
            and not _is_redirect(response)
        ):
            parts.config = settings.PORTAL_CSP_ADMIN_DIRECTIVES
        return parts


def _is_redirect(response: HttpResponseBase) -> bool:
    return 300 <= response.status_code < 400


def _permissions_policy_header(policy: dict[str, list[str]]) -> str:
    """{"camera": ["self"], "usb": []} -> 'camera=(self), usb=()'."""
    return ", ".join(
        f"{feature}=({' '.join(origins)})" for feature, origins in policy.items()
    )


class PermissionsPolicyMiddleware:
    """Send PERMISSIONS_POLICY on every response: the browser features no page
    of the portal uses are off, so a script that got in cannot turn on the
    camera or the microphone. A view that needs a feature says so with
    @permissions_policy (the check-in page's camera)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.header = _permissions_policy_header(settings.PERMISSIONS_POLICY)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "Permissions-Policy" not in response:
            allowed = getattr(response, "_permissions_policy", None)
            response["Permissions-Policy"] = (
                _permissions_policy_header(settings.PERMISSIONS_POLICY | allowed)
                if allowed
                else self.header
            )
        return response


def permissions_policy(**features: list[str]) -> Callable:
    """Allow browser features on one view's responses, e.g.
    @permissions_policy(camera=["self"]); every other feature stays as
    PERMISSIONS_POLICY sets it."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> HttpResponse:
            response = view(*args, **kwargs)
            response._permissions_policy = features  # type: ignore[attr-defined]  # attribute of our own, read by the middleware
            return response

        return wrapped

    return decorator


def _report_summary(payload: Any) -> list[dict[str, str]]:
    """The loggable fields of each violation in a report body, whichever of
    the two formats the browser used; [] for anything else."""
    if isinstance(payload, dict) and isinstance(payload.get("csp-report"), dict):
        reports = [payload["csp-report"]]
    elif isinstance(payload, list):
        reports = [
            item["body"]
            for item in payload[:20]
            if isinstance(item, dict) and isinstance(item.get("body"), dict)
        ]
    else:
        return []
    return [
        {
            field: str(report[field])[:REPORT_FIELD_MAX]
            for field in REPORT_FIELDS
            if field in report
        }
        for report in reports
    ]


@csrf_exempt
@require_POST
def csp_report(request: HttpRequest) -> HttpResponse:
    """Log the violations a browser reports, as warnings of "portal.csp".

    Browsers post without a CSRF token or cookie, so the view is exempt; it
    changes nothing but a log, answers 204 whatever it is sent (never 500), reads
    at most REPORT_MAX_BYTES, and past a per-IP rate stops logging, so it
    cannot be used to flood the logs.
    """
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length <= 0 or length > REPORT_MAX_BYTES:
        return HttpResponse(status=204)
    if is_ratelimited(
        request,
        group="csp-report",
        key="ip",
        rate=settings.PORTAL_CSP_REPORT_RATE,
        increment=True,
    ):
        return HttpResponse(status=204)
    try:
        payload = json.loads(request.read(REPORT_MAX_BYTES))
    except (ValueError, RecursionError, OSError):
        # RecursionError: "[[[[…" nested deeper than the parser's stack.
        return HttpResponse(status=204)
    for violation in _report_summary(payload):
        logger.warning("Content-Security-Policy violation: %s", violation)
    return HttpResponse(status=204)

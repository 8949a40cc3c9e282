"""Certificate views: public verification and look-up, the JSON API, the Open
Badges credential, and the owner's PDF download.

Nothing here lists certificates: a certificate is found only by its random
code, or by its serial number together with the holder's name. Every public
view is rate-limited per client IP (django-ratelimit, counted in the shared
cache) and answers 429 with a page or JSON of its own when over the limit, so
other views' 403 handling is untouched. Pages and JSON are never cached, so a
revocation shows at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django_ratelimit import ALL

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    JsonResponse,
)
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from courses.certificates import badges, rendering, selectors
from courses.certificates.forms import CertificateLookupForm
from courses.models import Certificate
from portal import http, staff

logger = logging.getLogger(__name__)

#: Per client IP; overridden by settings.PORTAL_CERTIFICATE_RATE_LIMITS.
DEFAULT_RATES = {"pages": "30/m", "lookup": "10/m", "api": "30/m"}
#: Longer than any code services.verification_code() makes; longer ones are
#: answered "not found" without a query.
MAX_CODE_LENGTH = 64


# --- Rate limits -------------------------------------------------------------


def _rate(name: str) -> str:
    rates = getattr(settings, "PORTAL_CERTIFICATE_RATE_LIMITS", {})
    return rates.get(name, DEFAULT_RATES[name])


#: Limits that refuse (503) when they cannot count: the look-up by serial
#: number and name answers whether a person holds a certificate, so without
#: its limit it is a way to test names. The pages and the API read a
#: certificate by its unguessable code, and fail open.
FAIL_CLOSED = {"lookup"}


def rate_limit(name: str, *, method: str | list = ALL, api: bool = False) -> Callable:
    """Count the request against the ``name`` limit of its client IP; over the
    limit, answer 429 instead of calling the view (portal.http)."""
    return http.rate_limit(
        f"certificates.{name}",
        rate=lambda: _rate(name),
        method=method,
        api=api,
        fail_closed=name in FAIL_CLOSED,
    )


public_api = http.public_api


def _certificate(code: str) -> Certificate | None:
    if len(code) > MAX_CODE_LENGTH:
        return None
    return selectors.certificate_by_code(code=code)


# --- Public pages ------------------------------------------------------------


@never_cache
@require_safe
@rate_limit("pages")
def verify(request: HttpRequest, code: str) -> HttpResponse:
    """Anyone with the code (the QR code on the PDF) sees the certificate's
    state and what it states; an unknown code is a 404 that says only that."""
    certificate = _certificate(code)
    if certificate is None:
        return render(request, "courses/certificates/not_found.html", status=404)
    issuer = badges.issuer_names(certificate)
    english = (get_language() or "").startswith("en")
    response = render(
        request,
        "courses/certificates/verify.html",
        {
            "certificate": certificate,
            "state": certificate.state,
            "state_label": certificate.state_label,
            "hours": rendering.format_hours(certificate.hours),
            "replacement": badges.replacement(certificate),
            "organisation": issuer["name_en"] if english else issuer["name"],
        },
    )
    response["X-Robots-Tag"] = "noindex"
    return response


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
@rate_limit("pages")
@rate_limit("lookup", method="POST")
def lookup(request: HttpRequest) -> HttpResponse:
    """Find a certificate by serial number and name; a match goes to its
    verification page, anything else gets one message for both fields."""
    form = CertificateLookupForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid() and form.certificate is not None:
        return redirect("certificates:verify", code=form.certificate.code)
    response = render(request, "courses/certificates/lookup.html", {"form": form})
    response["X-Robots-Tag"] = "noindex"
    return response


# --- The owner's PDF -----------------------------------------------------------


def _unavailable(
    request: HttpRequest, certificate: Certificate, reason: str, status: int
) -> HttpResponse:
    return render(
        request,
        "courses/certificates/download_unavailable.html",
        {
            "certificate": certificate,
            "reason": reason,
            "replacement": badges.replacement(certificate),
        },
        status=status,
    )


@never_cache
@login_required
@require_safe
def download(request: HttpRequest, certificate_id: int) -> HttpResponseBase:
    """The PDF for its owner, or for staff with the certificate view permission
    (the admin's own PDF view asks the same) in a session that proved MFA;
    404 for anyone else, so ids reveal nothing.

    A learner is not handed the PDF of a revoked or superseded certificate
    (410, with the reason or the replacement); staff are, for the record. Not
    rendered yet: 202 and a page saying it is being prepared.
    """
    certificate = (
        Certificate.objects.select_related("superseded_by")
        .filter(pk=certificate_id)
        .first()
    )
    own = certificate is not None and certificate.user_id == request.user.pk
    if not own:
        denied = staff.mfa_required_response(request)
        if denied is not None:
            return denied
    is_admin = request.user.has_perm("courses.view_certificate")
    if certificate is None or not (own or is_admin):
        raise Http404
    if not is_admin and certificate.status != Certificate.Status.VALID:
        return _unavailable(request, certificate, certificate.status, 410)
    if not certificate.rendered_at or not certificate.pdf.name:
        return _unavailable(request, certificate, "preparing", 202)
    try:
        handle = default_storage.open(certificate.pdf.name, "rb")
    except OSError:
        # The row says rendered but storage lost the file: an operator's problem.
        logger.exception("Certificate %s: PDF missing from storage", certificate.pk)
        return _unavailable(request, certificate, "missing", 503)
    return FileResponse(
        handle,
        as_attachment=True,
        filename=f"{certificate.serial}.pdf",
        content_type="application/pdf",
    )


# --- JSON API ------------------------------------------------------------------


def _not_found_json() -> JsonResponse:
    return JsonResponse(
        {"error": "not_found", "detail": _("No certificate has this code.")},
        status=404,
    )


@public_api
@rate_limit("api", api=True)
def api_detail(request: HttpRequest, code: str) -> HttpResponse:
    """The verification record as JSON (see badges.verification_record)."""
    certificate = _certificate(code)
    if certificate is None:
        return _not_found_json()
    return JsonResponse(
        badges.verification_record(certificate),
        json_dumps_params={"ensure_ascii": False},
    )


@public_api
@rate_limit("api", api=True)
def api_credential(request: HttpRequest, code: str) -> HttpResponse:
    """The Open Badges 3.0 credential; 410 Gone, with the verification record,
    once the certificate is revoked or superseded (see
    badges.open_badge_credential for why)."""
    certificate = _certificate(code)
    if certificate is None:
        return _not_found_json()
    if certificate.status != Certificate.Status.VALID:
        return JsonResponse(
            {
                "error": certificate.status,
                "detail": _("This certificate is no longer valid."),
                "certificate": badges.verification_record(certificate),
            },
            status=410,
            json_dumps_params={"ensure_ascii": False},
        )
    return JsonResponse(
        badges.open_badge_credential(certificate),
        content_type=badges.CREDENTIAL_CONTENT_TYPE,
        json_dumps_params={"ensure_ascii": False},
    )

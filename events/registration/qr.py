"""A registration's QR code. Its content is the absolute address of the
check-in page with the registration's code, so staff can scan it with any
phone camera, or with the check-in page's own scanner."""

import io
from urllib.parse import urlencode

import segno

from django.conf import settings
from django.urls import reverse
from django.utils import translation

from events.models import Registration


def registration_checkin_url(registration: Registration) -> str:
    """<BASE_URL>/events/check-in/?code=<code>, in the default language: the
    code is the same whoever scans it, so the address does not vary."""
    with translation.override(settings.LANGUAGE_CODE):
        path = reverse("events:checkin")
    query = urlencode({"code": registration.code})
    return f"{settings.WAGTAILADMIN_BASE_URL.rstrip('/')}{path}?{query}"


def _qr(registration: Registration) -> segno.QRCode:
    # Level M: readable on a scratched phone screen or a creased print-out.
    return segno.make(registration_checkin_url(registration), error="m")


def registration_qr_svg(registration: Registration, *, title: str = "") -> str:
    """The QR code as inline SVG (no XML declaration), scaled by CSS.
    `title` becomes the SVG's <title>, which screen readers announce (segno
    escapes it)."""
    svg = _qr(registration).svg_inline(
        scale=4,
        border=4,
        dark="#1a1a1a",
        light="#ffffff",
        title=title or None,
        svgclass="qr-code",
        lineclass=None,
        omitsize=True,
    )
    # An image to assistive technology, named by its <title>.
    return svg.replace("<svg ", '<svg role="img" ', 1)


def registration_qr_png(registration: Registration, *, scale: int = 8) -> bytes:
    """The QR code as a PNG (for e-mails and downloads): `scale` pixels per
    module, with the standard quiet zone of four modules."""
    output = io.BytesIO()
    _qr(registration).save(output, kind="png", scale=scale, border=4)
    return output.getvalue()

"""A registration's QR code. Its content is the absolute address of the
check-in page with the registration's code, so staff can scan it with any
phone camera, or with the check-in page's own scanner."""

from urllib.parse import urlencode

from django.conf import settings
from django.urls import reverse
from django.utils import translation

from events.models import Registration
from portal.qr import qr_png, qr_svg
from portal.site_url import absolute_url


def registration_checkin_url(registration: Registration) -> str:
    """<BASE_URL>/events/check-in/?code=<code>, in the default language: the
    code is the same whoever scans it, so the address does not vary."""
    with translation.override(settings.LANGUAGE_CODE):
        path = reverse("events:checkin")
    # Grouped as printed (K7QM-3XPA); check-in reads it either way.
    query = urlencode({"code": registration.code_display})
    return absolute_url(f"{path}?{query}")


def registration_qr_svg(registration: Registration, *, title: str = "") -> str:
    """The QR code as inline SVG (no XML declaration), scaled by CSS.
    `title` becomes the SVG's <title>, which screen readers announce."""
    return qr_svg(registration_checkin_url(registration), title=title)


def registration_qr_png(registration: Registration, *, scale: int = 8) -> bytes:
    """The QR code as a PNG (for e-mails and downloads): `scale` pixels per
    module, with the standard quiet zone of four modules."""
    return qr_png(registration_checkin_url(registration), pixels_per_module=scale)

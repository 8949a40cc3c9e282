"""Certificate PDFs: HTML from a frozen template version, laid out by WeasyPrint.

WeasyPrint reads every image from storage and every font from the system
(fontconfig), never over HTTP (docs/decisions.md, convention 5):
``url_fetcher`` refuses any other scheme. Many certificates render as one
document, one page each, which is then split into one PDF per certificate:
layout and font loading are paid once per batch instead of once per
certificate.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from html import unescape
from typing import TYPE_CHECKING, Any

from django.core.files.storage import default_storage
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from courses.certificates.weasyprint_fonts import (
    _subset_plan_api,
    install_cid_font_subsetting,
)
from portal.qr import qr_png_data_uri
from portal.site_url import absolute_url

if TYPE_CHECKING:
    from courses.models import Certificate, CertificateTemplate

MEDIA_SCHEME = "media:"


class TemplateAssetError(Exception):
    """A template's image or placeholder cannot be used; the message says which."""


@functools.cache
def font_config():
    """One FontConfiguration per process: fontconfig's scan is the slow part."""
    from weasyprint.text.fonts import FontConfiguration

    return FontConfiguration()


def preload() -> None:
    """Import WeasyPrint and read the font configuration now.

    Called in the Celery worker's main process before it forks its pool
    (courses.tasks, worker_init): each pool process then starts with them
    (shared copy-on-write pages) instead of spending its first certificate
    task on them (~1.5 s).
    """
    import weasyprint  # noqa: F401

    font_config()
    install_cid_font_subsetting()
    _subset_plan_api()
    verify_url("preload", "zh-hans")  # builds Django's URL resolver
    from courses.certificates import signing

    signing.preload()


def url_fetcher():
    """Give WeasyPrint files from storage and data: URIs; nothing from a network.

    A file that cannot be read stops the rendering (fail_on_errors): a
    certificate is never issued with a blank where the seal should be.
    """
    import mimetypes

    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class StorageFetcher(URLFetcher):
        def fetch(self, url, headers=None):
            if url.startswith("data:"):
                return super().fetch(url, headers)
            if url.startswith(MEDIA_SCHEME):
                name = url[len(MEDIA_SCHEME) :]
                with default_storage.open(name, "rb") as handle:
                    body = handle.read()
                kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
                return URLFetcherResponse(url, body, {"Content-Type": kind})
            raise ValueError(f"Certificates read files from storage only: {url[:60]}")

    return StorageFetcher(allowed_protocols={"data", "media"}, fail_on_errors=True)


# --- The frozen content of a template ----------------------------------------


def _image_ref(image) -> dict | None:
    if image is None:
        return None
    return {"id": image.pk, "file": image.file.name, "hash": image.file_hash or ""}


def template_content(*, template: CertificateTemplate) -> dict:
    """Everything that decides how a certificate of this template looks.

    Includes the certificate settings (seal) and the issuing organisation of
    the default site, so a change to those also makes a new version.
    """
    from wagtail.models import Site

    from courses.models import CertificateSettings
    from portal.models import SiteSettings

    cert_settings = CertificateSettings.load()
    site = Site.objects.filter(is_default_site=True).first()
    site_settings = SiteSettings.for_site(site) if site else SiteSettings()
    signatories = []
    for block in template.signatories:
        value = block.value
        signatories.append(
            {
                "name": value["name"],
                "role": value["role"],
                "role_en": value.get("role_en") or "",
                "signature": _image_ref(value.get("signature")),
            }
        )
    return {
        "title": template.title,
        "title_en": template.title_en,
        "body": template.body,
        "body_en": template.body_en,
        "background": _image_ref(template.background),
        "seal": _image_ref(cert_settings.seal),
        "signatories": signatories,
        "organisation": site_settings.organisation,
        "organisation_en": site_settings.organisation_en,
        "validity_months": template.validity_months,
    }


def content_hash(content: dict) -> str:
    encoded = json.dumps(content, sort_keys=True, ensure_ascii=False).encode()
    return hashlib.sha256(encoded).hexdigest()


def asset_errors(content: dict) -> list[str]:
    """Images of a template version that are missing or unreadable."""
    from PIL import Image as PILImage

    from courses.models.certificates import placeholder_errors

    refs = [(_("Background image"), content.get("background"))]
    refs.append((_("Seal image"), content.get("seal")))
    for signatory in content.get("signatories", []):
        refs.append(
            (
                _("Signature of %(name)s") % {"name": signatory["name"]},
                signatory.get("signature"),
            )
        )
    errors = []
    for label, ref in refs:
        if not ref:
            continue
        try:
            with default_storage.open(ref["file"], "rb") as handle:
                PILImage.open(handle).verify()
        except Exception:  # missing file, not an image, truncated…
            errors.append(
                _("%(what)s cannot be read (%(file)s): upload it again.")
                % {"what": label, "file": ref["file"].rsplit("/", 1)[-1]}
            )
    for field in ("title", "title_en", "body", "body_en"):
        errors += placeholder_errors(content.get(field) or "")
    return errors


# --- From certificates to HTML and PDF ----------------------------------------


@dataclass
class Sample:
    """Stands in for a certificate in the template preview."""

    serial: str
    code: str
    learner_name: str
    title: str
    hours: Decimal
    achieved_on: date
    issued_at: Any
    expires_on: date | None
    language: str


def format_hours(hours: Decimal) -> str:
    return (
        format(hours.normalize(), "f") if hours == hours.to_integral() else str(hours)
    )


def format_date(day: date, language: str) -> str:
    if language == "en":
        return f"{day.day} {day:%B %Y}"
    return f"{day.year}年{day.month}月{day.day}日"


def verify_url(code: str, language: str) -> str:
    with translation.override(language):
        path = reverse("certificates:verify", kwargs={"code": code})
    return absolute_url(path)


def _media(ref: dict | None) -> str | None:
    return f"{MEDIA_SCHEME}{ref['file']}" if ref else None


def page_context(certificate: Certificate | Sample, content: dict) -> dict:
    """The values one page of the certificate HTML shows."""
    issued_on = timezone.localdate(certificate.issued_at)
    language = "en" if certificate.language == "en" else "zh-hans"

    def values(lang: str) -> dict:
        return {
            "name": certificate.learner_name,
            "title": certificate.title,
            "hours": format_hours(certificate.hours),
            "date": format_date(certificate.achieved_on, lang),
            "issued": format_date(issued_on, lang),
            "serial": certificate.serial,
            "organisation": content["organisation"]
            if lang != "en"
            else content["organisation_en"],
        }

    url = verify_url(certificate.code, language)
    return {
        "certificate": certificate,
        "bilingual": language == "en",
        "title": content["title"].format_map(values("zh-hans")),
        "title_en": content["title_en"].format_map(values("en")),
        "body": content["body"].format_map(values("zh-hans")),
        "body_en": content["body_en"].format_map(values("en")),
        "organisation": content["organisation"],
        "organisation_en": content["organisation_en"],
        "issued_on": format_date(issued_on, "zh-hans"),
        "issued_on_en": format_date(issued_on, "en"),
        "expires_on": certificate.expires_on
        and format_date(certificate.expires_on, "zh-hans"),
        "expires_on_en": certificate.expires_on
        and format_date(certificate.expires_on, "en"),
        "background": _media(content.get("background")),
        "seal": _media(content.get("seal")),
        "signatories": [
            {**s, "signature": _media(s.get("signature"))}
            for s in content.get("signatories", [])
        ],
        "verify_url": url,
        "qr": qr_png_data_uri(url),
    }


def certificates_html(pages: list[tuple[Certificate | Sample, dict]]) -> str:
    """One HTML document, one A4 landscape page per (certificate, content)."""
    return render_to_string(
        "courses/certificates/certificate.html",
        {"pages": [page_context(cert, content) for cert, content in pages]},
    )


def render_pdfs(pages: list[tuple[Certificate | Sample, dict]]) -> list[bytes]:
    """The PDF of each certificate, in order, laid out as one document.

    Layout (styles, fonts, images) is paid once for the whole batch; each
    page is then written as its own PDF, with its own font subset (only the
    glyphs of that page: one learner's PDF never carries another's name).
    """
    from weasyprint import HTML

    if not pages:
        return []
    install_cid_font_subsetting()
    document = HTML(
        string=certificates_html(pages), url_fetcher=url_fetcher(), base_url="/"
    ).render(font_config=font_config())
    if len(document.pages) != len(pages):
        raise TemplateAssetError(
            _("The certificate text does not fit on one page: shorten it.")
        )
    if len(pages) == 1:
        return [document.write_pdf()]
    pdfs = []
    for number in range(len(document.pages)):
        pdfs.append(document.copy([document.pages[number]]).write_pdf())
        # A written page is not needed again: free its boxes as we go, so a
        # chunk's memory does not grow with the chunk.
        document.pages[number] = None
    return pdfs


def render_pdf(certificate: Certificate) -> bytes:
    return render_pdfs([(certificate, certificate.template_version.content)])[0]


# --- Preview in the snippet editor -------------------------------------------


def sample_certificate(language: str) -> Sample:
    today = timezone.localdate()
    return Sample(
        serial=f"CQIP-{today.year}-000123",
        code="sample-verification-code",
        learner_name="李堃",
        title="知识产权基础",
        hours=Decimal("2.0"),
        achieved_on=today,
        issued_at=timezone.now(),
        expires_on=None,
        language=language,
    )


def template_preview_response(
    *, template: CertificateTemplate, mode: str, request: Any
) -> HttpResponse:
    """The template on sample data: HTML (fast) or the real PDF.

    A broken image or placeholder is shown as a clear message to the editor
    here, rather than failing a task later.
    """
    content = template_content(template=template)
    errors = asset_errors(content)
    if errors:
        return HttpResponse(
            render_to_string(
                "courses/certificates/preview_errors.html", {"errors": errors}
            )
        )
    language = "en" if translation.get_language() == "en" else "zh-hans"
    sample = sample_certificate(language)
    if mode == "pdf":
        try:
            pdf = render_pdfs([(sample, content)])[0]
        except TemplateAssetError as error:
            return HttpResponse(
                render_to_string(
                    "courses/certificates/preview_errors.html", {"errors": [error]}
                )
            )
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = 'inline; filename="preview.pdf"'
        return response
    html: str = certificates_html([(sample, content)])
    # The browser cannot read media: URLs; point them at the files' web URLs.
    html = re.sub(
        r'"media:([^"]+)"',
        lambda match: f'"{default_storage.url(unescape(match.group(1)))}"',
        html,
    )
    response = HttpResponse(html)
    # The preview frame shows certificate.html as WeasyPrint reads it, <style>
    # and all; the admin's Content-Security-Policy refuses inline styles. This
    # one response allows that stylesheet by its hash: no other <style>, no
    # style= attribute (the wording an editor types is escaped text).
    response._csp_update = {"style-src": style_hashes(html)}  # type: ignore[attr-defined]  # attribute of our own, read by the CSP middleware
    return response


def style_hashes(html: str) -> list[str]:
    """The CSP source ('sha256-…') of each <style> element in ``html``."""
    return [
        "'sha256-{}'".format(
            base64.b64encode(hashlib.sha256(css.encode()).digest()).decode("ascii")
        )
        for css in re.findall(r"<style>(.*?)</style>", html, flags=re.DOTALL)
    ]

"""The <head> metadata of base.html (templates/includes/head_meta.html):
Open Graph and Twitter card tags (what a chat app or social site shows when
someone shares a page's address), the meta description, the canonical
address and the page in the other language (hreflang). See docs/seo.md."""

import logging
from dataclasses import dataclass

from django import template
from django.conf import settings
from django.http import HttpRequest
from django.utils.text import Truncator
from django.utils.translation import get_language

from wagtail.images.models import AbstractImage
from wagtail.models import Page

from portal import seo
from portal.site_url import absolute_url

register = template.Library()
logger = logging.getLogger(__name__)

OG_IMAGE_SPEC = "fill-1200x630"
# Open Graph wants language_TERRITORY.
OG_LOCALES = {"zh-hans": "zh_CN", "en": "en_US"}


@dataclass(frozen=True)
class OpenGraph:
    type: str
    title: str
    description: str
    url: str
    locale: str
    alternate_locales: list[str]
    image: str = ""
    image_width: int = 0
    image_height: int = 0
    # The page's own image (True) or the portal's default share image.
    own_image: bool = False
    # [(hreflang, absolute URL)] of this address in each language.
    alternates: tuple[tuple[str, str], ...] = ()

    @property
    def canonical(self) -> str:
        """The canonical address: this path on the public address, without
        the query string (the same as og:url)."""
        return self.url


def _description(page: Page) -> str:
    for name in ("search_description", "summary", "intro"):
        text = getattr(page, name, "") or ""
        if isinstance(text, str) and text.strip():
            return Truncator(text.strip()).chars(200)
    return ""


def _image(page: Page) -> AbstractImage | None:
    for name in ("image", "banner"):
        image = getattr(page, name, None)
        if isinstance(image, AbstractImage):
            return image
    return None


@register.simple_tag(takes_context=True)
def open_graph(context: template.Context, site_name: str = "") -> OpenGraph:
    """og:title, og:description (the page's search description, summary or
    introduction; also the meta description), og:url (absolute, without the
    query string; also the canonical link), og:locale, the address in each
    language, and og:image: an absolute 1200×630 rendition of the page's
    image or banner, else the portal's default share image."""
    request: HttpRequest | None = context.get("request")
    page = context.get("page")
    language = get_language() or settings.LANGUAGE_CODE
    locale = OG_LOCALES.get(language, "zh_CN")
    url = absolute_url(request.path) if request is not None else ""
    alternates = (
        tuple(seo.language_alternates(request.path)) if request is not None else ()
    )
    default = seo.default_share_image()
    if not isinstance(page, Page):
        return OpenGraph(
            type="website",
            title=site_name,
            description="",
            url=url,
            locale=locale,
            alternate_locales=[v for v in OG_LOCALES.values() if v != locale],
            image=default.url,
            image_width=default.width,
            image_height=default.height,
            alternates=alternates,
        )
    image_url, width, height = "", 0, 0
    image = _image(page)
    if image is not None:
        try:
            rendition = image.get_rendition(OG_IMAGE_SPEC)
        except Exception:  # a missing or broken file: share without a picture
            logger.warning("No Open Graph rendition for image %s", image.pk)
        else:
            image_url = seo.absolute(rendition.url)
            width, height = rendition.width, rendition.height
    own_image = bool(image_url)
    if not own_image:
        image_url, width, height = default.url, default.width, default.height
    is_article = page.specific_class is not None and page.specific_class.__name__ in {
        "NewsPage",
        "NoticePage",
        "PolicyDocumentPage",
    }
    return OpenGraph(
        type="article" if is_article else "website",
        title=page.seo_title or page.title,
        description=_description(page),
        url=url,
        locale=locale,
        alternate_locales=[v for v in OG_LOCALES.values() if v != locale],
        image=image_url,
        image_width=width,
        image_height=height,
        own_image=own_image,
        alternates=alternates,
    )

"""Open Graph metadata for base.html: what a chat app or social site shows
when someone shares a page's address."""

import logging
from dataclasses import dataclass

from django import template
from django.conf import settings
from django.http import HttpRequest
from django.utils.text import Truncator
from django.utils.translation import get_language

from wagtail.images.models import AbstractImage
from wagtail.models import Page

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
    introduction), og:url (absolute, without the query string), og:locale
    and, when the page has an image or banner, og:image (an absolute
    1200×630 rendition)."""
    request: HttpRequest | None = context.get("request")
    page = context.get("page")
    language = get_language() or settings.LANGUAGE_CODE
    locale = OG_LOCALES.get(language, "zh_CN")
    url = absolute_url(request.path) if request is not None else ""
    if not isinstance(page, Page):
        return OpenGraph(
            type="website",
            title=site_name,
            description="",
            url=url,
            locale=locale,
            alternate_locales=[v for v in OG_LOCALES.values() if v != locale],
        )
    image_url, width, height = "", 0, 0
    image = _image(page)
    if image is not None:
        try:
            rendition = image.get_rendition(OG_IMAGE_SPEC)
        except Exception:  # a missing or broken file: share without a picture
            logger.warning("No Open Graph rendition for image %s", image.pk)
        else:
            image_url = rendition.url
            if image_url.startswith("/"):
                image_url = absolute_url(image_url)
            width, height = rendition.width, rendition.height
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
    )

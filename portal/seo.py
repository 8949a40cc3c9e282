"""What search engines and share previews read in a page's <head>: the
canonical address, the same page in the other language (hreflang), the
default share image, and schema.org JSON-LD written safely.

Every address is absolute on the public address (portal.site_url), never the
request's host. The apps build their own JSON-LD (events: Event, courses:
Course) with `json_ld_script`; the portal imports none of them.
"""

import json
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.templatetags.static import static
from django.urls import translate_url
from django.utils.safestring import SafeString, mark_safe

from portal.site_url import absolute_url

# Shipped with the portal (static/img/share-default.png): what a share
# preview shows for a page that has no image of its own.
DEFAULT_SHARE_IMAGE = "img/share-default.png"
DEFAULT_SHARE_IMAGE_SIZE = (1200, 630)

# BCP 47 as hreflang wants it; Django's language codes are lower case.
HREFLANG = {"zh-hans": "zh-Hans", "en": "en"}

# As django.utils.html.json_script: nothing in the data can close the
# <script> element or open a comment, whatever an editor typed.
_JSON_SCRIPT_ESCAPES = {
    ord(">"): "\\u003E",
    ord("<"): "\\u003C",
    ord("&"): "\\u0026",
    ord("\u2028"): "\\u2028",
    ord("\u2029"): "\\u2029",
}


def absolute(url: str) -> str:
    """`url` on the public address unless it is absolute already (a media
    or static file on another host)."""
    if url.startswith(("http://", "https://")):
        return url
    if url.startswith("//"):
        return "https:" + url
    return absolute_url(url)


@dataclass(frozen=True)
class ShareImage:
    url: str
    width: int
    height: int


def default_share_image() -> ShareImage:
    """The portal's own share image, as an absolute address."""
    width, height = DEFAULT_SHARE_IMAGE_SIZE
    return ShareImage(
        url=absolute(static(DEFAULT_SHARE_IMAGE)), width=width, height=height
    )


def hreflang(language: str) -> str:
    return HREFLANG.get(language, language)


def language_alternates(path: str) -> list[tuple[str, str]]:
    """The address of `path` in each language, [(hreflang, absolute URL)],
    the default language first; empty when the path is not translated (a
    URL outside i18n_patterns is the same in every language)."""
    urls = [
        (hreflang(code), absolute(translate_url(path, code)))
        for code, _name in settings.LANGUAGES
    ]
    if len({url for _lang, url in urls}) < 2:
        return []
    return urls


def json_ld_script(data: dict[str, Any]) -> SafeString:
    """`data` as a <script type="application/ld+json"> element, escaped as
    json_script escapes (no "</script>", "<!--" or "&" can come through)."""
    text = json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False)
    text = text.translate(_JSON_SCRIPT_ESCAPES)
    return mark_safe(f'<script type="application/ld+json">{text}</script>')  # noqa: S308


def text_or_none(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def drop_empty(data: dict[str, Any]) -> dict[str, Any]:
    """`data` without keys whose value is None, "" or an empty list/dict."""
    return {k: v for k, v in data.items() if v not in (None, "", [], {})}

"""Template tags for the site's frame: identity, menu and query strings."""

from dataclasses import dataclass
from typing import Any

from django import template
from django.conf import settings
from django.http import HttpRequest
from django.urls import translate_url
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

from portal import frame
from portal.models import SiteSettings

register = template.Library()


@dataclass(frozen=True)
class Identity:
    name: str
    organisation: str
    logo: Any
    settings: SiteSettings


@register.simple_tag(takes_context=True)
def site_identity(context: template.Context) -> Identity:
    """The site's name, organisation and contacts in the active language, from
    the shared cache (portal.frame)."""
    request: HttpRequest | None = context.get("request")
    found = frame.for_request(request).frame if request is not None else None
    site_settings = found.settings if found is not None else SiteSettings()
    return Identity(
        name=site_settings.display_name,
        organisation=site_settings.display_organisation,
        logo=site_settings.logo,
        settings=site_settings,
    )


@dataclass(frozen=True)
class Menu:
    pages: list[frame.MenuItem]


@register.simple_tag(takes_context=True)
def main_menu(context: template.Context) -> Menu:
    """The main navigation: the site root's children that are live, public and
    marked "show in menus", each with its URL (from the shared cache)."""
    request: HttpRequest | None = context.get("request")
    found = frame.for_request(request).frame if request is not None else None
    return Menu(pages=found.menu if found is not None else [])


@register.simple_tag(takes_context=True)
def may_use_admin(context: template.Context) -> bool:
    """Whether the signed-in user may open the Wagtail admin (the header's
    link): the answer of `perms.wagtailadmin.access_admin`, cached per user."""
    request: HttpRequest | None = context.get("request")
    return frame.for_request(request).may_use_admin if request is not None else False


@register.simple_tag(takes_context=True)
def query_with(context: template.Context, **changes: Any) -> str:
    """The current query string with some parameters replaced (for pagination
    links that keep the filters)."""
    request: HttpRequest = context["request"]
    query = request.GET.copy()
    for key, value in changes.items():
        query[key] = value
    return query.urlencode()


@register.simple_tag(takes_context=True)
def url_in_language(context: template.Context, language: str) -> str:
    """The current page's address in another language (/news/ ↔ /en/news/).

    Resolved here, under the page's own language: Django's set_language runs
    on an unprefixed URL, where only the default language is active, and so
    cannot translate an /en/ address back by itself. Without a request (the
    page for a refused Host header), the home page in that language.
    """
    request: HttpRequest | None = context.get("request")
    return translate_url(request.get_full_path() if request else "/", language)


@register.simple_tag
def content_lang() -> str:
    """Marks text that editors wrote (in Chinese) on pages whose interface is in
    another language, so that screen readers switch voice for it."""
    language = get_language() or settings.LANGUAGE_CODE
    return "" if language.startswith("zh") else mark_safe(' lang="zh-Hans"')


@register.filter
def get_item(mapping: Any, key: Any) -> Any:
    """mapping[key] in a template, or None."""
    try:
        return mapping.get(key)
    except AttributeError:
        return None

"""Feeds and what search engines read: RSS 2.0 and Atom for news and notices
(django.contrib.syndication), sitemap.xml (wagtail.contrib.sitemaps, the
pages an anonymous visitor can open, in both languages with hreflang
alternates) and robots.txt. See docs/seo.md.

Feeds list the 20 newest live, public items of the request's site that are
not dated in the future (an item dated ahead waits for its day); their
titles are the pages' (Chinese) titles, their links absolute. Each feed has
its own id (its own address) and the site as its author. Each feed costs
the same few queries whatever the number of items: descriptions come from the
page's own fields, never from blocks that would load documents or images.
"""

import datetime
from collections.abc import Iterable

from django.apps import apps
from django.conf import settings
from django.contrib.syndication.views import Feed
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import strip_tags
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

from wagtail.contrib.sitemaps import Sitemap
from wagtail.contrib.sitemaps.views import sitemap as wagtail_sitemap
from wagtail.models import Page, Site

from portal import frame, selectors
from portal.models import NewsPage, NoticePage, SiteSettings
from portal.seo import hreflang
from portal.site_url import absolute_url, base_url

FEED_ITEMS = 20
DESCRIPTION_WORDS = 80


def _site_root(request: HttpRequest) -> Page:
    site = Site.find_for_request(request) or Site.objects.get(is_default_site=True)
    return site.root_page


def _midnight(day: datetime.date) -> datetime.datetime:
    """A page's date as the start of that day in Asia/Shanghai."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def _body_text(page: Page) -> str:
    """The text of a page's paragraphs, read from the stored JSON (so that no
    document or image block is loaded)."""
    body = getattr(page, "body", None)
    raw = getattr(body, "raw_data", None) or []
    paragraphs = [
        strip_tags(block.get("value", ""))
        for block in raw
        if block.get("type") == "paragraph" and isinstance(block.get("value"), str)
    ]
    return " ".join(paragraphs)


def _site_name(request: HttpRequest) -> str:
    """The site's name in the request's language (the frame's shared cache)."""
    found = frame.for_request(request).frame
    site_settings = found.settings if found is not None else SiteSettings()
    return str(site_settings.display_name)


class NewsFeed(Feed):
    """RSS 2.0: the site's 20 newest news items, none dated after today."""

    title = _("News")
    description = _("The latest news of the portal.")

    def get_object(self, request: HttpRequest, *args, **kwargs) -> Page:
        self.request = request
        return _site_root(request)

    def feed_guid(self, obj: Page) -> str:
        """Atom's <id>: the feed's own address, so that no two feeds (news
        and notices, Chinese and English) share one."""
        return self.feed_url(obj)

    def author_name(self, obj: Page) -> str:
        return _site_name(self.request)

    def author_link(self, obj: Page) -> str:
        return base_url() + "/"

    def link(self, obj: Page) -> str:
        return obj.get_full_url(request=self.request) or absolute_url("/")

    def feed_url(self, obj: Page) -> str:
        """The feed's own address (Atom's rel="self"), on the public
        address, not the request's host."""
        return absolute_url(self.request.path)

    def items(self, obj: Page) -> Iterable[Page]:
        return selectors.news_under(obj).filter(date__lte=timezone.localdate())[
            :FEED_ITEMS
        ]

    def item_title(self, item: NewsPage) -> str:
        return item.title

    def item_description(self, item: NewsPage) -> str:
        text = item.search_description or item.summary or _body_text(item)
        return Truncator(text).words(DESCRIPTION_WORDS)

    def item_link(self, item: Page) -> str:
        return item.get_full_url(request=self.request) or ""

    def item_guid(self, item: Page) -> str:
        return self.item_link(item)

    def item_author_name(self, item: NewsPage) -> str | None:
        return item.source or None

    def item_pubdate(self, item: NewsPage) -> datetime.datetime:
        return _midnight(item.date)

    def item_updateddate(self, item: NewsPage) -> datetime.datetime:
        """Atom requires an entry's <updated>: its last publication, else (a
        page made live without being published) its date."""
        return item.last_published_at or self.item_pubdate(item)


class NewsAtomFeed(NewsFeed):
    """Atom: the same items as NewsFeed."""

    feed_type = Atom1Feed
    subtitle = NewsFeed.description


class NoticeFeed(NewsFeed):
    """RSS 2.0: the site's 20 newest notices (newest first: a feed reader sorts
    by date, so important notices are not put first here)."""

    title = _("Notices")
    description = _("The latest notices of the portal.")

    def items(self, obj: Page) -> Iterable[Page]:
        return (
            NoticePage.objects.descendant_of(obj)
            .live()
            .public()
            .filter(date__lte=timezone.localdate())
            .order_by("-date", "-first_published_at")[:FEED_ITEMS]
        )

    def item_description(self, item: NoticePage) -> str:
        text = item.search_description or _body_text(item)
        return Truncator(text).words(DESCRIPTION_WORDS)

    def item_author_name(self, item: NoticePage) -> str | None:
        return item.issuer or None


class NoticeAtomFeed(NoticeFeed):
    """Atom: the same items as NoticeFeed."""

    feed_type = Atom1Feed
    subtitle = NoticeFeed.description


def feed_view(feed_class: type[Feed]):
    """A view that answers each request with a new feed object: the feeds keep
    the request (for absolute links), which a shared instance would mix up
    between threads."""

    @require_safe
    def view(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        return feed_class()(request, *args, **kwargs)

    view.__name__ = feed_class.__name__
    return view


# Pages that answer an anonymous visitor with a redirect to sign-in although
# no view restriction is set on them (their serve() checks the user): they
# are left out of the sitemap. "app_label.ModelName", as the portal imports
# no app.
SIGNED_IN_PAGE_TYPES = ("courses.LessonPage",)


class BilingualSitemap(Sitemap):
    """The pages an anonymous visitor can open: every live, public page of
    the request's site but the signed-in ones (SIGNED_IN_PAGE_TYPES), once
    per language (/news/ and /en/news/), each entry with its hreflang
    alternates (both languages and x-default, the Chinese one). Pages with
    view restrictions (private, password, groups) are left out by Wagtail's
    `public()`; the admin and the accounts are not pages."""

    def items(self):
        signed_in = [
            apps.get_model(label)
            for label in SIGNED_IN_PAGE_TYPES
            if apps.is_installed(label.split(".")[0])
        ]
        items = super().items()
        return items.not_type(*signed_in) if signed_in else items

    def _urls(self, page, protocol, domain):
        urls = []
        last_mods = set()
        for item in self.paginator.page(page).object_list.iterator():
            per_language = []
            for language, _name in settings.LANGUAGES:
                with translation.override(language):
                    per_language.append((language, item.get_sitemap_urls(self.request)))
            # Alternates pair the entries of the two languages by position
            # (a page model may list more than one address).
            for position, _url_info in enumerate(per_language[0][1]):
                alternates = [
                    {
                        "lang_code": hreflang(language),
                        "location": url_infos[position]["location"],
                    }
                    for language, url_infos in per_language
                    if position < len(url_infos)
                ]
                alternates.append(
                    {"lang_code": "x-default", "location": alternates[0]["location"]}
                )
                for _language, url_infos in per_language:
                    if position < len(url_infos):
                        url_info = dict(url_infos[position], alternates=alternates)
                        urls.append(url_info)
                        last_mods.add(url_info.get("lastmod"))
        if last_mods and None not in last_mods:
            self.latest_lastmod = max(last_mods)
        return urls


@require_safe
def sitemap(request: HttpRequest) -> HttpResponse:
    """sitemap.xml (Django's sitemap template, kept in templates/portal/ as
    django.contrib.sitemaps is not an installed app)."""
    return wagtail_sitemap(
        request,
        sitemaps={"pages": BilingualSitemap},
        template_name="portal/sitemap.xml",
    )


# Paths no crawler needs: the admins, accounts, and the signed-in areas (with
# and without the /en/ prefix).
ROBOTS_DISALLOWED = ["/admin/", "/django-admin/"] + [
    f"{prefix}{path}"
    for prefix in ("", "/en")
    for path in ("/accounts/", "/contacts/", "/learning/")
]


@require_safe
@cache_control(max_age=24 * 60 * 60, public=True)
def robots_txt(request: HttpRequest) -> HttpResponse:
    """robots.txt: everything may be crawled but the admins and the signed-in
    areas; the sitemap's absolute address."""
    text = render_to_string(
        "portal/robots.txt",
        {
            "disallowed": ROBOTS_DISALLOWED,
            "sitemap_url": absolute_url("/sitemap.xml"),
        },
    )
    return HttpResponse(text, content_type="text/plain; charset=utf-8")

"""Feeds, Open Graph, sitemap.xml and robots.txt."""

import datetime
import io
import xml.etree.ElementTree as ET

import pytest
from PIL import Image as PILImage

from django.core.files.images import ImageFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from wagtail.images.models import Image
from wagtail.models import PageViewRestriction

from tests.events.factories import CampaignPageFactory
from tests.factories import (
    NewsIndexPageFactory,
    NewsPageFactory,
    NoticeIndexPageFactory,
    NoticePageFactory,
)

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


@pytest.fixture
def news(home):  # type: ignore[no-untyped-def]
    index = NewsIndexPageFactory(parent=home)
    items = [
        NewsPageFactory(
            parent=index,
            slug=f"news-{day}",
            title=f"知识产权新闻 {day} 日",
            date=datetime.date(2026, 3, day),
            summary=f"第 {day} 日的摘要",
        )
        for day in (5, 20, 12)
    ]
    return index, items


def get(client, url):  # type: ignore[no-untyped-def]
    response = client.get(url)
    assert response.status_code == 200, url
    return response


def rss_items(client, url):  # type: ignore[no-untyped-def]
    response = get(client, url)
    assert response["Content-Type"].startswith("application/rss+xml")
    channel = ET.fromstring(response.content).find("channel")
    return channel, channel.findall("item")


def atom_entries(client, url):  # type: ignore[no-untyped-def]
    response = get(client, url)
    assert response["Content-Type"].startswith("application/atom+xml")
    feed = ET.fromstring(response.content)
    return feed, feed.findall(f"{ATOM}entry")


def test_news_rss_lists_live_public_news_newest_first_with_absolute_links(
    client, home, news
):
    index, _items = news
    NewsPageFactory(parent=index, title="草稿新闻", live=False)
    private = NewsPageFactory(parent=index, title="内部新闻")
    PageViewRestriction.objects.create(
        page=private, restriction_type=PageViewRestriction.LOGIN
    )
    channel, items = rss_items(client, "/feeds/news.rss")
    titles = [item.findtext("title") for item in items]
    assert titles == ["知识产权新闻 20 日", "知识产权新闻 12 日", "知识产权新闻 5 日"]
    assert items[0].findtext("link") == "http://testserver/news/news-20/"
    assert items[0].findtext("description") == "第 20 日的摘要"
    assert channel.findtext("title") == "新闻动态"


def test_news_atom_is_the_same_list(client, home, news):
    feed, entries = atom_entries(client, "/feeds/news.atom")
    titles = [entry.findtext(f"{ATOM}title") for entry in entries]
    assert titles == ["知识产权新闻 20 日", "知识产权新闻 12 日", "知识产权新闻 5 日"]
    link = entries[0].find(f"{ATOM}link").get("href")
    assert link == "http://testserver/news/news-20/"
    assert feed.findtext(f"{ATOM}title") == "新闻动态"


def test_english_feeds_link_to_the_english_pages(client, home, news):
    channel, items = rss_items(client, "/en/feeds/news.rss")
    assert channel.findtext("title") == "News"
    assert items[0].findtext("title") == "知识产权新闻 20 日"
    assert items[0].findtext("link") == "http://testserver/en/news/news-20/"


def test_notice_feeds(client, home):
    index = NoticeIndexPageFactory(parent=home)
    NoticePageFactory(
        parent=index,
        slug="old",
        title="关于旧事的通知",
        date=datetime.date(2026, 1, 2),
        body=[{"type": "paragraph", "value": "<p>请各单位<b>按时</b>报名。</p>"}],
    )
    NoticePageFactory(
        parent=index,
        slug="important",
        title="重要通知",
        is_important=True,
        date=datetime.date(2025, 12, 1),
    )
    NoticePageFactory(
        parent=index, slug="new", title="关于新事的通知", date=datetime.date(2026, 2, 1)
    )
    channel, items = rss_items(client, "/feeds/notices.rss")
    assert [i.findtext("title") for i in items] == [
        "关于新事的通知",
        "关于旧事的通知",
        "重要通知",
    ]
    assert items[1].findtext("description") == "请各单位按时报名。"
    assert channel.findtext("title") == "通知公告"
    _feed, entries = atom_entries(client, "/en/feeds/notices.atom")
    assert entries[0].find(f"{ATOM}link").get("href") == (
        "http://testserver/en/notices/new/"
    )


def test_feeds_hold_twenty_items_at_a_fixed_query_count(client, home, news):
    index, _items = news

    def count(url: str) -> int:
        client.get(url)
        with CaptureQueriesContext(connection) as context:
            get(client, url)
        return len(
            [q for q in context.captured_queries if "portal_cache" not in q["sql"]]
        )

    small = {url: count(url) for url in ("/feeds/news.rss", "/feeds/news.atom")}
    for _ in range(25):
        NewsPageFactory(parent=index)
    large = {url: count(url) for url in ("/feeds/news.rss", "/feeds/news.atom")}
    assert small == large
    _channel, items = rss_items(client, "/feeds/news.rss")
    assert len(items) == 20


def test_pages_link_to_the_feeds(client, home, news):
    html = get(client, "/").content.decode()
    assert 'rel="alternate" type="application/rss+xml"' in html
    assert 'href="/feeds/news.rss"' in html and 'href="/feeds/notices.atom"' in html
    english = get(client, "/en/").content.decode()
    assert 'href="/en/feeds/news.rss"' in english


# --- Open Graph -------------------------------------------------------------------


def meta(html: str, prop: str) -> str | None:
    marker = f'<meta property="{prop}" content="'
    if marker not in html:
        return None
    return html.split(marker, 1)[1].split('"', 1)[0]


def png() -> ImageFile:
    buffer = io.BytesIO()
    PILImage.new("RGB", (1600, 900), "navy").save(buffer, "PNG")
    return ImageFile(buffer, name="photo.png")


def test_open_graph_of_a_news_item_with_an_image(client, home):
    index = NewsIndexPageFactory(parent=home)
    image = Image.objects.create(title="照片", file=png())
    NewsPageFactory(
        parent=index,
        slug="with-photo",
        title="宣传周启动",
        summary="全市同步开展宣传活动。",
        image=image,
    )
    html = get(client, "/news/with-photo/?utm=x").content.decode()
    assert meta(html, "og:title") == "宣传周启动"
    assert meta(html, "og:description") == "全市同步开展宣传活动。"
    assert meta(html, "og:url") == "http://testserver/news/with-photo/"
    assert meta(html, "og:type") == "article"
    assert meta(html, "og:locale") == "zh_CN"
    rendition = image.get_rendition("fill-1200x630")
    assert meta(html, "og:image") == f"http://testserver{rendition.url}"

    english = get(client, "/en/news/with-photo/").content.decode()
    assert meta(english, "og:locale") == "en_US"
    assert meta(english, "og:url") == "http://testserver/en/news/with-photo/"
    assert meta(english, "og:title") == "宣传周启动"


def test_open_graph_prefers_the_search_description_and_uses_a_banner(client, home):
    banner = Image.objects.create(title="横幅", file=png())
    CampaignPageFactory(
        parent=home,
        slug="week",
        summary="摘要",
        search_description="搜索描述",
        banner=banner,
    )
    html = get(client, "/week/").content.decode()
    assert meta(html, "og:description") == "搜索描述"
    assert meta(html, "og:image").endswith(banner.get_rendition("fill-1200x630").url)
    assert meta(html, "og:type") == "website"


def test_open_graph_of_a_page_without_image_or_description(client, home):
    home.intro = ""
    home.save()
    html = get(client, "/").content.decode()
    assert meta(html, "og:url") == "http://testserver/"
    assert meta(html, "og:title") == home.title
    # No image of its own: the portal's default share image (docs/seo.md).
    assert meta(html, "og:image") == ("http://testserver/static/img/share-default.png")
    assert meta(html, "og:description") is None


# --- sitemap.xml and robots.txt --------------------------------------------------


def test_sitemap_lists_live_public_pages_in_both_languages(client, home, news):
    index, _items = news
    NewsPageFactory(parent=index, slug="draft", live=False)
    private = NewsPageFactory(parent=index, slug="private")
    PageViewRestriction.objects.create(
        page=private, restriction_type=PageViewRestriction.PASSWORD, password="x"
    )
    response = get(client, "/sitemap.xml")
    root = ET.fromstring(response.content)
    locations = {url.findtext(f"{SITEMAP}loc") for url in root}
    assert "http://testserver/" in locations
    assert "http://testserver/en/" in locations
    assert "http://testserver/news/news-20/" in locations
    assert "http://testserver/en/news/news-20/" in locations
    assert not any("draft" in loc or "private" in loc for loc in locations)
    assert not any("/admin" in loc for loc in locations)


def test_robots_txt(client, home):
    response = get(client, "/robots.txt")
    assert response["Content-Type"].startswith("text/plain")
    lines = response.content.decode().splitlines()
    assert "User-agent: *" in lines
    for path in ("/admin/", "/django-admin/", "/accounts/", "/contacts/", "/learning/"):
        assert f"Disallow: {path}" in lines
    assert "Disallow: /en/accounts/" in lines
    assert "Sitemap: http://testserver/sitemap.xml" in lines
    assert "Disallow: /" not in lines

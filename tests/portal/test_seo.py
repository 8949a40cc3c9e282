"""Found and shared correctly: the sitemap lists only what an anonymous
visitor can open, with hreflang alternates; every page has a canonical link,
a description and a share image; event and course pages carry schema.org
JSON-LD; the Atom feeds have an author and ids of their own, and nothing
dated in the future."""

import datetime
import json
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path
from unittest import mock
from urllib.parse import urlsplit

import pytest
from PIL import Image as PILImage

from django.conf import settings
from django.test import Client
from django.utils import timezone

from wagtail.models import PageViewRestriction

from portal.demo import content as demo_content
from portal.models import NewsPage
from testing.courses.factories import (
    CourseIndexPageFactory,
    CoursePageFactory,
    LessonPageFactory,
)
from tests.events.factories import (
    CampaignPageFactory,
    EventIndexPageFactory,
    EventPageFactory,
)
from tests.factories import (
    NewsIndexPageFactory,
    NewsPageFactory,
    NoticeIndexPageFactory,
    NoticePageFactory,
    StandardPageFactory,
)

pytestmark = pytest.mark.django_db

SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
XHTML = "{http://www.w3.org/1999/xhtml}"
ATOM = "{http://www.w3.org/2005/Atom}"
SHARE_IMAGE = "http://testserver/static/img/share-default.png"


class Head(HTMLParser):
    """The <meta>, <link> and JSON-LD <script> elements of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.meta: dict[str, str] = {}
        self.links: list[dict[str, str]] = []
        self.json_ld: list[str] = []
        self._in_ld = False

    def handle_starttag(self, tag, attrs):  # type: ignore[no-untyped-def]
        a = {k: v or "" for k, v in attrs}
        if tag == "meta":
            key = a.get("property") or a.get("name")
            if key:
                self.meta[key] = a.get("content", "")
        elif tag == "link":
            self.links.append(a)
        elif tag == "script" and a.get("type") == "application/ld+json":
            self._in_ld = True
            self.json_ld.append("")

    def handle_endtag(self, tag):  # type: ignore[no-untyped-def]
        if tag == "script":
            self._in_ld = False

    def handle_data(self, data):  # type: ignore[no-untyped-def]
        if self._in_ld:
            self.json_ld[-1] += data

    def link(self, rel: str, **attrs: str) -> list[str]:
        return [
            link["href"]
            for link in self.links
            if link.get("rel") == rel
            and all(link.get(k) == v for k, v in attrs.items())
        ]


def head(client, url: str) -> Head:  # type: ignore[no-untyped-def]
    response = client.get(url)
    assert response.status_code == 200, url
    parser = Head()
    parser.feed(response.content.decode())
    return parser


@pytest.fixture
def site(home):  # type: ignore[no-untyped-def]
    """One page of each public kind, a course with lessons (behind sign-in),
    a private page and a draft."""
    news = NewsIndexPageFactory(parent=home)
    notices = NoticeIndexPageFactory(parent=home)
    NewsPageFactory(parent=news, slug="launch", summary="宣传周启动。")
    NoticePageFactory(parent=notices, slug="notice")
    StandardPageFactory(parent=home, slug="about")
    events = EventIndexPageFactory(parent=home)
    EventPageFactory(parent=events, slug="lecture")
    CampaignPageFactory(parent=home, slug="week")
    catalogue = CourseIndexPageFactory(parent=home)
    course = CoursePageFactory(parent=catalogue, slug="basics")
    lessons = [LessonPageFactory(parent=course, slug=f"lesson-{n}") for n in range(3)]
    private = StandardPageFactory(parent=home, slug="internal")
    PageViewRestriction.objects.create(
        page=private, restriction_type=PageViewRestriction.LOGIN
    )
    StandardPageFactory(parent=home, slug="draft", live=False)
    return {"course": course, "lessons": lessons}


# --- sitemap.xml --------------------------------------------------------------


def sitemap(client) -> list[ET.Element]:  # type: ignore[no-untyped-def]
    response = client.get("/sitemap.xml")
    assert response.status_code == 200
    return list(ET.fromstring(response.content))


def test_every_address_in_the_sitemap_opens_for_an_anonymous_visitor(site):
    anonymous = Client()
    urls = sitemap(anonymous)
    locations = [url.findtext(f"{SITEMAP}loc") for url in urls]
    assert "http://testserver/courses/basics/" in locations
    assert "http://testserver/en/events/lecture/" in locations
    assert not any("lesson-" in loc for loc in locations)
    assert not any("internal" in loc or "draft" in loc for loc in locations)
    for location in locations:
        parts = urlsplit(location)
        assert (parts.scheme, parts.netloc) == ("http", "testserver")
        response = anonymous.get(parts.path)
        assert response.status_code == 200, (location, response.status_code)


def test_each_sitemap_entry_names_both_languages(site):
    urls = sitemap(Client())
    entries = {url.findtext(f"{SITEMAP}loc"): url for url in urls}
    for path in ("/", "/news/launch/", "/courses/basics/"):
        zh, en = f"http://testserver{path}", f"http://testserver/en{path}"
        for location in (zh, en):
            alternates = {
                link.get("hreflang"): link.get("href")
                for link in entries[location].findall(f"{XHTML}link")
                if link.get("rel") == "alternate"
            }
            assert alternates == {"zh-Hans": zh, "en": en, "x-default": zh}
    assert len(entries) == len(urls)  # each address once


# --- the <head> ---------------------------------------------------------------


def test_canonical_description_and_languages_of_a_page(client, site):
    page = head(client, "/news/launch/?utm_source=wechat")
    assert page.link("canonical") == ["http://testserver/news/launch/"]
    assert page.meta["description"] == "宣传周启动。"  # its summary
    assert page.link("alternate", hreflang="zh-Hans") == [
        "http://testserver/news/launch/"
    ]
    assert page.link("alternate", hreflang="en") == [
        "http://testserver/en/news/launch/"
    ]
    assert page.link("alternate", hreflang="x-default") == [
        "http://testserver/news/launch/"
    ]
    english = head(client, "/en/news/launch/")
    assert english.link("canonical") == ["http://testserver/en/news/launch/"]


def test_the_search_description_wins_over_the_summary(client, home):
    index = NewsIndexPageFactory(parent=home)
    NewsPageFactory(
        parent=index, slug="n", summary="摘要", search_description="搜索引擎看到的描述"
    )
    page = head(client, "/news/n/")
    assert page.meta["description"] == "搜索引擎看到的描述"
    assert page.meta["og:description"] == "搜索引擎看到的描述"
    assert page.meta["twitter:description"] == "搜索引擎看到的描述"


def test_a_page_without_an_image_is_shared_with_the_default_image(client, home):
    page = head(client, "/")
    assert page.meta["og:image"] == SHARE_IMAGE
    assert page.meta["twitter:image"] == SHARE_IMAGE
    assert page.meta["twitter:card"] == "summary_large_image"
    assert (page.meta["og:image:width"], page.meta["og:image:height"]) == (
        "1200",
        "630",
    )
    shipped = Path(settings.BASE_DIR, "static", "img", "share-default.png")
    with PILImage.open(shipped) as image:
        assert (image.format, image.size) == ("PNG", (1200, 630))


def test_the_share_image_is_on_the_public_address(client, home, settings):
    settings.PORTAL_BASE_URL = "https://portal.example.org"
    page = head(client, "/")
    assert page.meta["og:image"] == (
        "https://portal.example.org/static/img/share-default.png"
    )
    assert page.link("canonical") == ["https://portal.example.org/"]


def test_a_view_outside_the_page_tree_has_a_canonical_link_too(client, home):
    page = head(client, "/search/?q=专利")
    assert page.link("canonical") == ["http://testserver/search/"]
    assert page.link("alternate", hreflang="en") == ["http://testserver/en/search/"]
    assert page.meta["og:image"] == SHARE_IMAGE


# --- JSON-LD ----------------------------------------------------------------


def json_ld(client, url: str) -> list[dict]:  # type: ignore[no-untyped-def]
    return [json.loads(text) for text in head(client, url).json_ld]


def test_an_event_page_describes_its_event(client, home):
    index = EventIndexPageFactory(parent=home)
    starts = timezone.make_aware(datetime.datetime(2027, 4, 22, 9, 30))
    EventPageFactory(
        parent=index,
        slug="lecture",
        title="专利保护讲座",
        summary="讲解专利保护。",
        starts_at=starts,
        ends_at=starts + datetime.timedelta(hours=2),
        venue="重庆市知识产权局报告厅",
        address="重庆市渝北区",
        organiser="重庆市知识产权局",
    )
    (data,) = json_ld(client, "/events/lecture/")
    assert data["@context"] == "https://schema.org"
    assert data["@type"] == "Event"
    assert data["name"] == "专利保护讲座"
    assert data["description"] == "讲解专利保护。"
    assert data["startDate"] == "2027-04-22T09:30:00+08:00"
    assert data["endDate"] == "2027-04-22T11:30:00+08:00"
    assert data["location"] == {
        "@type": "Place",
        "name": "重庆市知识产权局报告厅",
        "address": "重庆市渝北区",
    }
    assert data["eventAttendanceMode"] == (
        "https://schema.org/OfflineEventAttendanceMode"
    )
    assert data["eventStatus"] == "https://schema.org/EventScheduled"
    assert data["organizer"] == {"@type": "Organization", "name": "重庆市知识产权局"}
    assert data["url"] == "http://testserver/events/lecture/"
    assert data["image"] == [SHARE_IMAGE]


def test_an_online_event_has_a_virtual_location(client, home):
    index = EventIndexPageFactory(parent=home)
    EventPageFactory(
        parent=index,
        slug="live",
        venue="",
        address="",
        online_url="https://live.example.org/room/1",
    )
    (data,) = json_ld(client, "/events/live/")
    assert data["location"] == {
        "@type": "VirtualLocation",
        "url": "https://live.example.org/room/1",
    }
    assert data["eventAttendanceMode"].endswith("OnlineEventAttendanceMode")


def test_a_cancelled_event_says_so(client, home):
    from events.models import EventPage

    index = EventIndexPageFactory(parent=home)
    event = EventPageFactory(parent=index, slug="off")
    EventPage.objects.filter(pk=event.pk).update(
        cancelled_at=timezone.now(), cancellation_reason="天气原因"
    )
    (data,) = json_ld(client, "/events/off/")
    assert data["eventStatus"] == "https://schema.org/EventCancelled"


def test_json_ld_cannot_be_broken_out_of(client, home):
    """An editor's title that closes the script element stays data."""
    index = EventIndexPageFactory(parent=home)
    hostile = '</script><script>alert(1)</script><!-- & "'
    EventPageFactory(parent=index, slug="x", title=hostile, summary=hostile)
    body = client.get("/events/x/").content.decode()
    script = re.search(
        r'<script type="application/ld\+json">(.*?)</script>', body, re.S
    )
    assert script is not None
    assert "<" not in script.group(1) and ">" not in script.group(1)
    assert "&" not in script.group(1).replace("\\u0026", "")
    assert json.loads(script.group(1))["name"] == hostile
    assert "<script>alert(1)" not in body


def test_a_course_page_describes_its_course(client, site):
    (data,) = json_ld(client, "/courses/basics/")
    assert data["@type"] == "Course"
    assert data["name"] == site["course"].title
    assert data["description"] == "面向公务员的知识产权入门课程。"
    assert data["url"] == "http://testserver/courses/basics/"
    assert data["provider"]["@type"] == "Organization"
    assert data["provider"]["name"]
    assert data["provider"]["url"] == "http://testserver/"


def test_other_pages_carry_no_json_ld(client, site):
    assert json_ld(client, "/news/launch/") == []


# --- feeds --------------------------------------------------------------------


def atom(client, url: str) -> ET.Element:  # type: ignore[no-untyped-def]
    response = client.get(url)
    assert response.status_code == 200
    return ET.fromstring(response.content)


def test_atom_feeds_have_an_author_and_ids_of_their_own(client, home):
    index = NewsIndexPageFactory(parent=home)
    NewsPageFactory(parent=index, slug="n", date=datetime.date(2026, 3, 1))
    notices = NoticeIndexPageFactory(parent=home)
    NoticePageFactory(parent=notices, slug="x", date=datetime.date(2026, 3, 1))
    ids = []
    for url in (
        "/feeds/news.atom",
        "/feeds/notices.atom",
        "/en/feeds/news.atom",
        "/en/feeds/notices.atom",
    ):
        feed = atom(client, url)
        ids.append(feed.findtext(f"{ATOM}id"))
        author = feed.find(f"{ATOM}author")
        assert author is not None and author.findtext(f"{ATOM}name"), url
        assert feed.findtext(f"{ATOM}id") == f"http://testserver{url}"
    assert len(set(ids)) == 4


def test_nothing_dated_in_the_future_is_in_a_feed(client, home):
    today = timezone.localdate()
    index = NewsIndexPageFactory(parent=home)
    NewsPageFactory(parent=index, title="今天的新闻", date=today)
    NewsPageFactory(
        parent=index, title="明年的新闻", date=today + datetime.timedelta(days=140)
    )
    notices = NoticeIndexPageFactory(parent=home)
    NoticePageFactory(parent=notices, title="今天的通知", date=today)
    NoticePageFactory(
        parent=notices, title="明天的通知", date=today + datetime.timedelta(days=1)
    )
    now = timezone.now()
    for url in ("/feeds/news.atom", "/feeds/notices.atom"):
        entries = atom(client, url).findall(f"{ATOM}entry")
        assert len(entries) == 1, url
        for entry in entries:
            for tag in ("published", "updated"):
                when = datetime.datetime.fromisoformat(entry.findtext(f"{ATOM}{tag}"))
                assert when <= now, (url, tag)
    for url in ("/feeds/news.rss", "/feeds/notices.rss"):
        body = client.get(url).content.decode()
        assert "明年的新闻" not in body and "明天的通知" not in body


def test_the_demo_news_is_not_dated_in_the_future(home):
    with mock.patch.object(demo_content, "_opinions_pdf", return_value=None):
        demo_content.load_demo_content()
    today = timezone.localdate()
    assert NewsPage.objects.exists()
    assert not NewsPage.objects.filter(date__gt=today).exists()

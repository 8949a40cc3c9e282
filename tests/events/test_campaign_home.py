"""The home page while a campaign has it (events.campaigns.home_section):
upcoming events first and past ones under 回顾 (Review), the notices marked
important kept, and the news published (not dated) inside the window; the
campaign page groups its events the same way; a fixed number of queries."""

import datetime

import pytest

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from events import campaigns
from events.models import CampaignPage
from portal.models import NewsPage
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
    PolicyDocumentPageFactory,
    PolicyIndexPageFactory,
)

pytestmark = pytest.mark.django_db

HOUR = datetime.timedelta(hours=1)
DAY = datetime.timedelta(days=1)


def now() -> datetime.datetime:
    return timezone.now().replace(microsecond=0)


def running(home, **fields) -> CampaignPage:  # type: ignore[no-untyped-def]
    fields = {"starts_at": now() - 3 * DAY, "ends_at": now() + 4 * DAY} | fields
    return CampaignPageFactory(parent=home, slug="week", **fields)


def html(client, url: str = "/") -> str:  # type: ignore[no-untyped-def]
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def positions(page: str, titles: list[str]) -> list[int]:
    found = [page.find(f">{title}<") for title in titles]
    assert -1 not in found, [t for t, p in zip(titles, found, strict=True) if p < 0]
    return found


@pytest.fixture
def twelve_past_three_coming(home):  # type: ignore[no-untyped-def]
    """A campaign with twelve events that have ended and three that have not
    (one under way): more than the home page's twelve places."""
    campaign = running(home)
    index = EventIndexPageFactory(parent=home)
    past = []
    for n in range(12):
        starts = now() - (30 - n) * DAY
        past.append(
            EventPageFactory(
                parent=index,
                title=f"已结束的活动{n:02d}",
                campaign=campaign,
                starts_at=starts,
                ends_at=starts + 2 * HOUR,
            )
        )
    under_way = EventPageFactory(
        parent=index,
        title="正在进行的讲座",
        campaign=campaign,
        starts_at=now() - HOUR,
        ends_at=now() + HOUR,
    )
    later = EventPageFactory(
        parent=index,
        title="后天的培训班",
        campaign=campaign,
        starts_at=now() + 2 * DAY,
        ends_at=now() + 2 * DAY + 3 * HOUR,
    )
    sooner = EventPageFactory(
        parent=index,
        title="明天的展览",
        campaign=campaign,
        starts_at=now() + DAY,
        ends_at=now() + DAY + 3 * HOUR,
    )
    return campaign, past, [under_way, sooner, later]


def test_upcoming_events_come_first_soonest_first_and_past_ones_under_review(
    client, home, twelve_past_three_coming
):
    _campaign, past, coming = twelve_past_three_coming
    page = html(client)
    coming_at = positions(page, [e.title for e in coming])
    assert coming_at == sorted(coming_at)  # under way, tomorrow, the day after
    assert "回顾" in page
    review_at = page.index("回顾")
    assert max(coming_at) < review_at
    # The nine places left go to the most recent past events, newest first.
    shown = [e.title for e in reversed(past)][:9]
    past_at = positions(page, shown)
    assert past_at == sorted(past_at) and min(past_at) > review_at
    for event in past[:3]:  # the oldest three did not fit
        assert event.title not in page
    assert "正在进行" in page or "Happening now" in page

    english = html(client, "/en/")
    assert ">Review<" in english


def test_fifteen_upcoming_events_leave_no_place_to_past_ones(client, home):
    campaign = running(home)
    index = EventIndexPageFactory(parent=home)
    EventPageFactory(
        parent=index,
        title="已结束的活动",
        campaign=campaign,
        starts_at=now() - 2 * DAY,
        ends_at=now() - 2 * DAY + HOUR,
    )
    for n in range(15):
        EventPageFactory(
            parent=index,
            title=f"将来的活动{n:02d}",
            campaign=campaign,
            starts_at=now() + (n + 1) * HOUR,
            ends_at=now() + (n + 2) * HOUR,
        )
    featured = campaigns.campaign_events_featured(campaign=campaign)
    assert [e.title for e in featured.upcoming] == [
        f"将来的活动{n:02d}" for n in range(campaigns.FEATURED_EVENTS)
    ]
    assert featured.past == []
    page = html(client)
    assert "已结束的活动" not in page and "回顾" not in page


def test_a_campaign_whose_events_have_all_ended_says_so(client, home):
    campaign = running(home)
    index = EventIndexPageFactory(parent=home)
    EventPageFactory(
        parent=index,
        title="已结束的活动",
        campaign=campaign,
        starts_at=now() - 2 * DAY,
        ends_at=now() - 2 * DAY + HOUR,
    )
    page = html(client)
    assert "回顾" in page and "已结束的活动" in page
    assert "各项活动均已结束。" in page


def test_the_campaign_page_groups_its_events_the_same_way(
    client, home, twelve_past_three_coming
):
    _campaign, past, coming = twelve_past_three_coming
    page = html(client, "/week/")
    coming_at = positions(page, [e.title for e in coming])
    review_at = page.index("回顾")
    past_at = positions(page, [e.title for e in reversed(past)])  # all of them
    assert coming_at == sorted(coming_at) and max(coming_at) < review_at
    assert past_at == sorted(past_at) and min(past_at) > review_at


# --- notices and policies ----------------------------------------------------------


def test_important_notices_stay_on_the_home_page_during_the_campaign(client, home):
    notices = NoticeIndexPageFactory(parent=home)
    NoticePageFactory(
        parent=notices, title="关于宣传周安全的重要通知", is_important=True
    )
    NoticePageFactory(parent=notices, title="关于培训报名的普通通知")
    policies = PolicyIndexPageFactory(parent=home)
    PolicyDocumentPageFactory(parent=policies, title="某项政策文件")

    running(home)
    page = html(client)
    assert "关于宣传周安全的重要通知" in page and "重要通知" in page
    assert "关于培训报名的普通通知" not in page
    assert "某项政策文件" not in page
    assert "Important notices" in html(client, "/en/")


def test_no_important_notice_no_notice_panel(client, home):
    notices = NoticeIndexPageFactory(parent=home)
    NoticePageFactory(parent=notices, title="关于培训报名的普通通知")
    running(home)
    page = html(client)
    assert 'id="home-notices"' not in page


# --- news: published inside the window -----------------------------------------------


def test_campaign_news_is_the_news_published_inside_the_window(client, home):
    campaign = running(home)
    index = NewsIndexPageFactory(parent=home)
    before = campaign.starts_at - 10 * DAY
    written_before = NewsPageFactory(
        parent=index, title="提前写好、宣传周上线的新闻", date=before.date()
    )
    dated_inside_but_out_before = NewsPageFactory(
        parent=index, title="早已发布的新闻", date=timezone.localdate()
    )
    NewsPage.objects.filter(pk=written_before.pk).update(
        first_published_at=campaign.starts_at + HOUR
    )
    NewsPage.objects.filter(pk=dated_inside_but_out_before.pk).update(
        first_published_at=campaign.starts_at - DAY
    )
    titles = [
        n.title for n in campaigns.campaign_news(campaign=campaign, site_root=home)
    ]
    assert titles == ["提前写好、宣传周上线的新闻"]
    page = html(client)
    assert "提前写好、宣传周上线的新闻" in page and "早已发布的新闻" not in page
    # Shown with its publication date, the one that makes it campaign news.
    published = timezone.localdate(campaign.starts_at + HOUR)
    assert f'datetime="{published:%Y-%m-%d}"' in page


def test_news_scheduled_to_go_live_in_the_window_is_campaign_news(client, home):
    """Scheduled with a go-live time: the beat task publishes it then, and
    that is its publication time."""
    campaign = running(home)
    index = NewsIndexPageFactory(parent=home)
    item = NewsPageFactory(
        parent=index, title="定时发布的新闻", date=datetime.date(2020, 1, 1), live=False
    )
    item.first_published_at = None
    item.save()
    item.save_revision().publish()  # what publish_scheduled does at go-live
    item.refresh_from_db()
    assert campaign.starts_at <= item.first_published_at < campaign.ends_at
    assert "定时发布的新闻" in html(client)


def test_news_made_live_without_a_publication_time_counts_by_its_date(home):
    campaign = running(home)
    index = NewsIndexPageFactory(parent=home)
    inside = NewsPageFactory(parent=index, title="窗口内", date=timezone.localdate())
    outside = NewsPageFactory(
        parent=index, title="窗口外", date=datetime.date(2020, 1, 1)
    )
    NewsPage.objects.filter(pk__in=[inside.pk, outside.pk]).update(
        first_published_at=None
    )
    titles = [
        n.title for n in campaigns.campaign_news(campaign=campaign, site_root=home)
    ]
    assert titles == ["窗口内"]


# --- bounded queries ------------------------------------------------------------------


def queries_for(client, url: str = "/") -> int:  # type: ignore[no-untyped-def]
    client.get(url)  # warm caches
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200
    return len([q for q in context.captured_queries if "portal_cache" not in q["sql"]])


# The page and its site, the campaign, its events, its news and the
# important notices: the same whatever their numbers.
HOME_PAGE_QUERIES = 8


def test_the_campaign_home_page_costs_a_fixed_number_of_queries(client, home):
    campaign = running(home)
    events = EventIndexPageFactory(parent=home)
    news = NewsIndexPageFactory(parent=home)
    notices = NoticeIndexPageFactory(parent=home)

    def grow(count: int) -> None:
        for n in range(count):
            EventPageFactory(parent=events, campaign=campaign)
            EventPageFactory(
                parent=events,
                campaign=campaign,
                starts_at=now() - (n + 1) * DAY,
                ends_at=now() - (n + 1) * DAY + HOUR,
            )
            NewsPageFactory(parent=news, date=timezone.localdate())
            NoticePageFactory(parent=notices, is_important=True)

    grow(1)
    small = queries_for(client)
    grow(15)
    large = queries_for(client)
    assert small == large == HOME_PAGE_QUERIES

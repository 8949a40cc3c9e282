"""Campaigns on the home page: featured alone during their window, counted
down to before it, switched on time by the beat task, never held in a cache;
the campaign page; the editor's window check; the demo."""

import datetime
import io
from pathlib import Path

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from PIL import Image as PILImage

from django.conf import settings
from django.core.files.images import ImageFile
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from django.utils.html import escape
from django.utils.translation import gettext

from wagtail.images.models import Image
from wagtail.models import PageViewRestriction, Revision
from wagtail.test.utils.form_data import nested_form_data, streamfield
from wagtail.users.models import UserProfile

from courses.models import HoursLedgerEntry
from events import campaigns
from events.demo import campaign_window, load_demo_content
from events.models import CampaignPage, EventIndexPage, EventPage, Registration
from portal.tasks import publish_scheduled_pages
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
    StaffFactory,
)

pytestmark = pytest.mark.django_db

HOUR = datetime.timedelta(hours=1)
DAY = datetime.timedelta(days=1)


def now() -> datetime.datetime:
    return timezone.now().replace(microsecond=0)


def png(name: str = "banner.png") -> ImageFile:
    buffer = io.BytesIO()
    PILImage.new("RGB", (1600, 600), "firebrick").save(buffer, "PNG")
    return ImageFile(buffer, name=name)


def running(home, **fields) -> CampaignPage:  # type: ignore[no-untyped-def]
    """A live campaign whose window contains now."""
    fields = {"starts_at": now() - DAY, "ends_at": now() + 6 * DAY} | fields
    return CampaignPageFactory(parent=home, **fields)


@pytest.fixture
def usual(home):  # type: ignore[no-untyped-def]
    """The home page's usual content: a news item (dated long ago) and a notice."""
    news_index = NewsIndexPageFactory(parent=home)
    notices = NoticeIndexPageFactory(parent=home)
    return {
        "news_index": news_index,
        "old_news": NewsPageFactory(
            parent=news_index, title="去年的新闻", date=datetime.date(2020, 1, 1)
        ),
        "notice": NoticePageFactory(parent=notices, title="关于培训的通知"),
    }


def html(client, url: str = "/") -> str:  # type: ignore[no-untyped-def]
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


# --- the home page --------------------------------------------------------------


def test_without_a_campaign_the_home_page_is_as_usual(client, home, usual):
    page = html(client)
    assert "去年的新闻" in page and "关于培训的通知" in page
    assert "data-countdown" not in page and "countdown.js" not in page


@pytest.mark.parametrize("prefix", ["", "/en"])
def test_a_campaign_in_force_is_featured_alone(client, home, usual, prefix):
    banner = Image.objects.create(title="宣传周横幅", file=png())
    campaign = running(
        home,
        title="4·26 知识产权宣传周",
        summary="全市集中开展知识产权宣传活动。",
        banner=banner,
        slug="world-ip-day",
    )
    events = EventIndexPageFactory(parent=home)
    lecture = EventPageFactory(
        parent=events,
        title="专利保护讲座",
        campaign=campaign,
        starts_at=timezone.make_aware(datetime.datetime(2027, 4, 22, 9, 30)),
        ends_at=timezone.make_aware(datetime.datetime(2027, 4, 22, 11, 30)),
    )
    EventPageFactory(parent=events, title="与宣传周无关的活动")
    NewsPageFactory(
        parent=usual["news_index"], title="宣传周启动", date=timezone.localdate()
    )

    page = html(client, f"{prefix}/")

    assert '<h1 id="campaign-title"' in page and "4·26 知识产权宣传周" in page
    assert "全市集中开展知识产权宣传活动。" in page
    assert f'href="{prefix}/world-ip-day/"' in page
    rendition = banner.get_rendition("fill-1200x400")
    assert rendition.url in page
    # Its events, with their dates, and its news; nothing else.
    assert "专利保护讲座" in page and lecture.url in page
    assert 'datetime="2027-04-22T09:30:00+08:00"' in page
    assert "宣传周启动" in page
    assert "与宣传周无关的活动" not in page
    assert "去年的新闻" not in page and "关于培训的通知" not in page
    # The page reloads when the campaign ends.
    assert "countdown.js" in page
    if prefix:
        assert "Campaign events" in page and "About the campaign" in page
        assert '<html lang="en">' in page


def test_the_featured_campaign_is_labelled_in_chinese(client, home):
    running(home)
    page = html(client)
    assert '<html lang="zh-Hans">' in page
    assert "活动安排" in page and "查看活动详情" in page


def test_a_campaign_about_to_start_is_counted_down_to(client, home, usual):
    CampaignPageFactory(
        parent=home,
        title="4·26 知识产权宣传周",
        slug="world-ip-day",
        starts_at=now() + 3 * DAY + 2 * HOUR + 30 * datetime.timedelta(minutes=1),
        countdown_days=14,
    )
    page = html(client)
    assert "4·26 知识产权宣传周" in page and 'href="/world-ip-day/"' in page
    assert "data-countdown-days>3<" in page
    assert "data-countdown-hours>2<" in page
    assert 'role="timer"' in page
    seconds = int(page.split('data-seconds="')[1].split('"')[0])
    assert 3 * 86400 < seconds <= 3 * 86400 + 2 * 3600 + 1800
    assert "/static/events/countdown.js" in page
    # The usual home page stays under the countdown.
    assert "去年的新闻" in page and "关于培训的通知" in page

    english = html(client, "/en/")
    assert "Coming soon" in english and "day(s)" in english and "hour(s)" in english


def test_no_countdown_before_the_countdown_days(client, home, usual):
    CampaignPageFactory(
        parent=home, title="远期活动", starts_at=now() + 20 * DAY, countdown_days=14
    )
    page = html(client)
    assert "远期活动" not in page and "data-countdown" not in page


def test_the_countdown_script_is_served_and_reloads_at_zero(client):
    script = Path(
        settings.BASE_DIR, "events", "static", "events", "countdown.js"
    ).read_text()
    assert "window.location.reload()" in script
    assert "data-seconds" in script


def test_of_several_campaigns_in_force_the_one_started_last_is_featured(client, home):
    running(home, title="较早开始的活动", starts_at=now() - 3 * DAY)
    running(home, title="刚开始的活动", starts_at=now() - HOUR)
    page = html(client)
    assert "刚开始的活动" in page and "较早开始的活动" not in page


def test_of_several_coming_campaigns_the_first_to_start_is_counted_down_to(
    client, home
):
    CampaignPageFactory(parent=home, title="后开始的活动", starts_at=now() + 5 * DAY)
    CampaignPageFactory(parent=home, title="先开始的活动", starts_at=now() + 2 * DAY)
    page = html(client)
    assert "先开始的活动" in page and "后开始的活动" not in page


def test_a_campaign_in_force_wins_over_a_coming_one(client, home):
    running(home, title="进行中的活动")
    CampaignPageFactory(parent=home, title="即将开始的活动", starts_at=now() + DAY)
    page = html(client)
    assert "进行中的活动" in page and "即将开始的活动" not in page


def test_draft_private_and_ended_campaigns_are_not_featured(client, home, usual):
    running(home, title="草稿活动", live=False)
    private = running(home, title="内部活动")
    PageViewRestriction.objects.create(
        page=private, restriction_type=PageViewRestriction.LOGIN
    )
    running(home, title="已结束的活动", starts_at=now() - 9 * DAY, ends_at=now() - HOUR)
    page = html(client)
    for title in ("草稿活动", "内部活动", "已结束的活动"):
        assert title not in page
    assert "去年的新闻" in page


def test_the_window_opening_switches_the_home_page_with_no_save(client, home, usual):
    """Nothing caches the home page: the campaign appears at the minute its
    window opens, although no page was saved (no signal, no invalidation)."""
    campaign = CampaignPageFactory(
        parent=home, title="4·26 知识产权宣传周", starts_at=now() + HOUR
    )
    assert "data-countdown-hours" in html(client)
    # Time passes: the start is now behind us (a queryset update sends no signal).
    CampaignPage.objects.filter(pk=campaign.pk).update(starts_at=now() - 1 * HOUR)
    page = html(client)
    assert '<h1 id="campaign-title"' in page
    assert "去年的新闻" not in page
    # And at the end the usual home page is back.
    CampaignPage.objects.filter(pk=campaign.pk).update(ends_at=now())
    page = html(client)
    assert "campaign-title" not in page and "去年的新闻" in page


# --- query counts ----------------------------------------------------------------


def queries_for(client, url: str) -> int:  # type: ignore[no-untyped-def]
    client.get(url)  # warm caches
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200
    return len([q for q in context.captured_queries if "portal_cache" not in q["sql"]])


def test_home_page_queries_do_not_grow_with_the_campaign(client, home, usual):
    banner = Image.objects.create(title="横幅", file=png())
    campaign = running(home, banner=banner)
    events = EventIndexPageFactory(parent=home)

    def grow(count: int) -> None:
        for _ in range(count):
            EventPageFactory(parent=events, campaign=campaign)
            NewsPageFactory(parent=usual["news_index"], date=timezone.localdate())

    grow(2)
    small = queries_for(client, "/")
    grow(10)
    large = queries_for(client, "/")
    assert small == large
    # Two fewer than the usual home page's lists would cost; fixed.
    assert large <= 12


def test_campaign_page_queries_do_not_grow_with_its_events(client, home, usual):
    campaign = running(home, slug="week")
    events = EventIndexPageFactory(parent=home)
    EventPageFactory(parent=events, campaign=campaign)
    small = queries_for(client, "/week/")
    for _ in range(10):
        EventPageFactory(parent=events, campaign=campaign)
        NewsPageFactory(parent=usual["news_index"], date=timezone.localdate())
    assert queries_for(client, "/week/") == small


# --- the campaign page -------------------------------------------------------------


@pytest.mark.parametrize("prefix", ["", "/en"])
def test_the_campaign_page_shows_its_window_events_and_news(
    client, home, usual, prefix
):
    campaign = CampaignPageFactory(
        parent=home,
        slug="world-ip-day",
        title="4·26 知识产权宣传周",
        summary="宣传周简介",
        starts_at=timezone.make_aware(datetime.datetime(2027, 4, 20)),
        ends_at=timezone.make_aware(datetime.datetime(2027, 4, 27)),
    )
    events = EventIndexPageFactory(parent=home)
    EventPageFactory(
        parent=events,
        title="商标讲座",
        campaign=campaign,
        starts_at=timezone.make_aware(datetime.datetime(2027, 4, 21, 14)),
        ends_at=timezone.make_aware(datetime.datetime(2027, 4, 21, 16)),
    )
    NewsPageFactory(
        parent=usual["news_index"], title="宣传周新闻", date=datetime.date(2027, 4, 26)
    )
    NewsPageFactory(
        parent=usual["news_index"], title="周后新闻", date=datetime.date(2027, 4, 27)
    )
    page = html(client, f"{prefix}/world-ip-day/")
    assert "4·26 知识产权宣传周" in page and "宣传周简介" in page
    assert 'datetime="2027-04-20T00:00:00+08:00"' in page
    assert "商标讲座" in page and "宣传周新闻" in page
    assert "周后新闻" not in page and "去年的新闻" not in page
    if prefix:
        assert "Campaign dates" in page and "Campaign news" in page


def test_campaign_news_is_the_news_dated_inside_the_window(home, usual):
    campaign = CampaignPageFactory(
        parent=home,
        starts_at=timezone.make_aware(datetime.datetime(2027, 4, 20)),
        ends_at=timezone.make_aware(datetime.datetime(2027, 4, 27)),
    )
    index = usual["news_index"]
    for day in (19, 20, 26, 27):
        NewsPageFactory(
            parent=index, title=f"4月{day}日", date=datetime.date(2027, 4, day)
        )
    titles = [
        n.title for n in campaigns.campaign_news(campaign=campaign, site_root=home)
    ]
    assert titles == ["4月26日", "4月20日"]


# --- scheduling through beat ---------------------------------------------------------


def test_a_campaign_scheduled_to_go_live_is_featured_after_the_beat_task(
    client, home, usual
):
    campaign = running(home, title="定时上线的宣传周", live=False)
    campaign.go_live_at = now() + HOUR
    campaign.save_revision().publish()  # with a future go-live: only scheduled
    campaign.refresh_from_db()
    assert not campaign.live
    assert "定时上线的宣传周" not in html(client)
    publish_scheduled_pages.delay()  # a tick before the time changes nothing
    assert "定时上线的宣传周" not in html(client)

    # The go-live time passed a second ago.
    # (The revision's own copy of the page holds the time too: Wagtail's
    # publish() would schedule it again if it were still ahead.)
    past = now() - datetime.timedelta(seconds=1)
    revision = Revision.objects.get(
        object_id=str(campaign.pk), approved_go_live_at__isnull=False
    )
    revision.approved_go_live_at = past
    revision.content["go_live_at"] = past.isoformat()
    revision.save()
    publish_scheduled_pages.delay()
    campaign.refresh_from_db()
    assert campaign.live
    page = html(client)
    assert "定时上线的宣传周" in page and '<h1 id="campaign-title"' in page


def test_a_campaign_past_its_expiry_leaves_the_home_page_after_the_beat_task(
    client, home, usual
):
    campaign = running(home, title="到期下线的宣传周")
    assert "到期下线的宣传周" in html(client)
    CampaignPage.objects.filter(pk=campaign.pk).update(
        expire_at=now() - datetime.timedelta(seconds=1)
    )
    publish_scheduled_pages.delay()
    campaign.refresh_from_db()
    assert not campaign.live and campaign.expired
    page = html(client)
    assert "到期下线的宣传周" not in page and "去年的新闻" in page


# --- the window is checked --------------------------------------------------------


def test_the_database_refuses_a_window_that_ends_before_it_starts(home):
    campaign = running(home)
    with pytest.raises(IntegrityError), transaction.atomic():
        CampaignPage.objects.filter(pk=campaign.pk).update(
            ends_at=campaign.starts_at - HOUR
        )


def campaign_form(campaign: CampaignPage, **changes) -> dict:  # type: ignore[no-untyped-def]
    local = timezone.localtime
    data = {
        "title": campaign.title,
        "slug": campaign.slug,
        "starts_at": local(campaign.starts_at).strftime("%Y-%m-%d %H:%M"),
        "ends_at": local(campaign.ends_at).strftime("%Y-%m-%d %H:%M"),
        "countdown_days": campaign.countdown_days,
        "summary": campaign.summary,
        "banner": "",
        "body": streamfield([]),
        "comments": {"TOTAL_FORMS": 0, "INITIAL_FORMS": 0},
    }
    data.update(changes)
    return nested_form_data(data)


@pytest.mark.parametrize(
    "language",
    ["en", "zh-hans"],
)
def test_the_editor_shows_the_window_error_on_the_field_and_saves_nothing(
    client, home, language
):
    staff = StaffFactory(mfa=False)
    TOTP.activate(staff, generate_totp_secret())
    profile = UserProfile.get_for_user(staff)
    profile.preferred_language = language
    profile.save()
    client.force_login(staff)
    campaign = running(home, title="原标题")
    revisions = Revision.objects.count()
    starts = timezone.localtime(campaign.starts_at)
    response = client.post(
        f"/admin/pages/{campaign.pk}/edit/",
        campaign_form(
            campaign,
            title="改过的标题",
            ends_at=(starts - DAY).strftime("%Y-%m-%d %H:%M"),
        ),
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert "ends_at" in form.errors
    with translation.override(language):
        message = gettext("The campaign must end after it starts.")
        # The error is translated when it is read: read it in that language.
        assert form.errors["ends_at"] == [message]
    assert escape(message) in response.content.decode()
    campaign.refresh_from_db()
    assert campaign.title == "原标题" and Revision.objects.count() == revisions


def test_the_editor_saves_a_valid_window(client, home):
    staff = StaffFactory(mfa=False)
    TOTP.activate(staff, generate_totp_secret())
    client.force_login(staff)
    campaign = running(home, title="原标题")
    response = client.post(
        f"/admin/pages/{campaign.pk}/edit/", campaign_form(campaign, title="新标题")
    )
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.get_latest_revision_as_object().title == "新标题"


# --- the demo -------------------------------------------------------------------------


def test_the_demo_campaign_and_events_load_once(client, home):
    created = load_demo_content()
    assert "4·26 知识产权宣传周" in created
    counts = (
        CampaignPage.objects.count(),
        EventIndexPage.objects.count(),
        EventPage.objects.count(),
        Registration.objects.count(),
        HoursLedgerEntry.objects.count(),
    )
    assert load_demo_content() == []
    assert counts == (
        CampaignPage.objects.count(),
        EventIndexPage.objects.count(),
        EventPage.objects.count(),
        Registration.objects.count(),
        HoursLedgerEntry.objects.count(),
    )
    assert counts == (1, 1, 3, 8, 3)

    campaign = CampaignPage.objects.get()
    starts, ends = campaign_window(now=timezone.now())
    assert (campaign.starts_at, campaign.ends_at) == (starts, ends)
    assert timezone.localtime(ends).date().replace(day=26) == timezone.localtime(
        starts
    ).date().replace(day=26)
    assert timezone.localtime(campaign.ends_at - HOUR).date().day == 26
    past, open_event, full = EventPage.objects.order_by("starts_at")
    assert past.ends_at < timezone.now()
    assert all(
        r.checked_in_at and r.status == "confirmed"
        for r in Registration.objects.filter(event=past)
    )
    assert HoursLedgerEntry.objects.filter(source_type="event", source_key=past.pk)
    assert not Registration.objects.filter(event=open_event).exists()
    assert open_event.registration_opens_at < timezone.now() < open_event.starts_at
    assert full.capacity == 3
    statuses = sorted(Registration.objects.filter(event=full).values_list("status"))
    assert statuses == [("confirmed",)] * 3 + [("waiting",)] * 2
    registration = Registration.objects.filter(event=full).first()
    assert registration.event_title == full.title
    assert registration.event_starts_at == full.starts_at

    # A fresh `make run` shows the campaign: counted down to, or in force.
    page = html(client)
    assert "4·26 知识产权宣传周" in page
    assert "data-countdown" in page

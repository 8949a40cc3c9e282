"""Reads for campaigns: which campaign the home page features now, which one
it counts down to, and what a featured campaign shows (its events and news).

Nothing here writes. "Now" is a parameter so that callers and tests can ask
about any moment; it defaults to the current time.

Which campaign:

- *in force*: a live, public campaign whose window contains now
  (``starts_at <= now < ends_at``). When several overlap, the one that started
  last wins: it is the newest news.
- *coming*: otherwise, a live, public campaign that starts within its own
  ``countdown_days``. When several do, the one that starts first wins.

A campaign page that is scheduled (Wagtail's go-live) is not live until the
beat task publishes it, so it is neither in force nor counted down to before
then; its expiry likewise takes it off the home page.
"""

import datetime
import math
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, QuerySet
from django.db.models.functions import Length, Substr
from django.http import HttpRequest
from django.utils import timezone

from wagtail.models import Page, PageViewRestriction

from events.models import CampaignPage, EventPage
from portal.home import HomeSection
from portal.models import NewsPage

FEATURED_EVENTS = 12
FEATURED_NEWS = 6


@dataclass(frozen=True)
class Countdown:
    """The time left before a campaign starts, as the home page shows it."""

    campaign: CampaignPage
    seconds: int  # whole seconds left, rounded up: the page reloads at zero
    days: int
    hours: int
    minutes: int


def _restricted() -> Exists:
    """Pages with a view restriction on themselves or an ancestor, as a
    subquery: what Wagtail's `public()` leaves out, without its separate query
    for the restrictions (the home page asks this on every request)."""
    return Exists(
        PageViewRestriction.objects.filter(
            page__path=Substr(OuterRef("path"), 1, Length("page__path"))
        )
    )


def _unfinished(*, site_root: Page, now: datetime.datetime) -> list[CampaignPage]:
    # One query: the campaigns that
    # have not ended. There are a handful at most, so the choice between them
    # is made here rather than in SQL, where countdown_days (per page) would
    # need date arithmetic that SQLite and PostgreSQL spell differently.
    return list(
        CampaignPage.objects.descendant_of(site_root)
        .live()
        .filter(~_restricted())
        .filter(ends_at__gt=now)
        .select_related("banner")
        .order_by("starts_at", "pk")
    )


def _in_force(campaigns: list[CampaignPage], now: datetime.datetime):
    started = [c for c in campaigns if c.starts_at <= now < c.ends_at]
    return max(started, key=lambda c: (c.starts_at, c.pk)) if started else None


def _coming(campaigns: list[CampaignPage], now: datetime.datetime):
    for campaign in campaigns:  # ordered by start
        if (
            campaign.starts_at > now
            and campaign.starts_at - datetime.timedelta(days=campaign.countdown_days)
            <= now
        ):
            return campaign
    return None


def seconds_until(
    *, moment: datetime.datetime, now: datetime.datetime | None = None
) -> int:
    """Whole seconds from `now` to `moment`, rounded up; 0 once it has passed."""
    now = now or timezone.now()
    return max(0, math.ceil((moment - now).total_seconds()))


def countdown_until(
    *, campaign: CampaignPage, now: datetime.datetime | None = None
) -> Countdown:
    """The days, hours and minutes left until `campaign` starts (never
    negative). Minutes are rounded up, so that "0 minutes" means it has begun."""
    now = now or timezone.now()
    seconds = seconds_until(moment=campaign.starts_at, now=now)
    minutes_left = math.ceil(seconds / 60)
    return Countdown(
        campaign=campaign,
        seconds=seconds,
        days=minutes_left // (24 * 60),
        hours=minutes_left % (24 * 60) // 60,
        minutes=minutes_left % 60,
    )


@dataclass(frozen=True)
class HomeCampaign:
    """What the home page shows of campaigns: one in force, or a countdown to
    one coming, or neither (both None)."""

    in_force: CampaignPage | None = None
    countdown: Countdown | None = None


def campaign_for_home(
    *, site_root: Page, now: datetime.datetime | None = None
) -> HomeCampaign:
    """The campaign in force, else the countdown to the coming one, in one
    query."""
    now = now or timezone.now()
    campaigns = _unfinished(site_root=site_root, now=now)
    in_force = _in_force(campaigns, now)
    if in_force is not None:
        return HomeCampaign(in_force=in_force)
    coming = _coming(campaigns, now)
    if coming is not None:
        return HomeCampaign(countdown=countdown_until(campaign=coming, now=now))
    return HomeCampaign()


def campaign_events(*, campaign: CampaignPage) -> QuerySet[EventPage]:
    """The campaign's live, public events (EventPage.campaign), in the order
    they start."""
    return (
        EventPage.objects.live()
        .public()
        .filter(campaign=campaign)
        .order_by("starts_at", "pk")
    )


def campaign_news(*, campaign: CampaignPage, site_root: Page) -> QuerySet[NewsPage]:
    """The campaign's news: the live, public news items under `site_root`
    dated inside the campaign's window (its first to its last day, in
    Asia/Shanghai), newest first.

    The rule is the date, not a link an editor makes: during 4·26 week the
    news is the week's news, and an editor writing a news item has nothing
    more to remember. A campaign that should show no news can be given a
    window in which none is dated; news about a campaign published before it
    starts is announced by the campaign's own body.
    """
    first_day = timezone.localdate(campaign.starts_at)
    # ends_at is exclusive: a window ending at 00:00 does not take in that day.
    last_day = timezone.localdate(campaign.ends_at - datetime.timedelta(microseconds=1))
    return (
        NewsPage.objects.descendant_of(site_root)
        .live()
        .public()
        .filter(date__gte=first_day, date__lte=last_day)
        .order_by("-date", "-first_published_at")
    )


def home_section(*, site_root: Page, request: HttpRequest) -> HomeSection | None:
    """The home page's part of campaigns (registered with portal.home): a
    campaign in force takes the page for itself (its banner, events and
    news instead of the usual lists); one about to start adds a countdown
    above them."""
    featured = campaign_for_home(site_root=site_root)
    campaign = featured.in_force
    if campaign is not None:
        return HomeSection(
            context={
                "campaign": campaign,
                "campaign_seconds_left": seconds_until(moment=campaign.ends_at),
                "campaign_events": list(
                    campaign_events(campaign=campaign)[:FEATURED_EVENTS]
                ),
                "campaign_news": list(
                    campaign_news(campaign=campaign, site_root=site_root)[
                        :FEATURED_NEWS
                    ]
                ),
            },
            takes_over=True,
        )
    if featured.countdown is not None:
        return HomeSection(context={"countdown": featured.countdown})
    return None

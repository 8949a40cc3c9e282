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

What a campaign in force shows on the home page (home_section):

- its events, those to come or under way first (soonest first), then, under
  回顾 (Review), those that have ended (most recent first); at most
  FEATURED_EVENTS in one query, upcoming ones taking the places first;
- its news: the news *published* inside the window (first_published_at, the
  go-live of a scheduled item), not the news *dated* inside it;
- the notices marked important (重要), which stay on the home page while the
  campaign has it; the other notices and the policies come back when it ends.
"""

import datetime
import math
from dataclasses import dataclass

from django.db.models import (
    Case,
    DateTimeField,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Length, Substr
from django.http import HttpRequest
from django.utils import timezone

from wagtail.models import Page, PageViewRestriction

from events.models import CampaignPage, EventPage
from portal.home import HomeSection
from portal.models import NewsPage, NoticePage

FEATURED_EVENTS = 12
FEATURED_NEWS = 6
IMPORTANT_NOTICES = 5


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
        .filter(~_restricted())
        .filter(campaign=campaign)
        .order_by("starts_at", "pk")
    )


@dataclass(frozen=True)
class CampaignEvents:
    """A campaign's events as its pages list them: those still to come or
    under way first (soonest first), then those that have ended (most recent
    first), under 回顾 (Review)."""

    upcoming: list[EventPage]
    past: list[EventPage]

    def __bool__(self) -> bool:
        return bool(self.upcoming or self.past)


def _has_ended(event: EventPage, now: datetime.datetime) -> bool:
    # As EventPage.is_past: an event ending this very moment is still on.
    return event.ends_at < now


def campaign_events_split(
    *, events: list[EventPage], now: datetime.datetime | None = None
) -> CampaignEvents:
    """`events` (any order) split into those to come or under way, soonest
    first, and those that have ended, most recent first. No query."""
    now = now or timezone.now()
    ordered = sorted(events, key=lambda e: (e.starts_at, e.pk))
    return CampaignEvents(
        upcoming=[e for e in ordered if not _has_ended(e, now)],
        past=[e for e in reversed(ordered) if _has_ended(e, now)],
    )


def campaign_events_featured(
    *,
    campaign: CampaignPage,
    now: datetime.datetime | None = None,
    limit: int = FEATURED_EVENTS,
) -> CampaignEvents:
    """At most `limit` of the campaign's events, in one query: those to come
    or under way first (soonest first), and, in the places left, those that
    have ended (most recent first). A campaign with more events than places
    never loses an upcoming one to a past one."""
    now = now or timezone.now()
    ended = Case(
        When(ends_at__lt=now, then=Value(1)),
        default=Value(0),
        output_field=IntegerField(),
    )
    # Upcoming events sort by their start, ascending; ended ones have no such
    # key (all NULL) and fall through to their start, descending.
    upcoming_start = Case(
        When(ends_at__gte=now, then=F("starts_at")),
        default=None,
        output_field=DateTimeField(),
    )
    events = list(
        campaign_events(campaign=campaign)
        .annotate(campaign_ended=ended, campaign_upcoming_start=upcoming_start)
        .order_by("campaign_ended", "campaign_upcoming_start", "-starts_at", "pk")[
            :limit
        ]
    )
    return campaign_events_split(events=events, now=now)


def campaign_news(*, campaign: CampaignPage, site_root: Page) -> QuerySet[NewsPage]:
    """The campaign's news: the live, public news items under `site_root`
    published inside the campaign's window, newest first.

    Published means first published (Page.first_published_at): the moment an
    editor pressed Publish, or, for an item scheduled with a go-live time,
    the minute the beat task published it. The item's own date is the date
    it was written and is not looked at: an item written the week before
    and scheduled to go live on April 26 is campaign news; one published the
    week before, whatever its date, is not (the campaign's own body can
    announce it). The rule is the time, not a link an editor makes: during
    4·26 week the news is the week's news, and an editor has nothing more to
    remember.
    """
    first_day = timezone.localdate(campaign.starts_at)
    # ends_at is exclusive: a window ending at 00:00 does not take in that day.
    last_day = timezone.localdate(campaign.ends_at - datetime.timedelta(microseconds=1))
    return (
        NewsPage.objects.descendant_of(site_root)
        .live()
        .filter(~_restricted())
        .filter(
            Q(
                first_published_at__gte=campaign.starts_at,
                first_published_at__lt=campaign.ends_at,
            )
            # A page made live without being published (an import, a
            # fixture) has no publication time: its date stands in for it.
            | Q(
                first_published_at__isnull=True, date__gte=first_day, date__lte=last_day
            )
        )
        .order_by(F("first_published_at").desc(nulls_last=True), "-date", "-pk")
    )


def important_notices(*, site_root: Page, limit: int) -> list[NoticePage]:
    """The newest live, public notices marked important (重要), which the
    home page keeps showing while a campaign has taken it over."""
    return list(
        NoticePage.objects.descendant_of(site_root)
        .live()
        .filter(~_restricted())
        .filter(is_important=True)
        .order_by("-date", "-first_published_at")[:limit]
    )


def home_section(*, site_root: Page, request: HttpRequest) -> HomeSection | None:
    """The home page's part of campaigns (registered with portal.home): a
    campaign in force takes the page for itself (its banner, events and news
    instead of the usual lists, keeping only the notices marked important);
    one about to start adds a countdown above them."""
    now = timezone.now()
    featured = campaign_for_home(site_root=site_root, now=now)
    campaign = featured.in_force
    if campaign is not None:
        return HomeSection(
            context={
                "campaign": campaign,
                "campaign_seconds_left": seconds_until(
                    moment=campaign.ends_at, now=now
                ),
                "campaign_events": campaign_events_featured(campaign=campaign, now=now),
                "campaign_news": list(
                    campaign_news(campaign=campaign, site_root=site_root)[
                        :FEATURED_NEWS
                    ]
                ),
                "important_notices": important_notices(
                    site_root=site_root, limit=IMPORTANT_NOTICES
                ),
            },
            takes_over=True,
        )
    if featured.countdown is not None:
        return HomeSection(context={"countdown": featured.countdown})
    return None

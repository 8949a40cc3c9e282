"""Reads for the public event pages: an index's events by month, type and
audience, upcoming events, a calendar month grid and places left. No writes.

Months and days are Asia/Shanghai ones (settings.TIME_ZONE): an event at
00:30 on 1 May in Chongqing belongs to May, whatever the server's clock says.
"""

import calendar
import datetime
from dataclasses import dataclass, field

from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from wagtail.models import Page

from events.models import EventPage, Registration

WHEN_UPCOMING = "upcoming"
WHEN_PAST = "past"
WHEN_ALL = "all"


def month_bounds(month: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    """The first instant of `month` and of the month after, in local time."""
    first = month.replace(day=1)
    following = next_month(first)
    return (
        timezone.make_aware(datetime.datetime.combine(first, datetime.time.min)),
        timezone.make_aware(datetime.datetime.combine(following, datetime.time.min)),
    )


def next_month(month: datetime.date) -> datetime.date:
    return (month.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)


def previous_month(month: datetime.date) -> datetime.date:
    return (month.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)


def _confirmed_count() -> Coalesce:
    counts = (
        Registration.objects.filter(
            event=OuterRef("pk"), status=Registration.Status.CONFIRMED
        )
        .order_by()
        .values("event")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return Coalesce(Subquery(counts, output_field=IntegerField()), 0)


def events_under(*, index: Page) -> QuerySet[EventPage]:
    """The live, public events below an index, with what a list shows: the
    audiences (one more query) and `confirmed_count` (in the same query)."""
    return (
        EventPage.objects.child_of(index)
        .live()
        .public()
        .annotate(confirmed_count=_confirmed_count())
        .prefetch_related("audiences")
    )


def events_filtered(
    *,
    index: Page,
    month: datetime.date | None = None,
    event_type: str = "",
    audience: str = "",
    when: str = WHEN_UPCOMING,
    now: datetime.datetime | None = None,
) -> QuerySet[EventPage]:
    """An index's events matching the filters.

    `month`: events on at least one day of it. `when`: "upcoming" (not yet
    ended, soonest first), "past" (ended, latest first) or "all" (by start).
    Unknown type or audience codes simply match nothing.
    """
    now = now or timezone.now()
    events = events_under(index=index)
    if month is not None:
        start, end = month_bounds(month)
        events = events.filter(starts_at__lt=end, ends_at__gte=start)
    if event_type:
        events = events.filter(event_type=event_type)
    if audience:
        events = events.filter(audiences__code=audience)
    if when == WHEN_PAST:
        return events.filter(ends_at__lt=now).order_by("-starts_at", "-pk")
    if when == WHEN_UPCOMING:
        events = events.filter(ends_at__gte=now)
    return events.order_by("starts_at", "pk")


def events_upcoming(
    *,
    index: Page,
    limit: int | None = None,
    event_type: str = "",
    audience: str = "",
) -> list[EventPage]:
    """An index's events that have not ended, soonest first (for the feed)."""
    events = events_filtered(
        index=index, event_type=event_type, audience=audience, when=WHEN_UPCOMING
    )
    return list(events[:limit] if limit else events)


@dataclass
class CalendarDay:
    date: datetime.date
    in_month: bool
    is_today: bool
    events: list[EventPage] = field(default_factory=list)


@dataclass
class CalendarMonth:
    month: datetime.date
    previous: datetime.date
    next: datetime.date
    weeks: list[list[CalendarDay]]
    event_count: int


def _local_days(event: EventPage) -> tuple[datetime.date, datetime.date]:
    """The first and last local day an event is on (ending at midnight does
    not put it on the next day)."""
    first = timezone.localtime(event.starts_at).date()
    last_instant = max(
        event.ends_at - datetime.timedelta(microseconds=1), event.starts_at
    )
    return first, timezone.localtime(last_instant).date()


def event_calendar_month(
    *,
    index: Page,
    month: datetime.date,
    event_type: str = "",
    audience: str = "",
) -> CalendarMonth:
    """A month grid (weeks from Monday, as in China) with each event on every
    day of the month it is on. Two queries whatever the number of events."""
    month = month.replace(day=1)
    events = list(
        events_filtered(
            index=index,
            month=month,
            event_type=event_type,
            audience=audience,
            when=WHEN_ALL,
        )
    )
    today = timezone.localdate()
    by_day: dict[datetime.date, list[EventPage]] = {}
    for event in events:
        first, last = _local_days(event)
        day = max(first, month)
        while day <= last and day.month == month.month:
            by_day.setdefault(day, []).append(event)
            day += datetime.timedelta(days=1)
    weeks = [
        [
            CalendarDay(
                date=day,
                in_month=day.month == month.month,
                is_today=day == today,
                events=by_day.get(day, []) if day.month == month.month else [],
            )
            for day in week
        ]
        for week in calendar.Calendar(firstweekday=0).monthdatescalendar(
            month.year, month.month
        )
    ]
    return CalendarMonth(
        month=month,
        previous=previous_month(month),
        next=next_month(month),
        weeks=weeks,
        event_count=len(events),
    )


def event_confirmed_count(*, event: EventPage) -> int:
    """How many registrations for the event are confirmed."""
    return Registration.objects.filter(
        event=event, status=Registration.Status.CONFIRMED
    ).count()


def event_places_left(*, event: EventPage) -> int | None:
    """Places not yet confirmed to anyone; None when there is no limit."""
    if event.capacity is None:
        return None
    confirmed = getattr(event, "confirmed_count", None)
    if confirmed is None:
        confirmed = event_confirmed_count(event=event)
    return max(event.capacity - confirmed, 0)


def personal_data(user) -> dict:
    """What the events app holds about `user` ("Download my data",
    portal.privacy): their registrations with status, check-in (attendance)
    and its reversal. One query, whatever the number of registrations; who
    checked them in (a staff member) is left out."""
    return {
        "registrations": list(
            Registration.objects.filter(user=user)
            .order_by("created_at", "pk")
            .values(
                "event_id",
                "event_title",
                "event_starts_at",
                "status",
                "code",
                "phone",
                "walk_in",
                "created_at",
                "waiting_since",
                "confirmed_at",
                "cancelled_at",
                "reminded_at",
                "checked_in_at",
                "checkin_reversed_at",
                "checkin_reversal_reason",
            )
        )
    }

"""Reads for check-in: who may check in, which events, how many came.

Who may check in: anyone who may **edit the event's page** in Wagtail (its
organisers and editors, through Wagtail's page permissions on the event or
a page above it; superusers for all). This reuses the permission editors
already have, so an organiser needs no extra grant and no new model
permission (nor a migration of the Registration model, owned elsewhere);
the check-in page and the service both ask ``can_check_in``.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from wagtail.models import Page
from wagtail.permission_policies.pages import PagePermissionPolicy

from events.checkin.codes import code_query
from events.models import EventPage, Registration

#: The events offered on the check-in page: from this long ago…
RECENT = datetime.timedelta(days=14)
#: … to this far ahead.
AHEAD = datetime.timedelta(days=60)


def person_name(user: Any) -> str:
    """How a person is named to staff: real name, full name or e-mail."""
    return getattr(user, "real_name", "") or user.get_full_name() or user.email or "-"


def checkin_events(*, user: Any) -> QuerySet[EventPage]:
    """The events ``user`` may check in for (every event, with no window)."""
    if not user.is_authenticated or not user.is_active:
        return EventPage.objects.none()
    events = EventPage.objects.all()
    if not user.is_superuser:
        editable = PagePermissionPolicy().instances_user_has_any_permission_for(
            user, ["change"]
        )
        events = events.filter(pk__in=editable.values("pk"))
    return events


def checkin_events_now(*, user: Any) -> list[EventPage]:
    """The events offered on the check-in page: recent and coming ones, the
    next to start first."""
    now = timezone.now()
    return list(
        checkin_events(user=user)
        .filter(starts_at__gte=now - RECENT, starts_at__lte=now + AHEAD)
        .order_by("starts_at", "pk")[:50]
    )


@dataclass(frozen=True)
class CheckInWindow:
    """When an event accepts check-in: ``opens`` (its start less its
    ``checkin_opens_before`` minutes) to ``closes`` (its end), both
    included; ``state`` is where ``now`` falls: "before", "open" or
    "ended"."""

    opens: datetime.datetime
    closes: datetime.datetime
    state: str

    @property
    def is_open(self) -> bool:
        return self.state == "open"


def checkin_window(
    *, event: EventPage, now: datetime.datetime | None = None
) -> CheckInWindow:
    """The check-in window of ``event`` and where now (the server's clock,
    unless given) falls in it. Aware datetimes compare as instants, so the
    time zone plays no part here; it matters only for display."""
    now = now or timezone.now()
    opens = event.starts_at - datetime.timedelta(minutes=event.checkin_opens_before)
    closes = event.ends_at
    if now < opens:
        state = "before"
    elif now > closes:
        state = "ended"
    else:
        state = "open"
    return CheckInWindow(opens=opens, closes=closes, state=state)


def can_check_in(*, user: Any, event: EventPage | Page) -> bool:
    """True when ``user`` may record attendance at ``event``."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return event.permissions_for_user(user).can_edit()


@dataclass
class Attendance:
    checked_in: int
    confirmed: int


def attendance_count(*, event: EventPage) -> Attendance:
    """n of N: checked-in and confirmed registrations, in one query."""
    counts = Registration.objects.filter(
        event=event, status=Registration.Status.CONFIRMED
    ).aggregate(
        confirmed=Count("pk"),
        # A reversed check-in does not count (it was a mistake).
        checked_in=Count(
            "pk",
            filter=Q(checked_in_at__isnull=False, checkin_reversed_at__isnull=True),
        ),
    )
    return Attendance(checked_in=counts["checked_in"], confirmed=counts["confirmed"])


#: The check-ins listed at an event's station, newest first.
RECENT_CHECKINS = 10


def recent_checkins(*, event: EventPage) -> list[Registration]:
    """The latest check-ins at ``event`` that still count (one query)."""
    return list(
        Registration.objects.filter(
            event=event, checked_in_at__isnull=False, checkin_reversed_at__isnull=True
        )
        .select_related("user")
        .order_by("-checked_in_at", "-pk")[:RECENT_CHECKINS]
    )


def registration_for_reversal(*, registration_id: int) -> Registration | None:
    """A registration with what the reversal page shows of it."""
    return (
        Registration.objects.select_related(
            "user", "event", "checked_in_by", "checkin_reversed_by"
        )
        .filter(pk=registration_id)
        .first()
    )


def code_from_input(text: str) -> str:
    """The check-in code in what was typed or scanned: the raw code, or the
    registration QR's whole URL (…/events/check-in/?code=<code>)."""
    text = (text or "").strip()
    if "code=" in text:
        query = urlsplit(text).query or text.split("?", 1)[-1]
        values = parse_qs(query).get("code")
        if values:
            return values[0].strip()
    return text


def registration_by_code(*, code: str) -> Registration | None:
    """The registration a code belongs to (for the confirmation step): a
    short code read forgivingly, an old long code exactly
    (events.checkin.codes)."""
    lookup = code_query(code)
    if lookup is None:
        return None
    return (
        Registration.objects.select_related("user", "event", "checked_in_by")
        .filter(lookup)
        .first()
    )


def registration_at_event(
    *, event: EventPage, registration_id: int
) -> Registration | None:
    """One registration of the event, picked from a search's results."""
    return (
        Registration.objects.select_related("user", "event", "checked_in_by")
        .filter(pk=registration_id, event=event)
        .first()
    )


#: The most people a name or phone search lists.
SEARCH_LIMIT = 20


def registrants_search(*, event: EventPage, query: str) -> list[Registration]:
    """The event's confirmed and waiting registrants whose name or e-mail
    contains ``query``, or whose phone contains its digits (three at
    least), by name; at most SEARCH_LIMIT, in one query."""
    query = " ".join((query or "").split())
    if not query:
        return []
    match = Q(user__real_name__icontains=query) | Q(user__email__icontains=query)
    digits = "".join(ch for ch in query if ch.isdigit())
    if len(digits) >= 3 and len(digits) == len(query.replace(" ", "").lstrip("+")):
        match |= Q(phone__contains=digits)
    return list(
        Registration.objects.filter(
            match,
            event=event,
            status__in=[Registration.Status.CONFIRMED, Registration.Status.WAITING],
        )
        .select_related("user", "checked_in_by")
        .order_by("user__real_name", "user__email", "pk")[:SEARCH_LIMIT]
    )


def phone_hint(phone: str) -> str:
    """A phone number as a search result shows it: its last four digits."""
    return f"··· {phone[-4:]}" if len(phone) >= 4 else ""


def email_hint(email: str) -> str:
    """An e-mail address, half hidden: ``zh···@example.cn``; nothing for a
    walk-in's placeholder."""
    local, _, domain = (email or "").partition("@")
    if not domain or domain.endswith(".invalid"):
        return ""
    return f"{local[:2]}···@{domain}"

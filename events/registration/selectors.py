"""Reads for event registrations: what an event page's registration panel
shows, the user's registrations, and the organisers' attendee list."""

import datetime
from dataclasses import dataclass
from typing import Any

from django.db.models import Case, Count, Q, QuerySet, Value, When
from django.utils import timezone

from events.models import EventPage, Registration
from events.registration.services import (
    ACTIVE,
    Status,
    registration_closes_at,
    registration_refusal,
)
from portal.models import User


@dataclass(frozen=True)
class PanelState:
    """An event's registration, as one user sees it on the event page."""

    registration: Registration | None  # the user's active one
    waiting_position: int | None  # 1 = next to be promoted
    confirmed: int
    waiting: int
    capacity: int | None
    waiting_list: bool
    refusal: str | None  # why nobody may register now (the window)
    opens_at: datetime.datetime | None
    closes_at: datetime.datetime
    cancellable: bool

    @property
    def places_left(self) -> int | None:
        if self.capacity is None:
            return None
        return max(self.capacity - self.confirmed, 0)

    @property
    def full(self) -> bool:
        return self.places_left == 0

    @property
    def can_register(self) -> bool:
        """The register button is shown: open, and a place or the list."""
        return self.refusal is None and (not self.full or self.waiting_list)


def event_panel_state(*, event: EventPage, user: Any) -> PanelState:
    """The figures and the user's registration for the event's panel (two
    queries, one when signed out)."""
    counts = Registration.objects.filter(event=event).aggregate(
        confirmed=Count("pk", filter=Q(status=Status.CONFIRMED)),
        waiting=Count("pk", filter=Q(status=Status.WAITING)),
    )
    registration = None
    if user is not None and user.is_authenticated:
        registration = (
            Registration.objects.filter(event=event, user=user, status__in=ACTIVE)
            .order_by("-pk")
            .first()
        )
    now = timezone.now()
    return PanelState(
        registration=registration,
        waiting_position=(
            waiting_position(registration)
            if registration and registration.status == Status.WAITING
            else None
        ),
        confirmed=counts["confirmed"],
        waiting=counts["waiting"],
        capacity=event.capacity,
        waiting_list=event.waiting_list,
        refusal=registration_refusal(event=event, now=now),
        opens_at=event.registration_opens_at,
        closes_at=registration_closes_at(event),
        cancellable=registration is not None
        and registration_is_cancellable(registration, starts_at=event.starts_at),
    )


def waiting_position(registration: Registration) -> int:
    """The place of a waiting registration in its event's list (1 = next)."""
    ahead = Registration.objects.filter(
        Q(waiting_since__lt=registration.waiting_since)
        | Q(waiting_since=registration.waiting_since, pk__lt=registration.pk),
        event_id=registration.event_id,
        status=Status.WAITING,
    ).count()
    return ahead + 1


def registration_is_cancellable(
    registration: Registration, *, starts_at: datetime.datetime | None = None
) -> bool:
    """Whether the owner may cancel it now (registration_cancel's rules)."""
    starts_at = starts_at or registration.event_starts_at
    return (
        registration.status in ACTIVE
        and registration.checked_in_at is None
        and timezone.now() < starts_at
    )


@dataclass(frozen=True)
class MyRegistration:
    registration: Registration
    starts_at: datetime.datetime
    ends_at: datetime.datetime | None
    cancellable: bool


def registrations_of_user(*, user: User) -> dict[str, list[MyRegistration]]:
    """The user's registrations, "upcoming" (the event has not ended, soonest
    first) and "past" (latest first), in one query with their events."""
    now = timezone.now()
    upcoming: list[MyRegistration] = []
    past: list[MyRegistration] = []
    rows = (
        Registration.objects.filter(user=user)
        .select_related("event")
        .order_by("event_starts_at", "pk")
    )
    for registration in rows:
        event = registration.event
        starts_at = event.starts_at if event else registration.event_starts_at
        ends_at = event.ends_at if event else None
        item = MyRegistration(
            registration=registration,
            starts_at=starts_at,
            ends_at=ends_at,
            cancellable=registration_is_cancellable(registration, starts_at=starts_at),
        )
        if (ends_at or starts_at) >= now:
            upcoming.append(item)
        else:
            past.append(item)
    upcoming.sort(key=lambda item: (item.starts_at, item.registration.pk))
    past.sort(key=lambda item: (item.starts_at, item.registration.pk), reverse=True)
    return {"upcoming": upcoming, "past": past}


def registration_of_user(*, user: User, code: str) -> Registration | None:
    """The user's registration with this check-in code, with its event."""
    from events.checkin.codes import code_query

    lookup = code_query(code)  # K7QM-3XPA, k7qm3xpa, or an old long code
    if lookup is None:
        return None
    return (
        Registration.objects.filter(lookup, user=user).select_related("event").first()
    )


def registration_of_user_by_id(
    *, user: User, registration_id: int
) -> Registration | None:
    """The user's registration with this id, with its event."""
    return (
        Registration.objects.filter(user=user, pk=registration_id)
        .select_related("event")
        .first()
    )


#: The attendee list's status filter: its values and what they select.
STATUS_FILTERS = ("confirmed", "waiting", "checked_in", "cancelled")


def event_attendees(
    *, event_id: int, search: str = "", status: str = ""
) -> QuerySet[Registration]:
    """An event's registrations for organisers: confirmed, then waiting (in
    list order), then cancelled, with their users. `search` matches part of
    the name or the e-mail address (case-insensitive), or the whole check-in
    code;
    `status` one of STATUS_FILTERS (anything else: every registration)."""
    rows = Registration.objects.filter(event_id=event_id)
    search = " ".join(search.split())[:100]
    if search:
        from events.checkin.codes import code_query

        matches = Q(user__real_name__icontains=search) | Q(
            user__email__icontains=search
        )
        # The check-in code as printed (K7QM-3XPA), read as check-in reads
        # it, or a registration's earlier long code.
        by_code = code_query(search)
        rows = rows.filter(matches | by_code if by_code is not None else matches)
    if status == "checked_in":
        rows = rows.filter(
            status=Status.CONFIRMED,
            checked_in_at__isnull=False,
            checkin_reversed_at__isnull=True,
        )
    elif status in STATUS_FILTERS:
        rows = rows.filter(status=status)
    return (
        rows.select_related("user")
        .alias(
            rank=Case(
                When(status=Status.CONFIRMED, then=Value(0)),
                When(status=Status.WAITING, then=Value(1)),
                default=Value(2),
            )
        )
        .order_by("rank", "waiting_since", "created_at", "pk")
    )


def event_attendee_counts(*, event_id: int) -> dict[str, int]:
    """The attendee list's figures in one query: confirmed, waiting and
    checked in (a reversed check-in does not count)."""
    return Registration.objects.filter(event_id=event_id).aggregate(
        confirmed=Count("pk", filter=Q(status=Status.CONFIRMED)),
        waiting=Count("pk", filter=Q(status=Status.WAITING)),
        checked_in=Count(
            "pk",
            filter=Q(checked_in_at__isnull=False, checkin_reversed_at__isnull=True),
        ),
    )


# --- who may see, export and message an event's registrants ---------------------


def _may_see_registrations(user: Any) -> bool:
    from wagtail.permissions import policy_registry

    return bool(
        user.is_authenticated
        and user.is_active
        and policy_registry.get_by_type(Registration).user_has_any_permission(
            user, ["view", "change"]
        )
    )


def can_view_event_attendees(*, user: Any, event: EventPage) -> bool:
    """Whether `user` may see and export this event's registrations: a
    superuser, or staff whose group may view registrations ("Can view
    registration") AND may edit this event's page (Wagtail page permissions
    on the event or a page above it: its organisers). The model permission
    alone opens no event's list."""
    if not _may_see_registrations(user):
        return False
    if user.is_superuser:
        return True
    return bool(event.permissions_for_user(user).can_edit())


def can_message_event_registrants(*, user: Any, event: EventPage) -> bool:
    """Whether `user` may message this event's registrants or cancel the
    event: who sees its list and may also publish its page."""
    if not can_view_event_attendees(user=user, event=event):
        return False
    return user.is_superuser or bool(event.permissions_for_user(user).can_publish())

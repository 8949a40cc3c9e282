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
    return (
        Registration.objects.filter(user=user, code=code)
        .select_related("event")
        .first()
    )


def event_attendees(*, event_id: int) -> QuerySet[Registration]:
    """An event's registrations for organisers: confirmed, then waiting (in
    list order), then cancelled, with their users."""
    return (
        Registration.objects.filter(event_id=event_id)
        .select_related("user")
        .alias(
            rank=Case(
                When(status=Status.CONFIRMED, then=Value(0)),
                When(status=Status.WAITING, then=Value(1)),
                default=Value(2),
            )
        )
        .order_by("rank", "waiting_since", "created_at", "pk")
    )

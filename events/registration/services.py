"""Writes for event registrations. Views, tasks and the admin call these;
nothing else changes a registration's status.

Concurrency: every service that counts or changes an event's places first
locks the event's row (SELECT … FOR UPDATE OF the event table), in one
transaction with the count and the write. Registering, cancelling and
promoting for one event therefore run one after another, and the capacity
holds however many requests arrive at once; the partial unique constraint
(one active registration per user and event) refuses a double that slips
past the check. Always the event first, then registrations: one lock order,
no deadlocks.

A refused call raises RegistrationError with a message in the active
language, and nothing was changed.
"""

import datetime
import logging

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from events.models import EventPage, Registration
from events.registration.emails import registration_email
from portal.models import User

logger = logging.getLogger(__name__)

Status = Registration.Status
ACTIVE = (Status.CONFIRMED, Status.WAITING)


#: The largest id a bigint column holds: a larger number in a URL matches
#: nothing (SQLite would raise OverflowError on it rather than find nothing).
MAX_ID = 2**63 - 1


class RegistrationError(Exception):
    """A registration action refused; the message says why, in the active
    language, and nothing was changed."""


def _already_registered() -> str:
    return _("You are already registered for this event.")


def registration_closes_at(event: EventPage) -> datetime.datetime:
    """When registration closes: its own time, or else the event's start."""
    return event.registration_closes_at or event.starts_at


def registration_refusal(
    *, event: EventPage, now: datetime.datetime | None = None
) -> str | None:
    """Why nobody may register for the event now (the window, or no
    registration at all), or None. Does not look at places or the user."""
    now = now or timezone.now()
    if not event.registration_required:
        return _("This event does not take registrations.")
    if event.registration_opens_at and now < event.registration_opens_at:
        return _("Registration opens on %(date)s.") % {
            "date": formats.date_format(
                timezone.localtime(event.registration_opens_at), "DATETIME_FORMAT"
            )
        }
    if now >= registration_closes_at(event):
        return _("Registration for this event has closed.")
    return None


def registration_create(*, user: User, event: EventPage) -> Registration:
    """Register the user for the event.

    Refused (nothing written): the event is not published, takes no
    registrations, its window has not opened or has closed (by default at the
    event's start), the user already holds an active registration, or the
    event is full and has no waiting list.
    After: a confirmed registration while confirmed ones are fewer than the
    places (or there is no limit), else a waiting one (waiting_since = now);
    the event's title and start copied in; the confirmation or waiting-list
    e-mail queued with the .ics (and the QR code when confirmed).
    Not repeatable: a second call is refused as already registered.
    """
    try:
        with transaction.atomic():
            # OF the event table only: the page table joined in is not locked.
            locked = (
                EventPage.objects.live()
                .select_for_update(of=("self",))
                .filter(pk=event.pk)
                .first()
            )
            if locked is None:
                raise RegistrationError(_("This event does not exist."))
            now = timezone.now()
            refusal = registration_refusal(event=locked, now=now)
            if refusal:
                raise RegistrationError(refusal)
            current = (
                Registration.objects.filter(event=locked, user=user, status__in=ACTIVE)
                .values_list("status", flat=True)
                .first()
            )
            if current == Status.WAITING:
                raise RegistrationError(
                    _("You are already on the waiting list for this event.")
                )
            if current is not None:
                raise RegistrationError(_already_registered())
            confirmed = Registration.objects.filter(
                event=locked, status=Status.CONFIRMED
            ).count()
            registration = Registration(
                event=locked,
                event_title=locked.title,
                event_starts_at=locked.starts_at,
                user=user,
            )
            if locked.capacity is None or confirmed < locked.capacity:
                registration.status = Status.CONFIRMED
                registration.confirmed_at = now
            elif locked.waiting_list:
                registration.status = Status.WAITING
                registration.waiting_since = now
            else:
                raise RegistrationError(
                    _("This event is full and has no waiting list.")
                )
            registration.save()
            registration_email(
                registration=registration,
                event=locked,
                kind="confirmed"
                if registration.status == Status.CONFIRMED
                else "waiting",
            )
    except IntegrityError as error:
        # The partial unique constraint: a concurrent request of the same
        # user got there first.
        raise RegistrationError(_already_registered()) from error
    logger.info(
        "Registration %s: user %s, event %s, %s",
        registration.pk,
        user.pk,
        locked.pk,
        registration.status,
    )
    return registration


def registration_cancel(*, user: User, registration_id: int) -> Registration:
    """The user cancels their own active registration.

    Refused (nothing written): not the user's registration, already
    cancelled, checked in, or the event has started.
    After: cancelled (cancelled_at = now; the row is kept). If it held a
    place, the first waiting registrations (by waiting_since, then id) take
    the free places in the same transaction and are e-mailed with the .ics
    and the QR code. Not repeatable: a second call is refused.
    """
    # Not the user's or no such id: the same answer, so ids reveal nothing.
    missing = _("This registration does not exist.")
    if not 0 < registration_id <= MAX_ID:
        raise RegistrationError(missing)
    found = (
        Registration.objects.filter(pk=registration_id, user=user)
        .values("event_id")
        .first()
    )
    if found is None:
        raise RegistrationError(missing)
    with transaction.atomic():
        now = timezone.now()
        # The event first (see the module's docstring), then the registration.
        event = (
            EventPage.objects.select_for_update(of=("self",))
            .filter(pk=found["event_id"])
            .first()
        )
        registration = (
            Registration.objects.select_for_update()
            .filter(pk=registration_id, user=user)
            .first()
        )
        if registration is None:
            raise RegistrationError(missing)
        if registration.status == Status.CANCELLED:
            raise RegistrationError(_("This registration is already cancelled."))
        if registration.checked_in_at is not None:
            raise RegistrationError(
                _(
                    "You have been checked in: this registration can no "
                    "longer be cancelled."
                )
            )
        starts_at = event.starts_at if event else registration.event_starts_at
        if now >= starts_at:
            raise RegistrationError(
                _("The event has started: registrations can no longer be cancelled.")
            )
        held_place = registration.status == Status.CONFIRMED
        registration.status = Status.CANCELLED
        registration.cancelled_at = now
        registration.save(update_fields=["status", "cancelled_at"])
        if held_place and event is not None:
            _promote_waiting(event=event, now=now)
    logger.info("Registration %s cancelled by user %s", registration.pk, user.pk)
    return registration


def _promote_waiting(*, event: EventPage, now: datetime.datetime) -> list[Registration]:
    """Give the event's free places to the first waiting registrations and
    e-mail them. The caller holds the event's row locked."""
    if now >= event.starts_at:
        return []
    waiting = (
        Registration.objects.select_for_update()
        .filter(event=event, status=Status.WAITING)
        .order_by("waiting_since", "pk")
    )
    if event.capacity is not None:
        confirmed = Registration.objects.filter(
            event=event, status=Status.CONFIRMED
        ).count()
        free = event.capacity - confirmed
        if free <= 0:
            return []
        waiting = waiting[:free]
    promoted = list(waiting)
    for registration in promoted:
        registration.status = Status.CONFIRMED
        registration.confirmed_at = now
        registration.save(update_fields=["status", "confirmed_at"])
        registration_email(registration=registration, event=event, kind="promoted")
        logger.info(
            "Registration %s promoted from the waiting list of event %s",
            registration.pk,
            event.pk,
        )
    return promoted


def registrations_promote(*, event_id: int) -> list[Registration]:
    """Fill the event's free places from its waiting list (after an editor
    raised the number of places, or removed the limit), e-mailing each
    person promoted. Before the event starts only. May run any number of
    times: with no free place, or nobody waiting, it changes nothing."""
    with transaction.atomic():
        event = (
            EventPage.objects.select_for_update(of=("self",))
            .filter(pk=event_id)
            .first()
        )
        if event is None:
            return []
        return _promote_waiting(event=event, now=timezone.now())


# --- the reminder the day before -------------------------------------------------


def reminder_window(
    now: datetime.datetime | None = None,
) -> tuple[datetime.datetime, datetime.datetime]:
    """The events whose registrants are reminded now: starting from now to the
    end of tomorrow, Asia/Shanghai. Run each morning, that is tomorrow's
    events, and any of today's left over (a run missed, a late promotion)."""
    now = now or timezone.now()
    zone = timezone.get_default_timezone()  # Asia/Shanghai, whoever runs it
    day_after_tomorrow = timezone.localdate(now, zone) + datetime.timedelta(days=2)
    end = timezone.make_aware(
        datetime.datetime.combine(day_after_tomorrow, datetime.time()), zone
    )
    return now, end


def registration_remind(*, registration_id: int) -> bool:
    """E-mail one confirmed registrant a reminder of the event, with the .ics
    and QR code; True if sent.

    Before: confirmed, not yet reminded, the event still ahead. After:
    reminded_at set, in the same transaction as the e-mail's outbox row.
    May run twice (a retried task, two workers): the row is locked and
    re-checked, so the second run sends nothing.
    """
    with transaction.atomic():
        registration = (
            Registration.objects.select_for_update(of=("self",))
            .select_related("user")
            .filter(
                pk=registration_id,
                status=Status.CONFIRMED,
                reminded_at__isnull=True,
            )
            .first()
        )
        if registration is None or registration.event_id is None:
            return False
        event = EventPage.objects.live().filter(pk=registration.event_id).first()
        now = timezone.now()
        if event is None or event.starts_at <= now:
            return False
        registration.reminded_at = now
        registration.save(update_fields=["reminded_at"])
        registration_email(registration=registration, event=event, kind="reminder")
    return True


def registrations_remind_due(*, now: datetime.datetime | None = None) -> list[int]:
    """Remind every confirmed registrant of a live event in reminder_window()
    not reminded yet; returns the ids reminded. Each in its own transaction:
    a failure part-way keeps the reminders already queued, and the next run
    sends only the rest."""
    start, end = reminder_window(now)
    due = list(
        Registration.objects.filter(
            Q(event__live=True)
            & Q(event__starts_at__gt=start)
            & Q(event__starts_at__lt=end),
            status=Status.CONFIRMED,
            reminded_at__isnull=True,
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return [pk for pk in due if registration_remind(registration_id=pk)]


def registrations_cancel_upcoming(*, user: User) -> list[Registration]:
    """The user's account is being deleted (portal.services.user_delete):
    cancel each of their active registrations for an event that has not
    started, so the place goes to the waiting list (registration_cancel,
    with its e-mails to those promoted). Past and checked-in registrations
    stay: they are the attendance record. May run twice: nothing is left to
    cancel the second time."""
    ids = Registration.objects.filter(
        user=user,
        status__in=ACTIVE,
        checked_in_at__isnull=True,
        event_starts_at__gt=timezone.now(),
    ).values_list("pk", flat=True)
    cancelled = []
    for registration_id in list(ids):
        try:
            cancelled.append(
                registration_cancel(user=user, registration_id=registration_id)
            )
        except RegistrationError:
            continue  # started or changed meanwhile: it stays as it is
    return cancelled

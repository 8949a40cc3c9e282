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
import hashlib
import logging

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from wagtail.log_actions import log

from events.models import EventMessage, EventPage, Registration
from events.registration.emails import (
    event_message_email,
    registration_email,
    registration_email_message,
)
from portal.mail import message_to_fields
from portal.models import OutgoingEmail, User
from portal.privacy import deleted_account_address

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
    if event.cancelled_at is not None:
        return _("This event has been cancelled.")
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


def registration_create(
    *, user: User, event: EventPage, phone: str = ""
) -> Registration:
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
                phone=phone,  # optional; staff find the person by it at the door
                # Its e-mail carries the event as it is now.
                notified_sequence=locked.ical_sequence,
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
        if event is None or event.starts_at <= now or event.cancelled_at is not None:
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
            & Q(event__cancelled_at__isnull=True)
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


# --- keeping registrants informed: a new time or place, the cancellation ------

#: Registrants e-mailed per transaction (one batch of outbox rows).
NOTIFY_BATCH = 200

LOG_CANCELLED = "events.cancel"
LOG_MESSAGE_SENT = "events.message"


def schedule_fingerprint(event: EventPage) -> str:
    """A digest of what a calendar entry holds of the event: start, end,
    venue, address and online link. Copied in migration 0005: change both."""
    parts = [
        event.starts_at.isoformat() if event.starts_at else "",
        event.ends_at.isoformat() if event.ends_at else "",
        event.venue.strip(),
        event.address.strip(),
        event.online_url.strip(),
    ]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def event_schedule_published(*, event_id: int) -> int | None:
    """The event's page was just published (the page_published signal):
    if its time or place differs from what registrants were last sent, raise
    its ical_sequence and, on commit, e-mail every active registrant the
    update (registrations_notify); returns the new sequence, else None.

    The first publish only records the time and place. Nothing is sent when
    only the text changed, or for a cancelled event. Runs inside the
    publish's transaction when there is one (a savepoint), and holds the
    event's row while it compares and raises the sequence, so two publishes
    at once raise it twice, not once.
    """
    from events.tasks import notify_registrants

    with transaction.atomic():
        event = (
            EventPage.objects.select_for_update(of=("self",))
            .filter(pk=event_id, live=True)
            .first()
        )
        if event is None:
            return None
        fingerprint = schedule_fingerprint(event)
        if fingerprint == event.ical_fingerprint:
            return None
        first = not event.ical_fingerprint
        notify = not first and event.cancelled_at is None
        event.ical_fingerprint = fingerprint
        fields = ["ical_fingerprint"]
        if notify:
            event.ical_sequence += 1
            fields.append("ical_sequence")
        EventPage.objects.filter(pk=event.pk).update(
            **{name: getattr(event, name) for name in fields}
        )
        if not notify:
            return None
        # Registrations keep their copy of the start (My registrations).
        Registration.objects.filter(event=event).exclude(
            event_starts_at=event.starts_at
        ).update(event_starts_at=event.starts_at)
        notify_registrants.delay_on_commit(event.pk)
    logger.info(
        "Event %s: time or place changed, sequence %s", event.pk, event.ical_sequence
    )
    return event.ical_sequence


def registrations_notify(*, event_id: int, batch_size: int | None = None) -> int:
    """E-mail the event's active registrants (confirmed and waiting) who
    have not received its current ical_sequence: the cancellation if it is
    cancelled, else the new time and place; returns how many were e-mailed.

    Each batch is one transaction: the event's row locked (as registering
    does), the registrations locked, their e-mails written to the outbox in
    one insert and their notified_sequence raised. A retried or concurrent
    run therefore e-mails nobody twice, and a run after a later change sends
    only the latest version.
    """
    batch_size = batch_size or NOTIFY_BATCH
    sent = 0
    while True:
        with transaction.atomic():
            event = (
                EventPage.objects.select_for_update(of=("self",))
                .filter(pk=event_id)
                .first()
            )
            if event is None:
                return sent
            kind = "cancelled" if event.cancelled_at is not None else "changed"
            batch = list(
                Registration.objects.select_for_update(of=("self",))
                .select_related("user")
                .filter(
                    event=event,
                    status__in=ACTIVE,
                    notified_sequence__lt=event.ical_sequence,
                )
                .order_by("pk")[:batch_size]
            )
            if not batch:
                return sent
            from portal.services import email_deliver_on_commit

            emails = OutgoingEmail.objects.bulk_create(
                OutgoingEmail(
                    **message_to_fields(
                        registration_email_message(
                            registration=registration, event=event, kind=kind
                        )
                    )
                )
                for registration in batch
                # A deleted account's placeholder address receives nothing.
                if not deleted_account_address(registration.user.email)
            )
            email_deliver_on_commit(email_ids=[email.pk for email in emails])
            Registration.objects.filter(pk__in=[r.pk for r in batch]).update(
                notified_sequence=event.ical_sequence
            )
            sent += len(batch)
        logger.info("Event %s: %s registrants e-mailed (%s)", event_id, sent, kind)


def event_cancel(*, event_id: int, reason: str, by: User) -> EventPage:
    """Staff cancel the event, with a message to its registrants.

    Refused (RegistrationError, nothing written): no such event, already
    cancelled, already ended, or no reason given (at most 2,000 characters).
    After: cancelled_at and the reason set, ical_sequence raised, one entry
    in the page's history; registration closes (registration_refusal) and no
    reminder goes out; on commit, every confirmed and waiting registrant is
    e-mailed the reason with a METHOD:CANCEL .ics (registrations_notify).
    The registrations keep their status: they are the record of who had
    registered. The page stays published and says it is cancelled. The
    caller checks that `by` may publish the event's page.
    """
    from events.tasks import notify_registrants

    reason = (reason or "").strip()
    if not reason:
        raise RegistrationError(
            _("Say why the event is cancelled: registrants read it.")
        )
    if len(reason) > 2000:
        raise RegistrationError(_("The reason is too long (at most 2,000 characters)."))
    if not 0 < event_id <= MAX_ID:
        raise RegistrationError(_("This event does not exist."))
    with transaction.atomic():
        event = (
            EventPage.objects.select_for_update(of=("self",))
            .filter(pk=event_id)
            .first()
        )
        if event is None:
            raise RegistrationError(_("This event does not exist."))
        if event.cancelled_at is not None:
            raise RegistrationError(_("This event is already cancelled."))
        now = timezone.now()
        if event.ends_at <= now:
            raise RegistrationError(_("This event has ended: it cannot be cancelled."))
        event.cancelled_at = now
        event.cancellation_reason = reason
        event.ical_sequence += 1
        EventPage.objects.filter(pk=event.pk).update(
            cancelled_at=now,
            cancellation_reason=reason,
            ical_sequence=event.ical_sequence,
        )
        registrants = Registration.objects.filter(
            event=event, status__in=ACTIVE
        ).count()
        log(
            instance=event,
            action=LOG_CANCELLED,
            user=by,
            data={"reason": reason, "registrants": registrants},
        )
        notify_registrants.delay_on_commit(event.pk)
    logger.info("Event %s cancelled by user %s", event.pk, by.pk)
    return event


# --- staff's messages to an event's registrants ---------------------------------

Audience = EventMessage.Audience


def message_recipients(*, event_id: int, audience: str) -> QuerySet[Registration]:
    """The registrations a message to `audience` goes to, by id: confirmed,
    waiting, checked in (a check-in not reversed) or all active ones."""
    rows = Registration.objects.filter(event_id=event_id)
    if audience == Audience.CONFIRMED:
        return rows.filter(status=Status.CONFIRMED)
    if audience == Audience.WAITING:
        return rows.filter(status=Status.WAITING)
    if audience == Audience.CHECKED_IN:
        return rows.filter(
            status=Status.CONFIRMED,
            checked_in_at__isnull=False,
            checkin_reversed_at__isnull=True,
        )
    if audience == Audience.ALL:
        return rows.filter(status__in=ACTIVE)
    raise ValueError(f"Unknown audience: {audience}")


def event_message_send(
    *, event_id: int, subject: str, body: str, audience: str, by: User
) -> EventMessage:
    """Staff send a message to the event's registrants (the caller checked
    that `by` may message this event's registrants).

    Refused (RegistrationError, nothing written): no such event, an empty
    or too long subject or text, an unknown audience, or nobody in it.
    After: the message stored with its number of recipients, one entry in
    the page's history, and on commit a task that writes one outbox e-mail
    per recipient, NOTIFY_BATCH per transaction (event_message_batch).
    Not idempotent: two calls are two messages.
    """
    from events.tasks import send_event_message

    subject = " ".join((subject or "").split())
    body = (body or "").strip()
    if not subject or not body:
        raise RegistrationError(_("Write a subject and a message."))
    if len(subject) > 200 or len(body) > 10000:
        raise RegistrationError(
            _("The subject (200 characters) or the message (10,000) is too long.")
        )
    if audience not in Audience.values:
        raise RegistrationError(_("Choose who receives the message."))
    if not 0 < event_id <= MAX_ID:
        raise RegistrationError(_("This event does not exist."))
    with transaction.atomic():
        event = EventPage.objects.filter(pk=event_id).first()
        if event is None:
            raise RegistrationError(_("This event does not exist."))
        count = message_recipients(event_id=event.pk, audience=audience).count()
        if not count:
            raise RegistrationError(_("Nobody is in this group: nothing was sent."))
        message = EventMessage.objects.create(
            event=event,
            subject=subject,
            body=body,
            audience=audience,
            sent_by=by,
            recipients=count,
        )
        log(
            instance=event,
            action=LOG_MESSAGE_SENT,
            user=by,
            data={
                "message": message.pk,
                "subject": subject,
                "audience": audience,
                "recipients": count,
            },
        )
        send_event_message.delay_on_commit(message.pk)
    logger.info("Event %s: message %s to %s registrants", event.pk, message.pk, count)
    return message


def event_message_batch(*, message_id: int, batch_size: int | None = None) -> bool:
    """Write the next batch of a message's e-mails to the outbox; True when
    it is finished. One transaction: the message's row locked, the next
    recipients after `sent_up_to` (by registration id) e-mailed in one
    insert, `sent_up_to` moved past them. A retry resumes where the last
    committed batch ended: nobody receives it twice."""
    from portal.services import email_deliver_on_commit

    batch_size = batch_size or NOTIFY_BATCH
    with transaction.atomic():
        message = EventMessage.objects.select_for_update().filter(pk=message_id).first()
        if message is None or message.finished_at is not None:
            return True
        event = EventPage.objects.filter(pk=message.event_id).first()
        if event is None:
            message.finished_at = timezone.now()
            message.save(update_fields=["finished_at"])
            return True
        batch = list(
            message_recipients(event_id=event.pk, audience=message.audience)
            .filter(pk__gt=message.sent_up_to)
            .select_related("user")
            .order_by("pk")[:batch_size]
        )
        if batch:
            emails = OutgoingEmail.objects.bulk_create(
                OutgoingEmail(
                    **message_to_fields(
                        event_message_email(
                            message=message, registration=registration, event=event
                        )
                    )
                )
                for registration in batch
                if not deleted_account_address(registration.user.email)
            )
            email_deliver_on_commit(email_ids=[email.pk for email in emails])
            message.sent_up_to = batch[-1].pk
        if len(batch) < batch_size:
            message.finished_at = timezone.now()
        message.save(update_fields=["sent_up_to", "finished_at"])
        return message.finished_at is not None

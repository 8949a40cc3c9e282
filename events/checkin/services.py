"""Check-in: recording that a registrant came (issue 6, point 3).

Attendance is written once, with what it earns, in one transaction: the
registration's ``checked_in_at``/``checked_in_by``, an hours-ledger entry
(courses.ledger.hours_earn: one live entry per user and source) and a
pending certificate request (unique per user and source), so nothing is
ever counted twice. The certificate itself waits for the organiser's bulk
run (courses.certificates.services.BULK_RUN_SOURCES).

A check-in scanned by mistake is reversed, never erased (checkin_reverse):
the registration keeps who reversed it, when and why; the hours get a
reversing ledger entry; a certificate already issued is revoked with the
same reason (the learner is e-mailed), a pending request is cancelled. The
person may then be checked in again within the event's window: a new
earned entry (the next sequence) and the request owed again.
"""

from __future__ import annotations

import datetime
import functools
import secrets
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.formats import date_format, time_format
from django.utils.translation import gettext as _

from wagtail.log_actions import log

from courses.achievements import achievement_record, achievement_reverse
from courses.models import HoursLedgerEntry
from events.checkin.codes import code_query
from events.checkin.selectors import (
    CheckInWindow,
    can_check_in,
    checkin_window,
    person_name,
)
from events.models import EventPage, Registration

SHANGHAI = ZoneInfo("Asia/Shanghai")
#: The action written to Wagtail's log for each check-in.
LOG_CHECKED_IN = "events.registration.checked_in"
#: … and for each check-in reversed.
LOG_CHECKIN_REVERSED = "events.registration.checkin_reversed"


class AttendanceRefused(ValidationError):
    """A check-in refused: ``message`` says why, in the staff member's
    language. Nothing was written. ``already``: the person was already
    checked in (a repeated scan, which a phone's queue may drop)."""

    already = False


#: How long a scan may wait in a phone's queue (offline) and still count at
#: the time it was scanned.
QUEUED_SCAN_MAX_AGE = datetime.timedelta(hours=12)
#: A phone's clock a little ahead of the server's is tolerated (then "now").
CLOCK_SKEW = datetime.timedelta(minutes=2)


def scan_time(
    *,
    scanned_at: datetime.datetime | None,
    sent_at: datetime.datetime | None = None,
) -> datetime.datetime:
    """When a check-in happened: the time a queued scan was made on the
    phone (``scanned_at``), or now. With ``sent_at`` (the phone's clock when
    it sent the scan), only the wait between the two counts, taken back from
    the server's clock: a phone whose clock is wrong still dates the scan
    right. Refuses a scan older than QUEUED_SCAN_MAX_AGE or in the future
    (beyond CLOCK_SKEW); absent, it is now."""
    now = timezone.now()
    if scanned_at is None:
        return now
    if sent_at is not None:
        waited = sent_at - scanned_at
        if waited < -CLOCK_SKEW:
            raise AttendanceRefused(
                _("This scan's time is in the future. Check the phone's clock.")
            )
        scanned_at = now - max(waited, datetime.timedelta(0))
    if scanned_at > now + CLOCK_SKEW:
        raise AttendanceRefused(
            _("This scan's time is in the future. Check the phone's clock.")
        )
    if scanned_at < now - QUEUED_SCAN_MAX_AGE:
        raise AttendanceRefused(
            _("This scan waited too long in the phone's queue (since %(time)s).")
            % {"time": local_time_display(scanned_at)}
        )
    return min(scanned_at, now)


def attendance_record(
    *,
    code: str = "",
    event_id: int | None,
    by: Any,
    registration_id: int | None = None,
    scanned_at: datetime.datetime | None = None,
    sent_at: datetime.datetime | None = None,
) -> Registration:
    """Check a registrant in by their code (or, picked by name at an event's
    station, by their registration's id).

    ``code`` is read as events.checkin.codes reads it: a short code in any
    case, with look-alikes and separators, or an old long code exactly.
    ``scanned_at`` is when a scan queued on an offline phone was made, and
    ``sent_at`` when the phone sent it (both by the phone's clock): the
    window is judged, and the check-in dated, at that time (scan_time).

    Before: a confirmed registration not yet checked in, for an event that
    still exists and that ``by`` may check in for (and, when ``event_id`` is
    given, for that event). After, in one transaction with the registration
    row locked: ``checked_in_at``/``checked_in_by`` set; when the event gives
    hours, one HoursLedgerEntry (source "event", the event's id and title,
    dated the event's day in Shanghai); when it gives a certificate, one
    pending CertificateRequest; the action in Wagtail's log.

    Refuses (AttendanceRefused, nothing changed): an empty or unknown code, a
    cancelled or waiting registration, another event's code, an event that no
    longer exists, a staff member without permission, a check-in outside the
    event's window (before ``checkin_opens_before`` minutes ahead of the
    start, or after the end; saying when it opens or that it has ended), and
    a code already used (saying when and by whom; ``already`` is set on the
    refusal). Running it twice therefore records once: a queued scan sent
    again is "already checked in".

    A registration whose check-in was reversed (checkin_reverse) may be
    checked in again: the reversal fields are cleared (the reversal stays in
    the log and the ledger), a new earned entry is credited (the next
    sequence) and a cancelled certificate request is owed again. A
    certificate revoked by the reversal stays revoked; the returned
    registration's ``earlier_certificate_revoked`` is then True.
    """
    if registration_id is not None:
        if event_id is None:
            raise AttendanceRefused(_("Choose the event first."))
        lookup = Q(pk=registration_id, event_id=event_id)
    else:
        found = code_query(code)
        if found is None:
            raise AttendanceRefused(_("Enter or scan a check-in code."))
        lookup = found
    when = scan_time(scanned_at=scanned_at, sent_at=sent_at)
    with transaction.atomic():
        rows = Registration.objects.select_related("user", "checked_in_by", "event")
        if connection.features.has_select_for_update_of:
            rows = rows.select_for_update(of=("self",))
        else:
            rows = rows.select_for_update()
        registration = rows.filter(lookup).first()
        if registration is None:
            raise AttendanceRefused(
                _("No registration has this code. Check it and try again.")
            )
        event = registration.event
        names = {
            "name": person_name(registration.user),
            "event": registration.event_title,
        }
        if event is None:
            raise AttendanceRefused(
                _("The event of this registration (%(event)s) no longer exists.")
                % names
            )
        if not can_check_in(user=by, event=event):
            # Before saying which event the code is for: a code of an event
            # this person does not run tells them nothing.
            if event_id is not None and event.pk != event_id:
                raise AttendanceRefused(
                    _("No registration has this code. Check it and try again.")
                )
            raise AttendanceRefused(
                _("You may not check in the participants of %(event)s.") % names
            )
        if event_id is not None and event.pk != event_id:
            raise AttendanceRefused(
                _(
                    "This code is for another event: %(event)s. Check that you "
                    "chose the right event."
                )
                % names
            )
        # Attendance earns hours and a certificate: a code shown days before
        # (or after) the event must not, whoever scans it.
        if event.cancelled_at is not None:
            raise AttendanceRefused(
                _("%(event)s was cancelled: nobody is checked in.")
                % {"event": event.title}
            )
        window = checkin_window(event=event, now=when)
        if not window.is_open:
            raise AttendanceRefused(window_message(window=window, event=event.title))
        if registration.status == Registration.Status.CANCELLED:
            raise AttendanceRefused(
                _("%(name)s cancelled this registration for %(event)s.") % names
            )
        if registration.status == Registration.Status.WAITING:
            raise AttendanceRefused(
                _(
                    "%(name)s is on the waiting list for %(event)s and has no "
                    "confirmed place."
                )
                % names
            )
        if registration.checked_in_at and registration.checkin_reversed_at is None:
            at = timezone.localtime(registration.checked_in_at, SHANGHAI)
            refusal = AttendanceRefused(
                _("%(name)s was already checked in at %(time)s by %(by)s.")
                % {
                    **names,
                    "time": time_format(at, "H:i"),
                    "by": person_name(registration.checked_in_by)
                    if registration.checked_in_by
                    else _("someone no longer registered"),
                }
            )
            refusal.already = True
            raise refusal
        _check_in(registration=registration, event=event, by=by, when=when)
    return registration


def _check_in(
    *,
    registration: Registration,
    event: EventPage,
    by: Any,
    when: datetime.datetime,
) -> None:
    """Write a check-in the caller has validated (its row locked)."""
    again = registration.checkin_reversed_at is not None
    registration.checked_in_at = when
    registration.checked_in_by = by
    registration.checkin_reversed_at = None
    registration.checkin_reversed_by = None
    registration.checkin_reversal_reason = ""
    registration.save(
        update_fields=[
            "checked_in_at",
            "checked_in_by",
            "checkin_reversed_at",
            "checkin_reversed_by",
            "checkin_reversal_reason",
        ]
    )
    registration.earlier_certificate_revoked = _credit(
        registration=registration, event=event
    )
    data = {"event": event.pk, "title": event.title, "again": again}
    if registration.walk_in:
        data["walk_in"] = True
    log(registration, LOG_CHECKED_IN, user=by, data=data)


def local_time_display(when: datetime.datetime) -> str:
    """A moment as staff at the door read it: date and time in Shanghai,
    worded for the active language ("2027年4月26日 08:30", "April 26, 2027
    08:30"); a 24-hour clock, as the rest of the check-in page."""
    local = timezone.localtime(when, SHANGHAI)
    return f"{date_format(local, 'DATE_FORMAT')} {time_format(local, 'H:i')}"


def window_message(*, window: CheckInWindow, event: str) -> str:
    """Why ``window`` refuses a check-in now, in the active language."""
    if window.state == "before":
        return _("Check-in for %(event)s opens at %(time)s.") % {
            "event": event,
            "time": local_time_display(window.opens),
        }
    return _("%(event)s ended at %(time)s: check-in is closed.") % {
        "event": event,
        "time": local_time_display(window.closes),
    }


def _credit(*, registration: Registration, event: EventPage) -> bool:
    """Record what attendance earns (courses.achievements): its hours, and
    its certificate request when the event issues certificates (the bulk
    run issues it). Returns True when the certificate of an earlier
    check-in was revoked (it stays so)."""
    hours = event.training_hours
    record = achievement_record(
        user=registration.user_id,
        source_type=HoursLedgerEntry.Source.EVENT,
        source_key=event.pk,
        title=event.title,
        hours=hours if hours and hours > 0 else None,
        achieved_on=timezone.localtime(event.starts_at, SHANGHAI).date(),
        certificate=event.issues_certificate,
    )
    return record.revoked_before


def checkin_reverse(*, registration_id: int, reason: str, by: Any) -> Registration:
    """Reverse a check-in recorded by mistake.

    Before: a registration checked in and not reversed, for an event that
    still exists and that ``by`` may check in for; a reason. After, in one
    transaction with the registration row locked: ``checkin_reversed_at``,
    ``_by`` and ``checkin_reversal_reason`` set (``checked_in_at``/``_by``
    kept: what happened stays readable); the live earned hours of the event
    reversed with the same reason (courses.ledger.hours_reverse); the
    learner's certificate for the event revoked with the same reason
    (certificate_revoke, which e-mails the learner), or, if not issued yet,
    the request cancelled so that nothing is ever issued for it; the action
    in Wagtail's log.

    Refuses (AttendanceRefused, nothing changed): an empty reason, an
    unknown registration, an event that no longer exists (correct the hours
    in the hours ledger instead), a staff member who may not check in for
    the event, a registration not checked in, and a check-in already
    reversed (saying when, by whom and why).
    """
    reason = (reason or "").strip()
    if not reason:
        raise AttendanceRefused(_("Say why the check-in is reversed."))
    with transaction.atomic():
        rows = Registration.objects.select_related(
            "user", "checked_in_by", "checkin_reversed_by", "event"
        )
        if connection.features.has_select_for_update_of:
            rows = rows.select_for_update(of=("self",))
        else:
            rows = rows.select_for_update()
        registration = rows.filter(pk=registration_id).first()
        if registration is None:
            raise AttendanceRefused(_("This registration does not exist."))
        event = registration.event
        names = {
            "name": person_name(registration.user),
            "event": registration.event_title,
        }
        if event is None:
            raise AttendanceRefused(
                _(
                    "The event of this registration (%(event)s) no longer exists: "
                    "correct the hours in the hours ledger instead."
                )
                % names
            )
        if not can_check_in(user=by, event=event):
            raise AttendanceRefused(
                _("You may not reverse check-ins for %(event)s.") % names
            )
        if registration.checkin_reversed_at is not None:
            raise AttendanceRefused(
                _(
                    "The check-in of %(name)s was already reversed at %(time)s by "
                    "%(by)s: %(reason)s"
                )
                % {
                    **names,
                    "time": local_time_display(registration.checkin_reversed_at),
                    "by": person_name(registration.checkin_reversed_by)
                    if registration.checkin_reversed_by
                    else _("someone no longer registered"),
                    "reason": registration.checkin_reversal_reason,
                }
            )
        if registration.checked_in_at is None:
            raise AttendanceRefused(
                _("%(name)s is not checked in for %(event)s: nothing to reverse.")
                % names
            )
        registration.checkin_reversed_at = timezone.now()
        registration.checkin_reversed_by = by
        registration.checkin_reversal_reason = reason
        registration.save(
            update_fields=[
                "checkin_reversed_at",
                "checkin_reversed_by",
                "checkin_reversal_reason",
            ]
        )
        undone = achievement_reverse(
            user=registration.user_id,
            source_type=HoursLedgerEntry.Source.EVENT,
            source_key=event.pk,
            reason=reason,
            by=by,
        )
        reversal, revoked = undone.reversal, undone.revoked
        cancelled = undone.request_cancelled
        log(
            registration,
            LOG_CHECKIN_REVERSED,
            user=by,
            data={
                "event": event.pk,
                "title": event.title,
                "reason": reason,
                "hours": str(reversal.hours) if reversal else "0",
                "revoked": revoked,
                "request_cancelled": cancelled,
            },
        )
    registration.hours_reversed = -reversal.hours if reversal else None
    registration.certificates_revoked = revoked
    registration.certificate_request_cancelled = cancelled
    return registration


# --- walk-ins -------------------------------------------------------------------

#: The address of a walk-in's account when they gave no e-mail address: a
#: reserved domain (RFC 2606) that never receives mail.
WALKIN_DOMAIN = "walk-in.invalid"


def walkin_register(
    *,
    event_id: int,
    name: str,
    phone: str,
    email: str = "",
    by: Any,
    language: str | None = None,
) -> Registration:
    """Register someone at the entrance and check them in at once.

    Before: ``by`` may check in for the event, its check-in window is open,
    a name and a phone number, and a place: the event's confirmed
    registrations are fewer than its places (or it has no limit). After, in
    one transaction with the event's row locked (SELECT … FOR UPDATE, like
    events.registration.services.registration_create, so walk-ins and
    registrations share the places): a confirmed registration marked
    ``walk_in`` with the phone, checked in by ``by`` now, with its hours and
    certificate request (attendance_record's effects).

    Whose registration: with an e-mail address, the account with that
    address (a confirmed registration of theirs is simply checked in; a
    waiting one takes the place), or a new account with that address, the
    name given and no password — the person claims it with "forgot
    password", and finds the hours and certificate there. Without one, a
    new account that cannot sign in (``walk-in-…@walk-in.invalid``, never
    mailed): the attendance and hours are recorded against it, and an
    administrator who later sets the person's real address on it hands it
    over. Every attendance is thus one registration of one account, and the
    hours ledger stays one entry per person and event.

    A new account with a real address is told, once the transaction has
    committed (events.checkin.emails: registered and checked in, and how to
    set a password), in ``language`` (the station's: the active language
    when not given; Chinese when the site has no such language). An
    existing account that walks in, and one without an address, get no
    e-mail.

    Refuses (AttendanceRefused, nothing written): no permission, the window
    closed, no name or phone, the event full ("no place left"; a walk-in
    never joins the waiting list), someone already checked in.
    """
    from events.checkin.emails import email_language
    from portal.validators import normalise_email

    name = " ".join((name or "").split())
    phone = phone_normalise(phone)
    email = normalise_email(email) if (email or "").strip() else ""
    if not name:
        raise AttendanceRefused(_("Enter the person's name."))
    if not phone:
        raise AttendanceRefused(_("Enter the person's mobile phone number."))
    language = email_language(
        language if language is not None else translation.get_language()
    )
    try:
        return _walkin(
            event_id=event_id,
            name=name,
            phone=phone,
            email=email,
            by=by,
            language=language,
        )
    except IntegrityError as error:
        # The same address registered at another entrance at this moment.
        raise AttendanceRefused(
            _("This person was registered at the same moment. Search for them.")
        ) from error


def _walkin(
    *, event_id: int, name: str, phone: str, email: str, by: Any, language: str
) -> Registration:
    from allauth.account.models import EmailAddress

    from events.checkin.emails import walkin_account_email
    from portal.models import User

    with transaction.atomic():
        event = (
            EventPage.objects.select_for_update(of=("self",))
            .filter(pk=event_id)
            .first()
        )
        if event is None:
            raise AttendanceRefused(_("This event does not exist."))
        if not can_check_in(user=by, event=event):
            raise AttendanceRefused(
                _("You may not check in the participants of %(event)s.")
                % {"event": event.title}
            )
        if event.cancelled_at is not None:
            raise AttendanceRefused(
                _("%(event)s was cancelled: nobody is checked in.")
                % {"event": event.title}
            )
        now = timezone.now()
        window = checkin_window(event=event, now=now)
        if not window.is_open:
            raise AttendanceRefused(window_message(window=window, event=event.title))
        user = User.objects.filter(email__iexact=email).first() if email else None
        registration = None
        if user is not None:
            rows = Registration.objects.select_related("user", "checked_in_by")
            # OF the registration only: checked_in_by is an outer join.
            if connection.features.has_select_for_update_of:
                rows = rows.select_for_update(of=("self",))
            else:
                rows = rows.select_for_update()
            registration = rows.filter(
                event=event, user=user, status__in=["confirmed", "waiting"]
            ).first()
        if (
            registration is not None
            and registration.checked_in_at
            and registration.checkin_reversed_at is None
        ):
            refusal = AttendanceRefused(
                _("%(name)s was already checked in at %(time)s.")
                % {
                    "name": person_name(registration.user),
                    "time": time_format(
                        timezone.localtime(registration.checked_in_at, SHANGHAI),
                        "H:i",
                    ),
                }
            )
            refusal.already = True
            raise refusal
        if registration is None or registration.status != "confirmed":
            confirmed = Registration.objects.filter(
                event=event, status=Registration.Status.CONFIRMED
            ).count()
            if event.capacity is not None and confirmed >= event.capacity:
                raise AttendanceRefused(
                    _(
                        "%(event)s is full: all %(places)s places are taken. "
                        "Nobody can be registered at the entrance."
                    )
                    % {"event": event.title, "places": event.capacity}
                )
        new_account = False
        if user is None:
            if email:
                user = User.objects.create_user(
                    email=email, real_name=name, language=language
                )
                EmailAddress.objects.create(
                    user=user, email=email, primary=True, verified=False
                )
                new_account = True
            else:
                user = User(
                    email=f"walk-in-{secrets.token_hex(8)}@{WALKIN_DOMAIN}",
                    real_name=name,
                    is_active=False,
                )
                user.set_unusable_password()
                user.save()
        if registration is None:
            registration = Registration(
                event=event,
                event_title=event.title,
                event_starts_at=event.starts_at,
                user=user,
                walk_in=True,
            )
        registration.status = Registration.Status.CONFIRMED
        registration.confirmed_at = registration.confirmed_at or now
        registration.waiting_since = None
        if not registration.phone:
            registration.phone = phone
        registration.save()
        _check_in(registration=registration, event=event, by=by, when=now)
        if new_account:
            # After the commit: a walk-in refused or rolled back mails nobody.
            # Robust: the check-in stands even if the e-mail cannot be
            # written (logged; the person can still use "forgot password").
            transaction.on_commit(
                functools.partial(
                    walkin_account_email,
                    registration=registration,
                    event=event,
                    language=language,
                ),
                robust=True,
            )
    return registration


def phone_normalise(text: str | None) -> str:
    """A phone number as stored: digits, with a leading + kept; "" when it
    has fewer than 5 digits."""
    text = (text or "").strip()
    digits = "".join(ch for ch in text if ch.isdigit())
    if len(digits) < 5 or len(digits) > 20:
        return ""
    return ("+" if text.startswith("+") else "") + digits

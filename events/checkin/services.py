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
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.formats import date_format, time_format
from django.utils.translation import gettext as _

from wagtail.log_actions import log

from courses.achievements import achievement_record, achievement_reverse
from courses.models import HoursLedgerEntry
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
    language. Nothing was written."""


def attendance_record(*, code: str, event_id: int | None, by: Any) -> Registration:
    """Check a registrant in by their code.

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
    a code already used (saying when and by whom). Running it twice
    therefore records once.

    A registration whose check-in was reversed (checkin_reverse) may be
    checked in again: the reversal fields are cleared (the reversal stays in
    the log and the ledger), a new earned entry is credited (the next
    sequence) and a cancelled certificate request is owed again. A
    certificate revoked by the reversal stays revoked; the returned
    registration's ``earlier_certificate_revoked`` is then True.
    """
    code = (code or "").strip()
    if not code:
        raise AttendanceRefused(_("Enter or scan a check-in code."))
    with transaction.atomic():
        rows = Registration.objects.select_related("user", "checked_in_by", "event")
        if connection.features.has_select_for_update_of:
            rows = rows.select_for_update(of=("self",))
        else:
            rows = rows.select_for_update()
        registration = rows.filter(code=code).first()
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
        if event_id is not None and event.pk != event_id:
            raise AttendanceRefused(
                _(
                    "This code is for another event: %(event)s. Check that you "
                    "chose the right event."
                )
                % names
            )
        if not can_check_in(user=by, event=event):
            raise AttendanceRefused(
                _("You may not check in the participants of %(event)s.") % names
            )
        # Attendance earns hours and a certificate: a code shown days before
        # (or after) the event must not, whoever scans it.
        window = checkin_window(event=event)
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
            when = timezone.localtime(registration.checked_in_at, SHANGHAI)
            raise AttendanceRefused(
                _("%(name)s was already checked in at %(time)s by %(by)s.")
                % {
                    **names,
                    "time": time_format(when, "H:i"),
                    "by": person_name(registration.checked_in_by)
                    if registration.checked_in_by
                    else _("someone no longer registered"),
                }
            )
        again = registration.checkin_reversed_at is not None
        registration.checked_in_at = timezone.now()
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
        log(
            registration,
            LOG_CHECKED_IN,
            user=by,
            data={"event": event.pk, "title": event.title, "again": again},
        )
    return registration


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

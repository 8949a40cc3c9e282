"""Check-in: recording that a registrant came (issue 6, point 3).

Attendance is written once, with what it earns, in one transaction: the
registration's ``checked_in_at``/``checked_in_by``, an hours-ledger entry and
a pending certificate request, both unique per (user, source) in the
database, so nothing is ever counted twice. The certificate itself waits for
the organiser's bulk run (courses.certificates.services.BULK_RUN_SOURCES).
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

from courses.models import CertificateRequest, HoursLedgerEntry
from portal.events.checkin.selectors import (
    CheckInWindow,
    can_check_in,
    checkin_window,
    person_name,
)
from portal.events.models import EventPage, Registration

SHANGHAI = ZoneInfo("Asia/Shanghai")
#: The action written to Wagtail's log for each check-in.
LOG_CHECKED_IN = "events.registration.checked_in"


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
        if registration.checked_in_at:
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
        registration.checked_in_at = timezone.now()
        registration.checked_in_by = by
        registration.save(update_fields=["checked_in_at", "checked_in_by"])
        _credit(registration=registration, event=event)
        log(
            registration,
            LOG_CHECKED_IN,
            user=by,
            data={"event": event.pk, "title": event.title},
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


def _credit(*, registration: Registration, event: EventPage) -> None:
    """Write what attendance earns; the unique constraints (user, source)
    make a repeat impossible, and get_or_create keeps one that exists."""
    earned_on = timezone.localtime(event.starts_at, SHANGHAI).date()
    source = {
        "user_id": registration.user_id,
        "source_type": HoursLedgerEntry.Source.EVENT,
        "source_key": event.pk,
    }
    if event.training_hours and event.training_hours > 0:
        HoursLedgerEntry.objects.get_or_create(
            **source,
            defaults={
                "title": event.title,
                "hours": event.training_hours,
                "earned_on": earned_on,
            },
        )
    if event.issues_certificate:
        CertificateRequest.objects.get_or_create(
            **source,
            defaults={
                "title": event.title,
                "hours": event.training_hours,
                "achieved_on": earned_on,
            },
        )

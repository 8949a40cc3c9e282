"""The hours ledger's one door: every write to HoursLedgerEntry goes through
these functions, and the reads that add it up are here too.

The ledger is append-only (docs/decisions.md, convention 3; the model and
its queryset refuse to update or delete a row). A learner's hours are the sum
of their entries:

- *earned*: an achievement (a course completed, an event attended) credited
  once at a time. ``sequence`` counts the times a source was earned: 1, then
  2 if the first was reversed and the source earned again (a check-in
  reversed, then the person checked in properly). The unique constraint
  ``courses_hours_earned_once`` on (user, source, sequence) settles races.
- *reversal*: undoes one earned entry (``reverses``, one-to-one), with the
  opposite hours, the same source and date, a reason and who did it.
- *adjustment*: a staff correction of any size but zero, with a reason.

Every correction (reversal, adjustment) is written to Wagtail's log on the
new entry (Reports › Site history), with the reason.

Who may correct is the caller's business: the hours-ledger admin asks
``courses.add_hoursledgerentry``, a check-in reversal asks the check-in
permission (events.checkin).
"""

from __future__ import annotations

import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max, Q, QuerySet, Sum
from django.db.models.functions import ExtractYear
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from wagtail.log_actions import log

from courses.models import HoursLedgerEntry
from portal.models import User

Kind = HoursLedgerEntry.Kind
Source = HoursLedgerEntry.Source

#: Wagtail log actions of the corrections (labels in courses.admin_ledger).
LOG_REVERSED = "courses.hours.reversed"
LOG_ADJUSTED = "courses.hours.adjusted"

#: The largest number of hours one entry may hold (5 digits, one decimal).
MAX_HOURS = Decimal("9999.9")
#: A manual adjustment names no achievement: its source id is 0.
MANUAL_SOURCE_KEY = 0


class LedgerError(ValidationError):
    """A correction refused: ``message`` says why, in the staff member's
    language. Nothing was written."""


def _user_id(user: Any) -> int:
    return user if isinstance(user, int) else user.pk


def _person(user: Any) -> str:
    if user is None:
        return _("the system")
    return getattr(user, "real_name", "") or user.get_full_name() or user.email


# --- reads -----------------------------------------------------------------------


def live_earned(
    *, user: Any, source_type: str, source_key: int
) -> HoursLedgerEntry | None:
    """The earned entry of a source that counts now (not reversed), if any."""
    return (
        HoursLedgerEntry.objects.filter(
            user_id=_user_id(user),
            source_type=source_type,
            source_key=source_key,
            kind=Kind.EARNED,
            reversed_by__isnull=True,
        )
        .order_by("-sequence")
        .first()
    )


def hours_total(user: Any, *, year: int | None = None) -> Decimal:
    """A learner's hours: the sum of all their entries (reversals and
    negative adjustments included), or of one calendar year's (by the date the
    hours count for, ``earned_on``; a reversal keeps its entry's date)."""
    entries = HoursLedgerEntry.objects.filter(user_id=_user_id(user))
    if year is not None:
        entries = entries.filter(earned_on__year=year)
    return entries.aggregate(total=Sum("hours"))["total"] or Decimal("0.0")


def hours_by_year(user: Any) -> dict[int, Decimal]:
    """A learner's hours per calendar year, oldest first (one query)."""
    rows = (
        HoursLedgerEntry.objects.filter(user_id=_user_id(user))
        .annotate(year=ExtractYear("earned_on"))
        .values("year")
        .annotate(total=Sum("hours"))
        .order_by("year")
    )
    return {row["year"]: row["total"] for row in rows}


def ledger_entries(*, user: Any) -> QuerySet[HoursLedgerEntry]:
    """A learner's entries in the order they count: by date, then as recorded."""
    return (
        HoursLedgerEntry.objects.filter(user_id=_user_id(user))
        .select_related("created_by", "reverses", "reversed_by__created_by")
        .order_by("earned_on", "created_at", "pk")
    )


def ledger_lines(*, user: Any) -> list[tuple[HoursLedgerEntry, Decimal]]:
    """Each entry of a learner with the running total after it (one query)."""
    total = Decimal("0.0")
    lines = []
    for entry in ledger_entries(user=user):
        total += entry.hours
        lines.append((entry, total))
    return lines


def ledger_between(
    *, date_from: datetime.date | None, date_to: datetime.date | None
) -> QuerySet[HoursLedgerEntry]:
    """Every learner's entries dated within the range (both ends included),
    by learner, then in the order they count."""
    condition = Q()
    if date_from:
        condition &= Q(earned_on__gte=date_from)
    if date_to:
        condition &= Q(earned_on__lte=date_to)
    return (
        HoursLedgerEntry.objects.filter(condition)
        .select_related("user", "created_by", "reverses")
        .order_by("user_id", "earned_on", "created_at", "pk")
    )


# --- writes ----------------------------------------------------------------------


def hours_earn(
    *,
    user: Any,
    source_type: str,
    source_key: int,
    title: str,
    hours: Decimal,
    earned_on: datetime.date,
) -> HoursLedgerEntry:
    """Credit an achievement's hours once.

    Before: anything. After: exactly one live (not reversed) earned entry for
    (user, source). If one exists it is returned unchanged: crediting twice
    is a no-op. Otherwise a new earned entry with the next ``sequence`` (1, or
    one more than the reversed ones before it). Two callers racing are settled
    by the unique constraint: the loser gets the winner's entry. Runs inside
    the caller's transaction when there is one. ``user`` is a user or an id.
    """
    hours = Decimal(hours)
    if hours < 0:
        raise ValueError("Earned hours cannot be negative; adjust instead.")
    source = {
        "user_id": _user_id(user),
        "source_type": source_type,
        "source_key": source_key,
    }
    with transaction.atomic():
        live = live_earned(
            user=source["user_id"], source_type=source_type, source_key=source_key
        )
        if live is not None:
            return live
        last = HoursLedgerEntry.objects.filter(**source, kind=Kind.EARNED).aggregate(
            last=Max("sequence")
        )["last"]
        try:
            with transaction.atomic():
                return HoursLedgerEntry.objects.create(
                    **source,
                    kind=Kind.EARNED,
                    sequence=(last or 0) + 1,
                    title=title[:255],
                    hours=hours,
                    earned_on=earned_on,
                )
        except IntegrityError:
            # Credited by a concurrent request a moment ago: theirs counts.
            winner = live_earned(
                user=source["user_id"], source_type=source_type, source_key=source_key
            )
            if winner is None:
                raise
            return winner


def hours_reverse(*, entry: HoursLedgerEntry | int, reason: str, by: Any) -> Any:
    """Undo an earned entry with a reversing entry.

    Before: an earned entry not yet reversed, and a reason. After, in one
    transaction with the entry locked: a reversal entry (the opposite hours,
    the same learner, source, sequence, title and date, ``reverses`` the
    entry, the reason, ``created_by`` = ``by``) and the action in Wagtail's
    log. Returns the reversal. Refuses (LedgerError, nothing written): an
    empty reason, an entry that does not exist or is not an earned one, and
    one already reversed (saying when, by whom and why).
    """
    reason = (reason or "").strip()
    if not reason:
        raise LedgerError(_("Say why the hours are reversed."))
    entry_id = entry if isinstance(entry, int) else entry.pk
    with transaction.atomic():
        original = (
            HoursLedgerEntry.objects.select_for_update()
            .select_related("user")
            .filter(pk=entry_id)
            .first()
        )
        if original is None:
            raise LedgerError(_("This ledger entry does not exist."))
        if original.kind != Kind.EARNED:
            raise LedgerError(
                _(
                    "Only earned hours can be reversed; correct a reversal or an "
                    "adjustment with an adjustment."
                )
            )
        earlier = (
            HoursLedgerEntry.objects.filter(reverses=original)
            .select_related("created_by")
            .first()
        )
        if earlier is not None:
            raise _already_reversed(earlier)
        try:
            with transaction.atomic():
                reversal = HoursLedgerEntry.objects.create(
                    user_id=original.user_id,
                    kind=Kind.REVERSAL,
                    source_type=original.source_type,
                    source_key=original.source_key,
                    sequence=original.sequence,
                    title=original.title,
                    hours=-original.hours,
                    # The hours are taken back from the year they counted in.
                    earned_on=original.earned_on,
                    reverses=original,
                    reason=reason,
                    created_by=by,
                )
        except IntegrityError:
            # A concurrent reversal of the same entry won (reverses is unique).
            earlier = HoursLedgerEntry.objects.get(reverses=original)
            raise _already_reversed(earlier) from None
        log(
            reversal,
            LOG_REVERSED,
            user=by,
            data={
                "learner": original.user_id,
                "reverses": original.pk,
                "title": original.title,
                "hours": str(reversal.hours),
                "reason": reason,
            },
        )
    return reversal


def _already_reversed(reversal: HoursLedgerEntry) -> LedgerError:
    return LedgerError(
        _("These hours were already reversed on %(date)s by %(by)s: %(reason)s")
        % {
            "date": date_format(timezone.localtime(reversal.created_at), "DATE_FORMAT"),
            "by": _person(reversal.created_by),
            "reason": reversal.reason,
        }
    )


def parse_hours(value: Any) -> Decimal:
    """Hours as typed by staff: a number other than zero, at most one decimal,
    below 10,000 either way. Raises LedgerError saying what is wrong."""
    try:
        hours = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise LedgerError(_("Give the hours as a number, e.g. 1.5 or -2.")) from None
    if not hours.is_finite():
        raise LedgerError(_("Give the hours as a number, e.g. 1.5 or -2."))
    if hours == 0:
        raise LedgerError(
            _("An adjustment adds or removes hours: zero changes nothing.")
        )
    if hours != hours.quantize(Decimal("0.1")) or abs(hours) > MAX_HOURS:
        raise LedgerError(
            _("Give the hours with at most one decimal, up to 9999.9 either way.")
        )
    return hours


def hours_adjust(
    *,
    user: Any,
    hours: Decimal | str | int,
    reason: str,
    by: Any,
    title: str = "",
    earned_on: datetime.date | None = None,
) -> HoursLedgerEntry:
    """Correct a learner's hours by hand.

    Before: a learner, hours other than zero (at most one decimal), a reason.
    After, in one transaction with the learner's row locked (corrections of
    one learner are taken one at a time): an adjustment entry (source
    "manual", dated ``earned_on`` or today in Shanghai, titled ``title`` or
    "Manual adjustment", the reason, ``created_by`` = ``by``) and the action
    in Wagtail's log. Returns the entry. Refuses (LedgerError, nothing
    written): an empty reason, hours that are zero or malformed, and an
    adjustment that would leave the learner with fewer than zero hours.
    """
    reason = (reason or "").strip()
    if not reason:
        raise LedgerError(_("Say why the hours are adjusted."))
    amount = parse_hours(hours)
    title = (title or "").strip() or str(Source.MANUAL.label)
    earned_on = earned_on or timezone.localdate()
    with transaction.atomic():
        learner = User.objects.select_for_update().filter(pk=_user_id(user)).first()
        if learner is None:
            raise LedgerError(_("This learner does not exist."))
        total = hours_total(learner)
        if total + amount < 0:
            raise LedgerError(
                _(
                    "%(name)s has %(total)s hours: removing %(hours)s would leave "
                    "fewer than none."
                )
                % {"name": _person(learner), "total": total, "hours": -amount}
            )
        entry = HoursLedgerEntry.objects.create(
            user=learner,
            kind=Kind.ADJUSTMENT,
            source_type=Source.MANUAL,
            source_key=MANUAL_SOURCE_KEY,
            title=title[:255],
            hours=amount,
            earned_on=earned_on,
            reason=reason,
            created_by=by,
        )
        log(
            entry,
            LOG_ADJUSTED,
            user=by,
            data={
                "learner": learner.pk,
                "title": entry.title,
                "hours": str(amount),
                "reason": reason,
            },
        )
    return entry

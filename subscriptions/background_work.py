"""Announcements for the admin's "Background work" page
(portal.background_work): those still being sent, those scheduled (waiting
for their minute; stuck only when the minute passed more than
services.SCHEDULED_LATE_AFTER ago, which means the beat is not running), and
those with e-mails that failed. Registered by subscriptions.wagtail_hooks."""

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from portal.background_work import (
    FAILED,
    PENDING,
    RETRY_LIMIT,
    ROWS_SHOWN,
    STUCK,
    WorkKind,
    WorkRow,
    WorkSummary,
    emails_retry,
)
from portal.models import OutgoingEmail
from subscriptions import services
from subscriptions.models import Announcement, AnnouncementDelivery

_FAILED_EMAIL = Q(
    status=AnnouncementDelivery.Status.QUEUED,
    email__status=OutgoingEmail.Status.FAILED,
)


def _has_failed() -> Exists:
    """An e-mail of the announcement (OuterRef) failed."""
    return Exists(
        AnnouncementDelivery.objects.filter(_FAILED_EMAIL, announcement=OuterRef("pk"))
    )


def _stuck(cutoff: datetime) -> Q:
    """Sending for longer than the sweep waits (services.SWEEP_AFTER), or
    scheduled for a minute that passed services.SCHEDULED_LATE_AFTER ago."""
    late = timezone.now() - services.SCHEDULED_LATE_AFTER
    return Q(status=Announcement.Status.SENDING, send_started_at__lt=cutoff) | Q(
        status=Announcement.Status.SCHEDULED, scheduled_at__lt=late
    )


_WAITING = Q(status__in=[Announcement.Status.SENDING, Announcement.Status.SCHEDULED])


def _announcements(cutoff: datetime) -> Any:
    """Announcements still sending or scheduled, or with an e-mail that
    failed; annotated with `has_failed` and `stuck`."""
    return (
        Announcement.objects.annotate(has_failed=_has_failed())
        .filter(_WAITING | Q(has_failed=True))
        .annotate(stuck=_stuck(cutoff))
    )


def announcements_waiting_summary(user: Any = None) -> WorkSummary:
    """Announcements: failed (an e-mail of theirs failed), stuck or waiting
    (still being written into the outbox); counts in one query, the latest
    ROWS_SHOWN with their numbers of waiting and failed e-mails in another."""
    cutoff = timezone.now() - services.SWEEP_AFTER
    # The counts from the expressions themselves: an aggregate over the
    # boolean annotations is wrapped in a subquery that PostgreSQL rejects.
    failed, stuck = Q(_has_failed()), _stuck(cutoff)
    counts = Announcement.objects.filter(_WAITING | failed).aggregate(
        pending=Count("pk", filter=~failed & ~stuck),
        stuck=Count("pk", filter=~failed & stuck),
        failed=Count("pk", filter=failed),
    )
    latest = (
        _announcements(cutoff)
        .annotate(
            waiting=Count(
                "deliveries",
                filter=Q(deliveries__status=AnnouncementDelivery.Status.PENDING),
            ),
            failed_emails=Count(
                "deliveries",
                filter=Q(
                    deliveries__status=AnnouncementDelivery.Status.QUEUED,
                    deliveries__email__status=OutgoingEmail.Status.FAILED,
                ),
            ),
        )
        .only(
            "pk",
            "subject",
            "status",
            "send_started_at",
            "scheduled_at",
            "recipient_count",
        )
        .order_by(
            Coalesce("send_started_at", "scheduled_at").desc(nulls_last=True), "-pk"
        )[:ROWS_SHOWN]
    )
    rows = []
    for announcement in latest:
        if announcement.has_failed:
            state = FAILED
        else:
            state = STUCK if announcement.stuck else PENDING
        if announcement.status == Announcement.Status.SCHEDULED:
            rows.append(
                WorkRow(
                    pk=announcement.pk,
                    state=state,
                    what=announcement.subject,
                    detail=_("Scheduled for %(when)s (China Standard Time)")
                    % {
                        "when": timezone.localtime(
                            announcement.scheduled_at, ZoneInfo(settings.TIME_ZONE)
                        ).strftime("%Y-%m-%d %H:%M")
                    },
                    since=announcement.scheduled_at,
                    url=reverse("announcements:preview", args=[announcement.pk]),
                )
            )
            continue
        rows.append(
            WorkRow(
                pk=announcement.pk,
                state=state,
                what=announcement.subject,
                detail=_(
                    "%(recipients)s recipients: %(waiting)s not yet in the "
                    "outbox, %(failed)s e-mails failed"
                )
                % {
                    "recipients": announcement.recipient_count,
                    "waiting": announcement.waiting,
                    "failed": announcement.failed_emails,
                },
                since=announcement.send_started_at,
                url=reverse("announcements:report", args=[announcement.pk]),
            )
        )
    return WorkSummary(
        rows=rows, retryable=counts["stuck"] + counts["failed"], **counts
    )


def announcements_retry(*, ids: list[int] | None = None, user: Any = None) -> int:
    """Send again what is left of stuck announcements and their failed
    e-mails (`ids`, or all: None); returns how many announcements.

    Before: announcements sending for longer than services.SWEEP_AFTER, or
    with e-mails that failed. After, in one transaction: a stuck one's
    pending deliveries enqueued again in their batches on commit (what the
    beat's sweep, services.announcement_sweep, does), or the announcement
    marked sent when none is pending; its failed e-mails set back to
    pending and delivered again (portal.background_work.emails_retry, up to
    its limit per click). May run twice: a batch writes only pending
    deliveries, and delivery skips e-mails no longer pending, so nobody gets
    an announcement twice."""
    from subscriptions.tasks import send_announcement_batch

    cutoff = timezone.now() - services.SWEEP_AFTER
    with transaction.atomic():
        rows = (
            _announcements(cutoff)
            .filter(Q(has_failed=True) | Q(stuck=True))
            .select_for_update(skip_locked=True, of=("self",))
        )
        if ids is not None:
            rows = rows.filter(pk__in=ids)
        picked = list(
            rows.order_by("pk").values_list("pk", "stuck", "status")[:RETRY_LIMIT]
        )
        for pk, stuck, status in picked:
            if not stuck:
                continue
            if status == Announcement.Status.SCHEDULED:
                # Its minute passed and the beat did not send it: send now.
                services.announcement_send_scheduled(announcement_id=pk)
                continue
            ranges = services._pending_ranges(announcement_id=pk)
            for first, last in ranges:
                send_announcement_batch.delay_on_commit(pk, first, last)
            if not ranges:
                services.announcement_finish(announcement_id=pk)
        email_ids = list(
            AnnouncementDelivery.objects.filter(
                _FAILED_EMAIL, announcement_id__in=[pk for pk, *_rest in picked]
            ).values_list("email_id", flat=True)
        )
        if email_ids:
            emails_retry(ids=email_ids)
    return len(picked)


def announcement_work() -> WorkKind:
    return WorkKind(
        name="announcements",
        label=gettext_lazy("Announcements"),
        help_text=gettext_lazy(
            "Announcements scheduled or still being written into the outbox, "
            "and those with e-mails that failed. Stuck: sending for longer than "
            "a few minutes (the beat re-queues these too), or scheduled for a "
            "time more than two minutes past (the beat is not running). "
            "Retrying sends those, writes the e-mails of the recipients not "
            "yet reached and sends the failed e-mails again; nobody receives "
            "an announcement twice."
        ),
        may_retry=lambda user: bool(user.has_perm("subscriptions.change_announcement")),
        summary=announcements_waiting_summary,
        retry=announcements_retry,
        retried=lambda count: (
            ngettext(
                "Re-queued the sending of %(count)s announcement.",
                "Re-queued the sending of %(count)s announcements.",
                count,
            )
            % {"count": count}
        ),
        order=50,
    )

"""Certificate work for the admin's "Background work" page
(portal.background_work): PDFs not rendered, and the items of bulk runs.
Registered by courses.certificates.wagtail_hooks."""

from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy, ngettext

from courses.certificates.admin_views.base import BATCHES, CERTIFICATES
from courses.certificates.services.batches import RENDER_CHUNK
from courses.certificates.services.sweep import MAX_RENDER_ATTEMPTS
from courses.models import Certificate, CertificateBatch, CertificateBatchItem
from portal.background_work import (
    FAILED,
    PENDING,
    RETRY_LIMIT,
    ROWS_SHOWN,
    STUCK,
    WorkKind,
    WorkRow,
    WorkSummary,
)

#: Older than this, waiting work is stuck: the beat's sweep
#: (services.certificates_sweep) takes the same rows.
STUCK_AFTER = timedelta(minutes=2)


# --- PDFs ---------------------------------------------------------------------------


def _render_states(cutoff: datetime) -> dict[str, Q]:
    """Of the certificates without a PDF: waiting, stuck (the sweep would
    render them again) and failed (the sweep gave up: MAX_RENDER_ATTEMPTS)."""
    trying = Q(render_attempts__lt=MAX_RENDER_ATTEMPTS)
    return {
        PENDING: trying & Q(issued_at__gte=cutoff),
        STUCK: trying & Q(issued_at__lt=cutoff),
        FAILED: Q(render_attempts__gte=MAX_RENDER_ATTEMPTS),
    }


def renders_waiting_summary(user: Any = None) -> WorkSummary:
    """Certificates without their PDF: counts in one query, the latest
    ROWS_SHOWN in another."""
    cutoff = timezone.now() - STUCK_AFTER
    states = _render_states(cutoff)
    unrendered = Certificate.objects.filter(rendered_at__isnull=True)
    counts = unrendered.aggregate(
        pending=Count("pk", filter=states[PENDING]),
        stuck=Count("pk", filter=states[STUCK]),
        failed=Count("pk", filter=states[FAILED]),
        retryable=Count("pk", filter=states[STUCK] | states[FAILED]),
    )
    certificates = unrendered.only(
        "pk",
        "serial",
        "learner_name",
        "title",
        "issued_at",
        "render_attempts",
        "last_error",
    ).order_by("-issued_at", "-pk")[:ROWS_SHOWN]
    rows = []
    for certificate in certificates:
        if certificate.render_attempts >= MAX_RENDER_ATTEMPTS:
            state = FAILED
        else:
            state = STUCK if certificate.issued_at < cutoff else PENDING
        rows.append(
            WorkRow(
                pk=certificate.pk,
                state=state,
                what=certificate.serial,
                detail=f"{certificate.learner_name} · {certificate.title}",
                since=certificate.issued_at,
                attempts=certificate.render_attempts,
                error=certificate.last_error,
                url=reverse(f"{CERTIFICATES}:inspect", args=[certificate.pk]),
            )
        )
    return WorkSummary(rows=rows, **counts)


def renders_retry(*, ids: list[int] | None = None, user: Any = None) -> int:
    """Render again the stuck and failed certificates without a PDF (`ids`,
    or all: None); returns how many were enqueued.

    Before: certificates without a PDF, failed (MAX_RENDER_ATTEMPTS reached)
    or waiting past STUCK_AFTER. After, in one transaction: the failed ones'
    render_attempts at 0 and last_error cleared (so the sweep takes them up
    again too), and courses.tasks.render_certificate enqueued on commit for
    each. May run twice: the render leaves a certificate that has its PDF
    alone, so the PDF is stored and e-mailed once."""
    from courses.tasks import render_certificate

    states = _render_states(timezone.now() - STUCK_AFTER)
    with transaction.atomic():
        rows = Certificate.objects.select_for_update(skip_locked=True).filter(
            states[STUCK] | states[FAILED], rendered_at__isnull=True
        )
        if ids is not None:
            rows = rows.filter(pk__in=ids)
        picked = list(rows.order_by("pk").values_list("pk", flat=True)[:RETRY_LIMIT])
        Certificate.objects.filter(pk__in=picked, rendered_at__isnull=True).filter(
            states[FAILED]
        ).update(render_attempts=0, last_error="")
        for pk in picked:
            render_certificate.delay_on_commit(pk)
    return len(picked)


def render_work() -> WorkKind:
    return WorkKind(
        name="certificate-pdfs",
        label=gettext_lazy("Certificate PDFs"),
        help_text=gettext_lazy(
            "Issued certificates whose PDF is not made yet. Stuck: waiting for "
            "longer than a render takes (the beat renders these again every "
            "minute). Failed: the render failed five times, most often because "
            "of the template (a missing image or font): fix the cause, then "
            "retry. Retrying renders, stores and e-mails the PDF once."
        ),
        may_retry=lambda user: bool(user.has_perm("courses.change_certificate")),
        summary=renders_waiting_summary,
        retry=renders_retry,
        retried=lambda count: (
            ngettext(
                "Re-queued %(count)s certificate PDF.",
                "Re-queued %(count)s certificate PDFs.",
                count,
            )
            % {"count": count}
        ),
        order=20,
    )


# --- bulk runs ------------------------------------------------------------------------


def _item_states(cutoff: datetime) -> dict[str, Q]:
    waiting = Q(status=CertificateBatchItem.Status.PENDING)
    return {
        PENDING: waiting & Q(batch__created_at__gte=cutoff),
        STUCK: waiting & Q(batch__created_at__lt=cutoff),
        FAILED: Q(status=CertificateBatchItem.Status.FAILED),
    }


def batch_items_waiting_summary(user: Any = None) -> WorkSummary:
    """Items of bulk runs still waiting, or failed: counts in one query, the
    latest ROWS_SHOWN (with their run and learner) in another."""
    cutoff = timezone.now() - STUCK_AFTER
    states = _item_states(cutoff)
    items = CertificateBatchItem.objects.filter(
        states[PENDING] | states[STUCK] | states[FAILED]
    )
    counts = items.aggregate(
        pending=Count("pk", filter=states[PENDING]),
        stuck=Count("pk", filter=states[STUCK]),
        failed=Count("pk", filter=states[FAILED]),
    )
    latest = (
        items.select_related("batch", "request__user")
        .only(
            "pk",
            "status",
            "error",
            "finished_at",
            "batch__id",
            "batch__title",
            "batch__created_at",
            "request__title",
            "request__user__real_name",
            "request__user__email",
        )
        .order_by("-batch__created_at", "-pk")[:ROWS_SHOWN]
    )
    rows = []
    for item in latest:
        if item.status == CertificateBatchItem.Status.FAILED:
            state = FAILED
        else:
            state = STUCK if item.batch.created_at < cutoff else PENDING
        learner = item.request.user
        rows.append(
            WorkRow(
                pk=item.pk,
                state=state,
                what=f"{learner.real_name or learner.email} · {item.request.title}",
                detail=item.batch.title,
                since=item.finished_at or item.batch.created_at,
                error=item.error,
                url=reverse(f"{BATCHES}:inspect", args=[item.batch.pk]),
            )
        )
    return WorkSummary(
        rows=rows, retryable=counts["stuck"] + counts["failed"], **counts
    )


def batch_items_retry(*, ids: list[int] | None = None, user: Any = None) -> int:
    """Run again the stuck and failed items of bulk runs (`ids`, or all:
    None); returns how many were enqueued.

    Before: failed items, or pending ones of a run started STUCK_AFTER ago.
    After, in one transaction: the failed ones pending again (error and
    finish time cleared) and their runs running again; the items enqueued on
    commit in chunks of RENDER_CHUNK (courses.tasks.
    process_certificate_batch_items), which finishes each run when nothing is
    pending. May run twice: the processing skips items no longer pending, and
    a certificate is issued once per achievement (a database constraint)."""
    from courses.tasks import process_certificate_batch_items

    states = _item_states(timezone.now() - STUCK_AFTER)
    with transaction.atomic():
        rows = CertificateBatchItem.objects.select_for_update(
            skip_locked=True, of=("self",)
        ).filter(states[STUCK] | states[FAILED])
        if ids is not None:
            rows = rows.filter(pk__in=ids)
        picked = list(
            rows.order_by("pk").values_list("pk", "status", "batch_id")[:RETRY_LIMIT]
        )
        failed = [
            pk
            for pk, status, _batch in picked
            if status == CertificateBatchItem.Status.FAILED
        ]
        if failed:
            CertificateBatchItem.objects.filter(pk__in=failed).update(
                status=CertificateBatchItem.Status.PENDING, error="", finished_at=None
            )
            CertificateBatch.objects.filter(
                pk__in={batch for _pk, _status, batch in picked},
                status=CertificateBatch.Status.DONE,
            ).update(status=CertificateBatch.Status.RUNNING, finished_at=None)
        ids_picked = [pk for pk, _status, _batch in picked]
        for start in range(0, len(ids_picked), RENDER_CHUNK):
            process_certificate_batch_items.delay_on_commit(
                ids_picked[start : start + RENDER_CHUNK]
            )
    return len(picked)


def batch_item_work() -> WorkKind:
    return WorkKind(
        name="certificate-runs",
        label=gettext_lazy("Bulk certificate runs"),
        help_text=gettext_lazy(
            "Achievements in a bulk run whose certificate is not issued yet, or "
            "could not be issued (the reason is shown). Retrying issues and "
            "renders them again; an achievement that has its certificate is "
            "marked already issued, never issued twice."
        ),
        # Who may start a bulk run may run its items again.
        may_retry=lambda user: bool(user.has_perm("courses.add_certificatebatch")),
        summary=batch_items_waiting_summary,
        retry=batch_items_retry,
        retried=lambda count: (
            ngettext(
                "Re-queued %(count)s achievement of bulk runs.",
                "Re-queued %(count)s achievements of bulk runs.",
                count,
            )
            % {"count": count}
        ),
        order=30,
    )

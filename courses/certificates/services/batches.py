"""Bulk runs: a training manager certifies a class, or one source's requests
(e.g. an event's attendance), at once; the worker issues and renders the
run's items in chunks and reports its progress."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from wagtail.log_actions import log

from courses.certificates import rendering
from courses.certificates.services.base import logger
from courses.certificates.services.issue import (
    certificate_issue,
    template_version_current,
)
from courses.certificates.services.pdfs import certificates_render_many
from courses.models import (
    CertificateBatch,
    CertificateBatchItem,
    CertificateRequest,
    CertificateTemplateVersion,
    HoursLedgerEntry,
    TrainingClass,
    TrainingClassMember,
)

#: Certificates rendered together in one WeasyPrint document by a bulk run.
RENDER_CHUNK = 50


def training_class_requests(*, training_class: TrainingClass) -> Any:
    """The certificate requests a class's bulk run covers: its members'
    completions of its courses."""
    members = TrainingClassMember.objects.filter(training_class=training_class)
    course_keys = training_class.courses.values_list("pk", flat=True)
    return CertificateRequest.objects.filter(
        user_id__in=members.values("user_id"),
        source_type=HoursLedgerEntry.Source.COURSE,
        source_key__in=list(course_keys),
    )


def source_requests(*, source_type: str, source_key: int) -> Any:
    """The certificate requests of one source (e.g. one event's attendance),
    as the source wrote them; courses knows nothing more of the source.
    Cancelled requests (a check-in reversed) are not among them."""
    return CertificateRequest.objects.filter(
        source_type=source_type, source_key=source_key
    ).exclude(status=CertificateRequest.Status.CANCELLED)


def batch_sources(*, limit: int = 200) -> list[dict]:
    """The sources other than courses that have certificate requests, newest
    first, with their title and counts: what a bulk run may be started for
    besides a training class (a selector, for the admin's start page)."""
    from django.db.models import Count, Max, Q

    rows = (
        CertificateRequest.objects.exclude(source_type=HoursLedgerEntry.Source.COURSE)
        .values("source_type", "source_key")
        .annotate(
            title=Max("title"),
            total=Count("pk"),
            pending=Count("pk", filter=Q(status=CertificateRequest.Status.PENDING)),
            latest=Max("requested_at"),
        )
        .order_by("-latest")[:limit]
    )
    labels = dict(HoursLedgerEntry.Source.choices)
    return [
        {
            **row,
            "value": f"{row['source_type']}:{row['source_key']}",
            "type_label": labels.get(row["source_type"], row["source_type"]),
        }
        for row in rows
    ]


def certificate_batch_create(
    *,
    by: Any,
    training_class: TrainingClass | None = None,
    requests: Any = None,
    title: str = "",
    source_type: str = "",
    source_key: int | None = None,
) -> CertificateBatch:
    """Start a bulk run for a training class, or for given certificate requests.

    Either ``training_class`` (its members' completions of its courses), or
    ``requests`` (a queryset of CertificateRequest, e.g. one event's
    attendees', passed by the side that knows the source) with the run's
    ``title`` and the ``source_type``/``source_key`` it covers, so the run
    can be started again for the same source.

    After: a running batch with one pending item per request, and its task
    enqueued on commit. Runs again are safe: a request already certified
    ends as "already issued".
    """
    from courses.tasks import run_certificate_batch

    if (training_class is None) == (requests is None):
        raise ValueError("Give a training class or the requests, not both.")
    if training_class is not None:
        title = training_class.name
        requests = training_class_requests(training_class=training_class)
        source_type, source_key = "", None
    with transaction.atomic():
        batch = CertificateBatch.objects.create(
            training_class=training_class,
            source_type=source_type,
            source_key=source_key,
            title=title[:255],
            created_by=by,
        )
        # A cancelled request (its achievement reversed) is never issued.
        request_ids = list(
            requests.exclude(status=CertificateRequest.Status.CANCELLED)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        CertificateBatchItem.objects.bulk_create(
            CertificateBatchItem(batch=batch, request_id=pk) for pk in request_ids
        )
        if not request_ids:
            batch.status = CertificateBatch.Status.DONE
            batch.finished_at = timezone.now()
            batch.save(update_fields=["status", "finished_at"])
        else:
            run_certificate_batch.delay_on_commit(batch.pk)
        log(
            batch,
            "courses.certificate_batch.started",
            user=by,
            data={"items": len(request_ids)},
        )
    return batch


def certificate_batch_chunks(*, batch_id: int) -> list[list[int]]:
    """The pending items of a batch in render-sized chunks (for fan-out)."""
    ids = list(
        CertificateBatchItem.objects.filter(
            batch_id=batch_id, status=CertificateBatchItem.Status.PENDING
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return [ids[i : i + RENDER_CHUNK] for i in range(0, len(ids), RENDER_CHUNK)]


def certificate_batch_process(*, item_ids: list[int]) -> None:
    """Issue, render and store the certificates of some batch items.

    Each item is issued in its own savepoint and marked issued, already
    issued or failed (with the reason); the chunk's issues are committed
    together (one commit, and the serial counter locked once, instead of one
    per item); should that commit fail, each item is issued in its own
    transaction instead. Then the new certificates are rendered together. May
    run twice or alongside itself: items no longer pending, or locked by
    another worker, are skipped.
    """
    try:
        version = template_version_current()
    except rendering.TemplateAssetError:
        version = None  # each item then fails with the reason
    try:
        with transaction.atomic():
            to_render, batch_ids = _batch_issue(item_ids=item_ids, version=version)
    except Exception:
        logger.exception("Issuing a chunk failed; issuing one by one")
        to_render, batch_ids = _batch_issue(item_ids=item_ids, version=version)
    certificates_render_many(certificate_ids=to_render)
    for batch_id in batch_ids:
        certificate_batch_finish(batch_id=batch_id)


def _batch_issue(
    *, item_ids: list[int], version: CertificateTemplateVersion | None
) -> tuple[list[int], set[int]]:
    """Issue each pending item in its own (nested) transaction; returns the
    certificates to render and the batches touched."""
    to_render = []
    batch_ids = set()
    for item_id in item_ids:
        with transaction.atomic():
            item = (
                CertificateBatchItem.objects.select_for_update(skip_locked=True)
                .filter(pk=item_id, status=CertificateBatchItem.Status.PENDING)
                .first()
            )
            if item is None:
                continue
            batch_ids.add(item.batch_id)
            try:
                with transaction.atomic():
                    certificate, created = certificate_issue(
                        request_id=item.request_id, render=False, version=version
                    )
            except Exception as error:
                logger.warning("Batch item %s failed: %s", item_id, error)
                item.status = CertificateBatchItem.Status.FAILED
                item.error = f"{error}"[:2000] or type(error).__name__
            else:
                item.status = (
                    CertificateBatchItem.Status.ISSUED
                    if created
                    else CertificateBatchItem.Status.ALREADY
                )
                if certificate.rendered_at is None:
                    to_render.append(certificate.pk)
            item.finished_at = timezone.now()
            item.save(update_fields=["status", "error", "finished_at"])
    return to_render, batch_ids


def certificate_batch_finish(*, batch_id: int) -> bool:
    """Mark a batch finished once no item is pending; True when it did now."""
    with transaction.atomic():
        batch = CertificateBatch.objects.select_for_update().get(pk=batch_id)
        if batch.status == CertificateBatch.Status.DONE:
            return False
        if batch.items.filter(status=CertificateBatchItem.Status.PENDING).exists():
            return False
        batch.status = CertificateBatch.Status.DONE
        batch.finished_at = timezone.now()
        batch.save(update_fields=["status", "finished_at"])
        log(batch, "courses.certificate_batch.finished", user=None)
    return True


def batch_progress(*, batch: CertificateBatch) -> dict:
    """n of N, with counts per status (a selector, used by the admin page)."""
    from django.db.models import Count

    counts = dict(batch.items.values_list("status").annotate(n=Count("pk")).order_by())
    total = sum(counts.values())
    done = total - counts.get(CertificateBatchItem.Status.PENDING, 0)
    return {
        "total": total,
        "done": done,
        "issued": counts.get(CertificateBatchItem.Status.ISSUED, 0),
        "already": counts.get(CertificateBatchItem.Status.ALREADY, 0),
        "failed": counts.get(CertificateBatchItem.Status.FAILED, 0),
        "finished": batch.status == CertificateBatch.Status.DONE,
    }

"""The sweep: certificate work whose task was lost, enqueued again."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from courses.certificates.services.batches import (
    certificate_batch_chunks,
    certificate_batch_finish,
)
from courses.models import (
    Certificate,
    CertificateBatch,
    CertificateRequest,
    HoursLedgerEntry,
)

#: A render that failed this often is left for an administrator (last_error).
MAX_RENDER_ATTEMPTS = 5
#: Sources whose requests wait for a training manager's bulk run (an event's
#: organiser certifies the attendance as a whole, issue 6): the sweep leaves
#: them pending instead of issuing them one by one; it still finishes the
#: runs once started.
BULK_RUN_SOURCES = (HoursLedgerEntry.Source.EVENT,)


def certificates_sweep(*, older_than: timedelta = timedelta(minutes=2)) -> dict:
    """Beat: re-enqueue certificate work whose task was lost (decision 1).

    Pending requests are issued (except those of BULK_RUN_SOURCES, which
    wait for their bulk run), certificates without a PDF rendered (up to
    MAX_RENDER_ATTEMPTS), pending batch items processed. Only rows older than
    ``older_than`` are taken, to leave fresh work to its own task.
    """
    from courses.tasks import (
        issue_certificate,
        process_certificate_batch_items,
        render_certificate,
    )

    cutoff = timezone.now() - older_than
    requests = list(
        CertificateRequest.objects.filter(
            status=CertificateRequest.Status.PENDING, requested_at__lt=cutoff
        )
        .exclude(source_type__in=BULK_RUN_SOURCES)
        .values_list("pk", flat=True)[:1000]
    )
    for pk in requests:
        issue_certificate.delay(pk)
    unrendered = list(
        Certificate.objects.filter(
            rendered_at__isnull=True,
            issued_at__lt=cutoff,
            render_attempts__lt=MAX_RENDER_ATTEMPTS,
        ).values_list("pk", flat=True)[:1000]
    )
    for pk in unrendered:
        render_certificate.delay(pk)
    items = 0
    for batch_id in CertificateBatch.objects.filter(
        status=CertificateBatch.Status.RUNNING, created_at__lt=cutoff
    ).values_list("pk", flat=True):
        chunks = certificate_batch_chunks(batch_id=batch_id)
        for chunk in chunks:
            process_certificate_batch_items.delay(chunk)
            items += len(chunk)
        if not chunks:
            certificate_batch_finish(batch_id=batch_id)
    return {"requests": len(requests), "renders": len(unrendered), "items": items}

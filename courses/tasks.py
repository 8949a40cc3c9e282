"""Celery tasks of the courses app. Each takes ids, calls a service and may run
twice (docs/decisions.md, convention 4); the rows they work on are the
truth, and the beat sweep re-enqueues what a lost task left pending
(docs/decisions.md, decision 1)."""

import ctypes
import ctypes.util
import functools
import gc

from celery import shared_task
from celery.signals import task_postrun, worker_init, worker_process_init

#: Certificates laid out as one document in a bulk run. A chunk of the
#: fan-out (services.RENDER_CHUNK) is rendered in parts of this size, with
#: the memory released after each: a pool process's peak grows with the
#: pages it holds at once, while what a document costs whatever its length
#: (styles, fonts) is paid per part, a few ms. docs/performance.md,
#: "Certificates", has the figures.
RENDER_PART = 5


@worker_init.connect
def preload_certificate_rendering(**kwargs: object) -> None:
    """In the worker's main process, before the pool forks: WeasyPrint and
    the fonts are loaded once and shared by every pool process."""
    import logging

    from courses.certificates import rendering

    try:
        rendering.preload()
    except Exception:  # only a head start: each task loads what it needs
        logging.getLogger(__name__).exception("Certificate rendering not preloaded")
    # Python's garbage collector writes into every object it scans, which
    # would copy the pages a pool process shares with this one; frozen
    # objects (everything loaded so far) are never scanned.
    gc.freeze()


@functools.cache
def _malloc_trim():
    """glibc's malloc_trim, or None (another C library)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc.malloc_trim
    except (OSError, AttributeError):
        return None


def release_memory(**kwargs: object) -> None:
    """Give the memory a task freed back to the system.

    A rendering frees tens of MiB in blocks that glibc keeps in the process
    for later; returned, they no longer count against the worker, and the
    next task starts from the same footprint as the last (flat memory).
    """
    gc.collect()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@worker_process_init.connect
def release_memory_after_each_task(**kwargs: object) -> None:
    """In each pool process (not in the tests' eager runs): release_memory
    after every task."""
    task_postrun.connect(release_memory, weak=False, dispatch_uid="release_memory")


@shared_task(
    name="courses.tasks.issue_certificate",
    acks_late=True,
    autoretry_for=(Exception,),
    retry_backoff=5,
    max_retries=3,
)
def issue_certificate(request_id: int) -> None:
    """Issue the certificate of one request (and enqueue its PDF)."""
    from courses.certificates import rendering, services

    try:
        services.certificate_issue(request_id=request_id)
    except services.CertificateRequestCancelled:
        return  # its achievement was reversed: nothing to issue, nothing to retry
    except rendering.TemplateAssetError as error:
        # Not worth retrying: the template must be fixed; the sweep tries again.
        services.certificate_issue_failed(request_id=request_id, error=str(error))


@shared_task(
    name="courses.tasks.render_certificate",
    acks_late=True,
    autoretry_for=(Exception,),
    retry_backoff=5,
    max_retries=3,
)
def render_certificate(certificate_id: int) -> None:
    """Render, store and e-mail one certificate's PDF."""
    from courses.certificates import services

    services.certificate_render(certificate_id=certificate_id)


@shared_task(name="courses.tasks.run_certificate_batch", acks_late=True)
def run_certificate_batch(batch_id: int) -> int:
    """Fan a bulk run out into chunks, so every worker process takes part."""
    from courses.certificates import services

    chunks = services.certificate_batch_chunks(batch_id=batch_id)
    for chunk in chunks:
        process_certificate_batch_items.delay(chunk)
    if not chunks:
        services.certificate_batch_finish(batch_id=batch_id)
    return len(chunks)


@shared_task(name="courses.tasks.process_certificate_batch_items", acks_late=True)
def process_certificate_batch_items(item_ids: list[int]) -> None:
    """Issue and render one chunk of a bulk run, RENDER_PART at a time."""
    from courses.certificates import services

    for start in range(0, len(item_ids), RENDER_PART):
        services.certificate_batch_process(
            item_ids=item_ids[start : start + RENDER_PART]
        )
        if start + RENDER_PART < len(item_ids):
            release_memory()


@shared_task(name="courses.tasks.sweep_certificates")
def sweep_certificates() -> dict:
    """Beat, every minute: re-enqueue certificate work whose task was lost."""
    from courses.certificates import services

    return services.certificates_sweep()


@shared_task(name="courses.tasks.remind_expiring_certificates")
def remind_expiring_certificates() -> int:
    """Beat, daily: the expiry reminder e-mails."""
    from courses.certificates import services

    return services.certificates_expiry_remind()


@shared_task(name="courses.tasks.measure_document", acks_late=True)
def measure_document(document_id: int, reread: bool = False) -> None:
    """Read a saved document's video length or page count (courses.media)."""
    from courses import media

    media.media_facts_measure(document_id=document_id, reread=reread)

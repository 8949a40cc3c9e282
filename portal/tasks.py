"""Celery tasks of the portal. Each takes ids, calls a service and may run twice."""

from contextlib import suppress
from typing import TYPE_CHECKING

from celery import Task, shared_task

from django.conf import settings
from django.core.management import call_command

if TYPE_CHECKING:
    from portal.services import EmailBatchReport


@shared_task(name="portal.tasks.deliver_email", acks_late=True, bind=True)
def deliver_email(self: Task, email_id: int) -> None:
    """Deliver an outbox e-mail and, over the same connection, other pending
    ones (portal.services.email_deliver_batch). Kept for messages enqueued
    before batches: nothing enqueues it any more. A no-op when the e-mail was
    already sent by another batch."""
    from portal import services
    from portal.models import OutgoingEmail

    still_pending = OutgoingEmail.objects.filter(
        pk=email_id, status=OutgoingEmail.Status.PENDING
    ).exists()
    report = services.email_deliver_batch(email_ids=[email_id], fill=still_pending)
    _follow_up(self, report)


@shared_task(name="portal.tasks.deliver_email_batch", acks_late=True, bind=True)
def deliver_email_batch(self: Task, email_ids: list[int] | None = None) -> None:
    """Deliver these outbox e-mails (and, with room left, other pending ones)
    over one connection (portal.services.email_deliver_batch). A row sent by
    another batch meanwhile is skipped, so it may run twice."""
    from django.core.cache import cache

    from portal import services

    # From now on, e-mails committed after this batch's query need a task
    # of their own (services._DeliveryOnCommit).
    with suppress(Exception):
        cache.delete(services.QUEUED_KEY)
    _follow_up(self, services.email_deliver_batch(email_ids=email_ids or []))


def _follow_up(task: Task, report: "EmailBatchReport") -> None:
    """Enqueue the retries a batch left: rows that failed for now, after
    their backoff; rows deferred (the per-minute cap, a broken connection),
    when they may go; and, after a full batch, the next one at once (more
    may be waiting than one batch takes). Not when run eagerly (the tests):
    a retry would run at once, not later; the beat sweep catches the rest."""
    from portal import services

    if task.request.is_eager:
        return
    waits: dict[int, list[int]] = {}
    for email_id, attempts in report.retry.items():
        delay = services.email_retry_delay(attempts=attempts)
        waits.setdefault(delay, []).append(email_id)
    if report.deferred:
        waits.setdefault(report.deferred_for, []).extend(report.deferred)
    elif report.taken >= settings.PORTAL_EMAIL_BATCH_SIZE:
        waits.setdefault(0, [])
    for delay, ids in waits.items():
        # A broker that is down is logged: the rows wait for the sweep.
        deliver_email_batch._send_logged(
            deliver_email_batch.apply_async, (ids,), countdown=delay
        )


@shared_task(name="portal.tasks.sweep_outgoing_email")
def sweep_outgoing_email() -> int:
    """Beat: re-enqueue outbox e-mails whose delivery task was lost."""
    from portal import services

    return len(services.email_sweep())


@shared_task(name="portal.tasks.purge_sent_email")
def purge_sent_email() -> int:
    """Beat, daily: delete sent e-mails past PORTAL_EMAIL_RETENTION_DAYS."""
    from portal import services

    return services.email_purge_sent()


@shared_task(name="portal.tasks.publish_scheduled_pages")
def publish_scheduled_pages() -> None:
    """Beat, every minute: Wagtail's go-live and expiry of scheduled pages."""
    call_command("publish_scheduled", verbosity=0)


@shared_task(name="portal.tasks.clear_expired_sessions")
def clear_expired_sessions() -> None:
    call_command("clearsessions")


@shared_task(name="portal.tasks.run_django_task", acks_late=True)
def run_django_task(module_path: str, args: list, kwargs: dict) -> None:
    """Run one of Wagtail's django-tasks in the worker (portal.tasks_backend).
    Only a task of PORTAL_DJANGO_TASKS runs; any other message is logged and
    dropped (tasks_backend.run_message), never retried."""
    from portal.tasks_backend import run_message

    run_message(module_path, args, kwargs)


@shared_task(
    name="portal.tasks.import_job_check",
    acks_late=True,
    soft_time_limit=60 * 60,
    time_limit=65 * 60,
)
def import_job_check(job_id: int) -> None:
    """Read and check an uploaded spreadsheet (portal.import_jobs)."""
    from portal import import_jobs

    import_jobs.import_job_check_run(job_id=job_id)


@shared_task(
    name="portal.tasks.import_job_write",
    acks_late=True,
    soft_time_limit=60 * 60,
    time_limit=65 * 60,
)
def import_job_write(job_id: int) -> None:
    """Check a confirmed spreadsheet again and write it (portal.import_jobs)."""
    from portal import import_jobs

    import_jobs.import_job_write_run(job_id=job_id)

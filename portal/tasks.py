"""Celery tasks of the portal. Each takes ids, calls a service and may run twice."""

from celery import shared_task

from django.core.management import call_command


@shared_task(name="portal.tasks.deliver_email", acks_late=True)
def deliver_email(email_id: int) -> None:
    """Deliver one outbox e-mail (portal.services.email_deliver)."""
    from portal import services

    services.email_deliver(email_id=email_id)


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

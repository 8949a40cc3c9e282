"""Celery tasks of subscriptions. Each takes ids, calls a service and may run
twice (subscriptions.services says why a second run sends nothing)."""

from celery import shared_task

from django.conf import settings


@shared_task(name="subscriptions.tasks.send_announcement_batch", acks_late=True)
def send_announcement_batch(announcement_id: int, first: int, last: int) -> int:
    """Write the outbox e-mails of one batch of an announcement's deliveries,
    then mark the announcement sent if that was the last pending batch."""
    from subscriptions import services

    count = services.announcement_batch_send(
        announcement_id=announcement_id, first=first, last=last
    )
    # After the batch's commit, so the last batch to commit sees none pending.
    services.announcement_finish(announcement_id=announcement_id)
    return count


@shared_task(name="subscriptions.tasks.deliver_announcement_emails", acks_late=True)
def deliver_announcement_emails(email_ids: list[int]) -> None:
    """Deliver a batch's outbox e-mails over one connection. Kept for
    messages enqueued before the outbox delivered in batches: batches now
    enqueue portal.tasks.deliver_email_batch. An e-mail no longer pending is
    skipped; a lost task is caught by the outbox's own sweep."""
    from portal.tasks import deliver_email_batch

    size = settings.PORTAL_EMAIL_BATCH_SIZE
    for n in range(0, len(email_ids), size):
        deliver_email_batch.delay(email_ids[n : n + size])


@shared_task(name="subscriptions.tasks.sweep_announcements")
def sweep_announcements() -> int:
    """Beat: finish announcements with nothing pending; re-enqueue lost batches."""
    from subscriptions import services

    return len(services.announcement_sweep())


@shared_task(name="subscriptions.tasks.send_scheduled_announcements")
def send_scheduled_announcements() -> int:
    """Beat, at second 0 of every minute: send the scheduled announcements
    whose minute has come (each once, under its row lock)."""
    from subscriptions import services

    return len(services.announcement_send_due())


@shared_task(name="subscriptions.tasks.purge_email_subscribers")
def purge_email_subscribers() -> int:
    """Beat, daily: delete unconfirmed sign-ups and withdrawn subscribers
    without an account after services.EMAIL_SUBSCRIBER_PURGE_AFTER."""
    from subscriptions import services

    return services.email_subscribers_purge()

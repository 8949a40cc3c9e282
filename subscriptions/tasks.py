"""Celery tasks of subscriptions. Each takes ids, calls a service and may run
twice (subscriptions.services says why a second run sends nothing)."""

from celery import shared_task


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
    """Deliver a batch's outbox e-mails, one task for the batch instead of one
    per e-mail. portal.services.email_deliver skips an e-mail no longer
    pending; a lost task is caught by the outbox's own sweep."""
    from portal import services

    for email_id in email_ids:
        services.email_deliver(email_id=email_id)


@shared_task(name="subscriptions.tasks.sweep_announcements")
def sweep_announcements() -> int:
    """Beat: finish announcements with nothing pending; re-enqueue lost batches."""
    from subscriptions import services

    return len(services.announcement_sweep())

"""The events app's Celery tasks: each part's tasks module is imported here
so that the worker's autodiscovery finds them; and the tasks that
events.registration.services enqueue themselves (telling registrants of a
new time or place or of the cancellation, and staff's messages to them),
here rather than in events/registration/tasks.py so that the services and
the tasks that call them do not import each other. Each takes ids and may
run twice."""

from celery import shared_task

from events.registration import tasks as _registration  # noqa: F401


@shared_task(name="events.tasks.notify_registrants", acks_late=True)
def notify_registrants(event_id: int) -> int:
    """E-mail an event's registrants its new time and place, or its
    cancellation (whichever its current sequence is); how many e-mailed.
    A rerun e-mails nobody twice."""
    from events.registration import services

    return services.registrations_notify(event_id=event_id)


@shared_task(name="events.tasks.send_event_message", acks_late=True)
def send_event_message(message_id: int) -> int:
    """Write a staff message's e-mails to the outbox, batch after batch; how
    many batches this run wrote. A rerun resumes after the last batch."""
    from events.registration import services

    batches = 0
    while True:
        batches += 1
        if services.event_message_batch(message_id=message_id):
            return batches

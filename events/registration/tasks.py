"""Registration's background work: the reminder the day before (beat, each
morning, CELERY_BEAT_SCHEDULE) and filling freed places from the waiting
list after an editor adds places. Each takes ids and may run twice. The
tasks the registration services enqueue themselves (a new time or place,
a cancellation, staff's messages) are in events/tasks.py, so that
services and tasks here do not import each other."""

from celery import shared_task


@shared_task(name="events.registration.tasks.send_event_reminders", acks_late=True)
def send_event_reminders() -> int:
    """Remind confirmed registrants of tomorrow's events (Asia/Shanghai);
    how many were reminded. A rerun sends nobody a second reminder."""
    from events.registration import services

    return len(services.registrations_remind_due())


@shared_task(
    name="events.registration.tasks.promote_waiting_registrations",
    acks_late=True,
)
def promote_waiting_registrations(event_id: int) -> int:
    """Give an event's free places to its waiting list; how many promoted."""
    from events.registration import services

    return len(services.registrations_promote(event_id=event_id))

"""The talent pool's scheduled work (CELERY_BEAT_SCHEDULE). Celery's
autodiscovery imports this module; the tasks of the app's packages are
imported here so that the worker knows them."""

from celery import shared_task

from talentpool.applications.tasks import reconfirmation_sweep

__all__ = [
    "contact_requests_expire",
    "contact_requests_purge",
    "reconfirmation_sweep",
]


@shared_task(name="talentpool.tasks.contact_requests_expire", acks_late=True)
def contact_requests_expire() -> int:
    """Expire pending contact requests whose date to answer by has passed
    (Asia/Shanghai). May run any number of times."""
    from talentpool.contacts import services

    return services.contact_requests_expire()


@shared_task(name="talentpool.tasks.contact_requests_purge", acks_late=True)
def contact_requests_purge() -> int:
    """Remove the message and note of contact requests older than
    CONTACT_REQUEST_RETENTION_DAYS (daily, CELERY_BEAT_SCHEDULE). May run
    any number of times."""
    from talentpool.contacts import services

    return services.contact_requests_purge()

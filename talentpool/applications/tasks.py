"""The yearly reconfirmation, run daily by Celery beat
(CELERY_BEAT_SCHEDULE "talentpool-reconfirmation")."""

from celery import shared_task


@shared_task(name="talentpool.applications.tasks.reconfirmation_sweep", acks_late=True)
def reconfirmation_sweep() -> list[int]:
    """Ask experts due to reconfirm and hide those who lapsed. Idempotent:
    the rows say who was asked and who lapsed, so a second run does nothing."""
    from talentpool.applications import services

    asked, lapsed = services.reconfirmation_sweep()
    return [asked, lapsed]

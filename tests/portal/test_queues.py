"""Each kind of work goes to its own Celery queue (portal/queues.py): a batch
of certificate renders cannot hold up a sign-up's confirmation e-mail."""

from django.conf import settings

from portal import queues
from portal.celery import app


def queue_of(task_name: str) -> str:
    return app.amqp.router.route({}, task_name)["queue"].name


def test_certificates_email_and_the_rest_go_to_three_queues():
    default = settings.CELERY_TASK_DEFAULT_QUEUE
    assert queue_of("courses.tasks.render_certificate") == f"{default}.certificates"
    assert queue_of("courses.tasks.run_certificate_batch") == f"{default}.certificates"
    assert queue_of("portal.tasks.deliver_email") == f"{default}.email"
    assert (
        queue_of("subscriptions.tasks.deliver_announcement_emails")
        == f"{default}.email"
    )
    assert queue_of("courses.tasks.sweep_certificates") == default
    assert queue_of("portal.tasks.import_job_write") == default


def test_production_names_the_queues_as_the_deployment_guide_does():
    assert queues.all_queues("celery") == ["celery", "certificates", "email"]


def test_every_routed_task_exists():
    """A renamed task would fall silently into the default queue."""
    app.loader.import_default_modules()
    names = set(app.tasks)
    for patterns in queues.ROUTED_TASKS.values():
        for pattern in patterns:
            prefix = pattern.rstrip("*")
            assert any(
                name == pattern or (pattern.endswith("*") and name.startswith(prefix))
                for name in names
            ), pattern

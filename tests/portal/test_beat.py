"""Every job on the beat schedule is a task the worker knows: a name the
worker does not know would be dropped every time beat sends it."""

from portal.celery import app


def test_every_scheduled_task_is_registered_in_the_worker(settings):
    app.loader.import_default_modules()
    unknown = {
        key: entry["task"]
        for key, entry in settings.CELERY_BEAT_SCHEDULE.items()
        if entry["task"] not in app.tasks
    }
    assert unknown == {}

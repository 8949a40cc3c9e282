"""The Celery app, configured from Django settings under the CELERY_ namespace.

Celery is only the trigger (DESIGN.md decision 1): every job is a row first and
a beat sweep re-enqueues what a lost message left pending.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.dev")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_finalize.connect
def _make_broker_folders(sender: Celery, **kwargs: object) -> None:
    """The filesystem transport needs its folders to exist before it polls."""
    options = sender.conf.broker_transport_options or {}
    for key in (
        "data_folder_in",
        "data_folder_out",
        "processed_folder",
        "control_folder",
    ):
        if options.get(key):
            os.makedirs(options[key], exist_ok=True)

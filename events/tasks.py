"""The events app's Celery tasks: each part's tasks module is imported here
so that the worker's autodiscovery finds them."""

from events.registration import tasks as _registration  # noqa: F401

"""The portal project package: settings, URLs, the Celery app and the site-wide
pages, accounts and settings that courses and the talent pool share."""

from .celery import app as celery_app

__all__ = ["celery_app"]

"""Production settings for a gunicorn that tests/portal/test_fault_database.py
starts against the test database: everything as deployed (the database's
CONN_MAX_AGE and CONN_HEALTH_CHECKS included), except the static files'
manifest, which a deployment's collectstatic writes and a test does not,
and the site rows kept per process (portal/sites.py): between two tests the
test database is emptied and filled again, new home page and all, which no
signal reports to this process."""

from portal.settings.production import *  # noqa: F403
from portal.settings.production import STORAGES

STORAGES["staticfiles"] = {
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
}
PORTAL_SITE_CACHE_SECONDS = 0

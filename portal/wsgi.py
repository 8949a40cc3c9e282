"""WSGI entry point for gunicorn and runserver.

Production settings unless DJANGO_SETTINGS_MODULE says otherwise (manage.py).
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.production")

application = get_wsgi_application()

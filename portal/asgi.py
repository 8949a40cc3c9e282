"""ASGI entry point, for servers that speak ASGI (uvicorn, daphne).

Production settings unless DJANGO_SETTINGS_MODULE says otherwise (manage.py).
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.production")

application = get_asgi_application()

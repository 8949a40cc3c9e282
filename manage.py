#!/usr/bin/env python
"""Django's command-line utility for the portal.

Without DJANGO_SETTINGS_MODULE it runs on production settings: a server
whose environment lost the variable must not come up with DEBUG on and a
demo loader at hand. `make run`, `make test` and the docs choose dev or test
settings explicitly (docs/configuration.md, "Settings modules").
"""

import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.production")
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        settings.INSTALLED_APPS  # noqa: B018 - loads the settings module
    except ImproperlyConfigured as error:
        # A missing variable is the operator's to fix: say which one and where
        # it is documented, without a traceback through django-environ.
        sys.exit(f"{os.environ['DJANGO_SETTINGS_MODULE']}: {error}")
    execute_from_command_line(sys.argv)

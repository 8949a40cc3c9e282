from importlib import import_module

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _


class Command(BaseCommand):
    help = (
        "Load the demo site (idempotent: only what is missing is created). Each app "
        "with a `demo` module offering load_demo_content() adds its part, in the "
        "order of INSTALLED_APPS."
    )

    def handle(self, *args, **options) -> None:
        # The demo's accounts sign in with passwords printed in the README, and
        # one is a verified enterprise that may ask for experts' contacts: on a
        # real site they would be open doors. Only dev and test settings allow it.
        if not getattr(settings, "PORTAL_DEMO_ALLOWED", False):
            raise CommandError(
                _(
                    "The demo content is refused under these settings (%(module)s): "
                    "it creates accounts whose passwords are public and a verified "
                    "enterprise. Load it on a development machine, with "
                    "DJANGO_SETTINGS_MODULE=portal.settings.dev."
                )
                % {"module": settings.SETTINGS_MODULE}
            )
        created: list[str] = []
        for config in apps.get_app_configs():
            try:
                module = import_module(f"{config.name}.demo")
            except ModuleNotFoundError as error:
                if error.name != f"{config.name}.demo":
                    raise
                continue
            loader = getattr(module, "load_demo_content", None)
            if loader is not None:
                created += loader()
        if created:
            self.stdout.write(f"Demo content: created {len(created)} items.")
        else:
            self.stdout.write("Demo content: already loaded, nothing changed.")

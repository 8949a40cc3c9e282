from importlib import import_module

from django.apps import apps
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Load the demo site (idempotent: only what is missing is created). Each app "
        "with a `demo` module offering load_demo_content() adds its part, in the "
        "order of INSTALLED_APPS."
    )

    def handle(self, *args, **options) -> None:
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

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
        # The 4·26 campaign and its events last: their attendees' hours go to
        # the courses app's ledger (portal.events has no demo module of its own).
        from portal.demo.events import load_demo_events

        created += load_demo_events()
        if created:
            self.stdout.write(f"Demo content: created {len(created)} items.")
        else:
            self.stdout.write("Demo content: already loaded, nothing changed.")

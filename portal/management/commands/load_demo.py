from django.core.management.base import BaseCommand

from portal.demo.content import load_demo_content


class Command(BaseCommand):
    help = "Load the demo site (idempotent: only what is missing is created)."

    def handle(self, *args, **options) -> None:
        created = load_demo_content()
        if created:
            self.stdout.write(f"Demo content: created {len(created)} pages.")
        else:
            self.stdout.write("Demo content: already loaded, nothing changed.")

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EventsConfig(AppConfig):
    name = "events"
    label = "events"
    verbose_name = _("Events")

    def ready(self) -> None:
        from courses.evidence import register_source_records
        from courses.models import HoursLedgerEntry
        from events import campaigns, evidence
        from portal.home import register_home_section

        register_home_section(campaigns.home_section)
        register_source_records(
            HoursLedgerEntry.Source.EVENT, evidence.registration_records
        )

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EventsConfig(AppConfig):
    name = "events"
    label = "events"
    verbose_name = _("Events")

    def ready(self) -> None:
        from events import campaigns
        from portal.home import register_home_section

        register_home_section(campaigns.home_section)

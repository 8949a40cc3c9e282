from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EventsConfig(AppConfig):
    name = "events"
    label = "events"
    verbose_name = _("Events")

    def ready(self) -> None:
        from courses.evidence import register_source_records
        from courses.models import HoursLedgerEntry
        from events import campaigns, evidence, selectors
        from portal.home import register_home_section
        from portal.privacy import register_personal_data

        register_home_section(campaigns.home_section)
        register_source_records(
            HoursLedgerEntry.Source.EVENT, evidence.registration_records
        )
        # "Download my data" and account deletion (portal.privacy).
        register_personal_data(
            "events",
            export=selectors.personal_data,
            erase=_erase_registrations,
        )


def _erase_registrations(*, user: Any) -> None:
    """Account deletion: upcoming registrations cancelled (their places go
    to the waiting list), and the phone numbers given with any of them
    forgotten (the attendance record stays)."""
    from events.models import Registration
    from events.registration import services as registration_services

    registration_services.registrations_cancel_upcoming(user=user)
    Registration.objects.filter(user=user).exclude(phone="").update(phone="")

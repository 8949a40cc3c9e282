"""What the events app shows as training evidence (courses.evidence): the
registration and check-in an event's hours and certificate rest on."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from courses.evidence import Table, person, shanghai
from events.models import Registration


def registration_records(*, user: Any, source_key: int, title: str) -> list[Table]:
    """The evidence of an event attended (courses.evidence, registered in
    EventsConfig.ready): the learner's registrations for the event (a
    cancelled one and a new one are two rows), with the check-in and any
    reversal."""
    table = Table(
        key="checkin",
        title=_("Registration and check-in"),
        caption=_(
            "The learner's registrations for the event: who scanned the "
            "check-in code and when, and any reversal of the check-in with "
            "who reversed it, when and why."
        ),
        headings=[
            _("Event"),
            _("Registration"),
            _("Registered"),
            _("Checked in"),
            _("Scanned by"),
            _("Check-in reversed"),
            _("Reversed by"),
            _("Why the check-in was reversed"),
        ],
        empty=_("No registration of this learner for the event was found."),
    )
    registrations = (
        Registration.objects.filter(user=user, event_id=source_key)
        .select_related("checked_in_by", "checkin_reversed_by")
        .order_by("created_at", "pk")
    )
    for registration in registrations:
        table.rows.append(
            [
                registration.event_title or title,
                registration.get_status_display(),
                shanghai(registration.created_at),
                shanghai(registration.checked_in_at),
                person(registration.checked_in_by),
                shanghai(registration.checkin_reversed_at),
                person(registration.checkin_reversed_by),
                registration.checkin_reversal_reason,
            ]
        )
    return [table]

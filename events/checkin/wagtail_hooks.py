"""Check-in's admin hooks (imported by events/wagtail_hooks.py): the
log message of a check-in, and two buttons on each event in the page tree —
its check-in station, and the bulk run that issues its attendees'
certificates (the certificates admin, given this event as the source)."""

from typing import Any

from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wagtail import hooks
from wagtail.admin import widgets
from wagtail.log_actions import LogFormatter

from courses.models import HoursLedgerEntry
from events.checkin.selectors import can_check_in
from events.checkin.services import LOG_CHECKED_IN, LOG_CHECKIN_REVERSED
from events.models import EventPage


def _buttons(page: Any, user: Any, priority: int) -> Any:
    if not issubclass(page.specific_class or type(page), EventPage):
        return
    if can_check_in(user=user, event=page):
        yield widgets.Button(
            _("Check-in"),
            reverse("events:checkin_event", args=[page.pk]),
            icon_name="tick",
            priority=priority,
        )
    if user.has_perm("courses.add_certificatebatch"):
        source = f"{HoursLedgerEntry.Source.EVENT}:{page.pk}"
        yield widgets.Button(
            _("Attendance certificates"),
            reverse("certificate_batches:add") + "?" + urlencode({"source": source}),
            icon_name="doc-full",
            priority=priority + 1,
        )


@hooks.register("register_page_header_buttons")
def checkin_header_buttons(page, user, view_name, next_url=None):
    yield from _buttons(page, user, 46)


@hooks.register("register_page_listing_more_buttons")
def checkin_listing_buttons(page, user, next_url=None):
    yield from _buttons(page, user, 46)


@hooks.register("register_log_actions")
def register_checkin_log_actions(actions):
    @actions.register_action(LOG_CHECKED_IN)
    class CheckedIn(LogFormatter):
        label = gettext_lazy("Check in")

        def format_message(self, log_entry) -> str:
            data = log_entry.data or {}
            title = data.get("title")
            if title and data.get("again"):
                return _("Checked in again at %(event)s") % {"event": title}
            if title:
                return _("Checked in at %(event)s") % {"event": title}
            return _("Checked in")

    @actions.register_action(LOG_CHECKIN_REVERSED)
    class CheckInReversed(LogFormatter):
        label = gettext_lazy("Reverse check-in")

        def format_message(self, log_entry) -> str:
            data = log_entry.data or {}
            return _("Check-in at %(event)s reversed: %(reason)s") % {
                "event": data.get("title", ""),
                "reason": data.get("reason", ""),
            }

"""What talentpool/wagtail_hooks.py registers for applications: the log
actions on an application's and an expert's history, and the number of
applications waiting on the admin dashboard."""

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wagtail.admin.site_summary import SummaryItem
from wagtail.log_actions import LogFormatter

from talentpool.applications import services


class ApplicationsSummaryItem(SummaryItem):
    order = 450
    template_name = "talentpool/applications/admin/summary_item.html"

    def get_context_data(self, parent_context: Any) -> dict[str, Any]:
        return {"total": services.open_applications_count()}


def _with_reason(message: str, log_entry: Any) -> str:
    reason = (log_entry.data or {}).get("reason")
    if reason:
        message += " " + _("Reason: %(reason)s") % {"reason": reason}
    return message


def register_log_actions(actions: Any) -> None:
    @actions.register_action(services.LOG_SUBMITTED)
    class Submitted(LogFormatter):
        label = gettext_lazy("Submit application")

        def format_message(self, log_entry: Any) -> str:
            data = log_entry.data or {}
            if data.get("kind") == "change":
                return _("Changes to verified fields sent for review.")
            if data.get("resubmitted"):
                return _("Application corrected and sent again.")
            return _("Application sent for review.")

    @actions.register_action(services.LOG_APPROVED)
    class Approved(LogFormatter):
        label = gettext_lazy("Approve application")

        def format_message(self, log_entry: Any) -> str:
            if (log_entry.data or {}).get("kind") == "change":
                return _("Changes approved: the profile is verified again.")
            return _("Application approved: the expert is verified.")

    @actions.register_action(services.LOG_REJECTED)
    class Rejected(LogFormatter):
        label = gettext_lazy("Reject application")

        def format_message(self, log_entry: Any) -> str:
            return _with_reason(_("Application rejected."), log_entry)

    @actions.register_action(services.LOG_CHANGES_REQUESTED)
    class ChangesRequested(LogFormatter):
        label = gettext_lazy("Request changes")

        def format_message(self, log_entry: Any) -> str:
            return _with_reason(_("Changes requested."), log_entry)

    actions.register_action(
        services.LOG_WITHDRAWN,
        gettext_lazy("Withdraw application"),
        gettext_lazy("Application withdrawn by the applicant."),
    )

    @actions.register_action(services.LOG_PROFILE_UPDATED)
    class ProfileUpdated(LogFormatter):
        label = gettext_lazy("Update profile")

        def format_message(self, log_entry: Any) -> str:
            fields = ", ".join((log_entry.data or {}).get("fields", []))
            return _("The expert changed: %(fields)s.") % {"fields": fields}

    actions.register_action(
        services.LOG_CONSENT_GIVEN,
        gettext_lazy("Give consent"),
        gettext_lazy("Consent to publication given."),
    )
    actions.register_action(
        services.LOG_CONSENT_WITHDRAWN,
        gettext_lazy("Withdraw consent"),
        gettext_lazy("Consent to publication withdrawn: the profile is hidden."),
    )
    actions.register_action(
        services.LOG_RECONFIRMED,
        gettext_lazy("Confirm profile"),
        gettext_lazy("The profile was confirmed as current."),
    )
    actions.register_action(
        services.LOG_RECONFIRMATION_REQUESTED,
        gettext_lazy("Ask to reconfirm"),
        gettext_lazy("Asked to confirm the profile is current."),
    )
    actions.register_action(
        services.LOG_LAPSED,
        gettext_lazy("Lapse"),
        gettext_lazy("Not confirmed within a year: the profile is hidden."),
    )

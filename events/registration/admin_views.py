"""The organisers' attendee list in the admin: one event's registrations
on a screen, and as an XLSX download. Reached from the event in the page
tree (a header button and a listing action, wagtail_hooks.py).

Who may see it: superusers, and staff whose group may view registrations
(“Can view registration” in the group's settings). The list holds e-mail
addresses (docs/decisions.md, decision 3): nobody else reaches it.
"""

from typing import Any

from openpyxl import Workbook

from django.http import FileResponse, Http404, HttpRequest, HttpResponseBase
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView

from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.views.generic.permissions import PermissionCheckedMixin
from wagtail.permissions import policy_registry

from events.checkin.selectors import can_check_in
from events.models import EventPage, Registration
from events.registration import selectors, services
from portal.exports import export_log, sheet_title, xlsx_response, xlsx_row

PERMISSIONS = ["view", "change"]


def can_view_attendees(user) -> bool:
    return policy_registry.get_by_type(Registration).user_has_any_permission(
        user, PERMISSIONS
    )


def export_headings() -> list[str]:
    return [
        gettext("Name"),
        gettext("E-mail"),
        gettext("Organisation"),
        gettext("Status"),
        gettext("Registered at"),
        gettext("Confirmed at"),
        gettext("Waiting since"),
        gettext("Checked in at"),
        gettext("Cancelled at"),
        gettext("Check-in reversed at"),
        gettext("Why the check-in was reversed"),
    ]


def _local(value):
    # XLSX has no time zones: write the time as read in Shanghai.
    return timezone.localtime(value) if value is not None else None


def export_row(registration: Registration) -> list[Any]:
    user = registration.user
    return [
        user.real_name,
        user.email,
        user.organisation,
        registration.get_status_display(),
        _local(registration.created_at),
        _local(registration.confirmed_at),
        _local(registration.waiting_since),
        _local(registration.checked_in_at),
        _local(registration.cancelled_at),
        _local(registration.checkin_reversed_at),
        registration.checkin_reversal_reason,
    ]


class AttendeesView(PermissionCheckedMixin, WagtailAdminTemplateMixin, TemplateView):
    """One event's registrations; `?export=xlsx` downloads them."""

    model = Registration
    any_permission_required = PERMISSIONS
    template_name = "events/registration/admin/attendees.html"
    header_icon = "group"
    page_title = _("Registrations")

    @cached_property
    def event(self) -> EventPage:
        event_id = self.kwargs["event_id"]
        event = (
            EventPage.objects.filter(pk=event_id).first()
            if event_id <= services.MAX_ID
            else None
        )
        if event is None:
            raise Http404
        return event

    def get_page_subtitle(self) -> str:
        return self.event.title

    def get_breadcrumbs_items(self) -> list[dict[str, Any]]:
        parent = self.event.get_parent()
        return [
            *self.breadcrumbs_items,
            {
                "url": reverse("wagtailadmin_explore", args=[parent.pk]),
                "label": parent.title,
            },
            {
                "url": reverse("wagtailadmin_pages:edit", args=[self.event.pk]),
                "label": self.event.title,
            },
            {"url": "", "label": gettext("Registrations")},
        ]

    def get(  # type: ignore[override]  # the export is a FileResponse
        self, request: HttpRequest, *args: Any, **kwargs: Any
    ) -> HttpResponseBase:
        if request.GET.get("export") == "xlsx":
            return self.xlsx_response()
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        registrations = list(selectors.event_attendees(event_id=self.event.pk))
        status = Registration.Status
        context.update(
            event=self.event,
            registrations=registrations,
            confirmed=sum(r.status == status.CONFIRMED for r in registrations),
            waiting=sum(r.status == status.WAITING for r in registrations),
            # A reversed check-in (scanned by mistake) does not count.
            checked_in=sum(
                r.checked_in_at is not None and r.checkin_reversed_at is None
                for r in registrations
            ),
            export_url="?export=xlsx",
            # Who may check in may reverse a check-in (events.checkin).
            may_reverse=can_check_in(user=self.request.user, event=self.event),
            back=self.request.get_full_path(),
        )
        return context

    def xlsx_response(self) -> FileResponse:
        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet(
            title=sheet_title(gettext("Registrations"), set())
        )
        sheet.freeze_panes = "A2"
        sheet.append(export_headings())
        rows = 0
        for registration in selectors.event_attendees(event_id=self.event.pk).iterator(
            chunk_size=500
        ):
            sheet.append(xlsx_row(sheet, export_row(registration)))
            rows += 1
        # In the event page's history and Reports › Site history.
        export_log(
            request=self.request,
            instance=self.event,
            what=gettext_noop("Event registrations"),
            file_format="xlsx",
            rows=rows,
        )
        filename = (
            f"registrations-{self.event.pk}-{timezone.localdate().isoformat()}.xlsx"
        )
        return xlsx_response(workbook, filename=filename)

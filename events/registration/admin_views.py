"""The organisers' attendee list in the admin: one event's registrations,
searched (name, e-mail, check-in code), filtered by status and paged on a
screen, and the filtered list as an XLSX or CSV download; messaging the
event's registrants; cancelling the event. Reached from the event in the
page tree (a header button and a listing action, wagtail_hooks.py).

Who may see an event's list: superusers, and staff whose group may view
registrations (“Can view registration”) and who may edit that event's page
(selectors.can_view_event_attendees): the model permission alone opens no
event. Messaging and cancelling also need permission to publish the page.
The list holds e-mail addresses (docs/decisions.md, decision 3): nobody
else reaches it; another event's URL answers 403.
"""

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

from openpyxl import Workbook

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    StreamingHttpResponse,
)
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.functional import cached_property
from django.utils.translation import gettext, gettext_noop, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.defaults import permission_denied
from django.views.generic import TemplateView

from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.views.generic.permissions import PermissionCheckedMixin
from wagtail.permissions import policy_registry

from events.checkin.selectors import can_check_in
from events.models import EventMessage, EventPage, Registration
from events.registration import selectors, services
from portal.exports import (
    csv_stream,
    export_log,
    sheet_title,
    xlsx_response,
    xlsx_row,
)

PERMISSIONS = ["view", "change"]


#: Rows on one screen of the attendee list.
PER_PAGE = 50


def can_view_attendees(user) -> bool:
    """Whether the user may open some event's attendee list (the model
    permission); which events: selectors.can_view_event_attendees."""
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


class NotThisEvent(Exception):
    """The user may not open this event's screens (answered 403)."""


class EventAdminMixin(PermissionCheckedMixin, WagtailAdminTemplateMixin):
    """One event's screens: the model permission (PermissionCheckedMixin:
    without it, back to the admin's home), then the event's own
    (can_view_event_attendees, or the stricter `event_check`): 403, not
    the admin's redirect, so that a request for another event's list is
    plainly refused."""

    model = Registration
    any_permission_required = PERMISSIONS
    header_icon = "group"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().dispatch(request, *args, **kwargs)
        except NotThisEvent as refused:
            return permission_denied(request, PermissionDenied(str(refused)))

    def event_check(self, user: Any, event: EventPage) -> bool:
        return selectors.can_view_event_attendees(user=user, event=event)

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
        if not self.event_check(self.request.user, event):
            raise NotThisEvent
        return event

    def get_page_subtitle(self) -> str:
        return self.event.title

    def attendees_url(self) -> str:
        return reverse("events_registration_attendees", args=[self.event.pk])

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
            {"url": self.attendees_url(), "label": gettext("Registrations")},
        ]


class AttendeesView(EventAdminMixin, TemplateView):
    """One event's registrations, searched, filtered and paged;
    `?export=xlsx` or `?export=csv` downloads the filtered list."""

    template_name = "events/registration/admin/attendees.html"
    page_title = _("Registrations")

    def get_breadcrumbs_items(self) -> list[dict[str, Any]]:
        items = super().get_breadcrumbs_items()
        items[-1] = {"url": "", "label": gettext("Registrations")}
        return items

    @cached_property
    def search(self) -> str:
        return " ".join(self.request.GET.get("q", "").split())[:100]

    @cached_property
    def status(self) -> str:
        status = self.request.GET.get("status", "")
        return status if status in selectors.STATUS_FILTERS else ""

    def filtered(self) -> QuerySet[Registration]:
        return selectors.event_attendees(
            event_id=self.event.pk, search=self.search, status=self.status
        )

    def filters_query(self) -> str:
        """The search and status as a query string (for paging and exports)."""
        values = {"q": self.search, "status": self.status}
        return urlencode({k: v for k, v in values.items() if v})

    def get(  # type: ignore[override]  # the export is a FileResponse
        self, request: HttpRequest, *args: Any, **kwargs: Any
    ) -> HttpResponseBase:
        self.event  # noqa: B018 - 404 or 403 before anything else
        export = request.GET.get("export")
        if export == "xlsx":
            return self.xlsx_response()
        if export == "csv":
            return self.csv_response()
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        paginator = Paginator(self.filtered(), PER_PAGE)
        page = paginator.get_page(self.request.GET.get("p"))
        counts = selectors.event_attendee_counts(event_id=self.event.pk)
        query = self.filters_query()
        context.update(
            event=self.event,
            registrations=page.object_list,
            page_obj=page,
            paginator=paginator,
            search=self.search,
            status=self.status,
            status_choices=[
                ("confirmed", gettext("Confirmed")),
                ("waiting", gettext("Waiting list")),
                ("checked_in", gettext("Checked in")),
                ("cancelled", gettext("Cancelled")),
            ],
            filtered=bool(self.search or self.status),
            query_prefix=(query + "&") if query else "",
            export_url="?"
            + urlencode({"export": "xlsx"})
            + ("&" + query if query else ""),
            csv_url="?" + urlencode({"export": "csv"}) + ("&" + query if query else ""),
            # Who may check in may reverse a check-in (events.checkin).
            may_reverse=can_check_in(user=self.request.user, event=self.event),
            may_message=selectors.can_message_event_registrants(
                user=self.request.user, event=self.event
            ),
            message_url=reverse(MESSAGE_URL_NAME, args=[self.event.pk]),
            cancel_url=reverse(CANCEL_URL_NAME, args=[self.event.pk]),
            back=self.request.get_full_path(),
            **counts,
        )
        return context

    def _rows(self) -> Iterator[list[Any]]:
        for registration in self.filtered().iterator(chunk_size=500):
            yield export_row(registration)

    def _log(self, *, file_format: str, rows: int) -> None:
        # In the event page's history and Reports › Site history.
        export_log(
            request=self.request,
            instance=self.event,
            what=gettext_noop("Event registrations"),
            file_format=file_format,
            rows=rows,
            filters=self.filters_query(),
        )

    def _filename(self, extension: str) -> str:
        return (
            f"registrations-{self.event.pk}-"
            f"{timezone.localdate().isoformat()}.{extension}"
        )

    def xlsx_response(self) -> FileResponse:
        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet(
            title=sheet_title(gettext("Registrations"), set())
        )
        sheet.freeze_panes = "A2"
        sheet.append(export_headings())
        rows = 0
        for row in self._rows():
            sheet.append(xlsx_row(sheet, row))
            rows += 1
        self._log(file_format="xlsx", rows=rows)
        return xlsx_response(workbook, filename=self._filename("xlsx"))

    def csv_response(self) -> StreamingHttpResponse:
        rows = self.filtered().count()
        self._log(file_format="csv", rows=rows)
        language = translation.get_language()
        # The headings in the reader's language, then the rows (streamed).
        lines = [export_headings(), *self._rows()]
        response = StreamingHttpResponse(
            csv_stream(lines, language=language), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = (
            f'attachment; filename="{self._filename("csv")}"'
        )
        return response


# --- messaging an event's registrants -------------------------------------------

MESSAGE_URL_NAME = "events_registration_message"
CANCEL_URL_NAME = "events_registration_cancel_event"


class MessageForm(forms.Form):
    audience = forms.ChoiceField(
        label=_("To"),
        choices=EventMessage.Audience.choices,
        widget=forms.RadioSelect,
        initial=EventMessage.Audience.CONFIRMED,
    )
    subject = forms.CharField(label=_("Subject"), max_length=200)
    body = forms.CharField(
        label=_("Message"),
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text=_(
            "Sent by e-mail to each recipient, with the event's details and "
            "their registration's link below it."
        ),
    )


class MessageView(EventAdminMixin, TemplateView):
    """Write a message to the event's registrants, see how many it goes to
    (the "preview" POST), then send it (the "send" POST). Nothing is sent on
    a GET or without the preview's confirmation."""

    template_name = "events/registration/admin/message.html"
    page_title = _("Message registrants")

    def event_check(self, user: Any, event: EventPage) -> bool:
        return selectors.can_message_event_registrants(user=user, event=event)

    def audience_counts(self) -> dict[str, int]:
        counts = selectors.event_attendee_counts(event_id=self.event.pk)
        audience = EventMessage.Audience
        return {
            audience.CONFIRMED: counts["confirmed"],
            audience.WAITING: counts["waiting"],
            audience.CHECKED_IN: counts["checked_in"],
            audience.ALL: counts["confirmed"] + counts["waiting"],
        }

    def render_form(
        self, form: MessageForm, *, preview: int | None = None
    ) -> HttpResponse:
        counts = self.audience_counts()
        audience = form.cleaned_data.get("audience") if preview is not None else None
        return self.render_to_response(
            self.get_context_data(
                form=form,
                event=self.event,
                counts=[
                    (value, label, counts[value])
                    for value, label in EventMessage.Audience.choices
                ],
                preview=preview,
                preview_audience=dict(EventMessage.Audience.choices).get(
                    audience or ""
                ),
                attendees_url=self.attendees_url(),
            )
        )

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self.render_form(MessageForm())

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.event  # noqa: B018 - 404 or 403 before reading the form
        form = MessageForm(request.POST)
        if not form.is_valid():
            return self.render_form(form)
        data = form.cleaned_data
        if "send" not in request.POST:
            count = services.message_recipients(
                event_id=self.event.pk, audience=data["audience"]
            ).count()
            return self.render_form(form, preview=count)
        try:
            message = services.event_message_send(
                event_id=self.event.pk,
                subject=data["subject"],
                body=data["body"],
                audience=data["audience"],
                by=request.user,  # type: ignore[arg-type]  # an admin view: signed in
            )
        except services.RegistrationError as error:
            form.add_error(None, str(error))
            return self.render_form(form)
        messages.success(
            request,
            ngettext(
                "The message is being sent to %(count)s person.",
                "The message is being sent to %(count)s people.",
                message.recipients,
            )
            % {"count": message.recipients},
        )
        return redirect(self.attendees_url())


# --- cancelling the event -------------------------------------------------------


class CancelEventForm(forms.Form):
    reason = forms.CharField(
        label=_("Why is the event cancelled?"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_(
            "Sent to every confirmed and waiting registrant, and shown on the "
            "event's page."
        ),
    )


class CancelEventView(EventAdminMixin, TemplateView):
    """Cancel the event with a reason (POST, after a confirmation box is
    ticked); GET shows who will be told."""

    template_name = "events/registration/admin/cancel_event.html"
    page_title = _("Cancel the event")

    def event_check(self, user: Any, event: EventPage) -> bool:
        return selectors.can_message_event_registrants(user=user, event=event)

    def render_form(self, form: CancelEventForm) -> HttpResponse:
        counts = selectors.event_attendee_counts(event_id=self.event.pk)
        return self.render_to_response(
            self.get_context_data(
                form=form,
                event=self.event,
                registrants=counts["confirmed"] + counts["waiting"],
                attendees_url=self.attendees_url(),
            )
        )

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self.render_form(CancelEventForm())

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.event  # noqa: B018 - 404 or 403 before reading the form
        form = CancelEventForm(request.POST)
        if not form.is_valid():
            return self.render_form(form)
        try:
            services.event_cancel(
                event_id=self.event.pk,
                reason=form.cleaned_data["reason"],
                by=request.user,  # type: ignore[arg-type]  # an admin view: signed in
            )
        except services.RegistrationError as error:
            form.add_error(None, str(error))
            return self.render_form(form)
        messages.success(
            request,
            gettext("“%(title)s” is cancelled. Its registrants are being e-mailed.")
            % {"title": self.event.title},
        )
        return redirect(self.attendees_url())

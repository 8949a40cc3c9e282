"""Announcements in the admin: write, preview, send, and the delivery report.

Editors with the add/change announcement permissions write a draft, preview
it as each language's recipients will read it (with the number of
recipients), send a test to themselves, then send it through
announcement_send or schedule it for a date and time (China Standard Time,
whatever the editor's admin time zone). A scheduled announcement is not
edited: the schedule is cancelled first. A sent announcement is a record:
it is neither edited nor deleted, and its edit link opens the delivery
report.
"""

import csv
import io
from zoneinfo import ZoneInfo

from django import forms
from django.conf import settings
from django.contrib.admin.utils import quote, unquote
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.http import content_disposition_header
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop, ngettext
from django.views.generic import TemplateView, View

from wagtail.admin import messages
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.panels import FieldPanel, MultiFieldPanel, ObjectList
from wagtail.admin.ui.tables import Column
from wagtail.admin.views import generic
from wagtail.admin.views.generic.base import BaseObjectMixin, WagtailAdminTemplateMixin
from wagtail.admin.views.generic.permissions import PermissionCheckedMixin
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.admin.widgets.button import Button
from wagtail.permission_policies import ModelPermissionPolicy

from portal.exports import export_log, spreadsheet_safe
from portal.http import signed_in_user
from subscriptions import selectors, services
from subscriptions.models import Announcement

permission_policy = ModelPermissionPolicy(Announcement)


class AnnouncementForm(WagtailAdminModelForm):
    def clean(self):
        cleaned_data = super().clean()
        if bool(cleaned_data.get("subject_en")) != bool(cleaned_data.get("body_en")):
            self.add_error(
                "body_en" if cleaned_data.get("subject_en") else "subject_en",
                _("Give both the English subject and text, or neither of them."),
            )
        return cleaned_data


def site_zone() -> ZoneInfo:
    """The site's time zone (Asia/Shanghai): schedules are given and shown in
    it, whatever time zone an editor chose for the admin."""
    return ZoneInfo(settings.TIME_ZONE)


class ScheduleForm(forms.Form):
    """The date and time to send at, to the minute, in China Standard Time
    (the view parses it in site_zone)."""

    send_at = forms.DateTimeField(
        label=gettext_lazy("Send on (China Standard Time, UTC+8)"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(
            attrs={"type": "datetime-local", "step": "60"}, format="%Y-%m-%dT%H:%M"
        ),
    )


# --- the editing views: drafts only ------------------------------------------------


class _DraftOnlyMixin:
    """A sent announcement is a record: its edit and delete links lead to the
    delivery report instead. A scheduled one leads to its preview, where the
    schedule is cancelled."""

    report_url_name = ""  # set by AnnouncementViewSet
    preview_url_name = ""

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        announcement = get_object_or_404(Announcement, pk=unquote(str(kwargs["pk"])))
        if announcement.status == Announcement.Status.SCHEDULED:
            messages.warning(
                request,
                _(
                    "This announcement is scheduled: cancel the schedule to "
                    "change or delete it."
                ),
            )
            return redirect(self.preview_url_name, quote(announcement.pk))
        if announcement.status != Announcement.Status.DRAFT:
            messages.warning(
                request, _("This announcement was sent: it can no longer be changed.")
            )
            return redirect(self.report_url_name, quote(announcement.pk))
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]  # mixin: dispatch comes from Wagtail's view


class AnnouncementCreateView(generic.CreateView):
    def save_instance(self):
        instance = self.form.save(commit=False)
        instance.created_by = self.request.user
        instance.save()
        self.form.save_m2m()
        return instance

    def get_success_url(self) -> str:
        # Straight on to the preview, where it is sent.
        return reverse(self.preview_url_name, args=(quote(self.object.pk),))

    preview_url_name: str | None = None


class AnnouncementEditView(_DraftOnlyMixin, generic.EditView):
    @cached_property
    def header_more_buttons(self):
        url = reverse(self.preview_url_name, args=(quote(self.object.pk),))
        return [
            *super().header_more_buttons,
            Button(_("Preview and send"), url=url, icon_name="mail", priority=5),
        ]

    def get_success_url(self) -> str:
        return reverse(self.preview_url_name, args=(quote(self.object.pk),))


class AnnouncementDeleteView(_DraftOnlyMixin, generic.DeleteView):
    pass


# --- preview, send, report ---------------------------------------------------------


class _AnnouncementView(
    PermissionCheckedMixin, BaseObjectMixin, WagtailAdminTemplateMixin, TemplateView
):
    model = Announcement
    permission_policy = permission_policy
    permission_required = "change"
    header_icon = "mail"
    edit_url_name: str | None = None
    index_url_name: str | None = None
    preview_url_name: str | None = None
    send_url_name: str | None = None
    report_url_name: str | None = None
    csv_url_name: str | None = None
    test_url_name: str | None = None
    schedule_url_name: str | None = None
    unschedule_url_name: str | None = None

    def get_page_subtitle(self) -> str:
        return str(self.object)

    def get_breadcrumbs_items(self) -> list[dict]:
        """Home › Announcements › the announcement › this page: without
        them the header read only "Home" (首页)."""
        items = [*super().get_breadcrumbs_items()]
        if self.index_url_name:
            items.append(
                {
                    "url": reverse(self.index_url_name),
                    "label": capfirst(Announcement._meta.verbose_name_plural),
                }
            )
        if self.edit_url_name:
            items.append({"url": self.url("edit"), "label": str(self.object)})
        items.append({"url": "", "label": self.get_page_title()})
        return items

    def url(self, name: str) -> str:
        return reverse(getattr(self, f"{name}_url_name"), args=(quote(self.object.pk),))


class AnnouncementPreviewView(_AnnouncementView):
    """The e-mail in each of its languages, the number of recipients and
    what keeps it from being sent; the send button."""

    page_title = gettext_lazy("Preview and send")
    template_name = "subscriptions/admin/preview.html"

    def get_context_data(self, **kwargs):
        announcement = self.object
        languages = ["zh-hans"]
        if announcement.subject_en and announcement.body_en:
            languages.append("en")
        sample = services.unsubscribe_url(token="…", language="zh-hans")
        texts = []
        for language in languages:
            text = services.announcement_text(
                announcement=announcement, language=language
            )
            texts.append(
                {
                    "language": language,
                    "subject": text.subject,
                    "body": text.body.replace(services.UNSUBSCRIBE_MARK, sample),
                }
            )
        is_draft = announcement.status == Announcement.Status.DRAFT
        is_scheduled = announcement.status == Announcement.Status.SCHEDULED
        scheduled_at = (
            timezone.localtime(announcement.scheduled_at, site_zone())
            if announcement.scheduled_at
            else None
        )
        return super().get_context_data(
            announcement=announcement,
            texts=texts,
            is_draft=is_draft,
            is_scheduled=is_scheduled,
            scheduled_at=scheduled_at.strftime("%Y-%m-%d %H:%M")
            if scheduled_at
            else "",
            schedule_form=kwargs.pop("schedule_form", None)
            or ScheduleForm(
                initial={"send_at": scheduled_at.replace(tzinfo=None)}
                if scheduled_at
                else None
            ),
            test_url=self.url("test"),
            schedule_url=self.url("schedule"),
            unschedule_url=self.url("unschedule"),
            problems=services.announcement_problems(announcement=announcement)
            if is_draft or is_scheduled
            else [],
            recipient_count=selectors.announcement_recipient_count(
                announcement=announcement
            )
            if is_draft or is_scheduled
            else announcement.recipient_count,
            edit_url=self.url("edit"),
            send_url=self.url("send"),
            report_url=self.url("report"),
            **kwargs,
        )


class AnnouncementSendView(PermissionCheckedMixin, BaseObjectMixin, View):
    """POST: send through announcement_send; its refusals become messages."""

    model = Announcement
    permission_policy = permission_policy
    permission_required = "change"
    http_method_names = ["post"]
    # Set by AnnouncementViewSet.
    preview_url_name = ""
    report_url_name = ""

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            count = services.announcement_send(
                announcement=self.object,
                # The admin's views are for signed-in users only.
                by=signed_in_user(request),
            )
        except services.SubscriptionError as error:
            messages.error(request, str(error))
            return redirect(self.preview_url_name, quote(self.object.pk))
        messages.success(
            request,
            _("Sending to %(count)s subscribers; the report shows the progress.")
            % {"count": count},
        )
        return redirect(self.report_url_name, quote(self.object.pk))


class _AnnouncementActionView(PermissionCheckedMixin, BaseObjectMixin, View):
    """A POST-only action on an announcement; back to its preview."""

    model = Announcement
    permission_policy = permission_policy
    permission_required = "change"
    http_method_names = ["post"]
    preview_url_name = ""  # set by AnnouncementViewSet

    def back(self) -> HttpResponse:
        return redirect(self.preview_url_name, quote(self.object.pk))


class AnnouncementTestSendView(_AnnouncementActionView):
    """POST: send the announcement to the editor's own address, marked as a
    test; not a send (announcement_test_send)."""

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        user = signed_in_user(request)
        try:
            emails = services.announcement_test_send(announcement=self.object, to=user)
        except services.SubscriptionError as error:
            messages.error(request, str(error))
            return self.back()
        messages.success(
            request,
            ngettext(
                "A test was sent to %(email)s only. It is not the real send: "
                "the announcement has not changed.",
                "%(count)s tests (one per language) were sent to %(email)s "
                "only. They are not the real send: the announcement has not "
                "changed.",
                len(emails),
            )
            % {"email": user.email, "count": len(emails)},
        )
        return self.back()


class AnnouncementScheduleView(_AnnouncementActionView):
    """POST: schedule (or move) the send to a date and time, read in China
    Standard Time; refusals (a time passed, already sent) as messages."""

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        form = ScheduleForm(request.POST)
        with timezone.override(site_zone()):
            valid = form.is_valid()
        if not valid:
            messages.error(
                request,
                _("Give the date and time to send it, to the minute."),
            )
            return self.back()
        try:
            announcement = services.announcement_schedule(
                announcement=self.object,
                at=form.cleaned_data["send_at"],
                by=signed_in_user(request),
            )
        except services.SubscriptionError as error:
            messages.error(request, str(error))
            return self.back()
        messages.success(
            request,
            _(
                "Scheduled: it will be sent on %(when)s (China Standard Time). "
                "Until then you can cancel or move the schedule here."
            )
            % {
                "when": timezone.localtime(
                    announcement.scheduled_at, site_zone()
                ).strftime("%Y-%m-%d %H:%M")
            },
        )
        return self.back()


class AnnouncementUnscheduleView(_AnnouncementActionView):
    """POST: cancel the schedule; the announcement is a draft again."""

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            services.announcement_unschedule(announcement=self.object)
        except services.SubscriptionError as error:
            messages.error(request, str(error))
            return self.back()
        messages.success(
            request, _("The schedule was cancelled: the announcement is a draft.")
        )
        return self.back()


class AnnouncementReportView(_AnnouncementView):
    """Counts of pending, sent, failed and skipped e-mails and unsubscribes,
    and the list of failures (the first 200)."""

    permission_required = "view"
    page_title = gettext_lazy("Delivery report")
    template_name = "subscriptions/admin/report.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            announcement=self.object,
            report=selectors.announcement_report(announcement=self.object),
            failures=selectors.announcement_failures(announcement=self.object)[:200],
            preview_url=self.url("preview"),
            csv_url=self.url("csv"),
            **kwargs,
        )


class AnnouncementCsvView(PermissionCheckedMixin, BaseObjectMixin, View):
    """Every delivery of an announcement as CSV (UTF-8 with BOM, for Excel)."""

    model = Announcement
    permission_policy = permission_policy
    permission_required = "view"

    def get(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        out = io.StringIO()
        out.write("\ufeff")
        writer = csv.writer(out)
        writer.writerow(
            [
                _("E-mail address"),
                _("Delivery"),
                _("E-mail status"),
                _("Handed to the outbox"),
                _("Sent"),
                _("Unsubscribed through this e-mail"),
                _("Last error"),
            ]
        )

        def when(value):
            return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""

        rows = 0
        for delivery in selectors.announcement_deliveries(announcement=self.object):
            rows += 1
            email = delivery.email
            writer.writerow(
                [
                    spreadsheet_safe(delivery.address),
                    delivery.get_status_display(),
                    email.get_status_display() if email else "",
                    when(delivery.queued_at),
                    when(email.sent_at if email else None),
                    when(delivery.unsubscribed_at),
                    spreadsheet_safe(email.last_error if email else ""),
                ]
            )
        # Recipients' e-mail addresses: in the announcement's history.
        export_log(
            request=request,
            instance=self.object,
            what=gettext_noop("Announcement recipients"),
            file_format="csv",
            rows=rows,
        )
        response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = content_disposition_header(
            True, f"announcement-{self.object.pk}.csv"
        )
        return response


class AnnouncementViewSet(ModelViewSet):
    model = Announcement
    icon = "mail"
    menu_label = gettext_lazy("Announcements")
    menu_name = "announcements"
    add_view_class = AnnouncementCreateView
    edit_view_class = AnnouncementEditView
    delete_view_class = AnnouncementDeleteView
    copy_view_enabled = False
    search_fields = ["subject", "subject_en"]
    list_display = [
        "subject",
        Column("status", label=gettext_lazy("Status"), accessor="get_status_display"),
        "recipient_count",
        "created_at",
        "scheduled_at",
        "sent_at",
    ]
    list_filter = ["status"]
    ordering = ["-created_at", "-pk"]
    edit_handler = ObjectList(
        [
            FieldPanel("subject"),
            FieldPanel("body"),
            MultiFieldPanel(
                [FieldPanel("subject_en"), FieldPanel("body_en")],
                heading=gettext_lazy("English version (optional)"),
            ),
            FieldPanel("link_page"),
            FieldPanel("topics", widget=forms.CheckboxSelectMultiple),
            FieldPanel("audiences", widget=forms.CheckboxSelectMultiple),
        ],
        base_form_class=AnnouncementForm,
    )

    def get_common_view_kwargs(self, **kwargs):
        return super().get_common_view_kwargs(
            preview_url_name=self.get_url_name("preview"),
            send_url_name=self.get_url_name("send"),
            report_url_name=self.get_url_name("report"),
            csv_url_name=self.get_url_name("csv"),
            test_url_name=self.get_url_name("test"),
            schedule_url_name=self.get_url_name("schedule"),
            unschedule_url_name=self.get_url_name("unschedule"),
            **kwargs,
        )

    def get_urlpatterns(self):
        return [
            *super().get_urlpatterns(),
            path(
                "preview/<int:pk>/",
                self.construct_view(AnnouncementPreviewView),
                name="preview",
            ),
            path(
                "send/<int:pk>/", self.construct_view(AnnouncementSendView), name="send"
            ),
            path(
                "test/<int:pk>/",
                self.construct_view(AnnouncementTestSendView),
                name="test",
            ),
            path(
                "schedule/<int:pk>/",
                self.construct_view(AnnouncementScheduleView),
                name="schedule",
            ),
            path(
                "unschedule/<int:pk>/",
                self.construct_view(AnnouncementUnscheduleView),
                name="unschedule",
            ),
            path(
                "report/<int:pk>/",
                self.construct_view(AnnouncementReportView),
                name="report",
            ),
            path(
                "report/<int:pk>/csv/",
                self.construct_view(AnnouncementCsvView),
                name="csv",
            ),
        ]

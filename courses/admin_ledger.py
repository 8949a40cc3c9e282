"""The hours ledger in the admin (学时台账): one learner's entries with the
running total, corrections, and XLSX exports.

- ``courses_ledger:index``: find a learner (name, e-mail or organisation);
  export every learner's entries dated within a range.
- ``courses_ledger:learner`` (``user_id``): every entry of one learner, with
  kind, source, reason, who entered it and the running total; totals per
  year; an adjustment form; a "Reverse" action on each earned entry still
  counting. Other screens (a class's progress) link here by this name.
- ``courses_ledger:adjust`` (POST), ``courses_ledger:reverse`` (``entry_id``):
  the corrections, each with a reason, through courses.ledger (which writes
  them to Wagtail's log).
- ``courses_ledger:learner_export``, ``courses_ledger:export``: XLSX,
  audit-logged as ``portal.export`` (portal/exports.py).

Who may do what (Wagtail's group settings, "Hours ledger entry"): viewing
and exporting need ``courses.view_hoursledgerentry``; corrections need
``courses.add_hoursledgerentry``. Superusers may do both. Nothing here
changes or deletes an entry: the ledger is append-only (courses.ledger).

The URLs, the menu item, the permissions offered and the log messages of the
ledger's corrections and of a certificate request cancelled or reopened are
registered in courses/wagtail_hooks.py.
"""

from __future__ import annotations

from typing import Any

from openpyxl import Workbook

from django import forms
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop
from django.views.generic import TemplateView, View

from wagtail.admin import messages
from wagtail.admin.menu import MenuItem
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.views.generic.permissions import PermissionCheckedMixin
from wagtail.admin.widgets import AdminDateInput
from wagtail.permission_policies import ModelPermissionPolicy

from courses import ledger
from courses.models import HoursLedgerEntry
from portal.converters import MAX_ID
from portal.exports import export_log, sheet_title, xlsx_response, xlsx_row
from portal.models import User

NAMESPACE = "courses_ledger"
permission_policy = ModelPermissionPolicy(HoursLedgerEntry)
#: Learners listed for a search: a name narrows it further.
SEARCH_LIMIT = 50


def can_view_ledger(user: Any) -> bool:
    return permission_policy.user_has_permission(user, "view")


def can_correct_ledger(user: Any) -> bool:
    return permission_policy.user_has_permission(user, "add")


def person(user: Any) -> str:
    if user is None:
        return ""
    return user.real_name or user.email


# --- forms -----------------------------------------------------------------------


class LearnerSearchForm(forms.Form):
    q = forms.CharField(
        label=gettext_lazy("Name, e-mail or organisation"),
        max_length=200,
        required=False,
    )


class LedgerRangeForm(forms.Form):
    date_from = forms.DateField(
        label=gettext_lazy("Dated from"), required=False, widget=AdminDateInput
    )
    date_to = forms.DateField(
        label=gettext_lazy("Dated until"), required=False, widget=AdminDateInput
    )

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", _("The end date is before the start date."))
        return data

    def describe(self) -> str:
        start = self.cleaned_data.get("date_from")
        end = self.cleaned_data.get("date_to")
        return (
            f"{start.isoformat() if start else '…'} – {end.isoformat() if end else '…'}"
        )


class AdjustmentForm(forms.Form):
    hours = forms.DecimalField(
        label=gettext_lazy("Hours"),
        max_digits=5,
        decimal_places=1,
        help_text=gettext_lazy(
            "Positive to add hours, negative (e.g. -1.5) to remove."
        ),
    )
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Kept with the entry and in the audit log."),
        error_messages={"required": gettext_lazy("Say why the hours are adjusted.")},
    )
    title = forms.CharField(
        label=gettext_lazy("Title shown to the learner"),
        max_length=255,
        required=False,
        help_text=gettext_lazy("Optional; “Manual adjustment” if left empty."),
    )
    earned_on = forms.DateField(
        label=gettext_lazy("Counts on"),
        required=False,
        widget=AdminDateInput,
        help_text=gettext_lazy("The date the hours count for; today if left empty."),
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Kept with the reversal and in the audit log."),
        error_messages={"required": gettext_lazy("Say why the hours are reversed.")},
    )


# --- views -----------------------------------------------------------------------


class LedgerMixin(PermissionCheckedMixin, WagtailAdminTemplateMixin):
    permission_policy = permission_policy
    permission_required = "view"
    header_icon = "list-ol"

    def get_breadcrumbs_items(self) -> list[dict[str, Any]]:
        return [
            *self.breadcrumbs_items,
            {"url": reverse(f"{NAMESPACE}:index"), "label": _("Hours ledger")},
        ]


class LedgerIndexView(LedgerMixin, TemplateView):
    """Find a learner; export a date range of everyone's entries."""

    template_name = "courses/admin/ledger/index.html"
    page_title = gettext_lazy("Hours ledger")

    def get_breadcrumbs_items(self) -> list[dict[str, Any]]:
        return [*self.breadcrumbs_items, {"url": "", "label": _("Hours ledger")}]

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        search = LearnerSearchForm(self.request.GET or None)
        learners = None
        if search.is_valid() and search.cleaned_data["q"].strip():
            words = search.cleaned_data["q"].split()
            condition = Q()
            for word in words:
                condition &= (
                    Q(real_name__icontains=word)
                    | Q(email__icontains=word)
                    | Q(organisation__icontains=word)
                )
            learners = list(
                User.objects.filter(condition).order_by("real_name", "email")[
                    :SEARCH_LIMIT
                ]
            )
        context.update(
            search=search,
            learners=learners,
            search_limit=SEARCH_LIMIT,
            range_form=LedgerRangeForm(),
            export_url=reverse(f"{NAMESPACE}:export"),
        )
        return context


class LearnerMixin(LedgerMixin):
    @cached_property
    def learner(self) -> User:
        user_id = self.kwargs["user_id"]
        learner = User.objects.filter(pk=user_id).first() if user_id <= MAX_ID else None
        if learner is None:
            raise Http404
        return learner

    def learner_url(self) -> str:
        return reverse(f"{NAMESPACE}:learner", args=[self.learner.pk])


class LearnerLedgerView(LearnerMixin, TemplateView):
    """One learner's ledger, with the corrections' forms."""

    template_name = "courses/admin/ledger/learner.html"
    page_title = gettext_lazy("Hours ledger")
    adjustment_form: AdjustmentForm | None = None

    def get_page_subtitle(self) -> str:
        return person(self.learner)

    def get_breadcrumbs_items(self) -> list[dict[str, Any]]:
        return [
            *super().get_breadcrumbs_items(),
            {"url": "", "label": person(self.learner)},
        ]

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        lines = ledger.ledger_lines(user=self.learner)
        may_correct = can_correct_ledger(self.request.user)
        earned = HoursLedgerEntry.Kind.EARNED
        rows = []
        for entry, running in lines:
            note = entry_reversed_note(entry) if entry.kind == earned else ""
            rows.append(
                {
                    "entry": entry,
                    "running": running,
                    "note": note,
                    "reverse_url": reverse(f"{NAMESPACE}:reverse", args=[entry.pk])
                    if may_correct and entry.kind == earned and not note
                    else "",
                }
            )
        context.update(
            learner=self.learner,
            lines=rows,
            total=lines[-1][1] if lines else 0,
            years=ledger.hours_by_year(self.learner),
            may_correct=may_correct,
            adjustment_form=self.adjustment_form or AdjustmentForm(),
            adjust_url=reverse(f"{NAMESPACE}:adjust", args=[self.learner.pk]),
            export_url=reverse(f"{NAMESPACE}:learner_export", args=[self.learner.pk]),
        )
        return context


class AdjustView(LearnerLedgerView):
    """POST: add an adjustment; the learner's page again with the form's
    errors, or back to it with a confirmation."""

    permission_required = "add"
    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = AdjustmentForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                entry = ledger.hours_adjust(
                    user=self.learner,
                    hours=data["hours"],
                    reason=data["reason"],
                    title=data["title"],
                    earned_on=data["earned_on"],
                    by=request.user,
                )
            except ledger.LedgerError as error:
                form.add_error(None, error.message)
            else:
                messages.success(
                    request,
                    _("%(hours)s hours adjusted for %(name)s.")
                    % {"hours": _signed(entry.hours), "name": person(self.learner)},
                )
                return redirect(self.learner_url())
        self.adjustment_form = form
        messages.validation_error(
            request, _("The adjustment was not saved: see below."), form
        )
        return self.render_to_response(self.get_context_data())


class ReverseView(LedgerMixin, TemplateView):
    """GET: the entry and a reason form; POST: reverse it."""

    permission_required = "add"
    template_name = "courses/admin/ledger/reverse.html"
    page_title = gettext_lazy("Reverse hours")
    form: ReasonForm | None = None

    @cached_property
    def entry(self) -> HoursLedgerEntry:
        entry_id = self.kwargs["entry_id"]
        entry = (
            HoursLedgerEntry.objects.select_related("user")
            .filter(pk=entry_id, kind=HoursLedgerEntry.Kind.EARNED)
            .first()
            if entry_id <= MAX_ID
            else None
        )
        if entry is None:
            raise Http404
        return entry

    def learner_url(self) -> str:
        return reverse(f"{NAMESPACE}:learner", args=[self.entry.user_id])

    def get_page_subtitle(self) -> str:
        return self.entry.title

    def get_breadcrumbs_items(self) -> list[dict[str, Any]]:
        return [
            *super().get_breadcrumbs_items(),
            {"url": self.learner_url(), "label": person(self.entry.user)},
            {"url": "", "label": _("Reverse hours")},
        ]

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(
            entry=self.entry,
            already=HoursLedgerEntry.objects.filter(reverses=self.entry)
            .select_related("created_by")
            .first(),
            form=self.form or ReasonForm(),
            learner_url=self.learner_url(),
        )
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = ReasonForm(request.POST)
        if form.is_valid():
            try:
                ledger.hours_reverse(
                    entry=self.entry,
                    reason=form.cleaned_data["reason"],
                    by=request.user,
                )
            except ledger.LedgerError as error:
                messages.error(request, error.message)
                return redirect(self.learner_url())
            messages.success(
                request,
                _("The %(hours)s hours of “%(title)s” are reversed.")
                % {"hours": self.entry.hours, "title": self.entry.title},
            )
            return redirect(self.learner_url())
        self.form = form
        return self.render_to_response(self.get_context_data())


# --- exports ---------------------------------------------------------------------


def export_headings(*, running_total: bool) -> list[str]:
    headings = [
        _("Entry"),
        _("Learner"),
        _("E-mail"),
        _("Organisation"),
        _("Date"),
        _("Kind"),
        _("Source"),
        _("Source id"),
        _("Title"),
        _("Hours"),
    ]
    if running_total:
        headings.append(_("Running total"))
    headings += [
        _("Reverses entry"),
        _("Reason"),
        _("Entered by"),
        _("Recorded at"),
    ]
    return headings


def export_row(entry: HoursLedgerEntry, running: Any = None) -> list[Any]:
    learner = entry.user
    row: list[Any] = [
        entry.pk,
        learner.real_name,
        learner.email,
        learner.organisation,
        entry.earned_on,
        entry.get_kind_display(),
        entry.get_source_type_display(),
        entry.source_key,
        entry.title,
        entry.hours,
    ]
    if running is not None:
        row.append(running)
    row += [
        entry.reverses_id,
        entry.reason,
        person(entry.created_by),
        timezone.localtime(entry.created_at),
    ]
    return row


def _workbook(title: str, *, running_total: bool) -> tuple[Workbook, Any]:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=sheet_title(title, set()))
    sheet.freeze_panes = "A2"
    sheet.append(export_headings(running_total=running_total))
    return workbook, sheet


class LearnerExportView(LearnerMixin, View):
    """One learner's ledger as XLSX, with the running total."""

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        learner = self.learner  # 404 before anything is written
        workbook, sheet = _workbook(_("Hours ledger"), running_total=True)
        lines = ledger.ledger_lines(user=learner)
        for entry, running in lines:
            entry.user = self.learner
            sheet.append(xlsx_row(sheet, export_row(entry, running)))
        export_log(
            request=request,
            instance=self.learner,
            what=gettext_noop("Hours ledger of a learner"),
            file_format="xlsx",
            rows=len(lines),
        )
        today = timezone.localdate().isoformat()
        return xlsx_response(
            workbook, filename=f"hours-ledger-{self.learner.pk}-{today}.xlsx"
        )


class LedgerExportView(LedgerMixin, View):
    """Every learner's entries dated within the range, as XLSX."""

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        form = LedgerRangeForm(request.GET)
        if not form.is_valid():
            for errors in form.errors.values():
                for error in errors:
                    messages.error(request, error)
            return redirect(f"{NAMESPACE}:index")
        workbook, sheet = _workbook(_("Hours ledger"), running_total=False)
        rows = 0
        entries = ledger.ledger_between(
            date_from=form.cleaned_data["date_from"],
            date_to=form.cleaned_data["date_to"],
        )
        for entry in entries.iterator(chunk_size=1000):
            sheet.append(xlsx_row(sheet, export_row(entry)))
            rows += 1
        filters = form.describe()
        export_log(
            request=request,
            what=gettext_noop("Hours ledger"),
            file_format="xlsx",
            rows=rows,
            filters=filters,
        )
        today = timezone.localdate().isoformat()
        return xlsx_response(workbook, filename=f"hours-ledger-{today}.xlsx")


def _signed(hours: Any) -> str:
    return f"+{hours}" if hours > 0 else str(hours)


# --- the menu item ---------------------------------------------------------------


class LedgerMenuItem(MenuItem):
    def is_shown(self, request) -> bool:
        return can_view_ledger(request.user)


def entry_reversed_note(entry: HoursLedgerEntry) -> str:
    """ "Reversed on <date> by <whom>: <reason>" for an earned entry undone."""
    reversal = getattr(entry, "reversed_by", None)
    if reversal is None:
        return ""
    return _("Reversed on %(date)s by %(by)s: %(reason)s") % {
        "date": date_format(timezone.localtime(reversal.created_at), "DATE_FORMAT"),
        "by": person(reversal.created_by) or _("the system"),
        "reason": reversal.reason,
    }

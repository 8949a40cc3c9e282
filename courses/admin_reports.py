"""The training report (培训统计) and the training panel of the admin dashboard.

The figures come from courses.reports; this module turns them into a Wagtail
report view with a filter form, CSV and XLSX exports and charts. Charts are
inline SVG drawn on the server (the report's bars by portal.charts, the
dashboard's months here): the portal runs on closed intranets, so no chart
library, and each chart has a <title>, a <desc> and a table beside it.

Who may see them: superusers, and staff whose group has the "view enrolment"
permission (courses.view_enrolment), offered in Wagtail's group settings.
"""

import codecs
import datetime
from io import BytesIO
from typing import Any, cast

from openpyxl import Workbook

from django import forms
from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.dates import MONTHS_3
from django.utils.functional import cached_property
from django.utils.http import content_disposition_header, urlencode
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from wagtail.admin.menu import MenuItem
from wagtail.admin.ui.components import Component
from wagtail.admin.views.reports import ReportView
from wagtail.admin.widgets import AdminDateInput
from wagtail.permission_policies import ModelPermissionPolicy

from courses import reports
from courses.models import CoursePage, Enrolment, TrainingClass
from portal.charts import Bar, BarLayout, bar_chart
from portal.exports import spreadsheet_safe
from portal.models import Audience, District

permission_policy = ModelPermissionPolicy(Enrolment)


def can_view_reports(user) -> bool:
    return permission_policy.user_has_permission(user, "view")


# --- the report -------------------------------------------------------------------


class TrainingReportForm(forms.Form):
    """The report's choices. Always bound (the view fills in the dimension),
    so a wrong value in the URL is a form error, never a server error."""

    dimension = forms.ChoiceField(
        label=_("Group by"), choices=reports.Dimension.choices
    )
    date_from = forms.DateField(
        label=_("Enrolled from"), required=False, widget=AdminDateInput
    )
    date_to = forms.DateField(
        label=_("Enrolled until"), required=False, widget=AdminDateInput
    )
    course = forms.ModelChoiceField(
        label=reports.Dimension.COURSE.label,
        queryset=CoursePage.objects.order_by("title"),
        required=False,
        empty_label=_("All courses"),
    )
    training_class = forms.ModelChoiceField(
        label=reports.Dimension.TRAINING_CLASS.label,
        queryset=TrainingClass.objects.all(),
        required=False,
        empty_label=_("All training classes"),
    )
    audience = forms.ModelChoiceField(
        label=reports.Dimension.AUDIENCE.label,
        queryset=Audience.objects.all(),
        required=False,
        empty_label=_("All audience groups"),
    )
    district = forms.ModelChoiceField(
        label=reports.Dimension.DISTRICT.label,
        queryset=District.objects.all(),
        required=False,
        empty_label=_("All districts"),
    )

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", _("The end date is before the start date."))
        return data

    def report_filters(self) -> reports.ReportFilters:
        data = self.cleaned_data
        return reports.ReportFilters(
            date_from=data["date_from"],
            date_to=data["date_to"],
            course_key=data["course"].pk if data["course"] else None,
            training_class_id=(
                data["training_class"].pk if data["training_class"] else None
            ),
            audience_id=data["audience"].pk if data["audience"] else None,
            district_id=data["district"].pk if data["district"] else None,
        )


class TrainingReportView(ReportView):
    """Training statistics grouped and filtered as the form says, with the
    table, a bar chart and exports of the same figures."""

    template_name = "courses/admin/report.html"
    results_template_name = "courses/admin/report_results.html"
    page_title = _("Training report")
    header_icon = "table"
    index_url_name = "courses_training_report"
    paginate_by = None  # one row per group; the chart and totals need them all
    columns: list = []  # the template draws the table, with a totals row
    permission_policy = permission_policy
    permission_required = "view"
    list_export = [
        "label",
        "learners",
        "enrolments",
        "completions",
        "completion_rate",
        "average_score",
        "hours",
    ]
    custom_value_preprocess = {
        **ReportView.custom_value_preprocess,
        # Organisation names are typed by learners: defuse formulas.
        str: {ReportView.FORMAT_CSV: spreadsheet_safe},
    }

    @cached_property
    def form(self) -> TrainingReportForm:
        data = self.request.GET.copy()
        if not data.get("dimension"):
            data["dimension"] = reports.Dimension.COURSE
        return TrainingReportForm(data)

    @cached_property
    def report(self) -> reports.TrainingReport | None:
        if not self.form.is_valid():
            return None
        return reports.training_report(
            dimension=self.form.cleaned_data["dimension"],
            filters=self.form.report_filters(),
        )

    def get(self, request, *args, **kwargs):
        if self.report is None:
            self.is_export = False  # show the errors instead of a file
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> list[reports.ReportRow]:
        return self.report.rows if self.report else []

    def get_context_data(self, *args, **kwargs) -> dict[str, Any]:
        context = super().get_context_data(*args, **kwargs)
        context["form"] = self.form
        context["media"] += self.form.media
        context["report"] = self.report
        if self.report:
            context["headings"] = {
                field: reports.heading_for(field, dimension=self.report.dimension)
                for field in self.list_export
            }
            context["chart"] = report_chart(self.report)
            context["csv_export_url"] = self.get_export_url(self.FORMAT_CSV)
            context["xlsx_export_url"] = self.get_export_url(self.FORMAT_XLSX)
        return context

    def render_to_response(self, context, **response_kwargs):
        if self.is_export:
            rows = [*context["object_list"], self.report.totals]
            return self.as_spreadsheet(rows, self.request.GET["export"])
        return super().render_to_response(context, **response_kwargs)

    # --- exports: Wagtail's writers, with translated headings, a dated file
    # name, and a BOM so that Excel reads the CSV's Chinese as UTF-8.

    def get_filename(self) -> str:
        # Only an export has a file name, and get() lets only a report export.
        report = cast(reports.TrainingReport, self.report)
        today = timezone.localdate().isoformat()
        return f"training-report-{report.dimension}-{today}"

    def get_heading(self, queryset, field):
        return reports.heading_for(field, dimension=self.report.dimension)

    def write_csv_response(self, queryset):
        # Written whole, not streamed: the headings must be translated while
        # the admin user's language is active, which ends with the view.
        # Wagtail's writer yields UTF-8 bytes; Excel needs the BOM to know it.
        content = codecs.BOM_UTF8 + b"".join(self.stream_csv(queryset))
        response = HttpResponse(content, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = content_disposition_header(
            as_attachment=True, filename=f"{self.get_filename()}.csv"
        )
        return response

    def write_xlsx(self, queryset, output: BytesIO) -> None:
        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet(title=str(_("Training report"))[:31])
        sheet.column_dimensions["A"].width = 36
        for column in "BCDEFG":
            sheet.column_dimensions[column].width = 14
        sheet.append([self.get_heading(queryset, f) for f in self.list_export])
        for item in queryset:
            sheet.append(self.generate_xlsx_row(sheet, self.to_row_dict(item)))
        workbook.save(output)


# --- charts ----------------------------------------------------------------------

CHART_ROWS = 20


#: The training report's chart: room for long group names and for
#: "completions / enrolments · rate" right of the bars.
CHART_LAYOUT = BarLayout(
    label_width=210,
    value_width=150,
    row_height=30,
    bar_inset=5,
    top=34,
    legend_y=8,
    bottom=6,
    legend_part_offset=140,
)


def report_chart(report: reports.TrainingReport) -> dict[str, Any]:
    """Horizontal bars, one per group: enrolments, and over them completions,
    so the filled share is the completion rate. At most CHART_ROWS groups:
    the largest ones, or the latest months."""
    if report.dimension == reports.Dimension.MONTH:
        rows = report.rows[-CHART_ROWS:]
    else:
        rows = report.rows[:CHART_ROWS]
    return bar_chart(
        [
            Bar(
                label=row.label,
                value=row.enrolments,
                part=row.completions,
                rate=row.completion_rate,
            )
            for row in rows
        ],
        chart_id="report-chart",
        value_heading=_("Enrolments"),
        part_heading=_("Completions"),
        total=len(report.rows),
        layout=CHART_LAYOUT,
    )


def _nice_step(largest: int, ticks: int = 4) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50… that covers `largest` in `ticks`
    steps, so that the axis reads in round numbers."""
    magnitude = 1
    while True:
        for step in (magnitude, 2 * magnitude, 5 * magnitude):
            if step * ticks >= largest:
                return step
        magnitude *= 10


def month_chart(points: list[reports.MonthActivity]) -> dict[str, Any]:
    """Vertical bars, a pair per month: enrolments and completions."""
    width, height = 640, 230
    left, right, top, bottom = 44, 8, 34, 42
    plot_width, plot_height = width - left - right, height - top - bottom
    step = _nice_step(
        max((max(p.enrolments, p.completions) for p in points), default=0)
    )
    scale_top = step * 4
    baseline = top + plot_height

    def y_of(value: int) -> float:
        return round(baseline - plot_height * value / scale_top, 1)

    group = plot_width / max(len(points), 1)
    bar = group * 0.34
    months = []
    for i, point in enumerate(points):
        x = left + i * group + group * 0.14
        months.append(
            {
                "point": point,
                "enrolments_x": round(x, 1),
                "completions_x": round(x + bar + 1, 1),
                "enrolments_y": y_of(point.enrolments),
                "completions_y": y_of(point.completions),
                "enrolments_height": round(baseline - y_of(point.enrolments), 1),
                "completions_height": round(baseline - y_of(point.completions), 1),
                "label_x": round(left + i * group + group / 2, 1),
                "label": capfirst(MONTHS_3[point.month.month]),
                # The year under the first month and under each January.
                "year": point.month.year if i == 0 or point.month.month == 1 else None,
            }
        )
    return {
        "width": width,
        "height": height,
        "left": left,
        "right": width - right,
        "baseline": baseline,
        "bar_width": round(bar, 1),
        "label_y": baseline + 16,
        "year_y": baseline + 32,
        "ticks": [
            {"value": value, "y": y_of(value)}
            for value in range(0, scale_top + 1, step)
        ],
        "months": months,
    }


# --- the dashboard panel -----------------------------------------------------------


class TrainingDashboardPanel(Component):
    """Enrolments and completions of the last twelve months, and this year's
    totals, on the admin dashboard of those who may see the report."""

    name = "training_statistics"
    template_name = "courses/admin/dashboard_panel.html"
    order = 100  # before Wagtail's own panels: it is what managers come for

    def get_context_data(self, parent_context: Any = None) -> dict[str, Any]:
        points = reports.monthly_activity(months=12)
        year = reports.year_filters()
        # The report with the same filters shows the same figures.
        query = urlencode(
            {
                "dimension": reports.Dimension.COURSE,
                "date_from": cast(datetime.date, year.date_from).isoformat(),
                "date_to": cast(datetime.date, year.date_to).isoformat(),
            }
        )
        report_url = reverse("courses_training_report")
        return {
            "points": points,
            "chart": month_chart(points),
            "totals": reports.year_totals(),
            "report_url": report_url,
            "year_report_url": f"{report_url}?{query}",
        }


# --- the menu item ---------------------------------------------------------------


class TrainingReportMenuItem(MenuItem):
    def is_shown(self, request) -> bool:
        return can_view_reports(request.user)

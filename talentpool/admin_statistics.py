"""The talent pool's statistics (人才库统计) in the admin: the screen with
its filter form, bar charts and tables, their CSV and XLSX exports, the
export of expert records for staff, and a summary panel on the dashboard.

The figures come from talentpool.statistics. Charts are inline SVG drawn on
the server by portal.charts (closed intranets: no chart library), each with a
<title>, a <desc> and the table of its figures beside it, as in the training
report.

Who may see them: superusers, and staff whose group may view or change
experts. The expert export holds e-mail addresses and phone numbers
(docs/decisions.md, decision 3): nobody else reaches it.
"""

from typing import Any, cast

from openpyxl import Workbook

from django import forms
from django.http import (
    FileResponse,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    StreamingHttpResponse,
)
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils import timezone, translation
from django.utils.functional import cached_property
from django.utils.http import content_disposition_header
from django.utils.text import capfirst
from django.utils.translation import gettext, gettext_noop, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView

from wagtail.admin.menu import MenuItem
from wagtail.admin.ui.components import Component
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.views.generic.permissions import PermissionCheckedMixin
from wagtail.admin.viewsets.base import ViewSet
from wagtail.permissions import policy_registry

from portal.charts import Bar, BarLayout, bar_chart
from portal.exports import (
    csv_stream,
    export_log,
    sheet_title,
    xlsx_response,
    xlsx_row,
)
from portal.models import District
from talentpool import statistics
from talentpool.models import Expert, ExpertCategory, Industry

#: What opens the statistics and the exports, on the expert permission policy.
PERMISSIONS = ["view", "change"]
EXPORT_FORMATS = ("csv", "xlsx")
#: Which experts the figures count: the filter form's status choices.
STATUS_CHOICES = [("all", _("All experts")), ("listed", _("Listed experts only"))]


def can_view_statistics(user) -> bool:
    return policy_registry.get_by_type(Expert).user_has_any_permission(
        user, PERMISSIONS
    )


# --- the filters ----------------------------------------------------------------


class StatisticsForm(forms.Form):
    """The statistics' filters. Always bound (the view fills in defaults),
    so a wrong value in the URL is a form error, never a server error."""

    status = forms.ChoiceField(
        label=_("Experts counted"),
        choices=STATUS_CHOICES,
    )
    category = forms.ModelChoiceField(
        label=capfirst(ExpertCategory._meta.verbose_name),
        queryset=ExpertCategory.objects.all(),
        required=False,
        empty_label=_("All categories"),
    )
    district = forms.ModelChoiceField(
        label=capfirst(District._meta.verbose_name),
        queryset=District.objects.all(),
        required=False,
        empty_label=_("All districts"),
    )
    industry = forms.ModelChoiceField(
        label=capfirst(Industry._meta.verbose_name),
        queryset=Industry.objects.all(),
        required=False,
        empty_label=_("All industries"),
    )
    months = forms.TypedChoiceField(label=_("Months shown"), coerce=int, choices=())

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Formatted here, in the request's language.
        months = cast(forms.TypedChoiceField, self.fields["months"])
        months.choices = [
            (n, ngettext("Last %(n)s month", "Last %(n)s months", n) % {"n": n})
            for n in statistics.MONTH_CHOICES
        ]

    @classmethod
    def from_query(cls, query: Any) -> "StatisticsForm":
        data = query.copy()
        for name, default in (("status", "all"), ("months", "12")):
            if not data.get(name):
                data[name] = default
        return cls(data)

    def statistics_filters(self) -> statistics.StatisticsFilters:
        data = self.cleaned_data
        return statistics.StatisticsFilters(
            listed_only=data["status"] == "listed",
            category_id=data["category"].pk if data["category"] else None,
            district_id=data["district"].pk if data["district"] else None,
            industry_id=data["industry"].pk if data["industry"] else None,
            months=data["months"],
        )

    def description(self) -> list[str]:
        """The filters in words, for the top of an export."""
        data = self.cleaned_data
        parts = [str(dict(STATUS_CHOICES)[data["status"]])]
        for name in ("category", "district", "industry"):
            if data[name]:
                parts.append(f"{self.fields[name].label}: {data[name].label}")
        return parts


# --- the views ------------------------------------------------------------------


class StatisticsMixin(PermissionCheckedMixin, WagtailAdminTemplateMixin):
    model = Expert
    any_permission_required = PERMISSIONS
    header_icon = "table"
    page_title = _("Talent pool statistics")
    index_url_name: str = ""
    experts_export_url_name: str = ""

    @cached_property
    def form(self) -> StatisticsForm:
        return StatisticsForm.from_query(self.request.GET)

    def get_breadcrumbs_items(self) -> list[dict[str, Any]]:
        return [
            *self.breadcrumbs_items,
            {"url": reverse(self.index_url_name), "label": self.get_page_title()},
        ]

    def export_format(self) -> str | None:
        value = self.request.GET.get("export")
        return value if value in EXPORT_FORMATS else None

    def filename(self, stem: str) -> str:
        return f"{stem}-{timezone.localdate().isoformat()}"


class StatisticsView(StatisticsMixin, TemplateView):
    """The figures as the filters say, with charts, tables and exports."""

    template_name = "talentpool/admin/statistics.html"

    @cached_property
    def stats(self) -> statistics.PoolStatistics | None:
        if not self.form.is_valid():
            return None
        return statistics.pool_statistics(filters=self.form.statistics_filters())

    def get(  # type: ignore[override]  # the exports are files, not pages
        self, request: HttpRequest, *args, **kwargs
    ) -> HttpResponseBase:
        export = self.export_format()
        if export and self.stats is not None:
            if export == "csv":
                return self.csv_response()
            return self.xlsx_response()
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["form"] = self.form
        context["media"] = self.form.media
        context["stats"] = self.stats
        if self.stats is not None:
            query = self.request.GET.copy()
            query.pop("export", None)
            exports = {}
            for fmt in EXPORT_FORMATS:
                query["export"] = fmt
                exports[fmt] = query.urlencode()
            context["statistics_csv_url"] = f"?{exports['csv']}"
            context["statistics_xlsx_url"] = f"?{exports['xlsx']}"
            base = reverse(self.experts_export_url_name)
            context["experts_csv_url"] = f"{base}?{exports['csv']}"
            context["experts_xlsx_url"] = f"{base}?{exports['xlsx']}"
            context["sections"] = [
                {"table": table, "chart": table_chart(table)}
                for table in self.stats.tables.values()
            ]
        return context

    # --- exports of the figures: every table, one after another in the
    # CSV, one sheet each in the workbook. Small: written whole.

    def _preamble(self) -> list[list[Any]]:
        stats = self.stats
        assert stats is not None
        return [
            [gettext("Talent pool statistics"), timezone.localdate().isoformat()],
            [gettext("Filters"), "; ".join(self.form.description())],
            [gettext("Experts"), stats.totals.experts],
            [gettext("Listed"), stats.totals.listed],
            [gettext("Not listed"), stats.totals.not_listed],
        ]

    def _table_rows(self, table: statistics.Table) -> list[list[Any]]:
        rows = [table.headings, *table.rows]
        if table.totals:
            rows.append(table.totals)
        return rows

    def csv_response(self) -> HttpResponse:
        assert self.stats is not None
        rows = self._preamble()
        for table in self.stats.tables.values():
            rows += [[], [table.title], *self._table_rows(table)]
        content = b"".join(csv_stream(rows, language=translation.get_language()))
        response = HttpResponse(content, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = content_disposition_header(
            as_attachment=True,
            filename=f"{self.filename('talent-pool-statistics')}.csv",
        )
        return response

    def xlsx_response(self) -> FileResponse:
        assert self.stats is not None
        workbook = Workbook(write_only=True)
        taken: set[str] = set()
        sheet = workbook.create_sheet(title=sheet_title(gettext("Overview"), taken))
        sheet.column_dimensions["A"].width = 24
        sheet.column_dimensions["B"].width = 40
        for row in self._preamble():
            sheet.append(xlsx_row(sheet, row))
        for table in self.stats.tables.values():
            sheet = workbook.create_sheet(title=sheet_title(table.title, taken))
            sheet.column_dimensions["A"].width = 28
            for row in self._table_rows(table):
                sheet.append(xlsx_row(sheet, row))
        return xlsx_response(
            workbook, filename=f"{self.filename('talent-pool-statistics')}.xlsx"
        )


class ExpertExportView(StatisticsMixin, TemplateView):
    """Every expert matching the statistics' filters, with contact details,
    qualifications and statuses, as CSV (streamed) or XLSX (written to a
    temporary file, then sent). A bad filter or format goes back to the
    statistics screen, which says what is wrong."""

    def get(  # type: ignore[override]  # the exports are files, not pages
        self, request: HttpRequest, *args, **kwargs
    ) -> HttpResponseBase:
        export = self.export_format()
        if export is None or not self.form.is_valid():
            query = request.GET.copy()
            query.pop("export", None)
            return redirect(f"{reverse(self.index_url_name)}?{query.urlencode()}")
        filters = self.form.statistics_filters()
        # Contact details of the whole pool: recorded before the file is sent
        # (the CSV streams after this view returns).
        export_log(
            request=request,
            what=gettext_noop("Experts with contact details"),
            file_format=export,
            rows=statistics.filtered_experts(filters).count(),
            filters="; ".join(self.form.description()),
        )
        if export == "csv":
            return self.csv_response(filters)
        return self.xlsx_response(filters)

    def csv_response(
        self, filters: statistics.StatisticsFilters
    ) -> StreamingHttpResponse:
        def rows():
            yield statistics.export_headings()
            yield from statistics.expert_export_rows(filters=filters)

        response = StreamingHttpResponse(
            csv_stream(rows(), language=translation.get_language()),
            content_type="text/csv; charset=utf-8",
        )
        response["Content-Disposition"] = content_disposition_header(
            as_attachment=True, filename=f"{self.filename('experts')}.csv"
        )
        return response

    def xlsx_response(self, filters: statistics.StatisticsFilters) -> FileResponse:
        # Write-only mode keeps rows on disk, not in memory; the finished
        # workbook goes to a temporary file that the response sends.
        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet(title=sheet_title(gettext("Experts"), set()))
        sheet.freeze_panes = "A2"
        sheet.append(statistics.export_headings())
        for row in statistics.expert_export_rows(filters=filters):
            sheet.append(xlsx_row(sheet, row))
        return xlsx_response(workbook, filename=f"{self.filename('experts')}.xlsx")


# --- charts ---------------------------------------------------------------------

CHART_ROWS = 40


#: The statistics' charts: a row per district (38 of them) stays short.
CHART_LAYOUT = BarLayout(
    label_width=200,
    value_width=110,
    row_height=26,
    bar_inset=4,
    top=30,
    legend_y=6,
    bottom=4,
    legend_part_offset=180,
)


def table_chart(table: statistics.Table) -> dict[str, Any] | None:
    """Horizontal bars, one per row of `table` (at most CHART_ROWS: the first
    ones, which are the largest groups, or the latest months): the value
    column, and over it the part column, so the filled share reads as a
    rate. None when every value is zero: an empty chart says nothing."""
    rows = (
        table.rows[-CHART_ROWS:] if table.key in _MONTHLY else table.rows[:CHART_ROWS]
    )
    if not any(row[table.chart_value] for row in rows):
        return None
    part = table.chart_part
    return bar_chart(
        [
            Bar(
                label=row[0],
                value=row[table.chart_value],
                part=row[part] if part is not None else None,
            )
            for row in rows
        ],
        chart_id=f"stats-{table.key.replace('_', '-')}",
        value_heading=table.headings[table.chart_value],
        part_heading=table.headings[part] if part is not None else "",
        total=len(table.rows),
        layout=CHART_LAYOUT,
    )


_MONTHLY = ("applications", "contact_requests")


# --- the dashboard panel ----------------------------------------------------------


class TalentPoolDashboardPanel(Component):
    """Listed experts and what waits for staff, on the dashboard of those
    who may see the statistics."""

    name = "talent_pool_summary"
    template_name = "talentpool/admin/statistics_panel.html"
    order = 110  # after the training panel

    def __init__(self, url: str, *, applications_shown: bool = False) -> None:
        self.url = url
        # The applications waiting are already in the dashboard's summary
        # (talentpool.applications.admin_hooks.ApplicationsSummaryItem) for
        # whoever reviews them: not a second time here.
        self.applications_shown = applications_shown

    def get_context_data(self, parent_context: Any = None) -> dict[str, Any]:
        return {
            "summary": statistics.pool_summary(),
            "statistics_url": self.url,
            "applications_shown": self.applications_shown,
        }


# --- registration -----------------------------------------------------------------


class StatisticsMenuItem(MenuItem):
    def is_shown(self, request) -> bool:
        return can_view_statistics(request.user)


class StatisticsViewSet(ViewSet):
    """The statistics screen and the exports, an item of the talent pool's
    menu group (talentpool/wagtail_hooks.py)."""

    name = "talentpool_statistics"
    url_prefix = "talent-pool/statistics"
    icon = "table"
    menu_label = _("Statistics")
    menu_name = "talent-pool-statistics"
    menu_item_class = StatisticsMenuItem

    def get_common_view_kwargs(self, **kwargs):
        return super().get_common_view_kwargs(
            index_url_name=self.get_url_name("index"),
            experts_export_url_name=self.get_url_name("experts_export"),
            **kwargs,
        )

    def get_urlpatterns(self):
        return [
            path("", self.construct_view(StatisticsView), name="index"),
            path(
                "experts/",
                self.construct_view(ExpertExportView),
                name="experts_export",
            ),
        ]

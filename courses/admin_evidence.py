"""Training evidence in the admin: for an enrolment or a certificate, the
records it rests on (courses.evidence), as a page that prints as a document
and as a CSV or XLSX download, each download recorded in Wagtail's log as
``portal.export`` (portal.exports).

URLs (namespace ``courses_evidence``), for other screens to link to:

- ``courses_evidence:enrolment`` (``enrolment_id``): needs "view enrolment"
  (courses.view_enrolment), as the training report does;
- ``courses_evidence:certificate`` (``certificate_id``): needs "view
  certificate" (courses.view_certificate), as the certificates admin does.

Add ``?export=csv`` or ``?export=xlsx`` for the download. Both permissions
count only in a session that proved MFA (portal.staff); learners see their
own records in My learning, never here.
"""

import datetime
from decimal import Decimal
from typing import Any

from openpyxl import Workbook

from django.contrib.admin.utils import quote
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
)
from django.urls import reverse
from django.utils import formats, translation
from django.utils.functional import cached_property
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop
from django.views.generic import TemplateView

from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.views.generic.permissions import PermissionCheckedMixin
from wagtail.permission_policies import ModelPermissionPolicy

from courses import evidence as records
from courses.certificates.admin_views import CERTIFICATES, POLICIES
from courses.models import Certificate, Enrolment
from portal.exports import csv_stream, export_log, sheet_title, xlsx_response, xlsx_row

NAMESPACE = "courses_evidence"
EXPORT_FORMATS = ("csv", "xlsx")


def enrolment_evidence_url(enrolment_id: int) -> str:
    return reverse(f"{NAMESPACE}:enrolment", args=(enrolment_id,))


def certificate_evidence_url(certificate_id: int) -> str:
    return reverse(f"{NAMESPACE}:certificate", args=(certificate_id,))


# --- cells ---------------------------------------------------------------------------


def cell_text(value: Any) -> str:
    """A cell as the page shows it, in the active language: times to the
    second (they are already in Asia/Shanghai), dates in words."""
    if value is None or value == "":
        return "—"
    if isinstance(value, datetime.datetime):
        return (
            f"{formats.date_format(value, 'DATE_FORMAT')} "
            f"{formats.time_format(value, 'H:i:s')}"
        )
    if isinstance(value, datetime.date):
        return formats.date_format(value, "DATE_FORMAT")
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    return str(formats.localize(value))


def page_cell(value: Any) -> dict:
    return {
        "text": cell_text(value),
        "iso": value.isoformat()
        if isinstance(value, datetime.date | datetime.datetime)
        else "",
        "number": isinstance(value, int | float | Decimal)
        and not isinstance(value, bool),
        "empty": value is None or value == "",
    }


def file_cell(value: Any) -> Any:
    """A cell for the files: times with seconds, as local Shanghai time."""
    if isinstance(value, datetime.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return value


def xlsx_cell(value: Any) -> Any:
    if isinstance(value, datetime.datetime):
        return value.replace(tzinfo=None)  # already Shanghai; XLSX has no zones
    return value


# --- the views -----------------------------------------------------------------------


class EvidenceView(PermissionCheckedMixin, WagtailAdminTemplateMixin, TemplateView):
    """One piece of evidence as a page, or (``?export=``) as a file."""

    template_name = "courses/admin/evidence.html"
    permission_required = "view"
    page_title = gettext_lazy("Training evidence")
    header_icon = "clipboard-list"
    # No breadcrumbs: the title is then a visible heading, also on paper.
    breadcrumbs_items: list = []

    def get_evidence(self) -> records.Evidence | None:
        raise NotImplementedError

    def filename(self) -> str:
        raise NotImplementedError

    @cached_property
    def evidence(self) -> records.Evidence:
        # Asked after the permission check (dispatch): whoever may not see
        # evidence does not learn which ids exist.
        evidence = self.get_evidence()
        if evidence is None:
            raise Http404
        return evidence

    def get_page_subtitle(self) -> str:
        learner = self.evidence.learner
        return f"{learner.real_name or learner.email} · {self.evidence.title}"

    def get(  # type: ignore[override]  # the XLSX download is a FileResponse
        self, request: HttpRequest, *args: Any, **kwargs: Any
    ) -> HttpResponseBase:
        export = request.GET.get("export")
        if export in EXPORT_FORMATS:
            evidence = self.evidence
            export_log(
                request=request,
                what=gettext_noop("Training evidence"),
                file_format=export,
                rows=evidence.row_count,
                instance=evidence.subject,
            )
            if export == "csv":
                return self.csv_response(evidence)
            return self.xlsx_response(evidence)
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        evidence = self.evidence
        context = super().get_context_data(**kwargs)
        context.update(
            evidence=evidence,
            tables=[
                {
                    "table": table,
                    "rows": [[page_cell(value) for value in row] for row in table.rows],
                }
                for table in evidence.tables
            ],
            csv_url="?export=csv",
            xlsx_url="?export=xlsx",
            links=self.links(),
        )
        return context

    def links(self) -> list[dict]:
        return []

    # --- the files: the page's tables, one after another (CSV) or one sheet
    # each (XLSX). Small, so written whole.

    def _title_rows(self, evidence: records.Evidence) -> list[list[Any]]:
        return [[str(self.page_title), self.get_page_subtitle()]]

    def csv_response(self, evidence: records.Evidence) -> HttpResponse:
        rows = self._title_rows(evidence)
        for table in evidence.tables:
            rows += [[], [table.title]]
            if not table.facts:
                rows.append(table.headings)
            rows += [[file_cell(value) for value in row] for row in table.rows]
            if not table.rows:
                rows.append([table.empty])
        content = b"".join(csv_stream(rows, language=translation.get_language()))
        response = HttpResponse(content, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = content_disposition_header(
            as_attachment=True, filename=f"{self.filename()}.csv"
        )
        return response

    def xlsx_response(self, evidence: records.Evidence) -> FileResponse:
        workbook = Workbook(write_only=True)
        taken: set[str] = set()
        for table in evidence.tables:
            sheet = workbook.create_sheet(title=sheet_title(table.title, taken))
            sheet.column_dimensions["A"].width = 28
            for column in "BCDEFGH":
                sheet.column_dimensions[column].width = 20
            if table.key == "learner":
                for row in self._title_rows(evidence):
                    sheet.append(xlsx_row(sheet, row))
                sheet.append([])
            if not table.facts:
                sheet.append(xlsx_row(sheet, table.headings))
            for row in table.rows:
                cells = xlsx_row(sheet, [xlsx_cell(value) for value in row])
                for cell in cells:
                    if isinstance(cell.value, datetime.datetime):
                        cell.number_format = "yyyy-mm-dd hh:mm:ss"
                sheet.append(cells)
            if not table.rows:
                sheet.append(xlsx_row(sheet, [table.empty]))
        return xlsx_response(workbook, filename=f"{self.filename()}.xlsx")


ENROLMENTS = ModelPermissionPolicy(Enrolment)


class EnrolmentEvidenceView(EvidenceView):
    permission_policy = ENROLMENTS

    def get_evidence(self) -> records.Evidence | None:
        return records.enrolment_evidence(enrolment_id=self.kwargs["enrolment_id"])

    def filename(self) -> str:
        return f"evidence-enrolment-{self.evidence.enrolment.pk}"  # type: ignore[union-attr]  # the view found the evidence before naming the file

    def links(self) -> list[dict]:
        certificate = self.evidence.certificate
        if certificate is None or not POLICIES[Certificate].user_has_permission(
            self.request.user, "view"
        ):
            return []
        return [
            {
                "url": certificate_evidence_url(certificate.pk),
                "label": _("Evidence of certificate %(serial)s")
                % {"serial": certificate.serial},
            },
            {
                "url": reverse(
                    f"{CERTIFICATES}:inspect", args=(quote(certificate.pk),)
                ),
                "label": _("Certificate %(serial)s") % {"serial": certificate.serial},
            },
        ]


class CertificateEvidenceView(EvidenceView):
    permission_policy = POLICIES[Certificate]

    def get_evidence(self) -> records.Evidence | None:
        return records.certificate_evidence(
            certificate_id=self.kwargs["certificate_id"]
        )

    def filename(self) -> str:
        return f"evidence-{self.evidence.certificate.serial}"  # type: ignore[union-attr]  # the view found the evidence before naming the file

    def links(self) -> list[dict]:
        certificate = self.evidence.certificate
        assert certificate is not None
        enrolment = self.evidence.enrolment
        if enrolment is not None and ENROLMENTS.user_has_permission(
            self.request.user, "view"
        ):
            course = [
                {
                    "url": enrolment_evidence_url(enrolment.pk),
                    "label": _("Evidence of the enrolment"),
                }
            ]
        else:
            course = []
        return [
            *course,
            {
                "url": reverse(
                    f"{CERTIFICATES}:inspect", args=(quote(certificate.pk),)
                ),
                "label": _("Certificate %(serial)s") % {"serial": certificate.serial},
            },
        ]

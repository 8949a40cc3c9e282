"""The admin's import of a spreadsheet, for every import (trainees into a
class, experts into the talent pool), run in the background
(portal.import_jobs):

1. The upload form takes one .csv or .xlsx file within the import's size
   limit; the request keeps the file in the default storage under a random
   name (nothing about it reaches the browser), writes an ImportJob and
   queues its check, then leads to the job's page. Nothing is read or
   written in the request.
2. The job's page shows the check's progress (it reloads itself while a task
   works), then what the file would do and every problem (the import's
   preview template), with a CSV of every bad row to download. Confirming
   queues the write, which checks the file again and imports it, all or
   nothing; the page then shows its progress and the result. Cancelling
   deletes the file. Rows are never taken back from the browser.

Each import subclasses the upload view and says which kind of job it makes
(`import_kind`, registered with portal.import_jobs.register_import_kind),
where its file is kept and what its pages show. Only a user who may import
that kind (the kind's `may_import`) sees its jobs; anyone else gets a 404.
"""

from typing import Any

from django import forms
from django.core.validators import FileExtensionValidator
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    JsonResponse,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import FormView, TemplateView

from wagtail.admin import messages
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.views.generic.permissions import PermissionCheckedMixin

from portal.http import signed_in_user
from portal.import_jobs import (
    ImportKind,
    error_report_csv,
    import_job_cancel,
    import_job_confirm,
    import_job_create,
    import_job_expire_stale,
    import_job_live,
    import_kind,
)
from portal.models import ImportJob
from portal.tabular import EXTENSIONS, too_large_message

#: Problems listed on the job's page; the CSV report has them all.
MAX_ERRORS_SHOWN = 1000
#: How often the job's page reloads itself while a task works, in seconds.
REFRESH_SECONDS = 2


class SpreadsheetForm(forms.Form):
    """Step 1's form: one .csv or .xlsx file of at most `max_bytes`."""

    #: The field's label (lazy) and the largest file taken, set by each import.
    file_label: Any = None
    max_bytes: int = 0

    file = forms.FileField(
        validators=[FileExtensionValidator([ext.lstrip(".") for ext in EXTENSIONS])],
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(EXTENSIONS)}),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["file"].label = self.file_label
        # Formatted here, in the request's language, not once at import time.
        self.fields["file"].help_text = self.get_help_text()

    def get_help_text(self) -> str:
        return ""

    def upload_options(self) -> dict[str, Any]:
        """What the form chose besides the file, kept on the job (JSON
        values)."""
        return {}

    def too_large(self) -> str:
        """Said when the file is over `max_bytes`."""
        return too_large_message(self.max_bytes)

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > self.max_bytes:
            raise forms.ValidationError(self.too_large())
        return upload


class SpreadsheetImportMixin(PermissionCheckedMixin, WagtailAdminTemplateMixin):
    """What the upload needs: the kind of job, the storage folder of the
    kept files, and where cancelling leads."""

    header_icon = "upload"
    #: The kind of ImportJob made (portal.import_jobs.register_import_kind).
    import_kind = ""
    #: The storage folder of the kept files.
    upload_folder = ""

    def get_import_target_id(self) -> int | None:
        """What the import goes into (a training class), if anything."""
        return None

    def get_done_url(self) -> str:
        """Where cancelling leads."""
        raise NotImplementedError


class SpreadsheetUploadView(SpreadsheetImportMixin, FormView):
    """Step 1: choose the file; the check runs in the background."""

    def get_context_data(self, **kwargs):
        return super().get_context_data(cancel_url=self.get_done_url(), **kwargs)

    def form_valid(self, form: SpreadsheetForm) -> HttpResponse:
        job = import_job_create(
            kind=self.import_kind,
            target_id=self.get_import_target_id(),
            upload=form.cleaned_data["file"],
            folder=self.upload_folder,
            # Only signed-in users with the permission reach the admin.
            user=signed_in_user(self.request),
            options=form.upload_options(),
        )
        return redirect(import_job_url(job))


def import_job_url(job: ImportJob, name: str = "portal_import_job") -> str:
    return reverse(name, args=(job.pk,))


class StoredReport:
    """What the check kept on the job, shaped like the FileReport the preview
    templates were written for: `errors`, `warnings`, `is_valid` and the
    kind's own summary (report.rows, report.sample, …) as attributes."""

    def __init__(self, job: ImportJob) -> None:
        self.__dict__.update(job.report)
        self.errors = job.errors
        self.warnings = job.report.get("warnings", [])
        self.is_valid = bool(job.report.get("is_valid"))


class ImportJobMixin:
    """The job of the URL, for a user who may import its kind; 404 for
    anyone else, as for a job that does not exist."""

    request: HttpRequest
    job: ImportJob
    kind: ImportKind

    def setup(self, request: HttpRequest, *args, **kwargs) -> None:
        super().setup(request, *args, **kwargs)  # type: ignore[misc]  # a mixin of View
        self.job = get_object_or_404(ImportJob, pk=kwargs["pk"])
        try:
            self.kind = import_kind(self.job.kind)
        except KeyError:
            raise Http404 from None
        if not self.kind.may_import(request.user, self.job.target_id):
            raise Http404


class ImportJobView(ImportJobMixin, WagtailAdminTemplateMixin, TemplateView):
    """The job's page: progress while a task works, the preview once it is
    checked (confirm or cancel), the result at the end."""

    header_icon = "upload"

    def get_page_title(self) -> str:
        return str(self.kind.label)

    def get_page_subtitle(self) -> str:
        return self.job.filename

    def get_template_names(self) -> list[str]:
        if self.job.status == ImportJob.Status.CHECKED:
            return [self.kind.preview_template]
        return [self.kind.job_template]

    def get(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        self.job = import_job_live(import_job_expire_stale(self.job))
        return super().get(request, *args, **kwargs)

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if "cancel" in request.POST:
            if import_job_cancel(job=self.job):
                messages.success(
                    request, _("The import was cancelled; nothing changed.")
                )
            return redirect(self.kind.done_url(self.job.target_id))
        if "confirm" in request.POST and not import_job_confirm(job=self.job):
            messages.warning(
                request,
                _("This import cannot be confirmed now: see its state below."),
            )
        return redirect(import_job_url(self.job))

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        job = self.job
        report = StoredReport(job)
        shown = job.errors[:MAX_ERRORS_SHOWN]
        context = super().get_context_data(
            job=job,
            report=report,
            preview=report,
            filename=job.filename,
            errors=shown,
            more_errors=len(job.errors) - len(shown),
            upload_url=self.kind.upload_url(job.target_id),
            done_url=self.kind.done_url(job.target_id),
            report_url=import_job_url(job, "portal_import_job_report"),
            status_url=import_job_url(job, "portal_import_job_status"),
            refresh_seconds=REFRESH_SECONDS,
            percent=_percent(job),
            result=job.result,
            **kwargs,
        )
        context.update(job.report.get("context", {}))
        return context


class ImportJobStatusView(ImportJobMixin, View):
    """The job's state as JSON, for a page or a script that follows it."""

    def get(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        job = import_job_live(import_job_expire_stale(self.job))
        return JsonResponse(
            {
                "status": job.status,
                "status_label": job.get_status_display(),
                "running": job.is_running,
                "rows_total": job.rows_total,
                "rows_done": job.rows_done,
                "percent": _percent(job),
                "error_count": job.error_count,
                "message": job.message,
                "result": job.result,
                "unlisted_expert_count": job.unlisted_expert_count,
            }
        )


class ImportJobReportView(ImportJobMixin, View):
    """Every bad row of the job as a CSV (UTF-8 with a byte-order mark)."""

    def get(self, request: HttpRequest, *args, **kwargs) -> StreamingHttpResponse:
        response = StreamingHttpResponse(
            error_report_csv(self.job), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = (
            f'attachment; filename="import-{self.job.pk}-problems.csv"'
        )
        return response


def _percent(job: ImportJob) -> int:
    if not job.rows_total:
        return 100 if job.status == ImportJob.Status.DONE else 0
    return min(100, job.rows_done * 100 // job.rows_total)

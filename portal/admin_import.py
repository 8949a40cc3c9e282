"""The admin's import of a spreadsheet, in two steps, for every import
(trainees into a class, experts into the talent pool).

1. The upload form takes one .csv or .xlsx file within the import's size
   limit; the file is kept in the default storage under a random name that
   only the session knows (portal.tabular.pending_upload_save): nothing about
   it reaches the browser.
2. The preview reads the kept file and shows what it would do and every
   problem. Confirming reads it again, checks it again and imports it, all or
   nothing, then deletes it; cancelling deletes it. Rows are never taken back
   from the browser.

Each import subclasses these views and says where its file is kept, where
the steps lead, how a file is checked (`check_file`) and imported
(`import_file`), and what its pages show.
"""

from typing import IO, Any

from django import forms
from django.core.validators import FileExtensionValidator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.generic import FormView, TemplateView

from wagtail.admin import messages
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.views.generic.permissions import PermissionCheckedMixin

from portal.tabular import (
    EXTENSIONS,
    FileReport,
    pending_upload_discard,
    pending_upload_open,
    pending_upload_options,
    pending_upload_save,
    too_large_message,
)


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
        """What the form chose besides the file, kept with it until the
        import (JSON values; the preview view's `upload_options`)."""
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
    """What both steps share: the kept file and where the steps lead."""

    header_icon = "upload"
    #: The session entry and the storage folder of the kept files.
    session_key = ""
    upload_folder = ""

    def get_session_slot(self) -> str:
        """Which kept file of the session this import uses (one per slot)."""
        raise NotImplementedError

    def get_upload_url(self) -> str:
        raise NotImplementedError

    def get_preview_url(self) -> str:
        raise NotImplementedError

    def get_done_url(self) -> str:
        """Where cancelling and a finished import lead."""
        raise NotImplementedError


class SpreadsheetUploadView(SpreadsheetImportMixin, FormView):
    """Step 1: choose the file."""

    def get_context_data(self, **kwargs):
        return super().get_context_data(cancel_url=self.get_done_url(), **kwargs)

    def form_valid(self, form: SpreadsheetForm) -> HttpResponse:
        pending_upload_save(
            self.request,
            session_key=self.session_key,
            slot=self.get_session_slot(),
            folder=self.upload_folder,
            upload=form.cleaned_data["file"],
            options=form.upload_options(),
        )
        return redirect(self.get_preview_url())


class SpreadsheetPreviewView(SpreadsheetImportMixin, TemplateView):
    """Step 2: what the file would do and every problem; confirm imports all
    or nothing, cancel forgets the file."""

    #: Problems listed; a file with more says how many more (None: all).
    max_errors_shown: int | None = None

    def check_file(self, file: IO[bytes], filename: str) -> FileReport:
        """Read and check the kept file, writing nothing."""
        raise NotImplementedError

    def import_file(self, file: IO[bytes], filename: str) -> str | HttpResponse:
        """Check the kept file again and import it: the message to show once
        imported, or the page to answer with when the import was refused
        (the file is then kept)."""
        raise NotImplementedError

    @property
    def upload_options(self) -> dict[str, Any]:
        """The options chosen with the kept file on the upload form."""
        return pending_upload_options(
            self.request, session_key=self.session_key, slot=self.get_session_slot()
        )

    def no_file_message(self) -> str:
        """Said when no kept file waits (imported, cancelled or expired)."""
        return _("No uploaded file is waiting: upload it again.")

    def get(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        pending = self._pending_open()
        if pending is None:
            return self._start_again()
        file, filename = pending
        with file:
            report = self.check_file(file, filename)
        return self.render_to_response(
            self.get_context_data(report=report, filename=filename)
        )

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if "cancel" in request.POST:
            self._pending_discard()
            messages.success(request, _("The import was cancelled; nothing changed."))
            return redirect(self.get_done_url())
        pending = self._pending_open()
        if pending is None:
            return self._start_again()
        file, filename = pending
        with file:
            outcome = self.import_file(file, filename)
        if isinstance(outcome, HttpResponse):
            return outcome
        self._pending_discard()
        messages.success(request, outcome)
        return redirect(self.get_done_url())

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        report: FileReport = kwargs["report"]  # given by get() and the imports
        shown = report.errors
        if self.max_errors_shown is not None:
            shown = shown[: self.max_errors_shown]
        return super().get_context_data(
            errors=shown,
            more_errors=len(report.errors) - len(shown),
            upload_url=self.get_upload_url(),
            **kwargs,
        )

    def _start_again(self) -> HttpResponse:
        messages.warning(self.request, self.no_file_message())
        return redirect(self.get_upload_url())

    def _pending_open(self) -> tuple[IO[bytes], str] | None:
        return pending_upload_open(
            self.request, session_key=self.session_key, slot=self.get_session_slot()
        )

    def _pending_discard(self) -> None:
        pending_upload_discard(
            self.request, session_key=self.session_key, slot=self.get_session_slot()
        )

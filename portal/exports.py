"""Writing spreadsheets for staff: CSV that Excel opens as UTF-8, and XLSX.

Shared by the admin's exports (the training report, the talent pool's
statistics and expert list). Cells may hold text typed by users (names,
organisations, biographies): text that a spreadsheet would run as a formula
is defused, and characters XLSX cannot hold are dropped.

A download of personal data (names, e-mail addresses, phone numbers) is
recorded in Wagtail's audit log by export_log: who, when, what and how many
rows, under Reports › Site history (docs/security.md).
"""

import codecs
import csv
import datetime
import tempfile
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any

from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from django.db.models import Model
from django.http import FileResponse, HttpRequest
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from wagtail.log_actions import LogFormatter, log
from wagtail.models import Site

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: str) -> str:
    """Text starting with = + - or @ would run as a formula when the CSV is
    opened in a spreadsheet: a leading apostrophe keeps it text."""
    return "'" + value if value[:1] in _FORMULA_STARTS else value


def _beijing(value: datetime.datetime) -> datetime.datetime:
    """An aware time in the portal's time zone (a naive one as it is): the
    database hands times back in UTC, and an export is read in Beijing."""
    if timezone.is_naive(value):
        return value
    return timezone.localtime(value, timezone.get_default_timezone())


def csv_cell(value: Any) -> str:
    """A cell as CSV text: times to the minute, dates in ISO form, nothing
    for None, user text defused."""
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return _beijing(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, int | Decimal | float):
        return str(value)
    return spreadsheet_safe(str(value))


class _Echo:
    """The file csv.writer writes to: hands each line back."""

    def write(self, value: str) -> str:
        return value


def csv_stream(
    rows: Iterable[list[Any]], *, language: str | None, lines_per_chunk: int = 200
) -> Iterator[bytes]:
    """UTF-8 CSV with a BOM (which is how Excel knows it is UTF-8), in
    chunks of lines, for a StreamingHttpResponse. The rows are produced
    while `language` is active: a streamed response is written after the
    view has returned, when the request's language no longer is."""
    writer = csv.writer(_Echo())
    with translation.override(language):
        yield codecs.BOM_UTF8
        lines: list[str] = []
        for row in rows:
            lines.append(writer.writerow([csv_cell(value) for value in row]))
            if len(lines) >= lines_per_chunk:
                yield "".join(lines).encode("utf-8")
                lines = []
        if lines:
            yield "".join(lines).encode("utf-8")


def xlsx_row(sheet: Any, row: list[Any]) -> list[WriteOnlyCell]:
    """Cells for a write-only worksheet: text is never a formula and loses
    the control characters XLSX refuses; times show to the minute."""
    cells = []
    for value in row:
        if isinstance(value, Promise):
            value = str(value)  # a lazy translation
        if isinstance(value, str):
            value = ILLEGAL_CHARACTERS_RE.sub("", value)
        elif isinstance(value, datetime.datetime) and value.tzinfo is not None:
            # XLSX has no time zones: the wall time in Beijing, never UTC's.
            value = _beijing(value).replace(tzinfo=None)
        cell = WriteOnlyCell(sheet, value=value)
        if cell.data_type == "f":
            cell.data_type = "s"
        if isinstance(value, datetime.datetime):
            cell.number_format = "yyyy-mm-dd hh:mm"
        elif isinstance(value, datetime.date):
            cell.number_format = "yyyy-mm-dd"
        cells.append(cell)
    return cells


def sheet_title(text: str, taken: set[str]) -> str:
    """A worksheet name: at most 31 characters, none of []:*?/\\, unique."""
    title = "".join(" " if c in "[]:*?/\\" else c for c in text).strip()[:31] or "-"
    base, n = title, 2
    while title in taken:
        suffix = f" ({n})"
        title, n = base[: 31 - len(suffix)] + suffix, n + 1
    taken.add(title)
    return title


def xlsx_response(workbook: Any, *, filename: str) -> FileResponse:
    """Send a workbook as a download. It is saved to a temporary file, not
    to memory: a write-only workbook of a hundred thousand rows stays small
    in memory only if its finished file does too."""
    # Not a `with` block: FileResponse closes the file once it is sent, and
    # a temporary file vanishes when closed.
    output = tempfile.TemporaryFile()  # noqa: SIM115
    workbook.save(output)
    output.seek(0)
    return FileResponse(
        output, as_attachment=True, content_type=XLSX_CONTENT_TYPE, filename=filename
    )


# --- the audit log of exports ------------------------------------------------

#: Wagtail log action of every download of personal data (Reports › Site history).
LOG_EXPORTED = "portal.export"


def export_log(
    *,
    request: HttpRequest,
    what: str,
    file_format: str,
    rows: int,
    instance: Model | None = None,
    filters: str = "",
) -> None:
    """Record in Wagtail's audit log that the request's user downloaded `rows`
    rows of `what` as `file_format`, with the given filters (in words).

    `what` is an untranslated msgid (marked with gettext_noop), translated when
    the log is read, so each reader sees it in their own language. `instance`
    is what the rows belong to (an event page, an announcement); an export of
    the whole site's records (the talent pool) is logged on the request's
    Wagtail site. Call it after the permission check and before the file is
    sent: one entry per download, none for a refused one. Not idempotent: two
    downloads are two entries."""
    target = instance or Site.find_for_request(request) or request.user
    log(
        instance=target,
        action=LOG_EXPORTED,
        user=request.user,
        data={
            "what": what,
            "format": file_format,
            "rows": rows,
            "filters": filters,
        },
    )


class ExportedFormatter(LogFormatter):
    """How Site history shows an export: what, in which format, how many rows
    and with which filters; the user and time are the entry's own columns."""

    label = _("Export personal data")

    def format_message(self, log_entry) -> str:
        data = log_entry.data or {}
        rows = data.get("rows", 0)
        message = ngettext(
            "Exported %(what)s as %(format)s: %(rows)s row.",
            "Exported %(what)s as %(format)s: %(rows)s rows.",
            rows,
        ) % {
            "what": gettext(data["what"]) if data.get("what") else "",
            "format": str(data.get("format", "")).upper(),
            "rows": rows,
        }
        if data.get("filters"):
            message += " " + gettext("Filters: %(filters)s") % {
                "filters": data["filters"]
            }
        return message

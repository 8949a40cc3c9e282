"""Writing spreadsheets for staff: CSV that Excel opens as UTF-8, and XLSX.

Shared by the admin's exports (the training report, the talent pool's
statistics and expert list). Cells may hold text typed by users (names,
organisations, biographies): text that a spreadsheet would run as a formula
is defused, and characters XLSX cannot hold are dropped.
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

from django.http import FileResponse
from django.utils import translation
from django.utils.functional import Promise

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: str) -> str:
    """Text starting with = + - or @ would run as a formula when the CSV is
    opened in a spreadsheet: a leading apostrophe keeps it text."""
    return "'" + value if value[:1] in _FORMULA_STARTS else value


def csv_cell(value: Any) -> str:
    """A cell as CSV text: times to the minute, dates in ISO form, nothing
    for None, user text defused."""
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
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
            value = value.replace(tzinfo=None)  # XLSX has no time zones
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

"""Reading the spreadsheets people upload: CSV (UTF-8, GBK/GB18030 or UTF-16,
as Excel saves them) and XLSX (first sheet), row by row.

Shared by every import (trainees into a class, experts into the talent pool):
each import says which columns it knows and how many rows it takes; this
module turns a file into lists of cell texts, finds the line that names the
columns, gives the values of each line below it within the limits, matches
vocabulary cells to terms and holds what a check found (FileReport). Rows are
streamed from a binary file object, so a file of a hundred thousand lines
never sits in memory whole. The admin's upload, preview and confirmation
steps are in portal.admin_import.
"""

import codecs
import csv
import io
import itertools
import re
import unicodedata
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import IO, Any, TypeVar
from zipfile import BadZipFile, ZipFile

from django.core.files.storage import default_storage
from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext as _

EXTENSIONS = (".csv", ".xlsx")
# What a workbook of a few thousand lines unpacks to is a few MB; zipped XML
# compresses about tenfold. Imports of big files pass a larger limit.
MAX_UNPACKED_BYTES = 100 * 1024 * 1024
_CHUNK = 1024 * 1024
ABANDONED_AFTER = timedelta(days=1)

T = TypeVar("T", bound=Model)


class FileProblem(Exception):
    """The file as a whole cannot be read; the message says why, in the
    active language."""


@dataclass(kw_only=True)
class FileReport:
    """What checking a file found, whatever it imports. `errors` hold (line,
    reason); line None means the whole file. `warnings` are said but stop
    nothing. A report with errors, or without rows, cannot be imported."""

    errors: list[tuple[int | None, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: {column: "C 类别"}: each column as the file's header names it, with
    #: its letter in the spreadsheet (column_names).
    column_names: dict[str, str] = field(default_factory=dict)
    #: The column an error is in, where the check knows it: (line, reason)
    #: -> its name in column_names.
    error_columns: dict[tuple[int | None, str], str] = field(default_factory=dict)

    def add_error(self, line: int | None, message: str, column: str = "") -> None:
        """A problem of `line` (None: the whole file), in `column` when the
        file has it."""
        self.errors.append((line, message))
        if column in self.column_names:
            self.error_columns[(line, message)] = self.column_names[column]

    def error_column(self, error: tuple[int | None, str]) -> str:
        return self.error_columns.get(error, "")

    @property
    def row_count(self) -> int:
        """The rows that passed the check."""
        raise NotImplementedError

    @property
    def is_valid(self) -> bool:
        return self.row_count > 0 and not self.errors


class RowProblems(list[str]):
    """A row's problems as they are found, each recorded with `column`: the
    column being checked when it was added ("" for the row as a whole)."""

    def __init__(self) -> None:
        super().__init__()
        self.column = ""
        self.columns: list[str] = []

    def append(self, message: str) -> None:
        super().append(message)
        self.columns.append(self.column)

    def extend(self, messages: Iterable[str]) -> None:
        for message in messages:
            self.append(message)

    def __iadd__(self, messages: Iterable[str]) -> "RowProblems":  # type: ignore[override,misc]  # list's += returns list[str]
        self.extend(messages)
        return self

    def report_to(self, report: FileReport, line: int) -> None:
        """Add each problem to `report` as a problem of `line`."""
        for message, column in zip(self, self.columns, strict=True):
            report.add_error(line, message, column)


def column_letter(index: int) -> str:
    """The spreadsheet's name of the column at `index` (0 → A, 26 → AA)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def column_names(
    columns: Mapping[int, str], labels: Mapping[str, Any]
) -> dict[str, str]:
    """{column: its letter and label} for a header found by find_header, as
    a report of bad rows names them ("C 类别")."""
    return {
        column: f"{column_letter(index)} {labels[column]}"
        for index, column in columns.items()
    }


def too_large_message(max_bytes: int) -> str:
    """The file is over `max_bytes`, said in whole MB in the active language."""
    return _("The file is larger than %(size)s MB.") % {
        "size": max_bytes // (1024 * 1024)
    }


def file_extension(filename: str) -> str:
    """ ".csv", ".xlsx" or "" (any other file), whatever the case of the name."""
    name = filename.lower()
    return next((ext for ext in EXTENSIONS if name.endswith(ext)), "")


def file_rows(
    file: IO[bytes], filename: str, *, max_unpacked_bytes: int = MAX_UNPACKED_BYTES
) -> Iterator[list[str]]:
    """The cell texts of each line of a .csv or .xlsx file, streamed. Raises
    FileProblem (possibly after some rows) when the file cannot be read."""
    extension = file_extension(filename)
    if extension == ".xlsx":
        return xlsx_rows(file, max_unpacked_bytes=max_unpacked_bytes)
    if extension == ".csv":
        return csv_rows(file)
    raise FileProblem(_("Upload a .csv or .xlsx file."))


# --- CSV -----------------------------------------------------------------------


def csv_rows(file: IO[bytes]) -> Iterator[list[str]]:
    """Rows of a CSV file (comma- or, as Excel's "Unicode text", tab-separated).
    The file must be seekable: the encoding is found in a first pass."""
    file.seek(0)
    if file.read(4).startswith(b"PK\x03\x04"):
        raise FileProblem(
            _(
                "This is an Excel workbook, not a CSV file: name it .xlsx, "
                "or save it as CSV."
            )
        )
    encoding = _detect_encoding(file)
    file.seek(0)
    text = io.TextIOWrapper(file, encoding=encoding, newline="")
    try:
        first_line = text.readline()
        # Excel's "Unicode text" export separates columns with tabs.
        delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
        # chain() rather than a generator: closing it must not close `text`.
        lines = itertools.chain([first_line] if first_line else [], text)
        try:
            for row in csv.reader(lines, delimiter=delimiter):
                yield [cell_text(cell) for cell in row]
        except csv.Error as error:
            raise FileProblem(
                _("The CSV file could not be read: %(error)s") % {"error": error}
            ) from error
    finally:
        # Leave the caller's file open: closing the wrapper would close it.
        # (A generator abandoned mid-file may be finalised after the caller
        # closed the file itself; there is nothing left to detach from.)
        if not file.closed:
            text.detach()


def _detect_encoding(file: IO[bytes]) -> str:
    """UTF-8 (with or without Excel's BOM) first; Excel on Chinese Windows
    saves CSV in GBK, which GB18030 contains. Decodes the whole file in
    chunks, so that a stray byte on the last line is found before any row is
    imported, without holding the file in memory."""
    file.seek(0)
    if file.read(2) in (b"\xff\xfe", b"\xfe\xff"):
        candidates = ["utf-16"]
    else:
        candidates = ["utf-8-sig", "gb18030"]
    for encoding in candidates:
        file.seek(0)
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            while chunk := file.read(_CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return encoding
    raise FileProblem(
        _(
            "The file's text encoding could not be recognised. Save it from Excel "
            "as “CSV UTF-8” or as an .xlsx workbook."
        )
    )


# --- XLSX ----------------------------------------------------------------------


def xlsx_rows(
    file: IO[bytes], *, max_unpacked_bytes: int = MAX_UNPACKED_BYTES
) -> Iterator[list[str]]:
    """Rows of the first sheet of a workbook, read in openpyxl's streaming mode."""
    from openpyxl import load_workbook

    unreadable = FileProblem(
        _("The file could not be read as an Excel workbook (.xlsx).")
    )
    file.seek(0)
    # A damaged or foreign file fails in many ways inside openpyxl (zip, XML,
    # missing parts); to the person uploading it they all mean the same.
    try:
        with ZipFile(file) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except BadZipFile as error:
        raise unreadable from error
    if unpacked > max_unpacked_bytes:
        # A few MB of zip can hold gigabytes of XML that openpyxl would load.
        raise FileProblem(_("The workbook is too large once unpacked."))
    file.seek(0)
    try:
        workbook = load_workbook(file, read_only=True, data_only=True)
    except Exception as error:
        raise unreadable from error
    try:
        if not workbook.worksheets:
            raise FileProblem(_("The workbook has no sheets."))
        sheet = workbook.worksheets[0]
        # Some programs write wrong sheet dimensions; read what is there.
        sheet.reset_dimensions()
        rows = sheet.iter_rows(values_only=True)
        while True:
            try:
                row = next(rows)
            except StopIteration:
                return
            except Exception as error:
                raise unreadable from error
            yield [cell_text(value) for value in row]
    finally:
        workbook.close()


# --- cells, column names and vocabulary terms ----------------------------------


def cell_text(value: Any) -> str:
    """A cell as trimmed text: whole numbers without ".0", dates in ISO form."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    elif isinstance(value, datetime | date):
        value = value.isoformat()
    # strip() takes ideographic and no-break spaces; these two it does not.
    return str(value).strip().strip("\u200b\ufeff").strip()


def header_key(text: str) -> str:
    """Column names compared without case, spaces, punctuation or a
    parenthesised note: "E-mail (required)" and "邮箱（必填）" are known."""
    key = unicodedata.normalize("NFKC", text).casefold()
    key = re.sub(r"\(.*?\)", "", key)
    return re.sub(r"[\s_\-*:/.、]", "", key)


def column_lookup(aliases: Mapping[str, Iterable[str]]) -> dict[str, str]:
    """{header key: column} from {column: names people write for it}."""
    return {
        header_key(alias): column
        for column, names in aliases.items()
        for alias in names
    }


def find_header(
    numbered: Iterator[tuple[int, list[str]]],
    *,
    columns_by_key: Mapping[str, str],
    required: Iterable[str],
    labels: Mapping[str, Any],
    not_found: str,
    warnings: list[str],
    search_lines: int = 10,
    strict: bool = False,
    ignorable: Collection[str] = (),
) -> tuple[int, dict[int, str]]:
    """The first line that names a known column; lines above it (a title, a
    note) are ignored with a warning. Returns its number and {cell index:
    column}. Columns it does not know are ignored with a warning, or, with
    `strict`, refuse the file with the list of the columns it knows, unless
    their header key is `ignorable` (序号, 备注: what every roster has).
    Raises FileProblem when a required column is missing, a column appears
    twice or no line within `search_lines` names a column (with the message
    `not_found`)."""
    skipped: list[int] = []
    for line, cells in numbered:
        keys = [header_key(cell) for cell in cells]
        if not any(key in columns_by_key for key in keys):
            if line >= search_lines:
                break
            if any(cells):
                skipped.append(line)
            continue
        columns: dict[int, str] = {}
        unknown: list[str] = []
        ignored: list[str] = []
        for index, (cell, key) in enumerate(zip(cells, keys, strict=True)):
            column = columns_by_key.get(key)
            if column is None:
                if cell:
                    (ignored if key in ignorable else unknown).append(cell)
            elif column in columns.values():
                raise FileProblem(
                    _("The %(column)s column appears twice (line %(line)s): keep one.")
                    % {"column": labels[column], "line": line}
                )
            else:
                columns[index] = column
        missing = [c for c in required if c not in columns.values()]
        if missing:
            raise FileProblem(
                _("The file has no %(columns)s column (looked for in line %(line)s).")
                % {"columns": "、".join(str(labels[c]) for c in missing), "line": line}
            )
        if skipped:
            warnings.append(
                _("Lines above the column names were ignored: %(lines)s.")
                % {"lines": ", ".join(map(str, skipped))}
            )
        if unknown and strict:
            raise FileProblem(
                _(
                    "Unknown columns in line %(line)s: %(unknown)s. Name each "
                    "column as one of: %(known)s."
                )
                % {
                    "line": line,
                    "unknown": "、".join(unknown),
                    "known": "、".join(str(label) for label in labels.values()),
                }
            )
        if unknown or ignored:
            warnings.append(
                _("These columns are not used and were ignored: %(columns)s.")
                % {"columns": "、".join(unknown + ignored)}
            )
        return line, columns
    raise FileProblem(not_found)


def row_values(cells: list[str], columns: Mapping[int, str]) -> dict[str, str]:
    """{column: cell text} for the known columns of one line."""
    return {
        column: cells[index] if index < len(cells) else ""
        for index, column in columns.items()
    }


def data_lines(
    numbered: Iterator[tuple[int, list[str]]],
    columns: Mapping[int, str],
    *,
    header_line: int,
    max_rows: int,
    too_many: str,
    none_found: str,
    max_lines: int | None = None,
) -> Iterator[tuple[int, dict[str, str]]]:
    """(line, {column: cell text}) for each line below the column names that
    has a value in a known column; blank lines are skipped. Raises
    FileProblem, after the rows before it, on the line past `max_lines` (when
    given; blank lines count) or the row past `max_rows` (with `too_many`,
    formatted with %(max)s), and at the end when there was no row at all
    (with `none_found`, formatted with the header's %(line)s)."""
    count = 0
    for line, cells in numbered:
        if max_lines is not None and line > max_lines:
            raise FileProblem(
                _("The file has more than %(max)s lines.") % {"max": max_lines}
            )
        values = row_values(cells, columns)
        if not any(values.values()):
            continue  # blank lines between or after the rows
        count += 1
        if count > max_rows:
            raise FileProblem(too_many % {"max": max_rows})
        yield line, values
    if count == 0:
        raise FileProblem(none_found % {"line": header_line})


def term_key(text: str) -> str:
    """A vocabulary cell compared without case, width or extra spaces."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def term_lookup(model: type[T]) -> dict[str, T]:
    """Active terms of a vocabulary by code, Chinese label and English label."""
    lookup: dict[str, T] = {}
    for term in model.objects.filter(is_active=True):  # type: ignore[attr-defined]  # T is a vocabulary model; its manager is not on the type
        for text in (term.code, term.name_zh, term.name_en):
            lookup.setdefault(term_key(text), term)
    return lookup


# --- uploads kept for a background import ----------------------------------------


def sweep_abandoned_uploads(folder: str) -> None:
    """Uploads of `folder` (import jobs never confirmed nor cancelled) go
    once they are a day old."""
    try:
        _, files = default_storage.listdir(folder)
    except (FileNotFoundError, NotImplementedError):
        return
    cutoff = timezone.now() - ABANDONED_AFTER
    for filename in files:
        name = f"{folder}/{filename}"
        try:
            if default_storage.get_modified_time(name) < cutoff:
                default_storage.delete(name)
        except (FileNotFoundError, NotImplementedError):
            continue

"""Spreadsheet imports as background jobs, for every import (experts into
the talent pool, trainees into a class).

The request only stores the upload and writes an ImportJob row
(`import_job_create`); `portal.tasks.import_job_check` reads and checks the
file in a worker, reporting progress on the row; the admin's job page shows
the preview once it is checked, and confirming (`import_job_confirm`) queues
`portal.tasks.import_job_write`, which checks the file again and writes it,
all or nothing. A task that raises marks the job failed with a message in
the uploader's language; a job whose worker died is marked failed when it is
next looked at (`import_job_expire_stale`).

`portal` imports no app: each app registers what its kind of job does
(`register_import_kind`) in its AppConfig.ready().
"""

import csv
import io
import logging
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import IO, Any

from django.core.cache import cache
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from portal.models import ImportJob, User
from portal.tabular import (
    FileProblem,
    FileReport,
    file_extension,
    file_rows,
    sweep_abandoned_uploads,
)

logger = logging.getLogger(__name__)

#: How long a check or a write may take (the tasks' own time limits: a file
#: of 100,000 experts takes minutes, more than the default task limit).
TASK_SOFT_TIME_LIMIT = 60 * 60
TASK_TIME_LIMIT = TASK_SOFT_TIME_LIMIT + 5 * 60
#: A running job untouched for longer than this has lost its worker.
STALE_AFTER = timedelta(seconds=TASK_TIME_LIMIT + 5 * 60)

#: Called with the rows done so far.
Progress = Callable[[int], None]


class ImportJobRefused(Exception):
    """The write refused the file (it changed, or the data did, since the
    check); nothing was written. The message says why, in the active
    language; `report`, when given, holds the problems found."""

    def __init__(self, message: str, report: FileReport | None = None) -> None:
        super().__init__(message)
        self.report = report


@dataclass(frozen=True, kw_only=True)
class ImportKind:
    """What one kind of import does; registered by its app.

    `check(job, file, progress)` reads the file, writes nothing, and returns
    the report and a JSON summary for the preview template; `write(job, file,
    progress, user)` checks again and writes, all or nothing, returning the
    result as JSON (raising ImportJobRefused when it writes nothing);
    `may_import(user, target_id)` says who may import (and so see the job);
    `upload_url(target_id)` and `done_url(target_id)` where to start again
    and where the finished import leads."""

    label: Any
    check: Callable[[ImportJob, IO[bytes], Progress], tuple[FileReport, dict]]
    write: Callable[[ImportJob, IO[bytes], Progress, User | None], dict]
    may_import: Callable[[Any, int | None], bool]
    upload_url: Callable[[int | None], str]
    done_url: Callable[[int | None], str]
    preview_template: str
    job_template: str = "portal/admin_import/job.html"
    #: Passed to portal.tabular.file_rows when counting the rows.
    max_unpacked_bytes: int = 100 * 1024 * 1024
    #: The expert ids a write result names, for `unlisted_expert_ids`.
    unlisted: Callable[[dict], list[int]] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


_KINDS: dict[str, ImportKind] = {}


def register_import_kind(kind: str, import_kind: ImportKind) -> None:
    _KINDS[kind] = import_kind


def import_kind(kind: str) -> ImportKind:
    return _KINDS[kind]


# --- the request ---------------------------------------------------------------


def import_job_create(
    *,
    kind: str,
    upload: Any,
    folder: str,
    user: User,
    target_id: int | None = None,
    options: dict[str, Any] | None = None,
) -> ImportJob:
    """Keep the upload in the default storage under a random name in
    `folder` (never shown to the browser), write the job, and queue its check
    once the row is committed. Uploads of jobs abandoned for a day go."""
    sweep_abandoned_uploads(folder)
    upload.seek(0)
    name = default_storage.save(
        f"{folder}/{secrets.token_urlsafe(24)}{file_extension(upload.name)}",
        File(upload),
    )
    from portal import tasks

    with transaction.atomic():
        job = ImportJob.objects.create(
            kind=kind,
            target_id=target_id,
            stored_name=name,
            filename=upload.name[:255],
            options=options or {},
            language=translation.get_language() or "",
            created_by=user,
        )
        tasks.import_job_check.delay_on_commit(job.pk)
    return job


def import_job_confirm(*, job: ImportJob) -> bool:
    """Queue the write of a checked job without problems; False (nothing
    queued) when it is not one, e.g. a second click."""
    from portal import tasks

    if not job.report.get("is_valid"):
        return False
    with transaction.atomic():
        claimed = ImportJob.objects.filter(
            pk=job.pk, status=ImportJob.Status.CHECKED
        ).update(
            status=ImportJob.Status.WRITING, rows_done=0, updated_at=timezone.now()
        )
        if claimed:
            tasks.import_job_write.delay_on_commit(job.pk)
    return bool(claimed)


def import_job_cancel(*, job: ImportJob) -> bool:
    """Forget a job that waits for its confirmation (or was refused): the
    upload is deleted. False when a task works on it or it is over."""
    claimed = ImportJob.objects.filter(
        pk=job.pk, status__in=[ImportJob.Status.CHECKED, ImportJob.Status.QUEUED]
    ).update(status=ImportJob.Status.CANCELLED, finished_at=timezone.now())
    if claimed:
        _discard_upload(job)
    return bool(claimed)


def import_job_expire_stale(job: ImportJob) -> ImportJob:
    """A job left running past the tasks' time limits lost its worker (killed,
    or the message lost): it is marked failed rather than left running."""
    if job.is_running and job.updated_at < timezone.now() - STALE_AFTER:
        _fail(job.pk, _in_language(job.language, _stopped_message))
        job.refresh_from_db()
    return job


# --- the worker -----------------------------------------------------------------


def import_job_check_run(*, job_id: int) -> None:
    """The check: rows counted, then read and checked, progress on the row;
    the report kept for the preview. May run twice (a redelivered message):
    only a queued or checking job is checked."""
    job = ImportJob.objects.filter(pk=job_id).first()
    if job is None or job.status not in (
        ImportJob.Status.QUEUED,
        ImportJob.Status.CHECKING,
    ):
        return
    kind = import_kind(job.kind)
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.CHECKING,
        started_at=timezone.now(),
        rows_done=0,
        updated_at=timezone.now(),
    )
    try:
        with (
            translation.override(job.language or None),
            default_storage.open(job.stored_name, "rb") as file,
        ):
            total = _count_rows(file, job.filename, kind.max_unpacked_bytes)
            ImportJob.objects.filter(pk=job.pk).update(
                rows_total=total, updated_at=timezone.now()
            )
            report, summary = kind.check(job, file, _progress_direct(job.pk))
    except Exception:
        logger.exception("Import job %s: the check failed", job.pk)
        _fail(job.pk, _in_language(job.language, _failed_message))
        return
    summary = {**summary, "is_valid": report.is_valid, "warnings": report.warnings}
    ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.CHECKING).update(
        status=ImportJob.Status.CHECKED,
        report=summary,
        errors=_error_rows(report),
        error_count=len(report.errors),
        rows_done=max(total, report.row_count),
        rows_total=max(total, report.row_count),
        updated_at=timezone.now(),
    )


def import_job_write_run(*, job_id: int) -> None:
    """The write, of a confirmed job: the kind checks the file again and
    writes it all or nothing; the result (or why nothing was written) kept.
    May run twice: the kinds' writes may, and a finished job is left alone."""
    job = ImportJob.objects.filter(pk=job_id).first()
    if job is None or job.status != ImportJob.Status.WRITING:
        return
    kind = import_kind(job.kind)
    progress = _progress_cached(job.pk)
    try:
        with translation.override(job.language or None):
            try:
                with default_storage.open(job.stored_name, "rb") as file:
                    result = kind.write(job, file, progress, job.created_by)
            except FileNotFoundError:
                raise ImportJobRefused(_gone_message()) from None
    except ImportJobRefused as refused:
        changes: dict[str, Any] = {}
        if refused.report is not None:
            changes["errors"] = _error_rows(refused.report)
            changes["error_count"] = len(refused.report.errors)
        _fail(job.pk, str(refused), **changes)
        _discard_upload(job)
        return
    except Exception:
        logger.exception("Import job %s: the write failed", job.pk)
        _fail(job.pk, _in_language(job.language, _failed_message))
        _discard_upload(job)
        return
    unlisted = kind.unlisted(result) if kind.unlisted else []
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.DONE,
        result=result,
        unlisted_expert_ids=unlisted,
        rows_done=job.rows_total,
        finished_at=timezone.now(),
        updated_at=timezone.now(),
    )
    _discard_upload(job)


def _count_rows(file: IO[bytes], filename: str, max_unpacked_bytes: int) -> int:
    """Lines with something in them, less the line naming the columns (an
    estimate for the progress bar; the check counts exactly)."""
    try:
        count = sum(
            1
            for cells in file_rows(
                file, filename, max_unpacked_bytes=max_unpacked_bytes
            )
            if any(cells)
        )
    except FileProblem:
        count = 0
    file.seek(0)
    return max(count - 1, 0)


def _progress_direct(job_id: int) -> Progress:
    """Progress written on the job row (no transaction is open: the check
    only reads)."""

    def progress(rows: int) -> None:
        ImportJob.objects.filter(pk=job_id).update(
            rows_done=rows, updated_at=timezone.now()
        )

    return progress


def _progress_key(job_id: int) -> str:
    return f"portal:import_job:{job_id}:rows_done"


def _progress_cached(job_id: int) -> Progress:
    """Progress of the write, whose rows are in one open transaction that
    no other connection sees into (and on SQLite the one writer there is):
    kept in the cache, which is not the main database (portal.cache on the
    embedded default, Redis in production), and read by import_job_live."""
    key = _progress_key(job_id)

    def progress(rows: int) -> None:
        try:
            cache.set(key, rows, timeout=TASK_TIME_LIMIT)
        except Exception:  # progress is a courtesy; the import goes on
            logger.warning("Import job %s: progress not recorded", job_id)

    return progress


def import_job_live(job: ImportJob) -> ImportJob:
    """The job with its write's progress so far (from the cache, where the
    write keeps it), for the job page and its status."""
    if job.status != ImportJob.Status.WRITING:
        return job
    try:
        rows = cache.get(_progress_key(job.pk))
    except Exception:
        logger.warning("Import job %s: progress not read", job.pk)
        return job
    if isinstance(rows, int):
        job.rows_done = max(job.rows_done, min(rows, job.rows_total))
    return job


def _error_rows(report: FileReport) -> list[list[Any]]:
    """[line or None, column, message] per problem; the column as the
    spreadsheet shows it ("C 类别"), where the check knows it."""
    return [
        [error[0], report.error_column(error), str(error[1])] for error in report.errors
    ]


def _discard_upload(job: ImportJob) -> None:
    if job.stored_name:
        default_storage.delete(job.stored_name)


def _failed_message() -> str:
    return _(
        "The import stopped because of an unexpected error: nothing was "
        "imported. Try again; if it fails again, tell the site's administrator."
    )


def _stopped_message() -> str:
    return _(
        "The import stopped without finishing (the background worker was "
        "interrupted): nothing was imported. Upload the file again."
    )


def _gone_message() -> str:
    return _("The uploaded file is no longer kept: upload it again.")


def _in_language(language: str, message: Callable[[], str]) -> str:
    with translation.override(language or None):
        return message()


def _fail(job_id: int, message: str, **changes: Any) -> None:
    ImportJob.objects.filter(pk=job_id).update(
        status=ImportJob.Status.FAILED,
        message=message,
        finished_at=timezone.now(),
        updated_at=timezone.now(),
        **changes,
    )


# --- the report of bad rows -------------------------------------------------------


def error_report_csv(job: ImportJob) -> Iterator[str]:
    """Every problem of the job as CSV lines: UTF-8 with a byte-order mark
    (Excel then reads Chinese correctly), a header in the active language."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    yield "\ufeff"
    writer.writerow([_("Line"), _("Column"), _("Problem")])
    yield flush()
    for line, column, message in job.errors:
        writer.writerow([line if line else _("whole file"), column, message])
        if buffer.tell() > 64 * 1024:
            yield flush()
    yield flush()

"""What the server measures in an uploaded document: a video's length and a
PDF's page count (courses.models.MediaFacts). Lessons trust these, never a
length a browser reports (docs/decisions.md, decision 7).

A document is measured after it is saved, whichever admin screen saved it
(the documents page, the chooser's upload tab, multiple upload) or whatever
code did (the demo loader): Wagtail's Document model sends post_save, and the
handler only enqueues `measure_document` on commit (convention 6). The task
reads the file again only when its hash changed. An editor who chooses a
video before the worker got to it is not held up: `VideoBlock.clean` measures
it then, through the same service.

Videos are measured with ffprobe (Debian's `ffmpeg`, installed by
scripts/system-deps.sh), PDFs with pyHanko's PDF reader (already a dependency
for signing certificates). Files on S3 are copied to a temporary file first.
A file that cannot be measured gets its reason in `error`; nothing here
raises into an upload.
"""

import hashlib
import json
import math
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import cast

from django.utils.translation import gettext as _

from wagtail.documents import get_document_model

from courses.blocks import VIDEO_EXTENSIONS
from courses.models import MediaFacts

PDF_EXTENSIONS = ("pdf",)
#: Seconds ffprobe may take for one file. Reading a container's header takes
#: milliseconds; listing every packet of a long file without a stated length
#: (a WebM written by a browser's recorder) takes seconds.
FFPROBE_TIMEOUT = 60
CHUNK = 1024 * 1024
#: An uploaded file may be anything whatever its name: ffprobe opens it as
#: one of the containers a lesson video may be (MP4, WebM, Ogg) and reads
#: nothing but this file, so a playlist disguised as a video cannot make the
#: server fetch addresses or other files.
CONFINED = [
    "-protocol_whitelist",
    "file",
    "-format_whitelist",
    "mov,mp4,m4a,3gp,3g2,mj2,matroska,webm,ogg",
]


def _extension(document) -> str:
    return os.path.splitext(document.file.name or "")[1].lstrip(".").lower()


def is_measured_kind(document) -> bool:
    """Whether lessons need a fact about this file: a video or a PDF."""
    return _extension(document) in VIDEO_EXTENSIONS + PDF_EXTENSIONS


def _local_path(storage, name: str) -> str | None:
    """The file's path on this machine, or None (S3 and other remote storages)."""
    try:
        return storage.path(name)
    except NotImplementedError:
        return None


@contextmanager
def _local_copy(document) -> Iterator[tuple[str, str]]:
    """(a path on this machine, the file's SHA-1): the stored file itself when
    media are on disk, else a temporary copy, removed afterwards. SHA-1 is
    what Wagtail's Document.file_hash holds, so the two compare."""
    digest = hashlib.sha1(usedforsecurity=False)
    storage, name = document.file.storage, document.file.name
    path = _local_path(storage, name)
    if path is not None:
        with open(path, "rb") as source:
            while chunk := source.read(CHUNK):
                digest.update(chunk)
        yield path, digest.hexdigest()
        return
    suffix = os.path.splitext(name)[1]
    with tempfile.NamedTemporaryFile(suffix=suffix) as copy:
        with storage.open(name, "rb") as source:
            while chunk := source.read(CHUNK):
                digest.update(chunk)
                copy.write(chunk)
        copy.flush()
        yield copy.name, digest.hexdigest()


def _ffprobe(arguments: list[str], path: str) -> dict:
    """ffprobe's JSON answer about the file at `path`, or ValueError with a
    reason staff can act on."""
    if shutil.which("ffprobe") is None:
        raise ValueError(
            _("ffprobe is not installed on the server (Debian package ffmpeg).")
        )
    try:
        result = subprocess.run(  # noqa: S603 -- fixed program, no shell
            ["ffprobe", "-v", "error", *CONFINED, "-of", "json", *arguments, path],
            capture_output=True,
            timeout=FFPROBE_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        raise ValueError(
            _("Reading the file took longer than %(seconds)d seconds.")
            % {"seconds": FFPROBE_TIMEOUT}
        ) from error
    if result.returncode != 0:
        # ffprobe names the file; staff need the reason, not a server path.
        stderr = result.stderr.decode("utf-8", "replace").replace(f"{path}: ", "")
        detail = stderr.strip().splitlines()
        raise ValueError(
            _("This is not a video file the server can read (%(detail)s).")
            % {"detail": detail[-1][:200] if detail else result.returncode}
        )
    return json.loads(result.stdout or b"{}")


def _seconds(value) -> float | None:
    try:
        seconds = float(value)
    except (TypeError, ValueError):  # "N/A", missing
        return None
    return seconds if math.isfinite(seconds) and seconds > 0 else None


def video_duration(path: str) -> float:
    """The video's length in seconds, or ValueError saying why not.

    The container's stated length first; a file that states none (a WebM
    written by a browser's recorder) is read to its last packet."""
    probe = _ffprobe(["-show_entries", "format=duration:stream=codec_type"], path)
    kinds = {stream.get("codec_type") for stream in probe.get("streams", [])}
    if "video" not in kinds and "audio" not in kinds:
        raise ValueError(_("The file has neither pictures nor sound."))
    seconds = _seconds(probe.get("format", {}).get("duration"))
    if seconds is None:
        packets = _ffprobe(["-show_entries", "packet=pts_time,duration_time"], path)
        ends = [
            (_seconds(p.get("pts_time")) or 0.0)
            + (_seconds(p.get("duration_time")) or 0.0)
            for p in packets.get("packets", [])
        ]
        seconds = _seconds(max(ends, default=0.0))
    if seconds is None:
        raise ValueError(_("The file does not say how long it is."))
    return seconds


def pdf_page_count(path: str) -> int:
    """The PDF's number of pages (its page tree's /Count), or ValueError."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    with open(path, "rb") as source:
        try:
            reader = PdfFileReader(source, strict=False)
            if reader.encrypted:
                # Many PDFs are encrypted only to restrict printing or copying,
                # with an empty password to open them.
                reader.decrypt("")
            count = int(reader.root["/Pages"]["/Count"])
        except Exception as error:  # an uploaded file may be anything
            raise ValueError(
                _("This is not a PDF file the server can read (%(detail)s).")
                % {"detail": str(error)[:200] or type(error).__name__}
            ) from error
    if count < 1:
        raise ValueError(_("The PDF has no pages."))
    return count


def media_facts_measure(*, document_id: int, reread: bool = False) -> MediaFacts | None:
    """Measure one document's file and keep what was found.

    Before: a document, maybe with facts about an earlier file. After: its
    facts hold the file's hash and, for a video, its length in seconds, for
    a PDF, its page count; or, when that could not be read, why (`error`).
    Returns the facts; None for a document that is gone or is neither a
    video nor a PDF (such files get no facts). Never raises for a bad file.
    May run twice, at the same time too: a file measured before whose hash
    is unchanged is not read again, and the facts are one row per document.
    The hash is Wagtail's Document.file_hash, which its upload forms keep;
    `reread` (the file was replaced some other way) reads the file to hash it.
    """
    document = get_document_model().objects.filter(pk=document_id).first()
    if document is None or not is_measured_kind(document):
        return None
    known = MediaFacts.objects.filter(document=document).first()
    # A file that could not be measured is tried again (ffprobe may have been
    # installed since); one that was measured, only when it changes.
    if known and known.error:
        known = None
    if (
        known
        and not reread
        and document.file_hash
        and known.file_hash == document.file_hash
    ):
        return known
    facts: dict[str, str | int | float | None] = {
        "file_hash": "",
        "duration_seconds": None,
        "page_count": None,
    }
    try:
        with _local_copy(document) as (path, file_hash):
            if known and known.file_hash == file_hash:
                return known
            facts["file_hash"] = file_hash
            if _extension(document) in PDF_EXTENSIONS:
                facts["page_count"] = pdf_page_count(path)
            else:
                facts["duration_seconds"] = video_duration(path)
        facts["error"] = ""
    except ValueError as error:
        facts["error"] = str(error)
    except OSError as error:  # the file is missing, or storage failed
        facts["file_hash"] = ""  # so that the next save tries again
        facts["error"] = _("The file could not be read: %(detail)s") % {
            "detail": str(error)[:200]
        }
    known, _created = MediaFacts.objects.update_or_create(
        document=document, defaults=facts
    )
    return known


def video_lengths(*, document_ids: Iterable[int]) -> dict[int, float]:
    """The measured length of each of these videos that has one, by id."""
    lengths = dict(
        MediaFacts.objects.filter(
            document_id__in=list(document_ids), duration_seconds__isnull=False
        ).values_list("document_id", "duration_seconds")
    )
    # duration_seconds__isnull=False leaves out the NULLs.
    return cast(dict[int, float], lengths)


def document_saving(sender, instance, raw=False, update_fields=None, **kwargs):
    """pre_save of Wagtail's Document: note whether the file is another one
    than the stored row's. Code other than Wagtail's forms (the demo loader,
    a script) may replace it without updating Document.file_hash."""
    instance._media_file_replaced = False
    if raw or instance.pk is None or not is_measured_kind(instance):
        return
    if update_fields is not None and "file" not in update_fields:
        return
    stored = (
        type(instance)
        .objects.filter(pk=instance.pk)
        .values_list("file", flat=True)
        .first()
    )
    instance._media_file_replaced = stored != instance.file.name


def document_saved(sender, instance, raw=False, update_fields=None, **kwargs):
    """post_save of Wagtail's Document: measure the file, after the commit.
    A save that touched other fields only (Wagtail storing the hash it
    computed, say) has nothing new to measure."""
    if raw or not is_measured_kind(instance):
        return
    if update_fields is not None and "file" not in update_fields:
        return
    from courses.tasks import measure_document

    measure_document.delay_on_commit(
        instance.pk, getattr(instance, "_media_file_replaced", False)
    )

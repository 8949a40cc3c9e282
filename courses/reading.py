"""How long a reading or document lesson takes at the least.

A reading lesson completes no sooner than its minimum time after the learner
first opened it, by the server's clock (decision 7: the browser only reports
that the end was reached). The minimum is the editor's `minimum_minutes` when
set, otherwise `lesson_minimum_minutes` works it out from what the lesson
shows: its text, its PDFs' pages and its embedded videos' lengths.
"""

import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from html import unescape
from typing import cast

from django.utils import timezone
from django.utils.html import strip_tags

# Simplified Chinese read at about 400 characters a minute (the figure the
# lesson's help text promises editors); English at about 200 words a minute.
CHINESE_CHARACTERS_PER_MINUTE = 400
ENGLISH_WORDS_PER_MINUTE = 200
# A PDF page holds anything from a slide's fifty characters to a regulation's
# nine hundred, and the server cannot tell which. One minute a page is about
# what a fast reader needs for a dense page of Chinese and generous for a
# slide: a learner who reads is never held back by it, one who opens and
# leaves still waits. An editor who knows the document sets minimum_minutes.
MINUTES_PER_PDF_PAGE = 1
# A document not measured yet (MediaFacts missing, or the measuring failed)
# counts as one page: it is there, but nothing is guessed beyond that.
UNKNOWN_PDF_PAGES = 1
# The same ceiling as the editor's own field (LessonPage.minimum_minutes).
MAXIMUM_MINUTES = 600

_HAN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]")
_WORD = re.compile(r"[A-Za-z0-9]+(?:['’-][A-Za-z0-9]+)*")


@dataclass
class _Tally:
    text: list[str]
    pdf_document_ids: list[int]
    video_minutes: int


def _rich_text(value) -> str:
    return unescape(strip_tags(getattr(value, "source", value) or ""))


def _walk(stream, tally: _Tally) -> None:
    """Collect what a learner sees in `stream` (a lesson's or shared content's
    body). Quizzes are not reading (a quiz lesson completes by passing)."""
    for block in stream:
        kind, value = block.block_type, block.value
        if kind == "heading":
            tally.text.append(value.get("text") or "")
        elif kind == "paragraph":
            tally.text.append(_rich_text(value))
        elif kind == "callout":
            tally.text.append(value.get("title") or "")
            tally.text.append(_rich_text(value.get("text")))
        elif kind == "image":
            tally.text.append(value.get("caption") or "")
        elif kind == "pdf" and value.get("document"):
            tally.pdf_document_ids.append(value["document"].pk)
        elif kind == "video" and value.get("embed") and not value.get("video"):
            # An uploaded video is tracked by heartbeats (a video lesson);
            # an embed cannot be, so its stated length counts here.
            tally.video_minutes += value.get("embed_minutes") or 0
        elif kind == "shared" and value is not None:
            _walk(value.body, tally)


def text_minutes(text: str) -> float:
    """Minutes to read `text`: its Chinese characters at 400 a minute plus its
    English (Latin-letter or digit) words at 200 a minute."""
    return (
        len(_HAN.findall(text)) / CHINESE_CHARACTERS_PER_MINUTE
        + len(_WORD.findall(text)) / ENGLISH_WORDS_PER_MINUTE
    )


def lesson_minimum_minutes(lesson) -> int:
    """The least whole minutes between a learner's first opening of `lesson`
    and its completion. The editor's `minimum_minutes` wins when set (0: no
    minimum). Otherwise: the visible text (headings, paragraphs, callouts,
    captions, shared content) at the rates above, plus MINUTES_PER_PDF_PAGE
    for each page of each PDF (MediaFacts.page_count, measured by the server
    when the document was saved), plus each embedded video's stated length;
    rounded up, at most MAXIMUM_MINUTES. One query when the lesson has PDFs,
    none otherwise (the body's blocks are already loaded to render it).
    """
    if lesson.minimum_minutes is not None:
        return lesson.minimum_minutes
    from courses.models import MediaFacts

    tally = _Tally(text=[], pdf_document_ids=[], video_minutes=0)
    _walk(lesson.body, tally)
    pages = 0
    if tally.pdf_document_ids:
        # page_count__gt=0 leaves out the NULLs, so every count is an int.
        counted = cast(
            dict[int, int],
            dict(
                MediaFacts.objects.filter(
                    document_id__in=tally.pdf_document_ids, page_count__gt=0
                ).values_list("document_id", "page_count")
            ),
        )
        pages = sum(counted.get(pk, UNKNOWN_PDF_PAGES) for pk in tally.pdf_document_ids)
    minutes = (
        text_minutes("\n".join(tally.text))
        + pages * MINUTES_PER_PDF_PAGE
        + tally.video_minutes
    )
    return min(MAXIMUM_MINUTES, math.ceil(minutes))


@dataclass(frozen=True)
class ReadingWait:
    """Where a learner stands against a lesson's minimum time."""

    minimum_minutes: int
    available_at: datetime
    seconds_left: int

    @property
    def minutes_left(self) -> int:
        return math.ceil(self.seconds_left / 60)


def reading_wait(
    *, minimum_minutes: int, started_at: datetime, now: datetime
) -> ReadingWait:
    """Where a learner who first opened a lesson at `started_at` stands at
    `now` against its minimum time (lesson_minimum_minutes, worked out by the
    caller so that it can be done before a lock is taken)."""
    available_at = started_at + timedelta(minutes=minimum_minutes)
    left = math.ceil((available_at - now).total_seconds())
    return ReadingWait(
        minimum_minutes=minimum_minutes,
        available_at=available_at,
        seconds_left=max(0, left),
    )


def lesson_page_wait(*, lesson, progress) -> ReadingWait | None:
    """What the lesson page tells an enrolled learner about the minimum time:
    None unless this is a reading lesson they have opened and not completed."""
    if (
        progress is None
        or progress.status == progress.Status.COMPLETED
        or lesson.kind != "reading"
    ):
        return None
    return reading_wait(
        minimum_minutes=lesson_minimum_minutes(lesson),
        started_at=progress.started_at,
        now=timezone.now(),
    )

"""The evidence of a course: each lesson opened and completed, the seconds
of each video played against the length the server measured, every quiz
attempt and the extra attempts granted. Lesson bodies are read from their
raw JSON, not through the blocks, which would fetch each lesson's
documents."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from wagtail.documents import get_document_model

from courses.evidence.tables import Table, person, shanghai
from courses.models import (
    Enrolment,
    LessonPage,
    LessonProgress,
    QuizAttempt,
    QuizAttemptGrant,
)


def _seconds(value: float | None) -> int | None:
    # Whole seconds: the player reports fractions, an auditor reads seconds.
    return None if value is None else int(round(value))


def _played(intervals: Any) -> float:
    try:
        return sum(max(0.0, float(b) - float(a)) for a, b in intervals or [])
    except (TypeError, ValueError):
        return 0.0


def _stretches(intervals: Any) -> str:
    try:
        return ", ".join(f"{int(a)}–{int(round(b))}" for a, b in intervals or [])
    except (TypeError, ValueError):
        return ""


def _lesson_blocks(lesson: LessonPage | None) -> list[dict]:
    """The lesson's blocks as stored (type, id, value), without resolving
    documents: the same list LessonPage.kind and tracked_videos look at."""
    if lesson is None:
        return []
    raw = lesson.body.raw_data
    return [dict(block) for block in raw] if raw else []


def _kind(blocks: list[dict], progress: Any, attempts: list) -> str:
    """quiz, video or reading, as LessonPage.kind decides from the blocks;
    for a lesson page that no longer exists, from what the records show."""
    if blocks:
        if any(block.get("type") == "quiz" for block in blocks):
            return "quiz"
        if any(
            block.get("type") == "video" and (block.get("value") or {}).get("video")
            for block in blocks
        ):
            return "video"
        return "reading"
    if attempts:
        return "quiz"
    if progress is not None and progress.watched:
        return "video"
    return ""


KIND_LABELS = {
    "quiz": lambda: pgettext("lesson kind", "Quiz"),
    "video": lambda: pgettext("lesson kind", "Video"),
    "reading": lambda: pgettext("lesson kind", "Reading"),
    "": lambda: _("Unknown (the lesson page no longer exists)"),
}


def course_tables(enrolment: Enrolment) -> list[Table]:
    """Lessons, videos, quiz attempts and extra attempts of one enrolment,
    in the course's order; lessons that have left the course come last."""
    progress_rows = list(
        LessonProgress.objects.filter(enrolment=enrolment).order_by("started_at", "pk")
    )
    progress_by_lesson = {row.lesson_key: row for row in progress_rows}
    attempts = list(
        QuizAttempt.objects.filter(enrolment=enrolment).order_by(
            "lesson_key", "quiz_key", "number"
        )
    )
    attempts_by_lesson: dict[int, list[QuizAttempt]] = {}
    for attempt in attempts:
        attempts_by_lesson.setdefault(attempt.lesson_key, []).append(attempt)
    grants = list(
        QuizAttemptGrant.objects.filter(enrolment=enrolment)
        .select_related("granted_by")
        .order_by("granted_at", "pk")
    )

    # The course's lessons now, and any lesson with a record that has moved.
    wanted = Q(pk__in=set(progress_by_lesson) | set(attempts_by_lesson))
    course = enrolment.course
    if course is not None:
        wanted |= Q(path__startswith=course.path, depth=course.depth + 1)
    pages = {
        page.pk: page for page in LessonPage.objects.filter(wanted).order_by("path")
    }
    in_course = [
        key
        for key, page in pages.items()
        if course is not None and page.path.startswith(course.path)
    ]
    elsewhere = sorted(
        (set(progress_by_lesson) | set(attempts_by_lesson)) - set(in_course),
        key=lambda key: (
            progress_by_lesson[key].started_at
            if key in progress_by_lesson
            else attempts_by_lesson[key][0].started_at
        ),
    )
    order = in_course + elsewhere
    blocks = {key: _lesson_blocks(pages.get(key)) for key in order}

    # Lengths measured by the server for the videos' files, in one query.
    document_ids = {
        (block.get("value") or {}).get("video")
        for lesson_blocks in blocks.values()
        for block in lesson_blocks
        if block.get("type") == "video"
    } - {None}
    documents = {
        document.pk: document
        for document in get_document_model()
        .objects.filter(pk__in=document_ids)
        .select_related("media_facts")
    }

    def measured(document_id: Any) -> float | None:
        document = documents.get(document_id)
        facts = getattr(document, "media_facts", None) if document else None
        return facts.duration_seconds if facts else None

    def title_of(key: int) -> str:
        page = pages.get(key)
        if page is not None:
            return page.title
        record = progress_by_lesson.get(key) or attempts_by_lesson[key][0]
        return record.lesson_title

    lessons = Table(
        key="lessons",
        title=_("Lessons"),
        caption=_(
            "Each lesson of the course: when the learner first opened it and "
            "completed it (Asia/Shanghai time, the server's clock), and the "
            "seconds of video played of the videos' measured length."
        ),
        headings=[
            _("Lesson"),
            _("Kind"),
            _("Required"),
            _("First opened"),
            _("Completed"),
            _("Seconds of video played"),
            _("Video length (s)"),
        ],
        empty=_("The course has no lessons and the learner opened none."),
    )
    videos = Table(
        key="videos",
        title=_("Videos"),
        caption=_(
            "Each video a lesson tracks: the distinct seconds played, the "
            "length the server measured in the file, the length the player "
            "reported, and the stretches played (seconds from the start)."
        ),
        headings=[
            _("Lesson"),
            _("Video"),
            _("Seconds played"),
            _("Length measured (s)"),
            _("Length reported by the player (s)"),
            _("Share played (%)"),
            _("Stretches played"),
        ],
        empty=_("No lesson of this course tracks a video."),
    )
    quiz_titles: dict[tuple[int, str | None], str] = {}
    for key in order:
        progress = progress_by_lesson.get(key)
        page = pages.get(key)
        kind = _kind(blocks[key], progress, attempts_by_lesson.get(key, []))
        watched = (
            progress.watched if progress and isinstance(progress.watched, dict) else {}
        )
        video_blocks = [
            block
            for block in blocks[key]
            if block.get("type") == "video" and (block.get("value") or {}).get("video")
        ]
        for block in blocks[key]:
            if block.get("type") == "quiz":
                quiz_titles[(key, block.get("id"))] = (block.get("value") or {}).get(
                    "title"
                ) or ""
        # The videos the lesson has now, then any played that it no longer has.
        video_keys = [block.get("id") for block in video_blocks]
        video_keys += [k for k in watched if k not in video_keys]
        lengths = []
        for number, video_key in enumerate(video_keys, start=1):
            video_block = next(
                (b for b in video_blocks if b.get("id") == video_key), None
            )
            value = (video_block or {}).get("value") or {}
            record = watched.get(video_key) or {}
            played = _played(record.get("intervals"))
            length = measured(value.get("video")) if video_block else None
            lengths.append(length)
            reported = record.get("duration")
            document = documents.get(value.get("video"))
            name = value.get("title") or (document.title if document else "")
            if not name:
                name = _("Video %(number)s") % {"number": number}
            base = length or reported
            videos.rows.append(
                [
                    title_of(key),
                    name,
                    _seconds(played),
                    _seconds(length),
                    _seconds(reported),
                    round(100 * played / base) if base else None,
                    _stretches(record.get("intervals")),
                ]
            )
        total_length = (
            _seconds(sum(length for length in lengths if length is not None))
            if lengths and None not in lengths
            else None
        )
        lessons.rows.append(
            [
                title_of(key),
                str(KIND_LABELS.get(kind, KIND_LABELS[""])()),
                (_("Yes") if page.is_required else _("No")) if page else None,
                shanghai(progress.started_at) if progress else None,
                shanghai(progress.completed_at) if progress else None,
                _seconds(progress.watched_seconds) if progress and video_keys else None,
                total_length,
            ]
        )

    attempt_table = Table(
        key="attempts",
        title=_("Quiz attempts"),
        caption=_(
            "Every attempt at each quiz, kept whether passed or not: when it "
            "was started and submitted, how many questions were drawn, the "
            "score and the result."
        ),
        headings=[
            _("Lesson"),
            _("Quiz"),
            _("Attempt"),
            _("Started"),
            _("Submitted"),
            _("Questions drawn"),
            _("Score (%)"),
            _("Result"),
        ],
        empty=_("No quiz attempts."),
    )
    position = {key: index for index, key in enumerate(order)}
    for attempt in sorted(
        attempts,
        key=lambda a: (position.get(a.lesson_key, len(order)), a.quiz_key, a.number),
    ):
        layout = attempt.layout if isinstance(attempt.layout, dict) else {}
        if attempt.status == QuizAttempt.Status.OPEN:
            result = _("Not submitted")
        else:
            result = _("Passed") if attempt.passed else _("Not passed")
        attempt_table.rows.append(
            [
                title_of(attempt.lesson_key),
                layout.get("title")
                or quiz_titles.get((attempt.lesson_key, attempt.quiz_key), ""),
                attempt.number,
                shanghai(attempt.started_at),
                shanghai(attempt.submitted_at),
                len(layout.get("questions") or []),
                attempt.score,
                result,
            ]
        )

    grant_table = Table(
        key="grants",
        title=_("Extra quiz attempts"),
        caption=_("Attempts granted beyond the course's limit, by whom and why."),
        headings=[
            _("Lesson"),
            _("Quiz"),
            _("Extra attempts"),
            _("Reason"),
            _("Granted by"),
            _("Granted"),
        ],
        empty=_("No extra attempts were granted."),
    )
    for grant in grants:
        lesson_title = (
            title_of(grant.lesson_key)
            if grant.lesson_key in pages
            or grant.lesson_key in progress_by_lesson
            or grant.lesson_key in attempts_by_lesson
            else str(grant.lesson_key)
        )
        grant_table.rows.append(
            [
                lesson_title,
                quiz_titles.get((grant.lesson_key, grant.quiz_key), ""),
                grant.extra,
                grant.reason,
                person(grant.granted_by),
                shanghai(grant.granted_at),
            ]
        )
    return [lessons, videos, attempt_table, grant_table]

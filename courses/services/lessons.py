"""Lesson progress: a visit, a reading lesson completed, a video's heartbeats."""

import math
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from courses import reading
from courses.models import Enrolment, LessonPage, LessonProgress
from courses.services.base import (
    CourseError,
    ReadingTimeNotReached,
    _complete,
    _enrolment_for,
    _progress_locked,
    _progress_row,
)
from courses.services.completion import course_completion_evaluate
from portal.models import User


def lesson_visit(
    *, user: User, lesson: LessonPage, enrolment: Enrolment | None = None
) -> LessonProgress | None:
    """Remember that the learner opened the lesson (for "resume where I left off").

    Pass the enrolment when the caller has it (the lesson page loads it for the
    access check); otherwise it is looked up. Returns the progress, or None
    when the user is not enrolled (staff preview). Before: maybe no progress
    row. After: a progress row (its status unchanged) and the enrolment's last
    lesson is this one. The first visit creates the row, and its started_at
    (the server's clock) is when a reading lesson's minimum time starts;
    later visits never move it. May run twice: a visit that changes nothing
    writes nothing and takes no lock.
    """
    if enrolment is None:
        enrolment = Enrolment.objects.filter(
            user=user, course_key=lesson.get_parent().pk
        ).first()
        if enrolment is None:
            return None
    elif enrolment.user_id != user.pk:
        raise ValueError("The enrolment is not this user's.")
    # Nothing is written to an existing progress row, so no lock: a concurrent
    # first visit is settled by the unique constraint (_progress_row).
    progress = LessonProgress.objects.filter(
        enrolment=enrolment, lesson_key=lesson.pk
    ).first() or _progress_row(enrolment=enrolment, lesson=lesson)
    if enrolment.last_lesson_key != lesson.pk:
        Enrolment.objects.filter(pk=enrolment.pk).update(last_lesson_key=lesson.pk)
        enrolment.last_lesson_key = lesson.pk
    return progress


def lesson_mark_complete(*, user: User, lesson: LessonPage) -> LessonProgress:
    """Complete a reading lesson (read to the end, or the learner says so).

    Before: the learner opened the lesson (lesson_visit wrote the progress row
    and its started_at) at least the lesson's minimum time ago
    (courses.reading.lesson_minimum_minutes), by the server's clock.
    Otherwise CourseError and nothing written: never opened, or
    ReadingTimeNotReached saying how long is left. Video and quiz lessons are
    completed by watching and passing, not by this: CourseError. May run
    twice (a double click): one completion.
    """
    if lesson.kind != "reading":
        raise CourseError(
            _("This lesson is completed by watching its video or passing its quiz.")
        )
    enrolment = _enrolment_for(user=user, lesson=lesson)
    # Worked out before the lock is taken (it may read the PDFs' page counts).
    minimum = reading.lesson_minimum_minutes(lesson)
    with transaction.atomic():
        # Not created here: a lesson never opened has no started_at to count
        # from, so a POST alone completes nothing (decision 7).
        progress = (
            LessonProgress.objects.select_for_update()
            .filter(enrolment=enrolment, lesson_key=lesson.pk)
            .first()
        )
        if progress is None:
            raise CourseError(_("Open the lesson and read it before completing it."))
        if progress.status == LessonProgress.Status.COMPLETED:
            return progress
        wait = reading.reading_wait(
            minimum_minutes=minimum,
            started_at=progress.started_at,
            now=timezone.now(),
        )
        if wait.seconds_left:
            raise ReadingTimeNotReached(wait=wait)
        progress.position = 1.0
        progress.save(update_fields=["position", "updated_at"])
        if _complete(progress):
            course_completion_evaluate(enrolment_id=enrolment.pk)
    return progress


# The server's clock decides how much of a video may have played since the
# learner's previous heartbeat (docs/decisions.md, decision 7): at most
# settings.PORTAL_VIDEO_MAX_PLAYBACK_RATE times the time elapsed, and of that
# time at most HEARTBEAT_MAX_ELAPSED_SECONDS. The player reports every 10 s,
# so a longer gap is a pause or a claim saved up by waiting: either way it
# counts as one late heartbeat. No slack is added per heartbeat, so many
# heartbeats gain nothing that few would not.
HEARTBEAT_MAX_ELAPSED_SECONDS = 20.0
# Shorter stretches are not kept, so that a flood of tiny ones cannot grow a
# progress row without bound (at most length / this many stretches).
MIN_STRETCH_SECONDS = 0.25
VIDEO_COMPLETE_SHARE = 0.9


def _merge(intervals: list[list[float]]) -> list[list[float]]:
    """Overlapping or touching stretches joined: what was played, once. A gap,
    however small, stays a gap (it was not played)."""
    merged: list[list[float]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return merged


def _played(intervals: list[list[float]], length: float) -> float:
    """Distinct seconds of a video of `length` seconds that these stretches cover."""
    return sum(
        max(0.0, min(end, length) - max(start, 0.0)) for start, end in _merge(intervals)
    )


@dataclass(frozen=True)
class Heartbeat:
    """What the player reports: a video of the lesson played from one position
    to another. Its length is the server's (courses.media), never the player's."""

    video_key: str
    played_from: float
    position: float


def video_heartbeat(
    *, user: User, lesson: LessonPage, beat: Heartbeat
) -> LessonProgress:
    """Record that a stretch of a lesson's video was played.

    The video's length is the one measured from its file when it was saved
    (courses.media); a video without one cannot be tracked: CourseError,
    nothing written. Of the stretch claimed, only what the server's clock
    allows counts: since the learner's previous heartbeat in this lesson,
    at most PORTAL_VIDEO_MAX_PLAYBACK_RATE × elapsed seconds, the elapsed time
    capped at HEARTBEAT_MAX_ELAPSED_SECONDS; a first heartbeat counts nothing
    and starts the clock. So a forged claim of the whole video, a seek to the
    end, a claim of double speed, a flood of heartbeats or one saved up by
    waiting gains no more than honest playing at the allowed speed would.
    Stretches are merged, so a replayed heartbeat counts once. The lesson
    completes when every tracked video has had at least 90 % of its distinct
    seconds played. May run twice: a stretch counts once.
    """
    from courses import media

    videos = {block.id: block for block in lesson.tracked_videos()}
    if beat.video_key not in videos:
        raise CourseError(_("This video is not part of the lesson."))
    if not (
        math.isfinite(beat.played_from)
        and math.isfinite(beat.position)
        and 0 <= beat.played_from <= beat.position
    ):
        raise CourseError(_("The playing position is not plausible."))
    document_ids = {
        key: getattr(block.value["video"], "pk", block.value["video"])
        for key, block in videos.items()
    }
    lengths = media.video_lengths(document_ids=document_ids.values())
    length = lengths.get(document_ids[beat.video_key])
    if length is None:
        raise CourseError(
            _(
                "The length of this video has not been measured, so watching it "
                "cannot complete the lesson yet. Please tell the course's "
                "training manager."
            )
        )
    enrolment = _enrolment_for(user=user, lesson=lesson)
    max_rate = settings.PORTAL_VIDEO_MAX_PLAYBACK_RATE
    with transaction.atomic():
        progress = _progress_locked(enrolment=enrolment, lesson=lesson)
        # Read once the row is locked: heartbeats of one lesson are timed in
        # the order they are recorded.
        now = timezone.now()
        elapsed = (
            min(
                max(0.0, (now - progress.last_heartbeat_at).total_seconds()),
                HEARTBEAT_MAX_ELAPSED_SECONDS,
            )
            if progress.last_heartbeat_at
            else 0.0
        )
        watched = dict(progress.watched) if isinstance(progress.watched, dict) else {}
        previous = watched.get(beat.video_key)
        intervals = (
            list(previous.get("intervals", [])) if isinstance(previous, dict) else []
        )
        start = min(beat.played_from, length)
        end = min(beat.position, length, start + elapsed * max_rate)
        if end - start >= MIN_STRETCH_SECONDS:
            intervals = _merge(intervals + [[start, end]])
        watched[beat.video_key] = {"duration": length, "intervals": intervals}
        played = {
            key: _played(watched[key]["intervals"], lengths[document_ids[key]])
            for key in videos
            if key in watched and document_ids[key] in lengths
        }
        progress.watched = watched
        progress.position = min(beat.position, length)
        progress.video_duration = length
        progress.watched_seconds = sum(played.values())
        progress.last_heartbeat_at = now
        progress.save(
            update_fields=[
                "watched",
                "position",
                "video_duration",
                "watched_seconds",
                "last_heartbeat_at",
                "updated_at",
            ]
        )
        every_video_watched = all(
            played.get(key, 0.0)
            >= VIDEO_COMPLETE_SHARE * lengths.get(document_ids[key], math.inf)
            for key in videos
        )
        if every_video_watched and lesson.kind == "video" and _complete(progress):
            course_completion_evaluate(enrolment_id=enrolment.pk)
    return progress

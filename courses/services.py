"""Writes of the courses app: enrolment, progress, quizzes and completion.

Every function is keyword-only, takes what it needs, validates before it
writes, and writes in one transaction. Where two requests may race (a
double-clicked button, two tabs) the row is locked or a unique constraint
decides, so the second call finds the work done and changes nothing.
"""

import math
import random
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from courses import reading
from courses.models import (
    CoursePage,
    Enrolment,
    HoursLedgerEntry,
    LessonPage,
    LessonProgress,
    QuizAttempt,
    QuizAttemptGrant,
    TrainingClass,
    TrainingClassMember,
)
from portal.models import User


class CourseError(Exception):
    """A request the learner can correct or understand; the message says why."""


class QuizIncomplete(CourseError):
    """A quiz submitted with questions left blank: refused, no attempt used."""

    def __init__(self, *, unanswered: int) -> None:
        self.unanswered = unanswered
        super().__init__(
            ngettext(
                "%(count)d question is not answered yet: answer every question "
                "before submitting.",
                "%(count)d questions are not answered yet: answer every question "
                "before submitting.",
                unanswered,
            )
            % {"count": unanswered}
        )


class ReadingTimeNotReached(CourseError):
    """A reading lesson marked complete before its minimum time has passed
    since it was first opened: refused, nothing written. `wait.seconds_left`
    tells the page's script when to try again."""

    def __init__(self, *, wait: reading.ReadingWait) -> None:
        self.wait = wait
        super().__init__(
            ngettext(
                "Not yet: you can complete this lesson in %(minutes)d minute. "
                "Its minimum reading time is %(minimum)d min from when you "
                "first opened it.",
                "Not yet: you can complete this lesson in %(minutes)d minutes. "
                "Its minimum reading time is %(minimum)d min from when you "
                "first opened it.",
                wait.minutes_left,
            )
            % {"minutes": wait.minutes_left, "minimum": wait.minimum_minutes}
        )


class QuizWait(CourseError):
    """A new attempt asked for before the quiz's wait after a failed one is over."""

    def __init__(self, *, until) -> None:  # type: ignore[no-untyped-def]
        self.until = until
        super().__init__(quiz_wait_message(until))


# --- enrolment -----------------------------------------------------------------


def enrolment_refusal(*, user: User, course: CoursePage) -> str | None:
    """Why `user` may not enrol in `course` themselves, or None if they may."""
    from courses import selectors

    if not course.live:
        return _("This course is not published.")
    if not course.self_enrolment:
        return _("Learners are enrolled in this course by a training manager.")
    now = timezone.now()
    if course.enrolment_opens and now < course.enrolment_opens:
        return _("Enrolment has not opened yet.")
    if course.enrolment_closes and now >= course.enrolment_closes:
        return _("Enrolment has closed.")
    audience_ids = {a.pk for a in course.audiences.all()}
    if audience_ids and user.audience_id not in audience_ids:
        return _(
            "This course is for other audience groups; "
            "you can set yours in your profile."
        )
    missing = selectors.missing_prerequisites(user=user, course=course)
    if missing:
        return _("Complete these courses first: %(titles)s.") % {
            "titles": "、".join(c.title for c in missing)
        }
    return None


def _enrol(
    *, user: User, course: CoursePage, source: str, training_class=None
) -> Enrolment:  # type: ignore[no-untyped-def]
    existing = Enrolment.objects.filter(user=user, course_key=course.pk).first()
    if existing:
        return existing
    try:
        with transaction.atomic():
            return Enrolment.objects.create(
                user=user,
                course=course,
                course_key=course.pk,
                course_title=course.title,
                credit_hours=course.credit_hours,
                source=source,
                training_class=training_class,
            )
    except IntegrityError:  # a concurrent request enrolled first
        return Enrolment.objects.get(user=user, course_key=course.pk)


def enrolment_self(*, user: User, course: CoursePage) -> Enrolment:
    """Enrol a learner who asks to join.

    Before: maybe enrolled. After: enrolled exactly once. Raises CourseError
    (nothing written) when the course is closed to them. May run twice.
    """
    existing = Enrolment.objects.filter(user=user, course_key=course.pk).first()
    if existing:
        return existing
    refusal = enrolment_refusal(user=user, course=course)
    if refusal:
        raise CourseError(refusal)
    return _enrol(user=user, course=course, source=Enrolment.Source.SELF)


def training_class_add_member(*, training_class: TrainingClass, user: User) -> bool:
    """Put a trainee in a class and enrol them in its courses (window and
    audience rules are the manager's call, not applied). Returns True when the
    trainee is new to the class. May run twice: nothing changes the second time.
    """
    with transaction.atomic():
        _, created = TrainingClassMember.objects.get_or_create(
            training_class=training_class, user=user
        )
        for course in training_class.courses.all():
            enrolment = _enrol(
                user=user,
                course=course,
                source=Enrolment.Source.CLASS,
                training_class=training_class,
            )
            if enrolment.training_class_id is None:
                enrolment.training_class = training_class
                enrolment.save(update_fields=["training_class"])
    return created


# --- progress --------------------------------------------------------------------


def _enrolment_for(*, user: User, lesson: LessonPage) -> Enrolment:
    enrolment = Enrolment.objects.filter(
        user=user, course_key=lesson.get_parent().pk
    ).first()
    if enrolment is None:
        raise CourseError(_("Enrol in the course first."))
    return enrolment


def _progress_row(*, enrolment: Enrolment, lesson: LessonPage) -> LessonProgress:
    """The lesson's progress row, created if needed (not locked)."""
    try:
        with transaction.atomic():
            progress, _created = LessonProgress.objects.get_or_create(
                enrolment=enrolment,
                lesson_key=lesson.pk,
                defaults={"lesson": lesson, "lesson_title": lesson.title},
            )
            return progress
    except IntegrityError:  # created by a concurrent request
        return LessonProgress.objects.get(enrolment=enrolment, lesson_key=lesson.pk)


def _progress_locked(*, enrolment: Enrolment, lesson: LessonPage) -> LessonProgress:
    """The lesson's progress row, created if needed and locked for this transaction."""
    _progress_row(enrolment=enrolment, lesson=lesson)
    return LessonProgress.objects.select_for_update().get(
        enrolment=enrolment, lesson_key=lesson.pk
    )


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


def _complete(progress: LessonProgress) -> bool:
    if progress.status == LessonProgress.Status.COMPLETED:
        return False
    progress.status = LessonProgress.Status.COMPLETED
    progress.completed_at = timezone.now()
    progress.save(update_fields=["status", "completed_at", "updated_at"])
    return True


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


# --- quizzes ----------------------------------------------------------------------


def _quiz_block(lesson: LessonPage, quiz_key: str):  # type: ignore[no-untyped-def]
    for block in lesson.quiz_blocks():
        if block.id == quiz_key:
            return block
    raise CourseError(_("This quiz is not part of the lesson."))


def _layout(block, rng: random.Random) -> dict:  # type: ignore[no-untyped-def]
    """The attempt's questions, with the answers kept server-side.

    Draws the block's `draw` questions at random from its bank (all of them
    when 0, blank or not fewer than the bank), in random order; a choice
    question's options are shuffled when `shuffle_options` (true/false keeps
    its order). The score is over the questions drawn: only they are here.
    """
    bank = list(block.value["questions"].bound_blocks)
    draw = block.value.get("draw") or 0
    # The block refuses draw > bank when saved; a bank shrunk since (or a
    # value written around the form) is clamped here rather than failing.
    drawn = rng.sample(bank, draw if 0 < draw < len(bank) else len(bank))
    shuffle_options = block.value.get("shuffle_options", True)
    questions = []
    for item in drawn:
        question = item.value
        if question["kind"] == "true_false":
            options = [
                {"id": "true", "text": _("True")},
                {"id": "false", "text": _("False")},
            ]
            correct = [question["true_false_answer"]]
        else:
            options = [
                {"id": o.id, "text": o.value["text"]}
                for o in question["options"].bound_blocks
            ]
            correct = [
                o.id for o in question["options"].bound_blocks if o.value["correct"]
            ]
            if shuffle_options:
                rng.shuffle(options)
        questions.append(
            {
                "id": item.id,
                "kind": question["kind"],
                "text": question["text"],
                "explanation": question["explanation"],
                "options": options,
                "correct": correct,
            }
        )
    return {"title": block.value["title"], "bank": len(bank), "questions": questions}


def quiz_attempts_left(
    *, course: CoursePage, submitted: int, granted: int = 0
) -> int | None:
    """Attempts a learner may still start: the course's allowance plus the
    extra attempts granted to them for this quiz, less those submitted.
    None means unlimited (the course allows 0, "no limit")."""
    if course.max_attempts == 0:
        return None
    return max(0, course.max_attempts + granted - submitted)


def quiz_retry_at(*, block, last: QuizAttempt | None):  # type: ignore[no-untyped-def]
    """When a learner may start the next attempt after `last` (their latest
    submitted attempt), or None when they need not wait: the quiz's
    wait_minutes after a failed attempt was submitted, rounded up to the
    minute so the time shown is the time enforced."""
    minutes = block.value.get("wait_minutes") or 0
    if not minutes or last is None or last.passed or last.submitted_at is None:
        return None
    until = last.submitted_at + timedelta(minutes=minutes)
    if until.second or until.microsecond:
        until = until.replace(second=0, microsecond=0) + timedelta(minutes=1)
    return until if until > timezone.now() else None


def quiz_wait_message(until) -> str:  # type: ignore[no-untyped-def]
    """The wait's message with its end, in the active language and in
    Asia/Shanghai time (decision 9)."""
    return _(
        "This quiz asks you to wait between attempts: you can try again at "
        "%(time)s (Beijing time)."
    ) % {"time": date_format(timezone.localtime(until), "DATETIME_FORMAT")}


def quiz_granted(*, enrolment: Enrolment, lesson_key: int, quiz_key: str) -> int:
    """Extra attempts granted to the enrolment for one quiz (all grants summed)."""
    return (
        QuizAttemptGrant.objects.filter(
            enrolment=enrolment, lesson_key=lesson_key, quiz_key=quiz_key
        ).aggregate(total=Sum("extra"))["total"]
        or 0
    )


def quiz_attempts_grant(
    *,
    enrolment: Enrolment,
    lesson_key: int,
    quiz_key: str,
    extra: int,
    reason: str,
    by: User,
) -> QuizAttemptGrant:
    """Give a learner `extra` more attempts at one quiz, with a reason.

    Raises CourseError (nothing written) for an empty reason, a number outside
    1–10, a quiz the lesson does not have, or a lesson outside the enrolment's
    course. After: one grant row and one entry in Wagtail's audit log on the
    enrolment, in one transaction; quiz_attempt_start counts it at once (the
    quiz's wait after the last failed attempt still applies). The
    permission check is the caller's (the training manager's view).
    """
    from wagtail.log_actions import log

    reason = (reason or "").strip()
    if not reason:
        raise CourseError(_("Say why the learner gets more attempts."))
    if not 1 <= extra <= 10:
        raise CourseError(_("Grant between 1 and 10 attempts."))
    lesson = LessonPage.objects.filter(pk=lesson_key).first()
    if lesson is None or quiz_key not in {b.id for b in lesson.quiz_blocks()}:
        raise CourseError(_("This quiz is no longer in the lesson."))
    # A grant on another course's lesson would never be counted (attempts
    # belong to the enrolment of the lesson's course): refuse it visibly.
    if lesson.course().pk != enrolment.course_key:
        raise CourseError(_("This lesson is not in the learner's course."))
    with transaction.atomic():
        grant = QuizAttemptGrant.objects.create(
            enrolment=enrolment,
            lesson_key=lesson_key,
            quiz_key=quiz_key,
            extra=extra,
            reason=reason,
            granted_by=by,
        )
        log(
            enrolment,
            "courses.quiz.attempts_granted",
            user=by,
            data={
                "lesson": lesson.title,
                "quiz_key": quiz_key,
                "extra": extra,
                "reason": reason,
            },
        )
    return grant


def quiz_attempt_start(*, user: User, lesson: LessonPage, quiz_key: str) -> QuizAttempt:
    """Open an attempt (or return the open one: two tabs share it).

    The attempt draws its questions now (_layout) and keeps them. Refused
    (CourseError, nothing written) when the quiz is passed, when no attempts
    are left (the course's allowance plus grants, quiz_attempts_left), or,
    after a failed attempt, before the quiz's wait is over (QuizWait, which
    says when). One open attempt per quiz is a database constraint.
    """
    block = _quiz_block(lesson, quiz_key)
    enrolment = _enrolment_for(user=user, lesson=lesson)
    course = lesson.get_parent().specific
    attempts = QuizAttempt.objects.filter(
        enrolment=enrolment, lesson_key=lesson.pk, quiz_key=quiz_key
    )
    open_attempt = attempts.filter(status=QuizAttempt.Status.OPEN).first()
    if open_attempt:
        return open_attempt
    if attempts.filter(passed=True).exists():
        raise CourseError(_("You have already passed this quiz."))
    done = attempts.filter(status=QuizAttempt.Status.SUBMITTED)
    submitted = done.count()
    granted = quiz_granted(enrolment=enrolment, lesson_key=lesson.pk, quiz_key=quiz_key)
    if quiz_attempts_left(course=course, submitted=submitted, granted=granted) == 0:
        raise CourseError(_("You have used all your attempts at this quiz."))
    until = quiz_retry_at(block=block, last=done.order_by("-submitted_at").first())
    if until is not None:
        raise QuizWait(until=until)
    try:
        with transaction.atomic():
            return QuizAttempt.objects.create(
                enrolment=enrolment,
                lesson=lesson,
                lesson_key=lesson.pk,
                lesson_title=lesson.title,
                quiz_key=quiz_key,
                number=submitted + 1,
                layout=_layout(block, random.SystemRandom()),
            )
    except IntegrityError:  # another tab opened it at the same moment
        return attempts.get(status=QuizAttempt.Status.OPEN)


def quiz_attempt_submit(
    *, user: User, attempt_id: int, answers: dict[str, list[str]]
) -> QuizAttempt:
    """Score an open attempt once.

    Answers name question and option ids of this attempt; anything else is a
    tampered post: CourseError, nothing written. Every question must be
    answered: otherwise QuizIncomplete, nothing written, so a blank attempt
    neither uses up an attempt nor reveals anything. Submitting twice (two tabs,
    a double click) scores once: the second call returns the scored attempt.
    """
    with transaction.atomic():
        attempt = (
            QuizAttempt.objects.select_for_update()
            .select_related("enrolment")
            .filter(pk=attempt_id, enrolment__user=user)
            .first()
        )
        if attempt is None:
            raise CourseError(_("This attempt does not exist."))
        if attempt.status == QuizAttempt.Status.SUBMITTED:
            return attempt
        questions = {q["id"]: q for q in attempt.layout["questions"]}
        for question_id, chosen in answers.items():
            question = questions.get(question_id)
            option_ids = {o["id"] for o in question["options"]} if question else set()
            if question is None or not set(chosen) <= option_ids:
                raise CourseError(_("The answers do not match this quiz."))
            if question["kind"] != "multiple" and len(chosen) > 1:
                raise CourseError(
                    _("Choose one answer for each single-choice question.")
                )
        unanswered = sum(1 for question_id in questions if not answers.get(question_id))
        if unanswered:
            raise QuizIncomplete(unanswered=unanswered)
        right = sum(
            1
            for q in questions.values()
            if sorted(answers.get(q["id"], [])) == sorted(q["correct"])
        )
        course = CoursePage.objects.filter(pk=attempt.enrolment.course_key).first()
        pass_mark = course.pass_mark if course else 60
        attempt.answers = answers
        attempt.score = (Decimal(100) * right / len(questions)).quantize(Decimal("0.1"))
        attempt.passed = attempt.score >= pass_mark
        attempt.status = QuizAttempt.Status.SUBMITTED
        attempt.submitted_at = timezone.now()
        attempt.save(
            update_fields=["answers", "score", "passed", "status", "submitted_at"]
        )
        lesson = LessonPage.objects.filter(pk=attempt.lesson_key).first()
        if attempt.passed and lesson is not None:
            passed_quizzes = set(
                QuizAttempt.objects.filter(
                    enrolment=attempt.enrolment, lesson_key=lesson.pk, passed=True
                ).values_list("quiz_key", flat=True)
            )
            if {block.id for block in lesson.quiz_blocks()} <= passed_quizzes:
                progress = _progress_locked(enrolment=attempt.enrolment, lesson=lesson)
                if _complete(progress):
                    course_completion_evaluate(enrolment_id=attempt.enrolment_id)
    return attempt


# --- completion -------------------------------------------------------------------


def course_completion_evaluate(*, enrolment_id: int) -> bool:
    """Complete the enrolment if every criterion of its course holds.

    After: completed_at set, one hours-ledger entry and one pending certificate
    request, all in one transaction (docs/decisions.md, decision 1); the unique
    constraints make a second evaluation a no-op. Returns True when it
    completed the enrolment now.
    """
    from courses import completion, selectors
    from courses.achievements import achievement_record

    with transaction.atomic():
        enrolment = Enrolment.objects.select_for_update().get(pk=enrolment_id)
        if enrolment.completed_at or enrolment.course_id is None:
            return False
        course = enrolment.course
        progress = selectors.course_progress(enrolment=enrolment, course=course)
        codes = [c.kind for c in course.completion_criteria.all()]
        if not completion.all_met(codes, progress):
            return False
        now = timezone.now()
        enrolment.completed_at = now
        enrolment.save(update_fields=["completed_at"])
        achievement_record(
            user=enrolment.user_id,
            source_type=HoursLedgerEntry.Source.COURSE,
            source_key=enrolment.course_key,
            title=enrolment.course_title,
            hours=enrolment.credit_hours,
            achieved_on=timezone.localdate(now),
            certificate=True,
            issue_now=True,
        )
    return True

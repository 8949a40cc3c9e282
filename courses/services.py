"""Writes of the courses app: enrolment, progress, quizzes and completion.

Every function is keyword-only, takes what it needs, validates before it
writes, and writes in one transaction. Where two requests may race (a
double-clicked button, two tabs) the row is locked or a unique constraint
decides, so the second call finds the work done and changes nothing.
"""

import random
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from courses.models import (
    CertificateRequest,
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
    lesson is this one. May run twice: a visit that changes nothing writes
    nothing and takes no lock.
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

    Video and quiz lessons are completed by watching and passing, not by this:
    CourseError. May run twice (a double click): one completion.
    """
    if lesson.kind != "reading":
        raise CourseError(
            _("This lesson is completed by watching its video or passing its quiz.")
        )
    enrolment = _enrolment_for(user=user, lesson=lesson)
    with transaction.atomic():
        progress = _progress_locked(enrolment=enrolment, lesson=lesson)
        progress.position = 1.0
        progress.save(update_fields=["position", "updated_at"])
        if _complete(progress):
            course_completion_evaluate(enrolment_id=enrolment.pk)
    return progress


# How much faster than real time a heartbeat may claim to have played, and the
# slack for network delay: a forged claim gains at most this much.
PLAYBACK_RATE_LIMIT = 2.0
HEARTBEAT_SLACK_SECONDS = 2.0
VIDEO_COMPLETE_SHARE = 0.9


def _merge(intervals: list[list[float]]) -> list[list[float]]:
    merged: list[list[float]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1] + 0.5:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return merged


@dataclass(frozen=True)
class Heartbeat:
    video_key: str
    played_from: float
    position: float
    duration: float


def video_heartbeat(
    *, user: User, lesson: LessonPage, beat: Heartbeat
) -> LessonProgress:
    """Record that a stretch of a lesson's video was played.

    The server trusts only what its own clock allows: since the previous
    heartbeat at most PLAYBACK_RATE_LIMIT × elapsed + slack seconds can have
    been played, so one forged request claiming the whole video gains seconds,
    not the lesson. The lesson completes when every tracked video has been
    played for at least 90 % of its length. May run twice: an interval counts once.
    """
    videos = {block.id: block for block in lesson.tracked_videos()}
    if beat.video_key not in videos:
        raise CourseError(_("This video is not part of the lesson."))
    if not (0 < beat.duration < 24 * 3600) or not (
        0 <= beat.played_from <= beat.position <= beat.duration + 1
    ):
        raise CourseError(_("The playing position is not plausible."))
    enrolment = _enrolment_for(user=user, lesson=lesson)
    now = timezone.now()
    with transaction.atomic():
        progress = _progress_locked(enrolment=enrolment, lesson=lesson)
        watched = dict(progress.watched) if isinstance(progress.watched, dict) else {}
        video = watched.get(beat.video_key) or {
            "duration": beat.duration,
            "intervals": [],
        }
        if abs(video["duration"] - beat.duration) > 2:
            raise CourseError(_("The video length does not match."))
        elapsed = (
            (now - progress.last_heartbeat_at).total_seconds()
            if progress.last_heartbeat_at
            else 0.0
        )
        allowed = max(0.0, elapsed) * PLAYBACK_RATE_LIMIT + HEARTBEAT_SLACK_SECONDS
        end = min(beat.position, beat.played_from + allowed, video["duration"])
        if end > beat.played_from:
            video["intervals"] = _merge(video["intervals"] + [[beat.played_from, end]])
        watched[beat.video_key] = video
        progress.watched = watched
        progress.position = beat.position
        progress.video_duration = video["duration"]
        progress.watched_seconds = sum(
            b - a for v in watched.values() for a, b in v["intervals"]
        )
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
            sum(b - a for a, b in (watched.get(key) or {"intervals": []})["intervals"])
            >= VIDEO_COMPLETE_SHARE
            * (watched.get(key) or {"duration": float("inf")})["duration"]
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
    """The attempt's questions, shuffled, with the answers kept server-side."""
    questions = []
    for item in block.value["questions"].bound_blocks:
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
    rng.shuffle(questions)
    return {"title": block.value["title"], "questions": questions}


def quiz_attempts_left(*, course: CoursePage, submitted: int) -> int | None:
    """None means unlimited."""
    return None if course.max_attempts == 0 else max(0, course.max_attempts - submitted)


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
    1–10, or a quiz the lesson does not have. After: one grant row and one entry
    in Wagtail's audit log on the enrolment, in one transaction. The
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

    Refused when the quiz is passed or no attempts are left. One open attempt per
    quiz is a database constraint.
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
    submitted = attempts.filter(status=QuizAttempt.Status.SUBMITTED).count()
    if quiz_attempts_left(course=course, submitted=submitted) == 0:
        raise CourseError(_("You have used all your attempts at this quiz."))
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
    request, all in one transaction (docs/architecture.md, decision 1); the unique
    constraints make a second evaluation a no-op. Returns True when it
    completed the enrolment now.
    """
    from courses import completion, selectors
    from courses.tasks import issue_certificate

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
        today = timezone.localdate(now)
        HoursLedgerEntry.objects.create(
            user_id=enrolment.user_id,
            source_type=HoursLedgerEntry.Source.COURSE,
            source_key=enrolment.course_key,
            title=enrolment.course_title,
            hours=enrolment.credit_hours,
            earned_on=today,
        )
        request = CertificateRequest.objects.create(
            user_id=enrolment.user_id,
            source_type=HoursLedgerEntry.Source.COURSE,
            source_key=enrolment.course_key,
            title=enrolment.course_title,
            hours=enrolment.credit_hours,
            achieved_on=today,
        )
        issue_certificate.delay_on_commit(request.pk)
    return True

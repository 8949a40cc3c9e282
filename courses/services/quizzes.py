"""Quizzes: attempts started, scored and waited between, and the extra
attempts a training manager grants."""

import random
from datetime import timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from courses.models import (
    CoursePage,
    Enrolment,
    LessonPage,
    QuizAttempt,
    QuizAttemptGrant,
)
from courses.services.base import (
    CourseError,
    QuizIncomplete,
    _complete,
    _enrolment_for,
    _progress_locked,
)
from courses.services.completion import course_completion_evaluate
from portal.models import User


class QuizWait(CourseError):
    """A new attempt asked for before the quiz's wait after a failed one is over."""

    def __init__(self, *, until) -> None:
        self.until = until
        super().__init__(quiz_wait_message(until))


def _quiz_block(lesson: LessonPage, quiz_key: str):
    for block in lesson.quiz_blocks():
        if block.id == quiz_key:
            return block
    raise CourseError(_("This quiz is not part of the lesson."))


def _layout(block, rng: random.Random) -> dict:
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


def quiz_retry_at(*, block, last: QuizAttempt | None):
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


def quiz_wait_message(until) -> str:
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
    if lesson is None or quiz_key not in lesson.quiz_keys():
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
            if set(lesson.quiz_keys()) <= passed_quizzes:
                progress = _progress_locked(enrolment=attempt.enrolment, lesson=lesson)
                if _complete(progress):
                    course_completion_evaluate(enrolment_id=attempt.enrolment_id)
    return attempt

"""What the course services share: the errors a learner may see, and the
lesson progress rows that both lessons and quizzes write.

The errors are raised by the other modules of this package and caught by the
views (courses.views), which show their message.
"""

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from courses import reading
from courses.models import Enrolment, LessonPage, LessonProgress
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


# --- progress rows -------------------------------------------------------------


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


def _complete(progress: LessonProgress) -> bool:
    if progress.status == LessonProgress.Status.COMPLETED:
        return False
    progress.status = LessonProgress.Status.COMPLETED
    progress.completed_at = timezone.now()
    progress.save(update_fields=["status", "completed_at", "updated_at"])
    return True

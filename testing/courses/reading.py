"""Reading lessons in tests and benchmarks: a learner who opened a lesson and
has spent its minimum time on it (courses.reading), so that marking it
complete is accepted."""

from datetime import timedelta

from django.utils import timezone

from courses import services
from courses.models import LessonProgress
from courses.reading import lesson_minimum_minutes


def read_for_the_minimum_time(user, lesson) -> LessonProgress:  # type: ignore[no-untyped-def]
    """Open `lesson` as `user` (lesson_visit, what the lesson page does) and
    move the first opening back by the lesson's minimum time."""
    progress = services.lesson_visit(user=user, lesson=lesson)
    assert progress is not None, "the user is not enrolled in the lesson's course"
    started = timezone.now() - timedelta(
        minutes=lesson_minimum_minutes(lesson), seconds=1
    )
    LessonProgress.objects.filter(pk=progress.pk).update(started_at=started)
    progress.started_at = started
    return progress

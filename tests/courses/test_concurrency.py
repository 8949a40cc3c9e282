"""Two requests at once — a double click, the same quiz submitted from two
tabs — count once. Truly concurrent threads, each with its own database
connection; meaningful on PostgreSQL (row locks), also run on SQLite, where
writes are serialised."""

import threading

import pytest

from django.db import connection, connections

from courses import services
from courses.models import (
    CertificateRequest,
    Enrolment,
    HoursLedgerEntry,
    LessonProgress,
    QuizAttempt,
)
from tests.courses.factories import (
    CourseIndexPageFactory,
    CoursePageFactory,
    LessonPageFactory,
    paragraph,
    quiz,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def at_once(function, times: int = 2) -> list:
    """Run `function` in `times` threads released together; return results or errors."""
    barrier = threading.Barrier(times)
    results: list = []

    def run() -> None:
        try:
            barrier.wait()
            results.append(function())
        except Exception as error:  # noqa: BLE001 - collected for the assertion
            results.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.fixture
def course(home):
    catalogue = CourseIndexPageFactory(parent=home)
    course = CoursePageFactory(parent=catalogue, slug="ip-basics")
    LessonPageFactory(parent=course, slug="quiz", body=[paragraph(), quiz()])
    return course


def test_the_same_quiz_submitted_from_two_tabs_counts_once(course):
    user = UserFactory()
    services.enrolment_self(user=user, course=course)
    lesson = course.get_children().get(slug="quiz").specific
    attempt = services.quiz_attempt_start(
        user=user, lesson=lesson, quiz_key=lesson.quiz_blocks()[0].id
    )
    answers = {q["id"]: q["correct"] for q in attempt.layout["questions"]}

    results = at_once(
        lambda: services.quiz_attempt_submit(
            user=user, attempt_id=attempt.pk, answers=answers
        ),
        4,
    )

    assert not [r for r in results if isinstance(r, Exception)], results
    assert QuizAttempt.objects.filter(status="submitted").count() == 1
    assert LessonProgress.objects.filter(status="completed").count() == 1
    assert Enrolment.objects.get(user=user).completed_at is not None
    assert HoursLedgerEntry.objects.filter(user=user).count() == 1
    assert CertificateRequest.objects.filter(user=user).count() == 1


def test_a_double_clicked_enrol_enrols_once(course):
    user = UserFactory()
    results = at_once(lambda: services.enrolment_self(user=user, course=course), 4)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert Enrolment.objects.filter(user=user).count() == 1
    assert connection.vendor in ("postgresql", "sqlite")


def test_a_double_clicked_complete_completes_once(home):
    catalogue = CourseIndexPageFactory(parent=home)
    course = CoursePageFactory(parent=catalogue, slug="reading-only")
    lesson = LessonPageFactory(parent=course, slug="only").specific
    user = UserFactory()
    services.enrolment_self(user=user, course=course)

    results = at_once(
        lambda: services.lesson_mark_complete(user=user, lesson=lesson), 4
    )

    assert not [r for r in results if isinstance(r, Exception)], results
    assert LessonProgress.objects.filter(status="completed").count() == 1
    assert HoursLedgerEntry.objects.filter(user=user).count() == 1
    assert CertificateRequest.objects.filter(user=user).count() == 1

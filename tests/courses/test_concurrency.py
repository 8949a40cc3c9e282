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
from tests.courses.reading import read_for_the_minimum_time
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
    read_for_the_minimum_time(user, lesson)

    results = at_once(
        lambda: services.lesson_mark_complete(user=user, lesson=lesson), 4
    )

    assert not [r for r in results if isinstance(r, Exception)], results
    assert LessonProgress.objects.filter(status="completed").count() == 1
    assert HoursLedgerEntry.objects.filter(user=user).count() == 1
    assert CertificateRequest.objects.filter(user=user).count() == 1


def test_concurrent_http_requests_to_complete_and_submit_count_once(live_server, home):
    """The same as above through the web server, which handles each request in
    its own thread: a double-clicked "complete" and a quiz sent from two tabs."""
    import http.cookiejar
    import re
    import urllib.parse
    import urllib.request

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    catalogue = CourseIndexPageFactory(parent=home)
    course = CoursePageFactory(parent=catalogue, slug="http-course")
    reading = LessonPageFactory(parent=course, slug="reading").specific
    quiz_lesson = LessonPageFactory(
        parent=course, slug="quiz", body=[paragraph(), quiz()]
    ).specific
    user = UserFactory()
    services.enrolment_self(user=user, course=course)
    read_for_the_minimum_time(user, reading)
    attempt = services.quiz_attempt_start(
        user=user, lesson=quiz_lesson, quiz_key=quiz_lesson.quiz_blocks()[0].id
    )

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.addheaders = [
        ("Cookie", f"{settings.SESSION_COOKIE_NAME}={session.session_key}")
    ]
    page = opener.open(f"{live_server.url}/courses/http-course/quiz/").read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    csrf_cookie = next(c.value for c in jar if c.name == settings.CSRF_COOKIE_NAME)
    headers = {
        "Cookie": f"{settings.SESSION_COOKIE_NAME}={session.session_key}; "
        f"{settings.CSRF_COOKIE_NAME}={csrf_cookie}",
        "Referer": live_server.url,
    }

    def post(path: str, fields: list[tuple[str, str]]) -> int:
        data = urllib.parse.urlencode(
            [("csrfmiddlewaretoken", token), *fields]
        ).encode()
        request = urllib.request.Request(
            f"{live_server.url}{path}", data=data, headers=headers
        )
        opener_no_redirect = urllib.request.build_opener(NoRedirect)
        return opener_no_redirect.open(request).status

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            return None

    def status_of(call):  # type: ignore[no-untyped-def]
        try:
            return call()
        except urllib.error.HTTPError as error:
            return error.code

    answers = [
        (f"q-{q['id']}", o) for q in attempt.layout["questions"] for o in q["correct"]
    ]
    results = at_once(
        lambda: status_of(
            lambda: post(f"/learning/lessons/{reading.pk}/complete/", [])
        ),
        3,
    ) + at_once(
        lambda: status_of(
            lambda: post(f"/learning/attempts/{attempt.pk}/submit/", answers)
        ),
        3,
    )

    assert all(code == 302 for code in results), results
    assert LessonProgress.objects.filter(status="completed").count() == 2
    assert QuizAttempt.objects.filter(status="submitted").count() == 1
    assert HoursLedgerEntry.objects.filter(user=user).count() == 1
    assert CertificateRequest.objects.filter(user=user).count() == 1

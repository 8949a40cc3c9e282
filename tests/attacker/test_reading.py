"""A hostile learner and a reading lesson: the cheapest forged requests that
would complete it without reading. The server counts a lesson's minimum time
from the first opening by its own clock (courses.reading); a POST alone, or a
POST straight after opening, completes nothing and writes nothing."""

import uuid
from datetime import timedelta

import pytest

from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone

from wagtail.documents import get_document_model

from courses import services
from courses.models import (
    CertificateRequest,
    HoursLedgerEntry,
    LessonProgress,
    MediaFacts,
)
from tests.courses.factories import (
    CourseIndexPageFactory,
    CoursePageFactory,
    LessonPageFactory,
    paragraph,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

# 1,000 Chinese characters at 400 a minute: three minutes (rounded up).
TEXT = "知识产权" * 250
TEXT_MINUTES = 3


class Clock:
    """The server's clock, moved on by the test (django.utils.timezone.now,
    which the services read; no freezegun in requirements-dev.lock)."""

    def __init__(self, monkeypatch) -> None:  # type: ignore[no-untyped-def]
        real_now = timezone.now
        self.offset = timedelta(0)
        monkeypatch.setattr(
            "django.utils.timezone.now", lambda: real_now() + self.offset
        )

    def advance(self, **kwargs) -> None:  # type: ignore[no-untyped-def]
        self.offset += timedelta(**kwargs)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    return Clock(monkeypatch)


@pytest.fixture
def course(home):
    catalogue = CourseIndexPageFactory(parent=home)
    course = CoursePageFactory(parent=catalogue, slug="ip-basics", title="知识产权基础")
    LessonPageFactory(
        parent=course, slug="reading", title="第一课", body=[paragraph(TEXT)]
    )
    return course


def reading_lesson(course):  # type: ignore[no-untyped-def]
    return course.get_children().get(slug="reading").specific


@pytest.fixture
def learner(client, course):  # type: ignore[no-untyped-def]
    user = UserFactory()
    services.enrolment_self(user=user, course=course)
    client.force_login(user)
    client.user = user
    return client


def complete(client, lesson):  # type: ignore[no-untyped-def]
    return client.post(
        reverse("courses:complete", args=[lesson.pk]), HTTP_ACCEPT="application/json"
    )


def nothing_earned(user) -> bool:  # type: ignore[no-untyped-def]
    return (
        not LessonProgress.objects.filter(
            enrolment__user=user, status="completed"
        ).exists()
        and not HoursLedgerEntry.objects.filter(user=user).exists()
        and not CertificateRequest.objects.filter(user=user).exists()
    )


def test_complete_straight_after_opening_is_refused_and_says_how_long(learner, course):
    lesson = reading_lesson(course)
    assert learner.get(lesson.url).status_code == 200
    before = LessonProgress.objects.get(enrolment__user=learner.user)

    response = complete(learner, lesson)

    assert response.status_code == 400
    answer = response.json()
    assert answer["ok"] is False
    assert f"还需 {TEXT_MINUTES} 分钟" in answer["error"]
    assert 0 < answer["seconds_left"] <= TEXT_MINUTES * 60
    after = LessonProgress.objects.get(enrolment__user=learner.user)
    # Nothing written: not the status, not the position, not even updated_at.
    assert (after.status, after.position, after.completed_at, after.updated_at) == (
        before.status,
        before.position,
        before.completed_at,
        before.updated_at,
    )
    assert nothing_earned(learner.user)


def test_the_form_without_javascript_is_refused_with_the_message_on_the_lesson(
    learner, course
):
    lesson = reading_lesson(course)
    learner.get(lesson.url)
    response = learner.post(
        reverse("courses:complete", args=[lesson.pk]), {"next": lesson.url}
    )
    assert response.status_code == 302 and response["Location"] == lesson.url
    page = learner.get(lesson.url).content.decode()
    assert "还不能完成" in page
    assert nothing_earned(learner.user)


def test_complete_without_ever_opening_the_lesson_is_refused(learner, course):
    response = complete(learner, reading_lesson(course))
    assert response.status_code == 400
    assert "请先打开并阅读本课时" in response.json()["error"]
    # Not even a progress row: the POST cannot start the clock either.
    assert not LessonProgress.objects.filter(enrolment__user=learner.user).exists()
    assert nothing_earned(learner.user)


def test_complete_is_accepted_once_the_minimum_time_has_passed(learner, course, clock):
    lesson = reading_lesson(course)
    learner.get(lesson.url)
    clock.advance(minutes=TEXT_MINUTES - 1)
    early = complete(learner, lesson)
    assert early.status_code == 400 and "还需 1 分钟" in early.json()["error"]

    clock.advance(minutes=1, seconds=1)
    response = complete(learner, lesson)

    assert response.status_code == 200 and response.json()["completed"] is True
    progress = LessonProgress.objects.get(enrolment__user=learner.user)
    assert progress.status == "completed" and progress.completed_at is not None
    # The only lesson: the course is complete, its hours and certificate follow.
    assert HoursLedgerEntry.objects.filter(user=learner.user).count() == 1
    assert CertificateRequest.objects.filter(user=learner.user).count() == 1


def test_opening_the_lesson_again_does_not_restart_or_shorten_the_clock(
    learner, course, clock
):
    lesson = reading_lesson(course)
    learner.get(lesson.url)
    started = LessonProgress.objects.get(enrolment__user=learner.user).started_at
    clock.advance(minutes=TEXT_MINUTES - 1)
    learner.get(lesson.url)
    assert LessonProgress.objects.get(enrolment__user=learner.user).started_at == (
        started
    )
    clock.advance(minutes=1, seconds=1)
    assert complete(learner, lesson).status_code == 200


def test_the_page_tells_the_learner_how_long_is_left(learner, course, clock):
    lesson = reading_lesson(course)
    page = learner.get(lesson.url).content.decode()
    assert f"最少学习时间为 {TEXT_MINUTES} 分钟" in page
    assert f"剩余时间：{TEXT_MINUTES} 分钟" in page
    assert "起可用" in page  # the button says from when
    clock.advance(minutes=TEXT_MINUTES)
    page = learner.get(lesson.url).content.decode()
    assert "已达到最少学习时间" in page and "起可用" not in page


def test_a_pdf_lessons_minimum_comes_from_its_pages(learner, course, clock):
    document = get_document_model().objects.create(title="专利审查指南")
    document.file.save("guide.pdf", ContentFile(b"%PDF-1.4 fake"), save=True)
    MediaFacts.objects.create(document=document, page_count=10)
    lesson = LessonPageFactory(
        parent=course,
        slug="guide",
        body=[
            {
                "type": "pdf",
                "id": str(uuid.uuid4()),
                "value": {"document": document.pk, "title": "审查指南"},
            }
        ],
    )
    learner.get(lesson.url)
    clock.advance(minutes=9)
    early = complete(learner, lesson)
    assert early.status_code == 400 and "还需 1 分钟" in early.json()["error"]
    clock.advance(minutes=1, seconds=1)
    assert complete(learner, lesson).status_code == 200


def test_the_editors_minimum_wins_over_the_text_length(learner, course, clock):
    lesson = reading_lesson(course)
    lesson.minimum_minutes = 20
    lesson.save_revision().publish()
    learner.get(lesson.url)
    clock.advance(minutes=TEXT_MINUTES + 1)
    early = complete(learner, lesson)
    assert early.status_code == 400 and "还需 16 分钟" in early.json()["error"]
    clock.advance(minutes=16, seconds=1)
    assert complete(learner, lesson).status_code == 200


def test_a_learner_of_another_course_cannot_complete_the_lesson(client, course):
    lesson = reading_lesson(course)
    stranger = UserFactory()
    client.force_login(stranger)
    client.get(lesson.url)
    assert complete(client, lesson).status_code == 400
    assert not LessonProgress.objects.filter(enrolment__user=stranger).exists()

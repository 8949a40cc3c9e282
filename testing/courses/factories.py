"""Factories for courses: catalogue, course and lessons of each kind."""

import uuid
from decimal import Decimal

import factory
import wagtail_factories

from django.utils import timezone

from courses.models import CourseIndexPage, CoursePage, LessonPage


class CourseIndexPageFactory(wagtail_factories.PageFactory):
    title = "课程中心"
    slug = "courses"

    class Meta:
        model = CourseIndexPage


class CoursePageFactory(wagtail_factories.PageFactory):
    title = factory.Sequence(lambda n: f"知识产权基础 {n}")
    summary = "面向公务员的知识产权入门课程。"
    credit_hours = Decimal("2.0")
    pass_mark = 60
    max_attempts = 3

    class Meta:
        model = CoursePage


def _id() -> str:
    return str(uuid.uuid4())


def paragraph(text: str = "知识产权是权利人对其智力劳动成果所享有的专有权利。") -> dict:
    return {"type": "paragraph", "value": f"<p>{text}</p>", "id": _id()}


def option(text: str, correct: bool = False) -> dict:
    return {"type": "item", "value": {"text": text, "correct": correct}, "id": _id()}


def question(
    text: str,
    options: list[dict],
    kind: str = "single",
    answer: str = "",
    explanation: str = "",
) -> dict:
    return {
        "type": "item",
        "id": _id(),
        "value": {
            "kind": kind,
            "text": text,
            "options": options,
            "true_false_answer": answer,
            "explanation": explanation,
        },
    }


def quiz(
    questions: list[dict] | None = None,
    title: str = "随堂测验",
    show_answers: str | None = None,
) -> dict:
    """A quiz block; without `show_answers` it is stored as quizzes were before
    that setting existed (the block then gives its default)."""
    questions = questions or [
        question(
            "专利权的保护期限（发明专利）是多少年？",
            [option("20年", True), option("10年"), option("50年")],
            explanation="发明专利权的期限为二十年。",
        ),
        question(
            "以下哪些属于知识产权？",
            [option("专利权", True), option("商标权", True), option("物权")],
            kind="multiple",
            explanation="物权不属于知识产权。",
        ),
        question(
            "商标注册后永久有效。",
            [],
            kind="true_false",
            answer="false",
            explanation="注册商标有效期十年，可以续展。",
        ),
    ]
    value = {"title": title, "intro": "", "questions": questions}
    if show_answers is not None:
        value["show_answers"] = show_answers
    return {"type": "quiz", "id": _id(), "value": value}


def measured(document, seconds: float = 100.0):  # type: ignore[no-untyped-def]
    """Give a document the length the server would have read from a real
    video (courses.media), for tests whose file is not a real video. The
    hash is the file's, so a later measurement leaves it alone."""
    import hashlib

    from courses.models import MediaFacts

    with document.open_file() as file:
        file_hash = hashlib.sha1(file.read(), usedforsecurity=False).hexdigest()
    facts, _created = MediaFacts.objects.update_or_create(
        document=document,
        defaults={"file_hash": file_hash, "duration_seconds": seconds, "error": ""},
    )
    return facts


def video(document) -> dict:  # type: ignore[no-untyped-def]
    return {
        "type": "video",
        "id": _id(),
        "value": {
            "title": "专利导航概述",
            "video": document.pk,
            "captions": None,
            "embed": None,
            "transcript": "",
        },
    }


class LessonPageFactory(wagtail_factories.PageFactory):
    title = factory.Sequence(lambda n: f"第{n}课 知识产权概述")
    body = factory.LazyFunction(lambda: [paragraph()])

    class Meta:
        model = LessonPage


class CertificateRequestFactory(factory.django.DjangoModelFactory):
    """A completed course awaiting its certificate (what completion writes)."""

    user = factory.SubFactory("testing.factories.UserFactory")
    source_type = "course"
    source_key = factory.Sequence(lambda n: 10_000 + n)
    title = "知识产权基础"
    hours = Decimal("2.0")
    achieved_on = factory.LazyFunction(timezone.localdate)

    class Meta:
        model = "courses.CertificateRequest"

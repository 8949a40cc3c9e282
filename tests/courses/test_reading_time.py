"""A reading lesson's minimum time, worked out from what it shows
(courses.reading.lesson_minimum_minutes)."""

import uuid

import pytest

from django.core.files.base import ContentFile

from wagtail.documents import get_document_model

from courses.models import LessonPage, MediaFacts, SharedContent
from courses.reading import lesson_minimum_minutes, text_minutes
from tests.courses.factories import paragraph, quiz

pytestmark = pytest.mark.django_db


def block(kind: str, value) -> dict:  # type: ignore[no-untyped-def]
    return {"type": kind, "id": str(uuid.uuid4()), "value": value}


def pdf(pages: int | None, *, measured: bool = True) -> dict:
    document = get_document_model().objects.create(title="专利审查指南")
    document.file.save("guide.pdf", ContentFile(b"%PDF-1.4 fake"), save=True)
    if measured:
        MediaFacts.objects.create(document=document, page_count=pages)
    return block("pdf", {"document": document.pk, "title": ""})


def lesson(*blocks: dict, minimum: int | None = None) -> LessonPage:
    return LessonPage(title="第一课", body=list(blocks), minimum_minutes=minimum)


def test_chinese_is_read_at_400_characters_a_minute():
    assert lesson_minimum_minutes(lesson(paragraph("知" * 400))) == 1
    assert lesson_minimum_minutes(lesson(paragraph("知" * 401))) == 2
    assert lesson_minimum_minutes(lesson(paragraph("知" * 2000))) == 5
    # Punctuation and markup are not read.
    assert text_minutes("，。、“”") == 0


def test_english_is_read_at_200_words_a_minute():
    assert text_minutes("patent " * 200) == 1
    assert text_minutes("专利" * 200 + " TRIPS " * 100) == 1.5


def test_every_visible_text_counts_and_quizzes_do_not():
    shared = SharedContent.objects.create(
        title="申请流程", body=[paragraph("知" * 400)]
    )
    body = [
        block("heading", {"text": "知" * 100, "level": "h2"}),
        paragraph("<b>知</b>" * 100 + "&lt;&gt;"),
        block(
            "callout",
            {"kind": "info", "title": "知" * 50, "text": "<p>" + "知" * 50 + "</p>"},
        ),
        block("image", {"image": None, "caption": "知" * 100}),
        block("shared", shared.pk),
        quiz(),
    ]
    # 100 + 100 + 100 + 100 + 400 = 800 characters: two minutes.
    assert lesson_minimum_minutes(lesson(*body)) == 2


def test_pdf_pages_and_embedded_videos_add_their_minutes():
    embed = block(
        "video",
        {
            "title": "",
            "video": None,
            "captions": None,
            "embed": "https://example.org/v/1",
            "embed_minutes": 7,
            "transcript": "",
        },
    )
    reading = lesson(paragraph("知" * 400), pdf(12), embed)
    # 1 (text) + 12 pages × 1 minute + 7 (the embed's stated length).
    assert lesson_minimum_minutes(reading) == 20


def test_a_pdf_not_measured_yet_counts_as_one_page():
    assert lesson_minimum_minutes(lesson(pdf(None))) == 1
    assert lesson_minimum_minutes(lesson(pdf(None, measured=False))) == 1


def test_the_editors_minimum_wins():
    assert lesson_minimum_minutes(lesson(pdf(40), minimum=3)) == 3
    assert lesson_minimum_minutes(lesson(paragraph("知" * 4000), minimum=0)) == 0


def test_an_empty_lesson_has_no_minimum_and_a_huge_one_is_capped():
    assert lesson_minimum_minutes(lesson()) == 0
    assert lesson_minimum_minutes(lesson(pdf(5000))) == 600

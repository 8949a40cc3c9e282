"""A new trainee's whole journey in a real browser, in Chinese: sign up, enrol,
read a lesson, watch a video to 90 %, fail then pass the quiz, and see the
completed course and its hours on My learning; axe-core on every page."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from django.core.files.base import ContentFile

from wagtail.documents import get_document_model

from courses.models import Enrolment, HoursLedgerEntry
from tests.browser.helpers import assert_no_serious_axe_violations, sign_up_and_sign_in
from tests.courses.factories import (
    CourseIndexPageFactory,
    CoursePageFactory,
    LessonPageFactory,
    paragraph,
    quiz,
    video,
)
from tests.courses.reading import read_for_the_minimum_time

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

DEMO_VIDEO = Path(__file__).resolve().parents[2] / "courses/demo/intro.webm"


@pytest.fixture
def course(home):
    catalogue = CourseIndexPageFactory(parent=home, show_in_menus=True)
    course = CoursePageFactory(parent=catalogue, slug="ip-basics", title="知识产权基础")
    document = get_document_model().objects.create(title="导航视频")
    document.file.save("intro.webm", ContentFile(DEMO_VIDEO.read_bytes()), save=True)
    long_text = [
        paragraph("知识产权是权利人对其智力劳动成果所享有的专有权利。" * 8)
        for _ in range(12)
    ]
    LessonPageFactory(
        parent=course, slug="reading", title="第一课 什么是知识产权", body=long_text
    )
    LessonPageFactory(
        parent=course, slug="video", title="第二课 专利导航", body=[video(document)]
    )
    LessonPageFactory(
        parent=course, slug="quiz", title="第三课 测验", body=[paragraph(), quiz()]
    )
    return course


def choose_answers(tab, *, right: bool) -> None:  # type: ignore[no-untyped-def]
    """Answer every question right, or every one wrongly (a blank one is refused)."""
    from courses.models import QuizAttempt

    attempt = QuizAttempt.objects.get(status="open")
    for question in attempt.layout["questions"]:
        chosen = (
            question["correct"]
            if right
            else [
                next(
                    o["id"]
                    for o in question["options"]
                    if o["id"] not in question["correct"]
                )
            ]
        )
        for option_id in chosen:
            tab.locator(f"#o-{question['id']}-{option_id}").check()


def test_sign_up_enrol_learn_and_complete_a_course(page, course):
    sign_up_and_sign_in(
        page, email="li.jing@example.org", password="Zhishi-Chanquan-2027", name="李婧"
    )

    page.goto("/courses/")
    assert_no_serious_axe_violations(page)
    page.get_by_role("link", name="知识产权基础").click()
    assert_no_serious_axe_violations(page)
    page.get_by_role("button", name="报名参加本课程").click()

    # The reading lesson completes when read to the end once its minimum time
    # has passed (tests/browser/test_reading_lesson.py): the learner spends it.
    expect(page).to_have_url(re.compile(r"/courses/ip-basics/reading/$"))
    assert_no_serious_axe_violations(page)
    read_for_the_minimum_time(
        Enrolment.objects.get(user__email="li.jing@example.org").user,
        course.get_children().get(slug="reading").specific,
    )
    page.reload()
    page.locator("[data-lesson-content-end]").scroll_into_view_if_needed()
    expect(page.get_by_text("您已完成本课时。")).to_be_visible()

    # The video lesson completes after 90 % has really been played.
    page.goto("/courses/ip-basics/video/")
    assert_no_serious_axe_violations(page)
    player = page.locator("video")
    player.evaluate("v => { v.muted = true; v.playbackRate = 1.5; return v.play(); }")
    page.wait_for_function(
        "() => document.querySelector('video').ended", timeout=40_000
    )
    page.wait_for_timeout(500)
    page.reload()
    expect(page.get_by_text("您已完成本课时")).to_be_visible()

    # The quiz: a first attempt fails, the second passes.
    page.goto("/courses/ip-basics/quiz/")
    page.get_by_role("button", name="开始测验").click()
    assert_no_serious_axe_violations(page)
    choose_answers(page, right=False)
    page.get_by_role("button", name="提交答案").click()
    expect(page.get_by_text("未通过").first).to_be_visible()
    # Attempts are left: the result does not give the answers away.
    expect(page.get_by_text("发明专利权的期限为二十年")).to_have_count(0)
    page.get_by_role("button", name="再试一次").click()
    choose_answers(page, right=True)
    page.get_by_role("button", name="提交答案").click()
    expect(page.get_by_text("您已通过本测验")).to_be_visible()

    enrolment = Enrolment.objects.get(user__email="li.jing@example.org")
    assert enrolment.completed_at is not None
    assert (
        HoursLedgerEntry.objects.get(user=enrolment.user).hours == course.credit_hours
    )

    page.goto("/learning/")
    assert_no_serious_axe_violations(page)
    main = page.get_by_role("main")
    expect(main).to_contain_text("知识产权基础")
    expect(main.locator(".stat__value").first).to_have_text("2.0")

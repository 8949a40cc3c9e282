"""A trainee who fails a quiz in a real browser, in Chinese: the wait before
the next attempt with its time, then the attempts used up on the lesson and
the course page (whom to ask, no "continue learning"), then a training
manager's grant and a new attempt; axe-core on every page."""

import re

import pytest
from playwright.sync_api import expect

from courses import services
from courses.models import Enrolment, QuizAttempt
from tests.browser.helpers import assert_no_serious_axe_violations, sign_in
from tests.courses.quizzes import (
    COURSE_URL,
    LESSON_URL,
    enrol,
    fail,
    make_course,
    quiz_lesson,
    retry_time,
    shown_in_chinese,
    submitted_long_ago,
    wrong,
)
from tests.factories import StaffFactory, UserFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_wait_used_up_and_a_grant(page, home):
    course = make_course(home, max_attempts=2, wait_minutes=30, draw=3)
    user = enrol(course, UserFactory(email="zhao.lei@example.org"))
    sign_in(page, "zhao.lei@example.org")

    first = fail(user)
    page.goto(LESSON_URL)
    expect(page.locator("[data-quiz-wait]")).to_contain_text(
        f"您可在 {shown_in_chinese(retry_time(first, 30))}（北京时间）起再次作答"
    )
    expect(page.get_by_role("button", name="再试一次")).to_have_count(0)
    assert_no_serious_axe_violations(page)

    submitted_long_ago(first)
    page.reload()
    page.get_by_role("button", name="再试一次").click()
    expect(page.get_by_role("button", name="提交答案")).to_be_visible()
    second = QuizAttempt.objects.get(status="open")
    services.quiz_attempt_submit(user=user, attempt_id=second.pk, answers=wrong(second))
    page.goto(LESSON_URL)
    expect(page.locator("[data-quiz-used-up]")).to_contain_text(
        "如需再次作答，请向培训管理员申请增加作答次数。"
    )
    assert_no_serious_axe_violations(page)

    page.goto(COURSE_URL)
    warning = page.locator("[data-quiz-used-up]")
    expect(warning).to_contain_text("课程暂时无法完成")
    expect(page.get_by_role("link", name="继续学习")).to_have_count(0)
    assert_no_serious_axe_violations(page)

    lesson = quiz_lesson()
    services.quiz_attempts_grant(
        enrolment=Enrolment.objects.get(user=user),
        lesson_key=lesson.pk,
        quiz_key=lesson.key,
        extra=1,
        reason="考试时网络中断",
        by=StaffFactory(),
    )
    submitted_long_ago(QuizAttempt.objects.filter(status="submitted").last())
    page.reload()
    expect(page.get_by_role("link", name="继续学习")).to_be_visible()
    page.goto(LESSON_URL)
    page.get_by_role("button", name="再试一次").click()
    expect(page).to_have_url(re.compile(rf"{LESSON_URL}#quiz-"))
    expect(page.get_by_role("button", name="提交答案")).to_be_visible()
    assert QuizAttempt.objects.get(status="open").number == 3

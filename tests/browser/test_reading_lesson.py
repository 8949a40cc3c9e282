"""Reading lessons in a real browser, at the two laptop screens the portal's
learners use most (1280×720, 1366×768): opening a short lesson does not
complete it, however much of the page the footer fills; reading to the end
of the lesson's own content after its minimum time does, without a reload.
The server keeps the time (courses.reading); the page counts down what it
said. The browser's clock is Playwright's, moved on together with the
progress row's first opening in the database."""

import re

import pytest
from playwright.sync_api import expect

from courses import services
from courses.models import LessonProgress
from tests.browser.helpers import assert_no_serious_axe_violations, sign_in
from tests.courses.factories import (
    CourseIndexPageFactory,
    CoursePageFactory,
    LessonPageFactory,
    paragraph,
)
from tests.courses.reading import read_for_the_minimum_time
from tests.factories import UserFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

VIEWPORTS = [
    pytest.param({"width": 1280, "height": 720}, id="1280x720"),
    pytest.param({"width": 1366, "height": 768}, id="1366x768"),
]
SENTENCE = "知识产权是权利人对其智力劳动成果所享有的专有权利。"
MINUTE_AND_A_BIT = 61_000


@pytest.fixture
def learner(home):
    catalogue = CourseIndexPageFactory(parent=home, show_in_menus=True)
    course = CoursePageFactory(parent=catalogue, slug="ip-basics", title="知识产权基础")
    # About 50 characters: a one-minute minimum, all of it on the first screen.
    LessonPageFactory(
        parent=course, slug="short", title="第一课 概述", body=[paragraph(SENTENCE * 2)]
    )
    # Many screens long; the editor set a one-minute minimum.
    LessonPageFactory(
        parent=course,
        slug="long",
        title="第二课 什么是知识产权",
        minimum_minutes=1,
        body=[paragraph(SENTENCE * 8) for _ in range(15)],
    )
    user = UserFactory()
    services.enrolment_self(user=user, course=course)
    return user


def lesson(slug: str):  # type: ignore[no-untyped-def]
    from courses.models import LessonPage

    return LessonPage.objects.get(slug=slug)


def status(user, slug: str) -> str:  # type: ignore[no-untyped-def]
    return LessonProgress.objects.get(
        enrolment__user=user, lesson_key=lesson(slug).pk
    ).status


def open_lesson(new_page, user, viewport, slug: str):  # type: ignore[no-untyped-def]
    tab = new_page(viewport=viewport)
    tab.clock.install()
    completions: list[str] = []
    tab.on(
        "request",
        lambda request: (
            completions.append(request.url) if "/complete/" in request.url else None
        ),
    )
    sign_in(tab, user.email)
    tab.goto(f"/courses/ip-basics/{slug}/")
    tab.wait_for_load_state("networkidle")
    return tab, completions


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_opening_a_short_reading_lesson_does_not_complete_it(
    new_page, learner, viewport
):
    tab, completions = open_lesson(new_page, learner, viewport, "short")

    # The end of the lesson is in view at once, and still nothing completes.
    expect(tab.locator("[data-lesson-content-end]")).to_be_in_viewport()
    expect(tab.get_by_text("剩余时间：1 分钟")).to_be_visible()
    button = tab.get_by_role(
        "button", name=re.compile(r"标记为已完成（\d\d:\d\d 起可用）")
    )
    expect(button).to_be_visible()
    assert completions == []
    assert status(learner, "short") == "started"
    assert_no_serious_axe_violations(tab)

    # An early press of the button, from the keyboard, says how long is left.
    button.focus()
    tab.keyboard.press("Enter")
    expect(tab.get_by_role("status")).to_contain_text("还不能完成")
    assert status(learner, "short") == "started"

    # Once the minute has passed (on the server and in the page), the lesson
    # completes by itself: its end has been in view all along.
    read_for_the_minimum_time(learner, lesson("short"))
    tab.clock.fast_forward(MINUTE_AND_A_BIT)
    expect(tab.get_by_role("status")).to_have_text("您已完成本课时。")
    assert status(learner, "short") == "completed"
    assert_no_serious_axe_violations(tab)


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_scrolling_to_the_end_after_the_minimum_time_completes_it(
    new_page, learner, viewport
):
    tab, completions = open_lesson(new_page, learner, viewport, "long")
    end = tab.locator("[data-lesson-content-end]")
    expect(end).not_to_be_in_viewport()
    assert_no_serious_axe_violations(tab)

    # The time is up, but the end of the lesson has not been reached.
    read_for_the_minimum_time(learner, lesson("long"))
    tab.clock.fast_forward(MINUTE_AND_A_BIT)
    expect(tab.get_by_text("已达到最少学习时间")).to_have_count(1)
    expect(tab.get_by_role("button", name="标记为已完成", exact=True)).to_be_attached()
    assert completions == []
    assert status(learner, "long") == "started"

    # Reading on to the end completes it, without a reload.
    end.scroll_into_view_if_needed()
    expect(tab.get_by_role("status")).to_have_text("您已完成本课时。")
    assert status(learner, "long") == "completed"
    assert len(completions) == 1
    assert_no_serious_axe_violations(tab)

"""The learner always knows the next step (issue 17, part 5): My learning in
the header and the account menu, signing in ends where the learner was going
(never on another site) or on My learning, and the course page and My
learning name the state of each course: 开始学习, 继续学习, 待补考 (attempts
at a required quiz used up: a training manager must grant another), 已完成."""

import re

import pytest

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from courses import services
from courses.models import Enrolment
from tests.courses.factories import CoursePageFactory
from tests.courses.quizzes import (
    COURSE_URL,
    LESSON_URL,
    enrol,
    fail,
    make_course,
    quiz_lesson,
)
from tests.factories import StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"
MY_LEARNING = "/learning/"


def status_button(html: str) -> str:
    """The text of the course page's call to action (its first status)."""
    found = re.search(r'data-learning-status="(\w+)"[^>]*>([^<]+)<', html)
    assert found, "no status on the page"
    return found.group(2)


def statuses(html: str) -> list[str]:
    return re.findall(r'data-learning-status="(\w+)"', html)


# --- My learning in the header and the account menu -----------------------------


def test_my_learning_is_in_the_header_for_anyone_signed_in(client, home):
    page = client.get("/").content.decode()
    assert f'href="{MY_LEARNING}"' not in page  # a visitor has none

    client.force_login(UserFactory())
    header = client.get("/").content.decode().split("</header>")[0]
    assert f'<a href="{MY_LEARNING}">我的学习</a>' in header
    english = client.get("/en/").content.decode().split("</header>")[0]
    assert '<a href="/en/learning/">My learning</a>' in english
    # On My learning itself the link says it is the current page.
    here = client.get(MY_LEARNING).content.decode().split("</header>")[0]
    assert f'<a href="{MY_LEARNING}" aria-current="page">我的学习</a>' in here


def test_my_learning_is_in_the_account_menu(client, home):
    client.force_login(UserFactory())
    html = client.get(reverse("account_email")).content.decode()
    menu = html[html.index('class="account-menu"') :]
    menu = menu[: menu.index("</nav>")]
    assert f'<a href="{MY_LEARNING}">我的学习</a>' in menu
    english = client.get("/en/accounts/email/").content.decode()
    assert '<a href="/en/learning/">My learning</a>' in english


# --- where signing in ends ---------------------------------------------------------


def sign_in(client: Client, user, next_url: str | None = None):  # type: ignore[no-untyped-def]
    url = reverse("account_login")
    data = {"login": user.email, "password": PASSWORD}
    if next_url is not None:
        data["next"] = next_url
    return client.post(url, data)


def test_signing_in_without_a_next_ends_on_my_learning(home):
    client = Client()
    response = sign_in(client, UserFactory())
    assert response.status_code == 302
    assert response["Location"] == MY_LEARNING
    page = client.get(response["Location"]).content.decode()
    assert "<h1>我的学习</h1>" in page


def test_signing_in_returns_to_where_the_learner_was_going(home):
    client = Client()
    # My learning needs a signed-in user: the visitor is sent to sign in...
    asked = client.get(MY_LEARNING)
    assert asked["Location"] == f"{reverse('account_login')}?next={MY_LEARNING}"
    # ...and comes back to the page asked for, whichever it was.
    response = sign_in(client, UserFactory(), "/events/?page=2")
    assert response["Location"] == "/events/?page=2"


@pytest.mark.parametrize(
    "next_url",
    [
        "https://evil.example/learning/",
        "//evil.example/",
        "/\\evil.example",
        "https://sub.portal.example/",  # a subdomain ALLOWED_HOSTS allows
        "http://testserver/learning/",  # a step down from HTTPS
    ],
)
def test_an_off_site_next_is_not_followed(home, settings, next_url):
    """The attacker's link: the real sign-in page, then another site."""
    settings.ALLOWED_HOSTS = ["testserver", ".portal.example"]
    client = Client()
    response = client.post(
        reverse("account_login"),
        {"login": UserFactory().email, "password": PASSWORD, "next": next_url},
        secure=True,
    )
    assert response.status_code == 302
    assert response["Location"] == MY_LEARNING


# --- the course's state: course page and My learning --------------------------------


def test_the_course_page_and_my_learning_name_each_state(client, home):
    course = make_course(home, max_attempts=2)
    user = enrol(course)
    client.force_login(user)
    key = quiz_lesson().key

    # Enrolled, nothing opened yet: start, at the first lesson.
    page = client.get(COURSE_URL).content.decode()
    assert status_button(page) == "开始学习"
    assert f'data-learning-status="start" href="{LESSON_URL}"' in page
    assert status_button(client.get(f"/en{COURSE_URL}").content.decode()) == (
        "Start learning"
    )
    learning = client.get(MY_LEARNING).content.decode()
    assert statuses(learning) == ["start"] and "开始学习" in learning

    # One failed attempt of two: continue.
    fail(user)
    page = client.get(COURSE_URL).content.decode()
    assert status_button(page) == "继续学习" and "待补考" not in page
    assert statuses(client.get(MY_LEARNING).content.decode()) == ["continue"]

    # The last attempt failed: waiting for a retake, and the button says so,
    # on both pages, in both languages; nothing says "continue".
    fail(user)
    page = client.get(COURSE_URL).content.decode()
    assert status_button(page) == "待补考" and "继续学习" not in page
    assert f'data-learning-status="retake" href="{LESSON_URL}#quiz-{key}"' in page
    english = client.get(f"/en{COURSE_URL}").content.decode()
    assert status_button(english) == "Waiting for a retake"
    assert "Continue learning" not in english
    learning = client.get(MY_LEARNING).content.decode()
    assert statuses(learning) == ["retake"]
    assert "待补考" in learning and "继续学习" not in learning
    assert "Waiting for a retake" in client.get(f"/en{MY_LEARNING}").content.decode()

    # The quiz itself says the attempts are used up and whom to ask.
    lesson = client.get(LESSON_URL).content.decode()
    assert "本测验的作答次数已用完。" in lesson
    assert "请向培训管理员申请增加作答次数" in lesson
    lesson_en = client.get(f"/en{LESSON_URL}").content.decode()
    assert "You have used all your attempts at this quiz." in lesson_en
    assert "ask your training manager for another attempt" in lesson_en

    # A training manager grants one more: continue again.
    services.quiz_attempts_grant(
        enrolment=Enrolment.objects.get(user=user),
        lesson_key=quiz_lesson().pk,
        quiz_key=key,
        extra=1,
        reason="补考",
        by=StaffFactory(),
    )
    assert status_button(client.get(COURSE_URL).content.decode()) == "继续学习"
    assert statuses(client.get(MY_LEARNING).content.decode()) == ["continue"]

    # Completed: 已完成 on both pages.
    Enrolment.objects.filter(user=user).update(completed_at=timezone.now())
    page = client.get(COURSE_URL).content.decode()
    assert status_button(page) == "已完成" and "继续学习" not in page
    learning = client.get(MY_LEARNING).content.decode()
    assert statuses(learning) == ["completed"] and "已完成" in learning
    assert "Completed" in client.get(f"/en{MY_LEARNING}").content.decode()


def test_an_opened_lesson_means_continue(client, home):
    course = make_course(home)
    user = enrol(course)
    client.force_login(user)
    client.get(LESSON_URL)
    assert status_button(client.get(COURSE_URL).content.decode()) == "继续学习"
    assert statuses(client.get(MY_LEARNING).content.decode()) == ["continue"]


def test_my_learning_query_count_does_not_grow_with_courses(client, home):
    course = make_course(home, max_attempts=1)
    user = enrol(course)
    fail(user)
    client.force_login(user)

    def queries() -> int:
        client.get(MY_LEARNING)  # warm the per-process caches
        with CaptureQueriesContext(connection) as context:
            assert client.get(MY_LEARNING).status_code == 200
        return len(context.captured_queries)

    small = queries()
    catalogue = course.get_parent()
    for i in range(4):
        other = CoursePageFactory(parent=catalogue, slug=f"c{i}", max_attempts=1)
        services.enrolment_self(user=user, course=other)
    page = client.get(MY_LEARNING).content.decode()
    assert statuses(page).count("start") == 4 and "retake" in statuses(page)
    assert queries() == small

"""Quizzes cannot be copied: a blank submission costs nothing and reveals
nothing, and a result shows the correct answers only as the editor chose."""

import pytest

from django.urls import reverse
from django.utils import translation

from courses import services
from courses.models import LessonPage, QuizAttempt
from tests.courses.factories import (
    CourseIndexPageFactory,
    CoursePageFactory,
    LessonPageFactory,
    paragraph,
    quiz,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LESSON_URL = "/courses/ip-basics/quiz/"
EXPLANATION = "发明专利权的期限为二十年"  # the first question's explanation
MARKED_CORRECT = "（正确答案）"  # how a result marks the correct option
DO_NOT_MATCH = "提交的答案与本测验不符。"


def make_course(home, *, show_answers=None, max_attempts=3):  # type: ignore[no-untyped-def]
    catalogue = CourseIndexPageFactory(parent=home)
    course = CoursePageFactory(
        parent=catalogue, slug="ip-basics", max_attempts=max_attempts
    )
    LessonPageFactory(
        parent=course,
        slug="quiz",
        body=[paragraph(), quiz(show_answers=show_answers)],
    )
    return course


@pytest.fixture
def learner(client, home):  # type: ignore[no-untyped-def]
    """A signed-in learner enrolled in a course with the default setting
    (the quiz is stored without it, as quizzes made before it were)."""
    course = make_course(home)
    return enter(client, course)


def enter(client, course):  # type: ignore[no-untyped-def]
    user = UserFactory()
    services.enrolment_self(user=user, course=course)
    client.force_login(user)
    return user


def quiz_lesson() -> LessonPage:
    lesson = LessonPage.objects.get(slug="quiz")
    lesson.key = lesson.quiz_blocks()[0].id
    return lesson


def start(client):  # type: ignore[no-untyped-def]
    lesson = quiz_lesson()
    client.post(reverse("courses:quiz_start", args=[lesson.pk, lesson.key]))
    return QuizAttempt.objects.get(status="open")


def form(answers: dict) -> dict:
    return {f"q-{key}": value for key, value in answers.items()}


def right(attempt) -> dict:  # type: ignore[no-untyped-def]
    return {q["id"]: q["correct"] for q in attempt.layout["questions"]}


def wrong(attempt) -> dict:  # type: ignore[no-untyped-def]
    return {
        q["id"]: [next(o["id"] for o in q["options"] if o["id"] not in q["correct"])]
        for q in attempt.layout["questions"]
    }


def submit(client, attempt, answers: dict):  # type: ignore[no-untyped-def]
    return client.post(reverse("courses:quiz_submit", args=[attempt.pk]), form(answers))


def submitted() -> int:
    return QuizAttempt.objects.filter(status="submitted").count()


# --- unanswered questions ----------------------------------------------------


def test_a_blank_submission_is_refused_and_costs_no_attempt(client, learner):
    attempt = start(client)

    response = submit(client, attempt, {})

    assert response.status_code == 302
    attempt.refresh_from_db()
    assert attempt.status == "open" and attempt.score is None
    assert submitted() == 0
    page = client.get(LESSON_URL).content.decode()
    assert "还有 3 道题未作答，请全部作答后再提交。" in page
    assert MARKED_CORRECT not in page and EXPLANATION not in page
    # The message is shown once: a reload shows the plain form.
    assert "未作答" not in client.get(LESSON_URL).content.decode()

    # Every attempt is still there to take.
    for number in (1, 2, 3):
        attempt = start(client)
        assert attempt.number == number
        submit(client, attempt, wrong(attempt))
    assert submitted() == 3


def test_a_partly_blank_submission_is_refused_and_keeps_the_answers(client, learner):
    attempt = start(client)
    first = attempt.layout["questions"][0]
    chosen = first["options"][0]["id"]

    submit(client, attempt, {first["id"]: [chosen]})

    attempt.refresh_from_db()
    assert attempt.status == "open" and submitted() == 0
    page = client.get(LESSON_URL).content.decode()
    assert "还有 2 道题未作答，请全部作答后再提交。" in page
    assert f'id="o-{first["id"]}-{chosen}" checked' in page


def test_the_service_decides_and_speaks_the_learners_language(learner):
    attempt = QuizAttempt.objects.get(
        pk=services.quiz_attempt_start(
            user=learner, lesson=quiz_lesson(), quiz_key=quiz_lesson().key
        ).pk
    )
    with pytest.raises(services.QuizIncomplete) as refused:
        services.quiz_attempt_submit(user=learner, attempt_id=attempt.pk, answers={})
    assert refused.value.unanswered == 3
    with translation.override("en"):
        message = str(services.QuizIncomplete(unanswered=2))
    assert message == (
        "2 questions are not answered yet: answer every question before submitting."
    )


def test_made_up_option_ids_are_a_form_error_not_a_500(client, learner):
    attempt = start(client)
    answers = right(attempt)
    question_id = attempt.layout["questions"][0]["id"]

    for forged in (
        {**answers, question_id: ["no-such-option"]},
        {**answers, "no-such-question": ["x"]},
        {**answers, question_id: ["'; DROP TABLE x; --" * 50]},
    ):
        response = submit(client, attempt, forged)
        assert response.status_code == 302
        page = client.get(LESSON_URL).content.decode()
        assert DO_NOT_MATCH in page

    attempt.refresh_from_db()
    assert attempt.status == "open" and submitted() == 0


# --- when the answers are shown ------------------------------------------------


def test_a_failed_attempt_with_attempts_left_shows_no_answers(client, learner):
    attempt = start(client)
    submit(client, attempt, wrong(attempt))

    page = client.get(LESSON_URL).content.decode()
    assert "未通过" in page and "答错" in page  # the score and what was wrong
    assert MARKED_CORRECT not in page
    assert EXPLANATION not in page


def test_by_default_the_answers_are_shown_after_the_last_attempt(client, home):
    enter(client, make_course(home, max_attempts=2))
    for _ in range(2):
        attempt = start(client)
        submit(client, attempt, wrong(attempt))
        page = client.get(LESSON_URL).content.decode()
    assert MARKED_CORRECT in page and EXPLANATION in page


def test_after_passing_shows_the_answers_only_once_passed(client, home):
    enter(client, make_course(home, show_answers="after_passing", max_attempts=2))
    attempt = start(client)
    submit(client, attempt, wrong(attempt))
    page = client.get(LESSON_URL).content.decode()
    assert MARKED_CORRECT not in page and EXPLANATION not in page

    attempt = start(client)
    submit(client, attempt, right(attempt))
    page = client.get(LESSON_URL).content.decode()
    assert "您已通过本测验" in page
    assert MARKED_CORRECT in page and EXPLANATION in page


def test_after_passing_keeps_them_hidden_after_a_failed_last_attempt(client, home):
    enter(client, make_course(home, show_answers="after_passing", max_attempts=1))
    attempt = start(client)
    submit(client, attempt, wrong(attempt))
    page = client.get(LESSON_URL).content.decode()
    assert "已用完" in page
    assert MARKED_CORRECT not in page and EXPLANATION not in page


def test_never_shows_the_answers_even_after_the_last_attempt(client, home):
    enter(client, make_course(home, show_answers="never", max_attempts=1))
    attempt = start(client)
    submit(client, attempt, wrong(attempt))
    page = client.get(LESSON_URL).content.decode()
    assert "已用完" in page
    assert MARKED_CORRECT not in page and EXPLANATION not in page

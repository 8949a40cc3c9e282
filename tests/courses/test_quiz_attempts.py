"""Quiz attempts as evidence: each attempt draws its own questions from a
bank, a failed attempt may make the learner wait before the next, and the
attempts allowed are the course's plus a training manager's grants. When none
are left, the pages say whom to ask instead of "continue learning"."""

import random
from datetime import timedelta

import pytest

from django.urls import reverse
from django.utils import timezone, translation

from wagtail.blocks.struct_block import StructBlockValidationError
from wagtail.models import ModelLogEntry

from courses import services
from courses.blocks import QuizBlock
from courses.models import Enrolment, QuizAttempt, QuizAttemptGrant, TrainingClass
from tests.courses.factories import CoursePageFactory, question
from tests.courses.quizzes import (
    COURSE_URL,
    LESSON_URL,
    Clock,
    bank,
    enrol,
    fail,
    make_course,
    quiz_lesson,
    retry_time,
    right,
    shown_in_chinese,
    shown_in_english,
    start,
    start_url,
    submit,
    submitted_long_ago,
    wrong,
)
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db

USED_UP = "本测验的作答次数已用完。"
ASK_A_MANAGER = "如需再次作答，请向培训管理员申请增加作答次数。"
COURSE_BLOCKED = "您已用完一项必修测验的全部作答次数且未通过，课程暂时无法完成。"
CONTINUE = "继续学习"
TRY_AGAIN = "再试一次"


@pytest.fixture
def clock(monkeypatch) -> Clock:
    return Clock(monkeypatch)


def bank_ids() -> list[str]:
    questions = quiz_lesson().quiz_blocks()[0].value["questions"]
    return [item.id for item in questions.bound_blocks]


def layout(seed: int, **settings) -> dict:  # type: ignore[no-untyped-def]
    """A layout from the lesson's quiz with some settings changed, drawn with a
    seeded generator (the service uses the system's)."""
    block = quiz_lesson().quiz_blocks()[0]
    block.value.update(settings)
    return services._layout(block, random.Random(seed))


# --- question banks ------------------------------------------------------------


def test_each_attempt_draws_n_of_m_questions_and_is_scored_over_them(home):
    user = enrol(make_course(home, draw=3, max_attempts=0))
    everything = set(bank_ids())
    draws, orders = set(), set()
    for _ in range(12):
        attempt = start(user)
        ids = [q["id"] for q in attempt.layout["questions"]]
        assert len(ids) == len(set(ids)) == 3 and set(ids) <= everything
        assert attempt.layout["bank"] == 6  # the record says "3 of 6"
        draws.add(frozenset(ids))
        orders.add(tuple(ids))
        submit(user, attempt, wrong(attempt))
    # Different attempts, different questions (1 in 20 for the same three).
    assert len(draws) > 1 and len(orders) > 1

    attempt = start(user)
    answers = right(attempt)
    answers[attempt.layout["questions"][2]["id"]] = wrong(attempt)[
        attempt.layout["questions"][2]["id"]
    ]
    attempt = submit(user, attempt, answers)
    # Two of the three questions drawn, whatever the other three would be.
    assert str(attempt.score) == "66.7" and attempt.passed


def test_no_draw_or_a_draw_not_below_the_bank_means_every_question(home):
    make_course(home, draw=3)
    everything = set(bank_ids())
    for draw in (0, None, 6, 9):
        questions = layout(1, draw=draw)["questions"]
        assert {q["id"] for q in questions} == everything
    # Every question, still in an order of its own.
    orders = {tuple(q["id"] for q in layout(seed)["questions"]) for seed in range(6)}
    assert len(orders) > 1


def test_options_are_shuffled_unless_the_editor_says_not(home):
    questions = bank(4) + [question("商标注册后永久有效。", [], "true_false", "false")]
    make_course(home, questions=questions)
    editors_order = [
        [option.id for option in item.value["options"].bound_blocks]
        for item in quiz_lesson().quiz_blocks()[0].value["questions"].bound_blocks
        if item.value["kind"] == "single"
    ]

    def option_orders(shuffle: bool) -> list:  # type: ignore[no-untyped-def]
        orders = []
        for seed in range(8):
            for q in layout(seed, shuffle_options=shuffle)["questions"]:
                ids = [o["id"] for o in q["options"]]
                if q["kind"] == "true_false":
                    # True, then false: never shuffled.
                    assert ids == ["true", "false"]
                else:
                    orders.append(ids)
        return orders

    assert all(order in editors_order for order in option_orders(False))
    assert any(order not in editors_order for order in option_orders(True))


def test_the_default_shuffles_options(home):
    """A quiz stored before the setting existed shuffles, as quizzes did."""
    make_course(home)
    block = quiz_lesson().quiz_blocks()[0]
    assert block.value["shuffle_options"] is True
    assert not block.value["draw"] and not block.value["wait_minutes"]


def test_an_editor_cannot_draw_more_questions_than_the_bank_has(home):
    make_course(home)
    raw = QuizBlock().get_prep_value(quiz_lesson().quiz_blocks()[0].value)

    def clean(draw):  # type: ignore[no-untyped-def]
        return QuizBlock().clean(QuizBlock().to_python({**raw, "draw": draw}))

    for draw in (0, None, 1, 6):
        assert clean(draw)["draw"] == draw
    with pytest.raises(StructBlockValidationError) as refused:
        clean(7)
    message = refused.value.block_errors["draw"].messages[0]
    assert message == (
        "本测验只有 6 道题，每次作答无法抽取 7 道。"
        "请增加题目或减少每次抽取的题数（0 表示全部抽取）。"
    )


# --- a wait between attempts ------------------------------------------------------


def test_after_a_failed_attempt_the_learner_waits_and_is_told_until_when(
    client, home, clock
):
    user = enrol(make_course(home, wait_minutes=30))
    client.force_login(user)
    first = fail(user)
    until = retry_time(first, 30)

    page = client.get(LESSON_URL).content.decode()
    assert f"您可在 {shown_in_chinese(until)}（北京时间）起再次作答。" in page
    assert start_url() not in page  # no button to press in vain
    assert "还可作答 2 次。" in page
    page = client.get(f"/en{LESSON_URL}").content.decode()
    assert f"you can try again at {shown_in_english(until)} (Beijing time)." in page

    with pytest.raises(services.QuizWait) as refused:
        start(user)
    assert refused.value.until == until
    with translation.override("en"):
        assert shown_in_english(until) in services.quiz_wait_message(until)

    # A second before the time shown: still waiting. At the time: a new attempt.
    clock.advance(until - timezone.now() - timedelta(seconds=1))
    with pytest.raises(services.QuizWait):
        start(user)
    clock.advance(timedelta(seconds=1))
    assert start(user).number == 2
    assert QuizAttempt.objects.count() == 2


def test_a_refused_start_says_when_in_the_learners_language(client, home):
    user = enrol(make_course(home, wait_minutes=90))
    client.force_login(user)
    until = retry_time(fail(user), 90)

    response = client.post(start_url(), follow=True)
    assert response.redirect_chain[-1][0].startswith(LESSON_URL)
    assert response.content.decode().count(shown_in_chinese(until)) == 2  # + flash
    response = client.post(f"/en{start_url()}", follow=True)
    assert shown_in_english(until) in response.content.decode()
    assert QuizAttempt.objects.count() == 1


def test_without_a_wait_the_next_attempt_starts_at_once(home):
    user = enrol(make_course(home))
    fail(user)
    assert start(user).number == 2


def test_the_wait_counts_from_the_last_failed_attempt(client, home):
    user = enrol(make_course(home, wait_minutes=10))
    client.force_login(user)
    submitted_long_ago(fail(user))
    page = client.get(LESSON_URL).content.decode()
    assert "北京时间" not in page and TRY_AGAIN in page
    assert start(user).number == 2


# --- attempts left include grants ----------------------------------------------------


def grant(user, extra: int = 1, reason: str = "因网络中断未能完成作答"):  # type: ignore[no-untyped-def]
    lesson = quiz_lesson()
    return services.quiz_attempts_grant(
        enrolment=Enrolment.objects.get(user=user),
        lesson_key=lesson.pk,
        quiz_key=lesson.key,
        extra=extra,
        reason=reason,
        by=StaffFactory(),
    )


def test_attempts_allowed_are_the_courses_plus_the_grants(home):
    user = enrol(make_course(home, max_attempts=1))
    fail(user)
    with pytest.raises(services.CourseError, match="已用完"):
        start(user)
    grant(user, extra=1)
    grant(user, extra=1)
    for number in (2, 3):
        assert fail(user).number == number
    with pytest.raises(services.CourseError, match="已用完"):
        start(user)
    assert QuizAttempt.objects.count() == 3


def test_no_limit_stays_no_limit():
    course = type("Course", (), {"max_attempts": 0})()
    assert services.quiz_attempts_left(course=course, submitted=50) is None
    assert services.quiz_attempts_left(course=course, submitted=50, granted=3) is None
    course.max_attempts = 2
    assert services.quiz_attempts_left(course=course, submitted=2) == 0
    assert services.quiz_attempts_left(course=course, submitted=2, granted=3) == 3


def test_used_up_pages_ask_the_training_manager_instead_of_continue(client, home):
    course = make_course(home, max_attempts=2)
    user = enrol(course)
    client.force_login(user)
    fail(user)
    page = client.get(COURSE_URL).content.decode()
    assert CONTINUE in page and COURSE_BLOCKED not in page

    fail(user)
    lesson_page = client.get(LESSON_URL).content.decode()
    assert f"{USED_UP} {ASK_A_MANAGER}" in lesson_page
    assert start_url() not in lesson_page and CONTINUE not in lesson_page
    course_page = client.get(COURSE_URL).content.decode()
    assert f"{COURSE_BLOCKED} {ASK_A_MANAGER}" in course_page
    assert CONTINUE not in course_page
    # The call to action leads to the quiz and its result.
    assert f'href="{LESSON_URL}#quiz-{quiz_lesson().key}"' in course_page
    english = client.get(f"/en{COURSE_URL}").content.decode()
    assert "ask your training manager for another attempt" in english
    assert "Continue learning" not in english

    # A trainee of a class is told whose manager to ask.
    Enrolment.objects.filter(user=user).update(
        training_class=TrainingClass.objects.create(
            name="2027年春季知识产权培训班",
            code="2027-spring",
            starts_on="2027-03-01",
            ends_on="2027-06-30",
        )
    )
    asks = (
        "如需再次作答，请向您所在培训班“2027年春季知识产权培训班”的"
        "培训管理员申请增加作答次数。"
    )
    assert asks in client.get(COURSE_URL).content.decode()
    assert asks in client.get(LESSON_URL).content.decode()

    # After a grant the learner is back on track.
    grant(user)
    lesson_page = client.get(LESSON_URL).content.decode()
    assert USED_UP not in lesson_page and TRY_AGAIN in lesson_page
    assert "还可作答 1 次。" in lesson_page
    course_page = client.get(COURSE_URL).content.decode()
    assert CONTINUE in course_page and COURSE_BLOCKED not in course_page
    client.post(start_url())
    assert QuizAttempt.objects.filter(status="open").get().number == 3


def test_a_used_up_quiz_of_an_optional_lesson_does_not_block_the_course(client, home):
    course = make_course(home, max_attempts=1)
    quiz_lesson().specific.__class__.objects.filter(slug="bank").update(
        is_required=False
    )
    user = enrol(course)
    client.force_login(user)
    fail(user)
    assert USED_UP in client.get(LESSON_URL).content.decode()
    course_page = client.get(COURSE_URL).content.decode()
    assert COURSE_BLOCKED not in course_page and CONTINUE in course_page


def test_a_passed_quiz_is_not_used_up(client, home):
    user = enrol(make_course(home, max_attempts=1))
    client.force_login(user)
    attempt = start(user)
    submit(user, attempt, right(attempt))
    page = client.get(COURSE_URL).content.decode()
    assert COURSE_BLOCKED not in page
    assert USED_UP not in client.get(LESSON_URL).content.decode()


# --- granting attempts (the training manager's screen calls this) ---------------


def test_a_grant_needs_a_reason_and_one_to_ten_attempts(home):
    course = make_course(home, max_attempts=1)
    user = enrol(course)
    fail(user)
    lesson = quiz_lesson()
    enrolment = Enrolment.objects.get(user=user)
    manager = StaffFactory()
    other_course = CoursePageFactory(parent=course.get_parent(), slug="other")
    services.enrolment_self(user=user, course=other_course)
    elsewhere = Enrolment.objects.get(user=user, course_key=other_course.pk)

    def ask(**changes):  # type: ignore[no-untyped-def]
        arguments = {
            "enrolment": enrolment,
            "lesson_key": lesson.pk,
            "quiz_key": lesson.key,
            "extra": 2,
            "reason": "考试期间停电",
            "by": manager,
        } | changes
        return services.quiz_attempts_grant(**arguments)

    for refused, message in (
        ({"reason": ""}, "请说明"),
        ({"reason": "   \n"}, "请说明"),
        ({"extra": 0}, "1 至 10"),
        ({"extra": 11}, "1 至 10"),
        ({"extra": -3}, "1 至 10"),
        ({"quiz_key": "no-such-quiz"}, None),
        ({"lesson_key": lesson.pk + 999}, None),
        ({"enrolment": elsewhere}, "不属于该学员所学的课程"),
    ):
        with pytest.raises(services.CourseError) as error:
            ask(**refused)
        if message:
            assert message in str(error.value)
    assert not QuizAttemptGrant.objects.exists()
    assert not ModelLogEntry.objects.filter(
        action="courses.quiz.attempts_granted"
    ).exists()
    with pytest.raises(services.CourseError):
        start(user)

    granted = ask(extra=10, reason="  考试期间停电  ")
    assert (granted.extra, granted.reason, granted.granted_by) == (
        10,
        "考试期间停电",
        manager,
    )
    entry = ModelLogEntry.objects.get(action="courses.quiz.attempts_granted")
    assert entry.user == manager
    assert entry.object_id == str(enrolment.pk)
    assert entry.data["extra"] == 10 and entry.data["reason"] == "考试期间停电"
    assert entry.data["quiz_key"] == lesson.key
    assert "考试期间停电" in entry.message

    assert start(user).number == 2
    attempts_left = services.quiz_attempts_left(
        course=lesson.course(), submitted=1, granted=10
    )
    assert attempts_left == 10


def test_after_a_grant_the_quiz_button_comes_back(client, home):
    """The learner needs no new link: the quiz's own button comes back."""
    user = enrol(make_course(home, max_attempts=1))
    client.force_login(user)
    fail(user)
    assert start_url() not in client.get(LESSON_URL).content.decode()
    grant(user, extra=1)
    assert start_url() in client.get(LESSON_URL).content.decode()
    response = client.post(start_url())
    assert response.status_code == 302
    assert response["Location"] == f"{LESSON_URL}#quiz-{quiz_lesson().key}"
    assert reverse("courses:quiz_submit", args=[QuizAttempt.objects.last().pk]) in (
        client.get(LESSON_URL).content.decode()
    )

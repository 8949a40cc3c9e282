"""A hostile learner and a quiz: the cheapest forged requests that would pass
it without knowing the answers, or get more tries than allowed. Each is a
POST the learner can send by hand; none may pass the quiz, open an attempt it
should not, or use up (or save) an attempt wrongly."""

import pytest

from django.urls import reverse

from courses import services
from courses.models import Enrolment, QuizAttempt
from tests.courses.quizzes import (
    LESSON_URL,
    drawn,
    enrol,
    fail,
    form,
    make_course,
    quiz_lesson,
    right,
    start,
    start_url,
    submitted_long_ago,
    wrong,
)
from tests.factories import StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

DO_NOT_MATCH = "提交的答案与本测验不符。"


def post_answers(client, attempt, answers: dict):  # type: ignore[no-untyped-def]
    return client.post(reverse("courses:quiz_submit", args=[attempt.pk]), form(answers))


def nothing_passed() -> bool:
    return not QuizAttempt.objects.filter(passed=True).exists()


def bank_answers() -> dict:
    """The right answer to every question of the bank, drawn or not: more than
    any learner knows, the best a forger could send."""
    block = quiz_lesson().quiz_blocks()[0]
    return {
        item.id: [
            o.id for o in item.value["options"].bound_blocks if o.value["correct"]
        ]
        for item in block.value["questions"].bound_blocks
    }


def test_starting_again_during_the_wait_is_refused(client, home):
    user = enrol(make_course(home, wait_minutes=60))
    client.force_login(user)
    first = fail(user)

    for _ in range(3):
        response = client.post(start_url())
        assert response.status_code == 302
    with pytest.raises(services.QuizWait):
        start(user)
    assert list(QuizAttempt.objects.all()) == [first]
    # Not even through the English address.
    client.post(f"/en{start_url()}")
    assert QuizAttempt.objects.count() == 1


def test_starting_beyond_the_attempts_is_refused(client, home):
    user = enrol(make_course(home, max_attempts=2))
    client.force_login(user)
    for _ in range(2):
        fail(user)
    for _ in range(3):
        client.post(start_url())
    assert QuizAttempt.objects.count() == 2
    assert not QuizAttempt.objects.filter(status="open").exists()

    # A grant of one is one more, not a way round the limit.
    lesson = quiz_lesson()
    services.quiz_attempts_grant(
        enrolment=Enrolment.objects.get(user=user),
        lesson_key=lesson.pk,
        quiz_key=lesson.key,
        extra=1,
        reason="补考一次",
        by=StaffFactory(),
    )
    fail(user)
    for _ in range(3):
        client.post(start_url())
    assert QuizAttempt.objects.count() == 3 and nothing_passed()


def test_answers_to_questions_not_drawn_are_refused(client, home):
    user = enrol(make_course(home, draw=3))
    client.force_login(user)
    attempt = start(user)
    everything = bank_answers()
    not_drawn = {k: v for k, v in everything.items() if k not in drawn(attempt)}
    assert len(not_drawn) == 3

    for forged in (
        everything,  # the whole bank, right
        not_drawn,  # only questions this attempt does not have
        wrong(attempt) | not_drawn,  # this attempt's, padded with others
    ):
        post_answers(client, attempt, forged)
        assert DO_NOT_MATCH in client.get(LESSON_URL).content.decode()
        attempt.refresh_from_db()
        assert attempt.status == "open" and attempt.score is None
    assert nothing_passed()
    # The attempt is still there to take, and counts over its own three.
    attempt = services.quiz_attempt_submit(
        user=user, attempt_id=attempt.pk, answers=right(attempt)
    )
    assert attempt.score == 100 and attempt.number == 1


def test_submitting_the_same_attempt_twice_scores_once(client, home):
    user = enrol(make_course(home, max_attempts=2))
    client.force_login(user)
    attempt = start(user)
    post_answers(client, attempt, wrong(attempt))
    post_answers(client, attempt, right(attempt))  # "resubmit", now right
    attempt.refresh_from_db()
    assert attempt.status == "submitted" and not attempt.passed
    assert attempt.score == 0 and attempt.answers == wrong(attempt)
    assert nothing_passed()
    # One attempt used, one left: the second post neither helped nor cost.
    assert start(user).number == 2


def test_answers_copied_from_an_earlier_draw_do_not_score(client, home):
    user = enrol(make_course(home, draw=3, max_attempts=0))
    client.force_login(user)
    first = start(user)
    # Suppose the learner even learnt the first draw's answers.
    copied = right(first)
    services.quiz_attempt_submit(user=user, attempt_id=first.pk, answers=wrong(first))
    attempt = start(user)
    for _ in range(40):  # until a draw differs (each time 19 in 20)
        if drawn(attempt) != drawn(first):
            break
        services.quiz_attempt_submit(
            user=user, attempt_id=attempt.pk, answers=wrong(attempt)
        )
        attempt = start(user)
    assert drawn(attempt) != drawn(first)

    post_answers(client, attempt, copied)
    attempt.refresh_from_db()
    assert attempt.status == "open" and attempt.score is None
    assert DO_NOT_MATCH in client.get(LESSON_URL).content.decode()
    # The old ids alongside honest (wrong) answers: refused as well.
    post_answers(client, attempt, wrong(attempt) | copied)
    attempt.refresh_from_db()
    assert attempt.status == "open" and nothing_passed()


def test_another_learners_attempt_cannot_be_submitted(client, home):
    course = make_course(home)
    owner = enrol(course)
    attempt = start(owner)
    other = enrol(course, UserFactory())
    client.force_login(other)

    response = post_answers(client, attempt, right(attempt))
    assert response.status_code == 302
    with pytest.raises(services.CourseError):
        services.quiz_attempt_submit(
            user=other, attempt_id=attempt.pk, answers=right(attempt)
        )
    attempt.refresh_from_db()
    assert attempt.status == "open" and attempt.score is None
    assert not QuizAttempt.objects.filter(enrolment__user=other).exists()
    # The owner's attempt is untouched and still theirs to take.
    assert start(owner) == attempt


def test_a_quiz_cannot_be_started_without_enrolment_or_by_a_made_up_key(client, home):
    course = make_course(home)
    stranger = UserFactory()
    client.force_login(stranger)
    client.post(start_url())
    assert not QuizAttempt.objects.exists()

    learner = enrol(course)
    client.force_login(learner)
    lesson = quiz_lesson()
    client.post(reverse("courses:quiz_start", args=[lesson.pk, "made-up-quiz"]))
    assert not QuizAttempt.objects.exists()


def test_a_grant_does_not_skip_the_wait(home):
    """The wait counts from the last failed submission: a grant adds an
    attempt, not a way round the wait, and the wait ends as it would have."""
    user = enrol(make_course(home, max_attempts=1, wait_minutes=30))
    last = fail(user)
    lesson = quiz_lesson()
    services.quiz_attempts_grant(
        enrolment=Enrolment.objects.get(user=user),
        lesson_key=lesson.pk,
        quiz_key=lesson.key,
        extra=1,
        reason="补考一次",
        by=StaffFactory(),
    )
    with pytest.raises(services.QuizWait):
        start(user)
    submitted_long_ago(last)
    assert start(user).number == 2

"""Quizzes in tests: a course whose quiz lesson draws from a bank of
questions, with the settings of courses.blocks.QuizBlock, and the forms a
learner posts."""

from datetime import timedelta
from zoneinfo import ZoneInfo

from django.urls import reverse
from django.utils import timezone

from courses import services
from courses.models import LessonPage, QuizAttempt
from tests.courses.factories import (
    CourseIndexPageFactory,
    CoursePageFactory,
    LessonPageFactory,
    option,
    paragraph,
    question,
    quiz,
)
from tests.factories import UserFactory

COURSE_URL = "/courses/ip-basics/"
LESSON_URL = "/courses/ip-basics/bank/"
SHANGHAI = ZoneInfo("Asia/Shanghai")
ENGLISH_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


def bank(size: int = 6) -> list[dict]:
    """`size` single-choice questions, each with its own text; the first
    option is the correct one (the editor's order)."""
    return [
        question(
            f"第{n}题：以下哪一项正确？",
            [option(f"正确{n}", True), option(f"错误{n}甲"), option(f"错误{n}乙")],
            explanation=f"解析{n}",
        )
        for n in range(1, size + 1)
    ]


def make_course(
    home,
    *,
    questions=None,
    max_attempts: int = 3,
    pass_mark: int = 60,
    **settings,
):  # type: ignore[no-untyped-def]
    """A course (/courses/ip-basics/) with one required quiz lesson
    (/courses/ip-basics/bank/); `settings` are the quiz block's (draw,
    shuffle_options, wait_minutes, show_answers)."""
    block = quiz(questions=questions or bank())
    block["value"].update(settings)
    catalogue = CourseIndexPageFactory(parent=home)
    course = CoursePageFactory(
        parent=catalogue,
        slug="ip-basics",
        title="知识产权基础",
        max_attempts=max_attempts,
        pass_mark=pass_mark,
    )
    LessonPageFactory(
        parent=course, slug="bank", title="第一课 测验", body=[paragraph(), block]
    )
    return course


def enrol(course, user=None):  # type: ignore[no-untyped-def]
    user = user or UserFactory()
    services.enrolment_self(user=user, course=course)
    return user


def quiz_lesson() -> LessonPage:
    lesson = LessonPage.objects.get(slug="bank")
    lesson.key = lesson.quiz_blocks()[0].id
    return lesson


def start(user) -> QuizAttempt:  # type: ignore[no-untyped-def]
    lesson = quiz_lesson()
    return services.quiz_attempt_start(user=user, lesson=lesson, quiz_key=lesson.key)


def start_url() -> str:
    lesson = quiz_lesson()
    return reverse("courses:quiz_start", args=[lesson.pk, lesson.key])


def submit(user, attempt, answers: dict) -> QuizAttempt:  # type: ignore[no-untyped-def]
    return services.quiz_attempt_submit(
        user=user, attempt_id=attempt.pk, answers=answers
    )


def form(answers: dict) -> dict:
    return {f"q-{key}": value for key, value in answers.items()}


def right(attempt) -> dict:  # type: ignore[no-untyped-def]
    return {q["id"]: q["correct"] for q in attempt.layout["questions"]}


def wrong(attempt) -> dict:  # type: ignore[no-untyped-def]
    return {
        q["id"]: [next(o["id"] for o in q["options"] if o["id"] not in q["correct"])]
        for q in attempt.layout["questions"]
    }


def drawn(attempt) -> set[str]:  # type: ignore[no-untyped-def]
    return {q["id"] for q in attempt.layout["questions"]}


def fail(user) -> QuizAttempt:  # type: ignore[no-untyped-def]
    """Start an attempt and submit it with every answer wrong."""
    attempt = start(user)
    return submit(user, attempt, wrong(attempt))


def submitted_long_ago(attempt, minutes: int = 60 * 24 * 8) -> None:  # type: ignore[no-untyped-def]
    """Move an attempt's submission back, past any wait."""
    QuizAttempt.objects.filter(pk=attempt.pk).update(
        submitted_at=timezone.now() - timedelta(minutes=minutes)
    )


def shown_in_chinese(moment) -> str:  # type: ignore[no-untyped-def]
    """A time as a Chinese page shows it, in Beijing time (2027年5月1日 09:30)."""
    local = moment.astimezone(SHANGHAI)
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"


def shown_in_english(moment) -> str:  # type: ignore[no-untyped-def]
    """A time as an English page shows it, in Beijing time (1 May 2027, 09:30)."""
    local = moment.astimezone(SHANGHAI)
    return f"{local.day} {ENGLISH_MONTHS[local.month - 1]} {local.year}, {local:%H:%M}"


class Clock:
    """The server's clock (django.utils.timezone.now, which the services
    read), moved on by the test: there is no freezegun here."""

    def __init__(self, monkeypatch) -> None:  # type: ignore[no-untyped-def]
        real_now = timezone.now
        self.offset = timedelta(0)
        monkeypatch.setattr(
            "django.utils.timezone.now", lambda: real_now() + self.offset
        )

    def advance(self, delta: timedelta) -> None:
        self.offset += delta


def retry_time(attempt, minutes: int):  # type: ignore[no-untyped-def]
    """The submission plus the wait, rounded up to the whole minute."""
    until = attempt.submitted_at + timedelta(minutes=minutes)
    if until.second or until.microsecond:
        until = until.replace(second=0, microsecond=0) + timedelta(minutes=1)
    return until

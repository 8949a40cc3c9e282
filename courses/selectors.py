"""Reads of the courses app: what the catalogue, a course, a lesson and My
learning show. A constant number of queries per page, whatever the data."""

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import models
from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from courses.models import (
    Certificate,
    CertificateRequest,
    CourseIndexPage,
    CoursePage,
    Enrolment,
    HoursLedgerEntry,
    LessonPage,
    LessonProgress,
    QuizAttempt,
    QuizAttemptGrant,
)

CATALOGUE_PAGE_SIZE = 12


@dataclass
class CourseProgress:
    """What completion criteria look at (courses.completion)."""

    required_lessons: int = 0
    required_lessons_done: int = 0
    quizzes: int = 0
    quizzes_passed: int = 0
    lessons: int = 0
    lessons_done: int = 0
    done_keys: set[int] = field(default_factory=set)
    # Whether any quiz of a required lesson was attempted.
    attempted: bool = False

    @property
    def percent(self) -> int:
        return round(100 * self.lessons_done / self.lessons) if self.lessons else 0


def course_lessons(course: CoursePage) -> list[LessonPage]:
    return list(LessonPage.objects.child_of(course).live().order_by("path"))


def first_lesson(course: CoursePage) -> LessonPage | None:
    """Where a newly enrolled learner starts: the course's first live lesson."""
    return LessonPage.objects.child_of(course).live().order_by("path").first()


def lesson_after(lesson: LessonPage) -> LessonPage | None:
    """The live lesson that follows this one in its course, if any."""
    return (
        LessonPage.objects.sibling_of(lesson, inclusive=False)
        .live()
        .filter(path__gt=lesson.path)
        .order_by("path")
        .first()
    )


def learner_attempt(*, user, attempt_id: int) -> QuizAttempt | None:
    """One of the learner's own quiz attempts; None for anyone else's."""
    return QuizAttempt.objects.filter(pk=attempt_id, enrolment__user=user).first()


def attempt_lesson(attempt: QuizAttempt) -> LessonPage | None:
    """The lesson an attempt's quiz belongs to (None if it was deleted)."""
    return LessonPage.objects.filter(pk=attempt.lesson_key).first()


def course_progress(
    *, enrolment: Enrolment, course: CoursePage, lessons=None
) -> CourseProgress:
    lessons = course_lessons(course) if lessons is None else lessons
    done = set(
        LessonProgress.objects.filter(
            enrolment=enrolment, status=LessonProgress.Status.COMPLETED
        ).values_list("lesson_key", flat=True)
    )
    quizzes = {
        lesson.pk: lesson.quiz_keys() for lesson in lessons if lesson.is_required
    }
    # Passed attempts only matter for the quizzes of required lessons: a course
    # without any asks for none. Every attempt is read, not only the passed
    # ones: any attempt means the learner has started (learning_status).
    attempts = (
        list(
            QuizAttempt.objects.filter(enrolment=enrolment).values_list(
                "lesson_key", "quiz_key", "passed"
            )
        )
        if any(quizzes.values())
        else []
    )
    passed = {(lesson, quiz) for lesson, quiz, ok in attempts if ok}
    progress = CourseProgress(done_keys=done, attempted=bool(attempts))
    for lesson in lessons:
        progress.lessons += 1
        progress.lessons_done += lesson.pk in done
        if lesson.is_required:
            progress.required_lessons += 1
            progress.required_lessons_done += lesson.pk in done
            for quiz_key in quizzes[lesson.pk]:
                progress.quizzes += 1
                progress.quizzes_passed += (lesson.pk, quiz_key) in passed
    return progress


def enrolment_in(*, user, course: CoursePage) -> Enrolment | None:
    """The user's enrolment in the course, or None (also for visitors)."""
    if not user.is_authenticated:
        return None
    return Enrolment.objects.filter(user=user, course_key=course.pk).first()


def completed_course_keys(*, user) -> set[int]:
    if not user.is_authenticated:
        return set()
    return set(
        Enrolment.objects.filter(user=user, completed_at__isnull=False).values_list(
            "course_key", flat=True
        )
    )


def missing_prerequisites(*, user, course: CoursePage) -> list[CoursePage]:
    done = completed_course_keys(user=user)
    return [c for c in course.prerequisites.all() if c.pk not in done]


def catalogue(*, index: CourseIndexPage, user, page_number=None):
    """One page of the catalogue: each course with the user's enrolment."""
    from django.core.paginator import Paginator

    courses = (
        CoursePage.objects.child_of(index)
        .live()
        .public()
        .select_related("cover_image")
        .order_by("path")
    )
    page = Paginator(courses, CATALOGUE_PAGE_SIZE).get_page(page_number)
    on_page = list(page.object_list)
    enrolments = {}
    if user.is_authenticated:
        enrolments = {
            e.course_key: e
            for e in Enrolment.objects.filter(
                user=user, course_key__in=[c.pk for c in on_page]
            )
        }
    page.object_list = [
        {"course": c, "enrolment": enrolments.get(c.pk)} for c in on_page
    ]
    return page


class LearningStatus(models.TextChoices):
    """A learner's next step in a course they are enrolled in, as the course
    page's button and My learning name it."""

    COMPLETED = "completed", _("Completed")
    # A required quiz failed with no attempt left: a training manager's grant
    # of extra attempts (courses.services.quiz_attempts_grant) is the next step.
    RETAKE = "retake", _("Waiting for a retake")
    CONTINUE = "continue", _("Continue learning")
    START = "start", _("Start learning")


def learning_status(
    *, enrolment: Enrolment, started: bool, used_up: bool
) -> LearningStatus:
    """Completed, else waiting for a retake (attempts used up at a required
    quiz), else continue (a lesson opened or done), else start."""
    if enrolment.completed_at:
        return LearningStatus.COMPLETED
    if used_up:
        return LearningStatus.RETAKE
    if started or enrolment.last_lesson_key:
        return LearningStatus.CONTINUE
    return LearningStatus.START


def quiz_attempt_counts(*, user) -> list[dict[str, Any]]:
    """The user's quiz attempts per enrolment and quiz: `n` submitted,
    `passed_n` of them passed (an open attempt alone counts 0). One query."""
    rows: QuerySet = (
        QuizAttempt.objects.filter(enrolment__user=user)
        .values("enrolment_id", "lesson_key", "quiz_key")
        .annotate(
            n=Count("pk", filter=Q(status=QuizAttempt.Status.SUBMITTED)),
            passed_n=Count(
                "pk", filter=Q(status=QuizAttempt.Status.SUBMITTED, passed=True)
            ),
        )
        .order_by()
    )
    return [dict(row) for row in rows]


def used_up_enrolments(
    enrolments: list[Enrolment], counts: list[dict[str, Any]]
) -> set[int]:
    """The ids of those of `enrolments` (with their course loaded) that wait
    for a retake: a quiz of a required live lesson of the course not passed,
    and no attempt left at it (the course's allowance plus the extra attempts
    granted). `counts` are quiz_attempt_counts() of their learner. The batch
    form of quizzes_used_up, for My learning: at most two queries whatever the
    number of enrolments, none when no quiz is over a course's allowance."""
    # The courses of the enrolments that may wait for a retake.
    limited: dict[int, CoursePage] = {
        e.pk: e.course
        for e in enrolments
        if not e.completed_at and e.course is not None and e.course.max_attempts
    }
    counts = [c for c in counts if c["enrolment_id"] in limited]
    over = {
        (c["enrolment_id"], c["lesson_key"], c["quiz_key"]): c["n"]
        for c in counts
        if not c["passed_n"] and c["n"] >= limited[c["enrolment_id"]].max_attempts
    }
    if not over:
        return set()
    grants = (
        QuizAttemptGrant.objects.filter(enrolment_id__in={k[0] for k in over})
        .values("enrolment_id", "lesson_key", "quiz_key")
        .annotate(total=Sum("extra"))
        .order_by()
    )
    granted = {
        (g["enrolment_id"], g["lesson_key"], g["quiz_key"]): g["total"] for g in grants
    }
    lessons = {
        lesson.pk: lesson
        for lesson in LessonPage.objects.live().filter(
            pk__in={k[1] for k in over}, is_required=True
        )
    }
    used_up = set()
    for (enrolment_id, lesson_key, quiz_key), n in over.items():
        course = limited[enrolment_id]
        lesson = lessons.get(lesson_key)
        if (
            lesson is not None
            and lesson.path.startswith(course.path)
            and quiz_key in lesson.quiz_keys()
            and n
            >= course.max_attempts
            + granted.get((enrolment_id, lesson_key, quiz_key), 0)
        ):
            used_up.add(enrolment_id)
    return used_up


def course_page_context(*, course: CoursePage, user) -> dict:
    from courses.services import enrolment_refusal

    lessons = course_lessons(course)
    enrolment = enrolment_in(user=user, course=course)
    progress = None
    resume = None
    if enrolment:
        progress = course_progress(enrolment=enrolment, course=course, lessons=lessons)
        resume = next(
            (lesson for lesson in lessons if lesson.pk == enrolment.last_lesson_key),
            None,
        )
        resume = resume or next(
            (lesson for lesson in lessons if lesson.pk not in progress.done_keys), None
        )
    # Required quizzes failed with no attempt left: the call to action is
    # to ask a training manager, not "continue learning".
    used_up = (
        quizzes_used_up(enrolment=enrolment, course=course, lessons=lessons)
        if enrolment
        else []
    )
    return {
        "lessons": lessons,
        "enrolment": enrolment,
        "progress": progress,
        "resume_lesson": resume,
        "quizzes_used_up": used_up,
        "status": learning_status(
            enrolment=enrolment,
            started=bool(progress and (progress.done_keys or progress.attempted)),
            used_up=bool(used_up),
        )
        if enrolment
        else None,
        "refusal": None
        if enrolment or not user.is_authenticated
        else enrolment_refusal(user=user, course=course),
        "instructors": list(course.instructors.all()),
    }


def _quiz_grants(*, enrolment: Enrolment, course: CoursePage, attempts) -> dict:
    """Extra attempts granted, by (lesson_key, quiz_key), for the quizzes among
    `attempts` (submitted attempts of the enrolment) that the course's own
    allowance no longer covers. Grants only matter there, so the common case
    (attempts left, or no limit) costs no query."""
    if course.max_attempts == 0:
        return {}
    counts: dict = {}
    passed = set()
    for attempt in attempts:
        key = (attempt.lesson_key, attempt.quiz_key)
        if attempt.status == QuizAttempt.Status.SUBMITTED:
            counts[key] = counts.get(key, 0) + 1
        if attempt.passed:
            passed.add(key)
    over = {
        key
        for key, n in counts.items()
        if n >= course.max_attempts and key not in passed
    }
    if not over:
        return {}
    grants = (
        QuizAttemptGrant.objects.filter(
            enrolment=enrolment, lesson_key__in={lesson for lesson, _quiz in over}
        )
        .values("lesson_key", "quiz_key")
        .annotate(total=Sum("extra"))
    )
    return {(g["lesson_key"], g["quiz_key"]): g["total"] for g in grants}


def quizzes_used_up(*, enrolment: Enrolment, course: CoursePage, lessons) -> list:
    """The quizzes of required lessons the learner has not passed and has no
    attempt left at (the course's allowance plus grants), as (lesson, quiz
    block) pairs in course order: the course cannot be completed until a
    training manager grants another attempt. One query, two when a quiz is over
    the course's allowance; none for a completed enrolment or a course without
    an attempt limit or quizzes."""
    quizzes = [
        (lesson, block)
        for lesson in lessons
        if lesson.is_required
        for block in lesson.quiz_blocks()
    ]
    if enrolment.completed_at or course.max_attempts == 0 or not quizzes:
        return []
    attempts = list(
        QuizAttempt.objects.filter(
            enrolment=enrolment,
            lesson_key__in={lesson.pk for lesson, _block in quizzes},
            status=QuizAttempt.Status.SUBMITTED,
        ).only("lesson_key", "quiz_key", "status", "passed")
    )
    granted = _quiz_grants(enrolment=enrolment, course=course, attempts=attempts)
    submitted: dict = {}
    passed = set()
    for attempt in attempts:
        key = (attempt.lesson_key, attempt.quiz_key)
        submitted[key] = submitted.get(key, 0) + 1
        if attempt.passed:
            passed.add(key)
    return [
        (lesson, block)
        for lesson, block in quizzes
        if (key := (lesson.pk, block.id)) not in passed
        and submitted.get(key, 0) >= course.max_attempts + granted.get(key, 0)
    ]


# A refused quiz submission (questions left blank, answers that do not fit):
# its attempt, message and answers so far, kept in the session for the lesson
# page to show the form again once.
QUIZ_DRAFT_SESSION_KEY = "courses:quiz_draft"


@dataclass
class QuizState:
    block: object
    attempts: list
    open_attempt: QuizAttempt | None
    last: QuizAttempt | None
    passed: bool
    attempts_left: int | None
    # Whether the last result may show the correct options and explanations,
    # and that result question by question (see attempt_review).
    answers_shown: bool = False
    review: list = field(default_factory=list)
    # After a failed attempt, when the next may start (the quiz's wait), or None.
    retry_at: object = None

    @property
    def used_up(self) -> bool:
        """Not passed and no attempt left: only a training manager's grant helps."""
        return not self.passed and self.open_attempt is None and self.attempts_left == 0


def quiz_answers_shown(
    *, setting: str, passed: bool, attempts_left: int | None
) -> bool:
    """Whether a learner may now see a quiz's correct answers and explanations.

    `setting` is the quiz block's show_answers. Before the answers are shown, a
    result gives only the score and which questions were wrong: a learner with
    attempts left cannot copy the next attempt from the last one.
    """
    from courses.blocks import SHOW_AFTER_PASSING, SHOW_AFTER_PASSING_OR_LAST

    if setting == SHOW_AFTER_PASSING:
        return passed
    if setting == SHOW_AFTER_PASSING_OR_LAST:
        return passed or attempts_left == 0
    return False  # "never", and any value this code does not know


def attempt_review(*, attempt: QuizAttempt, answers_shown: bool) -> list[dict]:
    """A submitted attempt question by question, as its result shows it.

    The correct options and the explanation are left out entirely (not just
    hidden by the template) unless `answers_shown`.
    """
    review = []
    for question in attempt.layout["questions"]:
        chosen = attempt.answers.get(question["id"]) or []
        review.append(
            {
                "text": question["text"],
                "right": sorted(chosen) == sorted(question["correct"]),
                "options": [
                    {
                        "text": option["text"],
                        "chosen": option["id"] in chosen,
                        "correct": answers_shown
                        and option["id"] in question["correct"],
                    }
                    for option in question["options"]
                ],
                "explanation": question["explanation"] if answers_shown else "",
            }
        )
    return review


def lesson_page_context(
    *,
    lesson: LessonPage,
    user,
    enrolment: Enrolment | None = None,
    progress: LessonProgress | None = None,
) -> dict:
    """What the lesson page shows. `enrolment` and `progress` are the ones the
    page's visit has just loaded; without them (a preview) they are read."""
    from courses.services import quiz_attempts_left, quiz_retry_at

    course = lesson.course()
    lessons = course_lessons(course)
    index = next((i for i, item in enumerate(lessons) if item.pk == lesson.pk), 0)
    if enrolment is None and user.is_authenticated:
        progress = (
            LessonProgress.objects.select_related("enrolment")
            .filter(enrolment__user=user, lesson_key=lesson.pk)
            .first()
        )
        enrolment = progress.enrolment if progress else None
    quizzes = {}
    if enrolment:
        blocks = lesson.quiz_blocks()
        # A lesson without a quiz has no attempts to look up.
        attempts = (
            list(QuizAttempt.objects.filter(enrolment=enrolment, lesson_key=lesson.pk))
            if blocks
            else []
        )
        granted = _quiz_grants(enrolment=enrolment, course=course, attempts=attempts)
        for block in blocks:
            mine = [a for a in attempts if a.quiz_key == block.id]
            submitted = [a for a in mine if a.status == QuizAttempt.Status.SUBMITTED]
            state = QuizState(
                block=block,
                attempts=submitted,
                open_attempt=next(
                    (a for a in mine if a.status == QuizAttempt.Status.OPEN), None
                ),
                last=submitted[-1] if submitted else None,
                passed=any(a.passed for a in submitted),
                attempts_left=quiz_attempts_left(
                    course=course,
                    submitted=len(submitted),
                    granted=granted.get((lesson.pk, block.id), 0),
                ),
            )
            if state.attempts_left != 0 and not state.passed:
                state.retry_at = quiz_retry_at(block=block, last=state.last)
            state.answers_shown = quiz_answers_shown(
                setting=block.value.get("show_answers"),
                passed=state.passed,
                attempts_left=state.attempts_left,
            )
            if state.last:
                state.review = attempt_review(
                    attempt=state.last, answers_shown=state.answers_shown
                )
            quizzes[block.id] = state
    return {
        "course": course,
        "lessons": lessons,
        "previous_lesson": lessons[index - 1] if index > 0 else None,
        "next_lesson": lessons[index + 1] if index + 1 < len(lessons) else None,
        "lesson_progress": progress,
        "enrolment": enrolment,
        "quizzes": quizzes,
        "course_progress": course_progress(
            enrolment=enrolment, course=course, lessons=lessons
        )
        if enrolment
        else None,
    }


@dataclass
class MyLearning:
    in_progress: list
    completed: list
    hours_this_year: Decimal
    hours_total: Decimal
    certificates: list
    certificates_pending: list
    ledger: list


def my_learning(*, user) -> MyLearning:
    enrolments = list(
        Enrolment.objects.filter(user=user).select_related("course", "training_class")
    )
    done_counts: dict[int, int] = {}
    # Started: a lesson opened or done, or a quiz attempted.
    attempt_counts = quiz_attempt_counts(user=user)
    started = {c["enrolment_id"] for c in attempt_counts}
    for enrolment_id, status in LessonProgress.objects.filter(
        enrolment__user=user
    ).values_list("enrolment_id", "status"):
        started.add(enrolment_id)
        if status == LessonProgress.Status.COMPLETED:
            done_counts[enrolment_id] = done_counts.get(enrolment_id, 0) + 1
    # Live lessons per course, in one query: a lesson's path is its course's
    # path plus one step (treebeard's materialised path).
    course_paths = {e.course.path for e in enrolments if e.course is not None}
    lesson_counts: dict[str, int] = {}
    if course_paths:
        condition = Q()
        for path in course_paths:
            condition |= Q(path__startswith=path)
        for path in (
            LessonPage.objects.live().filter(condition).values_list("path", flat=True)
        ):
            course_path = path[: -LessonPage.steplen]
            lesson_counts[course_path] = lesson_counts.get(course_path, 0) + 1
    used_up = used_up_enrolments(enrolments, attempt_counts)
    for enrolment in enrolments:
        course = enrolment.course
        total = lesson_counts.get(course.path, 0) if course is not None else 0
        done = done_counts.get(enrolment.pk, 0)
        percent = round(100 * done / total) if total else 0
        # Shown by my_learning.html next to each course; not model fields.
        enrolment.lessons_total = total  # type: ignore[attr-defined]  # for the page
        enrolment.lessons_done = done  # type: ignore[attr-defined]  # for the page
        enrolment.percent = percent  # type: ignore[attr-defined]  # for the page
        enrolment.status = learning_status(  # type: ignore[attr-defined]  # for the page
            enrolment=enrolment,
            started=enrolment.pk in started,
            used_up=enrolment.pk in used_up,
        )
    ledger = HoursLedgerEntry.objects.filter(user=user)
    year = timezone.localdate().year
    # Both sums in one query.
    hours = ledger.aggregate(
        this_year=Sum("hours", filter=Q(earned_on__year=year)), total=Sum("hours")
    )
    return MyLearning(
        in_progress=[e for e in enrolments if not e.completed_at],
        completed=[e for e in enrolments if e.completed_at],
        hours_this_year=hours["this_year"] or Decimal(0),
        hours_total=hours["total"] or Decimal(0),
        # Superseded certificates are history: the learner keeps the newest.
        certificates=list(
            Certificate.objects.filter(user=user)
            .exclude(status=Certificate.Status.SUPERSEDED)
            .order_by("-issued_at")
        ),
        certificates_pending=list(
            CertificateRequest.objects.filter(
                user=user, status=CertificateRequest.Status.PENDING
            ).order_by("-achieved_on")
        ),
        ledger=list(ledger[:50]),
    )


# --- For other apps (they read the training record only through these) ------


def valid_certificates(*, user_id: int) -> QuerySet[Certificate]:
    """The person's valid, unexpired certificates (today in Asia/Shanghai)."""
    today = timezone.localdate()
    return Certificate.objects.filter(
        user_id=user_id, status=Certificate.Status.VALID
    ).filter(Q(expires_on__isnull=True) | Q(expires_on__gte=today))


def completed_enrolments(*, user_id: int) -> QuerySet[Enrolment]:
    """The person's completed courses, the latest first."""
    return Enrolment.objects.filter(
        user_id=user_id, completed_at__isnull=False
    ).order_by("-completed_at")


def personal_data(user) -> dict:
    """What the courses app holds about `user` ("Download my data",
    portal.privacy): enrolments, lesson progress, quiz attempts (answers and
    scores, not the question layout), training classes, the hours ledger,
    certificate requests and certificates. Seven queries, whatever the
    number of rows; staff who granted or entered something are left out."""
    from courses.models import TrainingClassMember

    enrolment = "enrolment__course_title"
    return {
        "enrolments": list(
            Enrolment.objects.filter(user=user)
            .order_by("enrolled_at", "pk")
            .values(
                "id",
                "course_key",
                "course_title",
                "credit_hours",
                "source",
                "enrolled_at",
                "completed_at",
            )
        ),
        "lesson_progress": list(
            LessonProgress.objects.filter(enrolment__user=user)
            .order_by("enrolment_id", "pk")
            .values(
                "enrolment_id",
                enrolment,
                "lesson_title",
                "status",
                "watched_seconds",
                "started_at",
                "updated_at",
                "completed_at",
            )
        ),
        "quiz_attempts": list(
            QuizAttempt.objects.filter(enrolment__user=user)
            .order_by("enrolment_id", "pk")
            .values(
                "enrolment_id",
                enrolment,
                "lesson_title",
                "number",
                "answers",
                "score",
                "passed",
                "status",
                "started_at",
                "submitted_at",
            )
        ),
        "training_classes": list(
            TrainingClassMember.objects.filter(user=user)
            .order_by("added_at", "pk")
            .values("training_class__name", "training_class__code", "added_at")
        ),
        "hours": list(
            HoursLedgerEntry.objects.filter(user=user)
            .order_by("created_at", "pk")
            .values(
                "kind",
                "source_type",
                "title",
                "hours",
                "earned_on",
                "reason",
                "created_at",
            )
        ),
        "certificate_requests": list(
            CertificateRequest.objects.filter(user=user)
            .order_by("requested_at", "pk")
            .values("title", "hours", "achieved_on", "status", "requested_at")
        ),
        "certificates": list(
            Certificate.objects.filter(user=user)
            .order_by("issued_at", "pk")
            .values(
                "serial",
                "code",
                "learner_name",
                "title",
                "hours",
                "achieved_on",
                "issued_at",
                "expires_on",
                "language",
                "status",
                "status_changed_at",
                "revoked_reason",
            )
        ),
    }

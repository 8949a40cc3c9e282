"""The figures of a class's progress (reads only): each member's progress
in each course of the class, who needs attention and why, the filters and
orders of the screen, and the audit trail of the class's records. A fixed
number of queries for a class of any size."""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django import forms
from django.contrib.contenttypes.models import ContentType
from django.db.models import CharField, Q, Sum
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext_lazy, pgettext_lazy

from wagtail.models import ModelLogEntry

from courses.models import (
    Certificate,
    CertificateRequest,
    CoursePage,
    Enrolment,
    HoursLedgerEntry,
    LessonPage,
    LessonProgress,
    QuizAttempt,
    QuizAttemptGrant,
    TrainingClass,
    TrainingClassMember,
)

#: No activity for this long, with a course of the class not completed: stuck.
INACTIVE_DAYS = 14
#: A reading lesson or a quiz attempt counts at most this many times the
#: lesson's estimated minutes: a tab left open overnight is not a night's study.
TIME_CAP_FACTOR = 2

ATTEMPTS_USED_UP = "attempts"
INACTIVE = "inactive"
NOT_STARTED = "not_started"
FLAG_LABELS = {
    ATTEMPTS_USED_UP: gettext_lazy("Quiz attempts used up"),
    INACTIVE: gettext_lazy("No activity for 14 days"),
    NOT_STARTED: pgettext_lazy("learner", "Not started"),
}


# --- the figures (reads only) -------------------------------------------------


@dataclass
class LessonRow:
    lesson: LessonPage
    progress: LessonProgress | None
    seconds: int = 0

    @property
    def minutes(self) -> int:
        return minutes(self.seconds)

    @property
    def done(self) -> bool:
        return bool(
            self.progress and self.progress.status == LessonProgress.Status.COMPLETED
        )


@dataclass
class QuizRow:
    lesson: LessonPage
    quiz_key: str
    title: str
    used: int = 0  # submitted attempts
    allowed: int | None = None  # None: unlimited (the course's 0), grants added
    granted: int = 0
    best: Decimal | None = None
    last: Decimal | None = None
    passed: bool = False
    open: bool = False

    @property
    def used_up(self) -> bool:
        """No attempt left and not passed: only a grant lets the learner on."""
        return (
            not self.passed
            and not self.open
            and self.allowed is not None
            and self.used >= self.allowed
        )


@dataclass
class CourseRow:
    course: CoursePage
    enrolment: Enrolment | None
    lessons: list[LessonRow] = field(default_factory=list)
    quizzes: list[QuizRow] = field(default_factory=list)
    hours: Decimal = Decimal("0.0")
    certificate: Certificate | None = None
    certificate_request: CertificateRequest | None = None
    last_activity: datetime.datetime | None = None
    # Links set by the class progress screen; None when not shown.
    evidence_url: str | None = None
    certificate_url: str | None = None

    @property
    def lessons_done(self) -> int:
        return sum(row.done for row in self.lessons)

    @property
    def seconds(self) -> int:
        return sum(row.seconds for row in self.lessons)

    @property
    def minutes(self) -> int:
        return minutes(self.seconds)

    @property
    def completed(self) -> bool:
        return bool(self.enrolment and self.enrolment.completed_at)

    @property
    def certificate_status(self) -> str:
        if self.certificate:
            return self.certificate.state_label
        if self.certificate_request:
            return self.certificate_request.get_status_display()
        return ""


@dataclass
class MemberRow:
    member: TrainingClassMember
    courses: list[CourseRow] = field(default_factory=list)
    class_hours: Decimal = Decimal("0.0")  # entries for the class itself
    flags: list[str] = field(default_factory=list)
    ledger_url: str | None = None  # set by the class progress screen

    @property
    def user(self):
        return self.member.user

    @property
    def name(self) -> str:
        return self.user.real_name or self.user.email

    @property
    def hours(self) -> Decimal:
        return self.class_hours + sum((c.hours for c in self.courses), Decimal(0))

    @property
    def seconds(self) -> int:
        return sum(c.seconds for c in self.courses)

    @property
    def minutes(self) -> int:
        return minutes(self.seconds)

    @property
    def last_activity(self) -> datetime.datetime | None:
        return max(
            (c.last_activity for c in self.courses if c.last_activity), default=None
        )

    @property
    def percent(self) -> int:
        total = sum(len(c.lessons) for c in self.courses)
        done = sum(c.lessons_done for c in self.courses)
        return round(100 * done / total) if total else 0

    @property
    def flag_labels(self) -> list[str]:
        return [str(FLAG_LABELS[flag]) for flag in self.flags]


def _later(*moments: datetime.datetime | None) -> datetime.datetime | None:
    return max((m for m in moments if m), default=None)


def _capped(start, end, cap_seconds: int) -> int:
    if not start or not end or end < start:
        return 0
    return int(min((end - start).total_seconds(), cap_seconds))


def lesson_seconds(
    lesson: LessonPage, progress: LessonProgress | None, attempts: list[QuizAttempt]
) -> int:
    """Time spent on a lesson, as far as the server can tell: the seconds of
    video actually played (each second once, capped by the server's clock when
    recorded); for a reading lesson the time from first opening to completion,
    and for each submitted quiz attempt the time from start to submission,
    each at most TIME_CAP_FACTOR times the lesson's estimated minutes."""
    cap = TIME_CAP_FACTOR * max(lesson.duration_minutes, 1) * 60
    seconds = int(progress.watched_seconds) if progress else 0
    if lesson.kind == "reading" and progress:
        seconds += _capped(progress.started_at, progress.completed_at, cap)
    for attempt in attempts:
        seconds += _capped(attempt.started_at, attempt.submitted_at, cap)
    return seconds


def class_progress(
    *, training_class: TrainingClass, now: datetime.datetime | None = None
) -> list[MemberRow]:
    """Every member of the class with their progress in each of its courses,
    in the order they were added. Eleven queries, whatever the class's size."""
    now = now or timezone.now()
    members = list(
        TrainingClassMember.objects.filter(training_class=training_class)
        .select_related("user")
        .order_by("added_at", "pk")
    )
    courses = list(training_class.courses.order_by("path"))
    course_keys = [course.pk for course in courses]
    member_ids = TrainingClassMember.objects.filter(
        training_class=training_class
    ).values("user_id")
    lessons_by_course: dict[int, list[LessonPage]] = defaultdict(list)
    if courses:
        under = Q()
        for course in courses:
            under |= Q(path__startswith=course.path, depth=course.depth + 1)
        by_path = {course.path: course.pk for course in courses}
        for lesson in LessonPage.objects.live().filter(under).order_by("path"):
            lessons_by_course[by_path[lesson.path[: -LessonPage.steplen]]].append(
                lesson
            )
    enrolments = Enrolment.objects.filter(
        user_id__in=member_ids, course_key__in=course_keys
    )
    enrolment_of = {(e.user_id, e.course_key): e for e in enrolments}
    progress_of: dict[tuple, LessonProgress] = {
        (p.enrolment_id, p.lesson_key): p
        for p in LessonProgress.objects.filter(enrolment__in=enrolments).defer(
            "watched"
        )
    }
    attempts_of: dict[tuple, list[QuizAttempt]] = defaultdict(list)
    for attempt in (
        QuizAttempt.objects.filter(enrolment__in=enrolments)
        .only(
            "enrolment_id",
            "lesson_key",
            "quiz_key",
            "number",
            "score",
            "passed",
            "status",
            "started_at",
            "submitted_at",
        )
        .order_by("number")
    ):
        attempts_of[
            (attempt.enrolment_id, attempt.lesson_key, attempt.quiz_key)
        ].append(attempt)
    granted_of: dict[tuple, int] = {
        (g["enrolment_id"], g["lesson_key"], g["quiz_key"]): g["extra"]
        for g in QuizAttemptGrant.objects.filter(enrolment__in=enrolments)
        .values("enrolment_id", "lesson_key", "quiz_key")
        .annotate(extra=Sum("extra"))
        .order_by()
    }
    # The ledger's sum: earned, reversal and adjustment entries alike.
    hours_of = {
        (h["user_id"], h["source_type"], h["source_key"]): h["total"]
        for h in HoursLedgerEntry.objects.filter(user_id__in=member_ids)
        .filter(
            Q(source_type=HoursLedgerEntry.Source.COURSE, source_key__in=course_keys)
            | Q(
                source_type=HoursLedgerEntry.Source.TRAINING_CLASS,
                source_key=training_class.pk,
            )
        )
        .values("user_id", "source_type", "source_key")
        .annotate(total=Sum("hours"))
        .order_by()
    }
    course_source = {"source_type": HoursLedgerEntry.Source.COURSE}
    requests_of = {
        (r.user_id, r.source_key): r
        for r in CertificateRequest.objects.filter(
            user_id__in=member_ids, source_key__in=course_keys, **course_source
        )
    }
    # The newest certificate of each achievement that is not superseded: a
    # reissue's replacement, or the one first issued.
    certificate_of: dict[tuple, Certificate] = {}
    for certificate in (
        Certificate.objects.filter(
            request__user_id__in=member_ids,
            request__source_key__in=course_keys,
            request__source_type=HoursLedgerEntry.Source.COURSE,
        )
        .exclude(status=Certificate.Status.SUPERSEDED)
        .select_related("request")
        .order_by("issued_at", "pk")
    ):
        key = (certificate.request.user_id, certificate.request.source_key)
        certificate_of[key] = certificate

    rows = []
    for member in members:
        row = MemberRow(
            member=member,
            class_hours=hours_of.get(
                (
                    member.user_id,
                    HoursLedgerEntry.Source.TRAINING_CLASS,
                    training_class.pk,
                ),
                Decimal(0),
            ),
        )
        for course in courses:
            enrolment = enrolment_of.get((member.user_id, course.pk))
            course_row = CourseRow(
                course=course,
                enrolment=enrolment,
                hours=hours_of.get(
                    (member.user_id, HoursLedgerEntry.Source.COURSE, course.pk),
                    Decimal(0),
                ),
                certificate=certificate_of.get((member.user_id, course.pk)),
                certificate_request=requests_of.get((member.user_id, course.pk)),
            )
            e_id = enrolment.pk if enrolment else None
            activity = [enrolment.completed_at] if enrolment else []
            for lesson in lessons_by_course[course.pk]:
                progress = progress_of.get((e_id, lesson.pk))
                lesson_attempts = []
                if progress:
                    activity += [progress.updated_at, progress.completed_at]
                for block in lesson.quiz_blocks():
                    attempts = attempts_of.get((e_id, lesson.pk, block.id), [])
                    submitted = [
                        a for a in attempts if a.status == QuizAttempt.Status.SUBMITTED
                    ]
                    lesson_attempts += submitted
                    activity += [a.started_at for a in attempts]
                    activity += [a.submitted_at for a in submitted]
                    granted = granted_of.get((e_id, lesson.pk, block.id), 0)
                    course_row.quizzes.append(
                        QuizRow(
                            lesson=lesson,
                            quiz_key=block.id,
                            title=block.value.get("title") or lesson.title,
                            used=len(submitted),
                            allowed=None
                            if course.max_attempts == 0
                            else course.max_attempts + granted,
                            granted=granted,
                            best=max(
                                (a.score for a in submitted if a.score is not None),
                                default=None,
                            ),
                            last=submitted[-1].score if submitted else None,
                            passed=any(a.passed for a in submitted),
                            open=len(submitted) < len(attempts),
                        )
                    )
                course_row.lessons.append(
                    LessonRow(
                        lesson=lesson,
                        progress=progress,
                        seconds=lesson_seconds(lesson, progress, lesson_attempts),
                    )
                )
            course_row.last_activity = _later(*activity)
            row.courses.append(course_row)
        _flag(row, now=now)
        rows.append(row)
    return rows


def _flag(row: MemberRow, *, now: datetime.datetime) -> None:
    """Why the member needs a manager's attention, if they do."""
    if any(q.used_up for c in row.courses for q in c.quizzes if c.enrolment):
        row.flags.append(ATTEMPTS_USED_UP)
    if row.courses and all(c.completed for c in row.courses):
        return
    last = row.last_activity
    if last is None:
        row.flags.append(NOT_STARTED)
    elif last < now - datetime.timedelta(days=INACTIVE_DAYS):
        row.flags.append(INACTIVE)


# --- filtering and sorting ----------------------------------------------------


SHOW_CHOICES = [
    ("", gettext_lazy("All trainees")),
    ("stuck", gettext_lazy("Needs attention (any reason)")),
    (ATTEMPTS_USED_UP, FLAG_LABELS[ATTEMPTS_USED_UP]),
    (INACTIVE, FLAG_LABELS[INACTIVE]),
    (NOT_STARTED, FLAG_LABELS[NOT_STARTED]),
]


class ProgressFilterForm(forms.Form):
    """Always bound; a value that is not a choice falls back to the default."""

    show = forms.ChoiceField(
        label=gettext_lazy("Show"), required=False, choices=SHOW_CHOICES
    )
    sort = forms.ChoiceField(
        label=gettext_lazy("Order"),
        required=False,
        choices=[
            ("", gettext_lazy("Needing attention first")),
            ("name", gettext_lazy("Name")),
            ("progress", gettext_lazy("Least progress first")),
            ("activity", gettext_lazy("Longest without activity first")),
        ],
    )

    def choices(self) -> tuple[str, str]:
        if not self.is_valid():
            return "", ""
        return self.cleaned_data["show"], self.cleaned_data["sort"]


def filtered(rows: list[MemberRow], *, show: str, sort: str) -> list[MemberRow]:
    if show == "stuck":
        rows = [row for row in rows if row.flags]
    elif show:
        rows = [row for row in rows if show in row.flags]
    if sort == "name":
        return sorted(rows, key=lambda row: row.name)
    if sort == "progress":
        return sorted(rows, key=lambda row: (row.percent, row.name))
    if sort == "activity":
        oldest = datetime.datetime.min.replace(tzinfo=datetime.UTC)
        return sorted(rows, key=lambda row: (row.last_activity or oldest, row.name))
    return sorted(rows, key=lambda row: (not row.flags, row.name))


def minutes(seconds: int) -> int:
    return round(seconds / 60)


# --- the audit trail ----------------------------------------------------------


def class_changes(training_class: TrainingClass):
    """Wagtail's log entries on the class and on its members' enrolments in
    its courses (quiz attempts granted, corrections), newest first."""
    # Log entries name their object by its id as text.
    enrolment_ids = (
        Enrolment.objects.filter(
            course_key__in=training_class.courses.values("pk"),
            user_id__in=TrainingClassMember.objects.filter(
                training_class=training_class
            ).values("user_id"),
        )
        .annotate(text_id=Cast("pk", output_field=CharField()))
        .values("text_id")
    )
    on_enrolments = ModelLogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Enrolment),
        object_id__in=enrolment_ids,
    )
    return (
        (ModelLogEntry.objects.for_instance(training_class) | on_enrolments)
        .select_related("user")
        .order_by("-timestamp", "-pk")
    )

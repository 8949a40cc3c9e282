"""A training class's progress, member by member, for training managers.

For each trainee and each course of the class: the lessons done (with dates),
the time spent, every quiz's attempts (used of allowed, best and last score),
the hours in the ledger and the certificate. Who is stuck stands out (quiz
attempts used up without passing, no activity for 14 days, not started) and
can be filtered and sorted; the same rows download as XLSX (audit-logged as an
export). A manager with the right to grant quiz attempts does so on the stuck
quiz itself, with a reason; the grant is in Wagtail's audit log, on the
enrolment, and the class's history lists its enrolments' entries too.

Who may see it: `courses.view_enrolment`, the permission of the training
report, which the training manager role has. Granting attempts needs
`courses.add_quizattemptgrant`, offered in Wagtail's group settings.

Reads are here (a fixed number of queries for a class of any size); the one
write goes through `courses.services.quiz_attempts_grant`.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from openpyxl import Workbook

from django import forms
from django.contrib.admin.utils import quote
from django.contrib.contenttypes.models import ContentType
from django.core.paginator import Paginator
from django.db.models import CharField, Count, Q, Sum
from django.db.models.functions import Cast
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseForbidden,
    QueryDict,
)
from django.shortcuts import get_object_or_404, redirect
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop, ngettext, pgettext_lazy
from django.views import View
from django.views.generic import TemplateView

from wagtail.admin import messages
from wagtail.admin.menu import MenuItem
from wagtail.admin.ui.tables import Column
from wagtail.admin.views.generic import history
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.views.generic.permissions import PermissionCheckedMixin
from wagtail.models import ModelLogEntry
from wagtail.permission_policies import ModelPermissionPolicy

import portal.converters  # noqa: F401 - registers <id:…>
from courses import services
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
from portal.converters import MAX_ID
from portal.exports import (
    export_log,
    sheet_title,
    spreadsheet_safe,
    xlsx_response,
    xlsx_row,
)

view_policy = ModelPermissionPolicy(Enrolment)
grant_policy = ModelPermissionPolicy(QuizAttemptGrant)

#: No activity for this long, with a course of the class not completed: stuck.
INACTIVE_DAYS = 14
MEMBERS_PER_PAGE = 50
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


def can_view_progress(user) -> bool:  # type: ignore[no-untyped-def]
    return view_policy.user_has_permission(user, "view")


def can_grant_attempts(user) -> bool:  # type: ignore[no-untyped-def]
    return grant_policy.user_has_permission(user, "add")


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

    @property
    def user(self):  # type: ignore[no-untyped-def]
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


def _capped(start, end, cap_seconds: int) -> int:  # type: ignore[no-untyped-def]
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
    progress_of = {
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
    granted_of = {
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
                            best=max((a.score for a in submitted), default=None),
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


class ProgressFilterForm(forms.Form):
    """Always bound; a value that is not a choice falls back to the default."""

    show = forms.ChoiceField(
        label=gettext_lazy("Show"),
        required=False,
        choices=[
            ("", gettext_lazy("All trainees")),
            ("stuck", gettext_lazy("Needs attention (any reason)")),
            (ATTEMPTS_USED_UP, FLAG_LABELS[ATTEMPTS_USED_UP]),
            (INACTIVE, FLAG_LABELS[INACTIVE]),
            (NOT_STARTED, FLAG_LABELS[NOT_STARTED]),
        ],
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


# --- links to the screens where records are corrected -------------------------


def optional_url(name: str, **kwargs: Any) -> str | None:
    """The address of a screen other work provides, or None while it does not
    exist: the link is left out rather than broken."""
    try:
        return reverse(name, kwargs=kwargs)
    except NoReverseMatch:
        return None


def minutes(seconds: int) -> int:
    return round(seconds / 60)


# --- the screens --------------------------------------------------------------


class ClassProgressMixin(PermissionCheckedMixin, WagtailAdminTemplateMixin):
    permission_policy = view_policy
    permission_required = "view"
    header_icon = "group"


class ClassProgressIndexView(ClassProgressMixin, TemplateView):
    """The classes, to choose one."""

    template_name = "courses/admin/class_progress_index.html"
    page_title = gettext_lazy("Class progress")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        classes = TrainingClass.objects.annotate(
            member_count=Count("members")
        ).order_by("-starts_on", "name", "pk")
        page = Paginator(classes, 50).get_page(self.request.GET.get("p"))
        return super().get_context_data(classes_page=page, **kwargs)


class ClassProgressView(ClassProgressMixin, TemplateView):
    """One class, member by member; `?export=xlsx` downloads the same rows."""

    template_name = "courses/admin/class_progress.html"
    page_title = gettext_lazy("Class progress")

    def setup(self, request: HttpRequest, *args: Any, **kwargs: Any) -> None:
        super().setup(request, *args, **kwargs)
        self.training_class = get_object_or_404(TrainingClass, pk=kwargs["pk"])

    def get_page_subtitle(self) -> str:
        return str(self.training_class)

    def get_breadcrumbs_items(self) -> list:
        return [
            *self.breadcrumbs_items,
            {
                "url": reverse("courses_class_progress_index"),
                "label": _("Class progress"),
            },
            {"url": "", "label": str(self.training_class)},
        ]

    @cached_property
    def filter_form(self) -> ProgressFilterForm:
        return ProgressFilterForm(self.request.GET)

    @cached_property
    def rows(self) -> list[MemberRow]:
        show, sort = self.filter_form.choices()
        return filtered(
            class_progress(training_class=self.training_class), show=show, sort=sort
        )

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.GET.get("export") == "xlsx":
            return self.xlsx_response()
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        user = self.request.user
        page = Paginator(self.rows, MEMBERS_PER_PAGE).get_page(
            self.request.GET.get("p")
        )
        query = self.request.GET.copy()
        query.pop("p", None)
        query.pop("export", None)
        may_see_certificates = user.has_perm("courses.view_certificate")
        for row in page.object_list:
            row.ledger_url = optional_url("courses_ledger:learner", user_id=row.user.pk)
            for course in row.courses:
                course.evidence_url = (
                    optional_url(
                        "courses_evidence:enrolment", enrolment_id=course.enrolment.pk
                    )
                    if course.enrolment
                    else None
                )
                course.certificate_url = (
                    reverse("certificate_admin:inspect", args=(course.certificate.pk,))
                    if course.certificate and may_see_certificates
                    else None
                )
        class_admin = None
        if user.has_perm("courses.view_trainingclass") or user.has_perm(
            "courses.change_trainingclass"
        ):
            class_admin = reverse(
                "training_classes:inspect", args=(quote(self.training_class.pk),)
            )
        return super().get_context_data(
            training_class=self.training_class,
            form=self.filter_form,
            members_page=page,
            member_count=TrainingClassMember.objects.filter(
                training_class=self.training_class
            ).count(),
            shown_count=len(self.rows),
            query=query.urlencode(),
            export_url="?" + urlencode({**query.dict(), "export": "xlsx"}),
            may_grant=can_grant_attempts(user),
            grant_url=reverse(
                "courses_class_progress_grant", args=(self.training_class.pk,)
            ),
            class_admin_url=class_admin,
            changes=class_changes(self.training_class)[:10],
            inactive_days=INACTIVE_DAYS,
            **kwargs,
        )

    # --- the download ---------------------------------------------------------

    def xlsx_response(self) -> HttpResponse:
        workbook = Workbook(write_only=True)
        taken: set[str] = set()
        summary = workbook.create_sheet(title=sheet_title(_("Progress"), taken))
        lessons = workbook.create_sheet(title=sheet_title(_("Lessons"), taken))
        quizzes = workbook.create_sheet(title=sheet_title(_("Quizzes"), taken))
        for sheet in (summary, lessons, quizzes):
            sheet.freeze_panes = "A2"
        person = [_("Name"), _("E-mail"), _("Organisation")]
        summary.append(
            [
                *person,
                _("Course"),
                _("Enrolled"),
                _("Lessons done"),
                _("Lessons"),
                _("Time spent (minutes)"),
                _("Quizzes passed"),
                _("Quizzes"),
                _("Hours"),
                _("Completed"),
                _("Certificate"),
                _("Certificate status"),
                _("Last activity"),
                _("Needs attention"),
            ]
        )
        lessons.append(
            [
                *person,
                _("Course"),
                _("Lesson"),
                _("Status"),
                _("First opened"),
                _("Completed"),
                _("Time spent (minutes)"),
            ]
        )
        quizzes.append(
            [
                *person,
                _("Course"),
                _("Lesson"),
                _("Quiz"),
                _("Attempts used"),
                _("Attempts allowed"),
                _("Extra attempts granted"),
                _("Best score (%)"),
                _("Last score (%)"),
                _("Passed"),
            ]
        )
        local = timezone.localtime
        count = 0
        for row in self.rows:
            who = [
                spreadsheet_safe(row.user.real_name or ""),
                spreadsheet_safe(row.user.email),
                spreadsheet_safe(row.user.organisation or ""),
            ]
            flags = "、".join(row.flag_labels)
            for course in row.courses:
                enrolment = course.enrolment
                certificate = course.certificate
                summary.append(
                    xlsx_row(
                        summary,
                        [
                            *who,
                            course.course.title,
                            local(enrolment.enrolled_at) if enrolment else None,
                            course.lessons_done,
                            len(course.lessons),
                            minutes(course.seconds),
                            sum(q.passed for q in course.quizzes),
                            len(course.quizzes),
                            course.hours,
                            local(enrolment.completed_at)
                            if enrolment and enrolment.completed_at
                            else None,
                            certificate.serial if certificate else "",
                            course.certificate_status,
                            local(course.last_activity)
                            if course.last_activity
                            else None,
                            flags,
                        ],
                    )
                )
                count += 1
                for lesson in course.lessons:
                    progress = lesson.progress
                    lessons.append(
                        xlsx_row(
                            lessons,
                            [
                                *who,
                                course.course.title,
                                lesson.lesson.title,
                                progress.get_status_display()
                                if progress
                                else _("Not opened"),
                                local(progress.started_at) if progress else None,
                                local(progress.completed_at)
                                if progress and progress.completed_at
                                else None,
                                minutes(lesson.seconds),
                            ],
                        )
                    )
                for quiz in course.quizzes:
                    quizzes.append(
                        xlsx_row(
                            quizzes,
                            [
                                *who,
                                course.course.title,
                                quiz.lesson.title,
                                quiz.title,
                                quiz.used,
                                quiz.allowed
                                if quiz.allowed is not None
                                else _("Unlimited"),
                                quiz.granted,
                                quiz.best,
                                quiz.last,
                                _("Yes") if quiz.passed else _("No"),
                            ],
                        )
                    )
        show, sort = self.filter_form.choices()
        # In the class's history and Reports › Site history.
        export_log(
            request=self.request,
            instance=self.training_class,
            what=gettext_noop("Class progress"),
            file_format="xlsx",
            rows=count,
            filters=str(dict(self.filter_form.fields["show"].choices)[show])
            if show
            else "",
        )
        day = timezone.localdate().isoformat()
        filename = f"class-progress-{self.training_class.code}-{day}.xlsx"
        return xlsx_response(workbook, filename=filename)


class GrantAttemptsForm(forms.Form):
    enrolment = forms.IntegerField(min_value=1, max_value=MAX_ID)
    lesson_key = forms.IntegerField(min_value=1, max_value=MAX_ID)
    quiz_key = forms.CharField(max_length=64)
    extra = forms.IntegerField(
        label=gettext_lazy("Extra attempts"), min_value=1, max_value=10, initial=1
    )
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=1000)
    # The filter the manager was looking at, to go back to it.
    back = forms.CharField(required=False, max_length=200)


class GrantAttemptsView(View):
    """POST only: more attempts at one quiz for one member of the class.

    Refused (403, nothing written) without `courses.add_quizattemptgrant`;
    the enrolment must be a member's, in a course of this class, and the quiz
    one of that course's lessons' (a forged id finds nothing: 404)."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not can_grant_attempts(request.user):
            return HttpResponseForbidden(
                _("You may not grant quiz attempts."), content_type="text/plain"
            )
        training_class = get_object_or_404(TrainingClass, pk=pk)
        target = reverse("courses_class_progress", args=(training_class.pk,))
        form = GrantAttemptsForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Give a reason and between 1 and 10 attempts."))
            return redirect(target)
        data = form.cleaned_data
        back = _safe_query(data["back"])
        if back:
            target += "?" + back
        enrolment = (
            Enrolment.objects.filter(
                pk=data["enrolment"],
                course_key__in=training_class.courses.values("pk"),
                user_id__in=TrainingClassMember.objects.filter(
                    training_class=training_class
                ).values("user_id"),
            )
            .select_related("user")
            .first()
        )
        lesson = (
            LessonPage.objects.filter(pk=data["lesson_key"]).first()
            if enrolment
            else None
        )
        if (
            enrolment is None
            or lesson is None
            or lesson.path[: -LessonPage.steplen]
            != CoursePage.objects.filter(pk=enrolment.course_key)
            .values_list("path", flat=True)
            .first()
        ):
            raise Http404
        if QuizAttempt.objects.filter(
            enrolment=enrolment,
            lesson_key=lesson.pk,
            quiz_key=data["quiz_key"],
            passed=True,
        ).exists():
            messages.error(request, _("The learner has already passed this quiz."))
            return redirect(target)
        try:
            services.quiz_attempts_grant(
                enrolment=enrolment,
                lesson_key=lesson.pk,
                quiz_key=data["quiz_key"],
                extra=data["extra"],
                reason=data["reason"],
                by=request.user,
            )
        except services.CourseError as error:
            messages.error(request, str(error))
            return redirect(target)
        messages.success(
            request,
            ngettext(
                "%(name)s has %(count)s more attempt at %(lesson)s.",
                "%(name)s has %(count)s more attempts at %(lesson)s.",
                data["extra"],
            )
            % {
                "name": enrolment.user.real_name or enrolment.user.email,
                "count": data["extra"],
                "lesson": lesson.title,
            },
        )
        return redirect(target)


def _safe_query(value: str) -> str:
    """Only the filter's own parameters, re-encoded: nothing else travels
    through the form into the address."""
    given = QueryDict(value)
    kept = {k: given[k] for k in ("show", "sort", "p") if given.get(k)}
    return urlencode(kept)


# --- the audit trail ----------------------------------------------------------


def class_changes(training_class: TrainingClass):  # type: ignore[no-untyped-def]
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


class ClassHistoryView(history.HistoryView):
    """The class's history in the admin, with its enrolments' entries: a
    quiz attempt granted to a trainee is a change to the class's records."""

    @cached_property
    def columns(self):  # type: ignore[no-untyped-def]
        return [
            *super().columns[:1],
            Column("label", label=gettext_lazy("Record"), width="25%"),
            *super().columns[1:],
        ]

    def get_base_queryset(self):  # type: ignore[no-untyped-def]
        return self._annotate_queryset(class_changes(self.object))


# --- the menu item ------------------------------------------------------------


class ClassProgressMenuItem(MenuItem):
    def is_shown(self, request) -> bool:  # type: ignore[no-untyped-def]
        return can_view_progress(request.user)


def class_progress_url(user, training_class) -> str | None:  # type: ignore[no-untyped-def]
    """For the class's screens: a link here, for those who may follow it."""
    if not can_view_progress(user):
        return None
    return reverse("courses_class_progress", args=(training_class.pk,))

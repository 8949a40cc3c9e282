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

The figures are read in `figures` (a fixed number of queries for a class of
any size), the download is built in `export`, the screens are in `views`;
the one write goes through `courses.services.quiz_attempts_grant`.
"""

from courses.admin_class_progress.export import progress_workbook
from courses.admin_class_progress.figures import (
    ATTEMPTS_USED_UP,
    FLAG_LABELS,
    INACTIVE,
    INACTIVE_DAYS,
    NOT_STARTED,
    TIME_CAP_FACTOR,
    CourseRow,
    LessonRow,
    MemberRow,
    ProgressFilterForm,
    QuizRow,
    class_changes,
    class_progress,
    filtered,
    lesson_seconds,
    minutes,
)
from courses.admin_class_progress.views import (
    MEMBERS_PER_PAGE,
    ClassHistoryView,
    ClassProgressIndexView,
    ClassProgressMenuItem,
    ClassProgressMixin,
    ClassProgressView,
    GrantAttemptsForm,
    GrantAttemptsView,
    can_grant_attempts,
    can_view_progress,
    class_progress_url,
    grant_policy,
    optional_url,
    view_policy,
)

__all__ = [
    "ATTEMPTS_USED_UP",
    "FLAG_LABELS",
    "INACTIVE",
    "INACTIVE_DAYS",
    "MEMBERS_PER_PAGE",
    "NOT_STARTED",
    "TIME_CAP_FACTOR",
    "ClassHistoryView",
    "ClassProgressIndexView",
    "ClassProgressMenuItem",
    "ClassProgressMixin",
    "ClassProgressView",
    "CourseRow",
    "GrantAttemptsForm",
    "GrantAttemptsView",
    "LessonRow",
    "MemberRow",
    "ProgressFilterForm",
    "QuizRow",
    "can_grant_attempts",
    "can_view_progress",
    "class_changes",
    "class_progress",
    "class_progress_url",
    "filtered",
    "grant_policy",
    "lesson_seconds",
    "minutes",
    "optional_url",
    "progress_workbook",
    "view_policy",
]

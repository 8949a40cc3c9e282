"""Every Wagtail hook of the courses app (Wagtail discovers only this
module): the hooks of the admin screens, whose views, forms and menu item
classes stay in their own modules (admin_class_progress, admin_evidence,
admin_import, admin_ledger, admin_reports); the access check on lesson files;
the log messages of training records. The certificates' hooks are in
courses/certificates/wagtail_hooks.py, imported below.

Hooks of one name run in the order they are registered here (for log
actions, the order of the history filter's choices): keep it."""

from django.contrib.auth.models import Permission
from django.http import Http404
from django.urls import include, path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wagtail import hooks
from wagtail.log_actions import LogFormatter

from courses import (
    admin_class_progress,
    admin_evidence,
    admin_import,
    admin_ledger,
    admin_reports,
    ledger,
)
from courses.imports import LOG_ACTION as LOG_TRAINEES_IMPORTED
from courses.permissions import can_see_file
from portal import staff

# --- a class's progress (courses.admin_class_progress) -------------------------


@hooks.register("register_admin_urls")
def register_class_progress_urls():
    return [
        path(
            "reports/training/classes/",
            admin_class_progress.ClassProgressIndexView.as_view(),
            name="courses_class_progress_index",
        ),
        path(
            "reports/training/classes/<id:pk>/",
            admin_class_progress.ClassProgressView.as_view(),
            name="courses_class_progress",
        ),
        path(
            "reports/training/classes/<id:pk>/grant/",
            admin_class_progress.GrantAttemptsView.as_view(),
            name="courses_class_progress_grant",
        ),
    ]


@hooks.register("register_reports_menu_item")
def register_class_progress_menu_item():
    return admin_class_progress.ClassProgressMenuItem(
        gettext_lazy("Class progress"),
        reverse("courses_class_progress_index"),
        name="class-progress",
        icon_name="group",
        order=110,
    )


@hooks.register("register_permissions")
def register_grant_permission():
    # "Can add extra quiz attempts" is what lets a manager grant attempts.
    return Permission.objects.filter(
        content_type__app_label="courses", codename="add_quizattemptgrant"
    )


# --- training evidence (courses.admin_evidence) ----------------------------------


@hooks.register("register_admin_urls")
def register_evidence_urls():
    urlpatterns = [
        path(
            "enrolment/<int:enrolment_id>/",
            admin_evidence.EnrolmentEvidenceView.as_view(),
            name="enrolment",
        ),
        path(
            "certificate/<int:certificate_id>/",
            admin_evidence.CertificateEvidenceView.as_view(),
            name="certificate",
        ),
    ]
    namespace = admin_evidence.NAMESPACE
    return [path("evidence/", include((urlpatterns, namespace), namespace=namespace))]


# --- training classes and the trainee import (courses.admin_import) --------------


@hooks.register("register_admin_viewset")
def register_training_class_viewset():
    return admin_import.TrainingClassViewSet("training_classes")


@hooks.register("register_log_actions")
def register_import_log_action(actions):
    @actions.register_action(LOG_TRAINEES_IMPORTED)
    class TraineesImported(LogFormatter):
        label = gettext_lazy("Import trainees")

        def format_message(self, log_entry) -> str:
            data = log_entry.data or {}
            return _(
                "Trainees imported: %(members)s added, %(accounts)s new accounts."
            ) % {
                "members": data.get("members_added", 0),
                "accounts": data.get("users_created", 0),
            }


# --- the hours ledger (courses.admin_ledger) -------------------------------------


@hooks.register("register_admin_urls")
def register_ledger_urls():
    urlpatterns = [
        path("", admin_ledger.LedgerIndexView.as_view(), name="index"),
        path("export/", admin_ledger.LedgerExportView.as_view(), name="export"),
        path(
            "learner/<int:user_id>/",
            admin_ledger.LearnerLedgerView.as_view(),
            name="learner",
        ),
        path(
            "learner/<int:user_id>/adjust/",
            admin_ledger.AdjustView.as_view(),
            name="adjust",
        ),
        path(
            "learner/<int:user_id>/export/",
            admin_ledger.LearnerExportView.as_view(),
            name="learner_export",
        ),
        path(
            "entry/<int:entry_id>/reverse/",
            admin_ledger.ReverseView.as_view(),
            name="reverse",
        ),
    ]
    namespace = admin_ledger.NAMESPACE
    return [
        path("hours-ledger/", include((urlpatterns, namespace), namespace=namespace))
    ]


@hooks.register("register_admin_menu_item")
def register_ledger_menu_item():
    # Between "Training classes" (250) and "Certificates" (260).
    return admin_ledger.LedgerMenuItem(
        gettext_lazy("Hours ledger"),
        reverse(f"{admin_ledger.NAMESPACE}:index"),
        name="hours-ledger",
        icon_name="list-ol",
        order=255,
    )


@hooks.register("register_permissions")
def register_ledger_permissions():
    # "Can view" opens the ledger and its exports, "Can add" the corrections,
    # in Wagtail's group settings; nobody is offered change or delete.
    return Permission.objects.filter(
        content_type__app_label="courses",
        codename__in=["view_hoursledgerentry", "add_hoursledgerentry"],
    )


@hooks.register("register_log_actions")
def register_ledger_log_actions(actions):
    @actions.register_action(ledger.LOG_REVERSED)
    class Reversed(LogFormatter):
        label = gettext_lazy("Reverse hours")

        def format_message(self, log_entry) -> str:
            data = log_entry.data or {}
            return _("Hours reversed (%(hours)s) for “%(title)s”: %(reason)s") % {
                "hours": data.get("hours", ""),
                "title": data.get("title", ""),
                "reason": data.get("reason", ""),
            }

    @actions.register_action(ledger.LOG_ADJUSTED)
    class Adjusted(LogFormatter):
        label = gettext_lazy("Adjust hours")

        def format_message(self, log_entry) -> str:
            data = log_entry.data or {}
            return _("Hours adjusted by %(hours)s: %(reason)s") % {
                "hours": data.get("hours", ""),
                "reason": data.get("reason", ""),
            }

    @actions.register_action("courses.certificate_request.cancelled")
    class RequestCancelled(LogFormatter):
        label = gettext_lazy("Cancel certificate request")

        def format_message(self, log_entry) -> str:
            reason = (log_entry.data or {}).get("reason", "")
            return _("Certificate request cancelled: %(reason)s") % {"reason": reason}

    actions.register_action(
        "courses.certificate_request.reopened",
        gettext_lazy("Reopen certificate request"),
        gettext_lazy("Certificate request owed again after a new check-in"),
    )


# --- the training report and its dashboard panel (courses.admin_reports) ---------


@hooks.register("register_admin_urls")
def register_report_url():
    return [
        path(
            "reports/training/",
            admin_reports.TrainingReportView.as_view(),
            name="courses_training_report",
        )
    ]


@hooks.register("register_reports_menu_item")
def register_report_menu_item():
    return admin_reports.TrainingReportMenuItem(
        gettext_lazy("Training report"),
        reverse("courses_training_report"),
        name="training-report",
        icon_name="table",
        order=100,
    )


@hooks.register("construct_homepage_panels")
def add_training_panel(request, panels) -> None:
    if admin_reports.can_view_reports(request.user):
        panels.append(admin_reports.TrainingDashboardPanel())


@hooks.register("register_permissions")
def register_report_permission():
    # "Can view enrolment" is what opens the report, in Wagtail's group settings.
    return Permission.objects.filter(
        content_type__app_label="courses", codename="view_enrolment"
    )


# --- files used in lessons are for enrolled learners and staff ---------------


@hooks.register("before_serve_document")  # Wagtail's /documents/ view
@hooks.register("before_serve_image")  # portal.media: image files under /media/
def protect_lesson_files(target, request):
    # Not found, rather than forbidden: whoever may not see a lesson file
    # does not learn that it exists either.
    if not can_see_file(user=request.user, target=target):
        # Staff see every file once this session has proved MFA: send them
        # to prove it rather than answer "not found".
        denied = staff.mfa_required_response(request)
        if denied is not None:
            return denied
        raise Http404


# --- what training managers change, in Wagtail's audit log -------------------

# Imported here, not above: its log actions come after those above and before
# the training records' (the order of the history filter's choices).
from courses.certificates import wagtail_hooks as _certificates  # noqa: E402,F401


@hooks.register("register_log_actions")
def register_training_record_log_actions(actions):
    @actions.register_action("courses.quiz.attempts_granted")
    class AttemptsGranted(LogFormatter):
        label = gettext_lazy("Grant quiz attempts")

        def format_message(self, log_entry) -> str:
            data = log_entry.data or {}
            return _("%(extra)s more attempts at %(lesson)s: %(reason)s") % {
                "extra": data.get("extra", "?"),
                "lesson": data.get("lesson", ""),
                "reason": data.get("reason", ""),
            }

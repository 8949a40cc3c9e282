"""Admin screens of the courses app. Each screen's module registers its own
hooks; importing them here is what makes Wagtail see them."""

# --- files used in lessons are for enrolled learners and staff ---------------
from django.http import Http404  # noqa: E402

from wagtail import hooks  # noqa: E402

from courses import (
    admin_class_progress,  # noqa: F401
    admin_evidence,  # noqa: F401
    admin_import,  # noqa: F401
    admin_ledger,  # noqa: F401
    admin_reports,  # noqa: F401
)
from courses.permissions import can_see_file  # noqa: E402
from portal import staff  # noqa: E402


@hooks.register("before_serve_document")  # Wagtail's /documents/ view
@hooks.register("before_serve_image")  # portal.media: image files under /media/
def protect_lesson_files(target, request):  # type: ignore[no-untyped-def]
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
from django.utils.translation import gettext as _  # noqa: E402
from django.utils.translation import gettext_lazy  # noqa: E402

from wagtail.log_actions import LogFormatter  # noqa: E402

from courses.certificates import wagtail_hooks as _certificates  # noqa: E402,F401


@hooks.register("register_log_actions")
def register_training_record_log_actions(actions):  # type: ignore[no-untyped-def]
    @actions.register_action("courses.quiz.attempts_granted")
    class AttemptsGranted(LogFormatter):
        label = gettext_lazy("Grant quiz attempts")

        def format_message(self, log_entry) -> str:  # type: ignore[no-untyped-def]
            data = log_entry.data or {}
            return _("%(extra)s more attempts at %(lesson)s: %(reason)s") % {
                "extra": data.get("extra", "?"),
                "lesson": data.get("lesson", ""),
                "reason": data.get("reason", ""),
            }

"""Admin screens of the courses app. Each screen's module registers its own
hooks; importing them here is what makes Wagtail see them."""

# --- documents used in lessons are for enrolled learners and staff ------------
from django.core.exceptions import PermissionDenied  # noqa: E402

from wagtail import hooks  # noqa: E402

from courses import (
    admin_import,  # noqa: F401
    admin_reports,  # noqa: F401
)
from courses.permissions import can_download_document  # noqa: E402


@hooks.register("before_serve_document")
def protect_lesson_documents(document, request):  # type: ignore[no-untyped-def]
    if not can_download_document(user=request.user, document=document):
        raise PermissionDenied

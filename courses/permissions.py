"""Who may see lessons and their files: enrolled learners and staff."""

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from courses.models import Enrolment


def is_course_staff(user) -> bool:  # type: ignore[no-untyped-def]
    return bool(
        user.is_authenticated
        and (user.is_superuser or user.has_perm("wagtailadmin.access_admin"))
    )


def can_view_lesson(*, user, lesson) -> bool:  # type: ignore[no-untyped-def]
    if not user.is_authenticated:
        return False
    if is_course_staff(user):
        return True
    return Enrolment.objects.filter(
        user=user, course_key=lesson.get_parent().pk
    ).exists()


def lesson_access_response(*, request: HttpRequest, lesson) -> HttpResponse | None:  # type: ignore[no-untyped-def]
    """None when the visitor may see the lesson; otherwise where to send them."""
    if can_view_lesson(user=request.user, lesson=lesson):
        return None
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    messages.info(request, _("Enrol in the course to open its lessons."))
    return redirect(lesson.get_parent().url)


def can_download_document(*, user, document) -> bool:  # type: ignore[no-untyped-def]
    """A document used in lessons (or shared lesson content) may be downloaded
    by staff and by learners enrolled in a course that uses it; other
    documents are public as before."""
    from wagtail.models import ReferenceIndex

    from courses.models import LessonPage, SharedContent

    def kind(source) -> type:  # type: ignore[no-untyped-def]
        # References name pages by their base Page row; ask for the real class.
        return getattr(source, "specific_class", None) or type(source)

    def sources(target) -> list:  # type: ignore[no-untyped-def]
        return [
            s
            for s, _refs in ReferenceIndex.get_references_to(
                target
            ).group_by_source_object()
        ]

    lesson_ids = {s.pk for s in sources(document) if issubclass(kind(s), LessonPage)}
    shared_ids = {s.pk for s in sources(document) if issubclass(kind(s), SharedContent)}
    for shared in SharedContent.objects.filter(pk__in=shared_ids):
        lesson_ids |= {s.pk for s in sources(shared) if issubclass(kind(s), LessonPage)}
    if not lesson_ids and not shared_ids:
        return True
    if not user.is_authenticated:
        return False
    if is_course_staff(user):
        return True
    course_keys = {
        lesson.get_parent().pk
        for lesson in LessonPage.objects.filter(pk__in=lesson_ids)
    }
    return Enrolment.objects.filter(user=user, course_key__in=course_keys).exists()

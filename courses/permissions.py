"""Who may see lessons and their files: enrolled learners and staff."""

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.contrib.contenttypes.models import ContentType
from django.db.models import BigIntegerField, F, Q
from django.db.models.functions import Cast, Left
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from wagtail.models import Page, ReferenceIndex

from courses.models import (
    CertificateSettings,
    CertificateTemplate,
    Enrolment,
    LessonPage,
    SharedContent,
)
from portal import staff


def is_course_staff(user) -> bool:
    # has_perm, not is_superuser: it answers False to staff whose session has
    # not proved MFA (portal.staff), superusers included.
    return bool(user.is_authenticated and user.has_perm("wagtailadmin.access_admin"))


def can_view_lesson(*, user, lesson) -> bool:
    if not user.is_authenticated:
        return False
    if is_course_staff(user):
        return True
    return Enrolment.objects.filter(
        user=user, course_key=lesson.get_parent().pk
    ).exists()


def lesson_access_response(*, request: HttpRequest, lesson) -> HttpResponse | None:
    """None when the visitor may see the lesson; otherwise where to send them."""
    if can_view_lesson(user=request.user, lesson=lesson):
        return None
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    # Staff see every lesson, once this session has proved MFA.
    denied = staff.mfa_required_response(request)
    if denied is not None:
        return denied
    messages.info(request, _("Enrol in the course to open its lessons."))
    return redirect(lesson.get_parent().url)


def can_see_file(*, user, target) -> bool:
    """Whether `user` may fetch a document or an image (`target`), asked when
    the file itself is requested: Wagtail's document view and the portal's
    image view (portal.media) both call this through their hooks.

    A file used only in lessons, directly or through shared content, is for
    staff and for learners enrolled in a course that has such a lesson. A file
    used anywhere else as well (a course's cover, an instructor's photo, a news
    or home page) is public: that page shows it to everyone anyway.

    A file used nowhere is public, as every Wagtail file was before lessons
    existed. Nothing the index sees links to it, so nobody has its address but
    whoever put it somewhere the index cannot see (a site setting, a link in an
    e-mail); making it private would break those. It also decides which way a
    lag of the index fails: a file just added to a lesson is public for the
    seconds until the index catches up (only lesson viewers know its address),
    instead of a file just added to a news page failing for every visitor.

    Where a file is used comes from Wagtail's reference index, kept by its
    background tasks. Queries: one for the file's uses, and for a learner one
    more for the enrolment; never one per lesson or course.
    """
    lesson_type = ContentType.objects.get_for_model(LessonPage)
    shared_type = ContentType.objects.get_for_model(SharedContent)
    # Seals, signatures and certificate backgrounds: copying them is the first
    # step of forging a certificate, so only staff fetch them (the PDFs carry
    # them for learners).
    artwork_types = {
        ContentType.objects.get_for_model(model).pk
        for model in (CertificateTemplate, CertificateSettings)
    }
    artwork = False
    lesson_ids, shared_ids = set(), set()
    uses = (
        ReferenceIndex.get_references_to(target)
        .values_list("content_type_id", "object_id")
        .distinct()
    )
    for content_type_id, object_id in uses:
        if content_type_id == lesson_type.pk:
            lesson_ids.add(int(object_id))
        elif content_type_id == shared_type.pk:
            shared_ids.add(object_id)
        elif content_type_id in artwork_types:
            artwork = True
        else:
            return True  # shown on a public page or snippet as well
    if artwork and not lesson_ids and not shared_ids:
        return is_course_staff(user)
    if not lesson_ids and not shared_ids:
        return True
    if not user.is_authenticated:
        return False

    # The lessons that use the file, then their courses (each lesson's parent
    # page), all inside one query.
    lessons = Q(pk__in=lesson_ids)
    if shared_ids:
        lessons |= Q(
            pk__in=ReferenceIndex.objects.filter(
                to_content_type=shared_type,
                to_object_id__in=shared_ids,
                content_type=lesson_type,
            ).values(lesson_id=Cast("object_id", BigIntegerField()))
        )
    parent_paths = Page.objects.filter(lessons).values(
        parent_path=Left("path", (F("depth") - 1) * Page.steplen)
    )
    courses = Page.objects.filter(path__in=parent_paths).values("pk")
    if Enrolment.objects.filter(user=user, course_key__in=courses).exists():
        return True
    return is_course_staff(user)

"""Enrolment: a learner joining a course, or a trainee added to a class."""

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from courses.models import CoursePage, Enrolment, TrainingClass, TrainingClassMember
from courses.services.base import CourseError
from portal.models import User


def enrolment_refusal(*, user: User, course: CoursePage) -> str | None:
    """Why `user` may not enrol in `course` themselves, or None if they may."""
    from courses import selectors

    if not course.live:
        return _("This course is not published.")
    if not course.self_enrolment:
        return _("Learners are enrolled in this course by a training manager.")
    now = timezone.now()
    if course.enrolment_opens and now < course.enrolment_opens:
        return _("Enrolment has not opened yet.")
    if course.enrolment_closes and now >= course.enrolment_closes:
        return _("Enrolment has closed.")
    audience_ids = {a.pk for a in course.audiences.all()}
    if audience_ids and user.audience_id not in audience_ids:
        return _(
            "This course is for other audience groups; "
            "you can set yours in your profile."
        )
    missing = selectors.missing_prerequisites(user=user, course=course)
    if missing:
        return _("Complete these courses first: %(titles)s.") % {
            "titles": "、".join(c.title for c in missing)
        }
    return None


def _enrol(
    *, user: User, course: CoursePage, source: str, training_class=None
) -> Enrolment:
    existing = Enrolment.objects.filter(user=user, course_key=course.pk).first()
    if existing:
        return existing
    try:
        with transaction.atomic():
            return Enrolment.objects.create(
                user=user,
                course=course,
                course_key=course.pk,
                course_title=course.title,
                credit_hours=course.credit_hours,
                source=source,
                training_class=training_class,
            )
    except IntegrityError:  # a concurrent request enrolled first
        return Enrolment.objects.get(user=user, course_key=course.pk)


def enrolment_self(*, user: User, course: CoursePage) -> Enrolment:
    """Enrol a learner who asks to join.

    Before: maybe enrolled. After: enrolled exactly once. Raises CourseError
    (nothing written) when the course is closed to them. May run twice.
    """
    existing = Enrolment.objects.filter(user=user, course_key=course.pk).first()
    if existing:
        return existing
    refusal = enrolment_refusal(user=user, course=course)
    if refusal:
        raise CourseError(refusal)
    return _enrol(user=user, course=course, source=Enrolment.Source.SELF)


def training_class_add_member(*, training_class: TrainingClass, user: User) -> bool:
    """Put a trainee in a class and enrol them in its courses (window and
    audience rules are the manager's call, not applied). Returns True when the
    trainee is new to the class. May run twice: nothing changes the second time.
    """
    with transaction.atomic():
        _, created = TrainingClassMember.objects.get_or_create(
            training_class=training_class, user=user
        )
        for course in training_class.courses.all():
            enrolment = _enrol(
                user=user,
                course=course,
                source=Enrolment.Source.CLASS,
                training_class=training_class,
            )
            if enrolment.training_class_id is None:
                enrolment.training_class = training_class
                enrolment.save(update_fields=["training_class"])
    return created

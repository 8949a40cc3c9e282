"""Course completion: the enrolment completed once every criterion holds."""

from django.db import transaction
from django.utils import timezone

from courses.models import Enrolment, HoursLedgerEntry


def course_completion_evaluate(*, enrolment_id: int) -> bool:
    """Complete the enrolment if every criterion of its course holds.

    After: completed_at set, one hours-ledger entry and one pending certificate
    request, all in one transaction (docs/decisions.md, decision 1); the unique
    constraints make a second evaluation a no-op. Returns True when it
    completed the enrolment now.
    """
    from courses import completion, selectors
    from courses.achievements import achievement_record

    with transaction.atomic():
        enrolment = Enrolment.objects.select_for_update().get(pk=enrolment_id)
        if enrolment.completed_at:
            return False
        course = enrolment.course
        if course is None:
            return False
        progress = selectors.course_progress(enrolment=enrolment, course=course)
        codes = [c.kind for c in course.completion_criteria.all()]
        if not completion.all_met(codes, progress):
            return False
        now = timezone.now()
        enrolment.completed_at = now
        enrolment.save(update_fields=["completed_at"])
        achievement_record(
            user=enrolment.user_id,
            source_type=HoursLedgerEntry.Source.COURSE,
            source_key=enrolment.course_key,
            title=enrolment.course_title,
            hours=enrolment.credit_hours,
            achieved_on=timezone.localdate(now),
            certificate=True,
            issue_now=True,
        )
    return True

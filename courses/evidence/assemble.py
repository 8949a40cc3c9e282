"""The two kinds of evidence: what an enrolment's completion rests on, and
what a certificate rests on."""

from __future__ import annotations

from django.utils.translation import gettext as _

from courses.evidence.achievements import (
    certificate_tables,
    ledger_table,
    source_records,
)
from courses.evidence.lessons import course_tables
from courses.evidence.tables import Evidence, Table, learner_table, shanghai
from courses.models import Certificate, CertificateRequest, Enrolment, HoursLedgerEntry


def enrolment_evidence(*, enrolment_id: int) -> Evidence | None:
    """What one enrolment's completion rests on; None if there is none."""
    enrolment = (
        Enrolment.objects.select_related("user", "course", "training_class")
        .filter(pk=enrolment_id)
        .first()
    )
    if enrolment is None:
        return None
    user = enrolment.user
    extra, certificates = certificate_tables(
        user=user,
        source_type=HoursLedgerEntry.Source.COURSE,
        source_key=enrolment.course_key,
    )
    achievement = Table(
        key="achievement",
        title=_("Achievement"),
        caption=_("The course and when the learner completed it."),
        headings=[_("Field"), _("Value")],
        rows=[
            [_("Course"), enrolment.course_title],
            [_("Credit hours"), enrolment.credit_hours],
            [_("Enrolled"), shanghai(enrolment.enrolled_at)],
            [_("How enrolled"), enrolment.get_source_display()],
            [
                _("Training class"),
                enrolment.training_class.name if enrolment.training_class else "",
            ],
            [
                _("Completed"),
                shanghai(enrolment.completed_at) or _("Not completed yet"),
            ],
        ],
        facts=True,
    )
    return Evidence(
        learner=user,
        title=enrolment.course_title,
        tables=[
            learner_table(user),
            achievement,
            *course_tables(enrolment),
            ledger_table(
                user=user,
                source_type=HoursLedgerEntry.Source.COURSE,
                source_key=enrolment.course_key,
            ),
            *extra,
        ],
        enrolment=enrolment,
        certificate=certificates[-1] if certificates else None,
        subject=enrolment,
    )


def certificate_evidence(*, certificate_id: int) -> Evidence | None:
    """What one certificate rests on: for a course, its enrolment's evidence;
    for an event, the registration and check-in. None if there is none."""
    certificate = (
        Certificate.objects.select_related("user", "request")
        .filter(pk=certificate_id)
        .first()
    )
    if certificate is None:
        return None
    request: CertificateRequest = certificate.request
    user = certificate.user
    source = request.source_type
    achievement = Table(
        key="achievement",
        title=_("Achievement"),
        caption=_("What the certificate states, as it was issued."),
        headings=[_("Field"), _("Value")],
        rows=[
            [_("Title"), certificate.title],
            [_("Source"), request.get_source_type_display()],
            [_("Hours"), certificate.hours],
            [_("Date achieved"), certificate.achieved_on],
            [_("Serial number"), certificate.serial],
            [_("Status"), certificate.state_label],
            [_("Name on the certificate"), certificate.learner_name],
        ],
        facts=True,
    )
    enrolment = None
    records: list[Table] = []
    if source == HoursLedgerEntry.Source.COURSE:
        enrolment = (
            Enrolment.objects.select_related("course", "training_class")
            .filter(user=user, course_key=request.source_key)
            .first()
        )
        if enrolment is not None:
            enrolment.user = user
            achievement.rows += [
                [_("Enrolled"), shanghai(enrolment.enrolled_at)],
                [
                    _("Completed"),
                    shanghai(enrolment.completed_at) or _("Not completed yet"),
                ],
            ]
            records = course_tables(enrolment)
        else:
            records = [
                Table(
                    key="lessons",
                    title=_("Lessons"),
                    caption="",
                    headings=[],
                    empty=_("No enrolment of this learner in the course was found."),
                )
            ]
    elif (provider := source_records(source)) is not None:
        records = provider(
            user=user, source_key=request.source_key, title=request.title
        )
    extra, _certificates = certificate_tables(
        user=user, source_type=source, source_key=request.source_key
    )
    return Evidence(
        learner=user,
        title=certificate.title,
        tables=[
            learner_table(user),
            achievement,
            *records,
            ledger_table(user=user, source_type=source, source_key=request.source_key),
            *extra,
        ],
        enrolment=enrolment,
        certificate=certificate,
        subject=certificate,
    )

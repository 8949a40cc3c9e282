"""A reviewer's decisions on an application: approve, reject, request
changes; and how many wait for one."""

from datetime import datetime
from typing import cast

from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from wagtail.models import ModelLogEntry

from portal.models import User
from talentpool.applications.services.base import (
    LOG_APPROVED,
    LOG_CHANGES_REQUESTED,
    LOG_REJECTED,
    ApplicationError,
    _email_applicant,
    _log,
)
from talentpool.applications.services.consent import CONSENT_WORDING, _consent_record
from talentpool.applications.services.profile import (
    PROFILE_FIELDS,
    VERIFIED_FIELDS,
    _checked,
    _write_profile,
    expert_profile_data,
)
from talentpool.models import Expert, ExpertApplication


def _decision_start(
    application: ExpertApplication, statuses: tuple
) -> ExpertApplication:
    application = (
        ExpertApplication.objects.select_for_update(of=("self",))
        .select_related("applicant", "expert")
        .get(pk=application.pk)
    )
    if application.status not in statuses:
        raise ApplicationError(
            _("This application is “%(status)s”: it cannot be decided now.")
            % {"status": application.get_status_display()}
        )
    return application


def application_approve(
    *, application: ExpertApplication, reviewer: User
) -> ExpertApplication:
    """A reviewer approves a submitted application.

    The data is checked again (a licence number may have been taken since):
    ApplicationError and nothing written if it fails. After, in one
    transaction: for a new application, an expert with the profile, the
    applicant's account linked, verified (at, by), confirmed now, and the
    consent recorded if the applicant gave it; for a change, the expert's
    verified fields and qualifications replaced, verified again and
    confirmed now. The application is approved with the expert set, logged
    on both, and the applicant e-mailed. Refused unless submitted, so it
    cannot run twice.
    """
    with transaction.atomic():
        application = _decision_start(
            application, (ExpertApplication.Status.SUBMITTED,)
        )
        if application.kind == ExpertApplication.Kind.NEW:
            if Expert.objects.filter(user=application.applicant).exists():
                raise ApplicationError(
                    _("The applicant is already in the talent pool.")
                )
            clean = _checked(application.data)
            expert = Expert(user=application.applicant)
            keys = list(PROFILE_FIELDS)
        else:
            # A change always names its expert (a database constraint:
            # talentpool_application_change_has_expert).
            expert = cast(Expert, application.expert)
            clean = _checked(
                {**expert_profile_data(expert), **application.data}, expert=expert
            )
            keys = list(VERIFIED_FIELDS)
        now = timezone.now()
        expert.verification_status = Expert.Verification.VERIFIED
        expert.verified_at = now
        expert.verified_by = reviewer
        expert.last_confirmed_at = now
        expert.lapsed_at = None
        expert.reconfirmation_requested_at = None
        try:
            with transaction.atomic():
                _write_profile(expert, clean, keys)
        except IntegrityError as error:
            raise ApplicationError(
                _("A licence number of this application was registered meanwhile.")
            ) from error
        if application.kind == ExpertApplication.Kind.NEW:
            _history_copy(application, expert)
        application.expert = expert
        application.status = ExpertApplication.Status.APPROVED
        application.decided_at = now
        application.decided_by = reviewer
        application.save()
        _log(application, LOG_APPROVED, reviewer)
        if application.kind == ExpertApplication.Kind.NEW and application.data.get(
            "publication_consent"
        ):
            _consent_record(
                expert=expert,
                user=application.applicant,
                given=True,
                wording=application.data.get("consent_wording") or str(CONSENT_WORDING),
                at=_parse(application.data.get("consent_at")) or now,
            )
        _email_applicant(application, "approved")
    return application


def _history_copy(application: ExpertApplication, expert: Expert) -> None:
    """Copy the application's log (submitted, changes requested…) to the new
    expert, so that the expert's history is the whole verification story."""
    entries = ModelLogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(ExpertApplication),
        object_id=str(application.pk),
    ).order_by("timestamp", "pk")
    ModelLogEntry.objects.bulk_create(
        ModelLogEntry(
            content_type=ContentType.objects.get_for_model(Expert),
            object_id=str(expert.pk),
            label=expert.name,
            action=entry.action,
            data=entry.data,
            timestamp=entry.timestamp,
            user_id=entry.user_id,
            uuid=entry.uuid,
            content_changed=entry.content_changed,
        )
        for entry in entries
    )


def _parse(value: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if value else None
    except ValueError:
        return None


def _decide_with_reason(
    *,
    application: ExpertApplication,
    reviewer: User,
    reason: str,
    status: str,
    action: str,
    template: str,
    statuses: tuple,
) -> ExpertApplication:
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError(
            _("Say why the application is rejected or what must change.")
        )
    with transaction.atomic():
        application = _decision_start(application, statuses)
        application.status = status
        application.reason = reason
        application.decided_at = timezone.now()
        application.decided_by = reviewer
        application.save()
        _log(application, action, reviewer, reason=reason)
        _email_applicant(application, template)
    return application


def application_reject(
    *, application: ExpertApplication, reviewer: User, reason: str
) -> ExpertApplication:
    """A reviewer rejects an open application, saying why (required).

    After: rejected with the reason, logged, the applicant e-mailed. For a
    change, the expert keeps the verified values. Refused once decided."""
    return _decide_with_reason(
        application=application,
        reviewer=reviewer,
        reason=reason,
        status=ExpertApplication.Status.REJECTED,
        action=LOG_REJECTED,
        template="rejected",
        statuses=ExpertApplication.OPEN_STATUSES,
    )


def application_request_changes(
    *, application: ExpertApplication, reviewer: User, reason: str
) -> ExpertApplication:
    """A reviewer asks the applicant to change a submitted application, saying
    what (required). After: changes requested with the reason, logged, the
    applicant e-mailed with a link to edit it. Refused unless submitted."""
    return _decide_with_reason(
        application=application,
        reviewer=reviewer,
        reason=reason,
        status=ExpertApplication.Status.CHANGES_REQUESTED,
        action=LOG_CHANGES_REQUESTED,
        template="changes_requested",
        statuses=(ExpertApplication.Status.SUBMITTED,),
    )


def open_applications_count() -> int:
    """How many applications wait for a reviewer (for the admin dashboard)."""
    return ExpertApplication.objects.filter(
        status=ExpertApplication.Status.SUBMITTED
    ).count()

"""Applying to the pool: submitting, resubmitting after "changes requested"
and withdrawing an application."""

from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.models import User
from talentpool.applications.services.base import (
    LOG_SUBMITTED,
    LOG_WITHDRAWN,
    ApplicationError,
    _email_applicant,
    _log,
)
from talentpool.applications.services.consent import CONSENT_WORDING
from talentpool.applications.services.profile import VERIFIED_FIELDS, _checked
from talentpool.models import Expert, ExpertApplication


def _open_application(user: User) -> ExpertApplication | None:
    return (
        ExpertApplication.objects.filter(
            applicant=user, status__in=ExpertApplication.OPEN_STATUSES
        )
        .order_by("-submitted_at")
        .first()
    )


def _consent_data(consent: bool) -> dict[str, Any]:
    if not consent:
        return {"publication_consent": False}
    return {
        "publication_consent": True,
        "consent_wording": str(CONSENT_WORDING),
        "consent_at": timezone.now().isoformat(),
    }


def application_submit(
    *, user: User, data: dict[str, Any], consent: bool
) -> ExpertApplication:
    """A signed-in user applies to join the pool.

    Before: the user has no expert profile and no open application. The data
    is checked first (ApplicationError, nothing written). After: one
    submitted application of kind "new" with the checked data and, if
    `consent`, the consent with its wording and time; logged; the applicant
    is e-mailed. Not idempotent: a second call is refused (one open
    application per user, also a database constraint).
    """
    if Expert.objects.filter(user=user).exists():
        raise ApplicationError(
            _("You are already in the talent pool: edit your expert profile instead.")
        )
    clean = _checked(data)
    try:
        with transaction.atomic():
            application = ExpertApplication.objects.create(
                kind=ExpertApplication.Kind.NEW,
                applicant=user,
                data={**clean, **_consent_data(consent)},
                submitted_at=timezone.now(),
            )
            _log(application, LOG_SUBMITTED, user)
            _email_applicant(application, "submitted")
    except IntegrityError as error:
        raise ApplicationError(_("You already have an application open.")) from error
    return application


def application_resubmit(
    *,
    application: ExpertApplication,
    user: User,
    data: dict[str, Any],
    consent: bool | None = None,
) -> ExpertApplication:
    """The applicant sends a corrected application after "changes requested".

    After: status submitted again with the new (checked) data and a new
    submission time; the reviewer's reason stays in the log; the applicant
    is e-mailed. For a change, `consent` is ignored (consent is given on the
    profile page). Refused for another user or any other status.
    """
    clean = _checked(data, expert=application.expert)
    with transaction.atomic():
        application = ExpertApplication.objects.select_for_update(of=("self",)).get(
            pk=application.pk
        )
        if application.applicant_id != user.pk:
            raise ApplicationError(_("This is not your application."))
        if application.status != ExpertApplication.Status.CHANGES_REQUESTED:
            raise ApplicationError(
                _("Only an application with changes requested can be sent again.")
            )
        if application.kind == ExpertApplication.Kind.CHANGE:
            clean = {key: clean[key] for key in VERIFIED_FIELDS}
        else:
            clean.update(_consent_data(bool(consent)))
        application.data = clean
        application.status = ExpertApplication.Status.SUBMITTED
        application.reason = ""
        application.submitted_at = timezone.now()
        application.save()
        _log(application, LOG_SUBMITTED, user, resubmitted=True)
        _email_applicant(application, "submitted")
    return application


def application_withdraw(
    *, application: ExpertApplication, user: User
) -> ExpertApplication:
    """The applicant withdraws an open application.

    After: status withdrawn, logged. Withdrawing one already withdrawn
    changes nothing (may run twice); any other closed status is refused."""
    with transaction.atomic():
        application = ExpertApplication.objects.select_for_update(of=("self",)).get(
            pk=application.pk
        )
        if application.applicant_id != user.pk:
            raise ApplicationError(_("This is not your application."))
        if application.status == ExpertApplication.Status.WITHDRAWN:
            return application
        if not application.is_open:
            raise ApplicationError(_("This application is already decided."))
        application.status = ExpertApplication.Status.WITHDRAWN
        application.save(update_fields=["status", "updated_at"])
        _log(application, LOG_WITHDRAWN, user)
    return application

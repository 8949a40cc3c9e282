"""What deleting an account (portal.services.user_delete, docs/privacy.md)
does to the talent pool: the publication consent is withdrawn (consent.py),
and the applications keep only what the office's record needs.

The applications cannot go: they are the verification history of the
expert profiles the office keeps (the applicant is PROTECT, so the account
stays as a nameless placeholder). What they carried is not all needed:

- an application still open (waiting for review, or changes requested) is
  withdrawn: nobody will review it, and it proposed nothing that was ever
  verified. Its proposed profile (`data`) is erased;
- a rejected or withdrawn application keeps its bare record (kind, status,
  dates, who decided, the reviewer's reason): the office's decision. Its
  proposed profile is erased: it was never verified and published;
- an approved application keeps what the reviewer verified
  (VERIFIED_FIELDS: name, categories, organisation, qualifications with
  licence numbers, talent tier, years of practice) and the publication
  consent it carried (given or not, the wording and the time: the proof of
  consent PIPL asks the office to be able to show). The contact details,
  biography and the other unverified fields are erased: the expert profile
  holds what is current.

The labels of the erased applications' log entries (the applicant's name)
are rewritten without it.
"""

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import transaction

from wagtail.models import ModelLogEntry

from portal.models import User
from talentpool.applications.services.base import LOG_WITHDRAWN, _log
from talentpool.applications.services.consent import (
    consent_withdraw_on_account_deletion,
)
from talentpool.applications.services.profile import VERIFIED_FIELDS
from talentpool.models import ExpertApplication

#: What an approved application keeps after its applicant's account is
#: deleted: the verified fields and the evidence of consent.
KEPT_WHEN_APPROVED = (
    *VERIFIED_FIELDS,
    "publication_consent",
    "consent_wording",
    "consent_at",
)


def _kept(application: ExpertApplication) -> dict[str, Any]:
    if application.status != ExpertApplication.Status.APPROVED:
        return {}
    return {
        key: value
        for key, value in (application.data or {}).items()
        if key in KEPT_WHEN_APPROVED
    }


def applications_erase_on_account_deletion(*, user: User) -> int:
    """The applicant's account is being deleted. After, in the caller's
    transaction: open applications withdrawn (logged, with
    ``account_deleted``); every application's proposed profile reduced to
    what the office keeps (the module's docstring); the log entries of the
    applications no longer naming the applicant. Returns how many
    applications changed. May run twice: a second run changes nothing."""
    changed = 0
    with transaction.atomic():
        applications = list(
            ExpertApplication.objects.select_for_update(of=("self",))
            .filter(applicant=user)
            .order_by("pk")
        )
        content_type = ContentType.objects.get_for_model(ExpertApplication)
        for application in applications:
            fields: list[str] = []
            if application.is_open:
                application.status = ExpertApplication.Status.WITHDRAWN
                fields.append("status")
            kept = _kept(application)
            if kept != application.data:
                application.data = kept
                fields.append("data")
            if not fields:
                continue
            application.save(update_fields=[*fields, "updated_at"])
            if "status" in fields:
                _log(application, LOG_WITHDRAWN, user, account_deleted=True)
            if application.status != ExpertApplication.Status.APPROVED:
                ModelLogEntry.objects.filter(
                    content_type=content_type, object_id=str(application.pk)
                ).update(label=str(application))
            changed += 1
    return changed


def talent_pool_erase_on_account_deletion(*, user: User) -> None:
    """The talent pool's erase step (portal.privacy, registered by
    talentpool.apps): the publication consent withdrawn, then the
    applications reduced (applications_erase_on_account_deletion)."""
    consent_withdraw_on_account_deletion(user=user)
    applications_erase_on_account_deletion(user=user)

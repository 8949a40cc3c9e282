"""Consent to publication: the wording the expert agrees to, and giving or
withdrawing it on "my expert profile"."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wagtail.log_actions import log

from portal.models import User
from talentpool.applications.services.base import (
    LOG_CONSENT_GIVEN,
    LOG_CONSENT_WITHDRAWN,
    ApplicationError,
)
from talentpool.models import Expert, ExpertConsent

#: The wording the expert agrees to; stored with each consent as shown.
CONSENT_WORDING = gettext_lazy(
    "I agree that my public profile (name, categories, IP types, services, "
    "industries, district, organisation, languages, years of practice, talent "
    "tier, qualifications with licence numbers and biography) is published in "
    "the talent pool and its API. My e-mail and phone are never published. I "
    "can withdraw this consent at any time on my expert profile page, and the "
    "profile is then hidden at once."
)


def _consent_record(
    *, expert: Expert, user: User, given: bool, wording: str, at: datetime
) -> ExpertConsent:
    consent = ExpertConsent.objects.create(
        expert=expert,
        kind=ExpertConsent.Kind.PUBLICATION,
        given=given,
        wording=wording,
        user=user,
        recorded_at=at,
    )
    expert.publication_consent_at = at if given else None
    expert.save(update_fields=["publication_consent_at", "updated_at"])
    log(
        instance=expert,
        action=LOG_CONSENT_GIVEN if given else LOG_CONSENT_WITHDRAWN,
        user=user,
        data={"consent": consent.pk},
    )
    return consent


def consent_give(*, expert: Expert, user: User) -> Expert:
    """The expert agrees to publication, with the wording shown
    (CONSENT_WORDING in the active language). After: a consent row (given),
    publication_consent_at set, logged; the expert is listed if otherwise
    listable. Giving it again while in force changes nothing."""
    with transaction.atomic():
        expert = Expert.objects.select_for_update(of=("self",)).get(pk=expert.pk)
        if expert.user_id != user.pk:
            raise ApplicationError(_("This is not your expert profile."))
        if expert.publication_consent_at is None:
            _consent_record(
                expert=expert,
                user=user,
                given=True,
                wording=str(CONSENT_WORDING),
                at=timezone.now(),
            )
    return expert


def consent_withdraw(*, expert: Expert, user: User) -> Expert:
    """The expert withdraws consent to publication. After: a consent row
    (withdrawn), publication_consent_at cleared, so the profile leaves the
    search, the API and its public page at once; logged. Withdrawing when
    not in force changes nothing."""
    with transaction.atomic():
        expert = Expert.objects.select_for_update(of=("self",)).get(pk=expert.pk)
        if expert.user_id != user.pk:
            raise ApplicationError(_("This is not your expert profile."))
        if expert.publication_consent_at is not None:
            _consent_record(
                expert=expert,
                user=user,
                given=False,
                wording=str(CONSENT_WORDING),
                at=timezone.now(),
            )
    return expert

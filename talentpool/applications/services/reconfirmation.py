"""The yearly reconfirmation: the expert confirms the profile is current;
the daily sweep asks those due and hides those who did not answer."""

import logging
from datetime import datetime, timedelta

from dateutil.relativedelta import relativedelta

from django.db import transaction
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from wagtail.log_actions import log

from portal.models import User
from talentpool.applications.services.base import (
    LOG_LAPSED,
    LOG_RECONFIRMATION_REQUESTED,
    LOG_RECONFIRMED,
    ApplicationError,
    _send,
)
from talentpool.models import Expert

# The same logger as before these services were a package.
logger = logging.getLogger("talentpool.applications.services")

ASK_AFTER = relativedelta(months=11)
LAPSE_AFTER = relativedelta(months=12)
#: The least time between the request to reconfirm and the lapse.
LAPSE_NOTICE = timedelta(days=30)


def expert_reconfirm(*, expert: Expert, user: User) -> Expert:
    """The expert (or staff on the expert's behalf) confirms the profile is
    current. After: last_confirmed_at now, the request and any lapse
    cleared (a lapsed expert is listed again), logged. May run twice."""
    with transaction.atomic():
        expert = Expert.objects.select_for_update(of=("self",)).get(pk=expert.pk)
        if expert.user_id != user.pk and not user.has_perm("talentpool.change_expert"):
            raise ApplicationError(_("This is not your expert profile."))
        was_lapsed = expert.lapsed_at is not None
        expert.last_confirmed_at = timezone.now()
        expert.reconfirmation_requested_at = None
        expert.lapsed_at = None
        expert.save(
            update_fields=[
                "last_confirmed_at",
                "reconfirmation_requested_at",
                "lapsed_at",
                "updated_at",
            ]
        )
        log(
            instance=expert,
            action=LOG_RECONFIRMED,
            user=user,
            data={"was_lapsed": was_lapsed},
        )
    return expert


def _confirmed_since() -> Coalesce:
    return Coalesce("last_confirmed_at", "verified_at", "created_at")


def _expert_address(expert: Expert) -> tuple[str, User | None]:
    if expert.user is not None and expert.user.email:
        return expert.user.email, expert.user
    return expert.email, None


def reconfirmation_sweep(*, now: datetime | None = None) -> tuple[int, int]:
    """Ask experts to reconfirm, and hide those who did not (daily, beat).

    Verified, public, not lapsed experts whose last confirmation (else
    verification, else creation) is over 11 months old and who were not
    asked since are e-mailed (reconfirmation_requested_at set). Those over
    12 months who were asked at least LAPSE_NOTICE ago lapse: lapsed_at set,
    hidden from search, the API and the profile page, e-mailed. Each expert
    in its own transaction, rechecked under a row lock, so two sweeps never
    ask twice. Returns (asked, lapsed); a second run returns (0, 0).
    """
    now = now or timezone.now()
    base = Expert.objects.annotate(since=_confirmed_since()).filter(
        verification_status=Expert.Verification.VERIFIED,
        status=Expert.Status.PUBLIC,
        lapsed_at__isnull=True,
    )
    to_ask = base.filter(
        since__lt=now - ASK_AFTER, reconfirmation_requested_at__isnull=True
    )
    to_lapse = base.filter(
        since__lt=now - LAPSE_AFTER,
        reconfirmation_requested_at__lte=now - LAPSE_NOTICE,
    )
    asked = lapsed = 0
    for pk in list(to_ask.values_list("pk", flat=True)):
        with transaction.atomic():
            expert = (
                to_ask.select_for_update(of=("self",))
                .select_related("user")
                .filter(pk=pk)
                .first()
            )
            if expert is None:
                continue
            expert.reconfirmation_requested_at = now
            expert.save(update_fields=["reconfirmation_requested_at", "updated_at"])
            address, user = _expert_address(expert)
            _send(
                template="reconfirm",
                to=address,
                user=user,
                context={"expert": expert, "has_account": user is not None},
            )
            log(
                instance=expert,
                action=LOG_RECONFIRMATION_REQUESTED,
                user=None,
                data={"sent": bool(address)},
            )
            asked += 1
    for pk in list(to_lapse.values_list("pk", flat=True)):
        with transaction.atomic():
            expert = (
                to_lapse.select_for_update(of=("self",))
                .select_related("user")
                .filter(pk=pk)
                .first()
            )
            if expert is None:
                continue
            expert.lapsed_at = now
            expert.save(update_fields=["lapsed_at", "updated_at"])
            address, user = _expert_address(expert)
            _send(
                template="lapsed",
                to=address,
                user=user,
                context={"expert": expert, "has_account": user is not None},
            )
            log(instance=expert, action=LOG_LAPSED, user=None, data={})
            lapsed += 1
    if asked or lapsed:
        logger.info("Reconfirmation sweep: %s asked, %s lapsed", asked, lapsed)
    return asked, lapsed

"""Writes of invitations: staff invite imported experts to claim their
profile, and an expert claims it with an account, confirms it and gives
consent online. Refused calls raise InvitationError (a TalentPoolError) with
a message in the active language, and change nothing."""

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from wagtail.log_actions import log

from portal.models import User
from talentpool.invitations.links import (
    CLAIM_MAX_AGE,
    LinkInvalid,
    absolute_url,
    bilingual_email,
    claim_read,
    claim_token,
    same_address,
)
from talentpool.models import Expert
from talentpool.models.experts import ExpertStatus, Verification
from talentpool.services import TalentPoolError

logger = logging.getLogger(__name__)

#: Wagtail log actions (registered in talentpool/wagtail_hooks.py).
LOG_INVITED = "talentpool.expert_invited"
LOG_CLAIMED = "talentpool.expert_claimed"

#: Statuses staff set to take an entry out of the pool.
BARRED_STATUSES = (ExpertStatus.SUSPENDED, ExpertStatus.REMOVED)


class InvitationError(TalentPoolError):
    """A refused invitation or claim; nothing was changed."""


@dataclass
class InvitationPlan:
    """Who of the experts asked for would be (or were) invited, and who not
    and why."""

    invite: list[Expert] = field(default_factory=list)
    claimed: list[Expert] = field(default_factory=list)
    no_email: list[Expert] = field(default_factory=list)
    #: Suspended or removed by staff, or refused at verification: nobody
    #: is invited to claim an entry the office has barred.
    barred: list[Expert] = field(default_factory=list)
    unknown: int = 0

    @property
    def skipped(self) -> int:
        return len(self.claimed) + len(self.no_email) + len(self.barred) + self.unknown

    def sort(self, expert: Expert) -> bool:
        """File the expert under the list it belongs to; True when it is
        to be invited."""
        if expert.user_id is not None:
            self.claimed.append(expert)
        elif _is_barred(expert):
            self.barred.append(expert)
        elif not expert.email:
            self.no_email.append(expert)
        else:
            self.invite.append(expert)
            return True
        return False


def _ids(expert_ids: Iterable[int | str]) -> list[int]:
    """The ids that are whole numbers, once each, in order."""
    seen: dict[int, None] = {}
    for value in expert_ids:
        try:
            number = int(value)
        except (TypeError, ValueError):
            continue
        if 0 < number < 2**63:
            seen.setdefault(number, None)
    return list(seen)


def invitation_plan(expert_ids: Iterable[int | str]) -> InvitationPlan:
    """What invite_experts would do with these ids now: the unclaimed
    experts with an e-mail address are invited; those with an account
    (claimed), suspended, removed or rejected (barred) or without an
    address are skipped, as are unknown ids."""
    ids = _ids(expert_ids)
    plan = InvitationPlan()
    found = list(Expert.objects.filter(pk__in=ids).order_by("name", "pk"))
    for expert in found:
        plan.sort(expert)
    plan.unknown = len(ids) - len(found)
    return plan


def invite_experts(*, expert_ids: Iterable[int | str], by: User) -> InvitationPlan:
    """Invite these experts to claim their profile.

    Each unclaimed expert with an e-mail address is sent (through the
    outbox, on commit) an e-mail in Chinese and English with a signed link
    to the claim page that expires after CLAIM_MAX_AGE; `invited_at` is set
    and the invitation is in the expert's history. Experts with an account
    or without an address, and unknown ids, are skipped (InvitationPlan
    says which). The rows are locked and checked again in one transaction,
    so an expert claimed meanwhile is skipped. Inviting again sends a new
    e-mail (the earlier link keeps working until it expires).
    """
    ids = _ids(expert_ids)
    now = timezone.now()
    with transaction.atomic():
        plan = InvitationPlan()
        locked = list(
            Expert.objects.select_for_update(of=("self",))
            .filter(pk__in=ids)
            .order_by("name", "pk")
        )
        for expert in locked:
            if not plan.sort(expert):
                continue
            expert.invited_at = now
            expert.save(update_fields=["invited_at", "updated_at"])
            log(instance=expert, action=LOG_INVITED, user=by)
            _email_invitation(expert)
        plan.unknown = len(ids) - len(locked)
    logger.info(
        "Invited %s experts (skipped %s) by user %s",
        len(plan.invite),
        plan.skipped,
        by.pk,
    )
    return plan


def _email_invitation(expert: Expert) -> None:
    from portal.services import email_enqueue

    token = claim_token(expert_id=expert.pk, email=expert.email)

    def context() -> dict:
        return {
            "expert": expert,
            "days": CLAIM_MAX_AGE.days,
            "url": absolute_url("contacts:invitations:claim", token=token),
        }

    email_enqueue(
        message=bilingual_email(
            template="talentpool/invitations/email/invitation",
            context=context,
            to=expert.email,
        )
    )


def _link_invalid() -> InvitationError:
    return InvitationError(
        _(
            "This invitation link is not valid: it was changed, it has expired, "
            "or the profile's e-mail address has changed since. Ask the "
            "portal's staff for a new invitation."
        )
    )


def invitation_expert(token: str) -> Expert:
    """The expert a claim link is for. Refused: a link altered or expired,
    an expert that does not exist, or one whose e-mail address is no longer
    the one the link was sent to."""
    try:
        expert_id, email = claim_read(token)
    except LinkInvalid as error:
        raise _link_invalid() from error
    expert = Expert.objects.filter(pk=expert_id).first()
    if expert is None or not same_address(expert.email, email):
        raise _link_invalid()
    if _is_barred(expert):
        raise _barred()
    return expert


def _is_barred(expert: Expert) -> bool:
    return expert.status in BARRED_STATUSES or (
        expert.verification_status == Verification.REJECTED
    )


def _barred() -> InvitationError:
    return InvitationError(
        _(
            "The portal's staff have taken this profile out of the talent pool, "
            "so it cannot be claimed. If you think this is a mistake, ask the "
            "portal's staff."
        )
    )


def _claimed_by_another() -> InvitationError:
    return InvitationError(
        _(
            "This profile is already linked to another account. If it is yours, "
            "ask the portal's staff."
        )
    )


def _user_has_profile() -> InvitationError:
    return InvitationError(
        _(
            "Your account is already linked to another expert profile. Sign in "
            "with another account, or ask the portal's staff."
        )
    )


def expert_claim(*, token: str, user: User) -> Expert:
    """Link the expert a claim link is for to the user's account.

    Refused (nothing written): a link not valid (invitation_expert); an
    expert already linked to another account; one staff have barred
    (suspended, removed or rejected) since the link was sent; a user already linked to
    another expert. The expert row is locked while
    checking, and the one-to-one column refuses a concurrent second link.
    After: expert.user is the user, the claim in the expert's history.
    Claiming again with the same account changes nothing.
    """
    expert = invitation_expert(token)
    try:
        with transaction.atomic():
            locked = Expert.objects.select_for_update(of=("self",)).get(pk=expert.pk)
            if locked.user_id == user.pk:
                return locked
            if locked.user_id is not None:
                raise _claimed_by_another()
            if _is_barred(locked):
                raise _barred()
            if Expert.objects.filter(user=user).exists():
                raise _user_has_profile()
            locked.user = user
            locked.save(update_fields=["user", "updated_at"])
            log(instance=locked, action=LOG_CLAIMED, user=user)
    except IntegrityError as error:
        # Another claim linked this account at the same moment.
        raise _user_has_profile() from error
    logger.info("Expert %s claimed by user %s", locked.pk, user.pk)
    return locked


def invitation_accept(*, token: str, user: User, consent: bool) -> Expert:
    """The expert claims the profile, confirms it is correct and, if
    `consent`, gives consent to publication online, in one transaction.

    After: the expert linked to the account (expert_claim), confirmed now
    (expert_reconfirm: a lapsed expert is listed again), and with
    `consent` a consent row given online by the account (consent_give). A
    verified, public expert is then listed, and reachable through the
    account. Refused: as expert_claim; nothing is written.
    """
    from talentpool.applications.services import (
        ApplicationError,
        consent_give,
        expert_reconfirm,
    )

    try:
        with transaction.atomic():
            expert = expert_claim(token=token, user=user)
            expert = expert_reconfirm(expert=expert, user=user)
            if consent:
                expert = consent_give(expert=expert, user=user)
    except ApplicationError as error:
        raise InvitationError(str(error)) from error
    return Expert.objects.get(pk=expert.pk)

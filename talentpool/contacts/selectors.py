"""Reads for enterprises and contact requests: what a page shows, in a
fixed number of queries whatever the number of requests."""

from django.db.models import QuerySet

from portal.models import User
from talentpool.models import ContactRequest, Enterprise, EnterpriseMember, Expert


def enterprise_of(user: User) -> Enterprise | None:
    """The enterprise the user acts for, or None (also for anonymous users)."""
    if not user.is_authenticated:
        return None
    membership = (
        EnterpriseMember.objects.select_related(
            "enterprise__district", "enterprise__industry"
        )
        .filter(user=user)
        .first()
    )
    return membership.enterprise if membership else None


def expert_of(user: User) -> Expert | None:
    """The expert profile linked to the user's account, or None."""
    if not user.is_authenticated:
        return None
    return Expert.objects.filter(user=user).first()


def sent_requests(*, enterprise: Enterprise) -> QuerySet[ContactRequest]:
    """The enterprise's requests, newest first, with what the list shows."""
    return ContactRequest.objects.filter(enterprise=enterprise).select_related(
        "expert__user", "ip_type", "industry", "sender"
    )


def received_requests(*, expert: Expert) -> QuerySet[ContactRequest]:
    """The requests to an expert, newest first, with what the list shows."""
    return ContactRequest.objects.filter(expert=expert).select_related(
        "enterprise__district", "enterprise__industry", "ip_type", "industry"
    )


def is_reachable(expert: Expert) -> bool:
    """talentpool.models.reachable_q for an expert already loaded (no
    query): accepting requests, with an account or an e-mail address. The
    templates spell the same test (talentpool/contacts/reach_badge.html)."""
    return expert.accepting_requests and (
        expert.user_id is not None or bool(expert.email)
    )


def contact_refusal(*, user: User, expert: Expert) -> str | None:
    """Why the user cannot send this expert a request now, as a code the
    templates explain (None: they can). Checks what the send service
    checks, except the daily cap and a pending request, which it explains
    when the form is sent."""
    if not expert.accepting_requests:
        return "paused"
    if not is_reachable(expert):
        return "unreachable"
    if not user.is_authenticated:
        return "anonymous"
    if expert.user_id == user.pk:
        return "self"
    enterprise = enterprise_of(user)
    if enterprise is None:
        return "no_enterprise"
    if not enterprise.is_verified:
        return "not_verified"
    return None

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


def personal_data(user: User) -> dict:
    """Contact requests of `user` ("Download my data", portal.privacy), in
    two queries whatever their number. Sent (as an enterprise's member): the
    request as written, and which expert profile it went to by number only.
    Received (as an expert): the request, with the enterprise's name (an
    organisation's, from its public registration) but not who at the
    enterprise sent it: that person's data is theirs to ask for."""
    fields = (
        "need",
        "ip_type__code",
        "industry__code",
        "deadline",
        "status",
        "no_conflict_declared_at",
        "response_note",
        "responded_at",
        "created_at",
    )
    return {
        "enterprise": (
            EnterpriseMember.objects.filter(user=user)
            .values("enterprise__name", "joined_at")
            .first()
        ),
        "contact_requests_sent": list(
            ContactRequest.objects.filter(sender=user)
            .order_by("created_at", "pk")
            .values("enterprise__name", "expert_id", *fields)
        ),
        "contact_requests_received": list(
            ContactRequest.objects.filter(expert__user=user)
            .order_by("created_at", "pk")
            .values("enterprise__name", *fields)
        ),
    }

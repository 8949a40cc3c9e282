"""Reads of subscriptions and announcements: recipients and delivery reports."""

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.db.models.functions import Lower

from portal.models import OutgoingEmail, User
from subscriptions.models import (
    Announcement,
    AnnouncementDelivery,
    EmailSubscriber,
    Subscription,
    Topic,
)


def subscription_of(*, user: User) -> Subscription | None:
    """The user's subscription row (active or withdrawn), or None."""
    return Subscription.objects.filter(user=user).first()


def topics_offered() -> QuerySet[Topic]:
    return Topic.objects.filter(is_active=True)


def active_subscriptions() -> QuerySet[Subscription]:
    """Subscriptions with consent in force, of users who can receive e-mail."""
    return Subscription.objects.filter(
        withdrawn_at__isnull=True, user__is_active=True
    ).exclude(user__email="")


def active_email_subscribers() -> QuerySet[EmailSubscriber]:
    """Subscribers without an account who confirmed and have not withdrawn:
    an unconfirmed address is never among them."""
    return EmailSubscriber.objects.filter(
        confirmed_at__isnull=False, withdrawn_at__isnull=True
    )


def _chose(
    model: type[Subscription] | type[EmailSubscriber], announcement: Announcement
) -> Q:
    """Rows of `model` (Subscription or EmailSubscriber, OuterRef pk) that
    chose a topic of the announcement and, when it names audience groups,
    one of them or none."""
    through_topics = model.topics.through
    through_audiences = model.audiences.through
    owner = "subscription" if model is Subscription else "emailsubscriber"
    topic_ids = list(announcement.topics.values_list("pk", flat=True))
    audience_ids = list(announcement.audiences.values_list("pk", flat=True))
    condition = Q(
        Exists(
            through_topics.objects.filter(
                **{owner: OuterRef("pk"), "topic__in": topic_ids}
            )
        )
    )
    if audience_ids:
        chose = through_audiences.objects.filter(**{owner: OuterRef("pk")})
        condition &= ~Exists(chose) | Exists(chose.filter(audience__in=audience_ids))
    return condition


def announcement_subscriber_recipients(
    *, announcement: Announcement
) -> QuerySet[EmailSubscriber]:
    """The subscribers without an account an announcement goes to (as
    announcement_recipients chooses users), less any whose address is a
    user recipient's: one e-mail per address."""
    user_addresses = (
        announcement_recipients(announcement=announcement)
        .order_by()
        .annotate(address=Lower("email"))
        .values("address")
    )
    return (
        active_email_subscribers()
        .filter(_chose(EmailSubscriber, announcement))
        .exclude(email__in=user_addresses)
        .order_by("pk")
    )


def announcement_recipients(*, announcement: Announcement) -> QuerySet[User]:
    """The users an announcement goes to: an active subscription to at least
    one of its topics and, when it names audience groups, a subscription to
    one of them or to none (no group chosen means every group)."""
    through_topics = Subscription.topics.through
    through_audiences = Subscription.audiences.through
    topic_ids = list(announcement.topics.values_list("pk", flat=True))
    audience_ids = list(announcement.audiences.values_list("pk", flat=True))
    subscriptions = active_subscriptions().filter(
        Exists(
            through_topics.objects.filter(
                subscription=OuterRef("pk"), topic__in=topic_ids
            )
        )
    )
    if audience_ids:
        chose = through_audiences.objects.filter(subscription=OuterRef("pk"))
        subscriptions = subscriptions.filter(
            ~Exists(chose) | Exists(chose.filter(audience__in=audience_ids))
        )
    return User.objects.filter(
        pk__in=subscriptions.values("user_id"), is_active=True
    ).order_by("pk")


def announcement_recipient_count(*, announcement: Announcement) -> int:
    """How many it would go to now: users and subscribers without an account."""
    return (
        announcement_recipients(announcement=announcement).count()
        + announcement_subscriber_recipients(announcement=announcement).count()
    )


@dataclass(frozen=True)
class DeliveryReport:
    """What became of an announcement's e-mails."""

    recipients: int
    pending: int  # not yet in the outbox, or in it and not yet delivered
    sent: int
    failed: int
    skipped: int  # unsubscribed or deactivated before their e-mail was written
    unsubscribed: int  # since it was sent (through its link or the settings)


def announcement_report(*, announcement: Announcement) -> DeliveryReport:
    """The counts of the delivery report, in one query. An e-mail handed to
    the outbox is pending, sent or failed as its outbox row is, and sent once
    the outbox has purged that row."""
    queued = Q(status=AnnouncementDelivery.Status.QUEUED)
    # Through this e-mail's link, or on the settings page since it was sent.
    unsubscribed = (
        Q(unsubscribed_at__isnull=False)
        | Q(user__subscription__withdrawn_at__gte=F("announcement__send_started_at"))
        | Q(subscriber__withdrawn_at__gte=F("announcement__send_started_at"))
    )
    counts = AnnouncementDelivery.objects.filter(announcement=announcement).aggregate(
        recipients=Count("pk"),
        waiting=Count("pk", filter=Q(status=AnnouncementDelivery.Status.PENDING)),
        in_outbox=Count(
            "pk", filter=queued & Q(email__status=OutgoingEmail.Status.PENDING)
        ),
        # The outbox deletes only sent e-mails (after its retention period):
        # a queued delivery whose e-mail is gone was sent.
        sent=Count(
            "pk",
            filter=queued
            & (Q(email__status=OutgoingEmail.Status.SENT) | Q(email__isnull=True)),
        ),
        failed=Count(
            "pk", filter=queued & Q(email__status=OutgoingEmail.Status.FAILED)
        ),
        skipped=Count("pk", filter=Q(status=AnnouncementDelivery.Status.SKIPPED)),
        unsubscribed=Count("pk", filter=unsubscribed),
    )
    return DeliveryReport(
        recipients=counts["recipients"],
        pending=counts["waiting"] + counts["in_outbox"],
        sent=counts["sent"],
        failed=counts["failed"],
        skipped=counts["skipped"],
        unsubscribed=counts["unsubscribed"],
    )


def announcement_failures(
    *, announcement: Announcement
) -> QuerySet[AnnouncementDelivery]:
    """The deliveries whose e-mail failed, with the address and the error."""
    return (
        AnnouncementDelivery.objects.filter(
            announcement=announcement, email__status=OutgoingEmail.Status.FAILED
        )
        .select_related("user", "subscriber", "email")
        .order_by("pk")
    )


def announcement_deliveries(
    *, announcement: Announcement
) -> QuerySet[AnnouncementDelivery]:
    """Every delivery of an announcement, for the CSV export."""
    return (
        AnnouncementDelivery.objects.filter(announcement=announcement)
        .select_related("user", "subscriber", "email")
        .order_by("pk")
    )


def email_subscriber_state(subscriber: EmailSubscriber) -> str:
    """The state of a subscriber without an account: "pending" (the
    confirmation link not followed yet), "confirmed" (receiving
    announcements) or "withdrawn" (unsubscribed)."""
    return _state(
        confirmed_at=subscriber.confirmed_at, withdrawn_at=subscriber.withdrawn_at
    )


def _state(*, confirmed_at: object, withdrawn_at: object) -> str:
    if withdrawn_at is not None:
        return "withdrawn"
    if confirmed_at is None:
        return "pending"
    return "confirmed"


def _email_subscribers_data(
    subscribers: QuerySet[EmailSubscriber],
) -> list[dict[str, Any]]:
    """The records of these subscribers without an account, for a download:
    address, language, state and times, chosen topics and audience groups
    (codes), and the announcements sent to them. Four queries, whatever the
    number of rows."""
    rows = list(
        subscribers.order_by("created_at", "pk").values(
            "id",
            "email",
            "language",
            "created_at",
            "confirmation_sent_at",
            "confirmed_at",
            "withdrawn_at",
            "updated_at",
        )
    )
    ids = [row["id"] for row in rows]
    topics: dict[int, list[str]] = {}
    audiences: dict[int, list[str]] = {}
    received: dict[int, list[dict[str, Any]]] = {}
    if ids:
        for owner, code in (
            EmailSubscriber.topics.through.objects.filter(emailsubscriber_id__in=ids)
            .order_by("topic__sort_order", "topic__code")
            .values_list("emailsubscriber_id", "topic__code")
        ):
            topics.setdefault(owner, []).append(code)
        for owner, code in (
            EmailSubscriber.audiences.through.objects.filter(emailsubscriber_id__in=ids)
            .order_by("audience__code")
            .values_list("emailsubscriber_id", "audience__code")
        ):
            audiences.setdefault(owner, []).append(code)
        for delivery in (
            AnnouncementDelivery.objects.filter(subscriber_id__in=ids)
            .order_by("queued_at", "pk")
            .values(
                "subscriber_id",
                "announcement__subject",
                "status",
                "queued_at",
                "unsubscribed_at",
            )
        ):
            record: dict[str, Any] = dict(delivery)
            received.setdefault(record.pop("subscriber_id"), []).append(record)
    data: list[dict[str, Any]] = []
    for row in rows:
        record = dict(row)
        pk: int = record.pop("id")
        record["state"] = _state(
            confirmed_at=row["confirmed_at"], withdrawn_at=row["withdrawn_at"]
        )
        record["topics"] = topics.get(pk, [])
        record["audiences"] = audiences.get(pk, [])
        record["announcements_received"] = received.get(pk, [])
        data.append(record)
    return data


def email_subscriber_personal_data(subscriber: EmailSubscriber | None) -> dict:
    """What the portal holds about one subscriber without an account, for
    the download reached from their e-mail's signed link
    (subscriptions.views.subscriber_data); None when nothing is held any
    more (purged)."""
    from django.utils import timezone

    from portal.privacy import EXPORT_FORMAT

    found = (
        _email_subscribers_data(EmailSubscriber.objects.filter(pk=subscriber.pk))
        if subscriber is not None
        else []
    )
    return {
        "format": EXPORT_FORMAT,
        "generated_at": timezone.now(),
        "subscriber_without_account": found[0] if found else None,
    }


def personal_data(user: User) -> dict:
    """The subscription of `user` ("Download my data", portal.privacy):
    consent and withdrawal times, chosen topics and audience groups, and the
    announcements sent to them; and the subscriptions without an account
    made with one of the user's verified addresses (signed up before the
    account was opened, or before the address was added to it). At most
    eight queries, whatever the data."""
    from allauth.account.models import EmailAddress

    found = (
        Subscription.objects.filter(user=user)
        .values("consented_at", "withdrawn_at", "updated_at")
        .first()
    )
    subscription: dict | None = dict(found) if found is not None else None
    if subscription is not None:
        subscription["topics"] = list(
            Subscription.topics.through.objects.filter(
                subscription__user=user
            ).values_list("topic__code", flat=True)
        )
        subscription["audiences"] = list(
            Subscription.audiences.through.objects.filter(
                subscription__user=user
            ).values_list("audience__code", flat=True)
        )
    return {
        "subscription": subscription,
        "announcements_received": list(
            AnnouncementDelivery.objects.filter(user=user)
            .order_by("queued_at", "pk")
            .values(
                "announcement__subject",
                "email",
                "status",
                "queued_at",
                "unsubscribed_at",
            )
        ),
        "subscriptions_without_account": _email_subscribers_data(
            EmailSubscriber.objects.filter(
                email__in=EmailAddress.objects.filter(user=user, verified=True)
                .annotate(address=Lower("email"))
                .values("address")
            )
        ),
    }

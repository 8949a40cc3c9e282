"""Writes of subscriptions and announcements.

Sending an announcement (docs/decisions.md, decision 1): announcement_send writes one
AnnouncementDelivery row per recipient in one transaction and enqueues batch
tasks on commit; each batch (announcement_batch_send) turns its pending rows
into outbox e-mails in one transaction, so a row is written to the outbox at
most once however often a batch runs; announcement_sweep catches lost tasks.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from portal.mail import message_to_fields
from portal.models import Audience, OutgoingEmail, User
from subscriptions import selectors
from subscriptions.models import (
    Announcement,
    AnnouncementDelivery,
    Subscription,
    Topic,
)

#: Recipients per batch task: one outbox insert and one update per batch.
BATCH_SIZE = 500
#: A sending announcement older than this has its pending rows re-enqueued.
SWEEP_AFTER = timedelta(minutes=5)
UNSUBSCRIBE_SALT = "subscriptions.unsubscribe"


class SubscriptionError(Exception):
    """A refused change; the message is for the user, in their language."""


# --- subscriptions -----------------------------------------------------------------


def subscription_update(
    *, user: User, topics: list[Topic], audiences: list[Audience]
) -> Subscription | None:
    """Set what the user receives. With no topic it withdraws consent.

    Before: none, a withdrawn or an active subscription. After: an active
    subscription with exactly these choices; consented_at is now when it was
    not active before (a new consent), kept otherwise. Repeatable.
    """
    if not topics:
        return subscription_withdraw(user=user)
    now = timezone.now()
    with transaction.atomic():
        subscription = (
            Subscription.objects.select_for_update().filter(user=user).first()
        )
        if subscription is None:
            subscription = Subscription.objects.create(user=user, consented_at=now)
        elif subscription.withdrawn_at is not None:
            subscription.consented_at, subscription.withdrawn_at = now, None
            subscription.save(update_fields=["consented_at", "withdrawn_at"])
        else:
            subscription.save(update_fields=["updated_at"])
        subscription.topics.set(topics)
        subscription.audiences.set(audiences)
    return subscription


def subscription_withdraw(*, user: User) -> Subscription | None:
    """Withdraw the user's consent: nothing more is sent to them.

    Before: any. After: the subscription (if there was one) withdrawn, its
    choices cleared, withdrawn_at kept from the first withdrawal. Repeatable.
    """
    with transaction.atomic():
        subscription = (
            Subscription.objects.select_for_update().filter(user=user).first()
        )
        if subscription is None:
            return None
        if subscription.withdrawn_at is None:
            subscription.withdrawn_at = timezone.now()
            subscription.save(update_fields=["withdrawn_at", "updated_at"])
        subscription.topics.clear()
        subscription.audiences.clear()
    return subscription


def unsubscribe_token(*, user_id: int, delivery_id: int | None = None) -> str:
    """The signed token of a one-click unsubscribe link (no expiry: the link
    in an old e-mail still works)."""
    return signing.dumps([user_id, delivery_id], salt=UNSUBSCRIBE_SALT)


def unsubscribe_token_read(*, token: str) -> tuple[User, AnnouncementDelivery | None]:
    """The user (and the delivery) a token names; SubscriptionError when it is
    forged, damaged or names nobody."""
    try:
        user_id, delivery_id = signing.loads(token, salt=UNSUBSCRIBE_SALT)
        user = User.objects.get(pk=int(user_id))
    except (signing.BadSignature, ValueError, TypeError, User.DoesNotExist):
        raise SubscriptionError(
            _(
                "This unsubscribe link is not valid. Copy the whole link "
                "from the e-mail."
            )
        ) from None
    delivery = None
    if delivery_id is not None:
        delivery = AnnouncementDelivery.objects.filter(
            pk=delivery_id, user_id=user.pk
        ).first()
    return user, delivery


def subscription_unsubscribe(*, token: str) -> User:
    """One-click unsubscribe from an e-mail's link (no sign-in needed).

    Before: a valid token. After: the user's subscription withdrawn, and the
    delivery the link came from marked (the report counts it). A forged token
    raises SubscriptionError and changes nothing. Repeatable.
    """
    user, delivery = unsubscribe_token_read(token=token)
    with transaction.atomic():
        subscription_withdraw(user=user)
        if delivery is not None:
            AnnouncementDelivery.objects.filter(
                pk=delivery.pk, unsubscribed_at__isnull=True
            ).update(unsubscribed_at=timezone.now())
    return user


# --- announcements -----------------------------------------------------------------


def announcement_problems(*, announcement: Announcement) -> list[str]:
    """What keeps an announcement from being sent (empty when it can be)."""
    problems = []
    if not announcement.subject.strip():
        problems.append(_("The subject is empty."))
    if not announcement.body.strip():
        problems.append(_("The text is empty."))
    if bool(announcement.subject_en.strip()) != bool(announcement.body_en.strip()):
        problems.append(
            _("Give both the English subject and text, or neither of them.")
        )
    if announcement.pk is None or not announcement.topics.exists():
        problems.append(_("Choose at least one topic."))
    return problems


def announcement_send(*, announcement: Announcement, by: User | None) -> int:
    """Send a draft announcement to its recipients; returns their number.

    Before: a draft with a subject, a text, a topic and at least one
    recipient. After, in one transaction: one pending delivery per recipient,
    the announcement sending; batch tasks are enqueued on commit. Refused
    (SubscriptionError, nothing written): not a draft (a second send), a
    problem of announcement_problems, no recipient.
    """
    from subscriptions.tasks import send_announcement_batch

    with transaction.atomic():
        announcement = Announcement.objects.select_for_update().get(pk=announcement.pk)
        if announcement.status != Announcement.Status.DRAFT:
            raise SubscriptionError(
                _("This announcement was already sent; it is not sent again.")
            )
        problems = announcement_problems(announcement=announcement)
        if problems:
            raise SubscriptionError(" ".join(problems))
        user_ids = list(
            selectors.announcement_recipients(announcement=announcement).values_list(
                "pk", flat=True
            )
        )
        if not user_ids:
            raise SubscriptionError(
                _(
                    "Nobody has subscribed to these topics and audience groups: "
                    "there is no one to send it to."
                )
            )
        AnnouncementDelivery.objects.bulk_create(
            (
                AnnouncementDelivery(announcement=announcement, user_id=user_id)
                for user_id in user_ids
            ),
            batch_size=2000,
        )
        announcement.status = Announcement.Status.SENDING
        announcement.send_started_at = timezone.now()
        announcement.sent_by = by
        announcement.recipient_count = len(user_ids)
        if announcement.link_page is not None:
            announcement.link_url = announcement.link_page.get_full_url() or ""
        announcement.save()
        for first, last in _pending_ranges(announcement_id=announcement.pk):
            send_announcement_batch.delay_on_commit(announcement.pk, first, last)
    return len(user_ids)


def _pending_ranges(*, announcement_id: int) -> list[tuple[int, int]]:
    """(first pk, last pk) of each batch of the pending deliveries."""
    ids = list(
        AnnouncementDelivery.objects.filter(
            announcement_id=announcement_id,
            status=AnnouncementDelivery.Status.PENDING,
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return [
        (ids[n], ids[min(n + BATCH_SIZE, len(ids)) - 1])
        for n in range(0, len(ids), BATCH_SIZE)
    ]


@dataclass(frozen=True)
class _Text:
    """An announcement's e-mail in one language, the unsubscribe link left out."""

    language: str
    subject: str
    body: str  # with UNSUBSCRIBE_MARK where the link goes


UNSUBSCRIBE_MARK = "\x00unsubscribe\x00"


def announcement_text(*, announcement: Announcement, language: str) -> _Text:
    """The e-mail a recipient preferring `language` receives, rendered once
    (the per-recipient unsubscribe link is put in at UNSUBSCRIBE_MARK)."""
    language = announcement.language_for(language)
    subject, body = announcement.text_for(language)
    with translation.override(language):
        settings_url = settings.WAGTAILADMIN_BASE_URL.rstrip("/") + reverse(
            "subscriptions:settings"
        )
        rendered = render_to_string(
            "subscriptions/email/announcement_body.txt",
            {
                "body": body.strip(),
                "link_url": announcement.link_url
                or (
                    announcement.link_page.get_full_url()
                    if announcement.link_page is not None
                    else ""
                ),
                "settings_url": settings_url,
                "unsubscribe_url": UNSUBSCRIBE_MARK,
                "site_name": settings.WAGTAIL_SITE_NAME,
            },
        )
    return _Text(language=language, subject=subject.strip(), body=rendered)


def unsubscribe_url(*, token: str, language: str) -> str:
    with translation.override(language):
        return settings.WAGTAILADMIN_BASE_URL.rstrip("/") + reverse(
            "subscriptions:unsubscribe", args=[token]
        )


def announcement_message(
    *, text: _Text, to: str, user_id: int, delivery_id: int | None
) -> EmailMessage:
    """One recipient's e-mail, with RFC 8058 one-click unsubscribe headers."""
    url = unsubscribe_url(
        token=unsubscribe_token(user_id=user_id, delivery_id=delivery_id),
        language=text.language,
    )
    return EmailMessage(
        subject=text.subject,
        body=text.body.replace(UNSUBSCRIBE_MARK, url),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        headers={
            "List-Unsubscribe": f"<{url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )


def announcement_batch_send(*, announcement_id: int, first: int, last: int) -> int:
    """Write the outbox e-mails of one batch of deliveries; returns how many.

    Before: deliveries with pks first..last, some pending. After, in one
    transaction: each pending one queued with its outbox e-mail (in the
    recipient's language), or skipped when its user has since unsubscribed
    or been deactivated; their delivery is enqueued on commit, in the
    outbox's batches (portal.services.email_deliver_on_commit). Rows no
    longer pending (or locked by another worker) are left alone: running a
    batch twice sends nothing twice. The number of queries does not grow with
    the number of rows.
    """
    from portal.services import email_deliver_on_commit

    with transaction.atomic():
        announcement = (
            Announcement.objects.select_related("link_page")
            .filter(pk=announcement_id)
            .first()
        )
        if announcement is None:
            return 0
        still_subscribed = selectors.active_subscriptions().filter(
            user_id=OuterRef("user_id")
        )
        deliveries = list(
            AnnouncementDelivery.objects.select_for_update(
                skip_locked=True, of=("self",)
            )
            .filter(
                announcement_id=announcement_id,
                pk__gte=first,
                pk__lte=last,
                status=AnnouncementDelivery.Status.PENDING,
            )
            .select_related("user")
            .only("id", "user__id", "user__email", "user__language")
            .annotate(subscribed=Exists(still_subscribed))
            .order_by("pk")
        )
        if not deliveries:
            return 0
        texts: dict[str, _Text] = {}
        queued: list[AnnouncementDelivery] = []
        outgoing: list[OutgoingEmail] = []
        skip = []
        for delivery in deliveries:
            if not delivery.subscribed:
                skip.append(delivery.pk)
                continue
            language = announcement.language_for(
                delivery.user.language or settings.LANGUAGE_CODE
            )
            if language not in texts:
                texts[language] = announcement_text(
                    announcement=announcement, language=language
                )
            message = announcement_message(
                text=texts[language],
                to=delivery.user.email,
                user_id=delivery.user.pk,
                delivery_id=delivery.pk,
            )
            queued.append(delivery)
            outgoing.append(OutgoingEmail(**message_to_fields(message)))
        now = timezone.now()
        # One insert for the batch (rather than email_enqueue per message):
        # a batch of 500 is then one statement and one delivery task.
        emails = OutgoingEmail.objects.bulk_create(outgoing)
        for queued_delivery, email in zip(queued, emails, strict=True):
            queued_delivery.email = email
        if queued:
            AnnouncementDelivery.objects.bulk_update(
                queued, ["email"], batch_size=BATCH_SIZE
            )
            AnnouncementDelivery.objects.filter(
                pk__in=[delivery.pk for delivery in queued]
            ).update(status=AnnouncementDelivery.Status.QUEUED, queued_at=now)
        if skip:
            AnnouncementDelivery.objects.filter(pk__in=skip).update(
                status=AnnouncementDelivery.Status.SKIPPED
            )
        # The outbox's batches: one task per PORTAL_EMAIL_BATCH_SIZE e-mails
        # of this transaction, each over one SMTP connection.
        email_deliver_on_commit(email_ids=[email.pk for email in emails])
    return len(emails)


def announcement_finish(*, announcement_id: int) -> bool:
    """Mark a sending announcement sent once no delivery is pending; returns
    whether it is sent. Repeatable; meant to run after a batch commits."""
    pending = AnnouncementDelivery.objects.filter(
        announcement_id=announcement_id, status=AnnouncementDelivery.Status.PENDING
    )
    if pending.exists():
        return False
    Announcement.objects.filter(
        pk=announcement_id, status=Announcement.Status.SENDING
    ).update(status=Announcement.Status.SENT, sent_at=timezone.now())
    return True


def announcement_sweep() -> list[int]:
    """Beat: finish sending announcements that have nothing pending, and
    re-enqueue the batches of those whose tasks seem lost (sending for
    longer than SWEEP_AFTER). Returns the ids re-enqueued. Repeatable: a
    batch run twice sends nothing twice."""
    from subscriptions.tasks import send_announcement_batch

    again = []
    cutoff = timezone.now() - SWEEP_AFTER
    for announcement in Announcement.objects.filter(
        status=Announcement.Status.SENDING
    ).only("pk", "send_started_at"):
        if announcement_finish(announcement_id=announcement.pk):
            continue
        if announcement.send_started_at and announcement.send_started_at < cutoff:
            for first, last in _pending_ranges(announcement_id=announcement.pk):
                send_announcement_batch.delay(announcement.pk, first, last)
            again.append(announcement.pk)
    return again

"""Writes of subscriptions and announcements.

Sending an announcement (docs/decisions.md, decision 1): announcement_send writes one
AnnouncementDelivery row per recipient in one transaction and enqueues batch
tasks on commit; each batch (announcement_batch_send) turns its pending rows
into outbox e-mails in one transaction, so a row is written to the outbox at
most once however often a batch runs; announcement_sweep catches lost tasks.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.db.models.functions import Coalesce
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from portal.mail import mark_sensitive, message_to_fields, templated_email
from portal.models import Audience, OutgoingEmail, User
from subscriptions import selectors
from subscriptions.models import (
    Announcement,
    AnnouncementDelivery,
    EmailSubscriber,
    Subscription,
    Topic,
)

logger = logging.getLogger(__name__)

#: Recipients per batch task: one outbox insert and one update per batch.
BATCH_SIZE = 500
#: A sending announcement older than this has its pending rows re-enqueued.
SWEEP_AFTER = timedelta(minutes=5)
UNSUBSCRIBE_SALT = "subscriptions.unsubscribe"
CONFIRM_SALT = "subscriptions.confirm"
#: How long the link of a confirmation e-mail works.
CONFIRM_MAX_AGE = timedelta(days=3)
#: At most one confirmation e-mail per address in this time, whoever asks.
CONFIRM_RESEND_AFTER = timedelta(hours=1)
#: Unconfirmed sign-ups (since their last confirmation e-mail) and withdrawn
#: subscribers without an account are deleted after this (docs/privacy.md).
EMAIL_SUBSCRIBER_PURGE_AFTER = timedelta(days=7)
#: A scheduled announcement this late (the beat did not run) is "stuck" on
#: the background-work page, whose retry sends it.
SCHEDULED_LATE_AFTER = timedelta(minutes=2)
#: Marks a test send's subject, in the language of its text.
TEST_MARK = {"en": "[Test]", "zh-hans": "[测试]"}


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


def unsubscribe_token(
    *,
    user_id: int | None = None,
    delivery_id: int | None = None,
    subscriber_id: int | None = None,
) -> str:
    """The signed token of a one-click unsubscribe link (no expiry: the link
    in an old e-mail still works): a user's, or a subscriber's without an
    account (subscriber_id)."""
    if subscriber_id is not None:
        return signing.dumps(["s", subscriber_id, delivery_id], salt=UNSUBSCRIBE_SALT)
    return signing.dumps([user_id, delivery_id], salt=UNSUBSCRIBE_SALT)


@dataclass(frozen=True)
class Unsubscriber:
    """Whom an unsubscribe link names: a user, a subscriber without an
    account, or nobody any more (a subscriber since purged: nothing is sent
    to them, so the link says they are unsubscribed)."""

    email: str
    user: User | None = None
    subscriber: EmailSubscriber | None = None
    delivery: AnnouncementDelivery | None = None


def unsubscribe_token_read(*, token: str) -> Unsubscriber:
    """Whom (and which delivery) a token names; SubscriptionError when it is
    forged, damaged or names no user."""
    invalid = SubscriptionError(
        _("This unsubscribe link is not valid. Copy the whole link from the e-mail.")
    )
    try:
        value = signing.loads(token, salt=UNSUBSCRIBE_SALT)
        if isinstance(value, list) and len(value) == 3 and value[0] == "s":
            subscriber_id, delivery_id = int(value[1]), value[2]
            subscriber = EmailSubscriber.objects.filter(pk=subscriber_id).first()
            if subscriber is None:
                return Unsubscriber(email="")
            delivery = None
            if delivery_id is not None:
                delivery = AnnouncementDelivery.objects.filter(
                    pk=int(delivery_id), subscriber_id=subscriber.pk
                ).first()
            return Unsubscriber(
                email=subscriber.email, subscriber=subscriber, delivery=delivery
            )
        user_id, delivery_id = value
        user = User.objects.get(pk=int(user_id))
    except (signing.BadSignature, ValueError, TypeError, User.DoesNotExist):
        raise invalid from None
    delivery = None
    if delivery_id is not None:
        delivery = AnnouncementDelivery.objects.filter(
            pk=delivery_id, user_id=user.pk
        ).first()
    return Unsubscriber(email=user.email, user=user, delivery=delivery)


def subscription_unsubscribe(*, token: str) -> Unsubscriber:
    """One-click unsubscribe from an e-mail's link (no sign-in needed).

    Before: a valid token. After: the user's subscription (or the
    subscriber's without an account) withdrawn, and the delivery the link
    came from marked (the report counts it). A forged token raises
    SubscriptionError and changes nothing. Repeatable.
    """
    who = unsubscribe_token_read(token=token)
    with transaction.atomic():
        if who.user is not None:
            subscription_withdraw(user=who.user)
        elif who.subscriber is not None:
            email_subscriber_withdraw(subscriber=who.subscriber)
        if who.delivery is not None:
            AnnouncementDelivery.objects.filter(
                pk=who.delivery.pk, unsubscribed_at__isnull=True
            ).update(unsubscribed_at=timezone.now())
    return who


# --- subscribers without an account (double opt-in) ----------------------------------


def normalise_email(email: str) -> str:
    """One spelling per address: trimmed, in lower case (as the unique
    constraint on EmailSubscriber.email expects)."""
    return email.strip().lower()


def _confirm_token(
    *,
    subscriber: EmailSubscriber,
    topics: list[Topic],
    audiences: list[Audience],
    language: str,
) -> str:
    """The signed link's token: the choices travel in it, so nothing chosen
    by whoever typed the address is applied until the mailbox confirms. It
    names the row by its id and creation time, never by the address: a path
    is logged, an address must not be (docs/privacy.md)."""
    return signing.dumps(
        {
            "s": subscriber.pk,
            "c": int(subscriber.created_at.timestamp()),
            "t": sorted(topic.pk for topic in topics),
            "a": sorted(audience.pk for audience in audiences),
            "l": language,
        },
        salt=CONFIRM_SALT,
        compress=True,
    )


def email_subscriber_signup(
    *,
    email: str,
    topics: list[Topic],
    audiences: list[Audience],
    language: str,
) -> bool:
    """A visitor without an account asks for announcements at `email`;
    returns whether a confirmation e-mail was queued.

    Before: any (no row, an unconfirmed, active or withdrawn one). After: a
    row for the address (no choices set: they are in the link) and one
    confirmation e-mail with a signed link valid for CONFIRM_MAX_AGE, unless
    one went to the address less than CONFIRM_RESEND_AFTER ago: then
    nothing is written or sent. Nothing else is ever sent to an unconfirmed
    address. Whether the address is subscribed, or has an account, changes
    nothing here (the caller shows the same answer in every case).
    """
    email = normalise_email(email)
    now = timezone.now()
    with transaction.atomic():
        subscriber = (
            EmailSubscriber.objects.select_for_update().filter(email=email).first()
        )
        if subscriber is None:
            try:
                with transaction.atomic():
                    subscriber = EmailSubscriber.objects.create(email=email)
            except IntegrityError:
                # Another request for the address won the insert: wait for it.
                subscriber = EmailSubscriber.objects.select_for_update().get(
                    email=email
                )
        if (
            subscriber.confirmation_sent_at is not None
            and now - subscriber.confirmation_sent_at < CONFIRM_RESEND_AFTER
        ):
            return False
        subscriber.confirmation_sent_at = now
        subscriber.save(update_fields=["confirmation_sent_at", "updated_at"])
        token = _confirm_token(
            subscriber=subscriber, topics=topics, audiences=audiences, language=language
        )
        message = templated_email(
            template="subscriptions/email/confirm",
            context=lambda: {
                "confirm_url": settings.WAGTAILADMIN_BASE_URL.rstrip("/")
                + reverse("subscriptions:confirm", args=[token]),
                "topics": [topic.label for topic in topics],
                "hours": int(CONFIRM_MAX_AGE.total_seconds() // 3600),
                "site_name": settings.WAGTAIL_SITE_NAME,
            },
            to=[email],
            language=language,
        )
        # The link is a secret: the outbox admin does not show it.
        mark_sensitive(message)
        from portal.services import email_enqueue

        email_enqueue(message=message)
    return True


@dataclass(frozen=True)
class Confirmed:
    """A confirmed sign-up: the address, and whether the choices went to the
    account that has it."""

    email: str
    to_account: bool


def email_subscriber_token_read(*, token: str) -> dict:
    """The content of a confirmation token; SubscriptionError (in the
    reader's language) when forged, damaged or expired."""
    try:
        value = signing.loads(token, salt=CONFIRM_SALT, max_age=CONFIRM_MAX_AGE)
    except signing.SignatureExpired:
        raise SubscriptionError(
            _(
                "This confirmation link has expired: links work for three days. "
                "Subscribe again to receive a new one."
            )
        ) from None
    except signing.BadSignature:
        raise SubscriptionError(
            _(
                "This confirmation link is not valid. Copy the whole link from "
                "the e-mail, or subscribe again to receive a new one."
            )
        ) from None
    if not isinstance(value, dict) or not {"s", "c", "t", "a", "l"} <= value.keys():
        raise SubscriptionError(_("This confirmation link is not valid."))
    return value


def email_subscriber_of_token(*, value: dict) -> EmailSubscriber:
    """The sign-up a confirmation token names (a row purged since, or
    replaced by a new sign-up of the address, is not); SubscriptionError
    when there is none."""
    subscriber = EmailSubscriber.objects.filter(pk=value["s"]).first()
    if subscriber is None or int(subscriber.created_at.timestamp()) != value["c"]:
        raise SubscriptionError(
            _(
                "This confirmation link is no longer valid. Subscribe again "
                "to receive a new one."
            )
        )
    return subscriber


def email_subscriber_confirm(*, token: str) -> Confirmed:
    """Follow a confirmation link: the address's owner agrees.

    Before: a valid, unexpired token for an existing sign-up. After: the
    subscriber active with the link's choices (consent time set when it was
    not active, kept otherwise); or, when an active account has this
    address, the account's own subscription set to the choices and the row
    without an account withdrawn (purged with the others): one subscription
    per address, managed by signing in. Refused (SubscriptionError, nothing
    changed): forged, expired, or the sign-up purged since. Repeatable: a
    second click changes nothing more.
    """
    value = email_subscriber_token_read(token=token)
    now = timezone.now()
    with transaction.atomic():
        subscriber = email_subscriber_of_token(value=value)
        subscriber = EmailSubscriber.objects.select_for_update().get(pk=subscriber.pk)
        topics = list(selectors.topics_offered().filter(pk__in=value["t"]))
        audiences = list(Audience.objects.filter(is_active=True, pk__in=value["a"]))
        if not topics:
            raise SubscriptionError(
                _(
                    "The topics of this link are no longer offered. Subscribe "
                    "again and choose among the current ones."
                )
            )
        account = User.objects.filter(
            email__iexact=subscriber.email, is_active=True
        ).first()
        if account is not None:
            subscription_update(user=account, topics=topics, audiences=audiences)
            subscriber.confirmed_at = subscriber.confirmed_at or now
            subscriber.withdrawn_at = subscriber.withdrawn_at or now
            subscriber.save()
            subscriber.topics.clear()
            subscriber.audiences.clear()
            return Confirmed(email=subscriber.email, to_account=True)
        if not subscriber.is_active:
            subscriber.confirmed_at, subscriber.withdrawn_at = now, None
        subscriber.language = value["l"] or ""
        subscriber.save()
        subscriber.topics.set(topics)
        subscriber.audiences.set(audiences)
    return Confirmed(email=subscriber.email, to_account=False)


def email_subscriber_withdraw(*, subscriber: EmailSubscriber) -> None:
    """Nothing more is sent to this subscriber without an account. Before:
    any. After: withdrawn (the first withdrawal's time kept), choices
    cleared; the row is purged later (email_subscribers_purge). Repeatable."""
    with transaction.atomic():
        row = (
            EmailSubscriber.objects.select_for_update().filter(pk=subscriber.pk).first()
        )
        if row is None:
            return
        if row.withdrawn_at is None and row.confirmed_at is not None:
            row.withdrawn_at = timezone.now()
            row.save(update_fields=["withdrawn_at", "updated_at"])
        row.topics.clear()
        row.audiences.clear()


def email_subscribers_purge(*, now: datetime | None = None) -> int:
    """Beat: delete sign-ups never confirmed within EMAIL_SUBSCRIBER_PURGE_AFTER
    of their last confirmation e-mail, and subscribers without an account
    withdrawn for that long; returns how many. Their delivery rows stay,
    without the address. Repeatable."""
    cutoff = (now or timezone.now()) - EMAIL_SUBSCRIBER_PURGE_AFTER
    unconfirmed = (
        EmailSubscriber.objects.filter(confirmed_at__isnull=True)
        .annotate(asked=Coalesce("confirmation_sent_at", "created_at"))
        .filter(asked__lt=cutoff)
    )
    withdrawn = EmailSubscriber.objects.filter(withdrawn_at__lt=cutoff)
    ids = [
        *unconfirmed.values_list("pk", flat=True),
        *withdrawn.values_list("pk", flat=True),
    ]
    if not ids:
        return 0
    with transaction.atomic():
        AnnouncementDelivery.objects.filter(subscriber_id__in=ids).update(
            subscriber=None
        )
        deleted, _counts = EmailSubscriber.objects.filter(pk__in=ids).delete()
    return len(ids)


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
    """Send a draft announcement to its recipients now; returns their number.

    Before: a draft with a subject, a text, a topic and at least one
    recipient. After, in one transaction: one pending delivery per recipient
    (users and confirmed subscribers without an account; one per address),
    the announcement sending; batch tasks are enqueued on commit. Refused
    (SubscriptionError, nothing written): scheduled (cancel first), not a
    draft (a second send), a problem of announcement_problems, no recipient.
    """
    with transaction.atomic():
        announcement = Announcement.objects.select_for_update().get(pk=announcement.pk)
        if announcement.status == Announcement.Status.SCHEDULED:
            raise SubscriptionError(
                _("This announcement is scheduled. Cancel the schedule to send it now.")
            )
        if announcement.status != Announcement.Status.DRAFT:
            raise SubscriptionError(
                _("This announcement was already sent; it is not sent again.")
            )
        problems = announcement_problems(announcement=announcement)
        if problems:
            raise SubscriptionError(" ".join(problems))
        return _send_locked(announcement=announcement, by=by, allow_none=False)


def _send_locked(
    *, announcement: Announcement, by: User | None, allow_none: bool
) -> int:
    """Write the deliveries of an announcement locked by the caller and mark
    it sending (or sent, to nobody, when allow_none and there is no one)."""
    from subscriptions.tasks import send_announcement_batch

    user_ids = list(
        selectors.announcement_recipients(announcement=announcement).values_list(
            "pk", flat=True
        )
    )
    subscriber_ids = list(
        selectors.announcement_subscriber_recipients(
            announcement=announcement
        ).values_list("pk", flat=True)
    )
    count = len(user_ids) + len(subscriber_ids)
    if not count and not allow_none:
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
    AnnouncementDelivery.objects.bulk_create(
        (
            AnnouncementDelivery(announcement=announcement, subscriber_id=pk)
            for pk in subscriber_ids
        ),
        batch_size=2000,
    )
    now = timezone.now()
    announcement.status = (
        Announcement.Status.SENDING if count else Announcement.Status.SENT
    )
    announcement.send_started_at = now
    if not count:
        announcement.sent_at = now
    announcement.sent_by = by
    announcement.recipient_count = count
    if announcement.link_page is not None:
        announcement.link_url = announcement.link_page.get_full_url() or ""
    announcement.save()
    for first, last in _pending_ranges(announcement_id=announcement.pk):
        send_announcement_batch.delay_on_commit(announcement.pk, first, last)
    return count


def announcement_schedule(
    *, announcement: Announcement, at: datetime, by: User | None
) -> Announcement:
    """Schedule a draft (or move a scheduled one) to go out at the minute
    `at`; the beat sends it then (announcement_send_due).

    Before: a draft or scheduled announcement with no problem. After: it is
    scheduled for `at` (seconds dropped), by `by`. Refused
    (SubscriptionError, nothing changed): already sending or sent; `at` not
    in the future; a problem of announcement_problems.
    """
    at = at.replace(second=0, microsecond=0)
    with transaction.atomic():
        announcement = Announcement.objects.select_for_update().get(pk=announcement.pk)
        if announcement.status not in (
            Announcement.Status.DRAFT,
            Announcement.Status.SCHEDULED,
        ):
            raise SubscriptionError(
                _("This announcement was already sent; it is not sent again.")
            )
        if at <= timezone.now():
            raise SubscriptionError(
                _(
                    "%(when)s has already passed: choose a later date and time "
                    "(China Standard Time)."
                )
                % {"when": timezone.localtime(at).strftime("%Y-%m-%d %H:%M")}
            )
        problems = announcement_problems(announcement=announcement)
        if problems:
            raise SubscriptionError(" ".join(problems))
        announcement.status = Announcement.Status.SCHEDULED
        announcement.scheduled_at = at
        announcement.scheduled_by = by
        announcement.save(
            update_fields=["status", "scheduled_at", "scheduled_by", "updated_at"]
        )
    return announcement


def announcement_unschedule(*, announcement: Announcement) -> Announcement:
    """Cancel a scheduled send: the announcement is a draft again (to edit,
    send now or schedule anew). Repeatable on a draft. Refused
    (SubscriptionError) once it is being sent or sent."""
    with transaction.atomic():
        announcement = Announcement.objects.select_for_update().get(pk=announcement.pk)
        if announcement.status == Announcement.Status.DRAFT:
            return announcement
        if announcement.status != Announcement.Status.SCHEDULED:
            raise SubscriptionError(
                _(
                    "This announcement is already being sent: the schedule can "
                    "no longer be cancelled."
                )
            )
        announcement.status = Announcement.Status.DRAFT
        announcement.scheduled_at = None
        announcement.scheduled_by = None
        announcement.save(
            update_fields=["status", "scheduled_at", "scheduled_by", "updated_at"]
        )
    return announcement


def announcement_send_scheduled(
    *, announcement_id: int, now: datetime | None = None
) -> int | None:
    """Send one scheduled announcement whose minute has come; returns its
    number of recipients, or None when it is not due or not scheduled any
    more (sent by another run, cancelled). Under the row lock, so two beats
    or a beat and a retry send it once. With nobody subscribed by then it is
    recorded as sent to 0 recipients."""
    now = now or timezone.now()
    with transaction.atomic():
        announcement = (
            Announcement.objects.select_for_update(skip_locked=True)
            .filter(
                pk=announcement_id,
                status=Announcement.Status.SCHEDULED,
                scheduled_at__lte=now,
            )
            .first()
        )
        if announcement is None:
            return None
        problems = announcement_problems(announcement=announcement)
        if problems:
            # Cannot happen through the admin (a scheduled announcement is not
            # edited); back to a draft rather than retried every minute.
            logger.warning(
                "Scheduled announcement %s not sent: %s", announcement.pk, problems
            )
            announcement.status = Announcement.Status.DRAFT
            announcement.scheduled_at = None
            announcement.save(update_fields=["status", "scheduled_at", "updated_at"])
            return None
        return _send_locked(
            announcement=announcement, by=announcement.scheduled_by, allow_none=True
        )


def announcement_send_due(*, now: datetime | None = None) -> list[int]:
    """Beat, at second 0 of every minute: send the scheduled announcements
    whose minute has come; returns the ids sent. Repeatable."""
    now = now or timezone.now()
    due = Announcement.objects.filter(
        status=Announcement.Status.SCHEDULED, scheduled_at__lte=now
    ).order_by("scheduled_at", "pk")
    sent = []
    for pk in due.values_list("pk", flat=True):
        if announcement_send_scheduled(announcement_id=pk, now=now) is not None:
            sent.append(pk)
    return sent


def announcement_test_send(
    *, announcement: Announcement, to: User
) -> list[OutgoingEmail]:
    """Send the announcement to `to` alone, once per language version, the
    subject marked [测试] / [Test]. Not a send: no delivery row, the
    announcement's status, counts and report unchanged; allowed in any
    status. Refused (SubscriptionError): `to` has no address, or the
    subject or text is empty."""
    from portal.services import email_enqueue

    if not to.email:
        raise SubscriptionError(
            _("Your account has no e-mail address to send the test to.")
        )
    if not announcement.subject.strip() or not announcement.body.strip():
        raise SubscriptionError(_("Write the subject and the text first."))
    languages = [settings.LANGUAGE_CODE]
    if announcement.subject_en.strip() and announcement.body_en.strip():
        languages.append("en")
    emails = []
    for language in languages:
        text = announcement_text(announcement=announcement, language=language)
        mark = TEST_MARK["en" if text.language == "en" else "zh-hans"]
        text = _Text(
            language=text.language,
            subject=f"{mark} {text.subject}",
            body=text.body,
        )
        message = announcement_message(
            text=text, to=to.email, user_id=to.pk, delivery_id=None
        )
        emails.append(email_enqueue(message=message))
    return emails


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
    *,
    text: _Text,
    to: str,
    user_id: int | None,
    delivery_id: int | None,
    subscriber_id: int | None = None,
) -> EmailMessage:
    """One recipient's e-mail, with RFC 8058 one-click unsubscribe headers
    (the link names the user, or the subscriber without an account)."""
    url = unsubscribe_url(
        token=unsubscribe_token(
            user_id=user_id, delivery_id=delivery_id, subscriber_id=subscriber_id
        ),
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
        subscriber_active = selectors.active_email_subscribers().filter(
            pk=OuterRef("subscriber_id")
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
            .select_related("user", "subscriber")
            .only(
                "id",
                "user__id",
                "user__email",
                "user__language",
                "subscriber__id",
                "subscriber__email",
                "subscriber__language",
            )
            .annotate(
                subscribed=Exists(still_subscribed),
                subscriber_active=Exists(subscriber_active),
            )
            .order_by("pk")
        )
        if not deliveries:
            return 0
        texts: dict[str, _Text] = {}
        queued: list[AnnouncementDelivery] = []
        outgoing: list[OutgoingEmail] = []
        skip = []
        for delivery in deliveries:
            # A user still subscribed, or a subscriber without an account
            # still confirmed and not withdrawn (nor purged).
            recipient = delivery.user if delivery.user_id else delivery.subscriber
            active = (
                delivery.subscribed if delivery.user_id else delivery.subscriber_active
            )
            if recipient is None or not active:
                skip.append(delivery.pk)
                continue
            language = announcement.language_for(
                recipient.language or settings.LANGUAGE_CODE
            )
            if language not in texts:
                texts[language] = announcement_text(
                    announcement=announcement, language=language
                )
            message = announcement_message(
                text=texts[language],
                to=recipient.email,
                user_id=delivery.user_id,
                delivery_id=delivery.pk,
                subscriber_id=delivery.subscriber_id,
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

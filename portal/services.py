"""Writes: every change to the portal's own data goes through here."""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from portal.mail import fields_to_message, message_to_fields, remove_content
from portal.models import OutgoingEmail, User

logger = logging.getLogger(__name__)


def email_enqueue(*, message: EmailMessage) -> OutgoingEmail:
    """Store a message in the outbox and trigger its delivery on commit.

    Before: nothing. After: one pending OutgoingEmail; its delivery task is
    enqueued when the surrounding transaction commits (or at once outside one).
    Each call stores a new row: it is not idempotent, the caller sends once.
    """
    from portal.tasks import deliver_email

    email = OutgoingEmail.objects.create(**message_to_fields(message))
    deliver_email.delay_on_commit(email.pk)
    return email


def email_deliver(*, email_id: int) -> OutgoingEmail | None:
    """Hand one pending e-mail to the delivery backend and mark it sent.

    Before: a pending row. After: sent (with sent_at) and its content removed
    in the same transaction (portal.mail.remove_content: a delivered reset
    link is nobody's to read again; kept in development, where
    PORTAL_EMAIL_KEEP_CONTENT makes the outbox the mailbox), or still
    pending with attempts + 1 and last_error, or failed after
    PORTAL_EMAIL_MAX_ATTEMPTS. A row whose content was already removed (set
    back to pending by hand) is marked failed: there is nothing left to send.
    May run twice: a row that is no longer pending, or that another worker holds
    locked, is left alone, so one message is never delivered twice by the
    portal (a crash between the SMTP hand-off and the commit can still repeat it,
    as with any at-least-once queue).
    """
    with transaction.atomic():
        email = (
            OutgoingEmail.objects.select_for_update(skip_locked=True)
            .filter(pk=email_id, status=OutgoingEmail.Status.PENDING)
            .first()
        )
        if email is None:
            return None
        if email.body_removed_at is not None:
            email.status = OutgoingEmail.Status.FAILED
            email.last_error = "Body removed after delivery: nothing to send."
            email.save(update_fields=["status", "last_error"])
            return email
        try:
            connection = get_connection(settings.PORTAL_EMAIL_DELIVERY_BACKEND)
            fields_to_message(email, connection=connection).send()
        except Exception as error:  # any transport failure is recorded, not raised
            logger.warning("E-mail %s not delivered: %s", email.pk, error)
            email.attempts = F("attempts") + 1
            email.last_error = f"{type(error).__name__}: {error}"[:2000]
            email.save(update_fields=["attempts", "last_error"])
            email.refresh_from_db(fields=["attempts"])
            if email.attempts >= settings.PORTAL_EMAIL_MAX_ATTEMPTS:
                email.status = OutgoingEmail.Status.FAILED
                email.save(update_fields=["status"])
            return email
        email.status = OutgoingEmail.Status.SENT
        email.sent_at = timezone.now()
        email.attempts = F("attempts") + 1
        email.last_error = ""
        removed: list[str] = []
        if not settings.PORTAL_EMAIL_KEEP_CONTENT:
            email.body_removed_at = email.sent_at
            removed = ["body_removed_at", *remove_content(email)]
        email.save(
            update_fields=["status", "sent_at", "attempts", "last_error", *removed]
        )
        email.refresh_from_db(fields=["attempts"])
        return email


def email_sweep() -> list[int]:
    """Re-enqueue pending e-mails whose task seems lost; returns their ids.

    Picks rows pending for longer than PORTAL_EMAIL_SWEEP_AFTER. Safe to run any
    number of times: delivery itself skips rows that are no longer pending.
    """
    from portal.tasks import deliver_email

    cutoff = timezone.now() - settings.PORTAL_EMAIL_SWEEP_AFTER
    ids = list(
        OutgoingEmail.objects.filter(
            status=OutgoingEmail.Status.PENDING, created_at__lt=cutoff
        ).values_list("pk", flat=True)[:500]
    )
    for email_id in ids:
        deliver_email.delay(email_id)
    return ids


def email_purge_sent(*, batch_size: int = 1000) -> int:
    """Delete sent e-mails older than PORTAL_EMAIL_RETENTION_DAYS; returns how
    many. Pending and failed rows stay whatever their age: they are work left
    to do, or to look into. Deletes in batches of batch_size rows, each its own
    short transaction, so a first run over years of mail never holds a long
    lock. Safe to run any number of times; a second run finds nothing.
    """
    cutoff = timezone.now() - timedelta(days=settings.PORTAL_EMAIL_RETENTION_DAYS)
    old = OutgoingEmail.objects.filter(
        status=OutgoingEmail.Status.SENT, sent_at__lt=cutoff
    )
    deleted = 0
    while ids := list(old.values_list("pk", flat=True)[:batch_size]):
        with transaction.atomic():
            deleted += (
                OutgoingEmail.objects.filter(
                    pk__in=ids, status=OutgoingEmail.Status.SENT
                )
                .delete()[1]
                .get(OutgoingEmail._meta.label, 0)
            )
    return deleted


def user_delete(*, user: User) -> None:
    """Delete a user's account and profile.

    Before: an account. After: no account, no e-mail addresses, no
    authenticators, no sessions for it (cascades). Not repeatable.
    """
    from importlib import import_module

    from django.contrib.sessions.models import Session

    # Through the session engine: with cached_db it forgets the cached copy too.
    store = import_module(settings.SESSION_ENGINE).SessionStore
    with transaction.atomic():
        user_id = str(user.pk)
        for session in Session.objects.filter(
            expire_date__gt=timezone.now()
        ).iterator():
            if session.get_decoded().get("_auth_user_id") == user_id:
                store(session_key=session.session_key).delete()
        user.delete()

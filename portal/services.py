"""Writes: every change to the portal's own data goes through here."""

import logging
import smtplib
import time
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import (
    CASCADE,
    SET_NULL,
    F,
    ForeignObjectRel,
    ProtectedError,
    Q,
    RestrictedError,
)
from django.utils import timezone

from portal.mail import fields_to_message, message_to_fields, remove_content
from portal.models import OutgoingEmail, PrivacyConsent, User

logger = logging.getLogger(__name__)


def email_enqueue(*, message: EmailMessage) -> OutgoingEmail:
    """Store a message in the outbox and trigger its delivery on commit.

    Before: nothing. After: one pending OutgoingEmail; its delivery is
    enqueued when the surrounding transaction commits (or at once outside one),
    together with every other e-mail of that transaction
    (email_deliver_on_commit). Each call stores a new row: it is not
    idempotent, the caller sends once. A message only for deleted accounts'
    placeholder addresses is stored failed, without its content, and never
    delivered.
    """
    from portal.privacy import deleted_account_address

    recipients = message.recipients()
    if recipients and all(map(deleted_account_address, recipients)):
        # A deleted account's placeholder (user_delete) receives nothing: a
        # certificate rendered, or reminded of, after the deletion. The row
        # says so, without the content, and is never delivered.
        email = OutgoingEmail(
            **message_to_fields(message),
            status=OutgoingEmail.Status.FAILED,
            last_error="Not sent: addressed to a deleted account.",
            body_removed_at=timezone.now(),
        )
        remove_content(email)
        email.save()
        return email
    email = OutgoingEmail.objects.create(**message_to_fields(message))
    email_deliver_on_commit(email_ids=[email.pk])
    return email


#: In the cache while a delivery task enqueued on commit waits for a worker
#: (portal.tasks.deliver_email_batch clears it when it starts).
QUEUED_KEY = "portal:email-batch-queued"


class _DeliveryOnCommit:
    """The e-mails of one transaction, enqueued together when it commits."""

    def __init__(self) -> None:
        self.ids: list[int] = []
        self.done = False

    def __call__(self) -> None:
        from portal.tasks import deliver_email_batch

        self.done = True
        size = settings.PORTAL_EMAIL_BATCH_SIZE
        for n in range(0, len(self.ids), size):
            chunk = self.ids[n : n + size]
            # A certificate run commits 5 e-mails at a time: while a batch
            # task still waits in the queue, it will fill its batch with
            # these too, and a task per commit would only be a no-op later.
            if len(chunk) < size and not _first_in_queue():
                continue
            # As delay_on_commit does: a broker that is down is logged, not
            # raised into a request whose work is committed (the sweep sends).
            deliver_email_batch._send_logged(deliver_email_batch.delay, chunk)


def _first_in_queue() -> bool:
    """Mark a batch task as waiting; False if one already is. A cache that
    fails answers True: one task too many costs a query, none a delay."""
    try:
        return bool(cache.add(QUEUED_KEY, 1, 60))
    except Exception:
        logger.warning("E-mail queue marker not kept", exc_info=True)
        return True


def email_deliver_on_commit(*, email_ids: Sequence[int]) -> None:
    """Enqueue the delivery of these outbox rows when the transaction commits:
    one task per PORTAL_EMAIL_BATCH_SIZE e-mails of the whole transaction, not
    one per e-mail (a certificate chunk or an announcement batch writes
    hundreds in one transaction), and none for a smaller group while another
    such task still waits in the queue (it fills its batch with these; a
    full batch enqueues the next, portal.tasks). A rolled-back transaction
    enqueues nothing; outside a transaction the task is enqueued at once.
    """
    connection = transaction.get_connection()
    # The transaction's collector is the callback Django still holds: after a
    # commit, a rollback or a rolled-back savepoint Django has dropped it, and
    # the next e-mail starts a new one.
    collector = getattr(connection, "portal_email_on_commit", None)
    if (
        collector is None
        or collector.done
        or not any(callback is collector for _, callback, _ in connection.run_on_commit)
    ):
        collector = connection.portal_email_on_commit = _DeliveryOnCommit()
        # The ids first: outside a transaction on_commit runs it at once.
        collector.ids.extend(email_ids)
        transaction.on_commit(collector)
    else:
        collector.ids.extend(email_ids)


@dataclass
class EmailBatchReport:
    """What one delivery batch did; the task schedules what is left."""

    sent: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    #: Rows still pending after a temporary failure, with their attempts.
    retry: dict[int, int] = field(default_factory=dict)
    #: Rows not tried: the per-minute cap was reached or the connection broke.
    deferred: list[int] = field(default_factory=list)
    #: Seconds until the deferred rows may be tried again.
    deferred_for: int = 0
    #: SMTP (backend) connections opened.
    connections: int = 0
    #: Rows the batch took (at most PORTAL_EMAIL_BATCH_SIZE, unless named).
    taken: int = 0


class _ConnectionLost(Exception):
    """The backend connection failed, and reopening it once did not help."""


class _CapReached(Exception):
    """No more e-mail may be handed over in this minute (a marker, never
    raised)."""


def email_retry_delay(*, attempts: int) -> int:
    """Seconds to wait before trying a row again after its `attempts`-th
    temporary failure: PORTAL_EMAIL_RETRY_DELAY doubled each time, at most
    an hour (1, 2, 4, 8 minutes with the defaults)."""
    base = settings.PORTAL_EMAIL_RETRY_DELAY.total_seconds()
    return int(min(base * 2 ** max(attempts - 1, 0), 3600))


def email_deliver_batch(
    *,
    email_ids: Sequence[int] = (),
    fill: bool = True,
    clock: Callable[[], float] = time.time,
) -> EmailBatchReport:
    """Hand pending e-mails to the delivery backend over one connection.

    Takes the named rows first, then (when `fill`) other pending rows never
    tried yet, oldest first, up to PORTAL_EMAIL_BATCH_SIZE in all; opens no
    connection when there is nothing to send. Each row then goes as in
    email_deliver: sent (content removed in the transaction that
    marks it sent, unless PORTAL_EMAIL_KEEP_CONTENT), or failed at once for a
    permanent refusal (SMTP 5xx), or attempts + 1 and last_error for a
    temporary one (4xx, connection refused, a missing attachment), failed
    after PORTAL_EMAIL_MAX_ATTEMPTS. A row no longer pending, or locked by
    another worker, is left alone, so two batches never send one row.

    One transaction per row, not per batch: the row is claimed (FOR UPDATE
    SKIP LOCKED on PostgreSQL; on SQLite the IMMEDIATE transaction is the
    database's one write lock), handed over and marked in it. On SQLite a
    batch-long transaction would hold every writer of the portal for the
    whole SMTP conversation; this way a writer waits at most one message's
    hand-off (bounded by EMAIL_TIMEOUT), and a crash repeats at most one.

    When the connection breaks, it is reopened once; if it breaks again,
    the row at hand counts a temporary failure and the rest are deferred
    untouched. With EMAIL_MAX_PER_MINUTE, each message first takes a slot of
    the minute's counter in the shared cache (clock() gives the minute);
    the rows left when the minute is full, or when the cache cannot count,
    are deferred to the next minute. Nothing is dropped. May run twice.
    """
    report = EmailBatchReport()
    named = list(dict.fromkeys(email_ids))
    pending = OutgoingEmail.objects.filter(status=OutgoingEmail.Status.PENDING)
    ids = list(pending.filter(pk__in=named).values_list("pk", flat=True))
    ids.sort(key=named.index)
    room = settings.PORTAL_EMAIL_BATCH_SIZE - len(ids)
    if fill and room > 0:
        ids += list(
            pending.filter(attempts=0)
            .exclude(pk__in=ids)
            .order_by("pk")
            .values_list("pk", flat=True)[:room]
        )
    report.taken = len(ids)
    if not ids:
        return report
    sender = _Sender(report=report, clock=clock)
    try:
        for position, email_id in enumerate(ids):
            stop = _deliver_one(email_id=email_id, sender=sender, report=report)
            if stop is _CapReached:
                report.deferred = ids[position:]
                report.deferred_for = 60 - int(clock()) % 60
                break
            if stop is _ConnectionLost:
                report.deferred = ids[position + 1 :]
                report.deferred_for = email_retry_delay(attempts=1)
                break
    finally:
        sender.close()
    return report


class _Sender:
    """One backend connection for a batch, opened on the first message,
    reopened once if it breaks; and the per-minute cap."""

    def __init__(self, *, report: EmailBatchReport, clock: Callable[[], float]):
        self.report = report
        self.clock = clock
        self.connection: Any = None
        self.reopened = False

    def _open(self) -> None:
        self.connection = get_connection(settings.PORTAL_EMAIL_DELIVERY_BACKEND)
        # Opened here, so that the backend keeps it open between messages
        # (Django's SMTP backend closes a connection send_messages opened).
        if hasattr(self.connection, "open"):
            self.connection.open()
        self.report.connections += 1

    def close(self) -> None:
        if self.connection is not None and hasattr(self.connection, "close"):
            with suppress(Exception):  # a dead socket: nothing left to close
                self.connection.close()
        self.connection = None

    def take_slot(self) -> bool:
        """Count one message against EMAIL_MAX_PER_MINUTE; False when this
        minute is full. Counted across workers in the shared cache (add + incr,
        atomic in Redis and portal.cache); a cache that cannot count stops
        the batch too: the provider's limit is not ours to guess, and a
        message that waits a minute is not lost."""
        cap = settings.PORTAL_EMAIL_MAX_PER_MINUTE
        if cap <= 0:
            return True
        key = f"portal:email-minute:{int(self.clock()) // 60}"
        try:
            cache.add(key, 0, 120)
            count = cache.incr(key)
        except Exception:
            logger.exception("The e-mail cap could not be counted; deferred")
            return False
        return count <= cap

    def send(self, message: EmailMessage) -> None:
        """Hand one message over; a broken connection is reopened once.
        Raises the backend's error for the message, or _ConnectionLost with
        the error of the second break as its cause."""
        for _ in range(2):
            try:
                if self.connection is None:
                    self._open()
                message.connection = self.connection
                message.send()
                return
            except (smtplib.SMTPRecipientsRefused, smtplib.SMTPResponseException) as e:
                if not _connection_error(e):
                    raise
                error: Exception = e
            except OSError as e:  # refused, reset, timed out, disconnected
                error = e
            logger.warning("E-mail connection failed: %s", error)
            self.close()
            if self.reopened:
                break
            self.reopened = True
        raise _ConnectionLost from error


def _connection_error(error: Exception) -> bool:
    """Whether an SMTP answer speaks for the connection, not the message:
    421, the server closing the session."""
    return getattr(error, "smtp_code", None) == 421


def _permanent(error: Exception) -> bool:
    """Whether the server refused the message for good (SMTP 5xx): for
    every recipient, or at MAIL FROM / DATA."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in error.recipients.values()]
        return bool(codes) and all(code >= 500 for code in codes)
    if isinstance(error, smtplib.SMTPResponseException):
        return error.smtp_code >= 500
    return False


def _deliver_one(
    *, email_id: int, sender: _Sender, report: EmailBatchReport
) -> type[Exception] | None:
    """Claim, hand over and mark one row, in one transaction; returns
    _CapReached or _ConnectionLost when the batch must stop there (the
    row's outcome, if any, committed)."""
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
            report.failed.append(email.pk)
            return None
        try:
            message = fields_to_message(email)
        except Exception as error:  # a stored attachment gone: retried
            _record_failure(email=email, error=error, report=report)
            return None
        if not sender.take_slot():
            return _CapReached
        try:
            sender.send(message)
        except _ConnectionLost as lost:
            _record_failure(email=email, error=lost.__cause__ or lost, report=report)
            return _ConnectionLost
        except Exception as error:  # any refusal is recorded, not raised
            _record_failure(
                email=email, error=error, report=report, permanent=_permanent(error)
            )
            return None
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
        report.sent.append(email.pk)
    return None


def _record_failure(
    *,
    email: OutgoingEmail,
    error: BaseException,
    report: EmailBatchReport,
    permanent: bool = False,
) -> None:
    """attempts + 1 and last_error; failed when permanent or out of attempts."""
    logger.warning("E-mail %s not delivered: %s", email.pk, error)
    email.attempts = F("attempts") + 1
    email.last_error = f"{type(error).__name__}: {error}"[:2000]
    email.save(update_fields=["attempts", "last_error"])
    email.refresh_from_db(fields=["attempts"])
    if permanent or email.attempts >= settings.PORTAL_EMAIL_MAX_ATTEMPTS:
        email.status = OutgoingEmail.Status.FAILED
        email.save(update_fields=["status"])
        report.failed.append(email.pk)
    else:
        report.retry[email.pk] = email.attempts


def email_deliver(*, email_id: int) -> OutgoingEmail | None:
    """Deliver one pending e-mail now, alone (email_deliver_batch with only
    this row); returns the row as it then is, or None when it was left alone
    (no longer pending, locked by another worker, or deferred by the
    per-minute cap). A row whose content was already removed (set back to
    pending by hand) is marked failed: there is nothing left to send. May run
    twice: a row no longer pending is never delivered twice by the portal (a
    crash between the SMTP hand-off and the commit can still repeat it, as
    with any at-least-once queue).
    """
    report = email_deliver_batch(email_ids=[email_id], fill=False)
    if email_id in (*report.sent, *report.failed, *report.retry):
        return OutgoingEmail.objects.get(pk=email_id)
    return None


def email_sweep() -> list[int]:
    """Re-enqueue pending e-mails whose task seems lost; returns their ids.

    Picks rows pending for longer than PORTAL_EMAIL_SWEEP_AFTER, four times
    longer for each attempt already made (a row that failed for a while has
    its own retry task, scheduled with a backoff; the sweep only catches one
    that was lost), and enqueues one batch task per PORTAL_EMAIL_BATCH_SIZE.
    Safe to run any number of times: delivery skips rows no longer pending.
    """
    from portal.tasks import deliver_email_batch

    now = timezone.now()
    lost = Q()
    for attempts in range(settings.PORTAL_EMAIL_MAX_ATTEMPTS):
        cutoff = now - settings.PORTAL_EMAIL_SWEEP_AFTER * 4**attempts
        lost |= Q(attempts=attempts, created_at__lt=cutoff)
    ids = list(
        OutgoingEmail.objects.filter(lost, status=OutgoingEmail.Status.PENDING)
        .order_by("pk")
        .values_list("pk", flat=True)[:500]
    )
    size = settings.PORTAL_EMAIL_BATCH_SIZE
    for n in range(0, len(ids), size):
        deliver_email_batch.delay(ids[n : n + size])
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


def privacy_consent_record(
    *, user: User, source: str = PrivacyConsent.Source.SIGNUP
) -> PrivacyConsent:
    """Record that `user` agreed to the privacy notice in force
    (portal.privacy.PRIVACY_NOTICE_VERSION), at sign-up or from the profile.

    Before: any. After: one PrivacyConsent row for the user and that version
    (a unique constraint holds it). May run twice: a second call returns the
    first row unchanged.
    """
    from portal.privacy import PRIVACY_NOTICE_VERSION

    consent, _created = PrivacyConsent.objects.get_or_create(
        user=user, notice_version=PRIVACY_NOTICE_VERSION, defaults={"source": source}
    )
    return consent


def user_delete(*, user: User) -> None:
    """Delete a user's account and profile, as the privacy notice says
    (docs/privacy.md, "Deleting an account").

    Before: an account. After: no sessions for it; each app's erase step has
    run (portal.privacy: event registrations not yet started cancelled, an
    expert profile's publication consent withdrawn); then the account row is
    deleted with everything that cascades (e-mail addresses, second factors,
    privacy consents, subscription, enterprise membership, admin
    preferences). When the training record refers to the account
    (enrolments, hours, certificates, event registrations, contact requests:
    PROTECT, and never deleted, docs/decisions.md decision 2), the row stays
    instead as a nameless placeholder (_user_anonymise) that cannot sign in,
    and the same rows go. Certificates keep the name printed on them
    (Certificate.learner_name) and stay verifiable. Not repeatable.
    """
    from importlib import import_module

    from django.contrib.sessions.models import Session

    from portal.privacy import personal_data_sections

    # Through the session engine: with cached_db it forgets the cached copy too.
    store = import_module(settings.SESSION_ENGINE).SessionStore
    with transaction.atomic():
        user_id = str(user.pk)
        for session in Session.objects.filter(
            expire_date__gt=timezone.now()
        ).iterator():
            if session.get_decoded().get("_auth_user_id") == user_id:
                store(session_key=session.session_key).delete()
        for section in personal_data_sections():
            if section.erase is not None:
                section.erase(user=user)
        try:
            # A savepoint: the refusal comes before any row is deleted, but
            # the transaction must stay usable on PostgreSQL.
            with transaction.atomic():
                User.objects.filter(pk=user.pk).delete()
        except (ProtectedError, RestrictedError):
            _user_anonymise(user=user)
    logger.info("Account %s deleted", user_id)


def _user_anonymise(*, user: User) -> None:
    """What deleting the row would have done, to a row the training record
    still needs: the rows that cascade are deleted, the references that would
    be set to NULL are, and the account keeps nothing that names the person
    or lets anyone sign in with it. The e-mail address becomes
    deleted-<id>@deleted.invalid (unique, and in a reserved domain that
    never receives mail: the outbox drops what is addressed to it)."""
    from portal.privacy import DELETED_ACCOUNT_DOMAIN

    for relation in User._meta.get_fields(include_hidden=True):
        if not isinstance(relation, ForeignObjectRel):
            continue  # the user's own fields
        on_delete = relation.on_delete
        field_name = relation.field.name
        related = relation.related_model._base_manager.filter(**{field_name: user})
        if on_delete is CASCADE:
            related.delete()
        elif on_delete is SET_NULL:
            related.update(**{field_name: None})
    user.email = f"deleted-{user.pk}@{DELETED_ACCOUNT_DOMAIN}"
    user.real_name = ""
    user.organisation = ""
    user.job_title = ""
    user.audience = None
    user.district = None
    user.language = settings.LANGUAGE_CODE
    user.is_active = False
    user.is_staff = False
    user.is_superuser = False
    user.last_login = None
    user.set_unusable_password()
    user.save()

"""The outbox delivers in batches over one SMTP connection, retries what a
server turns away for now, fails what it refuses for good, and keeps to the
provider's per-minute cap (portal.services.email_deliver_batch).

Against a real SMTP server (aiosmtpd, tests/portal/smtp_server.py).
"""

import math
import threading
from collections import Counter

import pytest

from django.core.mail import send_mail
from django.db import connection, transaction

from portal import services, tasks
from portal.models import OutgoingEmail
from tests.portal.smtp_server import smtp_server
from tests.subscriptions.factories import AnnouncementFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db

BATCH = 100


@pytest.fixture
def smtp(settings):
    """The delivery backend pointed at a fresh aiosmtpd server."""
    with smtp_server() as (handler, port):
        settings.PORTAL_EMAIL_DELIVERY_BACKEND = (
            "django.core.mail.backends.smtp.EmailBackend"
        )
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
        settings.PORTAL_EMAIL_BATCH_SIZE = BATCH
        settings.PORTAL_EMAIL_MAX_PER_MINUTE = 0
        yield handler


def addresses(count: int) -> list[str]:
    return [f"learner{n}@example.org" for n in range(count)]


def write(to: list[str]) -> list[int]:
    """One e-mail per address, in the current transaction; their ids."""
    for address in to:
        send_mail("结业证书", "证书见附件。", "noreply@example.org", [address])
    return list(
        OutgoingEmail.objects.filter(to__in=[[a] for a in to])
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def statuses() -> Counter[str]:
    return Counter(OutgoingEmail.objects.values_list("status", flat=True))


# --- batches ------------------------------------------------------------------


def test_300_emails_of_one_transaction_arrive_once_over_few_connections(
    smtp, django_capture_on_commit_callbacks
):
    to = addresses(300)
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        transaction.atomic(),
    ):
        write(to)
    # One enqueue for the whole transaction, not one per e-mail.
    assert len(callbacks) == 1
    assert smtp.delivered() == Counter(to)
    assert 1 <= smtp.sessions <= math.ceil(300 / BATCH) + 1
    assert statuses() == {"sent": 300}
    # Delivered content is removed in the transaction that marked it sent.
    assert not OutgoingEmail.objects.exclude(body="").exists()


def test_a_rolled_back_savepoint_takes_its_email_out_of_the_batch(
    smtp, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        write(["kept@example.org"])
        with pytest.raises(RuntimeError), transaction.atomic():
            write(["undone@example.org"])
            raise RuntimeError("the nested change failed")
        write(["also-kept@example.org"])
    assert smtp.delivered() == Counter(["kept@example.org", "also-kept@example.org"])
    assert smtp.sessions == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_email_sent_outside_a_transaction_is_delivered_at_once(smtp):
    """Autocommit (a view or task not in an atomic block): on_commit runs the
    delivery at once, and it must already know the e-mail (a sign-up's
    confirmation was left pending until the sweep)."""
    send_mail("请确认您的邮箱", "确认链接", "noreply@example.org", ["new@example.org"])
    assert smtp.delivered() == Counter(["new@example.org"])
    assert statuses() == {"sent": 1}


def test_the_old_per_email_task_sends_its_email_and_the_pending_rest(smtp):
    ids = write(addresses(5))  # no commit callbacks run: the rows wait
    tasks.deliver_email.apply(args=(ids[2],))
    assert smtp.delivered() == Counter(addresses(5))
    assert smtp.sessions == 1
    # Another message of the old kind, for a row already sent: nothing at all.
    tasks.deliver_email.apply(args=(ids[0],))
    assert (sum(smtp.delivered().values()), smtp.sessions) == (5, 1)


def test_a_commit_while_a_batch_waits_in_the_queue_adds_no_task(
    smtp, monkeypatch, django_capture_on_commit_callbacks
):
    queued: list[list[int]] = []
    monkeypatch.setattr(tasks.deliver_email_batch, "delay", queued.append)
    for group in (addresses(5), addresses(10)[5:]):
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            write(group)
    assert len(queued) == 1  # the second commit's e-mails wait for that task
    tasks.deliver_email_batch.apply(args=(queued[0],))
    assert smtp.delivered() == Counter(addresses(10))
    assert smtp.sessions == 1
    # Once that task has started, the next commit needs a task of its own.
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        write(["later@example.org"])
    assert len(queued) == 2


def test_a_full_batch_enqueues_the_next(smtp, monkeypatch):
    ids = write(addresses(BATCH + 30))
    scheduled: list[tuple[list[int], int]] = []
    monkeypatch.setattr(
        tasks.deliver_email_batch,
        "apply_async",
        lambda args, countdown: scheduled.append((args[0], countdown)),
    )
    tasks.deliver_email_batch(ids[:5])  # as a worker runs it
    assert sum(smtp.delivered().values()) == BATCH
    assert scheduled == [([], 0)]
    tasks.deliver_email_batch(*scheduled[0][0])
    assert smtp.delivered() == Counter(addresses(BATCH + 30))
    assert scheduled == [([], 0)]  # not full: the end of the chain


def test_an_announcement_goes_out_in_batches(
    smtp, home, django_capture_on_commit_callbacks
):
    from subscriptions import services as subscription_services

    subscribers = [SubscriptionFactory().user for _ in range(150)]
    announcement = AnnouncementFactory()
    with django_capture_on_commit_callbacks(execute=True):
        subscription_services.announcement_send(announcement=announcement, by=None)
    assert smtp.delivered() == Counter(user.email for user in subscribers)
    assert smtp.sessions <= math.ceil(150 / BATCH) + 1


# --- temporary and permanent failures ------------------------------------------


def test_a_server_that_says_try_later_gets_the_email_later_once(
    smtp, monkeypatch, settings
):
    to = addresses(10)
    busy = set(to[3:6])
    smtp.answer = lambda address, seen: (
        "451 4.7.1 Try again later" if address in busy and seen == 1 else None
    )
    ids = write(to)
    scheduled: list[tuple[list[int], int]] = []
    monkeypatch.setattr(
        tasks.deliver_email_batch,
        "apply_async",
        lambda args, countdown: scheduled.append((args[0], countdown)),
    )
    # As a worker runs it (not eagerly): the retry is scheduled, with a delay.
    tasks.deliver_email_batch(ids)

    assert smtp.delivered() == Counter(set(to) - busy)
    waiting = OutgoingEmail.objects.filter(status="pending")
    assert {email.to[0] for email in waiting} == busy
    assert {email.attempts for email in waiting} == {1}
    assert all("451" in email.last_error for email in waiting)
    retry_ids = sorted(email.pk for email in waiting)
    assert scheduled == [(retry_ids, 60)]

    # The retry, when its countdown is over.
    tasks.deliver_email_batch(scheduled[0][0])
    assert smtp.delivered() == Counter(to)
    assert statuses() == {"sent": 10}


def test_a_recipient_refused_for_good_fails_alone(smtp):
    to = addresses(6)
    smtp.answer = lambda address, seen: (
        "550 5.1.1 No such user" if address == to[2] else None
    )
    ids = write(to)
    report = services.email_deliver_batch(email_ids=ids)

    assert smtp.delivered() == Counter(to[:2] + to[3:])
    refused = OutgoingEmail.objects.get(pk=ids[2])
    assert (refused.status, refused.attempts) == ("failed", 1)
    assert "550" in refused.last_error
    assert statuses() == {"sent": 5, "failed": 1}
    assert report.failed == [ids[2]] and not report.retry
    assert smtp.sessions == 1


def test_a_connection_closed_mid_batch_is_reopened_once(smtp):
    # The fourth message of the first session is answered "closing".
    smtp.data_answer = lambda count: (
        "421 4.3.2 Closing" if count == 3 and smtp.sessions == 1 else None
    )
    ids = write(addresses(8))
    services.email_deliver_batch(email_ids=ids)
    assert smtp.delivered() == Counter(addresses(8))
    assert smtp.sessions == 2


def test_a_connection_that_keeps_failing_leaves_the_rest_pending(smtp):
    smtp.data_answer = lambda count: (
        "421 4.3.2 Closing connection" if count >= 3 else None
    )
    ids = write(addresses(8))
    report = services.email_deliver_batch(email_ids=ids)

    assert sum(smtp.delivered().values()) == 3
    assert smtp.sessions == 2  # reopened once, then given up
    tried = OutgoingEmail.objects.get(pk=ids[3])
    assert (tried.status, tried.attempts) == ("pending", 1)
    untouched = OutgoingEmail.objects.filter(pk__in=ids[4:])
    assert {(e.status, e.attempts) for e in untouched} == {("pending", 0)}
    assert report.deferred == ids[4:]

    smtp.data_answer = lambda count: None
    services.email_deliver_batch(email_ids=report.deferred + [ids[3]])
    assert smtp.delivered() == Counter(addresses(8))


def test_an_unreachable_server_counts_an_attempt_and_keeps_the_email(settings):
    settings.PORTAL_EMAIL_DELIVERY_BACKEND = (
        "django.core.mail.backends.smtp.EmailBackend"
    )
    with smtp_server() as (_, port):
        pass  # stopped: nothing listens on the port any more
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    ids = write(addresses(3))
    report = services.email_deliver_batch(email_ids=ids)
    first = OutgoingEmail.objects.get(pk=ids[0])
    assert (first.status, first.attempts) == ("pending", 1)
    assert "ConnectionRefusedError" in first.last_error
    assert report.deferred == ids[1:]
    assert statuses() == {"pending": 3}


# --- the per-minute cap --------------------------------------------------------


def test_the_cap_hands_at_most_50_a_minute_and_drops_nothing(smtp, settings):
    settings.PORTAL_EMAIL_MAX_PER_MINUTE = 50
    to = addresses(120)
    ids = write(to)
    minute = [0]

    def clock() -> float:
        return 60 * (28_000_000 + minute[0]) + 15

    def run_workers() -> None:
        # Two workers in the same minute: the count is shared.
        for chunk in (ids[:60], ids[60:]):
            report = services.email_deliver_batch(email_ids=chunk, clock=clock)
            if report.deferred:
                assert report.deferred_for == 45  # until the next minute

    handed: list[int] = []
    for minute[0] in range(4):
        before = sum(smtp.delivered().values())
        run_workers()
        handed.append(sum(smtp.delivered().values()) - before)
    assert handed == [50, 50, 20, 0]
    assert smtp.delivered() == Counter(to)
    assert set(OutgoingEmail.objects.values_list("attempts", flat=True)) == {1}


def test_a_full_minute_leaves_the_rest_pending_untouched(smtp, settings):
    settings.PORTAL_EMAIL_MAX_PER_MINUTE = 5
    ids = write(addresses(8))
    report = services.email_deliver_batch(email_ids=ids, clock=lambda: 600.0)
    assert report.sent == ids[:5] and report.deferred == ids[5:]
    waiting = OutgoingEmail.objects.filter(pk__in=ids[5:])
    assert {(e.status, e.attempts, e.last_error) for e in waiting} == {
        ("pending", 0, "")
    }


def test_when_the_cap_cannot_be_counted_mail_waits(smtp, settings, monkeypatch):
    from portal.cache import CacheUnavailable

    settings.PORTAL_EMAIL_MAX_PER_MINUTE = 50

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise CacheUnavailable("locked")

    monkeypatch.setattr(services.cache, "incr", broken)
    ids = write(addresses(3))
    report = services.email_deliver_batch(email_ids=ids)
    assert smtp.delivered() == Counter()
    assert report.deferred == ids and 1 <= report.deferred_for <= 60
    assert statuses() == {"pending": 3}


# --- two batches at once -------------------------------------------------------


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_batches_over_the_same_rows_send_each_once(smtp):
    to = addresses(120)
    ids = write(to)

    def worker() -> None:
        try:
            services.email_deliver_batch(email_ids=ids)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Both batches name every row: each row goes once, by one of them.
    assert smtp.delivered() == Counter(to)
    assert statuses() == {"sent": 120}


# --- with a real worker ----------------------------------------------------------


@pytest.fixture
def smtp_worker(tmp_path, monkeypatch):
    """A real `celery worker` (two pool processes) delivering to aiosmtpd."""
    import os
    import signal
    import subprocess
    import sys

    from django.conf import settings

    from portal import queues
    from portal.celery import app as celery_app
    from tests.portal.test_worker import ROOT, database_url, wait_for

    with smtp_server() as (handler, port):
        if settings.CELERY_BROKER_URL != "filesystem://":
            celery_app.control.purge()  # nothing left over from an earlier run
        monkeypatch.setitem(celery_app.conf, "task_always_eager", False)
        log_path = tmp_path / "worker.log"
        with log_path.open("w") as log:
            process = subprocess.Popen(
                [
                    *(sys.executable, "-m", "celery", "-A", "portal", "worker"),
                    *("--pool", "prefork", "--concurrency", "2"),
                    "--queues",
                    ",".join(queues.all_queues(settings.CELERY_TASK_DEFAULT_QUEUE)),
                    *("--without-mingle", "--without-gossip", "--without-heartbeat"),
                    *("--loglevel", "INFO"),
                ],
                cwd=ROOT,
                env={
                    **os.environ,
                    "DJANGO_SETTINGS_MODULE": "portal.settings.test",
                    "DATABASE_URL": database_url(),
                    "CELERY_TASK_ALWAYS_EAGER": "false",
                    "PORTAL_EMAIL_DELIVERY_BACKEND": (
                        "django.core.mail.backends.smtp.EmailBackend"
                    ),
                    "EMAIL_URL": f"smtp://127.0.0.1:{port}",
                    "EMAIL_BATCH_SIZE": str(BATCH),
                },
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            if not wait_for(lambda: "ready." in log_path.read_text(), timeout=60):
                pytest.fail("The worker did not start:\n" + log_path.read_text())
            yield handler, wait_for
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_worker_delivers_200_emails_over_few_connections(smtp_worker):
    handler, wait_for = smtp_worker
    to = addresses(200)
    with transaction.atomic():
        write(to)
    assert wait_for(
        lambda: OutgoingEmail.objects.filter(status="sent").count() == 200,
        timeout=120,
    ), statuses()
    assert handler.delivered() == Counter(to)
    assert handler.sessions <= math.ceil(200 / BATCH) + 2

"""Every e-mail is a row first; delivery is triggered on commit and swept
(docs/decisions.md, decision 1)."""

from datetime import timedelta

import pytest

from django.core import mail
from django.core.mail import EmailMultiAlternatives, send_mail
from django.db import transaction
from django.utils import timezone

from portal import services
from portal.models import OutgoingEmail

pytestmark = pytest.mark.django_db


def test_an_email_is_stored_and_only_delivered_after_commit(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        with transaction.atomic():
            send_mail("培训通知", "正文", "noreply@example.org", ["a@example.org"])
            email = OutgoingEmail.objects.get()
            assert email.status == OutgoingEmail.Status.PENDING
        assert mail.outbox == []
    assert len(callbacks) == 1  # the delivery task, waiting for the commit
    callbacks[0]()
    email.refresh_from_db()
    assert email.status == OutgoingEmail.Status.SENT and email.sent_at is not None
    assert [m.subject for m in mail.outbox] == ["培训通知"]


def test_a_rolled_back_change_sends_nothing(django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        send_mail("不应发送", "正文", "noreply@example.org", ["a@example.org"])
        raise RuntimeError("the change failed")
    assert not OutgoingEmail.objects.exists()
    assert mail.outbox == []


def test_html_alternative_and_attachment_survive_the_outbox(
    django_capture_on_commit_callbacks,
):
    message = EmailMultiAlternatives(
        "证书", "纯文本", "noreply@example.org", ["b@example.org"]
    )
    message.attach_alternative("<p>网页</p>", "text/html")
    message.attach("证书.pdf", b"%PDF-1.7 test", "application/pdf")
    with django_capture_on_commit_callbacks(execute=True):
        message.send()
    delivered = mail.outbox[0]
    assert delivered.alternatives[0][0] == "<p>网页</p>"
    assert delivered.attachments[0][0] == "证书.pdf"
    assert delivered.attachments[0][1] == b"%PDF-1.7 test"


def test_delivering_twice_sends_once(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        send_mail("一次", "正文", "noreply@example.org", ["a@example.org"])
    email = OutgoingEmail.objects.get()
    assert services.email_deliver(email_id=email.pk) is None
    assert len(mail.outbox) == 1


def test_a_failing_transport_is_retried_then_marked_failed(settings):
    settings.PORTAL_EMAIL_DELIVERY_BACKEND = "tests.portal.broken_mail.BrokenBackend"
    settings.PORTAL_EMAIL_MAX_ATTEMPTS = 2
    send_mail("会失败", "正文", "noreply@example.org", ["a@example.org"])
    email = OutgoingEmail.objects.get()
    services.email_deliver(email_id=email.pk)
    email.refresh_from_db()
    assert (email.status, email.attempts) == (OutgoingEmail.Status.PENDING, 1)
    assert "SMTP server unreachable" in email.last_error
    services.email_deliver(email_id=email.pk)
    email.refresh_from_db()
    assert (email.status, email.attempts) == (OutgoingEmail.Status.FAILED, 2)


def test_the_sweep_sends_what_a_lost_task_left_pending():
    # No on-commit callbacks run in this test: the task is "lost".
    send_mail("丢失的任务", "正文", "noreply@example.org", ["a@example.org"])
    recent = OutgoingEmail.objects.get()
    assert services.email_sweep() == []  # too fresh to be considered lost
    OutgoingEmail.objects.filter(pk=recent.pk).update(
        created_at=timezone.now() - timedelta(minutes=10)
    )
    assert services.email_sweep() == [recent.pk]
    recent.refresh_from_db()
    assert recent.status == OutgoingEmail.Status.SENT
    assert len(mail.outbox) == 1
    assert services.email_sweep() == []


def test_beat_runs_the_sweep_every_minute(settings):
    # Scheduled publishing's timing: tests/portal/test_scheduled_publishing.py.
    schedule = {
        entry["task"]: entry["schedule"]
        for entry in settings.CELERY_BEAT_SCHEDULE.values()
    }
    assert schedule["portal.tasks.sweep_outgoing_email"] == 60.0


def test_an_attachment_by_reference_is_read_from_storage_when_delivered(
    django_capture_on_commit_callbacks,
):
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from portal.mail import attach_stored

    name = default_storage.save("outbox-test/证书.pdf", ContentFile(b"%PDF-1.7 v1"))
    message = EmailMultiAlternatives(
        "证书", "纯文本", "noreply@example.org", ["b@example.org"]
    )
    message.attach("说明.txt", "内联附件", "text/plain")
    attach_stored(
        message, filename="证书.pdf", storage_name=name, mimetype="application/pdf"
    )
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        message.send()
    email = OutgoingEmail.objects.get()
    # The row names the file instead of carrying its bytes.
    assert email.attachments[1] == {
        "filename": "证书.pdf",
        "mimetype": "application/pdf",
        "storage_name": name,
    }
    # Delivery reads the file as it is then.
    with default_storage.open(name, "wb") as handle:
        handle.write(b"%PDF-1.7 v2")
    callbacks[0]()
    delivered = mail.outbox[0]
    assert delivered.attachments[0][:2] == ("说明.txt", "内联附件")
    assert delivered.attachments[1] == ("证书.pdf", b"%PDF-1.7 v2", "application/pdf")
    default_storage.delete(name)


def test_a_missing_stored_attachment_is_a_failed_attempt_not_an_empty_file(settings):
    from portal.mail import attach_stored

    message = EmailMultiAlternatives("证书", "正文", "noreply@example.org", ["c@x.org"])
    attach_stored(
        message,
        filename="证书.pdf",
        storage_name="outbox-test/missing.pdf",
        mimetype="application/pdf",
    )
    services.email_enqueue(message=message)
    email = OutgoingEmail.objects.get()
    services.email_deliver(email_id=email.pk)
    email.refresh_from_db()
    assert (email.status, email.attempts) == (OutgoingEmail.Status.PENDING, 1)
    assert email.last_error and mail.outbox == []

"""Secrets in e-mail do not persist: a delivered e-mail keeps no body, the
outbox admin never shows an account e-mail's body, and sent e-mails are
deleted after the retention period (docs/configuration.md, "E-mail")."""

import json
import re
from datetime import timedelta

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

from django.core import mail
from django.core.mail import EmailMultiAlternatives, send_mail
from django.forms.models import model_to_dict
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from portal import services
from portal.models import OutgoingEmail
from portal.tasks import purge_sent_email
from subscriptions import selectors
from subscriptions import services as subscription_services
from tests.factories import StaffFactory, UserFactory
from tests.subscriptions.factories import AnnouncementFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db

RESET_KEY = re.compile(r"/accounts/password/reset/key/(\S+)/")


def row_text(email: OutgoingEmail) -> str:
    """Everything the outbox row holds, as one string."""
    return json.dumps(model_to_dict(email), default=str, ensure_ascii=False)


def admin_pages(client, email: OutgoingEmail) -> str:  # type: ignore[no-untyped-def]
    """The outbox's list, inspect and edit pages, as an administrator sees them."""
    pages = [
        client.get(reverse("outgoing_email:index")),
        client.get(reverse("outgoing_email:index"), {"q": email.subject}),
        client.get(reverse("outgoing_email:inspect", args=[email.pk])),
        client.get(reverse("outgoing_email:edit", args=[email.pk])),
    ]
    assert [page.status_code for page in pages] == [200] * 4
    return "".join(page.content.decode() for page in pages)


@pytest.fixture
def superuser_client(client):  # type: ignore[no-untyped-def]
    superuser = StaffFactory(mfa=False)
    TOTP.activate(superuser, generate_totp_secret())
    client.force_login(superuser)
    return client


def request_reset(client, address: str) -> None:  # type: ignore[no-untyped-def]
    response = client.post(reverse("account_reset_password"), {"email": address})
    assert response.status_code == 302


def test_a_delivered_reset_link_is_not_in_the_outbox_nor_its_admin(
    superuser_client, home, django_capture_on_commit_callbacks
):
    UserFactory(email="reset@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        request_reset(Client(), "reset@example.org")
    (delivered,) = mail.outbox
    key = RESET_KEY.search(delivered.body).group(1)  # the user did get the link

    email = OutgoingEmail.objects.get(to=["reset@example.org"])
    assert email.status == OutgoingEmail.Status.SENT
    assert email.body_removed_at == email.sent_at
    assert key not in row_text(email)
    assert email.subject == delivered.subject  # what the admin needs stays

    pages = admin_pages(superuser_client, email)
    assert key not in pages
    assert "/accounts/password/reset/key/" not in pages
    assert "已投递，正文已删除" in pages


def test_a_pending_account_email_shows_no_body_in_the_admin(
    superuser_client, home, django_capture_on_commit_callbacks
):
    UserFactory(email="waiting@example.org")
    with django_capture_on_commit_callbacks(execute=False):  # not delivered yet
        request_reset(Client(), "waiting@example.org")
    email = OutgoingEmail.objects.get(to=["waiting@example.org"])
    assert email.status == OutgoingEmail.Status.PENDING and email.sensitive
    key = RESET_KEY.search(email.body).group(1)  # still here, to be delivered

    pages = admin_pages(superuser_client, email)
    assert key not in pages
    assert "/accounts/password/reset/key/" not in pages
    # Any other pending e-mail's body is shown: the page does show bodies.
    send_mail("培训通知", "明天九点开课", "noreply@example.org", ["a@example.org"])
    notice = OutgoingEmail.objects.get(to=["a@example.org"])
    assert not notice.sensitive
    assert "明天九点开课" in admin_pages(superuser_client, notice)


def test_delivery_removes_html_headers_and_attachment_bytes(
    django_capture_on_commit_callbacks,
):
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from portal.mail import attach_stored

    stored = default_storage.save("outbox-test/证书.pdf", ContentFile(b"%PDF-1.7"))
    message = EmailMultiAlternatives(
        "签到码",
        "签到码 SECRET-TEXT",
        "noreply@example.org",
        ["b@example.org"],
        headers={"List-Unsubscribe": "<https://x.example/u/SECRET-HEADER/>"},
    )
    message.attach_alternative("<p>SECRET-HTML</p>", "text/html")
    message.attach("qr.txt", "SECRET-ATTACHMENT", "text/plain")
    attach_stored(
        message, filename="证书.pdf", storage_name=stored, mimetype="application/pdf"
    )
    with django_capture_on_commit_callbacks(execute=True):
        message.send()
    (delivered,) = mail.outbox
    assert delivered.extra_headers["List-Unsubscribe"].endswith("SECRET-HEADER/>")
    assert delivered.attachments[0][1] == "SECRET-ATTACHMENT"

    email = OutgoingEmail.objects.get()
    assert "SECRET" not in row_text(email)
    # The names stay, and the certificate's own file is left alone.
    assert email.attachments == [
        {"filename": "qr.txt", "mimetype": "text/plain"},
        {"filename": "证书.pdf", "mimetype": "application/pdf", "storage_name": stored},
    ]
    assert default_storage.exists(stored)
    default_storage.delete(stored)


def test_a_delivered_email_set_back_to_pending_is_not_sent_empty(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        send_mail("一次", "正文", "noreply@example.org", ["a@example.org"])
    email = OutgoingEmail.objects.get()
    # What the admin's status form allows, by mistake or to "resend".
    OutgoingEmail.objects.filter(pk=email.pk).update(
        status=OutgoingEmail.Status.PENDING
    )
    services.email_deliver(email_id=email.pk)
    email.refresh_from_db()
    assert email.status == OutgoingEmail.Status.FAILED
    assert email.last_error
    assert len(mail.outbox) == 1


# --- retention ---------------------------------------------------------------------


def outbox_row(status: str, age_days: int) -> OutgoingEmail:
    when = timezone.now() - timedelta(days=age_days)
    email = OutgoingEmail.objects.create(
        subject=f"{status} {age_days}",
        from_email="noreply@example.org",
        to=["a@example.org"],
        status=status,
        sent_at=when if status == OutgoingEmail.Status.SENT else None,
    )
    OutgoingEmail.objects.filter(pk=email.pk).update(created_at=when)
    return email


def test_the_purge_deletes_old_sent_emails_only(settings):
    settings.PORTAL_EMAIL_RETENTION_DAYS = 90
    old_sent = [outbox_row(OutgoingEmail.Status.SENT, 91) for _ in range(3)]
    kept = [
        outbox_row(OutgoingEmail.Status.SENT, 89),
        outbox_row(OutgoingEmail.Status.PENDING, 400),
        outbox_row(OutgoingEmail.Status.FAILED, 400),
    ]
    assert services.email_purge_sent(batch_size=2) == len(old_sent)
    assert set(OutgoingEmail.objects.all()) == set(kept)
    assert purge_sent_email.delay().get() == 0  # the beat task: nothing left

    settings.PORTAL_EMAIL_RETENTION_DAYS = 30  # the setting decides the age
    assert services.email_purge_sent() == 1
    assert OutgoingEmail.objects.filter(status=OutgoingEmail.Status.SENT).count() == 0


def test_the_purge_runs_daily_on_beat(settings):
    tasks = [entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()]
    assert "portal.tasks.purge_sent_email" in tasks


def test_an_announcement_report_still_counts_purged_emails_as_sent(
    home, django_capture_on_commit_callbacks
):
    for _ in range(2):
        SubscriptionFactory()
    announcement = AnnouncementFactory()
    with django_capture_on_commit_callbacks(execute=True):
        subscription_services.announcement_send(announcement=announcement, by=None)
    assert selectors.announcement_report(announcement=announcement).sent == 2
    OutgoingEmail.objects.update(sent_at=timezone.now() - timedelta(days=365))
    assert services.email_purge_sent() == 2
    report = selectors.announcement_report(announcement=announcement)
    assert (report.recipients, report.sent, report.pending) == (2, 2, 0)


# --- development: the outbox is the mailbox ------------------------------------------


def test_in_development_the_outbox_keeps_and_shows_every_email(
    superuser_client, home, settings, django_capture_on_commit_callbacks
):
    """Under `make run` no mail leaves the machine: a new account's
    confirmation link, or a reset link, is read in the admin's outbox."""
    settings.PORTAL_EMAIL_KEEP_CONTENT = True
    UserFactory(email="dev@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        request_reset(Client(), "dev@example.org")
    (delivered,) = mail.outbox
    key = RESET_KEY.search(delivered.body).group(1)
    email = OutgoingEmail.objects.get(to=["dev@example.org"])
    assert email.status == OutgoingEmail.Status.SENT and email.sensitive
    assert email.body_removed_at is None
    pages = admin_pages(superuser_client, email)
    assert f"/accounts/password/reset/key/{key}/" in pages


def test_keeping_emails_is_refused_by_the_deploy_check(settings):
    from portal import checks

    settings.PORTAL_EMAIL_KEEP_CONTENT = True
    assert [m.id for m in checks.check_outbox_keeps_no_secrets(None)] == ["portal.E011"]
    settings.PORTAL_EMAIL_KEEP_CONTENT = False
    assert checks.check_outbox_keeps_no_secrets(None) == []


def test_development_settings_keep_emails_and_production_does_not():
    import os
    import subprocess
    import sys
    from pathlib import Path

    code = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.PORTAL_EMAIL_KEEP_CONTENT)"
    )
    base = {**os.environ}
    production = {
        "DJANGO_SETTINGS_MODULE": "portal.settings.production",
        "SECRET_KEY": "x7!kq2Lr9vZ0pW4eYh3Tn8sGm1Bc6Jd5Fa0Ru2Ox9Ei7Uy4Hw3Qt6Ps1Lk8Mn5",
        "EMAIL_URL": "smtp+tls://portal:secret@smtp.example.org:587",
    }
    answers = [
        subprocess.run(
            [sys.executable, "-c", code],
            cwd=Path(__file__).resolve().parents[2],
            env={**base, **env},
            capture_output=True,
            text=True,
            timeout=60,
        ).stdout.strip()
        for env in ({"DJANGO_SETTINGS_MODULE": "portal.settings.dev"}, production)
    ]
    assert answers == ["True", "False"]

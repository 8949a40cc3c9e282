"""Settings › Background work (portal.admin_background_work): what an operator
sees of the work that waits or failed, what a retry does (once), and what a
staff member without the permission, or an attacker, can not do."""

import datetime
import re
from datetime import timedelta

import pytest

from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.core import mail
from django.db import connection
from django.test import Client, TestCase
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from wagtail.models import ModelLogEntry

from courses.certificates import services as certificate_services
from courses.certificates.services.sweep import MAX_RENDER_ATTEMPTS
from courses.models import (
    Certificate,
    CertificateBatch,
    CertificateBatchItem,
    CertificateRequest,
)
from portal import background_work
from portal.models import ImportJob, OutgoingEmail
from subscriptions.models import Announcement, AnnouncementDelivery
from tests.courses.factories import CertificateRequestFactory
from tests.factories import StaffFactory, UserFactory, activate_totp
from tests.subscriptions.factories import AnnouncementFactory

pytestmark = pytest.mark.django_db

PAGE = "/admin/background-work/"
LONG_AGO = timedelta(hours=1)


def retry_url(kind: str) -> str:
    return reverse("portal_background_work_retry", args=[kind])


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def staff_with(*perms: str):
    """A staff member (not a superuser) with a proven second factor, admin
    access and `perms`."""
    user = UserFactory(is_staff=True)
    activate_totp(user)
    for name in ("wagtailadmin.access_admin", *perms):
        app_label, codename = name.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    return user


def outbox_row(status: str, *, age: timedelta = LONG_AGO, **fields) -> OutgoingEmail:
    email = OutgoingEmail.objects.create(
        status=status,
        subject=fields.pop("subject", "培训通知"),
        body="正文",
        from_email="noreply@example.org",
        to=fields.pop("to", ["xueyuan@example.org"]),
        sent_at=timezone.now() if status == OutgoingEmail.Status.SENT else None,
        **fields,
    )
    OutgoingEmail.objects.filter(pk=email.pk).update(created_at=timezone.now() - age)
    email.refresh_from_db()
    return email


def unrendered_certificate(*, attempts: int = 0, age: timedelta = LONG_AGO):
    request = CertificateRequestFactory()
    certificate, _ = certificate_services.certificate_issue(
        request_id=request.pk, render=False
    )
    Certificate.objects.filter(pk=certificate.pk).update(
        issued_at=timezone.now() - age,
        render_attempts=attempts,
        last_error="TemplateAssetError: 印章图片缺失" if attempts else "",
    )
    certificate.refresh_from_db()
    return certificate


def failed_batch_item() -> CertificateBatchItem:
    batch = CertificateBatch.objects.create(
        title="2026年第3期培训班",
        status=CertificateBatch.Status.DONE,
        finished_at=timezone.now(),
    )
    CertificateBatch.objects.filter(pk=batch.pk).update(
        created_at=timezone.now() - LONG_AGO
    )
    return CertificateBatchItem.objects.create(
        batch=batch,
        request=CertificateRequestFactory(),
        status=CertificateBatchItem.Status.FAILED,
        error="证书模板缺少印章",
        finished_at=timezone.now(),
    )


def import_job(status: str, *, age: timedelta = LONG_AGO, **fields) -> ImportJob:
    fields.setdefault("filename", "专家名单.xlsx")
    job = ImportJob.objects.create(kind=ImportJob.Kind.EXPERT, status=status, **fields)
    ImportJob.objects.filter(pk=job.pk).update(updated_at=timezone.now() - age)
    job.refresh_from_db()
    return job


def announcement_with_failed_email() -> tuple[Announcement, OutgoingEmail]:
    announcement = AnnouncementFactory(
        status=Announcement.Status.SENT,
        send_started_at=timezone.now() - LONG_AGO,
        sent_at=timezone.now() - LONG_AGO,
        recipient_count=1,
    )
    email = outbox_row(
        OutgoingEmail.Status.FAILED,
        subject=announcement.subject,
        attempts=5,
        last_error="SMTPRecipientsRefused",
    )
    AnnouncementDelivery.objects.create(
        announcement=announcement,
        user=UserFactory(),
        status=AnnouncementDelivery.Status.QUEUED,
        queued_at=timezone.now() - LONG_AGO,
        email=email,
    )
    return announcement, email


def section(html: str, kind: str) -> str:
    """The page's section of one kind ("" when the page has none)."""
    start = html.find(f'id="work-{kind}"')
    if start < 0:
        return ""
    end = html.find("</section>", start)
    return html[start:end]


def post(client: Client, url: str, data: dict | None = None):
    """A retry as the browser sends it, with the commit's callbacks run (the
    test's transaction never commits): the tasks then run, eagerly."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(url, data or {})


def refused(response) -> bool:
    """Wagtail answers a PermissionDenied in the admin with a redirect to the
    dashboard (and a message); the MFA check redirects to its own page."""
    if response.status_code == 403:
        return True
    return response.status_code == 302 and not response.url.startswith(PAGE)


def messages_of(response) -> list[str]:
    return [str(message).strip() for message in get_messages(response.wsgi_request)]


# --- what the page shows -------------------------------------------------------


class TestEachKindAppearsWhileWaitingOrFailed:
    def test_emails(self):
        failed = outbox_row(
            OutgoingEmail.Status.FAILED,
            subject="失败的通知",
            attempts=5,
            last_error="SMTPServerDisconnected: 连接中断",
        )
        outbox_row(OutgoingEmail.Status.SENT, subject="已发送的通知")
        html = signed_in(StaffFactory()).get(PAGE).content.decode()
        emails = section(html, "email")
        assert "失败的通知" in emails and "SMTPServerDisconnected: 连接中断" in emails
        assert "已发送的通知" not in emails
        assert f'name="id" value="{failed.pk}"' in emails

        OutgoingEmail.objects.filter(pk=failed.pk).update(
            status=OutgoingEmail.Status.SENT, sent_at=timezone.now()
        )
        emails = section(signed_in(StaffFactory()).get(PAGE).content.decode(), "email")
        assert "失败的通知" not in emails
        assert "Nothing is waiting or failed." in emails or "没有" in emails

    def test_certificate_pdfs(self):
        failed = unrendered_certificate(attempts=MAX_RENDER_ATTEMPTS)
        html = signed_in(StaffFactory()).get(PAGE).content.decode()
        pdfs = section(html, "certificate-pdfs")
        assert failed.serial in pdfs and "印章图片缺失" in pdfs

        Certificate.objects.filter(pk=failed.pk).update(rendered_at=timezone.now())
        html = signed_in(StaffFactory()).get(PAGE).content.decode()
        assert failed.serial not in section(html, "certificate-pdfs")

    def test_bulk_run_items(self):
        item = failed_batch_item()
        html = signed_in(StaffFactory()).get(PAGE).content.decode()
        runs = section(html, "certificate-runs")
        assert "证书模板缺少印章" in runs and "2026年第3期培训班" in runs

        CertificateBatchItem.objects.filter(pk=item.pk).update(
            status=CertificateBatchItem.Status.ISSUED, error=""
        )
        html = signed_in(StaffFactory()).get(PAGE).content.decode()
        assert "2026年第3期培训班" not in section(html, "certificate-runs")

    def test_imports(self):
        failed = import_job(ImportJob.Status.FAILED, message="导入因意外错误而停止")
        stuck = import_job(ImportJob.Status.QUEUED, filename="卡住的名单.csv")
        import_job(ImportJob.Status.DONE, filename="已完成的名单.csv")
        imports = section(
            signed_in(StaffFactory()).get(PAGE).content.decode(), "imports"
        )
        assert "导入因意外错误而停止" in imports
        assert "已完成的名单.csv" not in imports
        # A failed import says why it is not retried; a queued one can be.
        assert f'name="id" value="{failed.pk}"' not in imports
        assert "is not run again" in imports or "不会" in imports
        assert f'name="id" value="{stuck.pk}"' in imports

    def test_announcements(self):
        announcement, _email = announcement_with_failed_email()
        html = signed_in(StaffFactory()).get(PAGE).content.decode()
        assert announcement.subject in section(html, "announcements")

        OutgoingEmail.objects.filter(pk=_email.pk).update(
            status=OutgoingEmail.Status.SENT, sent_at=timezone.now()
        )
        html = signed_in(StaffFactory()).get(PAGE).content.decode()
        assert announcement.subject not in section(html, "announcements")

    def test_a_fresh_email_is_waiting_not_stuck_and_offers_no_retry(self):
        fresh = outbox_row(OutgoingEmail.Status.PENDING, age=timedelta(seconds=5))
        emails = section(signed_in(StaffFactory()).get(PAGE).content.decode(), "email")
        assert 'data-count="pending">1<' in emails
        assert 'data-count="stuck">0<' in emails
        assert f'name="id" value="{fresh.pk}"' not in emails


def test_times_are_shown_in_shanghai_time_and_nothing_says_none():
    email = outbox_row(OutgoingEmail.Status.FAILED, attempts=5)
    OutgoingEmail.objects.filter(pk=email.pk).update(
        created_at=datetime.datetime(2026, 3, 1, 2, 30, tzinfo=datetime.UTC)
    )
    html = signed_in(StaffFactory()).get(PAGE).content.decode()
    assert "2026-03-01 10:30" in section(html, "email")
    assert ">None<" not in html and "None</" not in html


def background_work_page_title():
    from portal.admin_background_work import BackgroundWorkView

    return BackgroundWorkView.page_title


def test_the_page_names_itself_in_the_header_and_the_menu():
    client = signed_in(StaffFactory())
    html = client.get(PAGE).content.decode()
    title = str(background_work_page_title())
    assert f"<title>{title}" in html
    assert re.search(rf'<h1 class="w-sr-only">\s*{title}\s*</h1>', html)
    assert re.search(rf"w-breadcrumbs.*{title}", html, re.DOTALL)
    assert PAGE in client.get("/admin/").content.decode()


# --- retrying -----------------------------------------------------------------------


def test_a_failed_email_retried_is_delivered_once_however_often_it_is_clicked():
    failed = outbox_row(
        OutgoingEmail.Status.FAILED, subject="重发的通知", attempts=5, last_error="x"
    )
    client = signed_in(StaffFactory())
    response = post(client, retry_url("email"), {"id": failed.pk})
    assert response.status_code == 302
    assert response.url.startswith(PAGE)
    assert [m.subject for m in mail.outbox] == ["重发的通知"]
    failed.refresh_from_db()
    assert failed.status == OutgoingEmail.Status.SENT
    assert failed.attempts == 1  # reset to 0, then one delivery
    kind = background_work.work_kind("email")
    assert messages_of(response) == [kind.retried(1)]
    entry = ModelLogEntry.objects.get(action=background_work.LOG_RETRIED)
    assert entry.data["kind"] == "email" and entry.data["count"] == 1

    again = post(client, retry_url("email"), {"id": failed.pk})
    assert len(mail.outbox) == 1
    assert messages_of(again)[-1] != kind.retried(1)  # "nothing was re-queued"
    assert ModelLogEntry.objects.filter(action=background_work.LOG_RETRIED).count() == 1


def test_retry_all_takes_every_failed_and_stuck_email_but_no_fresh_or_sent_one():
    for n in range(3):
        outbox_row(OutgoingEmail.Status.FAILED, subject=f"失败{n}", attempts=5)
    outbox_row(OutgoingEmail.Status.PENDING, subject="卡住")
    outbox_row(OutgoingEmail.Status.SENT, subject="已发送")
    outbox_row(OutgoingEmail.Status.PENDING, subject="刚写入", age=timedelta(seconds=1))
    response = post(signed_in(StaffFactory()), retry_url("email"))
    # The fresh one is not counted (its own task is on its way), whether or
    # not the outbox's delivery took it along in the same batch.
    assert messages_of(response) == [background_work.work_kind("email").retried(4)]
    delivered = sorted(m.subject for m in mail.outbox if m.subject != "刚写入")
    assert delivered == ["卡住", "失败0", "失败1", "失败2"]
    assert "已发送" not in [m.subject for m in mail.outbox]


def test_an_email_whose_content_was_removed_says_so_and_is_not_retried():
    emptied = outbox_row(
        OutgoingEmail.Status.FAILED,
        subject="内容已删除",
        attempts=1,
        last_error="Body removed after delivery: nothing to send.",
        body_removed_at=timezone.now(),
    )
    client = signed_in(StaffFactory())
    emails = section(client.get(PAGE).content.decode(), "email")
    assert f'name="id" value="{emptied.pk}"' not in emails
    assert "nothing left to send" in emails or "没有可发送" in emails
    post(client, retry_url("email"), {"id": emptied.pk})
    post(client, retry_url("email"))
    emptied.refresh_from_db()
    assert emptied.status == OutgoingEmail.Status.FAILED
    assert mail.outbox == []


def test_a_failed_certificate_pdf_retried_is_rendered_and_emailed_once():
    certificate = unrendered_certificate(attempts=MAX_RENDER_ATTEMPTS)
    client = signed_in(StaffFactory())
    post(client, retry_url("certificate-pdfs"), {"id": certificate.pk})
    certificate.refresh_from_db()
    assert certificate.rendered_at is not None and certificate.pdf
    assert certificate.last_error == ""
    assert len(mail.outbox) == 1 and certificate.user.email in mail.outbox[0].to
    post(client, retry_url("certificate-pdfs"), {"id": certificate.pk})
    post(client, retry_url("certificate-pdfs"))
    assert len(mail.outbox) == 1


def test_a_failed_bulk_run_item_retried_is_issued_and_the_run_finished(monkeypatch):
    # The render is another test's business; here only what the retry issues.
    monkeypatch.setattr(
        certificate_services.batches, "certificates_render_many", lambda **kw: []
    )
    item = failed_batch_item()
    client = signed_in(StaffFactory())
    post(client, retry_url("certificate-runs"), {"id": item.pk})
    item.refresh_from_db()
    assert item.status == CertificateBatchItem.Status.ISSUED and item.error == ""
    assert item.batch.status == CertificateBatch.Status.DONE
    assert Certificate.objects.filter(request=item.request).count() == 1
    item.request.refresh_from_db()
    assert item.request.status == CertificateRequest.Status.ISSUED
    post(client, retry_url("certificate-runs"))
    assert Certificate.objects.filter(request=item.request).count() == 1


def test_a_stuck_queued_import_is_checked_again_and_a_failed_one_never(monkeypatch):
    checked = []
    monkeypatch.setattr(
        "portal.import_jobs.import_job_check_run",
        lambda *, job_id: checked.append(job_id),
    )
    stuck = import_job(ImportJob.Status.QUEUED)
    failed = import_job(ImportJob.Status.FAILED, message="失败")
    writing = import_job(ImportJob.Status.WRITING)
    client = signed_in(StaffFactory())
    post(client, retry_url("imports"), {"id": [stuck.pk, failed.pk, writing.pk]})
    assert checked == [stuck.pk]
    # No longer stuck: a second click re-queues nothing.
    post(client, retry_url("imports"))
    assert checked == [stuck.pk]
    failed.refresh_from_db()
    writing.refresh_from_db()
    assert failed.status == ImportJob.Status.FAILED
    assert writing.status == ImportJob.Status.WRITING


def test_an_announcements_failed_email_retried_reaches_its_recipient_once():
    announcement, email = announcement_with_failed_email()
    client = signed_in(StaffFactory())
    response = post(client, retry_url("announcements"), {"id": announcement.pk})
    assert [m.subject for m in mail.outbox] == [announcement.subject]
    email.refresh_from_db()
    assert email.status == OutgoingEmail.Status.SENT
    kind = background_work.work_kind("announcements")
    assert messages_of(response) == [kind.retried(1)]
    post(client, retry_url("announcements"), {"id": announcement.pk})
    assert len(mail.outbox) == 1


def test_a_stuck_announcement_is_sent_to_the_recipients_not_yet_reached():
    subscriber = UserFactory()
    from tests.subscriptions.factories import SubscriptionFactory

    SubscriptionFactory(user=subscriber)
    announcement = AnnouncementFactory(
        status=Announcement.Status.SENDING,
        send_started_at=timezone.now() - LONG_AGO,
        recipient_count=1,
    )
    AnnouncementDelivery.objects.create(announcement=announcement, user=subscriber)
    client = signed_in(StaffFactory())
    post(client, retry_url("announcements"))
    assert [m.to for m in mail.outbox] == [[subscriber.email]]
    announcement.refresh_from_db()
    assert announcement.status == Announcement.Status.SENT
    post(client, retry_url("announcements"), {"id": announcement.pk})
    assert len(mail.outbox) == 1


# --- who may ------------------------------------------------------------------------


def test_staff_without_any_of_the_permissions_gets_403_and_no_menu_item():
    outsider = staff_with()
    failed = outbox_row(OutgoingEmail.Status.FAILED, attempts=5)
    client = signed_in(outsider)
    assert refused(client.get(PAGE))
    assert PAGE not in client.get("/admin/").content.decode()
    assert refused(post(client, retry_url("email"), {"id": failed.pk}))
    assert refused(post(client, retry_url("email")))
    failed.refresh_from_db()
    assert failed.status == OutgoingEmail.Status.FAILED and mail.outbox == []


def test_staff_see_and_retry_only_the_kinds_their_permissions_cover():
    operator = staff_with("portal.change_outgoingemail")
    certificate = unrendered_certificate(attempts=MAX_RENDER_ATTEMPTS)
    client = signed_in(operator)
    html = client.get(PAGE).content.decode()
    assert section(html, "email")
    assert section(html, "certificate-pdfs") == "" and certificate.serial not in html
    assert PAGE in client.get("/admin/").content.decode()
    assert refused(post(client, retry_url("certificate-pdfs"), {"id": certificate.pk}))
    certificate.refresh_from_db()
    assert certificate.render_attempts == MAX_RENDER_ATTEMPTS


def test_a_superuser_whose_session_did_not_prove_mfa_can_neither_see_nor_retry():
    unproved = StaffFactory(mfa=False)
    failed = outbox_row(OutgoingEmail.Status.FAILED, attempts=5)
    client = signed_in(unproved)
    page = client.get(PAGE)
    assert refused(page)
    assert "SMTP" not in page.content.decode() and failed.subject not in (
        page.content.decode()
    )
    assert refused(post(client, retry_url("email"), {"id": failed.pk}))
    failed.refresh_from_db()
    assert failed.status == OutgoingEmail.Status.FAILED and mail.outbox == []


def test_a_get_to_the_retry_url_does_nothing():
    failed = outbox_row(OutgoingEmail.Status.FAILED, attempts=5)
    response = signed_in(StaffFactory()).get(retry_url("email") + f"?id={failed.pk}")
    assert response.status_code == 405
    failed.refresh_from_db()
    assert failed.status == OutgoingEmail.Status.FAILED and mail.outbox == []


def test_a_retry_without_the_csrf_token_is_refused():
    failed = outbox_row(OutgoingEmail.Status.FAILED, attempts=5)
    client = Client(enforce_csrf_checks=True)
    client.force_login(StaffFactory())
    assert post(client, retry_url("email"), {"id": failed.pk}).status_code == 403
    failed.refresh_from_db()
    assert failed.status == OutgoingEmail.Status.FAILED and mail.outbox == []


@pytest.mark.parametrize("forged", ["abc", "-1", "99999999999999999999999"])
def test_a_forged_row_id_or_kind_is_not_found(forged):
    client = signed_in(StaffFactory())
    assert post(client, retry_url("email"), {"id": forged}).status_code == 404
    assert post(client, retry_url("no-such-kind")).status_code == 404


# --- queries --------------------------------------------------------------------------


#: The tables of the work listed: each kind reads its counts in one query and
#: its latest rows (with what they show) in another.
WORK_TABLES = (
    "portal_outgoingemail",
    "courses_certificate",
    "portal_importjob",
    "subscriptions_announcement",
)


def page_queries(client) -> tuple[int, int]:
    """All the queries of a second request to the page (not counting the
    cache's), and those that read the work."""
    client.get(PAGE)  # warm the caches (content types, site, menu)
    with CaptureQueriesContext(connection) as context:
        assert client.get(PAGE).status_code == 200
    sql = [q["sql"] for q in context.captured_queries]
    sql = [q for q in sql if "portal_cache" not in q]
    return len(sql), len([q for q in sql if any(t in q for t in WORK_TABLES)])


def grow(count: int) -> None:
    for _ in range(count):
        outbox_row(OutgoingEmail.Status.FAILED, attempts=5)
        unrendered_certificate(attempts=MAX_RENDER_ATTEMPTS)
        failed_batch_item()
        import_job(ImportJob.Status.FAILED, message="失败")
        announcement_with_failed_email()


def test_the_page_runs_the_same_queries_for_two_rows_as_for_thirty():
    client = signed_in(StaffFactory())
    grow(2)
    small = page_queries(client)
    grow(28)  # more than the rows shown
    large = page_queries(client)
    assert small == large
    kinds = len(background_work.work_kinds())
    assert large[1] == 2 * kinds

"""Certificates as a learner and an auditor see them: issued once with a gap-free
serial, the PDF correct for every Chinese name, frozen template, lifecycle."""

import datetime
import io
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
from PIL import Image as PILImage

from django.core import mail
from django.core.files.images import ImageFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from wagtail.images.models import Image

from courses.certificates import rendering, services
from courses.certificates.services import batches as batch_services
from courses.models import (
    Certificate,
    CertificateBatchItem,
    CertificateRequest,
    CertificateSettings,
    CertificateTemplate,
    TrainingClass,
    TrainingClassMember,
)
from portal.mail import fields_to_message
from portal.models import OutgoingEmail
from tests.courses.factories import CertificateRequestFactory
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

RARE_NAMES = ["张喆", "李堃", "王玥", "陈珺", "刘昇", "黄燊", "赵龑"]


def pdf_text(data: bytes) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", "-", "-"],
        input=data,
        capture_output=True,
        check=True,
    ).stdout.decode()


def pdf_fonts(data: bytes, tmp_path: Path) -> str:
    path = tmp_path / "c.pdf"
    path.write_bytes(data)
    return subprocess.run(
        ["pdffonts", str(path)], capture_output=True, check=True, text=True
    ).stdout


def issue(request: CertificateRequest) -> Certificate:
    return services.certificate_issue(request_id=request.pk, render=False)[0]


def png(colour: str = "red") -> ImageFile:
    buffer = io.BytesIO()
    PILImage.new("RGBA", (60, 60), colour).save(buffer, "PNG")
    return ImageFile(buffer, name="seal.png")


class TestExactlyOnce:
    def test_issuing_twice_gives_the_same_certificate(self):
        request = CertificateRequestFactory()
        first, created = services.certificate_issue(request_id=request.pk, render=False)
        again, created_again = services.certificate_issue(
            request_id=request.pk, render=False
        )
        assert created and not created_again
        assert first.pk == again.pk
        assert Certificate.objects.count() == 1
        request.refresh_from_db()
        assert request.status == CertificateRequest.Status.ISSUED

    def test_the_database_refuses_a_second_certificate_for_one_achievement(self):
        certificate = issue(CertificateRequestFactory())
        with pytest.raises(IntegrityError), transaction.atomic():
            Certificate.objects.create(
                request=certificate.request,
                serial="CQIP-2099-000001",
                code="another-code",
                user=certificate.user,
                learner_name=certificate.learner_name,
                title=certificate.title,
                hours=certificate.hours,
                achieved_on=certificate.achieved_on,
                template_version=certificate.template_version,
            )

    def test_serials_are_per_year_without_gaps_and_codes_are_random(self):
        certificates = [issue(CertificateRequestFactory()) for _ in range(3)]
        year = timezone.localdate().year
        assert [c.serial for c in certificates] == [
            f"CQIP-{year}-{n:06d}" for n in (1, 2, 3)
        ]
        codes = {c.code for c in certificates}
        assert len(codes) == 3
        assert all(
            len(code) >= 20 and code not in c.serial
            for c, code in zip(certificates, codes, strict=False)
        )

    def test_a_rolled_back_issue_gives_its_serial_number_back(self):
        request = CertificateRequestFactory()
        with pytest.raises(RuntimeError), transaction.atomic():
            issue(request)
            raise RuntimeError("the surrounding work failed")
        assert Certificate.objects.count() == 0
        year = timezone.localdate().year
        assert issue(request).serial == f"CQIP-{year}-000001"

    def test_the_name_title_hours_and_date_are_copied_in(self):
        user = UserFactory(real_name="李堃")
        request = CertificateRequestFactory(
            user=user, title="专利信息利用", hours=Decimal("3.5")
        )
        certificate = issue(request)
        user.real_name = "李昆"
        user.save()
        request.title = "changed"
        request.save()
        certificate.refresh_from_db()
        assert (certificate.learner_name, certificate.title, certificate.hours) == (
            "李堃",
            "专利信息利用",
            Decimal("3.5"),
        )


class TestCompletionIssuesTheCertificate:
    def test_completing_a_course_issues_renders_and_mails_the_certificate(
        self, django_capture_on_commit_callbacks
    ):
        from courses.tasks import issue_certificate

        request = CertificateRequestFactory(user=UserFactory(real_name="李堃"))
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            issue_certificate.delay_on_commit(request.pk)
        certificate = Certificate.objects.get(request=request)
        assert certificate.rendered_at is not None
        with certificate.pdf.open("rb") as handle:
            data = handle.read()
        assert data.startswith(b"%PDF")
        assert "李堃" in pdf_text(data)
        row = OutgoingEmail.objects.get(to=[request.user.email])
        # The outbox row names the stored PDF (and, delivered, keeps no body);
        # the delivered e-mail carries both.
        assert row.attachments[0]["storage_name"] == certificate.pdf.name
        (delivered,) = mail.outbox
        assert "知识产权基础" in delivered.subject
        assert certificate.serial in delivered.body
        assert rendering.verify_url(certificate.code, "zh-hans") in delivered.body
        assert delivered.attachments[0] == (
            f"{certificate.serial}.pdf",
            data,
            "application/pdf",
        )

    def test_the_e_mail_is_plain_text_not_escaped_html(self):
        # A title with "&" or "<" is text: the subject and body say it as
        # the course page does, never "&amp;".
        title = "专利 & 商标 <实务>"
        certificate = issue(CertificateRequestFactory(title=title))
        services.certificate_render(certificate_id=certificate.pk)
        message = fields_to_message(OutgoingEmail.objects.get())
        assert title in message.subject
        assert "&amp;" not in message.subject + message.body
        assert "&lt;" not in message.subject + message.body

    def test_rendering_twice_stores_and_mails_once(self):
        certificate = issue(CertificateRequestFactory())
        assert services.certificate_render(certificate_id=certificate.pk)
        assert not services.certificate_render(certificate_id=certificate.pk)
        assert OutgoingEmail.objects.count() == 1


class TestThePdf:
    def test_every_chinese_name_renders_as_searchable_text(self, tmp_path):
        from fontTools.ttLib import TTCollection

        certificates = [
            issue(CertificateRequestFactory(user=UserFactory(real_name=name)))
            for name in RARE_NAMES
        ]
        pdfs = rendering.render_pdfs(
            [(c, c.template_version.content) for c in certificates]
        )
        for name, data in zip(RARE_NAMES, pdfs, strict=True):
            assert name in pdf_text(data).replace(" ", "")
            fonts = pdf_fonts(data, tmp_path)
            # Every font embedded is Noto CJK: no fallback font drew a box.
            names = [line.split()[0] for line in fonts.splitlines()[2:]]
            assert names and all("Noto" in font for font in names), fonts
        serif = TTCollection("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc")
        cmap = serif.fonts[0].getBestCmap()  # the first face is Simplified Chinese
        for name in RARE_NAMES:
            assert all(ord(char) in cmap for char in name), name

    def test_english_learners_get_a_bilingual_certificate(self):
        user = UserFactory(real_name="王玥", language="en")
        certificate = issue(CertificateRequestFactory(user=user))
        text = pdf_text(rendering.render_pdf(certificate))
        assert "结业证书" in text
        assert "Certificate of Completion" in text
        # The printed link may wrap under the QR code: compare without the
        # line breaks and the layout's padding.
        assert "/en/certificates/verify/" in "".join(text.split())

    def test_a4_landscape_one_page_with_the_verification_link(self, tmp_path):
        certificate = issue(CertificateRequestFactory())
        data = rendering.render_pdf(certificate)
        path = tmp_path / "c.pdf"
        path.write_bytes(data)
        info = subprocess.run(
            ["pdfinfo", str(path)], capture_output=True, text=True, check=True
        ).stdout
        assert "Pages:           1" in info
        assert "841.89 x 595.276 pts" in info or "842 x 595 pts" in info
        assert certificate.code in pdf_text(data).replace("\n", "").replace(" ", "")

    def test_the_qr_code_scans_to_the_certificates_verification_page(self, tmp_path):
        # As a checker's phone would: the printed page, read by a barcode
        # reader (ZBar), gives the certificate's own verification address.
        certificate = issue(CertificateRequestFactory())
        (tmp_path / "c.pdf").write_bytes(rendering.render_pdf(certificate))
        subprocess.run(
            ["pdftoppm", "-r", "150", "-png", "-singlefile", "c.pdf", "page"],
            cwd=tmp_path,
            check=True,
        )
        scanned = subprocess.run(
            ["zbarimg", "--quiet", "--raw", "page.png"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        assert scanned == rendering.verify_url(certificate.code, "zh-hans")
        assert scanned.startswith("http://testserver/")

    def test_images_are_read_from_storage_and_never_over_http(self):
        fetcher = rendering.url_fetcher()
        with pytest.raises(ValueError):
            fetcher.fetch("http://example.org/seal.png")


class TestTemplates:
    def test_editing_a_template_never_changes_an_issued_certificate(self):
        first = issue(CertificateRequestFactory())
        template = CertificateTemplate.objects.get()
        template.title = "培训合格证书"
        template.save()
        second = issue(CertificateRequestFactory())
        first.refresh_from_db()
        assert first.template_version.content["title"] == "结业证书"
        assert second.template_version.content["title"] == "培训合格证书"
        assert "结业证书" in pdf_text(rendering.render_pdf(first))

    def test_an_unchanged_template_reuses_its_version(self):
        a = issue(CertificateRequestFactory())
        b = issue(CertificateRequestFactory())
        assert a.template_version_id == b.template_version_id

    def test_an_unknown_placeholder_is_a_clear_error(self):
        template = CertificateTemplate.objects.get()
        template.body = "{姓名} 完成了 {title}"
        with pytest.raises(Exception) as error:
            template.full_clean()
        assert "{姓名}" in str(error.value)

    def test_a_broken_seal_image_stops_issuing_with_a_reason(self):
        image = Image.objects.create(title="seal", file=png())
        settings = CertificateSettings.load()
        settings.seal = image
        settings.save()
        Path(image.file.path).write_bytes(b"not an image")
        request = CertificateRequestFactory()
        from courses.tasks import issue_certificate

        issue_certificate.delay(request.pk)
        request.refresh_from_db()
        assert request.status == CertificateRequest.Status.PENDING
        assert "seal.png" in request.last_error
        assert not Certificate.objects.exists()

    def test_the_seal_and_validity_are_used(self):
        settings = CertificateSettings.load()
        settings.seal = Image.objects.create(title="seal", file=png())
        settings.save()
        template = CertificateTemplate.objects.get()
        template.validity_months = 24
        template.save()
        certificate = issue(CertificateRequestFactory())
        today = timezone.localdate()
        assert certificate.expires_on == today.replace(year=today.year + 2) or (
            today.month == 2 and today.day == 29
        )
        assert certificate.template_version.content["seal"]["file"]
        data = rendering.render_pdf(certificate)
        assert b"/Subtype /Image" in data or b"/Subtype/Image" in data


class TestLifecycle:
    def test_revoking_needs_a_reason_and_keeps_the_record(self):
        certificate = issue(CertificateRequestFactory())
        staff = UserFactory(is_staff=True)
        with pytest.raises(services.CertificateError):
            services.certificate_revoke(
                certificate_id=certificate.pk, reason="  ", by=staff
            )
        services.certificate_revoke(
            certificate_id=certificate.pk, reason="学时记录有误", by=staff
        )
        certificate.refresh_from_db()
        assert certificate.state == "revoked"
        assert certificate.revoked_reason == "学时记录有误"
        assert certificate.status_changed_at is not None
        with pytest.raises(services.CertificateError):
            services.certificate_revoke(
                certificate_id=certificate.pk, reason="again", by=staff
            )

    def test_reissuing_supersedes_the_old_certificate(self):
        user = UserFactory(real_name="李坤")
        old = issue(CertificateRequestFactory(user=user))
        user.real_name = "李堃"  # the name was misspelt
        user.save()
        new = services.certificate_reissue(certificate_id=old.pk, by=None)
        old.refresh_from_db()
        assert old.state == "superseded"
        assert old.superseded_by == new
        assert new.replaces == old and new.serial != old.serial
        assert new.code != old.code
        assert new.learner_name == "李堃"
        assert Certificate.objects.count() == 2
        with pytest.raises(services.CertificateError):
            services.certificate_reissue(certificate_id=old.pk, by=None)

    def test_an_expired_certificate_says_so(self):
        certificate = issue(CertificateRequestFactory())
        certificate.expires_on = timezone.localdate() - datetime.timedelta(days=1)
        certificate.save()
        assert certificate.state == "expired"

    def test_the_expiry_reminder_is_sent_once(self):
        certificate = issue(CertificateRequestFactory())
        certificate.expires_on = timezone.localdate() + datetime.timedelta(days=10)
        certificate.save()
        assert services.certificates_expiry_remind() == 1
        assert services.certificates_expiry_remind() == 0
        reminder = OutgoingEmail.objects.get()
        assert certificate.serial in reminder.body


class TestBulk:
    @pytest.fixture
    def training_class(self, home):
        from tests.courses.factories import CourseIndexPageFactory, CoursePageFactory

        index = CourseIndexPageFactory(parent=home)
        course = CoursePageFactory(parent=index)
        training_class = TrainingClass.objects.create(
            name="2027年春季知识产权培训班",
            code="2027-spring",
            starts_on=datetime.date(2027, 3, 1),
            ends_on=datetime.date(2027, 4, 30),
        )
        training_class.courses.add(course)
        for _n in range(4):
            user = UserFactory()
            TrainingClassMember.objects.create(training_class=training_class, user=user)
            CertificateRequestFactory(user=user, source_key=course.pk)
        CertificateRequestFactory(source_key=course.pk)  # not a member
        return training_class

    def test_a_bulk_run_certifies_each_completion_once_and_can_run_again(
        self, training_class, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            batch = services.certificate_batch_create(
                training_class=training_class, by=None
            )
        batch.refresh_from_db()
        assert services.batch_progress(batch=batch) == {
            "total": 4,
            "done": 4,
            "issued": 4,
            "already": 0,
            "failed": 0,
            "finished": True,
        }
        assert Certificate.objects.filter(rendered_at__isnull=False).count() == 4
        with django_capture_on_commit_callbacks(execute=True):
            again = services.certificate_batch_create(
                training_class=training_class, by=None
            )
        again.refresh_from_db()
        progress = services.batch_progress(batch=again)
        assert (progress["issued"], progress["already"]) == (0, 4)
        assert Certificate.objects.count() == 4
        assert OutgoingEmail.objects.count() == 4

    def test_one_learners_failure_does_not_stop_the_rest(
        self, training_class, django_capture_on_commit_callbacks, monkeypatch
    ):
        broken = services.training_class_requests(training_class=training_class).first()
        original = services.certificate_issue

        def failing(*, request_id, **kwargs):
            if request_id == broken.pk:
                raise ValueError("学员姓名缺失")
            return original(request_id=request_id, **kwargs)

        # A bulk run issues through the name in its own module.
        monkeypatch.setattr(batch_services, "certificate_issue", failing)
        with django_capture_on_commit_callbacks(execute=True):
            batch = services.certificate_batch_create(
                training_class=training_class, by=None
            )
        batch.refresh_from_db()
        progress = services.batch_progress(batch=batch)
        assert progress["finished"] and progress["failed"] == 1
        assert progress["issued"] == progress["total"] - 1
        failed = batch.items.get(status=CertificateBatchItem.Status.FAILED)
        assert "学员姓名缺失" in failed.error

    def test_the_sweep_picks_up_lost_work(self, django_capture_on_commit_callbacks):
        request = CertificateRequestFactory()
        CertificateRequest.objects.filter(pk=request.pk).update(
            requested_at=timezone.now() - datetime.timedelta(minutes=10)
        )
        with django_capture_on_commit_callbacks(execute=True):
            services.certificates_sweep()
        certificate = Certificate.objects.get(request=request)
        assert certificate.rendered_at is not None

"""The certificate admin as staff use it: templates with a live preview,
certificates with their history, revoke and reissue, waiting requests with a
retry, and bulk runs for a training class with their progress."""

import base64
import datetime
import hashlib
import io
import re
from pathlib import Path

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from PIL import Image as PILImage

from django.contrib.auth.models import Group, Permission
from django.core import mail
from django.core.files.images import ImageFile
from django.db import transaction
from django.urls import reverse
from django.utils import translation
from django.utils.formats import date_format
from django.utils.timezone import localtime

from wagtail.images.models import Image
from wagtail.models import ModelLogEntry, Site
from wagtail.test.utils.form_data import nested_form_data, streamfield

from courses.certificates import rendering, services
from courses.certificates.services import batches as batch_services
from courses.models import (
    Certificate,
    CertificateBatch,
    CertificateRequest,
    CertificateSettings,
    CertificateTemplate,
    TrainingClass,
    TrainingClassMember,
)
from portal.models import OutgoingEmail, SiteSettings
from tests.courses.factories import (
    CertificateRequestFactory,
    CourseIndexPageFactory,
    CoursePageFactory,
)
from tests.factories import StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

TEMPLATES = "wagtailsnippets_courses_certificatetemplate"


def staff_with_mfa(**kwargs):  # type: ignore[no-untyped-def]
    """Staff whose second factor is set up, so the admin lets them in."""
    staff = StaffFactory(**kwargs, mfa=False)
    TOTP.activate(staff, generate_totp_secret())
    return staff


@pytest.fixture
def admin(client, home):  # type: ignore[no-untyped-def]
    client.force_login(staff_with_mfa())
    return client


def png(name: str = "background.png") -> ImageFile:
    buffer = io.BytesIO()
    PILImage.new("RGB", (120, 85), "white").save(buffer, "PNG")
    return ImageFile(buffer, name=name)


def template_form(template: CertificateTemplate, **changes) -> dict:  # type: ignore[no-untyped-def]
    """The snippet editor's form data for a template, with some fields changed."""
    data = {
        "name": template.name,
        "title": template.title,
        "title_en": template.title_en,
        "body": template.body,
        "body_en": template.body_en,
        "background": template.background_id or "",
        "signatories": streamfield([]),
        "validity_months": template.validity_months or "",
    }
    data.update(changes)
    return nested_form_data(data)


def issue(**kwargs) -> Certificate:  # type: ignore[no-untyped-def]
    request = CertificateRequestFactory(**kwargs)
    return services.certificate_issue(request_id=request.pk, render=False)[0]


def inspect_url(certificate: Certificate) -> str:
    return reverse("certificate_admin:inspect", args=[certificate.pk])


# --- templates -------------------------------------------------------------------


class TestTemplates:
    def test_the_preview_shows_the_sample_learner_as_html_and_as_pdf(self, admin):
        template = CertificateTemplate.objects.get()
        url = reverse(f"{TEMPLATES}:preview_on_edit", args=[template.pk])
        checked = admin.post(url, template_form(template, title="培训合格证书"))
        assert checked.json() == {"is_valid": True, "is_available": True}

        html = admin.get(url)
        assert html.status_code == 200
        page = html.content.decode()
        assert "李堃" in page
        assert "培训合格证书" in page  # the unsaved edit, not the stored title

        pdf = admin.get(url, {"mode": "pdf"})
        assert pdf["Content-Type"] == "application/pdf"
        assert (
            b"".join(pdf.streaming_content if pdf.streaming else [pdf.content])[:5]
            == b"%PDF-"
        )
        template.refresh_from_db()
        assert template.title == "结业证书"  # previewing saves nothing

    def test_the_html_preview_allows_its_own_stylesheet_and_nothing_else(self, admin):
        """The admin refuses inline styles; the HTML preview of a template may
        use certificate.html's <style>, by its hash, and no style an editor
        could slip into the wording."""
        template = CertificateTemplate.objects.get()
        url = reverse(f"{TEMPLATES}:preview_on_edit", args=[template.pk])
        sneaked = '<style>@import "/media/x.css";</style>结业证书'
        checked = admin.post(url, template_form(template, title=sneaked))
        assert checked.json()["is_valid"] is True

        html = admin.get(url)
        page = html.content.decode()
        assert sneaked not in page  # escaped text, not an element
        [stylesheet] = re.findall(r"<style>(.*?)</style>", page, flags=re.DOTALL)
        digest = base64.b64encode(hashlib.sha256(stylesheet.encode()).digest())
        policy = {
            name: sources
            for name, *sources in (
                part.split() for part in html["Content-Security-Policy"].split(";")
            )
        }
        assert policy["style-src"] == ["'self'", f"'sha256-{digest.decode()}'"]
        assert policy["script-src"] == ["'self'"]

    def test_an_unknown_placeholder_is_a_field_error_and_nothing_is_saved(self, admin):
        template = CertificateTemplate.objects.get()
        response = admin.post(
            reverse(f"{TEMPLATES}:edit", args=[template.pk]),
            template_form(template, body="{姓名} 完成了《{title}》"),
        )
        assert response.status_code == 200
        errors = response.context["form"].errors
        assert "{姓名}" in " ".join(errors["body"])
        assert "{姓名}" in response.content.decode()
        template.refresh_from_db()
        assert "{姓名}" not in template.body

    def test_a_template_whose_image_cannot_be_read_is_refused(self, admin):
        template = CertificateTemplate.objects.get()
        image = Image.objects.create(title="底纹", file=png("dizhi.png"))
        Path(image.file.path).write_bytes(b"not an image any more")
        response = admin.post(
            reverse(f"{TEMPLATES}:edit", args=[template.pk]),
            template_form(template, background=image.pk),
        )
        assert response.status_code == 200
        problems = " ".join(response.context["form"].errors["background"])
        assert "dizhi.png" in problems
        assert "dizhi.png" in response.content.decode()
        template.refresh_from_db()
        assert template.background is None

    def test_a_readable_image_is_saved(self, admin):
        template = CertificateTemplate.objects.get()
        image = Image.objects.create(title="底纹", file=png())
        response = admin.post(
            reverse(f"{TEMPLATES}:edit", args=[template.pk]),
            template_form(template, background=image.pk),
        )
        assert response.status_code == 302
        template.refresh_from_db()
        assert template.background == image

    def test_a_broken_seal_is_named_in_the_preview(self, admin):
        settings = CertificateSettings.load()
        settings.seal = Image.objects.create(title="公章", file=png("gongzhang.png"))
        settings.save()
        Path(settings.seal.file.path).write_bytes(b"broken")
        template = CertificateTemplate.objects.get()
        url = reverse(f"{TEMPLATES}:preview_on_edit", args=[template.pk])
        admin.post(url, template_form(template))
        response = admin.get(url)
        page = response.content.decode()
        assert "gongzhang.png" in page
        assert "李堃" not in page  # the error list, not a certificate
        assert "style-src 'self';" in response["Content-Security-Policy"]

    def test_templates_are_never_deleted(self, admin):
        template = CertificateTemplate.objects.get()
        response = admin.post(reverse(f"{TEMPLATES}:delete", args=[template.pk]))
        assert response.status_code == 302
        assert CertificateTemplate.objects.filter(pk=template.pk).exists()

    def test_the_certificate_settings_are_in_the_settings_menu(self, admin):
        url = reverse("wagtailsettings:edit", args=["courses", "certificatesettings"])
        page = admin.get(url, follow=True)
        assert page.status_code == 200
        assert 'name="serial_prefix"' in page.content.decode()
        assert url in admin.get("/admin/").content.decode()
        refused = admin.post(
            page.redirect_chain[-1][0] if page.redirect_chain else url,
            {"serial_prefix": "证书", "expiry_reminder_days": "30"},
        )
        assert refused.status_code == 200
        assert refused.context["form"].errors["serial_prefix"]
        assert CertificateSettings.load().serial_prefix == "CQIP"


# --- certificates ----------------------------------------------------------------


class TestCertificates:
    def test_the_listing_filters_and_searches(self, admin):
        kun = issue(user=UserFactory(real_name="李堃", email="likun@example.cn"))
        other = issue(user=UserFactory(real_name="王玥"))
        services.certificate_revoke(certificate_id=other.pk, reason="重复", by=None)
        url = reverse("certificate_admin:index")

        def listed(**params) -> set[str]:  # type: ignore[no-untyped-def]
            response = admin.get(url, params)
            assert response.status_code == 200
            return {c.serial for c in response.context["object_list"]}

        assert listed() == {kun.serial, other.serial}
        assert listed(q="likun@example") == {kun.serial}
        assert listed(q="王玥") == {other.serial}
        assert listed(q=kun.serial) == {kun.serial}
        assert listed(state="revoked") == {other.serial}
        assert listed(state="valid") == {kun.serial}
        last_year = kun.issued_at.replace(year=kun.issued_at.year - 1)
        Certificate.objects.filter(pk=other.pk).update(issued_at=last_year)
        assert listed(year=kun.issued_at.year) == {kun.serial}
        assert listed(year=last_year.year) == {other.serial}
        # A value that is not offered is ignored, never a server error.
        assert admin.get(url, {"year": "abc", "state": "x"}).status_code == 200

    def test_the_listing_filters_by_training_class(self, admin, home):
        course = CoursePageFactory(parent=CourseIndexPageFactory(parent=home))
        training_class = TrainingClass.objects.create(
            name="专利代理实务班",
            code="patent",
            starts_on=datetime.date(2027, 3, 1),
            ends_on=datetime.date(2027, 4, 1),
        )
        training_class.courses.add(course)
        member = UserFactory()
        TrainingClassMember.objects.create(training_class=training_class, user=member)
        in_class = issue(user=member, source_key=course.pk)
        issue()  # someone else's
        response = admin.get(
            reverse("certificate_admin:index"), {"training_class": training_class.pk}
        )
        assert [c.pk for c in response.context["object_list"]] == [in_class.pk]

    def test_the_detail_page_shows_fields_links_and_history(self, admin):
        certificate = issue(user=UserFactory(real_name="李堃"))
        services.certificate_render(certificate_id=certificate.pk)
        page = admin.get(inspect_url(certificate)).content.decode()
        assert certificate.serial in page and "李堃" in page
        assert "标准结业证书" in page  # the template version
        assert reverse("certificates:verify", kwargs={"code": certificate.code}) in page
        pdf_url = reverse("certificate_admin:pdf", args=[certificate.pk])
        assert pdf_url in page
        assert "证书已颁发" in page or "Certificate issued" in page
        download = admin.get(pdf_url)
        assert download["Content-Type"] == "application/pdf"
        assert b"".join(download.streaming_content).startswith(b"%PDF-")

    def test_revoking_with_a_reason_changes_the_status_and_the_history(self, admin):
        certificate = issue()
        url = reverse("certificate_admin:revoke", args=[certificate.pk])
        assert admin.get(url).status_code == 200
        response = admin.post(url, {"reason": "学时记录有误"})
        assert response.status_code == 302
        assert response["Location"] == inspect_url(certificate)
        certificate.refresh_from_db()
        assert certificate.state == "revoked"
        assert certificate.revoked_reason == "学时记录有误"
        page = admin.get(inspect_url(certificate)).content.decode()
        assert "学时记录有误" in page
        # Anyone who checks the certificate now reads why.
        verify = reverse("certificates:verify", kwargs={"code": certificate.code})
        assert "学时记录有误" in admin.get(verify).content.decode()
        entry = ModelLogEntry.objects.for_instance(certificate).get(
            action="courses.certificate.revoked"
        )
        assert entry.data["reason"] == "学时记录有误"
        assert "学时记录有误" in entry.message
        # Revoking twice is refused with the service's reason, as a message.
        again = admin.post(url, {"reason": "再次"}, follow=True)
        said = [(m.level_tag, str(m)) for m in again.context["messages"]]
        assert [tag for tag, _text in said] == ["error"]
        certificate.refresh_from_db()
        assert certificate.revoked_reason == "学时记录有误"
        assert (
            ModelLogEntry.objects.filter(action="courses.certificate.revoked").count()
            == 1
        )

    def test_revoking_without_a_reason_changes_nothing(self, admin):
        certificate = issue()
        response = admin.post(
            reverse("certificate_admin:revoke", args=[certificate.pk]),
            {"reason": "   "},
        )
        assert response.status_code == 200
        assert response.context["form"].errors["reason"]
        certificate.refresh_from_db()
        assert certificate.state == "valid"
        assert not ModelLogEntry.objects.filter(
            action="courses.certificate.revoked"
        ).exists()

    def test_reissuing_gives_a_new_serial_and_supersedes_the_old(
        self, admin, django_capture_on_commit_callbacks
    ):
        old = issue(user=UserFactory(real_name="李坤"))
        old.user.real_name = "李堃"
        old.user.save()
        with django_capture_on_commit_callbacks(execute=True):
            response = admin.post(
                reverse("certificate_admin:reissue", args=[old.pk]),
                {"note": "姓名有误"},
            )
        new = Certificate.objects.get(replaces=old)
        assert response["Location"] == inspect_url(new)
        old.refresh_from_db()
        assert old.state == "superseded"
        assert new.serial != old.serial and new.learner_name == "李堃"
        assert new.rendered_at is not None  # its PDF was made on commit
        old_page = admin.get(inspect_url(old)).content.decode()
        assert new.serial in old_page  # "superseded by", with a link
        assert inspect_url(new) in old_page
        new_page = admin.get(inspect_url(new)).content.decode()
        assert old.serial in new_page and "姓名有误" in new_page
        # A superseded certificate offers neither action.
        assert reverse("certificate_admin:revoke", args=[old.pk]) not in old_page

    def test_certificates_cannot_be_added_edited_or_deleted(self, admin):
        certificate = issue()
        page = admin.get(reverse("certificate_admin:index")).content.decode()
        assert "/delete/" not in page and "/edit/" not in page
        for path in ("new/", f"edit/{certificate.pk}/", f"delete/{certificate.pk}/"):
            assert admin.post(f"/admin/certificate_admin/{path}").status_code == 404
        assert Certificate.objects.filter(pk=certificate.pk).exists()

    def test_revoking_needs_the_change_permission(self, client, home):
        certificate = issue()
        staff = staff_with_mfa(is_superuser=False)
        readers = Group.objects.create(name="证书查询")
        readers.permissions.add(
            Permission.objects.get(codename="access_admin"),
            Permission.objects.get(codename="view_certificate"),
        )
        staff.groups.add(readers)
        client.force_login(staff)
        assert client.get(inspect_url(certificate)).status_code == 200
        url = reverse("certificate_admin:revoke", args=[certificate.pk])
        assert url not in client.get(inspect_url(certificate)).content.decode()
        response = client.post(url, {"reason": "无权限"})
        assert response.status_code == 302
        assert response["Location"] == reverse("wagtailadmin_home")
        certificate.refresh_from_db()
        assert certificate.state == "valid"


# --- what the learner is told ---------------------------------------------------------


def learner_mail(user) -> list[OutgoingEmail]:  # type: ignore[no-untyped-def]
    return list(OutgoingEmail.objects.filter(to=[user.email]).order_by("pk"))


class TestTheLearnerIsTold:
    @pytest.mark.parametrize(
        ("language", "revoked", "contact", "site_name"),
        [
            ("zh-hans", "已被撤销", "如有疑问，请联系", "知识产权培训与人才库"),
            ("en", "has been revoked", "please contact", "IP Training and Talent Pool"),
        ],
    )
    def test_revoking_mails_the_learner_the_reason_in_their_language(
        self, admin, home, language, revoked, contact, site_name
    ):
        site_settings = SiteSettings.for_site(Site.objects.get(is_default_site=True))
        site_settings.email = "training@example.org"
        site_settings.save()
        user = UserFactory(language=language)
        certificate = issue(user=user)
        admin.post(
            reverse("certificate_admin:revoke", args=[certificate.pk]),
            {"reason": "学时记录有误"},
        )
        (email,) = learner_mail(user)
        assert revoked in email.subject and certificate.title in email.subject
        with translation.override(language):
            issued = date_format(localtime(certificate.issued_at), "DATE_FORMAT")
        for said in (certificate.serial, certificate.title, issued, revoked):
            assert said in email.body
        assert "学时记录有误" in email.body  # the reason, as staff gave it
        assert contact in email.body and site_name in email.body
        assert "training@example.org" in email.body
        assert rendering.verify_url(certificate.code, language) in email.body
        assert ("Dear" in email.body) == (language == "en")

    def test_a_refused_revocation_mails_nothing(self, admin):
        user = UserFactory()
        certificate = issue(user=user)
        url = reverse("certificate_admin:revoke", args=[certificate.pk])
        admin.post(url, {"reason": "   "})  # no reason
        assert learner_mail(user) == []
        admin.post(url, {"reason": "学时记录有误"})
        admin.post(url, {"reason": "再次撤销"})  # already revoked
        (email,) = learner_mail(user)
        assert "再次撤销" not in email.body
        superseded = issue(user=UserFactory())
        services.certificate_reissue(certificate_id=superseded.pk, by=None)
        admin.post(
            reverse("certificate_admin:revoke", args=[superseded.pk]),
            {"reason": "学时记录有误"},
        )
        assert learner_mail(superseded.user) == []

    def test_a_rolled_back_revocation_mails_nothing(self):
        certificate = issue()
        with pytest.raises(RuntimeError), transaction.atomic():
            services.certificate_revoke(
                certificate_id=certificate.pk, reason="学时记录有误", by=None
            )
            raise RuntimeError("the request failed after the revocation")
        certificate.refresh_from_db()
        assert certificate.state == "valid"
        assert learner_mail(certificate.user) == []

    def test_reissuing_mails_the_new_pdf_once_naming_the_old_serial(
        self, admin, django_capture_on_commit_callbacks
    ):
        from courses.tasks import render_certificate

        old = issue(user=UserFactory(real_name="李坤"))
        # The first e-mail, delivered when its render commits (one delivery
        # per transaction: an e-mail of a later one is not added to it).
        with django_capture_on_commit_callbacks(execute=True):
            services.certificate_render(certificate_id=old.pk)
        with django_capture_on_commit_callbacks(execute=True):
            admin.post(
                reverse("certificate_admin:reissue", args=[old.pk]),
                {"note": "姓名有误"},
            )
        new = Certificate.objects.get(replaces=old)
        with django_capture_on_commit_callbacks(execute=True):
            render_certificate.delay(new.pk)  # the render task runs again
            render_certificate.delay(new.pk)
        first, reissued = learner_mail(old.user)
        assert "重新颁发" not in first.subject  # the original issue's e-mail
        assert "重新颁发" in reissued.subject
        assert reissued.attachments == [
            {
                "filename": f"{new.serial}.pdf",
                "mimetype": "application/pdf",
                "storage_name": new.pdf.name,
            }
        ]
        (delivered,) = [m for m in mail.outbox if new.serial in m.body]
        assert old.serial in delivered.body and "不再有效" in delivered.body
        with new.pdf.open("rb") as handle:
            assert delivered.attachments == [
                (f"{new.serial}.pdf", handle.read(), "application/pdf")
            ]


# --- waiting requests ----------------------------------------------------------------


def test_a_waiting_request_shows_its_error_and_can_be_retried(
    admin, django_capture_on_commit_callbacks
):
    request = CertificateRequestFactory(user=UserFactory(real_name="黄燊"))
    services.certificate_issue_failed(
        request_id=request.pk, error="背景图片无法读取（dizhi.png）"
    )
    listing = admin.get(
        reverse("certificate_requests:index"), {"status": "pending"}
    ).content.decode()
    assert "黄燊" in listing and "dizhi.png" in listing
    detail = reverse("certificate_requests:inspect", args=[request.pk])
    assert "dizhi.png" in admin.get(detail).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(reverse("certificate_requests:retry", args=[request.pk]))
    assert response["Location"] == detail
    request.refresh_from_db()
    assert request.status == CertificateRequest.Status.ISSUED
    assert Certificate.objects.filter(request=request).count() == 1


# --- bulk runs -----------------------------------------------------------------


@pytest.fixture
def training_class(home) -> TrainingClass:  # type: ignore[no-untyped-def]
    """A class of five trainees who completed its course, and one who did not."""
    course = CoursePageFactory(parent=CourseIndexPageFactory(parent=home))
    training_class = TrainingClass.objects.create(
        name="2027年春季知识产权培训班",
        code="2027-spring",
        starts_on=datetime.date(2027, 3, 1),
        ends_on=datetime.date(2027, 4, 30),
    )
    training_class.courses.add(course)
    for name in ["张喆", "李堃", "王玥", "陈珺", "刘昇", "赵龑"]:
        user = UserFactory(real_name=name)
        TrainingClassMember.objects.create(training_class=training_class, user=user)
        if name != "赵龑":
            CertificateRequestFactory(
                user=user, source_key=course.pk, title=course.title
            )
    return training_class


class TestBulkRuns:
    def start(self, client, training_class, capture):  # type: ignore[no-untyped-def]
        url = reverse("certificate_batches:add")
        confirm = client.post(url, {"training_class": training_class.pk})
        assert confirm.status_code == 200
        with capture(execute=True):
            response = client.post(
                url, {"training_class": training_class.pk, "confirm": "1"}
            )
        assert response.status_code == 302
        return confirm, response

    def test_a_run_certifies_the_class_and_a_second_run_certifies_nothing_twice(
        self, admin, training_class, django_capture_on_commit_callbacks
    ):
        choose = admin.get(reverse("certificate_batches:add"))
        assert training_class.name in choose.content.decode()

        confirm, response = self.start(
            admin, training_class, django_capture_on_commit_callbacks
        )
        assert confirm.context["completions"] == 5
        assert confirm.context["already"] == 0
        assert confirm.context["members"] == 6
        assert Certificate.objects.count() == 5  # nothing before the confirmation…
        batch = CertificateBatch.objects.get()
        assert response["Location"] == reverse(
            "certificate_batches:inspect", args=[batch.pk]
        )
        progress = admin.get(reverse("certificate_batches:progress", args=[batch.pk]))
        status = progress.json()
        assert (status["done"], status["total"], status["issued"]) == (5, 5, 5)
        assert status["finished"] and status["failed"] == 0
        assert status["summary"] == "已完成 5 / 5"
        page = admin.get(response["Location"]).content.decode()
        assert "已完成 5 / 5" in page
        assert 'aria-live="polite"' in page
        assert 'http-equiv="refresh"' not in page  # finished: no more refreshing
        assert Certificate.objects.filter(rendered_at__isnull=False).count() == 5

        confirm, response = self.start(
            admin, training_class, django_capture_on_commit_callbacks
        )
        assert (confirm.context["completions"], confirm.context["already"]) == (5, 5)
        again = CertificateBatch.objects.latest("created_at")
        status = admin.get(
            reverse("certificate_batches:progress", args=[again.pk])
        ).json()
        assert (status["issued"], status["already"], status["done"]) == (0, 5, 5)
        assert Certificate.objects.count() == 5
        listing = admin.get(reverse("certificate_batches:index")).content.decode()
        assert listing.count(training_class.name) >= 2  # both runs are listed

    def test_a_running_batch_refreshes_itself_and_reports_failures(
        self, admin, training_class, monkeypatch
    ):
        # The run's task is not run: the page shows it waiting.
        from courses import tasks

        monkeypatch.setattr(
            tasks.run_certificate_batch, "delay_on_commit", lambda *args: None
        )
        batch = services.certificate_batch_create(
            training_class=training_class, by=None
        )
        page = admin.get(reverse("certificate_batches:inspect", args=[batch.pk]))
        html = page.content.decode()
        assert "已完成 0 / 5" in html
        assert '<meta http-equiv="refresh"' in html  # inside <noscript>
        assert "certificate_batch_progress.js" in html

        items = list(batch.items.order_by("pk"))
        broken = items[0]
        original = services.certificate_issue

        def failing(*, request_id, **kwargs):  # type: ignore[no-untyped-def]
            if request_id == broken.request_id:
                raise ValueError("学员姓名缺失")
            return original(request_id=request_id, **kwargs)

        # A bulk run issues through the name in its own module.
        monkeypatch.setattr(batch_services, "certificate_issue", failing)
        services.certificate_batch_process(item_ids=[i.pk for i in items])
        status = admin.get(
            reverse("certificate_batches:progress", args=[batch.pk])
        ).json()
        assert (status["done"], status["issued"], status["failed"]) == (5, 4, 1)
        assert status["failures"] == [
            {
                "name": broken.request.user.real_name,
                "email": broken.request.user.email,
                "title": broken.request.title,
                "error": "学员姓名缺失",
            }
        ]

    def test_an_empty_class_has_nothing_to_confirm(self, admin, home):
        empty = TrainingClass.objects.create(
            name="空班",
            code="empty",
            starts_on=datetime.date(2027, 3, 1),
            ends_on=datetime.date(2027, 4, 1),
        )
        confirm = admin.get(
            reverse("certificate_batches:add"), {"training_class": empty.pk}
        )
        assert confirm.context["completions"] == 0
        assert 'name="confirm"' not in confirm.content.decode()
        bad = admin.get(reverse("certificate_batches:add"), {"training_class": "x"})
        assert bad.status_code == 200 and bad.context["form"].errors

    def test_a_training_manager_needs_the_bulk_run_permission(
        self, client, training_class
    ):
        staff = staff_with_mfa(is_superuser=False)
        managers = Group.objects.create(name="培训管理员")
        managers.permissions.add(Permission.objects.get(codename="access_admin"))
        staff.groups.add(managers)
        client.force_login(staff)
        url = reverse("certificate_batches:add")
        refused = client.post(
            url, {"training_class": training_class.pk, "confirm": "1"}
        )
        assert refused["Location"] == reverse("wagtailadmin_home")
        assert not CertificateBatch.objects.exists()

        managers.permissions.add(
            Permission.objects.get(codename="add_certificatebatch"),
            Permission.objects.get(codename="view_certificatebatch"),
        )
        staff = type(staff).objects.get(pk=staff.pk)  # no cached permissions
        client.force_login(staff)
        assert client.get(url).status_code == 200
        assert (
            reverse("certificate_batches:index")
            in client.get("/admin/").content.decode()
        )

    def test_the_permissions_are_offered_in_group_settings(self, admin):
        page = admin.get(reverse("wagtailusers_groups:add")).content.decode()
        for codename in (
            "view_certificate",
            "change_certificate",
            "add_certificatebatch",
            "view_certificatebatch",
            "change_certificaterequest",
        ):
            assert f'value="{Permission.objects.get(codename=codename).pk}"' in page
        for codename in ("delete_certificate", "add_certificate"):
            assert f'value="{Permission.objects.get(codename=codename).pk}"' not in page


def test_the_training_class_page_offers_its_bulk_run(admin, training_class):
    page = admin.get(reverse("training_classes:inspect", args=[training_class.pk]))
    assert page.status_code == 200
    link = reverse("certificate_batches:add") + f"?training_class={training_class.pk}"
    assert link in page.content.decode()
    confirm = admin.get(link)
    assert training_class.name in confirm.content.decode()

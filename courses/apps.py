from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoursesConfig(AppConfig):
    name = "courses"
    verbose_name = _("Courses")

    def ready(self) -> None:
        from celery.signals import worker_init

        from django.core import checks
        from django.db.models.signals import post_save, pre_save

        from wagtail.documents import get_document_model
        from wagtail.models import ReferenceIndex

        from courses import import_jobs, media, selectors
        from courses.certificates import services as certificate_services
        from courses.certificates import signing
        from courses.models import CertificateSettings
        from portal.privacy import register_personal_data

        # A signing key that cannot be used stops the start-up, not a task.
        checks.register(signing.check_signing_configuration)
        # Trainee imports run as portal import jobs (courses.import_jobs).
        import_jobs.register()
        # "Download my data" and account deletion (portal.privacy). The
        # training record stays after an account is deleted (docs/privacy.md);
        # pending certificates are issued first, under the learner's name.
        register_personal_data(
            "courses",
            export=selectors.personal_data,
            erase=certificate_services.certificate_requests_issue_pending,
        )
        worker_init.connect(signing.refuse_to_start_misconfigured, weak=False)
        # The seal is certificate artwork like the template's images: indexed,
        # so courses.permissions can keep those files for staff only.
        ReferenceIndex.register_model(CertificateSettings)

        # A video's length and a PDF's pages are read from the file whenever a
        # document is saved, however it was uploaded (courses.media).
        pre_save.connect(
            media.document_saving,
            sender=get_document_model(),
            dispatch_uid="courses.media.document_saving",
        )
        post_save.connect(
            media.document_saved,
            sender=get_document_model(),
            dispatch_uid="courses.media.document_saved",
        )

"""The e-mails to a learner about a certificate: issued (with its PDF),
revoked, and expiring soon."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from wagtail.log_actions import log

from courses.certificates import rendering
from courses.models import Certificate, CertificateSettings
from portal.site_url import absolute_url


def _email_certificate(*, certificate: Certificate) -> None:
    from portal.mail import attach_stored, templated_email
    from portal.services import email_enqueue

    language = certificate.user.language or settings.LANGUAGE_CODE
    message = templated_email(
        template="courses/certificates/email/issued",
        # Built in the learner's language: the link opens in it.
        context=lambda: {
            "certificate": certificate,
            "verify_url": rendering.verify_url(certificate.code, language),
            "learning_url": absolute_url(_learning_path()),
        },
        to=[certificate.user.email],
        language=language,
    )
    # By reference: the stored PDF (never deleted) is read when the e-mail is
    # delivered, so the outbox row stays a few KiB. Called once the PDF is
    # saved (services.pdfs), so the file has a name.
    attach_stored(
        message,
        filename=f"{certificate.serial}.pdf",
        storage_name=cast(str, certificate.pdf.name),
        mimetype="application/pdf",
    )
    email_enqueue(message=message)


def _learning_path() -> str:
    from django.urls import reverse

    return reverse("courses:my_learning")


def _email_revocation(*, certificate: Certificate) -> None:
    from portal.mail import templated_email
    from portal.services import email_enqueue

    language = certificate.user.language or settings.LANGUAGE_CODE

    def context() -> dict[str, Any]:
        # In the learner's language: the portal's name is in it.
        site_name, site_email = _site_contact()
        return {
            "certificate": certificate,
            "verify_url": rendering.verify_url(certificate.code, language),
            "site_name": site_name,
            "site_email": site_email,
        }

    email_enqueue(
        message=templated_email(
            template="courses/certificates/email/revoked",
            context=context,
            to=[certificate.user.email],
            language=language,
        )
    )


def _site_contact() -> tuple[str, str]:
    """The portal's name (in the active language) and contact e-mail, from the
    default site's settings: whom a learner asks about a certificate."""
    from wagtail.models import Site

    from portal.models import SiteSettings

    site = Site.objects.filter(is_default_site=True).first()
    site_settings = SiteSettings.for_site(site) if site else SiteSettings()
    return site_settings.display_name, site_settings.email


def certificates_expiry_remind() -> int:
    """Beat, daily: e-mail learners whose certificate expires soon, once each."""
    from portal.mail import templated_email
    from portal.services import email_enqueue

    days = CertificateSettings.load().expiry_reminder_days
    today = timezone.localdate()
    due = Certificate.objects.filter(
        status=Certificate.Status.VALID,
        expires_on__gte=today,
        expires_on__lte=today + timedelta(days=days),
        expiry_reminded_at__isnull=True,
    ).values_list("pk", flat=True)
    sent = 0
    for pk in list(due):
        with transaction.atomic():
            certificate = (
                Certificate.objects.select_for_update(skip_locked=True)
                .select_related("user")
                .filter(pk=pk, expiry_reminded_at__isnull=True)
                .first()
            )
            if certificate is None:
                continue
            language = certificate.user.language or settings.LANGUAGE_CODE
            email_enqueue(
                message=templated_email(
                    template="courses/certificates/email/expiry",
                    context={
                        "certificate": certificate,
                        "verify_url": rendering.verify_url(certificate.code, language),
                    },
                    to=[certificate.user.email],
                    language=language,
                )
            )
            certificate.expiry_reminded_at = timezone.now()
            certificate.save(update_fields=["expiry_reminded_at"])
            log(certificate, "courses.certificate.expiry_reminded", user=None)
            sent += 1
    return sent

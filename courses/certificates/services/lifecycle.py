"""A certificate's lifecycle after issue: revoked, reissued; and a request
not yet issued cancelled (its achievement reversed) or reopened."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from wagtail.log_actions import log

from courses.certificates.services.base import CertificateError
from courses.certificates.services.emails import _email_revocation
from courses.certificates.services.issue import (
    _new_certificate,
    template_version_current,
)
from courses.models import Certificate, CertificateRequest


def certificate_revoke(*, certificate_id: int, reason: str, by: Any) -> Certificate:
    """Revoke a valid certificate with a reason; the row and its PDF stay.

    After: the certificate revoked, and one e-mail to the learner (in their
    language, with the reason and whom to contact) in the outbox, in the
    same transaction. Refuses an empty reason and a certificate that is not
    valid (already revoked or superseded), and then sends nothing.
    """
    reason = (reason or "").strip()
    if not reason:
        raise CertificateError(_("Say why the certificate is revoked."))
    with transaction.atomic():
        certificate = (
            Certificate.objects.select_for_update()
            .select_related("user")
            .get(pk=certificate_id)
        )
        if certificate.status != Certificate.Status.VALID:
            raise CertificateError(
                _("Only a valid certificate can be revoked; this one is %(state)s.")
                % {"state": certificate.get_status_display()}
            )
        certificate.status = Certificate.Status.REVOKED
        certificate.revoked_reason = reason
        certificate.status_changed_at = timezone.now()
        certificate.save(
            update_fields=["status", "revoked_reason", "status_changed_at"]
        )
        log(
            certificate,
            "courses.certificate.revoked",
            user=by,
            data={"reason": reason},
        )
        # In the same transaction: a revocation that rolls back tells no one,
        # and the status check above lets each certificate be told only once.
        _email_revocation(certificate=certificate)
    return certificate


def certificate_request_cancel(*, request_id: int, reason: str, by: Any) -> bool:
    """Cancel a certificate request not yet issued: its achievement was
    reversed (a check-in scanned by mistake), so nothing must be issued.

    After, in one transaction with the request locked: the request cancelled
    (certificate_issue, the sweep and bulk runs then skip it) and the action
    in Wagtail's log with the reason. Returns True when it cancelled now;
    False (nothing changed) for a request already cancelled or issued:
    an issued one needs certificate_revoke instead.
    """
    reason = (reason or "").strip()
    if not reason:
        raise CertificateError(_("Say why the certificate request is cancelled."))
    with transaction.atomic():
        request = CertificateRequest.objects.select_for_update().get(pk=request_id)
        if request.status in (
            CertificateRequest.Status.CANCELLED,
            CertificateRequest.Status.ISSUED,
        ):
            return False
        request.status = CertificateRequest.Status.CANCELLED
        request.save(update_fields=["status"])
        log(
            request,
            "courses.certificate_request.cancelled",
            user=by,
            data={"reason": reason},
        )
    return True


def certificate_request_reopen(*, request_id: int) -> bool:
    """A cancelled request owed again (the person was checked in again after
    the reversal): back to pending, for the bulk run or the sweep. Returns
    True when it reopened now; anything but a cancelled request is left."""
    with transaction.atomic():
        request = CertificateRequest.objects.select_for_update().get(pk=request_id)
        if request.status != CertificateRequest.Status.CANCELLED:
            return False
        request.status = CertificateRequest.Status.PENDING
        request.last_error = ""
        request.save(update_fields=["status", "last_error"])
        log(request, "courses.certificate_request.reopened", user=None)
    return True


def certificate_reissue(*, certificate_id: int, by: Any, note: str = "") -> Certificate:
    """Replace a valid (or expired) certificate by a new one.

    After: a new certificate (new serial and code, today's template, the
    learner's current name) whose ``replaces`` points at the old one, which is
    marked superseded; the new PDF is rendered and e-mailed on commit, once
    (certificate_store_pdf), by the issue e-mail, which then names the serial
    it replaces. Refuses a revoked or already superseded certificate.
    """
    from courses.tasks import render_certificate

    version = template_version_current()
    with transaction.atomic():
        old = (
            Certificate.objects.select_for_update()
            .select_related("request__user")
            .get(pk=certificate_id)
        )
        if old.status != Certificate.Status.VALID:
            raise CertificateError(
                _("Only a valid certificate can be reissued; this one is %(state)s.")
                % {"state": old.get_status_display()}
            )
        new = _new_certificate(request=old.request, version=version, replaces=old)
        old.status = Certificate.Status.SUPERSEDED
        old.status_changed_at = new.issued_at
        old.save(update_fields=["status", "status_changed_at"])
        log(
            old,
            "courses.certificate.superseded",
            user=by,
            data={"by": new.serial, "note": note},
        )
        log(
            new,
            "courses.certificate.issued",
            user=by,
            data={"replaces": old.serial, "note": note},
        )
        render_certificate.delay_on_commit(new.pk)
    return new

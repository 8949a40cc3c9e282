"""Rendering and storing: a certificate's PDF rendered (one or many in one
document), signed when a key is configured, stored, and its e-mail queued."""

from __future__ import annotations

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from wagtail.log_actions import log

from courses.certificates import rendering
from courses.certificates.services.base import logger
from courses.certificates.services.emails import _email_certificate
from courses.models import Certificate


class PdfNotStored(Exception):
    """Storage refused a PDF (a full disk, a bucket out of reach): nothing of
    it was kept and the certificate stays without one, for the task's retries
    and then the sweep. The storage's fault, not the certificate's: it is not
    counted against MAX_RENDER_ATTEMPTS, so the sweep keeps trying until the
    operator has made room (docs/operations.md)."""


def _discard(name: str) -> None:
    """Remove what a failed write left under `name`: a full disk stops a file
    part-way, and half a PDF must never be served or mistaken for one."""
    try:
        if default_storage.exists(name):
            default_storage.delete(name)
    except Exception:  # the next store deletes it first (_store_signed)
        logger.exception("Could not remove the partial PDF %s", name)


def _pdf_name(certificate: Certificate) -> str:
    # The code in the name keeps file URLs unguessable if storage is public.
    return f"{certificate.issued_at:%Y}/{certificate.serial}-{certificate.code[:8]}.pdf"


def _sign(pdfs: list[bytes]) -> list[tuple[bytes, bool]]:
    """Each PDF signed (and True) when a key is configured, else as it is."""
    from courses.certificates import signing

    signer = signing.configured_signer()
    if signer is None:
        return [(pdf, False) for pdf in pdfs]
    issuer = signing.signing_issuer()
    return [(signing.sign_pdf(pdf, signer=signer, issuer=issuer), True) for pdf in pdfs]


def certificate_store_pdf(*, certificate_id: int, pdf: bytes) -> bool:
    """Store a rendered PDF (signed when a key is configured) and queue its e-mail.

    Before: a certificate without a PDF. After: its PDF in the default storage,
    rendered_at set and, once per certificate, an e-mail with the PDF in the
    outbox, all in one transaction. A second call for a certificate that has
    its PDF changes nothing and returns False.
    """
    ((pdf, signed),) = _sign([pdf])
    return _store_signed(certificate_id=certificate_id, pdf=pdf, signed=signed)


def certificates_store_many(*, pdfs: list[tuple[int, bytes]]) -> list[int]:
    """certificate_store_pdf for many (certificate id, PDF) pairs in one
    transaction; returns the ids stored now.

    A bulk run's chunk is stored with one commit instead of one per
    certificate (on PostgreSQL each commit waits for its WAL flush). If
    anything fails, the chunk's stores are rolled back together and each
    certificate is then stored in its own transaction, so one learner's
    problem does not stop the rest (the failure is recorded on that one).
    """
    signed_pdfs = [
        (pk, *signed)
        for (pk, _), signed in zip(pdfs, _sign([pdf for _, pdf in pdfs]), strict=True)
    ]
    try:
        with transaction.atomic():
            return [
                pk
                for pk, pdf, signed in signed_pdfs
                if _store_signed(certificate_id=pk, pdf=pdf, signed=signed)
            ]
    except Exception:
        logger.exception("Storing a chunk failed; storing one by one")
    done = []
    for pk, pdf, signed in signed_pdfs:
        try:
            if _store_signed(certificate_id=pk, pdf=pdf, signed=signed):
                done.append(pk)
        except Exception as error:
            certificate_render_failed(
                certificate_id=pk,
                error=error,
                count_attempt=not isinstance(error, PdfNotStored),
            )
    return done


def _store_signed(*, certificate_id: int, pdf: bytes, signed: bool) -> bool:
    with transaction.atomic():
        certificate = (
            Certificate.objects.select_for_update()
            .select_related("user")
            .get(pk=certificate_id)
        )
        if certificate.rendered_at:
            return False
        name = _pdf_name(certificate)
        # The name in storage, with the field's folder (what exists() needs).
        stored = certificate.pdf.field.generate_filename(certificate, name)
        if default_storage.exists(stored):
            default_storage.delete(stored)  # left by a render whose commit failed
        try:
            certificate.pdf.save(name, ContentFile(pdf), save=False)
        except Exception as error:
            _discard(stored)
            raise PdfNotStored(f"{type(error).__name__}: {error}") from error
        certificate.rendered_at = timezone.now()
        certificate.signed = signed
        certificate.last_error = ""
        update = ["pdf", "rendered_at", "signed", "last_error"]
        if (
            certificate.emailed_at is None
            and certificate.status == Certificate.Status.VALID
        ):
            _email_certificate(certificate=certificate)
            certificate.emailed_at = certificate.rendered_at
            update.append("emailed_at")
        certificate.save(update_fields=update)
        log(certificate, "courses.certificate.rendered", user=None)
    return True


def certificate_render(*, certificate_id: int) -> bool:
    """Render, store and e-mail one certificate; True when it did the work.

    May run twice: a certificate with a PDF is left alone. A failure is
    recorded (render_attempts, last_error) and raised for the task's retry;
    storage refusing the PDF (PdfNotStored) keeps its reason without counting
    an attempt, and leaves no part of the file behind.
    """
    certificate = (
        Certificate.objects.select_related("template_version", "user")
        .filter(pk=certificate_id, rendered_at__isnull=True)
        .first()
    )
    if certificate is None:
        return False
    try:
        pdf = rendering.render_pdf(certificate)
    except Exception as error:
        certificate_render_failed(certificate_id=certificate_id, error=error)
        raise
    try:
        return certificate_store_pdf(certificate_id=certificate_id, pdf=pdf)
    except PdfNotStored as error:
        certificate_render_failed(
            certificate_id=certificate_id, error=error, count_attempt=False
        )
        raise


def certificate_render_failed(
    *, certificate_id: int, error: BaseException, count_attempt: bool = True
) -> None:
    """Keep a failed render's reason for the administrator (last_error) and,
    unless count_attempt is False (storage refused the PDF: PdfNotStored),
    count it towards MAX_RENDER_ATTEMPTS, after which the sweep gives up."""
    logger.warning("Certificate %s not rendered: %s", certificate_id, error)
    changes: dict = {"last_error": f"{type(error).__name__}: {error}"[:2000]}
    if count_attempt:
        changes["render_attempts"] = F("render_attempts") + 1
    Certificate.objects.filter(pk=certificate_id).update(**changes)


def certificates_render_many(*, certificate_ids: list[int]) -> list[int]:
    """Render many certificates as one document and store each; returns the
    ids stored now. If the shared render fails, each is tried alone so one
    learner's problem does not stop the rest."""
    certificates = list(
        Certificate.objects.select_related("template_version", "user")
        .filter(pk__in=certificate_ids, rendered_at__isnull=True)
        .order_by("pk")
    )
    if not certificates:
        return []
    try:
        pdfs = rendering.render_pdfs(
            [(c, c.template_version.content) for c in certificates]
        )
    except Exception:
        logger.exception("Batch render failed; rendering one by one")
        done = []
        for certificate in certificates:
            try:
                if certificate_render(certificate_id=certificate.pk):
                    done.append(certificate.pk)
            except Exception:  # recorded by certificate_render
                continue
        return done
    return certificates_store_many(
        pdfs=[(c.pk, pdf) for c, pdf in zip(certificates, pdfs, strict=True)]
    )

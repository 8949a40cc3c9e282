"""Certificate services: issue, render, e-mail, revoke, reissue, bulk runs.

Every write is here (docs/decisions.md, convention 6). The rows are the
truth and the tasks only triggers (docs/decisions.md, decision 1): each
service states what it expects and may run twice without changing anything
the second time.
"""

from __future__ import annotations

import logging
import secrets
import string
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from wagtail.log_actions import log

from courses.certificates import rendering
from courses.models import (
    Certificate,
    CertificateBatch,
    CertificateBatchItem,
    CertificateRequest,
    CertificateSerial,
    CertificateSettings,
    CertificateTemplate,
    CertificateTemplateVersion,
    HoursLedgerEntry,
    TrainingClass,
    TrainingClassMember,
)

logger = logging.getLogger(__name__)

#: A render that failed this often is left for an administrator (last_error).
MAX_RENDER_ATTEMPTS = 5
#: Certificates rendered together in one WeasyPrint document by a bulk run.
RENDER_CHUNK = 50
#: Sources whose requests wait for a training manager's bulk run (an event's
#: organiser certifies the attendance as a whole, issue 6): the sweep leaves
#: them pending instead of issuing them one by one; it still finishes the
#: runs once started.
BULK_RUN_SOURCES = (HoursLedgerEntry.Source.EVENT,)


class CertificateError(ValidationError):
    """A lifecycle step refused: the message is for the administrator."""


class CertificateRequestCancelled(CertificateError):
    """An issue refused because the request was cancelled (not worth a retry)."""


# --- Issuing -----------------------------------------------------------------


#: Letters and digits only: a code printed under the QR code may wrap over
#: lines, and a PDF reader drops a "-" at a line end as a hyphenation.
CODE_ALPHABET = string.ascii_letters + string.digits


def verification_code() -> str:
    """A random, unguessable code (22 of 62 characters: 131 bits), distinct
    from the serial."""
    return "".join(secrets.choice(CODE_ALPHABET) for _position in range(22))


def serial_allocate(*, prefix: str, year: int) -> str:
    """The next serial number of a year, e.g. CQIP-2027-000123.

    Must run inside the transaction that stores the certificate: the counter
    row stays locked until it commits, and a rollback returns the number.
    """
    CertificateSerial.objects.get_or_create(prefix=prefix, year=year)
    counter = CertificateSerial.objects.select_for_update().get(
        prefix=prefix, year=year
    )
    counter.last_number = F("last_number") + 1
    counter.save(update_fields=["last_number"])
    counter.refresh_from_db(fields=["last_number"])
    return f"{prefix}-{year}-{counter.last_number:06d}"


def template_version_current(
    *, template: CertificateTemplate | None = None
) -> CertificateTemplateVersion:
    """The frozen version of a template's present content (made on first use).

    Refuses (TemplateAssetError) a template whose images cannot be read or
    whose placeholders are unknown, so a broken template never reaches a PDF.
    """
    if template is None:
        cert_settings = CertificateSettings.load()
        template = cert_settings.default_template or CertificateTemplate.objects.first()
    if template is None:
        raise rendering.TemplateAssetError(_("No certificate template exists."))
    content = rendering.template_content(template=template)
    digest = rendering.content_hash(content)
    version = CertificateTemplateVersion.objects.filter(
        template=template, content_hash=digest
    ).first()
    if version:
        return version
    errors = rendering.asset_errors(content)
    if errors:
        raise rendering.TemplateAssetError(" ".join(str(e) for e in errors))
    try:
        with transaction.atomic():
            return CertificateTemplateVersion.objects.create(
                template=template, content=content, content_hash=digest
            )
    except IntegrityError:  # another worker made it first
        return CertificateTemplateVersion.objects.get(
            template=template, content_hash=digest
        )


def _expiry(version: CertificateTemplateVersion, issued_on: Any) -> Any:
    months = version.content.get("validity_months")
    if not months:
        return None
    month_index = issued_on.month - 1 + months
    year, month = issued_on.year + month_index // 12, month_index % 12 + 1
    # The same day of the month, or the month's last day (31 Jan + 1 month).
    for day in (issued_on.day, 30, 29, 28):
        try:
            return issued_on.replace(year=year, month=month, day=day)
        except ValueError:
            continue
    return None


def _new_certificate(
    *,
    request: CertificateRequest,
    version: CertificateTemplateVersion,
    replaces: Certificate | None = None,
) -> Certificate:
    """Insert one certificate with the learner's name and the achievement copied
    in; the caller holds the transaction."""
    now = timezone.now()
    issued_on = timezone.localdate(now)
    prefix = CertificateSettings.load().serial_prefix
    user = request.user
    return Certificate.objects.create(
        request=request,
        replaces=replaces,
        serial=serial_allocate(prefix=prefix, year=issued_on.year),
        code=verification_code(),
        user=user,
        learner_name=user.real_name or user.get_full_name(),
        title=request.title,
        hours=request.hours,
        achieved_on=request.achieved_on,
        issued_at=now,
        expires_on=_expiry(version, issued_on),
        language="en" if user.language == "en" else "zh-hans",
        template_version=version,
    )


def certificate_issue(
    *,
    request_id: int,
    render: bool = True,
    version: CertificateTemplateVersion | None = None,
) -> tuple[Certificate, bool]:
    """Turn a certificate request into its one certificate.

    Before: a request (normally pending). After: one certificate for it with
    the next serial number, the request marked issued, and (render=True) its
    PDF task enqueued on commit. Returns (certificate, created). Running it
    again returns the same certificate: the partial unique constraint on
    ``Certificate.request`` holds even if two workers race. Refuses
    (CertificateError) a cancelled request: its achievement was reversed.
    """
    from courses.tasks import render_certificate

    version = version or template_version_current()
    try:
        with transaction.atomic():
            request = (
                CertificateRequest.objects.select_for_update()
                .select_related("user")
                .get(pk=request_id)
            )
            existing = Certificate.objects.filter(
                request=request, replaces__isnull=True
            ).first()
            if existing:
                return existing, False
            if request.status == CertificateRequest.Status.CANCELLED:
                raise CertificateRequestCancelled(
                    _(
                        "The achievement was reversed and its certificate request "
                        "cancelled: nothing is issued for it."
                    )
                )
            certificate = _new_certificate(request=request, version=version)
            request.status = CertificateRequest.Status.ISSUED
            request.last_error = ""
            request.save(update_fields=["status", "last_error"])
            log(certificate, "courses.certificate.issued", user=None)
            if render:
                render_certificate.delay_on_commit(certificate.pk)
            return certificate, True
    except IntegrityError:
        # Only a concurrent issue of the same request gets here.
        return Certificate.objects.get(
            request_id=request_id, replaces__isnull=True
        ), False


def certificate_issue_failed(*, request_id: int, error: str) -> None:
    """Record why a request could not be issued; it stays pending for the sweep."""
    CertificateRequest.objects.filter(
        pk=request_id, status=CertificateRequest.Status.PENDING
    ).update(last_error=error[:2000])


# --- Rendering and delivery --------------------------------------------------


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
            certificate_render_failed(certificate_id=pk, error=error)
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
        if default_storage.exists(name):
            default_storage.delete(name)  # left by a render whose commit failed
        certificate.pdf.save(name, ContentFile(pdf), save=False)
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
            "learning_url": settings.WAGTAILADMIN_BASE_URL.rstrip("/")
            + _learning_path(),
        },
        to=[certificate.user.email],
        language=language,
    )
    # By reference: the stored PDF (never deleted) is read when the e-mail is
    # delivered, so the outbox row stays a few KiB.
    attach_stored(
        message,
        filename=f"{certificate.serial}.pdf",
        storage_name=certificate.pdf.name,
        mimetype="application/pdf",
    )
    email_enqueue(message=message)


def _learning_path() -> str:
    from django.urls import reverse

    return reverse("courses:my_learning")


def certificate_render(*, certificate_id: int) -> bool:
    """Render, store and e-mail one certificate; True when it did the work.

    May run twice: a certificate with a PDF is left alone. A failure is
    recorded (render_attempts, last_error) and raised for the task's retry.
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
    return certificate_store_pdf(certificate_id=certificate_id, pdf=pdf)


def certificate_render_failed(*, certificate_id: int, error: BaseException) -> None:
    """Count a failed render and keep its reason for the administrator."""
    logger.warning("Certificate %s not rendered: %s", certificate_id, error)
    Certificate.objects.filter(pk=certificate_id).update(
        render_attempts=F("render_attempts") + 1,
        last_error=f"{type(error).__name__}: {error}"[:2000],
    )


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


# --- Lifecycle ---------------------------------------------------------------


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


# --- Bulk runs ---------------------------------------------------------------


def training_class_requests(*, training_class: TrainingClass) -> Any:
    """The certificate requests a class's bulk run covers: its members'
    completions of its courses."""
    members = TrainingClassMember.objects.filter(training_class=training_class)
    course_keys = training_class.courses.values_list("pk", flat=True)
    return CertificateRequest.objects.filter(
        user_id__in=members.values("user_id"),
        source_type=HoursLedgerEntry.Source.COURSE,
        source_key__in=list(course_keys),
    )


def source_requests(*, source_type: str, source_key: int) -> Any:
    """The certificate requests of one source (e.g. one event's attendance),
    as the source wrote them; courses knows nothing more of the source.
    Cancelled requests (a check-in reversed) are not among them."""
    return CertificateRequest.objects.filter(
        source_type=source_type, source_key=source_key
    ).exclude(status=CertificateRequest.Status.CANCELLED)


def batch_sources(*, limit: int = 200) -> list[dict]:
    """The sources other than courses that have certificate requests, newest
    first, with their title and counts: what a bulk run may be started for
    besides a training class (a selector, for the admin's start page)."""
    from django.db.models import Count, Max, Q

    rows = (
        CertificateRequest.objects.exclude(source_type=HoursLedgerEntry.Source.COURSE)
        .values("source_type", "source_key")
        .annotate(
            title=Max("title"),
            total=Count("pk"),
            pending=Count("pk", filter=Q(status=CertificateRequest.Status.PENDING)),
            latest=Max("requested_at"),
        )
        .order_by("-latest")[:limit]
    )
    labels = dict(HoursLedgerEntry.Source.choices)
    return [
        {
            **row,
            "value": f"{row['source_type']}:{row['source_key']}",
            "type_label": labels.get(row["source_type"], row["source_type"]),
        }
        for row in rows
    ]


def certificate_batch_create(
    *,
    by: Any,
    training_class: TrainingClass | None = None,
    requests: Any = None,
    title: str = "",
    source_type: str = "",
    source_key: int | None = None,
) -> CertificateBatch:
    """Start a bulk run for a training class, or for given certificate requests.

    Either ``training_class`` (its members' completions of its courses), or
    ``requests`` (a queryset of CertificateRequest, e.g. one event's
    attendees', passed by the side that knows the source) with the run's
    ``title`` and the ``source_type``/``source_key`` it covers, so the run
    can be started again for the same source.

    After: a running batch with one pending item per request, and its task
    enqueued on commit. Runs again are safe: a request already certified
    ends as "already issued".
    """
    from courses.tasks import run_certificate_batch

    if (training_class is None) == (requests is None):
        raise ValueError("Give a training class or the requests, not both.")
    if training_class is not None:
        title = training_class.name
        requests = training_class_requests(training_class=training_class)
        source_type, source_key = "", None
    with transaction.atomic():
        batch = CertificateBatch.objects.create(
            training_class=training_class,
            source_type=source_type,
            source_key=source_key,
            title=title[:255],
            created_by=by,
        )
        # A cancelled request (its achievement reversed) is never issued.
        request_ids = list(
            requests.exclude(status=CertificateRequest.Status.CANCELLED)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        CertificateBatchItem.objects.bulk_create(
            CertificateBatchItem(batch=batch, request_id=pk) for pk in request_ids
        )
        if not request_ids:
            batch.status = CertificateBatch.Status.DONE
            batch.finished_at = timezone.now()
            batch.save(update_fields=["status", "finished_at"])
        else:
            run_certificate_batch.delay_on_commit(batch.pk)
        log(
            batch,
            "courses.certificate_batch.started",
            user=by,
            data={"items": len(request_ids)},
        )
    return batch


def certificate_batch_chunks(*, batch_id: int) -> list[list[int]]:
    """The pending items of a batch in render-sized chunks (for fan-out)."""
    ids = list(
        CertificateBatchItem.objects.filter(
            batch_id=batch_id, status=CertificateBatchItem.Status.PENDING
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return [ids[i : i + RENDER_CHUNK] for i in range(0, len(ids), RENDER_CHUNK)]


def certificate_batch_process(*, item_ids: list[int]) -> None:
    """Issue, render and store the certificates of some batch items.

    Each item is issued in its own savepoint and marked issued, already
    issued or failed (with the reason); the chunk's issues are committed
    together (one commit, and the serial counter locked once, instead of one
    per item); should that commit fail, each item is issued in its own
    transaction instead. Then the new certificates are rendered together. May
    run twice or alongside itself: items no longer pending, or locked by
    another worker, are skipped.
    """
    try:
        version = template_version_current()
    except rendering.TemplateAssetError:
        version = None  # each item then fails with the reason
    try:
        with transaction.atomic():
            to_render, batch_ids = _batch_issue(item_ids=item_ids, version=version)
    except Exception:
        logger.exception("Issuing a chunk failed; issuing one by one")
        to_render, batch_ids = _batch_issue(item_ids=item_ids, version=version)
    certificates_render_many(certificate_ids=to_render)
    for batch_id in batch_ids:
        certificate_batch_finish(batch_id=batch_id)


def _batch_issue(
    *, item_ids: list[int], version: CertificateTemplateVersion | None
) -> tuple[list[int], set[int]]:
    """Issue each pending item in its own (nested) transaction; returns the
    certificates to render and the batches touched."""
    to_render = []
    batch_ids = set()
    for item_id in item_ids:
        with transaction.atomic():
            item = (
                CertificateBatchItem.objects.select_for_update(skip_locked=True)
                .filter(pk=item_id, status=CertificateBatchItem.Status.PENDING)
                .first()
            )
            if item is None:
                continue
            batch_ids.add(item.batch_id)
            try:
                with transaction.atomic():
                    certificate, created = certificate_issue(
                        request_id=item.request_id, render=False, version=version
                    )
            except Exception as error:
                logger.warning("Batch item %s failed: %s", item_id, error)
                item.status = CertificateBatchItem.Status.FAILED
                item.error = f"{error}"[:2000] or type(error).__name__
            else:
                item.status = (
                    CertificateBatchItem.Status.ISSUED
                    if created
                    else CertificateBatchItem.Status.ALREADY
                )
                if certificate.rendered_at is None:
                    to_render.append(certificate.pk)
            item.finished_at = timezone.now()
            item.save(update_fields=["status", "error", "finished_at"])
    return to_render, batch_ids


def certificate_batch_finish(*, batch_id: int) -> bool:
    """Mark a batch finished once no item is pending; True when it did now."""
    with transaction.atomic():
        batch = CertificateBatch.objects.select_for_update().get(pk=batch_id)
        if batch.status == CertificateBatch.Status.DONE:
            return False
        if batch.items.filter(status=CertificateBatchItem.Status.PENDING).exists():
            return False
        batch.status = CertificateBatch.Status.DONE
        batch.finished_at = timezone.now()
        batch.save(update_fields=["status", "finished_at"])
        log(batch, "courses.certificate_batch.finished", user=None)
    return True


# --- The sweep ---------------------------------------------------------------


def certificates_sweep(*, older_than: timedelta = timedelta(minutes=2)) -> dict:
    """Beat: re-enqueue certificate work whose task was lost (decision 1).

    Pending requests are issued (except those of BULK_RUN_SOURCES, which
    wait for their bulk run), certificates without a PDF rendered (up to
    MAX_RENDER_ATTEMPTS), pending batch items processed. Only rows older than
    ``older_than`` are taken, to leave fresh work to its own task.
    """
    from courses.tasks import (
        issue_certificate,
        process_certificate_batch_items,
        render_certificate,
    )

    cutoff = timezone.now() - older_than
    requests = list(
        CertificateRequest.objects.filter(
            status=CertificateRequest.Status.PENDING, requested_at__lt=cutoff
        )
        .exclude(source_type__in=BULK_RUN_SOURCES)
        .values_list("pk", flat=True)[:1000]
    )
    for pk in requests:
        issue_certificate.delay(pk)
    unrendered = list(
        Certificate.objects.filter(
            rendered_at__isnull=True,
            issued_at__lt=cutoff,
            render_attempts__lt=MAX_RENDER_ATTEMPTS,
        ).values_list("pk", flat=True)[:1000]
    )
    for pk in unrendered:
        render_certificate.delay(pk)
    items = 0
    for batch_id in CertificateBatch.objects.filter(
        status=CertificateBatch.Status.RUNNING, created_at__lt=cutoff
    ).values_list("pk", flat=True):
        chunks = certificate_batch_chunks(batch_id=batch_id)
        for chunk in chunks:
            process_certificate_batch_items.delay(chunk)
            items += len(chunk)
        if not chunks:
            certificate_batch_finish(batch_id=batch_id)
    return {"requests": len(requests), "renders": len(unrendered), "items": items}


def batch_progress(*, batch: CertificateBatch) -> dict:
    """n of N, with counts per status (a selector, used by the admin page)."""
    from django.db.models import Count

    counts = dict(batch.items.values_list("status").annotate(n=Count("pk")).order_by())
    total = sum(counts.values())
    done = total - counts.get(CertificateBatchItem.Status.PENDING, 0)
    return {
        "total": total,
        "done": done,
        "issued": counts.get(CertificateBatchItem.Status.ISSUED, 0),
        "already": counts.get(CertificateBatchItem.Status.ALREADY, 0),
        "failed": counts.get(CertificateBatchItem.Status.FAILED, 0),
        "finished": batch.status == CertificateBatch.Status.DONE,
    }

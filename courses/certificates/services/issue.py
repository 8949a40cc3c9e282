"""Issuing: a certificate request turned into its one certificate, with the
next serial number, a verification code and the template's frozen version."""

from __future__ import annotations

import logging
import secrets
import string
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from wagtail.log_actions import log

from courses.certificates import rendering
from courses.certificates.services.base import CertificateRequestCancelled
from courses.models import (
    Certificate,
    CertificateRequest,
    CertificateSerial,
    CertificateSettings,
    CertificateTemplate,
    CertificateTemplateVersion,
)

logger = logging.getLogger(__name__)

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
    One statement a certificate (UPDATE … RETURNING, on SQLite and
    PostgreSQL alike): the increment takes the row's lock and reads the new
    number back, where a read, a locking read, the update and a read again
    took four.
    """
    table = connection.ops.quote_name(CertificateSerial._meta.db_table)
    sql = (
        f"UPDATE {table} SET last_number = last_number + 1 "
        "WHERE prefix = %s AND year = %s RETURNING last_number"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [prefix, year])
        row = cursor.fetchone()
        if row is None:  # the year's first certificate
            CertificateSerial.objects.get_or_create(prefix=prefix, year=year)
            cursor.execute(sql, [prefix, year])
            row = cursor.fetchone()
    return f"{prefix}-{year}-{row[0]:06d}"


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


def certificate_requests_issue_pending(*, user: Any) -> list[Certificate]:
    """The user's account is being deleted (portal.services.user_delete,
    before the account loses its name): issue each of their pending
    certificate requests now, so the certificate carries the name it was
    earned under (certificate_issue; its PDF follows on commit). A request
    that cannot be issued now (no usable template) stays pending and is
    logged. May run twice: issued requests are not pending any more."""
    from courses.certificates.services.base import CertificateError

    issued = []
    pending = CertificateRequest.objects.filter(
        user=user, status=CertificateRequest.Status.PENDING
    ).values_list("pk", flat=True)
    for request_id in list(pending):
        try:
            issued.append(certificate_issue(request_id=request_id)[0])
        except (CertificateError, rendering.TemplateAssetError) as error:
            logger.warning(
                "Certificate request %s of a deleted account not issued: %s",
                request_id,
                error,
            )
    return issued

"""The one door into the training record: what an achievement earns.

A course completed (courses.services.course_completion_evaluate) and an
event attended (events.checkin.services) both call `achievement_record`,
inside their own transaction: the hours go to the append-only ledger
(courses.ledger.hours_earn: one live entry per person and source) and, when
the achievement carries a certificate, its request is made or owed again.
No other app writes HoursLedgerEntry or CertificateRequest rows; other apps
read the record through courses.selectors.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction

from courses.ledger import hours_earn, hours_reverse, live_earned
from courses.models import Certificate, CertificateRequest, HoursLedgerEntry


@dataclass(frozen=True)
class AchievementRecord:
    """What `achievement_record` left: the live hours entry (None when the
    achievement earns no hours), the certificate request (None when it
    carries no certificate), whether that request is new, and whether the
    certificate of an earlier, reversed achievement of the same source was
    revoked and stays so (staff reissue it if they want to)."""

    hours_entry: HoursLedgerEntry | None
    request: CertificateRequest | None
    request_created: bool
    revoked_before: bool


def achievement_record(
    *,
    user: Any,
    source_type: str,
    source_key: int,
    title: str,
    hours: Decimal | None,
    achieved_on: datetime.date,
    certificate: bool,
    issue_now: bool = False,
) -> AchievementRecord:
    """Record an achievement once.

    Before: anything. After, in one transaction (the caller's, if any):
    when ``hours`` is not None, one live earned ledger entry for (user,
    source) dated ``achieved_on``; when ``certificate``, one certificate
    request for (user, source) — a request cancelled by a reversal is owed
    again (pending) — and, with ``issue_now``, a new request is issued by the
    worker after the commit (courses; events leave it to the bulk run).
    Recording the same achievement twice changes nothing. ``user`` is a
    user or an id.
    """
    from courses.certificates import services as certificate_services
    from courses.tasks import issue_certificate

    user_id = getattr(user, "pk", user)
    source = {"user_id": user_id, "source_type": source_type, "source_key": source_key}
    with transaction.atomic():
        entry = None
        if hours is not None:
            entry = hours_earn(
                user=user_id,
                source_type=source_type,
                source_key=source_key,
                title=title,
                hours=hours,
                earned_on=achieved_on,
            )
        if not certificate:
            return AchievementRecord(entry, None, False, False)
        request, created = CertificateRequest.objects.get_or_create(
            **source,
            defaults={
                "title": title[:255],
                "hours": hours or Decimal(0),
                "achieved_on": achieved_on,
            },
        )
        if created:
            if issue_now:
                issue_certificate.delay_on_commit(request.pk)
            return AchievementRecord(entry, request, True, False)
        if request.status == CertificateRequest.Status.CANCELLED:
            certificate_services.certificate_request_reopen(request_id=request.pk)
            request.refresh_from_db()
            return AchievementRecord(entry, request, False, False)
        certificates = Certificate.objects.filter(request=request)
        revoked_before = (
            certificates.filter(status=Certificate.Status.REVOKED).exists()
            and not certificates.filter(status=Certificate.Status.VALID).exists()
        )
        return AchievementRecord(entry, request, False, revoked_before)


@dataclass(frozen=True)
class AchievementReversal:
    """What `achievement_reverse` undid: the reversing ledger entry (None
    when no hours were live), the serials of the certificates revoked, and
    whether a request not yet issued was cancelled instead."""

    reversal: HoursLedgerEntry | None
    revoked: list[str]
    request_cancelled: bool


def achievement_reverse(
    *, user: Any, source_type: str, source_key: int, reason: str, by: Any
) -> AchievementReversal:
    """Undo an achievement recorded by mistake, with the staff member's
    reason, in one transaction (the caller's, if any).

    After: its live earned hours reversed by a reversing entry
    (courses.ledger.hours_reverse); its valid certificates revoked with the
    reason (certificate_revoke e-mails the learner), or, if none is issued
    yet, its request cancelled so that nothing is ever issued for it. The
    request row is locked, so a bulk run issuing it at this moment either
    finishes first (and its certificate is revoked here) or finds it
    cancelled. Recording the achievement again later owes the certificate
    again (achievement_record).
    """
    from courses.certificates import services as certificate_services

    user_id = getattr(user, "pk", user)
    source = {"source_type": source_type, "source_key": source_key}
    with transaction.atomic():
        earned = live_earned(
            user=user_id, source_type=source_type, source_key=source_key
        )
        reversal = hours_reverse(entry=earned, reason=reason, by=by) if earned else None
        request = (
            CertificateRequest.objects.select_for_update()
            .filter(user_id=user_id, **source)
            .first()
        )
        if request is None:
            return AchievementReversal(reversal, [], False)
        if request.status in (
            CertificateRequest.Status.PENDING,
            CertificateRequest.Status.FAILED,
        ):
            certificate_services.certificate_request_cancel(
                request_id=request.pk, reason=reason, by=by
            )
            return AchievementReversal(reversal, [], True)
        revoked = []
        for certificate in Certificate.objects.filter(
            request=request, status=Certificate.Status.VALID
        ):
            certificate_services.certificate_revoke(
                certificate_id=certificate.pk, reason=reason, by=by
            )
            revoked.append(certificate.serial)
        return AchievementReversal(reversal, revoked, False)

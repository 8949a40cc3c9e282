"""The evidence of any achievement: its hours-ledger entries, its
certificates with their history from Wagtail's log, and the records other
apps keep of it (registered here by the app that owns the ledger source)."""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.utils.translation import gettext as _

from wagtail.log_actions import registry as log_registry
from wagtail.models import ModelLogEntry

from courses.evidence.tables import Table, person, shanghai
from courses.models import Certificate, HoursLedgerEntry

#: The lifecycle steps of a certificate in Wagtail's log.
CERTIFICATE_ACTIONS = "courses.certificate."


#: The records another app keeps of an achievement, by ledger source:
#: ``provider(user=..., source_key=..., title=...) -> list[Table]``. The
#: events app registers its registrations and check-ins here
#: (EventsConfig.ready), so that courses never reads its tables.
_source_records: dict[str, Any] = {}


def register_source_records(source_type: str, provider: Any) -> None:
    """Let the app that owns a ledger source show its records as evidence."""
    _source_records[source_type] = provider


def source_records(source_type: str) -> Any:
    """The provider registered for a ledger source, or None."""
    return _source_records.get(source_type)


def ledger_table(*, user: Any, source_type: str, source_key: int) -> Table:
    table = Table(
        key="ledger",
        title=_("Hours ledger"),
        caption=_(
            "The learner's hours-ledger entries for this achievement, oldest "
            "first: hours earned, reversals and adjustments, with the reason "
            "and who entered them."
        ),
        headings=[
            _("Entry"),
            _("Kind"),
            _("Hours"),
            _("Date"),
            _("Reason"),
            _("Entered by"),
            _("Recorded"),
            _("Reverses entry"),
        ],
        empty=_("No hours were recorded for this achievement."),
    )
    entries = list(
        HoursLedgerEntry.objects.filter(
            user=user, source_type=source_type, source_key=source_key
        )
        .select_related("created_by")
        .order_by("created_at", "pk")
    )
    numbers = {entry.pk: number for number, entry in enumerate(entries, start=1)}
    for number, entry in enumerate(entries, start=1):
        table.rows.append(
            [
                number,
                entry.get_kind_display(),
                entry.hours,
                entry.earned_on,
                entry.reason,
                person(entry.created_by) or _("the portal"),
                shanghai(entry.created_at),
                # Its number in this table, or its id if it is not here.
                numbers.get(entry.reverses_id, entry.reverses_id)
                if entry.reverses_id is not None
                else None,
            ]
        )
    return table


def certificate_tables(
    *, user: Any, source_type: str, source_key: int
) -> tuple[list[Table], list[Certificate]]:
    """The certificates of one achievement (a reissue is a new one) and
    their history from Wagtail's log."""
    certificates = list(
        Certificate.objects.filter(
            request__user=user,
            request__source_type=source_type,
            request__source_key=source_key,
        )
        .select_related("replaces")
        .order_by("issued_at", "pk")
    )
    listing = Table(
        key="certificates",
        title=_("Certificates"),
        caption=_(
            "The certificates issued for this achievement; a reissue is a new "
            "certificate that supersedes the old one."
        ),
        headings=[
            _("Serial number"),
            _("Status"),
            _("Issued"),
            _("Status changed"),
            _("Reason for revocation"),
            _("Replaces"),
        ],
        empty=_("No certificate has been issued for this achievement."),
    )
    for certificate in certificates:
        listing.rows.append(
            [
                certificate.serial,
                certificate.state_label,
                shanghai(certificate.issued_at),
                shanghai(certificate.status_changed_at),
                certificate.revoked_reason,
                certificate.replaces.serial if certificate.replaces else "",
            ]
        )
    history = Table(
        key="history",
        title=_("Certificate history"),
        caption=_(
            "Every step of the certificates' lives from the portal's audit "
            "log: issued, revoked with the reason, superseded by a reissue."
        ),
        headings=[_("Time"), _("Certificate"), _("Action"), _("Details"), _("By")],
        empty=_("Nothing recorded yet."),
    )
    serials = {str(certificate.pk): certificate.serial for certificate in certificates}
    if serials:
        entries = (
            ModelLogEntry.objects.filter(
                content_type=ContentType.objects.get_for_model(Certificate),
                object_id__in=list(serials),
                action__startswith=CERTIFICATE_ACTIONS,
            )
            .select_related("user")
            .order_by("timestamp", "pk")
        )
        for entry in entries:
            history.rows.append(
                [
                    shanghai(entry.timestamp),
                    serials.get(entry.object_id, ""),
                    str(log_registry.get_action_label(entry.action)),
                    entry.message,
                    person(entry.user) or _("the portal"),
                ]
            )
    return [listing, history], certificates

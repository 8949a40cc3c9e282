"""Writes to the talent pool. Views, commands and tasks call these; nothing
else changes an expert's status or imports experts."""

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any

from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from wagtail.log_actions import log
from wagtail.models import ModelLogEntry

from portal.models import User
from portal.tabular import FileProblem
from talentpool.imports import (
    EVIDENCE_COLUMNS,
    ExpertFileReport,
    ExpertRow,
    evidence_datetime,
    evidence_day,
    expert_file_batches,
    expert_file_check,
)
from talentpool.models import (
    Expert,
    ExpertConsent,
    ExpertStatus,
    Organisation,
    OrganisationKind,
    Qualification,
)
from talentpool.search.index import experts_reindex

logger = logging.getLogger(__name__)

#: Wagtail log actions (registered in wagtail_hooks.py), on the expert's history.
LOG_IMPORTED = "talentpool.expert_imported"
LOG_STATUS_CHANGED = "talentpool.expert_status_changed"
#: Evidence given on paper and recorded by staff: a verification (an import's
#: verified_on) and a signed consent form (an import's consent_on and
#: consent_ref, or the admin's "record paper consent" bulk action).
LOG_VERIFIED_ON_PAPER = "talentpool.expert_verified_on_paper"
LOG_CONSENT_ON_PAPER = "talentpool.consent_given_on_paper"

# File column -> many-to-many field, foreign key to a term, or plain field.
_M2M_COLUMNS = {
    "category": "categories",
    "ip_types": "ip_types",
    "services": "services",
    "industries": "industries",
    "languages": "languages",
}
_TERM_COLUMNS = {"district": "district", "talent_tier": "talent_tier"}
_PLAIN_COLUMNS = {
    "years_of_practice": "years_of_practice",
    "bio": "biography",
    "email": "email",
    "phone": "phone",
}


class TalentPoolError(Exception):
    """A request the talent pool refuses; the message says why, in the
    active language, and nothing was changed."""


class ImportRefused(TalentPoolError):
    """The file has problems (in `report`); nothing was imported."""

    def __init__(self, report: ExpertFileReport) -> None:
        super().__init__(_("The file has errors or no experts: nothing was imported."))
        self.report = report


@dataclass(frozen=True)
class ExpertImportResult:
    created: int
    updated: int
    report: ExpertFileReport
    #: Rows that matched an expert whose values were already the file's.
    unchanged: int = 0
    #: Every expert the file names (added, updated or unchanged).
    expert_ids: tuple[int, ...] = ()
    #: Experts this import verified (verified_on), and paper consents it
    #: recorded (consent_on and consent_ref); rows whose evidence was
    #: already recorded are not counted.
    verified: int = 0
    consented: int = 0

    @property
    def consent_skipped_lines(self) -> list[int]:
        """Lines whose paper consent was left out: the expert withdrew
        consent online on or after the paper's date."""
        return self.report.consent_skipped_lines


# --- import --------------------------------------------------------------------


def experts_import(
    *,
    file: IO[bytes],
    filename: str,
    user: User | None = None,
    create_only: bool = False,
    progress: Callable[[int], None] | None = None,
) -> ExpertImportResult:
    """Import an expert list (CSV or XLSX; see talentpool.imports).

    Before: any file. The whole file is checked first; if any row is bad,
    raises ImportRefused (with the report) and writes nothing. Otherwise, in
    one transaction: a new expert for each row whose external ID (or, without
    one, licence number) is unknown, the others updated in the columns the
    file has; organisations created by name when new; the licence number kept
    on the qualification the import manages; an "imported" entry on each
    expert's history. Status is never touched.

    Evidence given on paper (columns verified_on, consent_on with
    consent_ref) is recorded with `user` as the staff member who verified or
    recorded it, so a file with those columns needs `user` (ImportRefused
    without it). verified_on makes the expert verified on that date (noon,
    Asia/Shanghai), unless already verified on that date or later; a paper
    consent becomes an ExpertConsent (method paper, the form's reference)
    and sets publication_consent_at unless a later consent row is in force;
    a consent withdrawn online on or after the paper's date stands (the
    row's consent is left out, with a warning). Each is on the expert's
    history.
    May run twice: the second run updates the same experts to the same values
    and reports them unchanged. `create_only` declares a file of new experts
    (talentpool.imports: rows need no external ID or licence number, and one
    matching an expert in the pool is refused). `progress`, if given, is
    called with the rows written so far after each batch (inside the
    transaction: portal.import_jobs says how a job page sees it).
    """
    report = expert_file_check(file=file, filename=filename, create_only=create_only)
    if user is None and report.columns & EVIDENCE_COLUMNS:
        report.errors.insert(
            0,
            (
                None,
                _(
                    "The columns verified_on, consent_on and consent_ref record "
                    "evidence given on paper, with the staff member importing "
                    "the file as who recorded it: import the file in the admin, "
                    "or with manage.py import_experts --as-user."
                ),
            ),
        )
    if not report.is_valid:
        raise ImportRefused(report)
    created = updated = unchanged = 0
    writer = _BatchWriter(report=report, user=user)
    try:
        with transaction.atomic():
            # Read again and write batch by batch: rows are never all in memory.
            # The check above ran outside this transaction, so a row that has
            # become bad since (a term deactivated) is caught here.
            recheck = ExpertFileReport(filename=filename, create_only=create_only)
            try:
                for batch in expert_file_batches(file=file, report=recheck):
                    if recheck.errors:
                        break
                    new, changed, same = writer.write(batch)
                    created, updated = created + new, updated + changed
                    unchanged += same
                    if progress is not None:
                        progress(created + updated + unchanged)
            except FileProblem as problem:
                recheck.errors.append((None, str(problem)))
            if recheck.errors:
                raise ImportRefused(recheck)
    except IntegrityError as error:
        # Another import or an editor took an external ID or licence number
        # between the check and the write: the database refused it.
        logger.warning("Import of %s refused by the database: %s", filename, error)
        raise TalentPoolError(
            _(
                "The talent pool changed while the file was being imported "
                "(another import or an edit): nothing was imported. Try again."
            )
        ) from error
    logger.info(
        "Experts imported from %s by user %s: %s new, %s updated, %s unchanged, "
        "%s verified, %s paper consents",
        filename,
        user.pk if user else None,
        created,
        updated,
        unchanged,
        writer.verified,
        writer.consented,
    )
    return ExpertImportResult(
        created=created,
        updated=updated,
        unchanged=unchanged,
        report=report,
        verified=writer.verified,
        consented=writer.consented,
        expert_ids=tuple(writer.expert_ids),
    )


def organisation_kind_guess(name: str) -> str:
    """The kind of an organisation known only by its name, from the words
    Chinese organisation names end in; staff correct it in the admin."""
    if "律师事务所" in name:
        return OrganisationKind.LAW_FIRM
    if "公证处" in name:
        return OrganisationKind.NOTARY_OFFICE
    if any(word in name for word in ("大学", "学院", "研究院", "研究所")):
        return OrganisationKind.UNIVERSITY
    if any(word in name for word in ("代理", "事务所", "知识产权服务")):
        return OrganisationKind.AGENCY
    return OrganisationKind.OTHER


class _BatchWriter:
    """Writes checked rows a batch at a time with bulk queries."""

    def __init__(self, *, report: ExpertFileReport, user: User | None) -> None:
        self.columns = report.columns
        self.filename = report.filename
        self.user = user
        self.organisations: dict[str, int] = {}
        self.content_type = ContentType.objects.get_for_model(Expert)
        self.uuid = uuid.uuid4()  # groups this import's entries in the log
        self.expert_ids: list[int] = []  # every expert the file names
        self.fields = ["name", "updated_at"]
        if "organization" in self.columns:
            self.fields.append("organisation")
        for column, name in {**_TERM_COLUMNS, **_PLAIN_COLUMNS}.items():
            if column in self.columns:
                self.fields.append(name)
        if "verified_on" in self.columns:
            self.fields += ["verification_status", "verified_at", "verified_by"]
        #: Evidence recorded so far (ExpertImportResult.verified, consented).
        self.verified = self.consented = 0

    def write(self, rows: list[ExpertRow]) -> tuple[int, int, int]:
        """Create or update the experts of one batch; returns (created,
        updated, unchanged). Experts the file leaves as they were are not
        written (a re-import of an unchanged file writes almost nothing) nor
        logged, and count as unchanged."""
        now = timezone.now()
        self._organisations(rows)
        existing = Expert.objects.in_bulk([r.expert_id for r in rows if r.expert_id])
        attnames = [
            Expert._meta.get_field(name).attname
            for name in self.fields
            if name != "updated_at"
        ]
        new: list[Expert] = []
        changed: list[Expert] = []
        experts: list[Expert] = []
        verified: list[tuple[ExpertRow, Expert]] = []
        for row in rows:
            expert = existing.get(row.expert_id) if row.expert_id else None
            verify = self._verify(expert, row)
            if expert is None:
                expert = Expert(external_id=row.external_id)
                new.append(expert)
                self._apply(expert, row, now, verify=verify)
            else:
                before = [getattr(expert, attname) for attname in attnames]
                self._apply(expert, row, now, verify=verify)
                if before != [getattr(expert, attname) for attname in attnames]:
                    changed.append(expert)
            experts.append(expert)
            if verify:
                verified.append((row, expert))
        Expert.objects.bulk_create(new)
        Expert.objects.bulk_update(changed, self.fields)
        self.expert_ids.extend(expert.pk for expert in experts)
        new_ids = {expert.pk for expert in new}
        touched = new_ids | {expert.pk for expert in changed}
        touched |= self._relations(rows, experts, new_ids)
        touched |= self._qualifications(rows, experts)
        touched |= {expert.pk for _row, expert in verified}
        touched |= self._paper_consents(rows, experts, now)
        Expert.objects.filter(pk__in=touched - new_ids).exclude(
            pk__in=[expert.pk for expert in changed]
        ).update(updated_at=now)
        self._log(rows, experts, new_ids, touched, now)
        self._log_verified(verified, now)
        self.verified += len(verified)
        # Bulk writes send no signals: the search index is updated here, in
        # the import's transaction, so a refused import leaves it as it was.
        experts_reindex(expert_ids=touched)
        updated = len(touched - new_ids)
        return len(new), updated, len(existing) - updated

    def _organisations(self, rows: list[ExpertRow]) -> None:
        names = {r.organisation for r in rows if r.organisation} - set(
            self.organisations
        )
        if not names:
            return
        self.organisations.update(
            Organisation.objects.filter(name__in=names).values_list("name", "pk")
        )
        missing = [name for name in names if name not in self.organisations]
        for organisation in Organisation.objects.bulk_create(
            Organisation(name=name, kind=organisation_kind_guess(name))
            for name in missing
        ):
            self.organisations[organisation.name] = organisation.pk

    def _verify(self, expert: Expert | None, row: ExpertRow) -> bool:
        """Whether the row's verified_on verifies the expert: not when the
        expert is already verified on that date or later."""
        if row.verified_on is None or self.user is None:
            return False
        return not (
            expert is not None
            and expert.verification_status == Expert.Verification.VERIFIED
            and expert.verified_at is not None
            and evidence_day(expert.verified_at) >= row.verified_on
        )

    def _apply(
        self, expert: Expert, row: ExpertRow, now: datetime, *, verify: bool = False
    ) -> None:
        expert.name = row.name
        expert.updated_at = now
        if verify and row.verified_on is not None and self.user is not None:
            expert.verification_status = Expert.Verification.VERIFIED
            expert.verified_at = evidence_datetime(row.verified_on)
            expert.verified_by_id = self.user.pk
        if "organization" in self.columns:
            expert.organisation_id = self.organisations.get(row.organisation)
        for column, name in _TERM_COLUMNS.items():
            if column in self.columns:
                term = row.term(column)
                setattr(expert, f"{name}_id", term.pk if term else None)
        values: dict[str, Any] = {
            "years_of_practice": row.years_of_practice,
            "bio": row.biography,
            "email": row.email,
            "phone": row.phone,
        }
        for column, name in _PLAIN_COLUMNS.items():
            if column in self.columns:
                setattr(expert, name, values[column])

    def _relations(
        self, rows: list[ExpertRow], experts: list[Expert], new_ids: set[int]
    ) -> set[int]:
        """Replace the vocabulary terms of experts whose terms differ from the
        file's; returns their ids."""
        touched: set[int] = set()
        old_ids = [expert.pk for expert in experts if expert.pk not in new_ids]
        for column, name in _M2M_COLUMNS.items():
            if column not in self.columns:
                continue
            relation = Expert._meta.get_field(name)
            through = relation.remote_field.through
            source = f"{relation.m2m_field_name()}_id"
            target = f"{relation.m2m_reverse_field_name()}_id"
            current: dict[int, set[int]] = {}
            for expert_id, term_id in through.objects.filter(
                **{f"{source}__in": old_ids}
            ).values_list(source, target):
                current.setdefault(expert_id, set()).add(term_id)
            replace: list[tuple[int, tuple]] = []
            for row, expert in zip(rows, experts, strict=True):
                wanted = {term.pk for term in row.terms.get(column, ())}
                if expert.pk in new_ids or wanted != current.get(expert.pk, set()):
                    replace.append((expert.pk, row.terms.get(column, ())))
            stale = [pk for pk, _terms in replace if pk not in new_ids]
            if stale:
                through.objects.filter(**{f"{source}__in": stale}).delete()
            through.objects.bulk_create(
                through(**{source: pk, target: term.pk})
                for pk, terms in replace
                for term in terms
            )
            touched.update(stale)
        return touched

    def _qualifications(self, rows: list[ExpertRow], experts: list[Expert]) -> set[int]:
        """Put each licence number on the qualification the import manages;
        returns the ids of experts whose qualifications changed."""
        if "license_no" not in self.columns:
            return set()
        wanted = {
            expert.pk: row
            for row, expert in zip(rows, experts, strict=True)
            if row.licence_number
        }
        held: set[tuple[int, str]] = set()
        managed: dict[int, Qualification] = {}
        for qualification in Qualification.objects.filter(expert_id__in=wanted):
            held.add((qualification.expert_id, qualification.licence_number))
            if qualification.from_import:
                managed.setdefault(qualification.expert_id, qualification)
        to_update: list[Qualification] = []
        to_create: list[Qualification] = []
        for expert_id, row in wanted.items():
            if (expert_id, row.licence_number) in held:
                continue  # already on one of the expert's qualifications
            category = row.term("category")
            existing = managed.get(expert_id)
            if existing is None:
                to_create.append(
                    Qualification(
                        expert_id=expert_id,
                        licence_number=row.licence_number,
                        category_id=category.pk if category else None,
                        from_import=True,
                    )
                )
            else:
                existing.licence_number = row.licence_number
                to_update.append(existing)
        Qualification.objects.bulk_update(to_update, ["licence_number"])
        Qualification.objects.bulk_create(to_create)
        return {q.expert_id for q in to_update} | {q.expert_id for q in to_create}

    def _paper_consents(
        self, rows: list[ExpertRow], experts: list[Expert], now: datetime
    ) -> set[int]:
        """Record the paper consents of the batch (ExpertConsent, method
        paper) and log them; returns the ids of the experts concerned. A
        form already recorded for the expert is left alone, and so is one
        signed on or before a withdrawal given online (the check warned)."""
        from talentpool.applications.services.consent import paper_consent_wording

        wanted = [
            (row, expert)
            for row, expert in zip(rows, experts, strict=True)
            if row.consent_on is not None and self.user is not None
        ]
        if not wanted:
            return set()
        latest: dict[int, datetime] = {}
        withdrawn: dict[int, datetime] = {}
        recorded: set[tuple[int, str]] = set()
        for expert_id, given, method, reference, at in ExpertConsent.objects.filter(
            expert_id__in=[expert.pk for _row, expert in wanted],
            kind=ExpertConsent.Kind.PUBLICATION,
        ).values_list("expert_id", "given", "method", "reference", "recorded_at"):
            latest[expert_id] = max(at, latest.get(expert_id, at))
            if not given:
                withdrawn[expert_id] = max(at, withdrawn.get(expert_id, at))
            elif method == ExpertConsent.Method.PAPER:
                recorded.add((expert_id, reference))
        wording = paper_consent_wording()
        consents: list[tuple[ExpertRow, ExpertConsent]] = []
        in_force: list[Expert] = []
        for row, expert in wanted:
            assert row.consent_on is not None and self.user is not None
            if (expert.pk, row.consent_ref) in recorded:
                continue
            if (
                expert.pk in withdrawn
                and evidence_day(withdrawn[expert.pk]) >= row.consent_on
            ):
                continue
            at = evidence_datetime(row.consent_on)
            consents.append(
                (
                    row,
                    ExpertConsent(
                        expert=expert,
                        kind=ExpertConsent.Kind.PUBLICATION,
                        given=True,
                        wording=wording,
                        user_id=expert.user_id,
                        method=ExpertConsent.Method.PAPER,
                        reference=row.consent_ref,
                        recorded_by=self.user,
                        recorded_at=at,
                    ),
                )
            )
            # The latest row is the one in force: an older paper form is
            # kept as evidence and leaves a later consent as it is.
            if expert.pk not in latest or latest[expert.pk] <= at:
                expert.publication_consent_at = at
                in_force.append(expert)
        ExpertConsent.objects.bulk_create(consent for _row, consent in consents)
        Expert.objects.bulk_update(in_force, ["publication_consent_at"])
        ModelLogEntry.objects.bulk_create(
            ModelLogEntry(
                content_type=self.content_type,
                label=consent.expert.name,
                action=LOG_CONSENT_ON_PAPER,
                data={
                    "consent": consent.pk,
                    "reference": consent.reference,
                    "on": row.consent_on.isoformat() if row.consent_on else "",
                    "file": self.filename,
                    "line": row.line,
                },
                timestamp=now,
                uuid=self.uuid,
                user=self.user,
                object_id=str(consent.expert_id),
                content_changed=True,
            )
            for row, consent in consents
        )
        self.consented += len(consents)
        return {consent.expert_id for _row, consent in consents}

    def _log_verified(
        self, verified: list[tuple[ExpertRow, Expert]], now: datetime
    ) -> None:
        ModelLogEntry.objects.bulk_create(
            ModelLogEntry(
                content_type=self.content_type,
                label=expert.name,
                action=LOG_VERIFIED_ON_PAPER,
                data={
                    "on": row.verified_on.isoformat() if row.verified_on else "",
                    "file": self.filename,
                    "line": row.line,
                },
                timestamp=now,
                uuid=self.uuid,
                user=self.user,
                object_id=str(expert.pk),
                content_changed=True,
            )
            for row, expert in verified
        )

    def _log(
        self,
        rows: list[ExpertRow],
        experts: list[Expert],
        new_ids: set[int],
        touched: set[int],
        now: datetime,
    ) -> None:
        # One entry per expert, in bulk: log() would be a query each.
        ModelLogEntry.objects.bulk_create(
            ModelLogEntry(
                content_type=self.content_type,
                label=expert.name,
                action=LOG_IMPORTED,
                data={
                    "file": self.filename,
                    "line": row.line,
                    "created": expert.pk in new_ids,
                },
                timestamp=now,
                uuid=self.uuid,
                user=self.user,
                object_id=str(expert.pk),
                content_changed=True,
            )
            for row, expert in zip(rows, experts, strict=True)
            if expert.pk in touched
        )


# --- status --------------------------------------------------------------------


def expert_status_change(
    *, expert: Expert, status: str, reason: str = "", user: User | None
) -> Expert:
    """Set an expert's public status (public, withdrawn, suspended, removed).

    Suspending or removing needs a reason (also a database constraint).
    After: status, reason and status_changed_at saved, and an entry on the
    expert's history saying who changed it from what to what, and why. A
    removed expert stays in the database and in the admin. Setting the status
    the expert already has, with the same reason, changes nothing and logs
    nothing, so it may run twice.
    """
    reason = reason.strip()
    if status not in ExpertStatus.values:
        raise TalentPoolError(_("Unknown status “%(status)s”.") % {"status": status})
    if status in Expert.STATUSES_NEEDING_REASON and not reason:
        raise TalentPoolError(_("Say why the expert is suspended or removed."))
    with transaction.atomic():
        expert = Expert.objects.select_for_update().get(pk=expert.pk)
        if expert.status == status and expert.status_reason == reason:
            return expert
        previous = expert.status
        expert.status = status
        expert.status_reason = reason
        expert.status_changed_at = timezone.now()
        expert.save(update_fields=["status", "status_reason", "status_changed_at"])
        log(
            instance=expert,
            action=LOG_STATUS_CHANGED,
            user=user,
            data={"from": previous, "to": status, "reason": reason},
        )
    return expert

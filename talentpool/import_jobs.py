"""Expert imports as background jobs (portal.import_jobs): what the check
and the write of an ImportJob of kind "expert" do, registered in
TalentpoolConfig.ready(). The request only stores the upload; the worker
runs talentpool.imports.expert_file_check and
talentpool.services.experts_import, all or nothing, as before."""

import dataclasses
from datetime import date, datetime
from typing import IO, Any

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portal.import_jobs import ImportJobRefused, ImportKind, Progress
from portal.models import ImportJob, User
from talentpool.imports import MAX_UNPACKED_BYTES, SAMPLE_ROWS, ExpertFileReport
from talentpool.imports import expert_file_check as _expert_file_check
from talentpool.models import Expert

KIND = ImportJob.Kind.EXPERT
UPLOAD_FOLDER = "private/expert-imports"
#: The expert's row properties the preview template shows.
_ROW_PROPERTIES = ("category_labels", "district_label")


def may_import(user: Any, target_id: int | None) -> bool:
    """Adding and changing experts (as the import screens ask)."""
    return bool(
        user.has_perm("talentpool.add_expert")
        and user.has_perm("talentpool.change_expert")
    )


def _json(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_json(item) for item in value]
    return str(value)


def report_summary(report: ExpertFileReport) -> dict[str, Any]:
    """The report as JSON for the preview template: its counts and flags,
    and the sample rows with what the table shows."""
    summary: dict[str, Any] = {}
    for item in dataclasses.fields(report):
        if item.name in ("errors", "warnings", "sample"):
            continue
        summary[item.name] = _json(getattr(report, item.name))
    sample = []
    for row in report.sample:
        values = {
            item.name: _json(getattr(row, item.name))
            for item in dataclasses.fields(row)
            if item.name != "terms"
        }
        values.update({name: getattr(row, name) for name in _ROW_PROPERTIES})
        sample.append(values)
    summary["sample"] = sample
    summary["context"] = {"more_rows": max(0, report.rows - SAMPLE_ROWS)}
    return summary


def check(
    job: ImportJob, file: IO[bytes], progress: Progress
) -> tuple[ExpertFileReport, dict]:
    report = _expert_file_check(
        file=file,
        filename=job.filename,
        create_only=bool(job.options.get("create_only")),
        progress=progress,
    )
    return report, report_summary(report)


def write(
    job: ImportJob, file: IO[bytes], progress: Progress, user: User | None
) -> dict:
    from talentpool.services import ImportRefused, TalentPoolError, experts_import

    try:
        result = experts_import(
            file=file,
            filename=job.filename,
            user=user,
            create_only=bool(job.options.get("create_only")),
            progress=progress,
        )
    except ImportRefused as refused:
        raise ImportJobRefused(str(refused), refused.report) from refused
    except TalentPoolError as error:
        raise ImportJobRefused(str(error)) from error
    message = _(
        "%(created)s experts added, %(updated)s updated and %(unchanged)s unchanged."
    ) % {
        "created": result.created,
        "updated": result.updated,
        "unchanged": result.unchanged,
    }
    if result.verified or result.consented:
        message += " " + _(
            "Recorded from paper, with you as the recorder: %(verified)s "
            "verifications and %(consented)s consents to publication."
        ) % {"verified": result.verified, "consented": result.consented}
    if result.consent_skipped_lines:
        message += " " + _(
            "Consent not recorded on lines %(lines)s: the expert withdrew it "
            "online on or after the date of the paper form."
        ) % {"lines": ", ".join(map(str, result.consent_skipped_lines))}
    return {
        "created": result.created,
        "updated": result.updated,
        "unchanged": result.unchanged,
        # Paper evidence the import recorded (verified_on, consent_on).
        "verified": result.verified,
        "consented": result.consented,
        "message": message,
        "expert_ids": list(result.expert_ids),
    }


def unlisted(result: dict) -> list[int]:
    """Experts of the file that are not listed (not verified, no consent,
    lapsed or not public): those an invitation to claim the profile is for."""
    ids = result.pop("expert_ids", [])
    listed: set[int] = set()
    for start in range(0, len(ids), 5000):  # SQLite takes ~32,000 parameters
        listed.update(
            Expert.objects.listed()
            .filter(pk__in=ids[start : start + 5000])
            .values_list("pk", flat=True)
        )
    return [pk for pk in ids if pk not in listed]


def register() -> None:
    from portal.import_jobs import register_import_kind

    register_import_kind(
        KIND,
        ImportKind(
            label=gettext_lazy("Import experts"),
            check=check,
            write=write,
            may_import=may_import,
            upload_url=lambda _target: reverse(
                "wagtailsnippets_talentpool_expert:import"
            ),
            done_url=lambda _target: reverse("wagtailsnippets_talentpool_expert:list"),
            preview_template="talentpool/admin/expert_import_preview.html",
            job_template="talentpool/admin/expert_import_job.html",
            max_unpacked_bytes=MAX_UNPACKED_BYTES,
            unlisted=unlisted,
        ),
    )

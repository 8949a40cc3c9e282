"""Trainee imports as background jobs (portal.import_jobs): what the check
and the write of an ImportJob of kind "trainee" (target: the training
class) do, registered in CoursesConfig.ready(). The worker runs
courses.imports.trainee_file_read and training_class_import, all or nothing,
as the request did before."""

from typing import IO, Any

from django.contrib.admin.utils import quote
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from courses.imports import (
    MAX_UNPACKED_BYTES,
    ImportPreview,
    trainee_file_read,
    training_class_import,
)
from courses.models import TrainingClass, TrainingClassMember
from courses.services import CourseError
from portal.import_jobs import ImportJobRefused, ImportKind, Progress
from portal.models import ImportJob, User

KIND = ImportJob.Kind.TRAINEE
UPLOAD_FOLDER = "private/trainee-imports"
_URLS = "training_classes"


def may_import(user: Any, target_id: int | None) -> bool:
    """Changing training classes (as the import screens ask)."""
    return bool(user.has_perm("courses.change_trainingclass"))


def _training_class(job: ImportJob) -> TrainingClass:
    return TrainingClass.objects.get(pk=_class_pk(job.target_id))


def _class_pk(target_id: int | None) -> int:
    """A trainee job always names its class (TraineeImportView sets it)."""
    if target_id is None:
        raise ValueError("A trainee import job without a training class")
    return target_id


def preview_summary(report: ImportPreview, training_class: TrainingClass) -> dict:
    """The rows as the preview template shows them, with each one's account."""
    member_ids = set(
        TrainingClassMember.objects.filter(
            training_class=training_class,
            user_id__in=[row.user_id for row in report.rows if row.user_id],
        ).values_list("user_id", flat=True)
    )
    rows = [
        {
            "row": {
                "line": row.line,
                "email": row.email,
                "name": row.name,
                "organisation": row.organisation,
                "audience": {"label": row.audience.label if row.audience else ""},
                "district": {"label": row.district.label if row.district else ""},
            },
            "status": (
                _("New account")
                if row.is_new
                else _("Already in this class")
                if row.user_id in member_ids
                else _("Existing account")
            ),
        }
        for row in report.rows
    ]
    return {
        "rows": rows,
        "new_accounts": report.new_accounts,
        "context": {"rows": rows},
    }


def check(job: ImportJob, file: IO[bytes], progress: Progress) -> tuple[Any, dict]:
    report = trainee_file_read(content=file.read(), filename=job.filename)
    return report, preview_summary(report, _training_class(job))


def write(
    job: ImportJob, file: IO[bytes], progress: Progress, user: User | None
) -> dict:
    if user is None:
        raise ImportJobRefused(_("The account that uploaded the file is gone."))
    # Read again: the vocabularies or the accounts may have changed since.
    preview = trainee_file_read(content=file.read(), filename=job.filename)
    try:
        result = training_class_import(
            training_class=_training_class(job), preview=preview, invited_by=user
        )
    except CourseError as error:
        raise ImportJobRefused(str(error), preview) from error
    return {
        "members_added": result.members_added,
        "users_created": result.users_created,
        "already_members": result.already_members,
        "message": _(
            "%(members)s trainees added to the class (%(accounts)s new accounts, "
            "invited by e-mail); %(already)s were already in it."
        )
        % {
            "members": result.members_added,
            "accounts": result.users_created,
            "already": result.already_members,
        },
    }


def register() -> None:
    from portal.import_jobs import register_import_kind

    register_import_kind(
        KIND,
        ImportKind(
            label=gettext_lazy("Import trainees"),
            check=check,
            write=write,
            may_import=may_import,
            upload_url=lambda target: reverse(
                f"{_URLS}:import", args=(quote(_class_pk(target)),)
            ),
            done_url=lambda target: reverse(
                f"{_URLS}:inspect", args=(quote(_class_pk(target)),)
            ),
            preview_template="courses/admin/trainee_import_preview.html",
            max_unpacked_bytes=MAX_UNPACKED_BYTES,
        ),
    )

"""An import job: one uploaded spreadsheet on its way into the database,
checked and written by Celery tasks, never inside a request
(portal.import_jobs, docs/talentpool.md "Imports run in the background")."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class ImportJob(models.Model):
    """The row is the truth (docs/decisions.md, decision 1): the tasks take
    its id, and the admin's job page and status endpoint read it."""

    class Kind(models.TextChoices):
        EXPERT = "expert", _("Experts")
        TRAINEE = "trainee", _("Trainees")

    class Status(models.TextChoices):
        QUEUED = "queued", pgettext_lazy("import job status", "Queued")
        CHECKING = "checking", pgettext_lazy("import job status", "Checking")
        CHECKED = "checked", pgettext_lazy("import job status", "Checked")
        WRITING = "writing", pgettext_lazy("import job status", "Writing")
        DONE = "done", pgettext_lazy("import job status", "Done")
        FAILED = "failed", pgettext_lazy("import job status", "Failed")
        CANCELLED = "cancelled", pgettext_lazy("import job status", "Cancelled")

    #: A task is working on the job (or about to).
    RUNNING = (Status.QUEUED, Status.CHECKING, Status.WRITING)

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    #: What the import goes into, when the kind needs one (a training class).
    target_id = models.PositiveIntegerField(_("target"), null=True, blank=True)
    #: The upload in the default storage, under a random name in a private folder.
    stored_name = models.CharField(max_length=255, blank=True)
    filename = models.CharField(_("file name"), max_length=255)
    options = models.JSONField(default=dict, blank=True)
    #: The language of the person who uploaded it: the tasks' messages.
    language = models.CharField(max_length=16, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.QUEUED
    )
    rows_total = models.PositiveIntegerField(_("rows in the file"), default=0)
    rows_done = models.PositiveIntegerField(_("rows done"), default=0)
    #: What the check found, for the preview (the kind's own summary).
    report = models.JSONField(default=dict, blank=True)
    #: Every problem: [line or null, column, message].
    errors = models.JSONField(default=list, blank=True)
    error_count = models.PositiveIntegerField(default=0)
    #: What the write did: counts, in the kind's own words.
    result = models.JSONField(default=dict, blank=True)
    #: Expert imports: experts of the file that are not listed (no
    #: verification or consent), for an invitation to claim the profile.
    unlisted_expert_ids = models.JSONField(default=list, blank=True)
    #: Why the job failed, in the uploader's language.
    message = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("import job")
        verbose_name_plural = _("import jobs")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["kind", "status"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.filename}"

    @property
    def is_running(self) -> bool:
        return self.status in self.RUNNING

    @property
    def unlisted_expert_count(self) -> int:
        return len(self.unlisted_expert_ids)

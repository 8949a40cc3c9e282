"""Learner records. They outlive the content: a course or lesson page may be
unpublished, moved or deleted, and every enrolment, attempt, completion and
hour stays, with the title it had copied in (docs/decisions.md, convention 3)."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class TrainingClass(models.Model):
    """A training class (培训班): a named cohort with dates, courses and trainees."""

    name = models.CharField(_("class name"), max_length=200)
    code = models.SlugField(
        _("code"),
        max_length=60,
        unique=True,
        help_text=_("A short stable identifier, e.g. 2027-spring-ip."),
    )
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    description = models.TextField(_("description"), blank=True)
    courses = models.ManyToManyField(
        "courses.CoursePage",
        verbose_name=_("courses"),
        related_name="training_classes",
        blank=True,
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("training class")
        verbose_name_plural = _("training classes")
        ordering = ["-starts_on", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")),
                name="courses_class_dates_in_order",
            )
        ]

    def __str__(self) -> str:
        return self.name


class TrainingClassMember(models.Model):
    """A trainee in a training class."""

    training_class = models.ForeignKey(
        TrainingClass,
        verbose_name=_("training class"),
        on_delete=models.CASCADE,
        related_name="members",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("trainee"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    added_at = models.DateTimeField(_("added"), auto_now_add=True)

    class Meta:
        verbose_name = _("trainee")
        verbose_name_plural = _("trainees")
        constraints = [
            models.UniqueConstraint(
                fields=["training_class", "user"], name="courses_member_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.training_class}"


class Enrolment(models.Model):
    """A learner on a course. Never deleted; the course may be."""

    class Source(models.TextChoices):
        SELF = "self", _("Self-enrolled")
        CLASS = "class", _("Training class")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("learner"),
        on_delete=models.PROTECT,
        related_name="enrolments",
    )
    course = models.ForeignKey(
        "courses.CoursePage",
        verbose_name=_("course"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="enrolments",
    )
    course_key = models.PositiveBigIntegerField(
        _("course id"), help_text=_("Kept when the page is gone.")
    )
    course_title = models.CharField(_("course title"), max_length=255)
    credit_hours = models.DecimalField(
        _("credit hours"), max_digits=5, decimal_places=1
    )
    source = models.CharField(
        _("source"), max_length=10, choices=Source.choices, default=Source.SELF
    )
    training_class = models.ForeignKey(
        TrainingClass,
        verbose_name=_("training class"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="enrolments",
    )
    enrolled_at = models.DateTimeField(_("enrolled"), auto_now_add=True)
    last_lesson_key = models.PositiveBigIntegerField(
        _("last lesson visited"), null=True, blank=True
    )
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)

    class Meta:
        verbose_name = _("enrolment")
        verbose_name_plural = _("enrolments")
        ordering = ["-enrolled_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "course_key"], name="courses_enrolment_once"
            )
        ]
        indexes = [models.Index(fields=["course_key", "completed_at"])]

    def __str__(self) -> str:
        return f"{self.user} · {self.course_title}"


class LessonProgress(models.Model):
    """How far a learner is in one lesson."""

    class Status(models.TextChoices):
        STARTED = "started", _("In progress")
        COMPLETED = "completed", _("Completed")

    enrolment = models.ForeignKey(
        Enrolment, on_delete=models.CASCADE, related_name="lesson_progress"
    )
    lesson = models.ForeignKey(
        "courses.LessonPage",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    lesson_key = models.PositiveBigIntegerField(_("lesson id"))
    lesson_title = models.CharField(_("lesson title"), max_length=255)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.STARTED
    )
    position = models.FloatField(
        _("resume position"),
        default=0,
        help_text=_("Seconds into the video, or fraction of the page read."),
    )
    video_duration = models.FloatField(_("video length (s)"), null=True, blank=True)
    watched = models.JSONField(_("watched intervals"), default=dict, blank=True)
    watched_seconds = models.FloatField(_("seconds watched"), default=0)
    last_heartbeat_at = models.DateTimeField(null=True, blank=True)
    # The server's own clock: when the learner first opened the lesson. A
    # reading or document lesson completes no sooner than its minimum time
    # after this (docs/certificates.md, "What a certificate attests").
    started_at = models.DateTimeField(_("first opened"), default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)

    class Meta:
        verbose_name = _("lesson progress")
        verbose_name_plural = _("lesson progress")
        constraints = [
            models.UniqueConstraint(
                fields=["enrolment", "lesson_key"], name="courses_progress_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.enrolment} · {self.lesson_title}"


class QuizAttempt(models.Model):
    """One attempt at a quiz. Every attempt is kept."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        SUBMITTED = "submitted", _("Submitted")

    enrolment = models.ForeignKey(
        Enrolment, on_delete=models.CASCADE, related_name="quiz_attempts"
    )
    lesson = models.ForeignKey(
        "courses.LessonPage",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    lesson_key = models.PositiveBigIntegerField(_("lesson id"))
    lesson_title = models.CharField(_("lesson title"), max_length=255)
    quiz_key = models.CharField(_("quiz block id"), max_length=64)
    number = models.PositiveSmallIntegerField(_("attempt number"))
    layout = models.JSONField(
        _("questions as shown"),
        help_text=_(
            "The order of questions and options in this attempt, "
            "and the questions' text."
        ),
    )
    answers = models.JSONField(_("answers"), default=dict, blank=True)
    score = models.DecimalField(
        _("score (%)"), max_digits=5, decimal_places=1, null=True, blank=True
    )
    passed = models.BooleanField(_("passed"), default=False)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    started_at = models.DateTimeField(_("started"), auto_now_add=True)
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)

    class Meta:
        verbose_name = _("quiz attempt")
        verbose_name_plural = _("quiz attempts")
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(
                fields=["enrolment", "lesson_key", "quiz_key", "number"],
                name="courses_attempt_number_once",
            ),
            # At most one open attempt per quiz: two tabs share it.
            models.UniqueConstraint(
                fields=["enrolment", "lesson_key", "quiz_key"],
                condition=Q(status="open"),
                name="courses_one_open_attempt",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.lesson_title} #{self.number}"


class QuizAttemptGrant(models.Model):
    """Extra attempts at one quiz for one learner, granted by a training
    manager with a reason. Rows are only added: the grants are the trail."""

    enrolment = models.ForeignKey(
        Enrolment,
        verbose_name=_("enrolment"),
        on_delete=models.CASCADE,
        related_name="attempt_grants",
    )
    lesson_key = models.PositiveBigIntegerField(_("lesson id"))
    quiz_key = models.CharField(_("quiz block id"), max_length=64)
    extra = models.PositiveSmallIntegerField(
        _("extra attempts"),
        validators=[MinValueValidator(1), MaxValueValidator(10)],
    )
    reason = models.TextField(_("reason"))
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("granted by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    granted_at = models.DateTimeField(_("granted"), auto_now_add=True)

    class Meta:
        verbose_name = _("extra quiz attempts")
        verbose_name_plural = _("extra quiz attempts")
        ordering = ["granted_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(extra__gte=1, extra__lte=10),
                name="courses_grant_extra_in_range",
            ),
            models.CheckConstraint(
                condition=~Q(reason=""), name="courses_grant_has_reason"
            ),
        ]
        indexes = [models.Index(fields=["enrolment", "lesson_key", "quiz_key"])]

    def __str__(self) -> str:
        return f"{self.enrolment} · +{self.extra}"


class LedgerIsAppendOnly(Exception):
    """An hours-ledger row was to be changed or deleted: the ledger only
    grows. Undo an entry with a reversal, correct with an adjustment
    (courses.ledger)."""


class HoursLedgerQuerySet(models.QuerySet):
    """The ledger's rows are written once: update(), bulk_update() and
    delete() refuse."""

    def update(self, *args, **kwargs):
        raise LedgerIsAppendOnly(
            "The hours ledger is append-only: reverse or adjust, never update."
        )

    bulk_update = update

    def delete(self, *args, **kwargs):
        raise LedgerIsAppendOnly(
            "The hours ledger is append-only: reverse or adjust, never delete."
        )

    # Django's own deletion collector uses this one; nothing may take it.
    _raw_delete = delete


class HoursLedgerEntry(models.Model):
    """Training hours: an append-only ledger. A learner's hours are the sum of
    their entries. An achievement (course, event, class) is *earned* once; a
    mistake is undone by a *reversal* entry that points at the entry it
    reverses, never by changing or deleting a row; staff corrections are
    *adjustments* with a reason (docs/certificates.md)."""

    class Source(models.TextChoices):
        COURSE = "course", _("Course")
        EVENT = "event", _("Event")
        TRAINING_CLASS = "class", _("Training class")
        MANUAL = "manual", _("Manual adjustment")

    class Kind(models.TextChoices):
        EARNED = "earned", _("Earned")
        REVERSAL = "reversal", _("Reversal")
        ADJUSTMENT = "adjustment", _("Adjustment")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("learner"),
        on_delete=models.PROTECT,
        related_name="hours",
    )
    kind = models.CharField(
        _("kind"), max_length=10, choices=Kind.choices, default=Kind.EARNED
    )
    source_type = models.CharField(_("source"), max_length=10, choices=Source.choices)
    source_key = models.PositiveBigIntegerField(_("source id"))
    # The nth time this source was earned: 1, then 2 after a reversal and a
    # new check-in. Unique with the source, so a source is credited once at a time.
    sequence = models.PositiveSmallIntegerField(_("sequence"), default=1)
    title = models.CharField(_("title"), max_length=255)
    hours = models.DecimalField(_("hours"), max_digits=5, decimal_places=1)
    earned_on = models.DateField(_("date"))
    reverses = models.OneToOneField(
        "self",
        verbose_name=_("reverses"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reversed_by",
    )
    reason = models.TextField(_("reason"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("entered by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    objects = HoursLedgerQuerySet.as_manager()

    class Meta:
        verbose_name = _("hours ledger entry")
        verbose_name_plural = _("hours ledger")
        ordering = ["-earned_on", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "source_type", "source_key", "sequence"],
                condition=Q(kind="earned"),
                name="courses_hours_earned_once",
            ),
            models.CheckConstraint(
                condition=(
                    Q(kind="earned", hours__gte=0, reverses__isnull=True)
                    | Q(kind="reversal", reverses__isnull=False, hours__lte=0)
                    | Q(kind="adjustment", reverses__isnull=True)
                    & ~Q(hours=0)
                    & ~Q(reason="")
                ),
                name="courses_hours_kind_consistent",
            ),
            models.CheckConstraint(
                condition=Q(kind="earned") | ~Q(reason=""),
                name="courses_hours_correction_has_reason",
            ),
        ]
        indexes = [models.Index(fields=["user", "earned_on"])]

    def __str__(self) -> str:
        return f"{self.user} · {self.title} · {self.hours}"

    def save(self, *args, **kwargs):
        # Written once (convention 3): a row that exists is never saved again,
        # and a new one is always an INSERT, whatever primary key it was given.
        if (
            args
            or not self._state.adding
            or kwargs.get("force_update")
            or kwargs.get("update_fields") is not None
        ):
            raise LedgerIsAppendOnly(
                "The hours ledger is append-only: reverse or adjust, never update."
            )
        kwargs["force_insert"] = True
        super().save(**kwargs)

    def delete(self, *args, **kwargs):
        raise LedgerIsAppendOnly(
            "The hours ledger is append-only: reverse or adjust, never delete."
        )


class CertificateRequest(models.Model):
    """A certificate owed for an achievement, fulfilled by the certificates work."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        ISSUED = "issued", _("Issued")
        FAILED = "failed", _("Failed")
        # The achievement was reversed (a check-in scanned by mistake) before
        # the certificate was issued: nothing will be issued for it.
        CANCELLED = "cancelled", _("Cancelled")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("learner"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    source_type = models.CharField(
        _("source"), max_length=10, choices=HoursLedgerEntry.Source.choices
    )
    source_key = models.PositiveBigIntegerField(_("source id"))
    title = models.CharField(_("title"), max_length=255)
    hours = models.DecimalField(_("hours"), max_digits=5, decimal_places=1)
    achieved_on = models.DateField(_("date achieved"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        verbose_name = _("certificate request")
        verbose_name_plural = _("certificate requests")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "source_type", "source_key"],
                name="courses_certificate_once_per_source",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.title}"

"""Certificates: one per achievement, never deleted (docs/decisions.md, decision 2).

A pending ``CertificateRequest`` (written when a course is completed, later
when an event is attended) becomes exactly one ``Certificate``: the unique
constraint ``courses_certificate_once_per_request`` holds it in the database.
Reissuing makes a new certificate that ``replaces`` the old one; revoking keeps
the row and says why. What the certificate states (name, title, hours, date,
template) is copied in when it is issued and never follows later edits.
"""

import string

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from wagtail import blocks
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.contrib.settings.models import BaseGenericSetting, register_setting
from wagtail.fields import StreamField
from wagtail.images.blocks import ImageChooserBlock
from wagtail.models import PreviewableMixin

from .records import CertificateRequest, HoursLedgerEntry, TrainingClass

#: The placeholders a template's body may use, with what each stands for.
PLACEHOLDERS = {
    "name": _("the learner's name"),
    "title": _("the course or training title"),
    "hours": _("training hours"),
    "date": _("date achieved"),
    "issued": _("date issued"),
    "serial": _("serial number"),
    "organisation": _("issuing organisation"),
}


def placeholder_errors(text: str) -> list[str]:
    """What is wrong with the placeholders of a template body ([] when fine)."""
    errors = []
    try:
        fields = list(string.Formatter().parse(text))
    except ValueError as error:
        return [
            _("Unbalanced braces: write a placeholder as {name}; %(error)s")
            % {"error": error}
        ]
    for _literal, field, spec, conversion in fields:
        if field is None:
            continue
        if field not in PLACEHOLDERS or spec or conversion:
            errors.append(
                _("Unknown placeholder {%(field)s}. Use one of: %(known)s.")
                % {
                    "field": field,
                    "known": ", ".join(f"{{{key}}}" for key in PLACEHOLDERS),
                }
            )
    return errors


class SignatoryBlock(blocks.StructBlock):
    name = blocks.CharBlock(label=_("name"), max_length=60)
    role = blocks.CharBlock(label=_("position (Chinese)"), max_length=80)
    role_en = blocks.CharBlock(
        label=_("position (English)"), max_length=120, required=False
    )
    signature = ImageChooserBlock(
        label=_("signature image"),
        required=False,
        help_text=_("A PNG with a transparent background works best."),
    )

    class Meta:
        icon = "user"
        label = _("signatory")


class CertificateTemplate(PreviewableMixin, models.Model):
    """How a certificate looks. Editing a template never changes a certificate
    already issued: each issue pins a ``CertificateTemplateVersion`` snapshot."""

    name = models.CharField(_("template name"), max_length=100, unique=True)
    title = models.CharField(_("title (Chinese)"), max_length=60, default="结业证书")
    title_en = models.CharField(
        _("title (English)"), max_length=100, default="Certificate of Completion"
    )
    body = models.TextField(
        _("text (Chinese)"),
        default="{name} 同志于 {date} 完成《{title}》学习，共计 {hours} 学时，"
        "考核合格，特发此证。",
        help_text=_(
            "Placeholders: {name} {title} {hours} {date} {issued} {serial} "
            "{organisation}."
        ),
    )
    body_en = models.TextField(
        _("text (English)"),
        default="This is to certify that {name} completed “{title}”, "
        "{hours} training hours, on {date}.",
        help_text=_(
            "Used on the certificates of learners who read the portal in "
            "English, below the Chinese text."
        ),
    )
    background = models.ForeignKey(
        "wagtailimages.Image",
        verbose_name=_("background image"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("A4 landscape (297 × 210 mm), for example 3508 × 2480 pixels."),
    )
    signatories = StreamField(
        [("signatory", SignatoryBlock())],
        verbose_name=_("signatories"),
        blank=True,
        max_num=3,
    )
    validity_months = models.PositiveSmallIntegerField(
        _("valid for (months)"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(240)],
        help_text=_("Empty: the certificate does not expire."),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    panels = [
        FieldPanel("name"),
        MultiFieldPanel(
            [
                FieldPanel("title"),
                FieldPanel("body"),
                FieldPanel("title_en"),
                FieldPanel("body_en"),
            ],
            heading=_("Wording"),
        ),
        FieldPanel("background"),
        FieldPanel("signatories"),
        FieldPanel("validity_months"),
    ]

    class Meta:
        verbose_name = _("certificate template")
        verbose_name_plural = _("certificate templates")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        errors = {}
        for field in ("body", "body_en", "title", "title_en"):
            problems = placeholder_errors(getattr(self, field) or "")
            if problems:
                errors[field] = problems
        if errors:
            raise ValidationError(errors)

    # Live preview in the snippet editor, on sample data.
    preview_modes = [("", _("Certificate (HTML)")), ("pdf", _("Certificate (PDF)"))]

    def serve_preview(self, request, mode_name):
        from courses.certificates import rendering

        return rendering.template_preview_response(
            template=self, mode=mode_name, request=request
        )


class CertificateTemplateVersion(models.Model):
    """A frozen copy of a template's wording, images and signatories.

    Written by the issuing service the first time a template's content is used
    (one row per distinct content, found again by its hash); certificates
    point at it so re-rendering one years later looks as it did when issued.
    """

    template = models.ForeignKey(
        CertificateTemplate,
        verbose_name=_("template"),
        on_delete=models.PROTECT,
        related_name="versions",
    )
    content = models.JSONField(_("content"))
    content_hash = models.CharField(_("content hash"), max_length=64)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("certificate template version")
        verbose_name_plural = _("certificate template versions")
        constraints = [
            models.UniqueConstraint(
                fields=["template", "content_hash"],
                name="courses_template_version_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.template} · {self.created_at:%Y-%m-%d %H:%M}"


@register_setting(icon="doc-full-inverse")
class CertificateSettings(BaseGenericSetting):
    """Who issues certificates and how their serial numbers read."""

    serial_prefix = models.CharField(
        _("serial number prefix"),
        max_length=10,
        default="CQIP",
        help_text=_("Serial numbers read PREFIX-YEAR-NUMBER, e.g. CQIP-2027-000123."),
    )
    default_template = models.ForeignKey(
        CertificateTemplate,
        verbose_name=_("template"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Used for new certificates. Empty: the first template."),
    )
    seal = models.ForeignKey(
        "wagtailimages.Image",
        verbose_name=_("seal image"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("The issuing organisation's seal, a PNG with transparency."),
    )
    expiry_reminder_days = models.PositiveSmallIntegerField(
        _("expiry reminder (days before)"),
        default=30,
        validators=[MaxValueValidator(365)],
    )

    panels = [
        FieldPanel("serial_prefix"),
        FieldPanel("default_template"),
        FieldPanel("seal"),
        FieldPanel("expiry_reminder_days"),
    ]

    class Meta:
        verbose_name = _("certificate settings")

    def clean(self) -> None:
        super().clean()
        if not self.serial_prefix.isascii() or not self.serial_prefix.isalnum():
            raise ValidationError(
                {"serial_prefix": _("Use Latin letters and digits only.")}
            )


class CertificateSerial(models.Model):
    """The last serial number given out for one prefix and year.

    Locked (SELECT … FOR UPDATE) and increased in the transaction that inserts
    the certificate, so a rolled-back issue gives its number back: no gaps, no
    duplicates.
    """

    prefix = models.CharField(max_length=10)
    year = models.PositiveSmallIntegerField()
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["prefix", "year"], name="courses_certificate_serial_year"
            )
        ]

    def __str__(self) -> str:
        return f"{self.prefix}-{self.year}: {self.last_number}"


#: What a checker is told, in words (the verify page, My learning, the API).
STATE_LABELS = {
    "valid": pgettext_lazy("certificate state", "Valid"),
    "expired": pgettext_lazy("certificate state", "Expired"),
    "revoked": pgettext_lazy("certificate state", "Revoked"),
    "superseded": pgettext_lazy("certificate state", "Superseded"),
}


class Certificate(models.Model):
    """One certificate. Never deleted: revoked or superseded instead."""

    class Status(models.TextChoices):
        VALID = "valid", _("Valid")
        REVOKED = "revoked", _("Revoked")
        SUPERSEDED = "superseded", _("Superseded")

    request = models.ForeignKey(
        CertificateRequest,
        verbose_name=_("achievement"),
        on_delete=models.PROTECT,
        related_name="certificates",
    )
    replaces = models.OneToOneField(
        "self",
        verbose_name=_("replaces"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="superseded_by",
    )
    serial = models.CharField(_("serial number"), max_length=30, unique=True)
    code = models.CharField(_("verification code"), max_length=40, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("learner"),
        on_delete=models.PROTECT,
        related_name="certificates",
    )
    learner_name = models.CharField(_("name"), max_length=150)
    title = models.CharField(_("title"), max_length=255)
    hours = models.DecimalField(_("hours"), max_digits=5, decimal_places=1)
    achieved_on = models.DateField(_("date achieved"))
    issued_at = models.DateTimeField(_("issued"), default=timezone.now)
    expires_on = models.DateField(_("expires on"), null=True, blank=True)
    language = models.CharField(_("language"), max_length=10, default="zh-hans")
    template_version = models.ForeignKey(
        CertificateTemplateVersion,
        verbose_name=_("template version"),
        on_delete=models.PROTECT,
        related_name="certificates",
    )
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.VALID
    )
    status_changed_at = models.DateTimeField(_("status changed"), null=True, blank=True)
    revoked_reason = models.TextField(_("reason for revocation"), blank=True)
    pdf = models.FileField(_("PDF"), upload_to="certificates/", blank=True)
    rendered_at = models.DateTimeField(_("PDF rendered"), null=True, blank=True)
    signed = models.BooleanField(_("digitally signed"), default=False)
    render_attempts = models.PositiveSmallIntegerField(_("render attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    emailed_at = models.DateTimeField(_("e-mailed"), null=True, blank=True)
    expiry_reminded_at = models.DateTimeField(
        _("expiry reminder sent"), null=True, blank=True
    )

    class Meta:
        verbose_name = _("certificate")
        verbose_name_plural = _("certificates")
        ordering = ["-issued_at"]
        indexes = [
            models.Index(fields=["user", "-issued_at"]),
            models.Index(fields=["rendered_at"], name="courses_cert_unrendered"),
        ]
        constraints = [
            # Exactly once: the first certificate of an achievement is unique;
            # later ones exist only as replacements (a one-to-one chain).
            models.UniqueConstraint(
                fields=["request"],
                condition=Q(replaces__isnull=True),
                name="courses_certificate_once_per_request",
            ),
            models.CheckConstraint(
                condition=~Q(status="revoked") | ~Q(revoked_reason=""),
                name="courses_certificate_revoked_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.serial} · {self.learner_name} · {self.title}"

    @property
    def is_expired(self) -> bool:
        return bool(self.expires_on and self.expires_on < timezone.localdate())

    @property
    def state(self) -> str:
        """What a checker is told: valid, expired, revoked or superseded."""
        if self.status == self.Status.VALID and self.is_expired:
            return "expired"
        return self.status

    @property
    def state_label(self) -> str:
        return str(STATE_LABELS[self.state])

    @property
    def downloadable(self) -> bool:
        """The owner may download it: rendered and neither revoked nor replaced."""
        return bool(self.rendered_at) and self.status == self.Status.VALID


class CertificateBatch(models.Model):
    """A training manager's bulk issue for a training class, or for the
    achievements of one source (an event's attendance: ``source_type`` and
    ``source_key`` as on the certificate requests, so courses needs to know
    nothing of where they come from). Its items are the work, so closing the
    page, a worker restart or a second run loses or repeats nothing."""

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        DONE = "done", _("Finished")

    training_class = models.ForeignKey(
        TrainingClass,
        verbose_name=_("training class"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="certificate_batches",
    )
    # Set when the run covers one source's requests instead of a class.
    source_type = models.CharField(
        _("source"),
        max_length=10,
        choices=HoursLedgerEntry.Source.choices,
        blank=True,
    )
    source_key = models.PositiveBigIntegerField(_("source id"), null=True, blank=True)
    title = models.CharField(_("title"), max_length=255)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("started by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.RUNNING
    )
    created_at = models.DateTimeField(_("started"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("bulk certificate run")
        verbose_name_plural = _("bulk certificate runs")
        ordering = ["-created_at"]
        constraints = [
            # A run is for a class or for one whole source, never half of one.
            models.CheckConstraint(
                condition=Q(source_type="", source_key__isnull=True)
                | (
                    ~Q(source_type="")
                    & Q(source_key__isnull=False)
                    & Q(training_class__isnull=True)
                ),
                name="courses_batch_source_complete",
            )
        ]

    def __str__(self) -> str:
        return f"{self.title} · {self.created_at:%Y-%m-%d %H:%M}"


class CertificateBatchItem(models.Model):
    """One achievement in a bulk run and what became of it."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        ISSUED = "issued", _("Issued")
        ALREADY = "already", _("Already issued")
        FAILED = "failed", _("Failed")

    batch = models.ForeignKey(
        CertificateBatch, on_delete=models.PROTECT, related_name="items"
    )
    request = models.ForeignKey(
        CertificateRequest, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    error = models.TextField(_("error"), blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["batch", "request"], name="courses_batch_item_once"
            )
        ]
        indexes = [models.Index(fields=["batch", "status"])]

    def __str__(self) -> str:
        return f"{self.batch_id}/{self.request_id}: {self.status}"

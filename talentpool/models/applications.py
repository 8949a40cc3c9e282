"""Applications to join the pool and their review, and recorded consents.

A signed-in user applies to join the pool (an application of kind "new");
an expert's change to a verified field is an application of kind "change",
and the public profile keeps its verified values until a reviewer approves
it. The application rows are the verification history.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from talentpool.models.experts import Expert


class ApplicationKind(models.TextChoices):
    NEW = "new", _("Application to join")
    CHANGE = "change", _("Change to verified fields")


class ApplicationStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Waiting for review")
    CHANGES_REQUESTED = "changes_requested", _("Changes requested")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class ExpertApplication(models.Model):
    """What an applicant (or an expert changing verified fields) asked for,
    and what a reviewer decided, with the reason. `data` holds the proposed
    values (vocabulary codes, not labels) until approval writes them to the
    expert. At most one open application per user (a database constraint)."""

    Kind = ApplicationKind
    Status = ApplicationStatus

    #: Statuses a reviewer must explain.
    STATUSES_NEEDING_REASON = (Status.CHANGES_REQUESTED, Status.REJECTED)
    OPEN_STATUSES = (Status.SUBMITTED, Status.CHANGES_REQUESTED)

    kind = models.CharField(
        _("kind"), max_length=10, choices=Kind.choices, default=Kind.NEW
    )
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("applicant"),
        on_delete=models.PROTECT,
        related_name="expert_applications",
    )
    expert = models.ForeignKey(
        Expert,
        verbose_name=_("expert"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="applications",
        help_text=_("Set for a change, and for an application once approved."),
    )
    data = models.JSONField(_("proposed profile"), default=dict)
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=Status.choices,
        default=Status.SUBMITTED,
    )
    reason = models.TextField(_("reviewer's reason"), blank=True)
    submitted_at = models.DateTimeField(_("submitted"))
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("expert application")
        verbose_name_plural = _("expert applications")
        ordering = ["-submitted_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["applicant"],
                condition=Q(status__in=["submitted", "changes_requested"]),
                name="talentpool_application_one_open_per_user",
                violation_error_message=_("You already have an application open."),
            ),
            models.CheckConstraint(
                condition=Q(status__in=ApplicationStatus.values),
                name="talentpool_application_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=ApplicationKind.values),
                name="talentpool_application_kind_valid",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["changes_requested", "rejected"])
                | ~Q(reason=""),
                name="talentpool_application_decision_needs_reason",
                violation_error_message=_(
                    "Say why the application is rejected or what must change."
                ),
            ),
            models.CheckConstraint(
                condition=~Q(kind="change") | Q(expert__isnull=False),
                name="talentpool_application_change_has_expert",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.data.get('name', '')}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES


class ConsentKind(models.TextChoices):
    PUBLICATION = "publication", _("Publication of the public profile")


class ConsentMethod(models.TextChoices):
    ONLINE = "online", _("Given online by the expert")
    PAPER = "paper", _("Signed on paper, recorded by staff")


class ExpertConsent(models.Model):
    """A recorded consent (or its withdrawal): who, to what, which wording,
    when, and how: online by the expert's account, or on a signed paper form
    whose reference staff recorded (an import's consent_ref, or the bulk
    action). The latest row per expert and kind is the one in force; the
    expert's `publication_consent_at` mirrors it for fast filtering."""

    Method = ConsentMethod

    Kind = ConsentKind

    expert = models.ForeignKey(
        Expert,
        verbose_name=_("expert"),
        on_delete=models.PROTECT,
        related_name="consents",
    )
    kind = models.CharField(
        _("kind"), max_length=20, choices=Kind.choices, default=Kind.PUBLICATION
    )
    given = models.BooleanField(_("given"), help_text=_("False: withdrawn."))
    wording = models.TextField(_("wording agreed to"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded for"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("The expert's account, for a consent given online."),
    )
    method = models.CharField(
        _("method"),
        max_length=10,
        choices=Method.choices,
        default=Method.ONLINE,
    )
    reference = models.CharField(
        _("consent form reference"),
        max_length=100,
        blank=True,
        help_text=_("The reference of the signed paper form."),
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("The staff member who recorded a paper consent."),
    )
    recorded_at = models.DateTimeField(_("recorded"))

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        ordering = ["-recorded_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(method="online", user__isnull=False)
                | Q(method="paper", recorded_by__isnull=False) & ~Q(reference=""),
                name="talentpool_expertconsent_method_evidence",
                violation_error_message=_(
                    "A consent given online needs the expert's account; one "
                    "on paper needs the form's reference and who recorded it."
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.expert} · {self.get_kind_display()}"

"""Contact requests from enterprises to experts, and each showing of contact
details once a request was accepted."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from talentpool.models.enterprises import Enterprise
from talentpool.models.experts import Expert
from talentpool.models.vocabularies import Industry


class ContactRequestStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for the expert")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    EXPIRED = "expired", _("Expired")


class ContactRequest(models.Model):
    """An enterprise asks an expert to get in touch. Contact details of
    either side are shown to the other only once the expert accepted,
    declaring no conflict of interest; each showing is a ContactDisclosure."""

    Status = ContactRequestStatus

    enterprise = models.ForeignKey(
        Enterprise,
        verbose_name=_("enterprise"),
        on_delete=models.PROTECT,
        related_name="contact_requests",
    )
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("sent by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    expert = models.ForeignKey(
        Expert,
        verbose_name=_("expert"),
        on_delete=models.PROTECT,
        related_name="contact_requests",
    )
    need = models.TextField(_("what the enterprise needs"))
    ip_type = models.ForeignKey(
        "portal.IPType",
        verbose_name=_("IP type"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    industry = models.ForeignKey(
        Industry,
        verbose_name=_("industry"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    deadline = models.DateField(_("answer needed by"), null=True, blank=True)
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=Status.choices,
        default=Status.PENDING,
    )
    no_conflict_declared_at = models.DateTimeField(
        _("no conflict of interest declared"), null=True, blank=True
    )
    response_note = models.TextField(_("expert's note"), blank=True)
    responded_at = models.DateTimeField(_("answered"), null=True, blank=True)
    created_at = models.DateTimeField(_("sent"), auto_now_add=True)

    class Meta:
        verbose_name = _("contact request")
        verbose_name_plural = _("contact requests")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["enterprise", "created_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["enterprise", "expert"],
                condition=Q(status="pending"),
                name="talentpool_contactrequest_one_pending",
                violation_error_message=_(
                    "Your enterprise already has a request waiting for this expert."
                ),
            ),
            models.CheckConstraint(
                condition=Q(status__in=ContactRequestStatus.values),
                name="talentpool_contactrequest_status_valid",
            ),
            models.CheckConstraint(
                condition=~Q(status="accepted")
                | Q(no_conflict_declared_at__isnull=False),
                name="talentpool_contactrequest_accept_needs_declaration",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.enterprise} → {self.expert}"


class ContactDisclosure(models.Model):
    """One showing of contact details: who saw whose, for which accepted
    request, and when. Visible to administrators; never deleted."""

    class Subject(models.TextChoices):
        EXPERT = "expert", _("The expert's contact details")
        ENTERPRISE = "enterprise", _("The enterprise's contact details")

    request = models.ForeignKey(
        ContactRequest,
        verbose_name=_("contact request"),
        on_delete=models.PROTECT,
        related_name="disclosures",
    )
    subject = models.CharField(
        _("whose details"), max_length=20, choices=Subject.choices
    )
    viewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("shown to"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    disclosed_at = models.DateTimeField(_("shown at"), auto_now_add=True)

    class Meta:
        verbose_name = _("contact disclosure")
        verbose_name_plural = _("contact disclosures")
        ordering = ["-disclosed_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.viewer} · {self.request}"

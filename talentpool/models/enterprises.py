"""Enterprises registered to contact experts, and the users who act for them."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from talentpool.models.vocabularies import Industry
from talentpool.validators import validate_credit_code, validate_phone


class EnterpriseStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for verification")
    VERIFIED = "verified", _("Verified")
    REJECTED = "rejected", _("Rejected")


class Enterprise(models.Model):
    """An organisation registered by a user to contact experts. Only users
    of a verified enterprise send contact requests. The credit code (GB
    32100-2015, check character validated) is unique among enterprises."""

    Status = EnterpriseStatus

    name = models.CharField(_("name"), max_length=200)
    credit_code = models.CharField(
        _("unified social credit code"),
        max_length=18,
        validators=[validate_credit_code],
        help_text=_("统一社会信用代码: 18 characters, on the business licence."),
    )
    district = models.ForeignKey(
        "portal.District",
        verbose_name=_("district"),
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
    address = models.CharField(_("address"), max_length=255, blank=True)
    # Disclosed to an expert who accepted one of the enterprise's requests.
    contact_name = models.CharField(_("contact person"), max_length=100)
    contact_email = models.EmailField(_("contact e-mail"))
    contact_phone = models.CharField(
        _("contact phone"), max_length=32, blank=True, validators=[validate_phone]
    )
    status = models.CharField(
        _("verification"),
        max_length=20,
        choices=Status.choices,
        default=Status.PENDING,
    )
    status_reason = models.TextField(_("reviewer's reason"), blank=True)
    reviewed_at = models.DateTimeField(_("reviewed"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewed by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    daily_request_cap = models.PositiveSmallIntegerField(
        _("contact requests per day"),
        null=True,
        blank=True,
        help_text=_("Empty: the portal's default (PORTAL_TALENT_DAILY_REQUESTS)."),
    )
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("registered by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("enterprise")
        verbose_name_plural = _("enterprises")
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["credit_code"],
                name="talentpool_enterprise_unique_credit_code",
                violation_error_message=_(
                    "An enterprise with this credit code is already registered."
                ),
            ),
            models.CheckConstraint(
                condition=Q(status__in=EnterpriseStatus.values),
                name="talentpool_enterprise_status_valid",
            ),
            models.CheckConstraint(
                condition=~Q(status="rejected") | ~Q(status_reason=""),
                name="talentpool_enterprise_rejection_needs_reason",
                violation_error_message=_("Say why the enterprise is rejected."),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_verified(self) -> bool:
        return self.status == self.Status.VERIFIED


class EnterpriseMember(models.Model):
    """A user who acts for an enterprise. A user acts for one enterprise."""

    enterprise = models.ForeignKey(
        Enterprise,
        verbose_name=_("enterprise"),
        on_delete=models.CASCADE,
        related_name="members",
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="enterprise_membership",
    )
    joined_at = models.DateTimeField(_("joined"), auto_now_add=True)

    class Meta:
        verbose_name = _("enterprise member")
        verbose_name_plural = _("enterprise members")

    def __str__(self) -> str:
        return f"{self.user} · {self.enterprise}"

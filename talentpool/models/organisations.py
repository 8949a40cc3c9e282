"""The organisations experts work for: law firms, agencies, notary offices,
universities and other bodies."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from talentpool.contact_details import without_contact_details
from talentpool.validators import validate_credit_code


class OrganisationKind(models.TextChoices):
    LAW_FIRM = "law_firm", _("Law firm")
    AGENCY = "agency", _("IP agency")
    NOTARY_OFFICE = "notary_office", _("Notary office")
    UNIVERSITY = "university", _("University or research institute")
    OTHER = "other", _("Other")


class Organisation(models.Model):  # type: ignore[django-manager-missing]  # Expert's base class (modelcluster) is untyped
    """A law firm, agency, notary office, university or other body experts
    work for. Names are unique: imports find organisations by name."""

    Kind = OrganisationKind

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(
        _("kind"), max_length=20, choices=Kind.choices, default=Kind.OTHER
    )
    credit_code = models.CharField(
        _("unified social credit code"),
        max_length=18,
        blank=True,
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
    website = models.URLField(_("website"), blank=True)
    address = models.CharField(_("address"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["name"], name="talentpool_organisation_unique_name"
            ),
            models.UniqueConstraint(
                fields=["credit_code"],
                condition=~Q(credit_code=""),
                name="talentpool_organisation_unique_credit_code",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=OrganisationKind.values),
                name="talentpool_organisation_kind_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def public_name(self) -> str:
        """The name as public pages show it: a phone number or address
        typed into it hidden (talentpool.contact_details)."""
        return without_contact_details(self.name)

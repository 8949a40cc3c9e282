"""Experts and their qualifications, and the rule of who is listed.

An expert's e-mail and phone are private (docs/decisions.md, decision 3): they are on
the model for staff and for the disclosure to an accepted enterprise, never in
`Expert.public_dict()`, which is what public pages, the API and the search
index are built from. Experts are never deleted: removing one is a status,
with a reason, and the history stays in Wagtail's log.
"""

from typing import Any

from modelcluster.fields import ParentalKey
from modelcluster.models import ClusterableModel

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from portal.models.vocabularies import Term
from talentpool.contact_details import without_contact_details
from talentpool.models.organisations import Organisation
from talentpool.models.vocabularies import (
    ExpertCategory,
    Industry,
    Language,
    Service,
    TalentTier,
)
from talentpool.validators import validate_licence_number, validate_phone


class Verification(models.TextChoices):
    UNVERIFIED = "unverified", _("Not yet verified")
    VERIFIED = "verified", _("Verified")
    CHANGES_REQUESTED = "changes_requested", _("Changes requested")
    REJECTED = "rejected", _("Rejected")


class ExpertStatus(models.TextChoices):
    PUBLIC = "public", _("Public")
    WITHDRAWN = "withdrawn", _("Withdrawn by the expert")
    SUSPENDED = "suspended", _("Suspended")
    REMOVED = "removed", _("Removed")


#: Who is a listed expert, one a visitor may find: public, verified, with
#: the expert's recorded consent to publication, and confirmed within the
#: year (not lapsed). The one definition of the rule, as field lookups:
#: ExpertQuerySet.listed() filters on it, and the search writes its SQL
#: from it (talentpool.search.engine.listed_where). Only exact and
#: ``__isnull`` lookups, which that SQL knows how to spell.
LISTED: dict[str, Any] = {
    "status": ExpertStatus.PUBLIC,
    "verification_status": Verification.VERIFIED,
    "publication_consent_at__isnull": False,
    "lapsed_at__isnull": True,
}


def reachable_q() -> Q:
    """Experts an enterprise can reach through the portal: accepting
    contact requests, and with an account to answer in or an e-mail
    address the request (with its signed link to answer) is sent to."""
    return Q(accepting_requests=True) & (Q(user__isnull=False) | ~Q(email=""))


class ExpertQuerySet(models.QuerySet["Expert"]):
    def listed(self) -> "ExpertQuerySet":
        """Experts a visitor may find (LISTED): public, verified, and with the
        expert's recorded consent to publication, and confirmed within the
        year (not lapsed)."""
        return self.filter(**LISTED)

    def reachable(self) -> "ExpertQuerySet":
        """Experts an enterprise can reach (reachable_q)."""
        return self.filter(reachable_q())


class Expert(ClusterableModel):
    """A person in the talent pool.

    `status` says whether the entry may be listed (public) or why not
    (withdrawn by the expert, suspended or removed by staff, the last two with
    a reason the database insists on); `verification_status` says whether a
    reviewer has checked it. Neither is changed by saving a form: the services
    in talentpool.services change them and write Wagtail's log.
    """

    Verification = Verification
    Status = ExpertStatus

    #: Statuses that staff must explain (the database refuses them without a reason).
    STATUSES_NEEDING_REASON = (Status.SUSPENDED, Status.REMOVED)

    external_id = models.CharField(
        _("external ID"),
        max_length=64,
        unique=True,
        null=True,
        blank=True,
        help_text=_("The number in the register the expert was imported from."),
    )
    name = models.CharField(_("name"), max_length=100)
    photo = models.ForeignKey(
        "wagtailimages.Image",
        verbose_name=_("photo"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    categories = models.ManyToManyField(
        ExpertCategory, verbose_name=_("categories"), blank=True, related_name="+"
    )
    ip_types = models.ManyToManyField(
        "portal.IPType", verbose_name=_("IP types"), blank=True, related_name="+"
    )
    services = models.ManyToManyField(
        Service, verbose_name=_("services"), blank=True, related_name="+"
    )
    industries = models.ManyToManyField(
        Industry, verbose_name=_("industries"), blank=True, related_name="+"
    )
    languages = models.ManyToManyField(
        Language, verbose_name=_("languages"), blank=True, related_name="+"
    )
    district = models.ForeignKey(
        "portal.District",
        verbose_name=_("district"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("organisation"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="experts",
    )
    years_of_practice = models.PositiveSmallIntegerField(
        _("years of practice"), null=True, blank=True
    )
    talent_tier = models.ForeignKey(
        TalentTier,
        verbose_name=_("talent tier"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    biography = models.TextField(_("biography"), blank=True)

    # Private: staff, the expert, and an enterprise whose request was accepted.
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(
        _("phone"), max_length=32, blank=True, validators=[validate_phone]
    )

    accepting_requests = models.BooleanField(
        _("accepting contact requests"), default=True
    )
    verification_status = models.CharField(
        _("verification"),
        max_length=20,
        choices=Verification.choices,
        default=Verification.UNVERIFIED,
    )
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("verified by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    last_confirmed_at = models.DateTimeField(
        _("last confirmed"),
        null=True,
        blank=True,
        help_text=_("When the expert last confirmed the profile is current."),
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PUBLIC
    )
    status_reason = models.TextField(_("reason for the status"), blank=True)
    status_changed_at = models.DateTimeField(
        _("status changed at"), null=True, blank=True
    )
    reconfirmation_requested_at = models.DateTimeField(
        _("reconfirmation requested"),
        null=True,
        blank=True,
        help_text=_("When the expert was last asked to confirm the profile."),
    )
    lapsed_at = models.DateTimeField(
        _("lapsed"),
        null=True,
        blank=True,
        help_text=_(
            "Set when a year passed without confirmation: the profile is "
            "hidden until the expert confirms it again."
        ),
    )
    publication_consent_at = models.DateTimeField(
        _("consent to publication"),
        null=True,
        blank=True,
        help_text=_("When the expert agreed that the public profile be published."),
    )
    invited_at = models.DateTimeField(
        _("invited"),
        null=True,
        blank=True,
        help_text=_(
            "When the expert was last sent an invitation to claim the profile."
        ),
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="expert_profile",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = ExpertQuerySet.as_manager()

    class Meta:
        verbose_name = _("expert")
        verbose_name_plural = _("experts")
        ordering = ["name", "pk"]
        indexes = [models.Index(fields=["status", "verification_status"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=ExpertStatus.values),
                name="talentpool_expert_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(verification_status__in=Verification.values),
                name="talentpool_expert_verification_valid",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=[ExpertStatus.SUSPENDED, ExpertStatus.REMOVED])
                | ~Q(status_reason=""),
                name="talentpool_expert_status_needs_reason",
                violation_error_message=_(
                    "Say why the expert is suspended or removed."
                ),
            ),
            models.CheckConstraint(
                condition=~Q(verification_status=Verification.VERIFIED)
                | Q(verified_at__isnull=False),
                name="talentpool_expert_verified_has_date",
            ),
            models.CheckConstraint(
                condition=Q(years_of_practice__isnull=True)
                | Q(years_of_practice__lte=80),
                name="talentpool_expert_years_of_practice_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def public_biography(self) -> str:
        """The biography as public pages and the API show it: contact
        details written into it hidden (talentpool.contact_details)."""
        return without_contact_details(self.biography)

    #: What a search result says of an expert (the listing's card): enough
    #: to choose whom to open, not the profile. The qualifications, the
    #: whole biography and the other terms are in the profile, which counts
    #: towards a client's daily cap of distinct profiles (docs/security.md).
    SUMMARY_FIELDS = (
        "id",
        "name",
        "categories",
        "talent_tier",
        "organisation",
        "district",
        "years_of_practice",
        "accepting_requests",
        "last_confirmed_at",
    )
    SUMMARY_BIOGRAPHY = 120

    def summary_dict(self) -> dict[str, Any]:
        """The fields of public_dict a search result carries, and the
        biography's first SUMMARY_BIOGRAPHY characters, as the card shows."""
        full = self.public_dict()
        summary = {name: full[name] for name in self.SUMMARY_FIELDS}
        biography = full["biography"]
        if len(biography) > self.SUMMARY_BIOGRAPHY:
            biography = biography[: self.SUMMARY_BIOGRAPHY - 1] + "…"
        return summary | {"biography_excerpt": biography}

    def public_dict(self) -> dict[str, Any]:
        """The fields anyone may see, for the API, public pages and the
        search index. Never the e-mail, the phone, the account or anything a
        reviewer wrote. Prefetch the vocabularies and qualifications when
        building many (selectors do)."""

        def term(value: Term | None) -> dict[str, str] | None:
            if value is None:
                return None
            return {"code": value.code, "zh": value.name_zh, "en": value.name_en}

        def terms(manager: Any) -> list[dict[str, str]]:
            return [
                term(value)  # type: ignore[misc]  # a related term is never None
                for value in sorted(manager.all(), key=lambda t: (t.sort_order, t.code))
            ]

        return {
            "id": self.pk,
            "external_id": self.external_id,
            "name": self.name,
            "categories": terms(self.categories),
            "ip_types": terms(self.ip_types),
            "services": terms(self.services),
            "industries": terms(self.industries),
            "languages": terms(self.languages),
            "district": term(self.district),
            "organisation": (
                self.organisation.public_name if self.organisation else None
            ),
            "years_of_practice": self.years_of_practice,
            "talent_tier": term(self.talent_tier),
            "qualifications": [
                qualification.public_dict()
                for qualification in self.qualifications.all()
            ],
            "biography": self.public_biography,
            "accepting_requests": self.accepting_requests,
            "last_confirmed_at": (
                self.last_confirmed_at.isoformat() if self.last_confirmed_at else None
            ),
        }


class Qualification(models.Model):
    """A qualification or practising certificate of an expert. A licence
    number belongs to one qualification only (a database constraint)."""

    expert = ParentalKey(
        Expert,
        verbose_name=_("expert"),
        on_delete=models.CASCADE,
        related_name="qualifications",
    )
    category = models.ForeignKey(
        ExpertCategory,
        verbose_name=_("category"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("The profession the qualification is for."),
    )
    title = models.CharField(
        _("title"),
        max_length=200,
        blank=True,
        help_text=_("For example 律师执业证 or 专利代理师资格证."),
    )
    licence_number = models.CharField(
        _("licence number"),
        max_length=40,
        blank=True,
        validators=[validate_licence_number],
    )
    issued_by = models.CharField(_("issued by"), max_length=200, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    #: Set on the qualification an import manages: importing again updates
    #: this one, and leaves qualifications entered by hand alone.
    from_import = models.BooleanField(_("from an import"), default=False)

    class Meta:
        verbose_name = _("qualification")
        verbose_name_plural = _("qualifications")
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["licence_number"],
                condition=~Q(licence_number=""),
                name="talentpool_qualification_unique_licence",
                violation_error_message=_(
                    "Another qualification has this licence number."
                ),
            ),
        ]

    def __str__(self) -> str:
        return self.display_title

    @property
    def display_title(self) -> str:
        if self.title:
            return self.title
        return self.category.label if self.category else str(_("Qualification"))

    def public_dict(self) -> dict[str, Any]:
        """A practising-certificate number is public in China (the justice
        bureaus and CNIPA publish them so that clients can check them), so it
        is shown; nothing else about the expert is here."""
        return {
            "title": self.display_title,
            "category": self.category.code if self.category else None,
            "licence_number": self.licence_number,
            "issued_by": self.issued_by,
            "valid_until": self.valid_until.isoformat() if self.valid_until else None,
        }

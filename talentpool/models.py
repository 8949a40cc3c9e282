"""The talent pool: experts, their qualifications and organisations, and the
vocabularies that describe them.

An expert's e-mail and phone are private (DESIGN.md decision 3): they are on
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
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from wagtail.admin.panels import FieldPanel
from wagtail.contrib.routable_page.models import RoutablePageMixin, path
from wagtail.models import Page

from portal.models.pages import SEARCH_FIELDS, ChineseSearchMixin
from portal.models.vocabularies import Term
from talentpool.validators import (
    validate_credit_code,
    validate_licence_number,
    validate_phone,
)

# --- vocabularies ----------------------------------------------------------------


class ExpertCategory(Term):
    """What kind of expert: lawyer, notary, patent attorney, IP evaluator…"""

    class Meta(Term.Meta):
        verbose_name = _("expert category")
        verbose_name_plural = _("expert categories")


class Service(Term):
    """A service an expert offers: filing, litigation, valuation…"""

    class Meta(Term.Meta):
        verbose_name = _("service")
        verbose_name_plural = _("services")


class Industry(Term):
    """An industry an expert knows: automotive, integrated circuits…"""

    class Meta(Term.Meta):
        verbose_name = _("industry")
        verbose_name_plural = _("industries")


class Language(Term):
    """A working language."""

    class Meta(Term.Meta):
        verbose_name = _("language")
        verbose_name_plural = _("languages")


class TalentTier(Term):
    """A tier of the city's talent project: leading, backbone, practitioner."""

    class Meta(Term.Meta):
        verbose_name = _("talent tier")
        verbose_name_plural = _("talent tiers")


# --- organisations -----------------------------------------------------------------


class OrganisationKind(models.TextChoices):
    LAW_FIRM = "law_firm", _("Law firm")
    AGENCY = "agency", _("IP agency")
    NOTARY_OFFICE = "notary_office", _("Notary office")
    UNIVERSITY = "university", _("University or research institute")
    OTHER = "other", _("Other")


class Organisation(models.Model):
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


# --- experts -------------------------------------------------------------------------


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


class ExpertQuerySet(models.QuerySet["Expert"]):
    def listed(self) -> "ExpertQuerySet":
        """Experts a visitor may find: public, verified, and with the
        expert's recorded consent to publication. (Lapsing after a year
        without reconfirmation is added with the yearly reconfirmation.)"""
        return self.filter(
            status=Expert.Status.PUBLIC,
            verification_status=Expert.Verification.VERIFIED,
            publication_consent_at__isnull=False,
        )


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
    publication_consent_at = models.DateTimeField(
        _("consent to publication"),
        null=True,
        blank=True,
        help_text=_("When the expert agreed that the public profile be published."),
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
                term(value)  # type: ignore[misc]
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
            "organisation": self.organisation.name if self.organisation else None,
            "years_of_practice": self.years_of_practice,
            "talent_tier": term(self.talent_tier),
            "qualifications": [
                qualification.public_dict()
                for qualification in self.qualifications.all()
            ],
            "biography": self.biography,
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


# --- the search page -----------------------------------------------------------------
# The talent search in the page tree: editors place it, title it and put it in
# the menu; the listing and each expert's public profile are its routes
# (talentpool.views renders both, with rate limits).


class TalentSearchPage(RoutablePageMixin, ChineseSearchMixin, Page):
    """Search and browse the listed experts (/talent/), and each listed
    expert's public profile (/talent/experts/<id>/). One per site."""

    intro = models.TextField(_("introduction"), blank=True)

    content_panels = Page.content_panels + [FieldPanel("intro")]
    search_fields = Page.search_fields + SEARCH_FIELDS
    search_summary_field = "intro"
    parent_page_types = ["portal.HomePage"]
    subpage_types: list[str] = []
    max_count = 1

    class Meta:
        verbose_name = _("talent search page")

    @path("")
    def search_view(self, request: HttpRequest) -> HttpResponse:
        from talentpool import views

        return views.talent_search(request, page=self)

    @path("experts/<int:expert_id>/", name="expert")
    def expert_view(self, request: HttpRequest, expert_id: int) -> HttpResponse:
        from talentpool import views

        return views.expert_profile(request, page=self, expert_id=expert_id)

    def expert_url(self, expert_id: int, request: HttpRequest | None = None) -> str:
        """The public profile's address, relative to the site (/talent/experts/7/)."""
        return self.get_url(request) + self.reverse_subpage("expert", args=(expert_id,))


# --- search index ------------------------------------------------------------------


class ExpertSearchDocument(models.Model):
    """What the talent pool's search knows of an expert, built by
    talentpool.search from the public fields only (never e-mail or phone):
    `text` is the normalised public text (Simplified, lower case, with the
    name's pinyin), the input an external engine would index; `facets` the
    vocabulary codes as ``key=code`` words, read with each match."""

    expert = models.OneToOneField(
        Expert,
        verbose_name=_("expert"),
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="search_document",
    )
    # facets first: a search reads them for every match, and SQLite then
    # need not step over the long text to reach them.
    facets = models.TextField(_("facet codes"), blank=True)
    text = models.TextField(_("indexed text"), blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("expert search document")
        verbose_name_plural = _("expert search documents")

    def __str__(self) -> str:
        return str(self.expert_id)


class ExpertToken(models.Model):
    """One search token of an expert and what it weighs (the weight of the
    most important field it is found in: name above categories above
    organisation above biography). A token is listed once per expert (the
    indexer keeps one weight per token). The unique index holds the weight
    too: a search then reads token, expert and weight from the index alone,
    without visiting the table, which is three times faster on SQLite with
    100,000 experts (docs/talentpool-search.md)."""

    expert = models.ForeignKey(
        Expert, verbose_name=_("expert"), on_delete=models.CASCADE, related_name="+"
    )
    token = models.CharField(_("token"), max_length=64)
    weight = models.PositiveSmallIntegerField(_("weight"))

    class Meta:
        verbose_name = _("expert search token")
        verbose_name_plural = _("expert search tokens")
        constraints = [
            models.UniqueConstraint(
                fields=["token", "expert", "weight"],
                name="talentpool_experttoken_unique",
            ),
            models.CheckConstraint(
                condition=Q(weight__gt=0), name="talentpool_experttoken_weight_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.token

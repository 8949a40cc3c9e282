"""The talent pool: experts, their qualifications and organisations, and the
vocabularies that describe them.

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
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from wagtail.admin.panels import FieldPanel
from wagtail.contrib.routable_page.models import RoutablePageMixin, path
from wagtail.models import Page

# Registers <id:…> before TalentSearchPage's routes are compiled.
import portal.converters  # noqa: F401
from portal.models.pages import ChineseSearchMixin
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
        expert's recorded consent to publication, and confirmed within the
        year (not lapsed)."""
        return self.filter(
            status=Expert.Status.PUBLIC,
            verification_status=Expert.Verification.VERIFIED,
            publication_consent_at__isnull=False,
            lapsed_at__isnull=True,
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

    @path("experts/<id:expert_id>/", name="expert")
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


class ExpertTokenBits(models.Model):
    """The experts that have a token with a weight, as bits: bit *n* of
    ``bits`` (little-endian, trailing zero bytes left out) stands for the
    expert whose id is ``chunk * 8192 + n``.

    The same facts as ExpertToken, kept by the indexer in the same
    transaction, read the other way: a word that most experts have is a
    dozen rows of at most 1 KiB here instead of tens of thousands of rows
    there, and the search combines them with integer operations
    (talentpool.search.bits; docs/talentpool-search.md)."""

    token = models.CharField(_("token"), max_length=64)
    weight = models.PositiveSmallIntegerField(_("weight"))
    chunk = models.PositiveIntegerField(_("chunk"))
    bits = models.BinaryField(_("bits"))

    class Meta:
        verbose_name = _("expert search bitmap")
        verbose_name_plural = _("expert search bitmaps")
        constraints = [
            models.UniqueConstraint(
                fields=["token", "weight", "chunk"],
                name="talentpool_experttokenbits_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.token}/{self.weight}/{self.chunk}"


class ExpertSearchChange(models.Model):
    """A write to the search index, in the same transaction as the documents
    it changed, with a random stamp. The search keeps its facet bitmaps in
    memory while the count and the sum of the stamps stay the same, so every
    process sees a committed change at its next search, and a rolled-back one
    never (talentpool.search.facets). Old rows are pruned as new ones come."""

    stamp = models.PositiveIntegerField(_("stamp"))

    class Meta:
        verbose_name = _("expert search change")
        verbose_name_plural = _("expert search changes")

    def __str__(self) -> str:
        return str(self.pk)


# --- applications and review ---------------------------------------------------------
# A signed-in user applies to join the pool (an application of kind "new");
# an expert's change to a verified field is an application of kind "change",
# and the public profile keeps its verified values until a reviewer approves
# it. The application rows are the verification history.


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


class ExpertConsent(models.Model):
    """A recorded consent (or its withdrawal): who, to what, which wording,
    when. The latest row per expert and kind is the one in force; the
    expert's `publication_consent_at` mirrors it for fast filtering."""

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
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded"))

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        ordering = ["-recorded_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.expert} · {self.get_kind_display()}"


# --- enterprises and contact requests ----------------------------------------------


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

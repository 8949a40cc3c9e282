"""The site's page types: home, standard page, news, notices and the
policy-document library."""

from modelcluster.fields import ParentalKey

from django.core.paginator import Page as PaginatorPage
from django.db import models
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wagtail.admin.panels import FieldPanel, InlinePanel, MultiFieldPanel
from wagtail.fields import StreamField
from wagtail.models import Orderable, Page
from wagtail.search import index

from portal.blocks import BodyBlock
from portal.search import cjk_index_text


class ChineseSearchMixin:
    """Adds the Chinese-aware index field that the site search queries.

    Listed before Page, it gives the page Page's search fields plus that one;
    a page that indexes more fields adds them to
    ChineseSearchMixin.search_fields.
    """

    search_fields = Page.search_fields + [index.SearchField("search_text")]
    search_summary_field = ""

    def search_text(self) -> str:
        parts: list[str] = [self.title]  # type: ignore[attr-defined]  # mixin: title comes from Wagtail's Page
        if self.search_summary_field:
            parts.append(getattr(self, self.search_summary_field, "") or "")
        body = getattr(self, "body", None)
        if body is not None:
            parts.extend(body.stream_block.get_searchable_content(body))
        return cjk_index_text(*parts)


class HomePage(ChineseSearchMixin, Page):
    """The home page: a welcome, then the latest news, notices and policies,
    and what the apps add (portal.home: during a 4·26 campaign's window, the
    campaign alone)."""

    intro = models.TextField(_("introduction"), blank=True)
    body = StreamField(BodyBlock(), verbose_name=_("body"), blank=True)

    content_panels = Page.content_panels + [FieldPanel("intro"), FieldPanel("body")]
    search_summary_field = "intro"
    max_count = 1
    parent_page_types = ["wagtailcore.Page"]

    class Meta:
        verbose_name = _("home page")

    def route(self, request: HttpRequest, path_components: list[str]):
        """Wagtail's walk down the address, in two queries instead of two a
        level (portal.routing)."""
        if not path_components:
            return super().route(request, path_components)
        from portal.routing import path_route

        return path_route(self, request, path_components)

    def get_context(self, request: HttpRequest, *args, **kwargs) -> dict:
        from portal import selectors
        from portal.home import home_sections

        context = super().get_context(request, *args, **kwargs)
        # Worked out per request, never cached: a campaign (events) takes the
        # page at the minute its window opens.
        taken = False
        for section in home_sections(site_root=self, request=request):
            context.update(section.context)
            taken = taken or section.takes_over
        if taken:
            return context
        context["latest_news"] = selectors.news_latest(site_root=self, limit=5)
        context["latest_notices"] = selectors.notices_latest(site_root=self, limit=6)
        context["latest_policies"] = selectors.policies_latest(site_root=self, limit=5)
        return context


class StandardPage(ChineseSearchMixin, Page):
    """A page of text: about us, contact, guides."""

    summary = models.TextField(_("summary"), blank=True)
    body = StreamField(BodyBlock(), verbose_name=_("body"), blank=True)

    content_panels = Page.content_panels + [FieldPanel("summary"), FieldPanel("body")]
    search_summary_field = "summary"
    subpage_types = ["portal.StandardPage"]

    class Meta:
        verbose_name = _("standard page")


class NewsIndexPage(ChineseSearchMixin, Page):
    """Lists the news items below it, newest first, ten to a page."""

    intro = models.TextField(_("introduction"), blank=True)

    content_panels = Page.content_panels + [FieldPanel("intro")]
    subpage_types = ["portal.NewsPage"]
    parent_page_types = ["portal.HomePage"]
    per_page = 10

    class Meta:
        verbose_name = _("news index")

    def get_context(self, request: HttpRequest, *args, **kwargs) -> dict:
        from portal import selectors

        context = super().get_context(request, *args, **kwargs)
        context["items"] = selectors.paginate(
            selectors.news_under(self), request, per_page=self.per_page
        )
        return context


class NewsPage(ChineseSearchMixin, Page):
    """A news item."""

    date = models.DateField(_("date"), default=timezone.localdate)
    summary = models.TextField(_("summary"), blank=True, max_length=400)
    image = models.ForeignKey(
        "wagtailimages.Image",
        verbose_name=_("image"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    source = models.CharField(_("source"), max_length=120, blank=True)
    body = StreamField(BodyBlock(), verbose_name=_("body"), blank=True)

    content_panels = Page.content_panels + [
        MultiFieldPanel(
            [FieldPanel("date"), FieldPanel("source")], heading=_("Publication")
        ),
        FieldPanel("summary"),
        FieldPanel("image"),
        FieldPanel("body"),
    ]
    search_fields = ChineseSearchMixin.search_fields + [index.FilterField("date")]
    search_summary_field = "summary"
    parent_page_types = ["portal.NewsIndexPage"]
    subpage_types: list[str] = []

    class Meta:
        verbose_name = _("news item")
        verbose_name_plural = _("news items")


class Attachment(Orderable):
    """A document attached to a page, shown in a list below its text."""

    document = models.ForeignKey(
        "wagtaildocs.Document",
        verbose_name=_("document"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    title = models.CharField(
        _("link text"),
        max_length=200,
        blank=True,
        help_text=_("Leave empty to use the document's title."),
    )

    panels = [FieldPanel("document"), FieldPanel("title")]

    class Meta(Orderable.Meta):
        abstract = True

    @property
    def display_title(self) -> str:
        return self.title or self.document.title


class NoticeIndexPage(ChineseSearchMixin, Page):
    """Lists notices (通知公告), newest first."""

    intro = models.TextField(_("introduction"), blank=True)

    content_panels = Page.content_panels + [FieldPanel("intro")]
    subpage_types = ["portal.NoticePage"]
    parent_page_types = ["portal.HomePage"]
    per_page = 15

    class Meta:
        verbose_name = _("notice index")

    def get_context(self, request: HttpRequest, *args, **kwargs) -> dict:
        from portal import selectors

        context = super().get_context(request, *args, **kwargs)
        context["items"] = selectors.paginate(
            selectors.notices_under(self), request, per_page=self.per_page
        )
        return context


class NoticePage(ChineseSearchMixin, Page):
    """A notice or announcement (通知公告), with attachments."""

    date = models.DateField(_("date"), default=timezone.localdate)
    issuer = models.CharField(_("issued by"), max_length=150, blank=True)
    is_important = models.BooleanField(
        _("important"), default=False, help_text=_("Shown first and marked.")
    )
    body = StreamField(BodyBlock(), verbose_name=_("body"), blank=True)

    content_panels = Page.content_panels + [
        MultiFieldPanel(
            [FieldPanel("date"), FieldPanel("issuer"), FieldPanel("is_important")],
            heading=_("Publication"),
        ),
        FieldPanel("body"),
        InlinePanel("attachments", label=_("Attachments")),
    ]
    search_fields = ChineseSearchMixin.search_fields + [index.FilterField("date")]
    parent_page_types = ["portal.NoticeIndexPage"]
    subpage_types: list[str] = []

    class Meta:
        verbose_name = _("notice")
        verbose_name_plural = _("notices")


class NoticeAttachment(Attachment):
    page = ParentalKey(NoticePage, on_delete=models.CASCADE, related_name="attachments")


class PolicyIndexPage(ChineseSearchMixin, Page):
    """The policy-document library (政策文件): search and filter by issuer and year."""

    intro = models.TextField(_("introduction"), blank=True)

    content_panels = Page.content_panels + [FieldPanel("intro")]
    subpage_types = ["portal.PolicyDocumentPage"]
    parent_page_types = ["portal.HomePage"]
    per_page = 15

    class Meta:
        verbose_name = _("policy library")

    def get_context(self, request: HttpRequest, *args, **kwargs) -> dict:
        from portal import selectors
        from portal.forms import PolicyFilterForm

        context = super().get_context(request, *args, **kwargs)
        form = PolicyFilterForm(request.GET or None, library=self)
        filters = form.cleaned_data if form.is_valid() else {}
        documents = selectors.policies_filtered(library=self, **filters)
        page: PaginatorPage = selectors.paginate(
            documents, request, per_page=self.per_page
        )
        context.update(
            form=form, items=page, filtered=bool(filters and any(filters.values()))
        )
        return context


class PolicyDocumentPage(ChineseSearchMixin, Page):
    """A policy document: number, issuing authority, dates, full text, attachments."""

    class Status(models.TextChoices):
        IN_FORCE = "in_force", _("In force")
        AMENDED = "amended", _("Amended")
        REPEALED = "repealed", _("Repealed")

    document_number = models.CharField(
        _("document number"),
        max_length=100,
        blank=True,
        help_text=_("For example 渝府办发〔2015〕83号."),
    )
    issuer = models.CharField(_("issuing authority"), max_length=150)
    issued_date = models.DateField(_("date issued"))
    effective_date = models.DateField(_("date effective"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.IN_FORCE
    )
    summary = models.TextField(_("summary"), blank=True)
    body = StreamField(BodyBlock(), verbose_name=_("full text"), blank=True)

    content_panels = Page.content_panels + [
        MultiFieldPanel(
            [
                FieldPanel("document_number"),
                FieldPanel("issuer"),
                FieldPanel("issued_date"),
                FieldPanel("effective_date"),
                FieldPanel("status"),
            ],
            heading=_("Document details"),
        ),
        FieldPanel("summary"),
        FieldPanel("body"),
        InlinePanel("attachments", label=_("Attachments")),
    ]
    search_fields = ChineseSearchMixin.search_fields + [
        index.SearchField("document_number"),
        index.FilterField("issuer"),
        index.FilterField("issued_date"),
    ]
    search_summary_field = "summary"
    parent_page_types = ["portal.PolicyIndexPage"]
    subpage_types: list[str] = []

    class Meta:
        verbose_name = _("policy document")
        verbose_name_plural = _("policy documents")

    def search_text(self) -> str:
        return cjk_index_text(super().search_text(), self.document_number, self.issuer)


class PolicyAttachment(Attachment):
    page = ParentalKey(
        PolicyDocumentPage, on_delete=models.CASCADE, related_name="attachments"
    )

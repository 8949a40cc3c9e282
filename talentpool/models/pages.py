"""The talent search in the page tree: editors place it, title it and put it in
the menu; the listing and each expert's public profile are its routes
(talentpool.views renders both, with rate limits)."""

from django.db import models
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from wagtail.admin.panels import FieldPanel
from wagtail.contrib.routable_page.models import RoutablePageMixin, path
from wagtail.models import Page

# Registers <id:…> before TalentSearchPage's routes are compiled.
import portal.converters  # noqa: F401
from portal.models.pages import ChineseSearchMixin


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

"""Site-wide settings editable in the Wagtail admin."""

from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.contrib.settings.models import BaseSiteSetting, register_setting


@register_setting(icon="cog")
class SiteSettings(BaseSiteSetting):
    """Name, issuing organisation, logo and footer contacts of one site."""

    site_name = models.CharField(
        _("site name (Chinese)"), max_length=100, default="知识产权培训与人才库"
    )
    site_name_en = models.CharField(
        _("site name (English)"),
        max_length=150,
        default="IP Training and Talent Pool",
    )
    organisation = models.CharField(
        _("issuing organisation (Chinese)"),
        max_length=150,
        default="重庆市知识产权局",
        help_text=_("Named in the footer and, later, on certificates."),
    )
    organisation_en = models.CharField(
        _("issuing organisation (English)"),
        max_length=200,
        default="Chongqing Intellectual Property Office",
    )
    logo = models.ForeignKey(
        "wagtailimages.Image",
        verbose_name=_("logo"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    address = models.CharField(_("address"), max_length=200, blank=True)
    phone = models.CharField(_("telephone"), max_length=50, blank=True)
    email = models.EmailField(_("contact e-mail"), blank=True)
    icp_record = models.CharField(
        _("ICP record number"),
        max_length=60,
        blank=True,
        help_text=_("For example 渝ICP备00000000号, shown in the footer."),
    )

    panels = [
        MultiFieldPanel(
            [FieldPanel("site_name"), FieldPanel("site_name_en"), FieldPanel("logo")],
            heading=_("Identity"),
        ),
        MultiFieldPanel(
            [FieldPanel("organisation"), FieldPanel("organisation_en")],
            heading=_("Issuing organisation"),
        ),
        MultiFieldPanel(
            [
                FieldPanel("address"),
                FieldPanel("phone"),
                FieldPanel("email"),
                FieldPanel("icp_record"),
            ],
            heading=_("Footer contacts"),
        ),
    ]

    class Meta:
        verbose_name = _("site settings")

    @property
    def display_name(self) -> str:
        return self._localised("site_name")

    @property
    def display_organisation(self) -> str:
        return self._localised("organisation")

    def _localised(self, field: str) -> str:
        language = get_language() or "zh-hans"
        if language.startswith("en"):
            return getattr(self, f"{field}_en") or getattr(self, field)
        return getattr(self, field)

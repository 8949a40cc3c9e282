"""Controlled vocabularies with stable codes and labels in both languages.

Seeded from the project's own copy of the shared vocabularies (a data
migration) and editable by administrators, so another city can use the portal.
"""

from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class Term(models.Model):
    """A vocabulary term: a code used in imports, URLs and the API, and labels."""

    code = models.SlugField(_("code"), max_length=64, unique=True)
    name_zh = models.CharField(_("Chinese label"), max_length=100)
    name_en = models.CharField(_("English label"), max_length=150)
    sort_order = models.PositiveIntegerField(_("sort order"), default=0)
    is_active = models.BooleanField(
        _("active"),
        default=True,
        help_text=_("Inactive terms stay on existing records but are not offered."),
    )

    class Meta:
        abstract = True
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        """The label in the active language, Chinese when no language is active."""
        language = get_language() or "zh-hans"
        return self.name_en if language.startswith("en") else self.name_zh


class Audience(Term):
    """A training audience group: civil servants, enterprise managers, teachers…"""

    class Meta(Term.Meta):
        verbose_name = _("audience group")
        verbose_name_plural = _("audience groups")


class IPType(Term):
    """A kind of intellectual property: patents, trademarks, copyright…"""

    class Meta(Term.Meta):
        verbose_name = _("IP type")
        verbose_name_plural = _("IP types")


class District(Term):
    """A county-level district (Chongqing's 38 by default)."""

    class Meta(Term.Meta):
        verbose_name = _("district")
        verbose_name_plural = _("districts")

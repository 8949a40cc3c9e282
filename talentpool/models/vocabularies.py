"""The vocabularies that describe experts: categories, services, industries,
working languages and the talent project's tiers (kept by staff as snippets)."""

from django.utils.translation import gettext_lazy as _

from portal.models.vocabularies import Term


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

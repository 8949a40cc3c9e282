"""Consent to the privacy notice: one row per person and notice version."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class PrivacyConsent(models.Model):
    """A person agreed to one version of the privacy notice (portal.privacy).

    Written by portal.services.privacy_consent_record at sign-up, or from the
    profile page by someone who signed up before that version. A new version
    of the notice asks again and adds a row, so the history stays. No IP
    address or browser is stored: who, which version and when is what the
    record needs (data minimisation). Deleted with the account.
    """

    class Source(models.TextChoices):
        SIGNUP = "signup", _("Sign-up")
        PROFILE = "profile", _("Profile page")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="privacy_consents",
    )
    notice_version = models.CharField(_("notice version"), max_length=20)
    source = models.CharField(
        _("given on"), max_length=10, choices=Source.choices, default=Source.SIGNUP
    )
    given_at = models.DateTimeField(_("given at"), auto_now_add=True)

    class Meta:
        verbose_name = _("privacy consent")
        verbose_name_plural = _("privacy consents")
        ordering = ["-given_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "notice_version"],
                name="portal_privacyconsent_one_per_version",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} · {self.notice_version}"

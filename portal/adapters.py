"""allauth policy: who may sign up, where they go, how mail is sent."""

from django.conf import settings
from django.http import HttpRequest
from django.utils import translation

from allauth.account.adapter import DefaultAccountAdapter
from allauth.mfa.adapter import DefaultMFAAdapter


class AccountAdapter(DefaultAccountAdapter):
    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        """Render the e-mail in the recipient's language (falling back to the
        request's) and send it through the outbox."""
        user = context.get("user")
        language = getattr(user, "language", None) or translation.get_language()
        with translation.override(language or settings.LANGUAGE_CODE):
            super().send_mail(template_prefix, email, context)



class MFAAdapter(DefaultMFAAdapter):
    def get_totp_issuer(self) -> str:
        from wagtail.models import Site

        from portal.models import SiteSettings

        site = Site.objects.filter(is_default_site=True).first()
        if site is not None:
            return SiteSettings.for_site(site).site_name
        return super().get_totp_issuer()

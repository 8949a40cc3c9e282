"""allauth policy: how its e-mails are addressed and worded, who the client is
for its rate limits, and the MFA issuer."""

from types import SimpleNamespace

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context as allauth_context
from allauth.mfa.adapter import DefaultMFAAdapter

from django.conf import settings
from django.core.mail import EmailMessage
from django.http import HttpRequest
from django.utils import translation

from portal.clientip import client_ip
from portal.mail import mark_sensitive


def _site_settings():
    from wagtail.models import Site

    from portal.models import SiteSettings

    request = allauth_context.request
    site = Site.find_for_request(request) if request is not None else None
    site = site or Site.objects.filter(is_default_site=True).first()
    return SiteSettings.for_site(site) if site is not None else SiteSettings()


class AccountAdapter(DefaultAccountAdapter):
    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        """Render the e-mail in the recipient's language and sign it with the
        portal's name (from the site settings) instead of the host name; it
        then goes through the outbox like every other e-mail."""
        user = context.get("user")
        language = getattr(user, "language", None) or translation.get_language()
        with translation.override(language or settings.LANGUAGE_CODE):
            request = allauth_context.request
            context = {
                **context,
                "current_site": SimpleNamespace(
                    name=_site_settings().display_name,
                    domain=request.get_host() if request is not None else "",
                ),
            }
            super().send_mail(template_prefix, email, context)

    def render_mail(
        self,
        template_prefix: str,
        email: str | list[str],
        context: dict,
        headers: dict[str, str] | None = None,
    ) -> EmailMessage:
        """allauth's message, marked sensitive for the outbox: the admin never
        shows the body of an account e-mail. The rule is all of them, not a
        list of templates: a reset link, a confirmation key or a login code
        is in most, and a template added by an allauth upgrade is covered."""
        message = super().render_mail(template_prefix, email, context, headers)
        mark_sensitive(message)
        return message

    def get_client_ip(self, request: HttpRequest) -> str:
        """The address allauth's per-IP limits (failed logins, sign-ups,
        password resets) count on: the portal's one answer, which honours
        PORTAL_TRUSTED_PROXY_COUNT. allauth's own ALLAUTH_TRUSTED_PROXY_COUNT
        is not used: it answers a short X-Forwarded-For with a 500."""
        return client_ip(request)


class MFAAdapter(DefaultMFAAdapter):
    def get_totp_issuer(self) -> str:
        return _site_settings().site_name

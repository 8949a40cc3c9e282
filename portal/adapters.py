"""allauth policy: how its e-mails are addressed and worded, who the client is
for its rate limits, and the MFA issuer."""

from types import SimpleNamespace

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.models import EmailAddress
from allauth.core import context as allauth_context
from allauth.mfa.adapter import DefaultMFAAdapter

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.mail import EmailMessage
from django.forms import BaseForm
from django.http import HttpRequest
from django.shortcuts import resolve_url
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme, urlencode

from portal.clientip import client_ip
from portal.http import CONTROL_CHARACTER
from portal.mail import mark_sensitive


def _site_settings():
    from wagtail.models import Site

    from portal.models import SiteSettings

    request = allauth_context.request
    site = Site.find_for_request(request) if request is not None else None
    site = site or Site.objects.filter(is_default_site=True).first()
    return SiteSettings.for_site(site) if site is not None else SiteSettings()


#: Session key: where a visitor who signed up was going (the `next` of the
#: sign-up form), kept for after the e-mail address is confirmed.
AFTER_VERIFICATION = "portal.after_verification"


class AccountAdapter(DefaultAccountAdapter):
    def save_user(
        self,
        request: HttpRequest,
        user: AbstractBaseUser,
        form: BaseForm,
        commit: bool = True,
    ) -> AbstractBaseUser:
        """A new account must confirm its e-mail address before it signs in,
        and allauth forgets the `next` on the way. Keep it in this browser's
        session, so that an expert who signs up from an invitation, confirms
        and signs in is back on the invitation."""
        user = super().save_user(request, user, form, commit)
        after = request.POST.get("next") or request.GET.get("next")
        if after and self.is_safe_url(after):
            request.session[AFTER_VERIFICATION] = after
        return user

    def is_safe_url(self, url: str | None) -> bool:
        """Whether a `next` may be followed after signing in (or up): an
        address on this very host, as portal.http.safe_next decides for every
        other redirect. allauth's own check also accepts any host in
        ALLOWED_HOSTS or CSRF_TRUSTED_ORIGINS (and their subdomains); a link
        to the sign-in page must not send the user to another site. Without
        a safe `next`, signing in ends on My learning (LOGIN_REDIRECT_URL)."""
        request = allauth_context.request or getattr(self, "request", None)
        if not url or request is None or CONTROL_CHARACTER.search(url):
            return False
        return url_has_allowed_host_and_scheme(
            url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )

    def get_email_verification_redirect_url(self, email_address: EmailAddress) -> str:
        """After confirming, a visitor who is not signed in goes to sign in,
        with the page the sign-up was for (save_user) as `next` when the
        confirmation is in the browser that signed up."""
        url = super().get_email_verification_redirect_url(email_address)
        request = self.request
        if request.user.is_authenticated:
            return url
        after = request.session.pop(AFTER_VERIFICATION, None)
        if not after or not self.is_safe_url(after):
            return url
        return f"{resolve_url(url)}?{urlencode({'next': after})}"

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

"""Keeps staff without a second factor out of the admin screens."""

from collections.abc import Callable

from allauth.mfa.utils import is_mfa_enabled

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

ADMIN_PREFIXES = ("/admin/", "/django-admin/")


def needs_mfa_for_admin(user) -> bool:  # type: ignore[no-untyped-def]
    """True for a signed-in user who may use an admin but has no authenticator."""
    if not user.is_authenticated:
        return False
    may_use_admin = (
        user.is_staff or user.is_superuser or user.has_perm("wagtailadmin.access_admin")
    )
    return may_use_admin and not is_mfa_enabled(user)


class StaffMFARequiredMiddleware:
    """Redirect staff without TOTP to set it up before any admin page.

    Staff are anyone who may use Wagtail's or Django's admin. The admins' own
    login paths are replaced by allauth's login in portal.urls, so every way in
    passes allauth's rate limits and its MFA stage.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(ADMIN_PREFIXES) and needs_mfa_for_admin(
            request.user
        ):
            messages.warning(
                request,
                _(
                    "Staff must set up two-factor authentication before using the "
                    "administration."
                ),
            )
            return redirect(f"{reverse('mfa_activate_totp')}?next={request.path}")
        return self.get_response(request)

"""Staff powers belong to a session that proved its second factor.

A password alone never gives staff powers. A user who holds a staff role (a
superuser, staff, or a member of any group or holder of any permission) has
them in a request only when *this session* passed allauth's MFA stage — at
sign-in, at a later MFA re-authentication, or by setting up an authenticator
(which proves the code too) — and the user still has an authenticator.

How it is enforced (docs/security.md):

- `portal.middleware.StaffMFAMiddleware` marks each request's user with the
  session's answer; `portal.User.has_perm` and `has_module_perms` then answer
  False for every permission until the session has proved MFA, so every view
  that asks Django's permission question refuses without knowing of MFA.
- Views whose staff power is not a Django permission (Wagtail's admin and
  Django's admin by path, event check-in by page permission, another person's
  certificate, a lesson file) call `mfa_required_response`, which sends staff
  to prove or set up their second factor instead of answering "not found".

Outside a request (tasks, management commands) no mark is set and permissions
are the user's own.
"""

from typing import Any

from allauth.account.authentication import get_authentication_records
from allauth.mfa.utils import is_mfa_enabled

from django.contrib import messages
from django.contrib.auth.models import PermissionsMixin
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

# Set when the user sets up an authenticator in this session: entering the
# first code proves the factor as much as the MFA stage does.
SETUP_SESSION_KEY = "portal_mfa_setup_user"


def holds_staff_role(user: Any) -> bool:
    """Whether `user` has any power beyond a learner's, MFA aside: superuser,
    staff, a member of a group (Wagtail's page permissions come through
    groups) or the holder of a permission of their own."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_staff or user.is_superuser:
        return True
    # The unsuspended answer: what the user would have with MFA proven.
    return bool(PermissionsMixin.get_all_permissions(user)) or user.groups.exists()


def session_proved_mfa(request: HttpRequest, user: Any) -> bool:
    """Whether this session passed the second factor for `user` (allauth's
    record of the authentications in this session, or a set-up here)."""
    records = get_authentication_records(request, user)
    if any(record.get("method") == "mfa" for record in records):
        return True
    return request.session.get(SETUP_SESSION_KEY) == str(user.pk)


def staff_powers_granted(request: HttpRequest, user: Any) -> bool:
    """Whether `user` may use staff powers in this request: the session proved
    MFA and the user still has an authenticator (one removed since loses them
    in every session). No query unless the session proved MFA."""
    return session_proved_mfa(request, user) and is_mfa_enabled(user)


def mark_request_user(request: HttpRequest, user: Any) -> Any:
    """Attach the session's answer to the request's user, asked lazily (once,
    on the first permission check)."""
    if user.is_authenticated:
        user._staff_powers_check = lambda: staff_powers_granted(request, user)
    return user


def staff_powers_suspended(request: HttpRequest) -> bool:
    """True for a user who holds a staff role whose session has not proved MFA."""
    user = request.user
    if not user.is_authenticated or user.staff_powers:
        return False
    return holds_staff_role(user)


def mfa_required_response(request: HttpRequest) -> HttpResponse | None:
    """Where to send a staff member who tries a staff power without proven MFA:
    to set up an authenticator, or to enter a code from the one they have;
    back to the same address afterwards. None when nothing stands in the way
    (MFA proven, or not staff at all: the view's own rules then apply)."""
    if not staff_powers_suspended(request):
        return None
    user = request.user
    if is_mfa_enabled(user):
        target = reverse("mfa_reauthenticate")
        messages.warning(
            request,
            _(
                "Staff enter their two-factor code in each session before "
                "using staff functions."
            ),
        )
    else:
        target = reverse("mfa_activate_totp")
        messages.warning(
            request,
            _(
                "Staff must set up two-factor authentication before using the "
                "administration."
            ),
        )
    return HttpResponseRedirect(
        f"{target}?{urlencode({'next': request.get_full_path()})}"
    )


def authenticator_added(request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """allauth's `authenticator_added` signal: the session that set up an
    authenticator has proved it (the set-up checks a code)."""
    if request is not None and getattr(request, "session", None) is not None:
        request.session[SETUP_SESSION_KEY] = str(user.pk)
        # allauth announces the authenticator on commit, which may come after
        # the session middleware has saved the session: save it here too.
        request.session.save()

"""Staff powers need a session that proved its second factor (portal.staff)."""

from collections.abc import Callable

from django.contrib.auth.middleware import get_user
from django.http import HttpRequest, HttpResponse
from django.utils.functional import SimpleLazyObject

from portal import staff

# Wagtail's and Django's admins: every view in them is a staff power, and
# neither asks Django's permission question everywhere (superusers pass
# their checks by the flag), so the whole prefix is guarded here.
ADMIN_PREFIXES = ("/admin/", "/django-admin/")


class StaffMFAMiddleware:
    """Mark the request's user with whether this session proved MFA, and send
    staff who have not proved it from the admins to do so.

    After AuthenticationMiddleware: the user stays lazy, and the session is
    read only when something asks for the user.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.user = SimpleLazyObject(  # type: ignore[assignment]  # the lazy object stands in for the user
            lambda: staff.mark_request_user(request, get_user(request))
        )
        if request.path_info.startswith(ADMIN_PREFIXES):
            response = staff.mfa_required_response(request)
            if response is not None:
                return response
        return self.get_response(request)

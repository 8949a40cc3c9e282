"""Registering (POST only), cancelling (a confirmation page, then a POST),
My registrations, and one registration's page with its QR code. Views turn
HTTP into service calls and refusals into messages; a registration is shown
only to its owner."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from events.models import EventPage
from events.registration import selectors, services
from events.registration.qr import registration_qr_png, registration_qr_svg
from portal import http


def _event_url(request: HttpRequest, event: EventPage) -> str:
    return event.get_url(request) or reverse("events:my_registrations")


@require_POST
def register(request: HttpRequest, event_id: int) -> HttpResponse:
    """Register the signed-in user; on success, their registration's page.
    Signed out: to the sign-in page, then back to the event."""
    if event_id > services.MAX_ID:
        raise Http404
    event = EventPage.objects.live().filter(pk=event_id).first()
    if event is None:
        raise Http404
    if not request.user.is_authenticated:
        return redirect_to_login(_event_url(request, event))
    try:
        from events.checkin.services import phone_normalise

        registration = services.registration_create(
            user=request.user,
            event=event,
            phone=phone_normalise(request.POST.get("phone", "")[:30]),
        )
    except services.RegistrationError as error:
        messages.error(request, str(error))
        return redirect(_event_url(request, event))
    if registration.status == services.Status.CONFIRMED:
        messages.success(
            request,
            _(
                "You are registered for “%(title)s”. A confirmation e-mail with "
                "your QR code is on its way."
            )
            % {"title": event.title},
        )
    else:
        messages.warning(
            request,
            _(
                "“%(title)s” is full: you are number %(position)s on the waiting "
                "list. If a place becomes free, you get it automatically and "
                "we e-mail you."
            )
            % {
                "title": event.title,
                "position": selectors.waiting_position(registration),
            },
        )
    return redirect("events:registration_detail", code=registration.code)


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def cancel(request: HttpRequest, registration_id: int) -> HttpResponse:
    """GET: asks to confirm (what the user loses, a button that POSTs);
    POST: cancels one of the user's registrations, then back to `next` or
    My registrations. Another user's registration is not found."""
    back = http.safe_next(request, reverse("events:my_registrations"))
    if request.method == "GET":
        registration = (
            selectors.registration_of_user_by_id(
                user=request.user,  # type: ignore[arg-type]  # login required
                registration_id=registration_id,
            )
            if registration_id <= services.MAX_ID
            else None
        )
        if registration is None:
            raise Http404
        event = registration.event
        starts_at = event.starts_at if event else registration.event_starts_at
        return render(
            request,
            "events/registration/cancel_confirm.html",
            {
                "registration": registration,
                "event": event,
                "starts_at": starts_at,
                "cancellable": selectors.registration_is_cancellable(
                    registration, starts_at=starts_at
                ),
                "next": back,
            },
        )
    try:
        registration = services.registration_cancel(
            user=request.user,  # type: ignore[arg-type]  # request.user may be AnonymousUser; the view requires login
            registration_id=registration_id,
        )
    except services.RegistrationError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("Your registration for “%(title)s” is cancelled.")
            % {"title": registration.event_title},
        )
    return redirect(back)


@login_required
@never_cache
def my_registrations(request: HttpRequest) -> HttpResponse:
    """The user's registrations, upcoming then past."""
    return render(
        request,
        "events/registration/my_registrations.html",
        selectors.registrations_of_user(user=request.user),  # type: ignore[arg-type]  # request.user may be AnonymousUser; the view requires login
    )


@login_required
@never_cache
def registration_detail(request: HttpRequest, code: str) -> HttpResponse:
    """One registration: status, the event, the QR code to show at the door.
    Another user's code is not found."""
    registration = selectors.registration_of_user(
        user=request.user,  # type: ignore[arg-type]  # request.user may be AnonymousUser; the view requires login
        code=code,
    )
    if registration is None:
        raise Http404
    event = registration.event
    starts_at = event.starts_at if event else registration.event_starts_at
    confirmed = registration.status == services.Status.CONFIRMED
    return render(
        request,
        "events/registration/registration_detail.html",
        {
            "registration": registration,
            "event": event,
            "starts_at": starts_at,
            "event_url": event.get_url(request) if event and event.live else None,
            "qr_svg": (
                registration_qr_svg(
                    registration,
                    title=_("Check-in QR code for “%(title)s”")
                    % {"title": registration.event_title},
                )
                # Shown again after a reversed check-in: it may be scanned again.
                if confirmed
                and (
                    registration.checked_in_at is None
                    or registration.checkin_reversed_at is not None
                )
                else None
            ),
            "waiting_position": (
                selectors.waiting_position(registration)
                if registration.status == services.Status.WAITING
                else None
            ),
            "cancellable": selectors.registration_is_cancellable(
                registration, starts_at=starts_at
            ),
        },
    )


@login_required
@never_cache
def registration_qr(request: HttpRequest, code: str) -> HttpResponse:
    """The QR code as a PNG download, for the owner of a confirmed
    registration."""
    registration = selectors.registration_of_user(
        user=request.user,  # type: ignore[arg-type]  # request.user may be AnonymousUser; the view requires login
        code=code,
    )
    if registration is None or registration.status != services.Status.CONFIRMED:
        raise Http404
    response = HttpResponse(registration_qr_png(registration), content_type="image/png")
    response["Content-Disposition"] = 'attachment; filename="check-in-qr-code.png"'
    return response

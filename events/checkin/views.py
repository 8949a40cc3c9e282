"""The staff check-in page, made for a phone at the door.

``/events/check-in/`` lists the events the staff member may check in for
(see selectors: those whose page they may edit); ``/events/check-in/<id>/``
is one event's station with the count "n of N". A registration's QR code
opens ``/events/check-in/?code=<code>``: the code is filled in and shown
with whose it is, and nothing is recorded until the staff member confirms
(a POST). Without JavaScript the form posts and the page comes back with the
result (post/redirect/get); with it (events/static/events/checkin.js) the form posts in
the background, the result is announced in the page's live region, and a
camera button scans QR codes where the browser has BarcodeDetector.

A station lists its latest check-ins, each with "Reverse": a check-in
scanned by mistake is reversed with a reason at
``/events/check-in/reverse/<registration id>/`` (a form; the reversal is a
POST), by whoever may check in for the event; the organisers' registration
list in the admin links there too.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from events.checkin import selectors, services
from events.checkin.forms import (
    CheckInForm,
    CheckInReversalForm,
    SearchForm,
    WalkInForm,
)
from events.models import EventPage, Registration
from portal import http, staff

#: Where the result of a check-in waits for the page after the redirect.
RESULT_KEY = "events_checkin_result"


def _wants_json(request: HttpRequest) -> bool:
    return request.headers.get("X-Requested-With") == "checkin"


def _count(event: EventPage | None) -> dict | None:
    if event is None:
        return None
    attendance = selectors.attendance_count(event=event)
    return {
        "checked_in": attendance.checked_in,
        "confirmed": attendance.confirmed,
        "text": _("%(checked_in)s of %(confirmed)s checked in")
        % {"checked_in": attendance.checked_in, "confirmed": attendance.confirmed},
    }


def _window(event: EventPage | None) -> dict | None:
    """Whether the chosen event accepts check-in now, and until or from
    when, for the station's heading (the service decides; this only tells)."""
    if event is None:
        return None
    window = selectors.checkin_window(event=event)
    if window.state == "open":
        text = _("Check-in is open until %(time)s.") % {
            "time": services.local_time_display(window.closes)
        }
    elif window.state == "before":
        text = _("Check-in is not open yet: it opens at %(time)s.") % {
            "time": services.local_time_display(window.opens)
        }
    else:
        text = _("Check-in closed at %(time)s, when the event ended.") % {
            "time": services.local_time_display(window.closes)
        }
    return {"open": window.is_open, "state": window.state, "text": text}


def _success(registration: Registration) -> dict:
    event = registration.event
    assert event is not None  # the service refuses a registration without one
    values = {
        "name": selectors.person_name(registration.user),
        "event": event.title,
        "hours": number_format(event.training_hours, 1),
    }
    if event.training_hours > 0:
        message = (
            _("%(name)s is checked in for %(event)s: %(hours)s hours credited.")
            % values
        )
    else:
        message = _("%(name)s is checked in for %(event)s.") % values
    if getattr(registration, "earlier_certificate_revoked", False):
        message += " " + _(
            "The certificate revoked when the earlier check-in was reversed stays "
            "revoked."
        )
    elif event.issues_certificate:
        message += " " + _("The certificate will come with the organiser's bulk run.")
    return {"ok": True, "message": message, **values}


@require_http_methods(["GET", "POST"])
def checkin(request: HttpRequest, event_id: int | None = None) -> HttpResponse:
    """The check-in station: choose an event, then type or scan codes."""
    user = request.user
    if not user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    # The same rule as the admin: staff act only in a session that proved MFA.
    denied = staff.mfa_required_response(request)
    if denied is not None:
        return denied
    event = None
    if event_id is not None:
        event = get_object_or_404(EventPage, pk=event_id)
        if not selectors.can_check_in(user=user, event=event):
            raise PermissionDenied
    elif not selectors.checkin_events(user=user).exists():
        raise PermissionDenied

    if request.method == "POST":
        form = CheckInForm(request.POST)
        if form.is_valid():
            return _record(
                request,
                event=event,
                code=form.cleaned_data["code"],
                registration_id=form.cleaned_data["registration"],
                scanned_at=form.cleaned_data["scanned_at"],
                sent_at=form.cleaned_data["sent_at"],
            )
        if _wants_json(request):
            return JsonResponse(
                {
                    "ok": False,
                    "message": " ".join(
                        str(error) for error in form.errors.get("code", [])
                    ),
                },
                status=400,
            )
        return _page(request, event=event, form=form)

    search = SearchForm(request.GET if "q" in request.GET else None)
    query = search.cleaned_data["q"] if event and search.is_valid() else ""
    if event is not None and query and _wants_json(request):
        return JsonResponse({"results": _results(event=event, query=query)})
    code = selectors.code_from_input(request.GET.get("code", ""))
    form = CheckInForm(initial={"code": code}) if code else CheckInForm()
    confirm = None
    pick = request.GET.get("pick", "")
    if event is not None and pick.isdigit() and 0 < int(pick) <= 2**63 - 1:
        picked = selectors.registration_at_event(event=event, registration_id=int(pick))
        if picked is not None:
            confirm = picked
            form = CheckInForm(initial={"registration": picked.pk})
    elif code:
        registration = selectors.registration_by_code(code=code)
        # Whose code it is, only to staff of that event.
        if (
            registration
            and registration.event
            and selectors.can_check_in(user=user, event=registration.event)
        ):
            confirm = registration
    return _page(
        request,
        event=event,
        form=form,
        confirm=confirm,
        code=code,
        search=search,
        results=selectors.registrants_search(event=event, query=query)
        if event and query
        else None,
    )


def _results(*, event: EventPage, query: str) -> list[dict]:
    """A name or phone search's results as the page's script shows them."""
    return [
        {
            "id": registration.pk,
            "name": selectors.person_name(registration.user),
            "phone": selectors.phone_hint(registration.phone),
            "email": selectors.email_hint(registration.user.email),
            "status": registration.get_status_display(),
            "confirmed": registration.status == Registration.Status.CONFIRMED,
            "checked_in": bool(
                registration.checked_in_at and not registration.checkin_reversed_at
            ),
        }
        for registration in selectors.registrants_search(event=event, query=query)
    ]


@require_POST
def walkin(request: HttpRequest, event_id: int) -> HttpResponse:
    """Register someone at the entrance and check them in
    (services.walkin_register); back to the station with the result."""
    user = request.user
    if not user.is_authenticated:
        return redirect_to_login(reverse("events:checkin_event", args=[event_id]))
    denied = staff.mfa_required_response(request)
    if denied is not None:
        return denied
    event = get_object_or_404(EventPage, pk=event_id)
    if not selectors.can_check_in(user=user, event=event):
        raise PermissionDenied
    form = WalkInForm(request.POST)
    if not form.is_valid():
        if _wants_json(request):
            return JsonResponse(
                {
                    "ok": False,
                    "message": " ".join(
                        str(error)
                        for errors in form.errors.values()
                        for error in errors
                    ),
                },
                status=400,
            )
        return _page(request, event=event, form=CheckInForm(), walkin_form=form)
    try:
        registration = services.walkin_register(
            event_id=event.pk,
            name=form.cleaned_data["name"],
            phone=form.cleaned_data["phone"],
            email=form.cleaned_data["email"],
            by=user,
        )
    except services.AttendanceRefused as refusal:
        result: dict[str, Any] = {"ok": False, "message": refusal.message}
    else:
        result = _success(registration)
        result["walk_in"] = True
    if _wants_json(request):
        return JsonResponse({**result, "count": _count(event)})
    request.session[RESULT_KEY] = result
    return redirect("events:checkin_event", event_id=event.pk)


def _record(
    request: HttpRequest,
    *,
    event: EventPage | None,
    code: str,
    registration_id: int | None = None,
    scanned_at: datetime.datetime | None = None,
    sent_at: datetime.datetime | None = None,
) -> HttpResponse:
    try:
        registration = services.attendance_record(
            code=code,
            event_id=event.pk if event else None,
            by=request.user,
            registration_id=registration_id,
            scanned_at=scanned_at,
            sent_at=sent_at,
        )
    except services.AttendanceRefused as refusal:
        result: dict[str, Any] = {"ok": False, "message": refusal.message}
        if refusal.already:
            # A repeated scan (a phone's queue may drop it): nothing recorded.
            result["already"] = True
        station = event
    else:
        result = _success(registration)
        # After a scanned link, carry on at that event's station.
        station = event or registration.event
    if _wants_json(request):
        return JsonResponse({**result, "count": _count(station)})
    request.session[RESULT_KEY] = result
    if station is not None:
        return redirect("events:checkin_event", event_id=station.pk)
    return redirect("events:checkin")


def _page(
    request: HttpRequest,
    *,
    event: EventPage | None,
    form: CheckInForm,
    confirm: Registration | None = None,
    code: str = "",
    search: SearchForm | None = None,
    results: list[Registration] | None = None,
    walkin_form: WalkInForm | None = None,
) -> HttpResponse:
    context = {
        "event": event,
        "form": form,
        "search": search or SearchForm(),
        "results": results,
        "walkin_form": walkin_form or WalkInForm(),
        "queue_key": f"checkin-queue:{request.user.pk}:{event.pk}" if event else "",
        "confirm": confirm,
        "code": code,
        "result": request.session.pop(RESULT_KEY, None),
        "count": _count(event),
        "window": _window(event),
        "events": selectors.checkin_events_now(user=request.user)
        if event is None
        else [],
        "recent": selectors.recent_checkins(event=event) if event else [],
    }
    response = render(request, "events/checkin/checkin.html", context)
    response["Cache-Control"] = "no-store"
    return response


@require_http_methods(["GET", "POST"])
def checkin_reverse(request: HttpRequest, registration_id: int) -> HttpResponse:
    """Reverse one check-in: GET shows whose it is and asks why; POST
    reverses it (services.checkin_reverse) and goes back to ``next`` (the
    admin's registration list) or the event's station, with a message.
    Whoever may not check in for the registration's event gets "not found"
    (an id reveals nothing)."""
    user = request.user
    if not user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    denied = staff.mfa_required_response(request)
    if denied is not None:
        return denied
    registration = selectors.registration_for_reversal(registration_id=registration_id)
    event = registration.event if registration else None
    if (
        registration is None
        or event is None
        or not selectors.can_check_in(user=user, event=event)
    ):
        raise Http404
    back = http.safe_next(request, reverse("events:checkin_event", args=[event.pk]))
    form = CheckInReversalForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            reversed_ = services.checkin_reverse(
                registration_id=registration.pk,
                reason=form.cleaned_data["reason"],
                by=user,
            )
        except services.AttendanceRefused as refusal:
            messages.error(request, refusal.message)
        else:
            messages.success(request, _reversed_message(reversed_))
            return redirect(back)
        registration = selectors.registration_for_reversal(
            registration_id=registration_id
        )
        if registration is None:  # never deleted: read a moment ago
            raise Http404
    response = render(
        request,
        "events/checkin/reverse.html",
        {
            "registration": registration,
            "event": event,
            "form": form,
            "back": back,
            "checked_in_at": registration.checked_in_at
            and services.local_time_display(registration.checked_in_at),
            "reversed_at": registration.checkin_reversed_at
            and services.local_time_display(registration.checkin_reversed_at),
        },
    )
    response["Cache-Control"] = "no-store"
    return response


def _reversed_message(registration: Registration) -> str:
    """What a reversal did, for the staff member."""
    values = {
        "name": selectors.person_name(registration.user),
        "event": registration.event_title,
    }
    message = _("The check-in of %(name)s at %(event)s is reversed.") % values
    hours = getattr(registration, "hours_reversed", None)
    if hours:
        message += " " + _("%(hours)s hours taken back.") % {
            "hours": number_format(hours, 1)
        }
    revoked = getattr(registration, "certificates_revoked", [])
    if revoked:
        message += " " + _(
            "Certificate %(serials)s revoked; %(name)s is told by e-mail."
        ) % {"serials": ", ".join(revoked), **values}
    elif getattr(registration, "certificate_request_cancelled", False):
        message += " " + _("The certificate will not be issued.")
    return message

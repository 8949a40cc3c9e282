"""Subscription settings (signed in) and the one-click unsubscribe link (no
sign-in). Views translate HTTP into service calls and errors into messages."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from subscriptions import selectors, services
from subscriptions.forms import SubscriptionForm


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def subscription_settings(request: HttpRequest) -> HttpResponse:
    """What the user receives: topics and audience groups, or nothing."""
    user = request.user
    subscription = selectors.subscription_of(user=user)  # type: ignore[arg-type]  # request.user may be AnonymousUser; the view requires login
    active = subscription is not None and subscription.is_active
    if request.method == "POST" and "withdraw" in request.POST:
        services.subscription_withdraw(user=user)  # type: ignore[arg-type]  # request.user may be AnonymousUser; the view requires login
        if active:
            messages.success(request, _("You are unsubscribed from all announcements."))
        return redirect("subscriptions:settings")
    initial = {}
    if active:
        initial = {
            "topics": list(subscription.topics.all()),  # type: ignore[union-attr]  # active implies a subscription
            "audiences": list(subscription.audiences.all()),  # type: ignore[union-attr]  # active implies a subscription
        }
    form = SubscriptionForm(
        request.POST if request.method == "POST" else None,
        initial=initial,
        needs_consent=not active,
    )
    if request.method == "POST" and form.is_valid():
        result = services.subscription_update(
            user=user,  # type: ignore[arg-type]  # request.user may be AnonymousUser; the view requires login
            topics=list(form.cleaned_data["topics"]),
            audiences=list(form.cleaned_data["audiences"]),
        )
        if result is not None and result.is_active:
            messages.success(request, _("Your subscription has been saved."))
        elif active:
            messages.success(request, _("You are unsubscribed from all announcements."))
        else:
            messages.info(request, _("Tick at least one topic to subscribe."))
        return redirect("subscriptions:settings")
    return render(
        request,
        "subscriptions/settings.html",
        {"form": form, "subscription": subscription, "active": active},
        status=400 if form.errors else 200,
    )


# A mail client's one-click unsubscribe (RFC 8058) POSTs without a CSRF token:
# the signed token in the address is what authorises it. GET only asks.
@csrf_exempt
@never_cache
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET: a button to confirm. POST: unsubscribe (also the mail client's
    one-click POST). A forged or damaged token: a clear page, status 400."""
    try:
        if request.method == "POST":
            user = services.subscription_unsubscribe(token=token)
            return render(
                request, "subscriptions/unsubscribed.html", {"email": user.email}
            )
        user, _delivery = services.unsubscribe_token_read(token=token)
    except services.SubscriptionError as error:
        return render(
            request,
            "subscriptions/unsubscribe_invalid.html",
            {"error": str(error)},
            status=400,
        )
    return render(request, "subscriptions/unsubscribe.html", {"email": user.email})

"""Subscription settings (signed in), the sign-up by e-mail address for
visitors without an account (double opt-in), and the one-click unsubscribe
link (no sign-in). Views translate HTTP into service calls and errors into
messages."""

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from portal import http
from portal.models import Audience
from subscriptions import selectors, services
from subscriptions.forms import EmailSignupForm, SubscriptionForm


@never_cache
@require_http_methods(["GET", "POST"])
def subscription_settings(request: HttpRequest) -> HttpResponse:
    """What the user receives: topics and audience groups, or nothing. A
    visitor who is not signed in gets the sign-up by e-mail address."""
    if not request.user.is_authenticated:
        return email_signup(request)
    user = request.user
    subscription = selectors.subscription_of(user=user)
    active = subscription is not None and subscription.is_active
    if request.method == "POST" and "withdraw" in request.POST:
        services.subscription_withdraw(user=user)
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
            user=user,
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
            who = services.subscription_unsubscribe(token=token)
            return render(
                request, "subscriptions/unsubscribed.html", {"email": who.email}
            )
        who = services.unsubscribe_token_read(token=token)
    except services.SubscriptionError as error:
        return render(
            request,
            "subscriptions/unsubscribe_invalid.html",
            {"error": str(error)},
            status=400,
        )
    return render(
        request,
        "subscriptions/unsubscribe.html",
        {"email": who.email, "has_account": who.user is not None},
    )


def _signup_rate() -> str:
    return settings.PORTAL_SUBSCRIBE_RATE


@http.rate_limit("subscriptions.signup", rate=_signup_rate, method="POST")
def email_signup(request: HttpRequest) -> HttpResponse:
    """An address and the choices; the same answer whether or not the
    address is subscribed or has an account, and whether or not an e-mail
    went (services.email_subscriber_signup limits them per address)."""
    form = EmailSignupForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        services.email_subscriber_signup(
            email=form.cleaned_data["email"],
            topics=list(form.cleaned_data["topics"]),
            audiences=list(form.cleaned_data["audiences"]),
            language=translation.get_language() or settings.LANGUAGE_CODE,
        )
        return redirect("subscriptions:signup_sent")
    return render(
        request,
        "subscriptions/signup.html",
        {"form": form},
        status=400 if form.errors else 200,
    )


@never_cache
def signup_sent(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "subscriptions/signup_sent.html",
        {"hours": int(services.CONFIRM_RESEND_AFTER.total_seconds() // 3600)},
    )


@never_cache
@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    """GET: what is being confirmed, and a button (a mail scanner following
    the link confirms nothing). POST: confirm. A forged or expired link: a
    clear page, status 400, nothing changed."""
    try:
        if request.method == "POST":
            confirmed = services.email_subscriber_confirm(token=token)
            return render(
                request, "subscriptions/confirmed.html", {"confirmed": confirmed}
            )
        value = services.email_subscriber_token_read(token=token)
        subscriber = services.email_subscriber_of_token(value=value)
    except services.SubscriptionError as error:
        return render(
            request,
            "subscriptions/confirm_invalid.html",
            {"error": str(error)},
            status=400,
        )
    return render(
        request,
        "subscriptions/confirm.html",
        {
            "email": subscriber.email,
            "topics": selectors.topics_offered().filter(pk__in=value["t"]),
            "audiences": Audience.objects.filter(is_active=True, pk__in=value["a"]),
        },
    )

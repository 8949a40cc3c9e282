"""Subscription settings (signed in), the sign-up by e-mail address for
visitors without an account (double opt-in), the one-click unsubscribe
link (no sign-in) and, from the same signed link, a subscriber's download
of their record. Views translate HTTP into service calls and errors into
messages."""

import json
import logging

from django.conf import settings
from django.contrib import messages
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from portal import http
from portal.models import Audience
from subscriptions import selectors, services
from subscriptions.forms import EmailSignupForm, SubscriptionForm

logger = logging.getLogger(__name__)


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
                request,
                "subscriptions/unsubscribed.html",
                {
                    "email": who.email,
                    "has_account": who.user is not None,
                    "data_url": _data_url(who, token),
                },
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
        {
            "email": who.email,
            "has_account": who.user is not None,
            "data_url": _data_url(who, token),
        },
    )


def _data_url(who: services.Unsubscriber, token: str) -> str:
    """Where the person the link names downloads their data: a subscriber
    without an account from the same signed link (subscriber_data); a user
    from their account ("Download my data", signed in)."""
    if who.user is not None:
        return reverse("personal_data")
    if who.subscriber is not None and who.delivery is not None:
        return reverse("subscriptions:data", args=[token])
    return ""


def _data_rate() -> str:
    return settings.PORTAL_PERSONAL_DATA_RATE


@never_cache
@require_http_methods(["GET"])
@http.rate_limit("subscriptions.data", rate=_data_rate)
def subscriber_data(request: HttpRequest, token: str) -> HttpResponse:
    """A subscriber without an account downloads what the portal holds
    about them (PIPL), as a JSON file: the signed link of their e-mails
    (the unsubscribe link's token) is the only key, so nobody reaches a
    record by guessing an address or a number. A user's link leads to the
    account's own download, which needs signing in. A forged link: the
    invalid-link page, status 400. A subscriber purged since (or a token
    whose announcement delivery is not the subscriber's): the file says
    nothing is held. Limited per client address; logged without the
    content."""
    try:
        who = services.unsubscribe_token_read(token=token)
    except services.SubscriptionError as error:
        return render(
            request,
            "subscriptions/unsubscribe_invalid.html",
            {"error": str(error)},
            status=400,
        )
    if who.user is not None:
        return redirect("personal_data")
    # Each link of a subscriber's e-mail names its delivery, which the purge
    # unlinks: a number used again for another subscriber reads nothing.
    subscriber = who.subscriber if who.delivery is not None else None
    data = selectors.email_subscriber_personal_data(subscriber)
    logger.info(
        "Subscriber data downloaded for subscriber %s",
        subscriber.pk if subscriber is not None else "(none)",
    )
    response = HttpResponse(
        json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2),
        content_type="application/json; charset=utf-8",
    )
    filename = f"my-subscription-{timezone.localdate().isoformat()}.json"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


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

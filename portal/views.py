"""Views of the portal's own pages: profile, account deletion, site search and
the redirects that route every login through allauth."""

import json
import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from wagtail import views as wagtail_views
from wagtail.documents.views import serve as wagtail_document_views

from portal import http, privacy, selectors, services
from portal.forms import AccountDeleteForm, ProfileForm, SiteSearchForm
from portal.models import PrivacyConsent

logger = logging.getLogger(__name__)


@login_required
@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Your profile has been saved."))
        return redirect("account_profile")
    return render(
        request,
        "account/profile.html",
        {
            "form": form,
            "privacy_consent": selectors.privacy_consent_current(user=request.user),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def account_delete(request: HttpRequest) -> HttpResponse:
    form = AccountDeleteForm(request.POST or None, user=request.user)
    # Every attempt counts, right or wrong, before the password is checked: a
    # stolen session must not become a way to guess the account's password.
    # A limit that cannot count refuses (503): no password is checked
    # without its limit.
    if request.method == "POST":
        try:
            wait = http.limit_wait(
                request,
                keys=[("account_delete", "user")],
                rate=settings.PORTAL_ACCOUNT_DELETE_RATE,
                method="POST",
            )
        except Exception:
            logger.exception("Account deletion limit could not be checked; refused")
            return http.limiter_unavailable(request, api=False)
        if wait is not None:
            # A fresh form, not the posted one: validating that would check
            # the password and say whether it was right.
            messages.error(
                request,
                _(
                    "Too many attempts to delete this account. Wait a few "
                    "minutes, then try again."
                ),
            )
            form = AccountDeleteForm(user=request.user)
            response = render(
                request, "account/delete.html", {"form": form}, status=429
            )
            response["Retry-After"] = str(wait)
            return response
    if request.method == "POST" and form.is_valid():
        user = request.user
        logout(request)
        services.user_delete(user=user)  # type: ignore[arg-type]  # request.user may be AnonymousUser; the view requires login
        messages.success(request, _("Your account has been deleted."))
        return redirect("/")
    return render(request, "account/delete.html", {"form": form})


@require_http_methods(["GET"])
def privacy_notice(request: HttpRequest) -> HttpResponse:
    """The privacy notice in the active language (the text is a template per
    language: portal/privacy/notice_<language>.html), with the retention
    periods the code enforces (portal.privacy.retention_periods)."""
    english = (translation.get_language() or "").startswith("en")
    language = "en" if english else "zh_hans"
    return render(
        request,
        "portal/privacy/notice.html",
        {
            "notice_template": f"portal/privacy/notice_{language}.html",
            "notice_version": privacy.PRIVACY_NOTICE_VERSION,
            "retention": privacy.retention_periods(),
        },
    )


@login_required
@require_http_methods(["GET"])
def personal_data_download(request: HttpRequest) -> HttpResponse:
    """Download my data: a JSON file of everything the portal holds about
    the signed-in user (portal.privacy.personal_data_export). Limited per
    user (PORTAL_PERSONAL_DATA_RATE): each download reads every app's
    tables. Logged, without the content."""
    try:
        wait = http.limit_wait(
            request,
            keys=[("personal_data", "user")],
            rate=settings.PORTAL_PERSONAL_DATA_RATE,
        )
    except Exception:
        logger.exception("Personal data download limit could not be checked")
        return http.limiter_unavailable(request, api=False)
    if wait is not None:
        messages.error(
            request,
            _("You have downloaded your data several times already. Try again later."),
        )
        limited: HttpResponse = redirect("account_profile")
        limited["Retry-After"] = str(wait)
        return limited
    user = request.user
    data = privacy.personal_data_export(user)  # type: ignore[arg-type]  # login_required: never AnonymousUser
    logger.info("Personal data downloaded by user %s", user.pk)
    response = HttpResponse(
        json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2),
        content_type="application/json; charset=utf-8",
    )
    filename = f"my-data-{timezone.localdate().isoformat()}.json"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_http_methods(["POST"])
def privacy_consent_give(request: HttpRequest) -> HttpResponse:
    """A user who signed up before the notice in force agrees to it from
    the profile page."""
    services.privacy_consent_record(
        user=request.user,  # type: ignore[arg-type]  # login_required: never AnonymousUser
        source=PrivacyConsent.Source.PROFILE,
    )
    messages.success(request, _("Thank you: your agreement has been recorded."))
    return redirect("account_profile")


@require_http_methods(["GET"])
def search(request: HttpRequest) -> HttpResponse:
    form = SiteSearchForm(request.GET or None)
    results = None
    if form.is_valid():
        results = selectors.paginate(
            selectors.site_search(query=form.cleaned_data["q"]), request, per_page=10
        )
    return render(
        request,
        "portal/search.html",
        {
            "form": form,
            "results": results,
            "query": request.GET.get("q", "")[:100],
            # The header's search box shows only the site search's own query.
            "site_search_query": request.GET.get("q", "")[:100],
        },
    )


def login_redirect(request: HttpRequest, *, default_next: str) -> HttpResponseRedirect:
    """Send the visitor to allauth's login (its rate limits, e-mail
    verification and MFA stage), keeping a `next` that stays on this site."""
    next_url = http.safe_next(request, default_next)
    return HttpResponseRedirect(
        f"{reverse('account_login')}?{urlencode({'next': next_url})}"
    )


def admin_login_redirect(request: HttpRequest) -> HttpResponseRedirect:
    """Wagtail's and Django's admin login pages, replaced: neither accepts a
    password; both send the visitor to allauth's login."""
    return login_redirect(request, default_next="/admin/")


def password_reset_redirect(request: HttpRequest) -> HttpResponseRedirect:
    """Wagtail's admin password reset pages, replaced by allauth's."""
    return HttpResponseRedirect(reverse("account_reset_password"))


def frontend_login_redirect(request: HttpRequest) -> HttpResponseRedirect:
    """Wagtail's front-end login (`_util/login/`, Django's plain LoginView,
    where a password alone would sign anyone in), replaced likewise."""
    return login_redirect(request, default_next="/")


# Wagtail's forms for pages and document collections an editor protected with
# a shared password: Wagtail checks it, at most this often per client address.
# The same for documents in a password-protected collection: one count for
# both forms, so a guesser cannot double the rate by switching between them.
# A limit that cannot count refuses (503): a password form without its
# limit is a guessing machine.
_limit_password_forms = http.rate_limit(
    "page_password",
    rate=lambda: settings.PORTAL_PAGE_PASSWORD_RATE,
    method="POST",
    fail_closed=True,
)
page_password = _limit_password_forms(wagtail_views.authenticate_with_password)
document_password = _limit_password_forms(
    wagtail_document_views.authenticate_with_password
)


def health(request: HttpRequest) -> JsonResponse:
    """For process supervisors and `make run`: the web process answers."""
    return JsonResponse({"status": "ok"})


@csrf_exempt
@require_http_methods(["POST"])
def switch_language(request: HttpRequest) -> HttpResponse:
    """Remember the chosen language and return to the same page in it.

    Without a CSRF token: the switcher is on every page, and its token gave
    every visitor a cookie, so no page could be kept by the proxy's cache
    (portal/frontend_cache.py). A forged switch can only change the
    language cookie of the one who follows it (the next address is checked,
    http.safe_next); it changes no record and signs nobody in.

    The switcher sends the page's address in the new language (worked out by
    the url_in_language tag), so no translation of the address happens here;
    Django's set_language would try, and on an unprefixed default language
    it turns /en/news/ into /en/en/news/.
    """
    language = request.POST.get("language", "")
    response = HttpResponseRedirect(http.safe_next(request, "/"))
    if language not in dict(settings.LANGUAGES):
        messages.error(request, _("That language is not available."))
        return response
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )
    return response

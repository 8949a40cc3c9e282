"""The applicant's and the expert's own pages (signed in): apply, see the
application and the reviewer's reason, correct and send it again, withdraw
it; the expert's profile with the pending change, consent to publication
and "my profile is current". Views are thin: forms check, services write."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_http_methods, require_POST

from portal.http import signed_in_user
from talentpool.applications import selectors
from talentpool.applications.forms import ProfileForms
from talentpool.applications.services import (
    CONSENT_WORDING,
    VERIFIED_FIELDS,
    ApplicationError,
    application_resubmit,
    application_submit,
    application_withdraw,
    consent_give,
    consent_withdraw,
    expert_profile_data,
    expert_profile_update,
    expert_reconfirm,
)
from talentpool.contact_details import contact_detail_kinds
from talentpool.models import ExpertApplication


def _forms_context(forms: ProfileForms, **extra: Any) -> dict[str, Any]:
    return {
        "form": forms.form,
        "qualifications": forms.qualifications,
        "qualification_errors": forms.qualification_errors,
        "consent_form": forms.consent,
        "has_errors": forms.has_errors,
        "verified_fields": VERIFIED_FIELDS,
        **extra,
    }


@login_required
def start(request: HttpRequest) -> HttpResponse:
    """Where "apply to join" leads: the form, or what the user already has."""
    if selectors.expert_of(signed_in_user(request)) is not None:
        return redirect("expert_applications:profile")
    if selectors.latest_application(signed_in_user(request)) is not None:
        return redirect("expert_applications:status")
    return redirect("expert_applications:apply")


def _contact_details_notice(request: HttpRequest, data: dict) -> None:
    """Tell the expert that contact details typed into the free text will
    not be public, and how enterprises reach them instead."""
    text = "\n".join(str(data.get(key) or "") for key in ("biography", "organisation"))
    kinds = contact_detail_kinds(text)
    if kinds:
        messages.warning(
            request,
            _(
                "Your biography or organisation contains contact details "
                "(%(kinds)s). The public profile does not show them: "
                "enterprises reach you through contact requests, which you "
                "accept or decline."
            )
            % {"kinds": pgettext("list separator", ", ").join(kinds)},
        )


@login_required
@require_http_methods(["GET", "POST"])
def apply(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    if selectors.expert_of(user) is not None:
        return redirect("expert_applications:profile")
    if selectors.open_application(user) is not None:
        messages.info(request, _("You already have an application open."))
        return redirect("expert_applications:status")
    initial = {"name": user.real_name, "email": user.email}
    forms = ProfileForms(request.POST or None, initial=initial, with_consent=True)
    if request.method == "POST" and forms.is_valid():
        try:
            application_submit(user=user, data=forms.data, consent=forms.consent_given)
        except ApplicationError as error:
            forms.add_error(str(error))
        else:
            messages.success(
                request,
                _("Your application was sent. We e-mail you when a reviewer decides."),
            )
            _contact_details_notice(request, forms.data)
            return redirect("expert_applications:status")
    return render(
        request,
        "talentpool/applications/apply.html",
        _forms_context(forms, editing=None),
        status=400 if forms.has_errors else 200,
    )


@login_required
def status(request: HttpRequest) -> HttpResponse:
    applications = selectors.applications_of(signed_in_user(request))
    if not applications:
        return redirect("expert_applications:apply")
    return render(
        request,
        "talentpool/applications/status.html",
        {
            "application": applications[0],
            "earlier": applications[1:],
            "rows": selectors.proposal_rows(applications[0]),
            "expert": selectors.expert_of(signed_in_user(request)),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def edit(request: HttpRequest) -> HttpResponse:
    """Correct an application after "changes requested" and send it again."""
    application = selectors.open_application(signed_in_user(request))
    if (
        application is None
        or application.status != ExpertApplication.Status.CHANGES_REQUESTED
    ):
        messages.info(request, _("There is no application waiting for your changes."))
        return redirect("expert_applications:start")
    is_new = application.kind == ExpertApplication.Kind.NEW
    expert = application.expert
    initial = {**(expert_profile_data(expert) if expert else {}), **application.data}
    forms = ProfileForms(
        request.POST or None, initial=initial, expert=expert, with_consent=is_new
    )
    if request.method == "GET" and forms.consent is not None:
        forms.consent.initial = {
            "publication_consent": bool(application.data.get("publication_consent"))
        }
    if request.method == "POST" and forms.is_valid():
        try:
            application_resubmit(
                application=application,
                user=signed_in_user(request),
                data=forms.data,
                consent=forms.consent_given,
            )
        except ApplicationError as error:
            forms.add_error(str(error))
        else:
            messages.success(request, _("Your application was sent again."))
            _contact_details_notice(request, forms.data)
            return redirect("expert_applications:status")
    return render(
        request,
        "talentpool/applications/apply.html",
        _forms_context(forms, editing=application),
        status=400 if forms.has_errors else 200,
    )


@login_required
@require_POST
def withdraw(request: HttpRequest) -> HttpResponse:
    application = selectors.open_application(signed_in_user(request))
    if application is None:
        messages.info(request, _("You have no open application."))
        return redirect("expert_applications:start")
    try:
        application_withdraw(application=application, user=signed_in_user(request))
    except ApplicationError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Your application was withdrawn."))
    return redirect("expert_applications:status")


@login_required
@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    """The expert's own profile: edit (verified fields go to review), the
    pending change, consent and reconfirmation."""
    expert = selectors.expert_of(signed_in_user(request))
    if expert is None:
        return redirect("expert_applications:start")
    pending = selectors.open_application(signed_in_user(request))
    current = expert_profile_data(expert)
    initial = {**current, **(pending.data if pending else {})}
    forms = ProfileForms(request.POST or None, initial=initial, expert=expert)
    if request.method == "POST" and forms.is_valid():
        try:
            change = expert_profile_update(
                expert=expert, user=signed_in_user(request), data=forms.data
            )
        except ApplicationError as error:
            forms.add_error(str(error))
        else:
            if change is not None:
                messages.success(
                    request,
                    _(
                        "Your profile was saved. The changes to verified fields "
                        "wait for a reviewer; until then the public profile "
                        "shows the verified values."
                    ),
                )
            else:
                messages.success(request, _("Your profile was saved."))
            _contact_details_notice(request, forms.data)
            return redirect("expert_applications:profile")
    public_url = selectors.public_url(expert, request)
    return render(
        request,
        "talentpool/applications/profile.html",
        _forms_context(
            forms,
            expert=expert,
            pending=pending,
            pending_rows=selectors.proposal_rows(pending) if pending else [],
            consent_wording=CONSENT_WORDING,
            public_url=public_url,
            not_public_reasons=(
                [] if public_url else selectors.not_public_reasons(expert, pending)
            ),
        ),
        status=400 if forms.has_errors else 200,
    )


@login_required
@require_POST
def consent(request: HttpRequest) -> HttpResponse:
    expert = selectors.expert_of(signed_in_user(request))
    if expert is None:
        return redirect("expert_applications:start")
    action = request.POST.get("action")
    try:
        if action == "give":
            consent_give(expert=expert, user=signed_in_user(request))
            messages.success(
                request, _("Thank you: your profile may now be published.")
            )
        elif action == "withdraw":
            consent_withdraw(expert=expert, user=signed_in_user(request))
            messages.success(
                request,
                _("Your consent is withdrawn: your profile is no longer published."),
            )
        else:
            messages.error(request, _("Choose to give or to withdraw your consent."))
    except ApplicationError as error:
        messages.error(request, str(error))
    return redirect("expert_applications:profile")


@login_required
@require_POST
def confirm(request: HttpRequest) -> HttpResponse:
    expert = selectors.expert_of(signed_in_user(request))
    if expert is None:
        return redirect("expert_applications:start")
    try:
        expert_reconfirm(expert=expert, user=signed_in_user(request))
    except ApplicationError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Thank you: your profile is confirmed as current."))
    return redirect("expert_applications:profile")

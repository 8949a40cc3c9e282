"""Enterprise registration and contact requests, for signed-in users.
Views translate HTTP into service calls and service errors into messages;
showing contact details always goes through contact_disclosures_record."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from portal.http import signed_in_user
from talentpool.contacts import selectors, services
from talentpool.contacts.forms import (
    AcceptForm,
    ContactRequestForm,
    DeclineForm,
    EnterpriseForm,
)
from talentpool.models import (
    ContactDisclosure,
    ContactRequest,
    Expert,
    TalentSearchPage,
)


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def enterprise(request: HttpRequest) -> HttpResponse:
    """The user's enterprise and its verification, or the form to register one."""
    current = selectors.enterprise_of(signed_in_user(request))
    form = None
    if current is None:
        form = EnterpriseForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                services.enterprise_register(
                    user=signed_in_user(request), **form.cleaned_data
                )
            except services.ContactError as error:
                form.add_error(None, str(error))
            else:
                messages.success(
                    request,
                    _(
                        "Your enterprise is registered. The portal's staff will "
                        "verify it; you will receive an e-mail."
                    ),
                )
                return redirect("contacts:enterprise")
    return render(
        request,
        "talentpool/contacts/enterprise.html",
        {"enterprise": current, "form": form},
        status=400 if form is not None and form.errors else 200,
    )


def _profile_url(request: HttpRequest, expert: Expert) -> str | None:
    page = TalentSearchPage.objects.live().first()
    return page.expert_url(expert.pk, request) if page else None


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def request_new(request: HttpRequest, expert_id: int) -> HttpResponse:
    """The form to ask a listed expert to get in touch; explains instead of
    showing it when the user cannot (no enterprise, not verified, paused)."""
    expert = Expert.objects.listed().filter(pk=expert_id).first()
    if expert is None:
        return render(
            request, "talentpool/contacts/expert_unavailable.html", status=404
        )
    refusal = selectors.contact_refusal(user=signed_in_user(request), expert=expert)
    form = ContactRequestForm(request.POST or None) if refusal is None else None
    if form is not None and request.method == "POST" and form.is_valid():
        try:
            services.contact_request_send(
                user=signed_in_user(request),
                expert=expert,
                **form.cleaned_data,
            )
        except services.ContactError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request,
                _(
                    "Your request was sent to %(name)s. You will receive an "
                    "e-mail when the expert answers."
                )
                % {"name": expert.name},
            )
            return redirect("contacts:sent")
    status = 200
    if request.method == "POST" and (form is None or form.errors):
        status = 400
    return render(
        request,
        "talentpool/contacts/request_form.html",
        {
            "expert": expert,
            "form": form,
            "refusal": refusal,
            "profile_url": _profile_url(request, expert),
        },
        status=status,
    )


@login_required
@never_cache
def sent(request: HttpRequest) -> HttpResponse:
    """The enterprise's requests; an accepted one shows the expert's
    e-mail and phone, and each showing is logged."""
    current = selectors.enterprise_of(signed_in_user(request))
    requests = list(selectors.sent_requests(enterprise=current)) if current else []
    accepted = [r for r in requests if r.status == ContactRequest.Status.ACCEPTED]
    if accepted:
        services.contact_disclosures_record(
            requests=accepted,
            viewer=signed_in_user(request),
            subject=ContactDisclosure.Subject.EXPERT,
        )
    return render(
        request,
        "talentpool/contacts/sent.html",
        {"enterprise": current, "requests": requests},
    )


@login_required
@require_POST
def withdraw(request: HttpRequest, request_id: int) -> HttpResponse:
    try:
        services.contact_request_withdraw(
            request_id=request_id, user=signed_in_user(request)
        )
    except services.ContactError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("The request was withdrawn."))
    return redirect("contacts:sent")


@login_required
@never_cache
def received(request: HttpRequest) -> HttpResponse:
    """The requests to the user's expert profile, the pause switch, and for
    an accepted request the enterprise's contact details (each showing
    logged)."""
    expert = selectors.expert_of(signed_in_user(request))
    requests = list(selectors.received_requests(expert=expert)) if expert else []
    accepted = [r for r in requests if r.status == ContactRequest.Status.ACCEPTED]
    if accepted:
        services.contact_disclosures_record(
            requests=accepted,
            viewer=signed_in_user(request),
            subject=ContactDisclosure.Subject.ENTERPRISE,
        )
    return render(
        request,
        "talentpool/contacts/received.html",
        {"expert": expert, "requests": requests},
    )


def _answered(request_id: int) -> HttpResponse:
    """Back to the received requests, at the one just answered."""
    return redirect(f"{reverse('contacts:received')}#request-{request_id}")


@login_required
@require_POST
def accept(request: HttpRequest, request_id: int) -> HttpResponse:
    form = AcceptForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
        return _answered(request_id)
    try:
        services.contact_request_accept(
            request_id=request_id,
            user=signed_in_user(request),
            no_conflict=form.cleaned_data["no_conflict"],
            note=form.cleaned_data["note"],
        )
    except services.ContactError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _(
                "You accepted the request. You and the enterprise now see each "
                "other's contact details."
            ),
        )
    return _answered(request_id)


@login_required
@require_POST
def decline(request: HttpRequest, request_id: int) -> HttpResponse:
    form = DeclineForm(request.POST)
    form.is_valid()
    try:
        services.contact_request_decline(
            request_id=request_id,
            user=signed_in_user(request),
            note=form.cleaned_data.get("note", ""),
        )
    except services.ContactError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("You declined the request."))
    return _answered(request_id)


@login_required
@require_POST
def pause(request: HttpRequest) -> HttpResponse:
    paused = request.POST.get("paused") == "1"
    try:
        services.expert_requests_pause(user=signed_in_user(request), paused=paused)
    except services.ContactError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("Contact requests are paused: your profile says so.")
            if paused
            else _("You accept contact requests again."),
        )
    return redirect("contacts:received")


# --- answering by the e-mailed link (an expert without an account) -----------------


@never_cache
@require_http_methods(["GET", "POST"])
def answer_by_link(request: HttpRequest, request_id: int, token: str) -> HttpResponse:
    """The request an expert without an account was e-mailed, opened by its
    signed link without signing in: accept (ticking the declaration of no
    conflict of interest) or decline with a note, through the same services
    as the received-requests page. A GET changes nothing; a POST needs the
    CSRF token; an altered, expired or used link answers nothing. Also
    offers to claim the profile."""
    from talentpool.invitations.links import claim_token

    try:
        contact_request = services.answer_link_request(
            request_id=request_id, token=token
        )
    except services.ContactError as error:
        return render(
            request,
            "talentpool/contacts/answer_invalid.html",
            {"message": str(error)},
            status=404,
        )
    accept_form = AcceptForm(prefix="accept")
    decline_form = DeclineForm(prefix="decline")
    error_message = ""
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "accept":
                accept_form = AcceptForm(request.POST, prefix="accept")
                if accept_form.is_valid():
                    services.contact_request_accept(
                        request_id=request_id,
                        user=None,
                        token=token,
                        no_conflict=accept_form.cleaned_data["no_conflict"],
                        note=accept_form.cleaned_data["note"],
                    )
                    messages.success(
                        request,
                        _(
                            "You accepted the request. The enterprise now sees "
                            "your contact details and will get in touch."
                        ),
                    )
                    return redirect(request.path)
            elif action == "decline":
                decline_form = DeclineForm(request.POST, prefix="decline")
                decline_form.is_valid()
                services.contact_request_decline(
                    request_id=request_id,
                    user=None,
                    token=token,
                    note=decline_form.cleaned_data.get("note", ""),
                )
                messages.success(request, _("You declined the request."))
                return redirect(request.path)
            else:
                error_message = _("Choose to accept or to decline the request.")
        except services.ContactError as error:
            error_message = str(error)
        contact_request.refresh_from_db(fields=["status"])
    expert = contact_request.expert
    claim_url = None
    if expert.user_id is None:
        claim_url = reverse(
            "contacts:invitations:claim",
            kwargs={"token": claim_token(expert_id=expert.pk, email=expert.email)},
        )
    failed = request.method == "POST"
    response = render(
        request,
        "talentpool/contacts/answer.html",
        {
            "r": contact_request,
            "accept_form": accept_form,
            "decline_form": decline_form,
            "error_message": error_message,
            "claim_url": claim_url,
        },
        status=400 if failed else 200,
    )
    # The address carries the link's secret: the site's Referrer-Policy
    # (same-origin) sends it to no other site. "no-referrer" would make the
    # browser send "Origin: null" with the form, which the CSRF check refuses.
    return response

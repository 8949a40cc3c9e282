"""The claim page an invitation's signed link opens: sign in or sign up
(the link is carried through as `next`), check the profile, confirm it and
give consent online."""

from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from portal.http import signed_in_user
from talentpool.invitations import services
from talentpool.invitations.forms import ClaimForm
from talentpool.models import Expert


def _profile(expert: Expert) -> Expert:
    """The expert with what the claim page shows."""
    return (
        Expert.objects.select_related("district", "organisation", "talent_tier")
        .prefetch_related(
            "categories", "ip_types", "services", "industries", "languages"
        )
        .prefetch_related("qualifications")
        .get(pk=expert.pk)
    )


@never_cache
@require_http_methods(["GET", "POST"])
def claim(request: HttpRequest, token: str) -> HttpResponse:
    """Open to anyone holding the link; claiming needs an account. A GET
    changes nothing."""
    try:
        expert = services.invitation_expert(token)
    except services.InvitationError as error:
        return render(
            request,
            "talentpool/contacts/answer_invalid.html",
            {"message": str(error)},
            status=404,
        )
    user = request.user
    here = request.get_full_path()
    after = urlencode({"next": here})
    login_url = f"{reverse('account_login')}?{after}"
    if user.is_authenticated and expert.user_id == user.pk:
        messages.info(request, _("This profile is already linked to your account."))
        return redirect("expert_applications:profile")
    state = "claim"
    if expert.user_id is not None:
        state = "claimed"
    elif not user.is_authenticated:
        if request.method == "POST":
            return redirect(login_url)
        state = "anonymous"
    elif Expert.objects.filter(user=signed_in_user(request)).exists():
        state = "has_profile"
    form = ClaimForm(request.POST or None) if state == "claim" else None
    if form is not None and request.method == "POST" and form.is_valid():
        try:
            services.invitation_accept(
                token=token,
                user=signed_in_user(request),
                consent=form.cleaned_data["consent"],
            )
        except services.InvitationError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request,
                _(
                    "Your profile is linked to your account and confirmed. "
                    "Enterprises can now reach you here."
                )
                if form.cleaned_data["consent"]
                else _(
                    "Your profile is linked to your account and confirmed. It is "
                    "published once you give your consent below."
                ),
            )
            return redirect("expert_applications:profile")
    failed = request.method == "POST" and (form is None or bool(form.errors))
    return render(
        request,
        "talentpool/invitations/claim.html",
        {
            "expert": _profile(expert),
            "state": state,
            "form": form,
            "login_url": login_url,
            "signup_url": f"{reverse('account_signup')}?{after}",
        },
        status=400 if failed else 200,
    )

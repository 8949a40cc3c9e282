"""The claim form: the expert confirms the profile is correct and, in a
separate unticked box, may give consent to publication."""

from django import forms
from django.utils.translation import gettext_lazy as _

from talentpool.applications.services import CONSENT_WORDING


class ClaimForm(forms.Form):
    correct = forms.BooleanField(
        label=_("I have checked this profile: it is mine and it is correct."),
        help_text=_(
            "If something is wrong, claim the profile all the same and request "
            "a change on your expert profile page: a reviewer checks it."
        ),
        error_messages={
            "required": _("Confirm that the profile is yours and correct to claim it.")
        },
    )
    consent = forms.BooleanField(
        label=CONSENT_WORDING,
        required=False,
        help_text=_(
            "Without this consent your profile is not published; you can give "
            "it later on your expert profile page."
        ),
    )

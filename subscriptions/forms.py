"""The subscription form. It checks the shape of the input; the services
decide and write."""

from django import forms
from django.utils.translation import gettext_lazy as _

from portal.models import Audience
from subscriptions import selectors


class SubscriptionForm(forms.Form):
    """Topics and audience groups, none ticked unless the user chose them;
    a new consent is asked for with an explicit, unticked checkbox."""

    topics = forms.ModelMultipleChoiceField(
        label=_("Topics"),
        queryset=selectors.topics_offered(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("You receive announcements about the topics you tick."),
    )
    audiences = forms.ModelMultipleChoiceField(
        label=_("Audience groups"),
        queryset=Audience.objects.filter(is_active=True),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "Optional: only announcements for these groups. "
            "Tick none to receive announcements for every group."
        ),
    )
    consent = forms.BooleanField(
        label=_(
            "I agree to receive these announcements by e-mail. I can unsubscribe "
            "at any time, here or through the link in every e-mail."
        ),
        required=False,
    )

    def __init__(self, *args, needs_consent: bool = True, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.needs_consent = needs_consent
        if not needs_consent:
            del self.fields["consent"]

    def clean(self):
        cleaned_data = super().clean()
        if (
            self.needs_consent
            and cleaned_data.get("topics")
            and not cleaned_data.get("consent")
        ):
            self.add_error(
                "consent", _("Tick this box to agree to receive the announcements.")
            )
        return cleaned_data

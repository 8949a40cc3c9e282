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


class EmailSignupForm(SubscriptionForm):
    """A visitor without an account: an address, the same choices, and the
    consent box (always asked). At least one topic is required."""

    email = forms.EmailField(
        label=_("E-mail address"),
        max_length=254,
        help_text=_(
            "We send a link to this address; nothing else is sent until you follow it."
        ),
    )
    field_order = ["email", "topics", "audiences", "consent"]

    def __init__(self, *args, **kwargs) -> None:
        kwargs["needs_consent"] = True
        super().__init__(*args, **kwargs)
        self.fields["email"].widget.attrs.update(
            {"autocomplete": "email", "inputmode": "email"}
        )
        self.order_fields(self.field_order)

    def clean(self):
        cleaned_data = super().clean()
        if not cleaned_data.get("topics") and "topics" not in self.errors:
            self.add_error("topics", _("Tick at least one topic to subscribe."))
        elif not cleaned_data.get("consent") and "consent" not in self.errors:
            self.add_error(
                "consent", _("Tick this box to agree to receive the announcements.")
            )
        return cleaned_data

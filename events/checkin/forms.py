"""The check-in form: one large field for the code, typed or scanned."""

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from events.checkin.selectors import code_from_input


class CheckInReversalForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Why is this check-in reversed?"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy(
            "E.g. the wrong code was scanned. The reason is kept with the "
            "registration, the hours ledger and the audit log, and is sent to the "
            "participant if a certificate is revoked."
        ),
        error_messages={"required": gettext_lazy("Say why the check-in is reversed.")},
    )


class CheckInForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Check-in code"),
        max_length=500,
        help_text=gettext_lazy(
            "Type the code under the participant's QR code, or scan the QR code: "
            "its whole link works too."
        ),
        widget=forms.TextInput(
            attrs={
                "autocomplete": "off",
                "autocapitalize": "none",
                "autocorrect": "off",
                "spellcheck": "false",
                "enterkeyhint": "go",
                "class": "checkin__code",
            }
        ),
        required=False,
    )
    # A person picked by name or phone (their registration's id), instead.
    registration = forms.IntegerField(
        required=False, min_value=1, max_value=2**63 - 1, widget=forms.HiddenInput
    )
    # When a scan queued on an offline phone was made (ISO 8601, UTC).
    scanned_at = forms.DateTimeField(required=False, widget=forms.HiddenInput)
    # … and when the phone sent it, by the same clock.
    sent_at = forms.DateTimeField(required=False, widget=forms.HiddenInput)

    def clean_code(self) -> str:
        return code_from_input(self.cleaned_data.get("code") or "")

    def clean(self) -> dict:
        data = super().clean() or {}
        if not data.get("code") and not data.get("registration"):
            self.add_error("code", _("Enter or scan a check-in code."))
        return data


class SearchForm(forms.Form):
    q = forms.CharField(
        label=gettext_lazy("Name, e-mail or mobile phone"),
        max_length=100,
        required=False,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "off",
                "enterkeyhint": "search",
                "type": "search",
                "class": "checkin__search",
            }
        ),
    )


class WalkInForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=100,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        error_messages={"required": gettext_lazy("Enter the person's name.")},
    )
    phone = forms.CharField(
        label=gettext_lazy("Mobile phone"),
        max_length=30,
        widget=forms.TextInput(
            attrs={"type": "tel", "inputmode": "tel", "autocomplete": "off"}
        ),
        error_messages={
            "required": gettext_lazy("Enter the person's mobile phone number.")
        },
    )
    email = forms.EmailField(
        label=gettext_lazy("E-mail address (optional)"),
        required=False,
        help_text=gettext_lazy(
            "With an address, the attendance and hours go to that account, or "
            "to a new one the person claims with “Forgot password”."
        ),
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )

    def clean_phone(self) -> str:
        from events.checkin.services import phone_normalise

        phone = phone_normalise(self.cleaned_data["phone"])
        if not phone:
            raise forms.ValidationError(_("Enter a mobile phone number."))
        return phone

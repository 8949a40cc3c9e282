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
        error_messages={"required": gettext_lazy("Enter or scan a check-in code.")},
    )

    def clean_code(self) -> str:
        code = code_from_input(self.cleaned_data["code"])
        if not code:
            raise forms.ValidationError(_("Enter or scan a check-in code."))
        return code

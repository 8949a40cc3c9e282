"""The public look-up form: a certificate found by its serial number and name."""

from django import forms
from django.utils.translation import gettext_lazy as _

from courses.certificates import selectors


class CertificateLookupForm(forms.Form):
    """Both fields must match one certificate; a mismatch says no more than
    that, so the form cannot be used to learn which serial numbers exist."""

    serial = forms.CharField(
        label=_("Serial number"),
        max_length=30,
        help_text=_("As printed on the certificate, e.g. CQIP-2027-000123."),
        error_messages={
            "required": _("Enter the serial number."),
            "max_length": _("A serial number has at most %(limit_value)d characters."),
        },
        widget=forms.TextInput(
            attrs={
                "autocomplete": "off",
                "spellcheck": "false",
                "autocapitalize": "characters",
            }
        ),
    )
    name = forms.CharField(
        label=_("Name on the certificate"),
        max_length=150,
        help_text=_("The holder's full name, exactly as on the certificate."),
        error_messages={
            "required": _("Enter the name on the certificate."),
            "max_length": _("A name has at most %(limit_value)d characters."),
        },
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    certificate = None

    def clean(self) -> dict:
        """Find the certificate (serial in any case, name exactly after
        trimming); its absence is one message for the whole form."""
        cleaned = super().clean() or {}
        serial, name = cleaned.get("serial"), cleaned.get("name")
        if serial and name:
            self.certificate = selectors.certificate_by_serial_and_name(
                serial=serial, name=name
            )
            if self.certificate is None:
                raise forms.ValidationError(
                    _(
                        "No certificate matches this serial number and name. "
                        "Check both against the certificate and try again."
                    ),
                    code="no_match",
                )
        return cleaned

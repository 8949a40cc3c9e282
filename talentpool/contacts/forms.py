"""Forms for enterprises and contact requests. They check the shape of the
input; the services decide and write."""

from typing import cast

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.models import District, IPType, Term
from talentpool.models import Enterprise, Industry
from talentpool.validators import normalise_credit_code, normalise_phone


class DateInput(forms.DateInput):
    input_type = "date"


def _offer_active_terms(field: forms.Field, model: type[Term]) -> None:
    """Let a vocabulary field offer the active terms; each is labelled in the
    active language, as a term's str() is its label."""
    choice_field = cast(forms.ModelChoiceField, field)
    choice_field.queryset = model._default_manager.filter(is_active=True)


class EnterpriseForm(forms.Form):
    name = forms.CharField(label=_("Name of the enterprise"), max_length=200)
    credit_code = forms.CharField(
        label=_("Unified social credit code"),
        max_length=40,
        help_text=_("统一社会信用代码: 18 characters, on the business licence."),
    )
    district = forms.ModelChoiceField(
        label=_("District"), queryset=District.objects.none(), required=False
    )
    industry = forms.ModelChoiceField(
        label=_("Industry"), queryset=Industry.objects.none(), required=False
    )
    address = forms.CharField(label=_("Address"), max_length=255, required=False)
    contact_name = forms.CharField(label=_("Contact person"), max_length=100)
    contact_email = forms.EmailField(
        label=_("Contact e-mail"),
        help_text=_("Shown only to an expert who accepted your request."),
    )
    contact_phone = forms.CharField(
        label=_("Contact phone"),
        max_length=32,
        required=False,
        help_text=_("Shown only to an expert who accepted your request."),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        _offer_active_terms(self.fields["district"], District)
        _offer_active_terms(self.fields["industry"], Industry)

    def clean_credit_code(self) -> str:
        code = normalise_credit_code(self.cleaned_data["credit_code"])
        if Enterprise.objects.filter(credit_code=code).exists():
            raise ValidationError(
                _("An enterprise with this credit code is already registered.")
            )
        return code

    def clean_contact_phone(self) -> str:
        value = self.cleaned_data["contact_phone"]
        return normalise_phone(value) if value.strip() else ""


class ContactRequestForm(forms.Form):
    need = forms.CharField(
        label=_("What your enterprise needs"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_(
            "Describe the matter without confidential details; the expert "
            "sees this before deciding."
        ),
    )
    ip_type = forms.ModelChoiceField(
        label=_("IP type"), queryset=IPType.objects.none(), required=False
    )
    industry = forms.ModelChoiceField(
        label=_("Industry"), queryset=Industry.objects.none(), required=False
    )
    deadline = forms.DateField(
        label=_("Answer needed by"), required=False, widget=DateInput
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        _offer_active_terms(self.fields["ip_type"], IPType)
        _offer_active_terms(self.fields["industry"], Industry)

    def clean_deadline(self):
        deadline = self.cleaned_data["deadline"]
        if deadline is not None and deadline < timezone.localdate():
            raise ValidationError(_("The date to answer by is in the past."))
        return deadline


class AcceptForm(forms.Form):
    no_conflict = forms.BooleanField(
        label=_(
            "I declare that I have no conflict of interest with this enterprise "
            "in this matter."
        ),
        error_messages={
            "required": _(
                "Declare that you have no conflict of interest to accept the request."
            )
        },
    )
    note = forms.CharField(label=_("Note to the enterprise"), required=False)


class DeclineForm(forms.Form):
    note = forms.CharField(label=_("Note to the enterprise"), required=False)

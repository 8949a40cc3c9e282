"""Forms of the application and of the expert's own profile.

Vocabulary fields offer the active terms by code, labelled in the active
language; the whole profile is then checked by
talentpool.applications.services.profile_data_check, the same check the
services run, so the form and the services never disagree.
"""

from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portal.models import Term
from talentpool.applications.services import (
    CONSENT_WORDING,
    MAX_QUALIFICATIONS,
    MULTI_TERMS,
    SINGLE_TERMS,
    profile_data_check,
)
from talentpool.models import Expert, ExpertCategory
from talentpool.validators import normalise_licence_number


def _choices(model: type[Term], *, blank: bool = False) -> list[tuple[str, str]]:
    choices = [
        (term.code, term.label)
        for term in model._default_manager.filter(is_active=True)
    ]
    return [("", "—"), *choices] if blank else choices


def _choice_field(field: forms.Field) -> forms.ChoiceField:
    """A field declared as a (multiple) choice field, typed as one."""
    return cast(forms.ChoiceField, field)


class ProfileForm(forms.Form):
    """The profile fields (qualifications are a formset beside it)."""

    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)
    categories = forms.MultipleChoiceField(
        label=gettext_lazy("Categories"), widget=forms.CheckboxSelectMultiple
    )
    ip_types = forms.MultipleChoiceField(
        label=gettext_lazy("IP types"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    services = forms.MultipleChoiceField(
        label=gettext_lazy("Services"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    industries = forms.MultipleChoiceField(
        label=gettext_lazy("Industries"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    district = forms.ChoiceField(label=gettext_lazy("District"), required=False)
    organisation = forms.CharField(
        label=gettext_lazy("Organisation"),
        max_length=200,
        required=False,
        help_text=gettext_lazy(
            "The law firm, agency, office or institute you work for."
        ),
    )
    languages = forms.MultipleChoiceField(
        label=gettext_lazy("Working languages"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    years_of_practice = forms.IntegerField(
        label=gettext_lazy("Years of practice"),
        min_value=0,
        max_value=80,
        required=False,
    )
    talent_tier = forms.ChoiceField(label=gettext_lazy("Talent tier"), required=False)
    biography = forms.CharField(
        label=gettext_lazy("Biography"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    email = forms.EmailField(
        label=gettext_lazy("E-mail"),
        required=False,
        help_text=gettext_lazy(
            "Private: shown only to an enterprise whose contact request you accept."
        ),
    )
    phone = forms.CharField(
        label=gettext_lazy("Phone"),
        max_length=32,
        required=False,
        help_text=gettext_lazy(
            "Private: shown only to an enterprise whose contact request you accept."
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for key, model in MULTI_TERMS.items():
            _choice_field(self.fields[key]).choices = _choices(model)
        for key, model in SINGLE_TERMS.items():
            _choice_field(self.fields[key]).choices = _choices(model, blank=True)


class ConsentForm(forms.Form):
    """The separate, unticked consent to publication, with its wording."""

    publication_consent = forms.BooleanField(
        label=gettext_lazy("I agree that my public profile is published."),
        required=False,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["publication_consent"].help_text = str(CONSENT_WORDING)


class QualificationForm(forms.Form):
    category = forms.ChoiceField(label=gettext_lazy("Category"), required=False)
    title = forms.CharField(
        label=gettext_lazy("Title"),
        max_length=200,
        required=False,
        help_text=gettext_lazy("For example 律师执业证 or 专利代理师资格证."),
    )
    licence_number = forms.CharField(
        label=gettext_lazy("Licence number"), max_length=60, required=False
    )
    issued_by = forms.CharField(
        label=gettext_lazy("Issued by"), max_length=200, required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _choice_field(self.fields["category"]).choices = _choices(
            ExpertCategory, blank=True
        )

    def clean_licence_number(self) -> str:
        value = self.cleaned_data["licence_number"]
        return normalise_licence_number(value) if value.strip() else ""


QualificationFormSet = forms.formset_factory(
    QualificationForm,
    extra=1,
    max_num=MAX_QUALIFICATIONS,
    validate_max=True,
    absolute_max=MAX_QUALIFICATIONS,
)


class ProfileForms:
    """The profile form, its qualifications and (for a new application) the
    consent, validated together; `data` is the checked profile."""

    def __init__(
        self,
        post: Any = None,
        *,
        initial: dict[str, Any] | None = None,
        expert: Expert | None = None,
        with_consent: bool = False,
    ) -> None:
        initial = dict(initial or {})
        qualifications = initial.pop("qualifications", [])
        self.expert = expert
        self.form = ProfileForm(post, initial=initial)
        self.qualifications = QualificationFormSet(
            post, initial=qualifications or None, prefix="qualifications"
        )
        self.consent = ConsentForm(post) if with_consent else None
        self.qualification_errors: list[str] = []
        self.data: dict[str, Any] = {}

    def is_valid(self) -> bool:
        valid = self.form.is_valid() & self.qualifications.is_valid()
        if self.consent is not None:
            valid &= self.consent.is_valid()
        if not valid:
            self.qualification_errors += [
                str(error) for error in self.qualifications.non_form_errors()
            ]
            return False
        data = {**self.form.cleaned_data}
        data["qualifications"] = [
            row for row in self.qualifications.cleaned_data if row and any(row.values())
        ]
        try:
            self.data = profile_data_check(data, expert=self.expert)
        except ValidationError as problem:
            for key, messages in problem.message_dict.items():
                if key == "qualifications":
                    self.qualification_errors += messages
                elif key in self.form.fields:
                    for message in messages:
                        self.form.add_error(key, message)
                else:
                    for message in messages:
                        self.form.add_error(None, message)
            return False
        return True

    @property
    def consent_given(self) -> bool:
        return bool(
            self.consent and self.consent.cleaned_data.get("publication_consent")
        )

    def add_error(self, message: str) -> None:
        self.form.add_error(None, message)

    @property
    def has_errors(self) -> bool:
        return bool(
            self.form.errors
            or self.qualification_errors
            or any(self.qualifications.errors)
        )

    @staticmethod
    def error_summary_title() -> str:
        return _("The form has errors: nothing was saved.")


class ReasonForm(forms.Form):
    """The reviewer's decision and reason."""

    decision = forms.ChoiceField(
        label=gettext_lazy("Decision"),
        choices=[
            ("approve", gettext_lazy("Approve")),
            ("request_changes", gettext_lazy("Request changes")),
            ("reject", gettext_lazy("Reject")),
        ],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy(
            "Required to reject or to request changes; e-mailed to the applicant."
        ),
    )

    def clean(self) -> dict[str, Any]:
        cleaned_data = super().clean() or {}
        if (
            cleaned_data.get("decision") in ("reject", "request_changes")
            and not (cleaned_data.get("reason") or "").strip()
        ):
            self.add_error(
                "reason", _("Say why the application is rejected or what must change.")
            )
        return cleaned_data

"""Forms for accounts, profiles, search and the policy library."""

from typing import Any, cast

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from wagtail.users.forms import UserCreationForm, UserEditForm

from portal.models import Audience, District, PolicyIndexPage
from portal.validators import validate_printable

User = get_user_model()


class TermChoiceField(forms.ModelChoiceField):
    """A vocabulary select that shows the label in the active language."""

    def label_from_instance(self, obj) -> str:
        return obj.label


def _audience_field(required: bool) -> TermChoiceField:
    return TermChoiceField(
        queryset=Audience.objects.filter(is_active=True),
        label=_("Audience group"),
        required=required,
        empty_label=_("— choose —"),
    )


class SignupExtraForm(forms.Form):
    """What allauth's sign-up form asks besides e-mail and password."""

    real_name = forms.CharField(
        label=_("Real name"),
        max_length=100,
        help_text=_("As it should appear on certificates."),
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
        validators=[validate_printable],
    )
    audience = _audience_field(required=False)
    # Required: a sign-up without it (a browser's or a script's) is refused
    # and writes no account. The label links the notice (__init__).
    privacy_consent = forms.BooleanField(
        error_messages={
            "required": _(
                "Please read the privacy notice and tick the box to agree to it."
            )
        },
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["privacy_consent"].label = format_html(
            gettext("I have read and agree to the {notice}."),
            notice=format_html(
                '<a href="{}" target="_blank" rel="noopener">{}</a>',
                reverse("privacy_notice"),
                gettext("privacy notice"),
            ),
        )

    def signup(self, request: HttpRequest, user) -> None:
        """Called by allauth inside its sign-up transaction: the profile and
        the consent to the privacy notice are written with the account."""
        from portal import services

        user.real_name = self.cleaned_data["real_name"].strip()
        user.audience = self.cleaned_data.get("audience")
        user.language = _request_language(request)
        user.save(update_fields=["real_name", "audience", "language"])
        services.privacy_consent_record(user=user)


def _request_language(request: HttpRequest) -> str:
    language = getattr(request, "LANGUAGE_CODE", settings.LANGUAGE_CODE)
    return language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


class ProfileForm(forms.ModelForm):
    """The user's own profile."""

    audience = _audience_field(required=False)
    district = TermChoiceField(
        queryset=District.objects.filter(is_active=True),
        label=_("District"),
        required=False,
        empty_label=_("— choose —"),
    )
    language = forms.ChoiceField(
        label=_("Preferred language"),
        choices=settings.LANGUAGES,
        help_text=_("Used for e-mails and certificates."),
    )

    class Meta:
        model = User
        fields = [
            "real_name",
            "audience",
            "organisation",
            "district",
            "job_title",
            "language",
        ]
        widgets = {
            "real_name": forms.TextInput(attrs={"autocomplete": "name"}),
            "organisation": forms.TextInput(attrs={"autocomplete": "organization"}),
            "job_title": forms.TextInput(attrs={"autocomplete": "organization-title"}),
        }

    def clean_real_name(self) -> str:
        name = self.cleaned_data["real_name"].strip()
        if not name:
            raise forms.ValidationError(_("Please enter your real name."))
        validate_printable(name)
        return name


class AccountDeleteForm(forms.Form):
    """Asks for the password and an explicit confirmation before deleting."""

    password = forms.CharField(
        label=_("Current password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    confirm = forms.BooleanField(
        label=_("I understand that my account and profile will be deleted for good."),
    )

    def __init__(self, *args, user, **kwargs) -> None:
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError(_("The password is not correct."))
        return password


class SiteSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Search the site"),
        max_length=100,
        error_messages={
            "max_length": _("Please use at most %(limit_value)d characters."),
        },
    )


class PolicyFilterForm(forms.Form):
    """Filters of the policy library; every field optional, bad values reported."""

    q = forms.CharField(label=_("Keywords"), max_length=100, required=False)
    issuer = forms.ChoiceField(label=_("Issuing authority"), required=False)
    year = forms.TypedChoiceField(
        label=_("Year issued"), required=False, coerce=int, empty_value=None
    )

    def __init__(self, *args, library: PolicyIndexPage, **kwargs) -> None:
        from portal import selectors

        super().__init__(*args, **kwargs)
        issuers, years = selectors.policy_facets(library=library)
        issuer = cast(forms.ChoiceField, self.fields["issuer"])
        issuer.choices = [("", _("All authorities"))] + [(i, i) for i in issuers]
        year = cast(forms.TypedChoiceField, self.fields["year"])
        year.choices = [("", _("All years"))] + [(y, str(y)) for y in years]


class PrintableNameMixin:
    """The real name goes on certificates: refuse what they cannot print."""

    cleaned_data: dict[str, Any]  # mixed into a form, which has it

    def clean_real_name(self) -> str:
        name = self.cleaned_data["real_name"].strip()
        validate_printable(name)
        return name


class PortalUserCreationForm(PrintableNameMixin, UserCreationForm):
    first_name = None
    last_name = None

    class Meta(UserCreationForm.Meta):
        fields = {"email", "real_name", "is_superuser", "groups"}


class PortalUserEditForm(PrintableNameMixin, UserEditForm):
    first_name = None
    last_name = None

    class Meta(UserEditForm.Meta):
        fields = {"email", "real_name", "is_active", "is_superuser", "groups"}

"""Forms of the certificate admin: the template editor's extra check, and the
revoke, reissue and bulk-run steps."""

import re
from typing import Any, cast

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wagtail.admin.forms import WagtailAdminModelForm

from courses.certificates import rendering
from courses.models import TrainingClass

#: The form keys of the signature choosers in the signatories StreamField.
SIGNATURE_KEY = re.compile(r"signatories-\d+-value-signature")


class CertificateTemplateForm(WagtailAdminModelForm):
    """The snippet form of a certificate template.

    The model's clean() already refuses unknown placeholders, field by field.
    This adds what only the files can tell: a background or signature image
    that cannot be read is refused here, when the editor saves, instead of
    failing the certificate task later. The seal belongs to the certificate
    settings, not to the template, so a broken seal does not block the
    template; the preview names it.
    """

    def _post_clean(self) -> None:
        super()._post_clean()  # copies the cleaned data onto self.instance
        if self.errors:
            return  # a placeholder or field problem is said first, once
        content = rendering.template_content(template=self.instance)
        broken = set()
        background = content["background"]
        if errors := rendering.asset_errors({"background": background}):
            self.add_error("background", errors)
            broken.add(str(background["id"]))
        for signatory in content["signatories"]:
            if errors := rendering.asset_errors({"signatories": [signatory]}):
                self.add_error(None, errors)
                broken.add(str(signatory["signature"]["id"]))
        if broken:
            self._forget_images(broken)

    def _forget_images(self, image_ids: set[str]) -> None:
        """Show the form again without the unreadable images chosen: Wagtail's
        chooser would try to make a thumbnail of them and fail. The editor
        sees the error and chooses (or uploads) the image again."""
        data = self.data.copy()
        for key, value in list(data.items()):
            chooser = key == "background" or SIGNATURE_KEY.fullmatch(key)
            if chooser and value in image_ids:
                data[key] = ""
        self.data: QueryDict = data  # a copy of the submitted POST data


class RevokeForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason for revocation"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy(
            "Shown to anyone who checks the certificate, with the date."
        ),
    )

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError(_("Say why the certificate is revoked."))
        return reason


class ReissueForm(forms.Form):
    note = forms.CharField(
        label=gettext_lazy("Note (optional)"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy(
            "Why it is reissued, for the certificate's history. The learner "
            "does not see it."
        ),
    )


class TrainingClassChoiceField(forms.ModelChoiceField):
    """A training class shown with its dates."""

    def label_from_instance(self, obj: TrainingClass) -> str:
        return f"{obj.name} ({obj.starts_on:%Y-%m-%d} – {obj.ends_on:%Y-%m-%d})"


class BatchStartForm(forms.Form):
    training_class = TrainingClassChoiceField(
        label=gettext_lazy("Training class"),
        queryset=TrainingClass.objects.order_by("-starts_on", "name"),
        empty_label=gettext_lazy("Choose a training class"),
    )


class SourceBatchStartForm(forms.Form):
    """A bulk run for one source's requests (an event's attendance), chosen
    by the value "<source type>:<source id>" of ``services.batch_sources``."""

    source = forms.ChoiceField(
        label=gettext_lazy("Achievements to certify"),
        error_messages={
            "invalid_choice": gettext_lazy(
                "No certificate is owed for this yet (for an event: nobody has "
                "been checked in with a certificate to come), so there is "
                "nothing to certify."
            )
        },
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from courses.certificates import services

        super().__init__(*args, **kwargs)
        self.sources = {row["value"]: row for row in services.batch_sources()}
        cast(forms.ChoiceField, self.fields["source"]).choices = [
            (value, f"{row['type_label']} · {row['title']}")
            for value, row in self.sources.items()
        ]

    def clean_source(self) -> dict:
        return self.sources[self.cleaned_data["source"]]

"""The admin's bulk action on the expert listing: "Record paper consent".

Staff tick experts, give the date the consent forms were signed and the
forms' references (one for the whole batch, or one per expert), and the
consents are recorded by
talentpool.applications.services.paper_consents_record: everything is
checked first, then written in one transaction and logged on each expert's
history. Only staff who may change experts reach it (403 otherwise).
Registered in talentpool/wagtail_hooks.py.
"""

from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from wagtail.admin import messages
from wagtail.admin.widgets import AdminDateInput
from wagtail.snippets.bulk_actions.snippet_bulk_action import SnippetBulkAction

from portal.errors import permission_denied
from portal.http import signed_in_user
from talentpool.applications.services.consent import (
    PaperConsentRefused,
    paper_consents_record,
)
from talentpool.imports import MAX_CONSENT_REF
from talentpool.models import Expert


def reference_field_name(expert: Expert) -> str:
    return f"reference_{expert.pk}"


class PaperConsentForm(forms.Form):
    """The date, and a reference for each expert: the expert's own field,
    or else the one given for the batch."""

    on = forms.DateField(
        label=gettext_lazy("Date the consent forms were signed"),
        widget=AdminDateInput,
    )
    reference = forms.CharField(
        label=gettext_lazy("Consent form reference for all"),
        required=False,
        max_length=MAX_CONSENT_REF,
        help_text=gettext_lazy(
            "Used for every expert below whose own reference is left empty."
        ),
    )

    def __init__(self, *args: Any, experts: list[Expert], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.experts = experts
        for expert in experts:
            self.fields[reference_field_name(expert)] = forms.CharField(
                label=expert.name,
                required=False,
                max_length=MAX_CONSENT_REF,
            )

    def expert_fields(self) -> list[tuple[Expert, forms.BoundField]]:
        return [(expert, self[reference_field_name(expert)]) for expert in self.experts]

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned_data = self.cleaned_data
        batch = (cleaned_data.get("reference") or "").strip()
        for expert in self.experts:
            name = reference_field_name(expert)
            if name in self.errors:
                continue
            if not ((cleaned_data.get(name) or "").strip() or batch):
                self.add_error(
                    name,
                    _("Give the reference of the consent form of %(name)s.")
                    % {"name": expert.name},
                )
        return cleaned_data

    def references(self) -> dict[int, str]:
        """{expert id: reference} once the form is valid."""
        batch = self.cleaned_data["reference"].strip()
        return {
            expert.pk: self.cleaned_data[reference_field_name(expert)].strip() or batch
            for expert in self.experts
        }


class RecordPaperConsentBulkAction(SnippetBulkAction):
    display_name = gettext_lazy("Record paper consent")
    action_type = "record_paper_consent"
    aria_label = gettext_lazy("Record consent signed on paper for the selected experts")
    template_name = "talentpool/admin/paper_consent_bulk.html"
    action_priority = 50
    models = [Expert]

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        # Without the right to change experts there is nothing to see: 403
        # (not Wagtail's redirect to the dashboard, nor a page listing the
        # experts as out of reach).
        if not self.permission_policy.user_has_permission(request.user, "change"):
            return permission_denied(request)
        return super().dispatch(request, *args, **kwargs)

    def check_perm(self, obj: Expert) -> bool:
        return self.permission_policy.user_has_permission_for_instance(
            self.request.user, "change", obj
        )

    def _experts(self) -> list[Expert]:
        if not hasattr(self, "_actionable"):
            self._actionable = self.get_actionable_objects()
        return self._actionable[0]

    def get_form(self, form_class: Any = None) -> PaperConsentForm:
        return PaperConsentForm(experts=self._experts(), **self.get_form_kwargs())

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        form = context["form"]
        context["expert_fields"] = form.expert_fields()
        return context

    def form_valid(self, form: PaperConsentForm) -> HttpResponse:
        try:
            count = paper_consents_record(
                experts=self._experts(),
                references=form.references(),
                on=form.cleaned_data["on"],
                by=signed_in_user(self.request),
            )
        except PaperConsentRefused as refused:
            for problem in refused.problems:
                form.add_error(None, problem)
            return self.form_invalid(form)
        messages.success(
            self.request,
            ngettext(
                "%(count)s expert's consent recorded.",
                "%(count)s experts' consent recorded.",
                count,
            )
            % {"count": count},
        )
        return redirect(self.next_url)

    @classmethod
    def execute_action(cls, objects: Any, **kwargs: Any) -> tuple[int, int]:
        # Not used: form_valid records the consents through the service.
        raise NotImplementedError

"""Enterprises, contact requests and the disclosure log in the admin.

Reviewers verify or reject an enterprise (with a reason) on its review
screen, through the services, which log it and e-mail the registering user.
Contact requests and disclosures are records: administrators read them,
nobody adds, edits or deletes them here.
"""

from typing import cast

from django import forms
from django.contrib.admin.utils import quote
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import FormView

from wagtail.admin import messages
from wagtail.admin.panels import FieldPanel, FieldRowPanel, ObjectList
from wagtail.admin.ui.tables import Column
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.views.generic.permissions import PermissionCheckedMixin
from wagtail.admin.widgets.button import Button
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.permissions import register_permission_policy
from wagtail.snippets.views import snippets as snippet_views
from wagtail.snippets.views.snippets import SnippetViewSet

from portal.http import signed_in_user
from portal.models import User
from talentpool.contacts.services import (
    ContactError,
    enterprise_reject,
    enterprise_verify,
)
from talentpool.models import ContactDisclosure, ContactRequest, Enterprise


class _LimitedPolicy(ModelPermissionPolicy):
    """Only the listed actions, not even for a superuser."""

    allowed: frozenset[str] = frozenset()

    def user_has_permission(self, user, action):
        return action in self.allowed and super().user_has_permission(user, action)

    def users_with_any_permission(self, actions):
        actions = [action for action in actions if action in self.allowed]
        if not actions:
            return User.objects.none()
        return super().users_with_any_permission(actions)


class EnterprisePolicy(_LimitedPolicy):
    """Enterprises are registered by their users and never deleted: a false
    one is rejected, with a reason, and keeps its history."""

    allowed = frozenset({"change", "view"})


class RecordPolicy(_LimitedPolicy):
    """Contact requests and disclosures are read, never written, here."""

    allowed = frozenset({"view"})


register_permission_policy(Enterprise, EnterprisePolicy(Enterprise))
register_permission_policy(ContactRequest, RecordPolicy(ContactRequest))
register_permission_policy(ContactDisclosure, RecordPolicy(ContactDisclosure))


# --- review ---------------------------------------------------------------------


class EnterpriseReviewForm(forms.Form):
    decision = forms.ChoiceField(
        label=gettext_lazy("Decision"),
        choices=[
            ("verify", gettext_lazy("Verify")),
            ("reject", gettext_lazy("Reject")),
        ],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy(
            "Required to reject; sent to the user who registered the enterprise."
        ),
    )

    def clean(self):
        cleaned_data = super().clean()
        if (
            cleaned_data.get("decision") == "reject"
            and not cleaned_data.get("reason", "").strip()
        ):
            self.add_error("reason", _("Say why the enterprise is rejected."))
        return cleaned_data


class EnterpriseReviewView(PermissionCheckedMixin, WagtailAdminTemplateMixin, FormView):
    """Verify, or reject with a reason, through the services (which log it
    and e-mail the registering user)."""

    model = Enterprise
    permission_required = "change"
    header_icon = "tick"
    page_title = gettext_lazy("Review the enterprise")
    template_name = "talentpool/contacts/admin/enterprise_review.html"
    form_class = EnterpriseReviewForm
    edit_url_name: str | None = None
    index_url_name: str | None = None

    def setup(self, request: HttpRequest, *args, **kwargs) -> None:
        super().setup(request, *args, **kwargs)
        self.enterprise = get_object_or_404(Enterprise, pk=kwargs["pk"])

    def get_page_subtitle(self) -> str:
        return str(self.enterprise)

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            enterprise=self.enterprise,
            cancel_url=reverse(self.edit_url_name, args=(quote(self.enterprise.pk),)),
            **kwargs,
        )

    def form_valid(self, form: EnterpriseReviewForm) -> HttpResponse:
        # Only signed-in users with the permission reach the admin.
        reviewer = signed_in_user(self.request)
        try:
            if form.cleaned_data["decision"] == "verify":
                enterprise_verify(enterprise=self.enterprise, user=reviewer)
                message = _("%(name)s is verified; its user was e-mailed.")
            else:
                enterprise_reject(
                    enterprise=self.enterprise,
                    user=reviewer,
                    reason=form.cleaned_data["reason"],
                )
                message = _("%(name)s is rejected; its user was e-mailed.")
        except ContactError as error:
            form.add_error(None, str(error))
            return self.form_invalid(form)
        messages.success(self.request, message % {"name": self.enterprise.name})
        # The viewset passes index_url_name (get_common_view_kwargs).
        return redirect(cast(str, self.index_url_name))


class EnterpriseEditView(snippet_views.EditView):
    review_url_name: str | None = None

    @cached_property
    def header_more_buttons(self):
        url = reverse(self.review_url_name, args=(quote(self.object.pk),))
        return [
            *super().header_more_buttons,
            Button(_("Review"), url=url, icon_name="tick", priority=5),
        ]


class EnterpriseViewSet(SnippetViewSet):
    """Every enterprise; filter by verification to see the pending ones.
    Verification is not on the form: it changes on the review screen."""

    model = Enterprise
    icon = "site"
    menu_label = gettext_lazy("Enterprises")
    menu_name = "enterprises"
    edit_view_class = EnterpriseEditView
    inspect_view_enabled = True
    copy_view_enabled = False
    search_backend_name = None
    search_fields = ["name", "credit_code", "contact_name"]
    list_display = [
        "name",
        "credit_code",
        Column(
            "status", label=gettext_lazy("Verification"), accessor="get_status_display"
        ),
        "district",
        "created_at",
    ]
    list_filter = ["status", "district"]
    ordering = ["-created_at", "pk"]
    inspect_view_fields = [
        "name",
        "credit_code",
        "district",
        "industry",
        "address",
        "contact_name",
        "contact_email",
        "contact_phone",
        "status",
        "status_reason",
        "reviewed_at",
        "reviewed_by",
        "daily_request_cap",
        "registered_by",
        "created_at",
    ]
    edit_handler = ObjectList(
        [
            FieldPanel("name"),
            FieldPanel("credit_code"),
            FieldRowPanel([FieldPanel("district"), FieldPanel("industry")]),
            FieldPanel("address"),
            FieldPanel("contact_name"),
            FieldRowPanel([FieldPanel("contact_email"), FieldPanel("contact_phone")]),
            FieldPanel("daily_request_cap"),
        ]
    )

    def get_common_view_kwargs(self, **kwargs):
        return super().get_common_view_kwargs(
            review_url_name=self.get_url_name("review"), **kwargs
        )

    @property
    def review_view(self):
        return self.construct_view(EnterpriseReviewView)

    def get_urlpatterns(self):
        return [
            *super().get_urlpatterns(),
            path("review/<int:pk>/", self.review_view, name="review"),
        ]


class ContactRequestViewSet(SnippetViewSet):
    model = ContactRequest
    icon = "mail"
    menu_label = gettext_lazy("Contact requests")
    menu_name = "contact-requests"
    inspect_view_enabled = True
    copy_view_enabled = False
    search_backend_name = None
    search_fields = ["enterprise__name", "expert__name"]
    list_display = [
        Column("enterprise", label=gettext_lazy("Enterprise")),
        Column("expert", label=gettext_lazy("Expert")),
        Column("status", label=gettext_lazy("Status"), accessor="get_status_display"),
        "created_at",
        "responded_at",
    ]
    list_filter = ["status"]
    ordering = ["-created_at", "-pk"]
    inspect_view_fields = [
        "enterprise",
        "sender",
        "expert",
        "need",
        "ip_type",
        "industry",
        "deadline",
        "status",
        "no_conflict_declared_at",
        "response_note",
        "responded_at",
        "created_at",
    ]

    def get_queryset(self, request):
        return ContactRequest.objects.select_related("enterprise", "expert")


class ContactDisclosureViewSet(SnippetViewSet):
    """The log of every showing of contact details: who saw whose, when."""

    model = ContactDisclosure
    icon = "view"
    menu_label = gettext_lazy("Disclosure log")
    menu_name = "contact-disclosures"
    inspect_view_enabled = True
    copy_view_enabled = False
    list_display = [
        Column("viewer", label=gettext_lazy("Shown to")),
        Column(
            "subject",
            label=gettext_lazy("Whose details"),
            accessor="get_subject_display",
        ),
        Column("request", label=gettext_lazy("Contact request")),
        "disclosed_at",
    ]
    list_filter = ["subject", "disclosed_at"]
    ordering = ["-disclosed_at", "-pk"]
    inspect_view_fields = ["request", "subject", "viewer", "disclosed_at"]

    def get_queryset(self, request):
        return ContactDisclosure.objects.select_related(
            "viewer", "request__enterprise", "request__expert"
        )

"""The review queue in the Wagtail admin ("Talent pool" › "Expert
applications"): open applications oldest first, and a review page with the
proposed values (old → new for a change) and the decision with a reason.

Reviewers need the permission to change experts (talentpool.change_expert):
approving writes the expert, so no narrower permission would mean more.
"""

from typing import Any

from django.contrib.admin.utils import quote
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import FormView, TemplateView

from wagtail.admin import messages
from wagtail.admin.menu import MenuItem
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.views.generic.permissions import PermissionCheckedMixin
from wagtail.admin.viewsets.base import ViewSet
from wagtail.admin.widgets.button import Button

from portal.http import signed_in_user
from talentpool.applications import selectors
from talentpool.applications.forms import ReasonForm
from talentpool.applications.services import (
    ApplicationError,
    application_approve,
    application_reject,
    application_request_changes,
    expert_reconfirm,
)
from talentpool.models import Expert, ExpertApplication

PERMISSION = "talentpool.change_expert"
URL_NAMESPACE = "talentpool_applications"


class ReviewerMixin(PermissionCheckedMixin, WagtailAdminTemplateMixin):
    model = Expert
    permission_required = "change"
    header_icon = "user"

    def get_breadcrumbs_items(self) -> list:
        return [
            *self.breadcrumbs_items,
            {
                "url": reverse(f"{URL_NAMESPACE}:index"),
                "label": capfirst(ExpertApplication._meta.verbose_name_plural),
            },
            {"url": "", "label": self.get_page_title()},
        ]


class ApplicationIndexView(ReviewerMixin, TemplateView):
    """Waiting applications, oldest first; ?show=all lists every
    application, ?expert=<id> one expert's (its verification history)."""

    template_name = "talentpool/applications/admin/index.html"
    page_title = gettext_lazy("Expert applications")

    def get_queryset(self) -> QuerySet[ExpertApplication]:
        expert_id = self.request.GET.get("expert", "")
        if expert_id.isdigit():
            return (
                ExpertApplication.objects.filter(expert_id=int(expert_id))
                .select_related("applicant", "expert", "decided_by")
                .order_by("-submitted_at", "-pk")
            )
        if self.request.GET.get("show") == "all":
            return ExpertApplication.objects.select_related(
                "applicant", "expert", "decided_by"
            ).order_by("-submitted_at", "-pk")[:500]
        return selectors.review_queue().select_related("decided_by")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(
            applications=list(self.get_queryset()),
            show_all=self.request.GET.get("show") == "all",
            expert_id=self.request.GET.get("expert", ""),
            **kwargs,
        )


class ApplicationReviewView(ReviewerMixin, FormView):
    """One application: what it proposes and the decision."""

    template_name = "talentpool/applications/admin/review.html"
    page_title = gettext_lazy("Review an application")
    form_class = ReasonForm

    def setup(self, request: HttpRequest, *args: Any, **kwargs: Any) -> None:
        super().setup(request, *args, **kwargs)
        self.application = get_object_or_404(
            ExpertApplication.objects.select_related(
                "applicant", "expert", "decided_by"
            ),
            pk=kwargs["pk"],
        )

    def get_page_subtitle(self) -> str:
        return str(self.application.data.get("name", ""))

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        expert = self.application.expert
        return super().get_context_data(
            application=self.application,
            rows=selectors.proposal_rows(self.application),
            can_decide=self.application.status == ExpertApplication.Status.SUBMITTED,
            can_reject=self.application.is_open,
            expert_url=(
                reverse(
                    "wagtailsnippets_talentpool_expert:edit", args=(quote(expert.pk),)
                )
                if expert
                else ""
            ),
            history_url=(
                reverse(
                    "wagtailsnippets_talentpool_expert:history",
                    args=(quote(expert.pk),),
                )
                if expert
                else ""
            ),
            expert_applications_url=(
                reverse(f"{URL_NAMESPACE}:index") + f"?expert={expert.pk}"
                if expert
                else ""
            ),
            **kwargs,
        )

    def form_valid(self, form: ReasonForm) -> HttpResponse:
        decision = form.cleaned_data["decision"]
        reason = form.cleaned_data["reason"]
        # Only signed-in users with the permission reach the admin.
        reviewer = signed_in_user(self.request)
        try:
            if decision == "approve":
                application_approve(application=self.application, reviewer=reviewer)
                message = _("The application of %(name)s is approved.")
            elif decision == "reject":
                application_reject(
                    application=self.application,
                    reviewer=reviewer,
                    reason=reason,
                )
                message = _("The application of %(name)s is rejected.")
            else:
                application_request_changes(
                    application=self.application,
                    reviewer=reviewer,
                    reason=reason,
                )
                message = _("%(name)s is asked to change the application.")
        except ApplicationError as error:
            form.add_error(None, str(error))
            return self.form_invalid(form)
        messages.success(
            self.request, message % {"name": self.application.data.get("name", "")}
        )
        return redirect(f"{URL_NAMESPACE}:index")


class ExpertConfirmView(ReviewerMixin, TemplateView):
    """Staff record that an expert confirmed the profile is current (an
    imported expert without an account answers by e-mail or phone)."""

    template_name = "talentpool/applications/admin/confirm.html"
    page_title = gettext_lazy("Record a confirmation")

    def setup(self, request: HttpRequest, *args: Any, **kwargs: Any) -> None:
        super().setup(request, *args, **kwargs)
        self.expert = get_object_or_404(Expert, pk=kwargs["pk"])

    def get_page_subtitle(self) -> str:
        return str(self.expert)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(
            expert=self.expert,
            cancel_url=reverse(
                "wagtailsnippets_talentpool_expert:edit", args=(quote(self.expert.pk),)
            ),
            **kwargs,
        )

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        # Only signed-in users with the permission reach the admin.
        expert_reconfirm(expert=self.expert, user=signed_in_user(request))
        messages.success(
            request,
            _("%(name)s is confirmed as current and listed again if lapsed.")
            % {"name": self.expert.name},
        )
        return redirect("wagtailsnippets_talentpool_expert:edit", quote(self.expert.pk))


def expert_listing_buttons(expert: Expert, user: Any) -> list[Button]:
    """ "Applications" and "Record a confirmation" in an expert's row."""
    if not user.has_perm(PERMISSION):
        return []
    return [
        Button(
            _("Applications"),
            url=reverse(f"{URL_NAMESPACE}:index") + f"?expert={expert.pk}",
            icon_name="tasks",
            priority=60,
        ),
        Button(
            _("Record a confirmation"),
            url=reverse(f"{URL_NAMESPACE}:confirm", args=(expert.pk,)),
            icon_name="check",
            priority=61,
        ),
    ]


class ReviewerMenuItem(MenuItem):
    def is_shown(self, request: HttpRequest) -> bool:
        return request.user.has_perm(PERMISSION)


class ExpertApplicationViewSet(ViewSet):
    """The review queue, an item of the "Talent pool" menu group."""

    name = URL_NAMESPACE
    url_prefix = "talentpool/applications"
    icon = "tasks"
    menu_label = gettext_lazy("Expert applications")
    menu_name = "expert-applications"
    add_to_admin_menu = False

    @property
    def menu_item_class(self) -> type[MenuItem]:
        return ReviewerMenuItem

    def get_urlpatterns(self) -> list:
        return [
            path("", ApplicationIndexView.as_view(), name="index"),
            path("<int:pk>/", ApplicationReviewView.as_view(), name="review"),
            path("confirm/<int:pk>/", ExpertConfirmView.as_view(), name="confirm"),
        ]

"""Certificate requests: achievements still waiting for their certificate,
with the last error and a Retry."""

from django.contrib.admin.utils import quote
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import View

from wagtail.admin import messages
from wagtail.admin.ui.tables import Column, DateColumn
from wagtail.admin.views import generic
from wagtail.admin.views.generic.permissions import PermissionCheckedMixin

from courses.certificates.admin_views.base import (
    CERTIFICATES,
    REQUESTS,
    ReadOnlyViewSet,
)
from courses.models import Certificate, CertificateRequest


class CertificateRequestInspectView(generic.InspectView):
    retry_url_name: str | None = None
    certificate_inspect_url_name: str | None = None

    def get_user_display_value(self) -> str:
        user = self.object.user
        return f"{user.get_full_name() or '-'} <{user.email}>"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        certificate = (
            Certificate.objects.filter(request=self.object)
            .order_by("-issued_at")
            .first()
        )
        context["certificate"] = certificate
        if certificate:
            context["certificate_url"] = reverse(
                self.certificate_inspect_url_name, args=(quote(certificate.pk),)
            )
        if self.object.status not in (
            CertificateRequest.Status.ISSUED,
            CertificateRequest.Status.CANCELLED,
        ) and self.user_has_permission("change"):
            context["retry_url"] = reverse(
                self.retry_url_name, args=(quote(self.object.pk),)
            )
        return context


class CertificateRequestRetryView(PermissionCheckedMixin, View):
    """Enqueue the issue of a request that is still waiting (POST only)."""

    model = CertificateRequest
    permission_required = "change"
    inspect_url_name: str | None = None

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        from courses.tasks import issue_certificate

        certificate_request = get_object_or_404(CertificateRequest, pk=pk)
        if certificate_request.status == CertificateRequest.Status.ISSUED:
            messages.warning(request, _("This certificate has already been issued."))
        elif certificate_request.status == CertificateRequest.Status.CANCELLED:
            messages.warning(
                request,
                _(
                    "This request was cancelled when its achievement was reversed: "
                    "nothing is issued for it."
                ),
            )
        else:
            issue_certificate.delay_on_commit(certificate_request.pk)
            messages.success(
                request,
                _("The certificate of %(name)s is being issued again.")
                % {"name": certificate_request.user.get_full_name()},
            )
        return redirect(
            reverse(self.inspect_url_name, args=(quote(certificate_request.pk),))
        )


class CertificateRequestViewSet(ReadOnlyViewSet):
    model = CertificateRequest
    name = REQUESTS
    icon = "time"
    menu_label = gettext_lazy("Certificate requests")
    menu_name = "certificate-requests"
    offered_permissions = ("view", "change")
    inspect_view_class = CertificateRequestInspectView
    inspect_template_name = "courses/admin/certificates/request_inspect.html"
    list_filter = ["status"]
    search_fields = ["title", "user__email", "user__real_name"]
    ordering = ["-requested_at"]
    list_per_page = 50
    list_display = [
        "title",
        Column("learner", label=gettext_lazy("Learner"), accessor="user"),
        "status",
        DateColumn(
            "requested_at", label=gettext_lazy("Requested"), sort_key="requested_at"
        ),
        Column(
            "last_error",
            label=gettext_lazy("Last error"),
            accessor=lambda r: Truncator(r.last_error).chars(80) or "-",
        ),
    ]
    inspect_view_fields = [
        "user",
        "title",
        "source_type",
        "hours",
        "achieved_on",
        "status",
        "requested_at",
        "last_error",
    ]

    def get_common_view_kwargs(self, **kwargs):
        return super().get_common_view_kwargs(
            retry_url_name=self.get_url_name("retry"),
            certificate_inspect_url_name=f"{CERTIFICATES}:inspect",
            inspect_url_name=self.get_url_name("inspect"),
            **kwargs,
        )

    def extra_urlpatterns(self) -> list:
        return [
            path(
                "retry/<int:pk>/",
                self.construct_view(CertificateRequestRetryView),
                name="retry",
            )
        ]

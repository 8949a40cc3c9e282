"""Certificates: read-only. A listing with filters and search, and a page per
certificate with every field, its chain, its full history and the two
lifecycle steps, revoke and reissue (the "change certificate" permission)."""

from typing import Any

import django_filters

from django.contrib.admin.utils import quote
from django.db.models import Q, QuerySet
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
)
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import FormView, View

from wagtail.admin import messages
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.ui.tables import Column, DateColumn
from wagtail.admin.views import generic
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.views.generic.permissions import PermissionCheckedMixin
from wagtail.admin.widgets.button import Button, HeaderButton
from wagtail.log_actions import registry as log_registry

from courses.certificates import rendering, services
from courses.certificates.admin_forms import ReissueForm, RevokeForm
from courses.certificates.admin_views.base import (
    CERTIFICATES,
    STATES,
    ReadOnlyViewSet,
    _admin_messages,
)
from courses.models import Certificate, TrainingClass


def _year_choices() -> list[tuple[int, int]]:
    return [
        (day.year, day.year)
        for day in Certificate.objects.datetimes("issued_at", "year", order="DESC")
    ]


class CertificateFilterSet(WagtailFilterSet):
    state = django_filters.ChoiceFilter(
        label=gettext_lazy("Status"),
        choices=list(STATES.items()),
        method="filter_state",
        empty_label=gettext_lazy("All"),
    )
    year = django_filters.ChoiceFilter(
        label=gettext_lazy("Year of issue"),
        choices=_year_choices,
        method="filter_year",
        empty_label=gettext_lazy("All"),
    )
    training_class = django_filters.ModelChoiceFilter(
        label=gettext_lazy("Training class"),
        queryset=TrainingClass.objects.order_by("-starts_on", "name"),
        method="filter_training_class",
        empty_label=gettext_lazy("All"),
    )

    class Meta:
        model = Certificate
        fields: list[str] = []

    def filter_state(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        today = timezone.localdate()
        if value in ("valid", "expired"):
            queryset = queryset.filter(status=Certificate.Status.VALID)
            unexpired = Q(expires_on__isnull=True) | Q(expires_on__gte=today)
            return queryset.filter(unexpired if value == "valid" else ~unexpired)
        return queryset.filter(status=value)

    def filter_year(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(issued_at__year=int(value))

    def filter_training_class(
        self, queryset: QuerySet, name: str, value: TrainingClass
    ) -> QuerySet:
        requests = services.training_class_requests(training_class=value)
        return queryset.filter(request__in=requests)


#: The records a certificate rests on (courses.admin_evidence).
EVIDENCE_URL_NAME = "courses_evidence:certificate"


class CertificateIndexView(generic.IndexView):
    def get_base_queryset(self):
        return super().get_base_queryset().select_related("user")

    def get_list_more_buttons(self, instance):
        buttons = super().get_list_more_buttons(instance)
        if self.user_has_permission("view"):
            buttons.append(
                Button(
                    _("Evidence"),
                    url=reverse(EVIDENCE_URL_NAME, args=(quote(instance.pk),)),
                    icon_name="clipboard-list",
                    priority=40,
                )
            )
        return buttons


class CertificateInspectView(generic.InspectView):
    """Every field of one certificate, its links, chain, history and actions."""

    revoke_url_name: str | None = None
    reissue_url_name: str | None = None
    pdf_url_name: str | None = None
    inspect_url_name: str | None = None

    def get_object(self, queryset=None):
        return get_object_or_404(
            Certificate.objects.select_related(
                "user", "template_version__template", "replaces", "request"
            ),
            pk=self.pk,
        )

    def get_page_subtitle(self) -> str:
        return f"{self.object.serial} · {self.object.learner_name}"

    def get_user_display_value(self) -> str:
        return f"{self.object.user.get_full_name() or '-'} <{self.object.user.email}>"

    def get_status_display_value(self) -> str:
        return str(STATES[self.object.state])

    def get_template_version_display_value(self) -> str:
        version = self.object.template_version
        return _("%(template)s, version of %(date)s") % {
            "template": version.template.name,
            "date": timezone.localtime(version.created_at).strftime("%Y-%m-%d %H:%M"),
        }

    def get_request_display_value(self) -> str:
        request = self.object.request
        return f"{request.get_source_type_display()} · {request.title}"

    def get_language_display_value(self) -> str:
        return _("English") if self.object.language == "en" else _("Chinese")

    def get_signed_display_value(self) -> str:
        return _("Yes") if self.object.signed else _("No")

    @cached_property
    def can_change(self) -> bool:
        return self.user_has_permission("change")

    @cached_property
    def header_buttons(self):
        if not self.user_has_permission("view"):
            return []
        return [
            HeaderButton(
                _("Evidence"),
                url=reverse(EVIDENCE_URL_NAME, args=(quote(self.object.pk),)),
                icon_name="clipboard-list",
            )
        ]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        certificate = self.object
        successor = Certificate.objects.filter(replaces=certificate).first()
        pk = (quote(certificate.pk),)
        context.update(
            certificate=certificate,
            state=certificate.state,
            state_label=STATES[certificate.state],
            verify_url=reverse(
                "certificates:verify", kwargs={"code": certificate.code}
            ),
            pdf_url=reverse(self.pdf_url_name, args=pk) if certificate.pdf else None,
            replaces=certificate.replaces,
            superseded_by=successor,
            history=log_registry.get_logs_for_instance(certificate)
            .select_related("user")
            .order_by("timestamp", "pk"),
            can_act=self.can_change and certificate.status == Certificate.Status.VALID,
            revoke_url=reverse(self.revoke_url_name, args=pk),
            reissue_url=reverse(self.reissue_url_name, args=pk),
            inspect_url_name=self.inspect_url_name,
        )
        return context


class CertificateActionView(
    PermissionCheckedMixin, WagtailAdminTemplateMixin, FormView
):
    """A lifecycle step on one valid certificate: needs "change certificate"."""

    model = Certificate
    permission_required = "change"
    index_url_name: str | None = None
    inspect_url_name: str | None = None

    def setup(self, request: HttpRequest, *args: Any, **kwargs: Any) -> None:
        super().setup(request, *args, **kwargs)
        self.certificate = get_object_or_404(Certificate, pk=kwargs["pk"])

    def get_page_subtitle(self) -> str:
        return f"{self.certificate.serial} · {self.certificate.learner_name}"

    @property
    def inspect_url(self) -> str:
        return reverse(self.inspect_url_name, args=(quote(self.certificate.pk),))

    def get_breadcrumbs_items(self) -> list:
        return [
            *self.breadcrumbs_items,
            {
                "url": reverse(self.index_url_name),
                "label": capfirst(Certificate._meta.verbose_name_plural),
            },
            {"url": self.inspect_url, "label": self.certificate.serial},
            {"url": "", "label": self.get_page_title()},
        ]

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            certificate=self.certificate,
            state_label=STATES[self.certificate.state],
            cancel_url=self.inspect_url,
            **kwargs,
        )

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if self.certificate.status != Certificate.Status.VALID:
            messages.warning(
                request,
                _(
                    "Only a valid certificate can be revoked or reissued; "
                    "this one is %(state)s."
                )
                % {"state": STATES[self.certificate.state]},
            )
            return redirect(self.inspect_url)
        return super().get(request, *args, **kwargs)


class CertificateRevokeView(CertificateActionView):
    template_name = "courses/admin/certificates/revoke.html"
    form_class = RevokeForm
    page_title = gettext_lazy("Revoke certificate")
    header_icon = "cross"

    def form_valid(self, form: RevokeForm) -> HttpResponse:
        try:
            services.certificate_revoke(
                certificate_id=self.certificate.pk,
                reason=form.cleaned_data["reason"],
                by=self.request.user,
            )
        except services.CertificateError as error:
            messages.error(self.request, _admin_messages(error))
            return redirect(self.inspect_url)
        messages.success(
            self.request,
            _("Certificate %(serial)s revoked. Its verification page now says so.")
            % {"serial": self.certificate.serial},
        )
        return redirect(self.inspect_url)


class CertificateReissueView(CertificateActionView):
    template_name = "courses/admin/certificates/reissue.html"
    form_class = ReissueForm
    page_title = gettext_lazy("Reissue certificate")
    header_icon = "repeat"

    def form_valid(self, form: ReissueForm) -> HttpResponse:
        try:
            new = services.certificate_reissue(
                certificate_id=self.certificate.pk,
                by=self.request.user,
                note=form.cleaned_data["note"],
            )
        except (services.CertificateError, rendering.TemplateAssetError) as error:
            messages.error(self.request, _admin_messages(error))
            return redirect(self.inspect_url)
        messages.success(
            self.request,
            _(
                "Certificate %(new)s issued in place of %(old)s; its PDF is being "
                "made and will be e-mailed to the learner."
            )
            % {"new": new.serial, "old": self.certificate.serial},
        )
        return redirect(reverse(self.inspect_url_name, args=(quote(new.pk),)))


class CertificatePdfView(PermissionCheckedMixin, View):
    """The stored PDF, for staff who may view certificates."""

    model = Certificate
    permission_required = "view"

    def get(self, request: HttpRequest, pk: int) -> HttpResponseBase:
        certificate = get_object_or_404(Certificate, pk=pk)
        if not certificate.pdf:
            raise Http404
        try:
            handle = certificate.pdf.open("rb")
        except FileNotFoundError as error:
            raise Http404 from error
        return FileResponse(
            handle,
            content_type="application/pdf",
            filename=f"{certificate.serial}.pdf",
        )


class CertificateViewSet(ReadOnlyViewSet):
    model = Certificate
    name = CERTIFICATES
    icon = "doc-full"
    menu_label = gettext_lazy("Certificates")
    menu_name = "certificates"
    offered_permissions = ("view", "change")
    index_view_class = CertificateIndexView
    inspect_view_class = CertificateInspectView
    inspect_template_name = "courses/admin/certificates/certificate_inspect.html"
    filterset_class = CertificateFilterSet
    search_fields = ["serial", "learner_name", "user__email", "title"]
    ordering = ["-issued_at"]
    list_per_page = 50
    list_display = [
        "serial",
        "learner_name",
        Column("email", label=gettext_lazy("E-mail"), accessor="user.email"),
        "title",
        "hours",
        DateColumn("issued_at", label=gettext_lazy("Issued on"), sort_key="issued_at"),
        Column(
            "state",
            label=gettext_lazy("Status"),
            accessor=lambda certificate: STATES[certificate.state],
        ),
    ]
    inspect_view_fields = [
        "serial",
        "status",
        "learner_name",
        "user",
        "title",
        "hours",
        "achieved_on",
        "issued_at",
        "expires_on",
        "status_changed_at",
        "revoked_reason",
        "language",
        "template_version",
        "request",
        "code",
        "rendered_at",
        "signed",
        "emailed_at",
        "render_attempts",
        "last_error",
        "expiry_reminded_at",
    ]

    def get_common_view_kwargs(self, **kwargs):
        return super().get_common_view_kwargs(
            revoke_url_name=self.get_url_name("revoke"),
            reissue_url_name=self.get_url_name("reissue"),
            pdf_url_name=self.get_url_name("pdf"),
            inspect_url_name=self.get_url_name("inspect"),
            **kwargs,
        )

    def extra_urlpatterns(self) -> list:
        return [
            path(
                "revoke/<int:pk>/",
                self.construct_view(CertificateRevokeView),
                name="revoke",
            ),
            path(
                "reissue/<int:pk>/",
                self.construct_view(CertificateReissueView),
                name="reissue",
            ),
            path("pdf/<int:pk>/", self.construct_view(CertificatePdfView), name="pdf"),
        ]

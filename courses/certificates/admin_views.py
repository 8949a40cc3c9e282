"""The certificate screens of the admin, under one "Certificates" menu.

- Templates: a snippet with Wagtail's live preview (HTML and PDF on sample
  data); a template whose images cannot be read is refused when saved.
- Certificates: read-only. A listing with filters and search, and a page
  per certificate with every field, its chain, its full history and the two
  lifecycle steps, revoke and reissue (the "change certificate" permission).
- Certificate requests: achievements still waiting for their certificate,
  with the last error and a Retry.
- Bulk certificates: a training manager chooses a class, confirms, and
  watches the run's progress ("add bulk certificate run" to start one,
  "view" to watch); past runs stay listed.

Nothing here deletes anything: the permission policies below refuse "delete"
(and "add" where rows are written only by the services) even to superusers.
The writes are the services' (courses.certificates.services); these views
only collect a decision and report what the service said.
"""

from typing import Any

import django_filters

from django.contrib.admin.utils import quote
from django.db.models import Count, Q, QuerySet
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    JsonResponse,
)
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.http import urlencode
from django.utils.text import Truncator, capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import FormView, View

from wagtail.admin import messages
from wagtail.admin.admin_url_finder import ModelAdminURLFinder
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.panels import ObjectList
from wagtail.admin.ui.tables import Column, DateColumn
from wagtail.admin.views import generic
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.views.generic.permissions import PermissionCheckedMixin
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.admin.widgets.button import Button, HeaderButton
from wagtail.log_actions import registry as log_registry
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.snippets.views.snippets import SnippetViewSet

from courses.certificates import rendering, services
from courses.certificates.admin_forms import (
    BatchStartForm,
    CertificateTemplateForm,
    ReissueForm,
    RevokeForm,
    SourceBatchStartForm,
)
from courses.models import (
    Certificate,
    CertificateBatch,
    CertificateBatchItem,
    CertificateRequest,
    CertificateTemplate,
    TrainingClass,
)

#: What a checker is told, as Certificate.state says it.
STATES = {
    "valid": gettext_lazy("Valid"),
    "expired": gettext_lazy("Expired"),
    "revoked": gettext_lazy("Revoked"),
    "superseded": gettext_lazy("Superseded"),
}
#: The admin URL namespaces of the viewsets ("certificates" is the public pages').
CERTIFICATES = "certificate_admin"
REQUESTS = "certificate_requests"
BATCHES = "certificate_batches"
#: Failed learners listed on a bulk run's page (and in its JSON).
FAILURES_SHOWN = 200


# --- permissions ---------------------------------------------------------------


class CertificatePermissionPolicy(ModelPermissionPolicy):
    """The model's permissions, less the actions that never happen here.

    Certificates, requests and runs are written by the services only, and no
    certificate record is ever deleted (docs/architecture.md, decision 2): those actions
    are refused to everyone, superusers included. For certificates, "change"
    is what allows revoking and reissuing.
    """

    def __init__(self, model: Any, *, refused: set[str]) -> None:
        super().__init__(model)
        self.refused = refused

    def user_has_permission(self, user: Any, action: str) -> bool:
        return action not in self.refused and super().user_has_permission(user, action)

    def users_with_any_permission(self, actions: Any) -> Any:
        allowed = [a for a in actions if a not in self.refused]
        if not allowed:
            return super().users_with_any_permission([]).none()
        return super().users_with_any_permission(allowed)


POLICIES = {
    CertificateTemplate: CertificatePermissionPolicy(
        CertificateTemplate, refused={"delete"}
    ),
    Certificate: CertificatePermissionPolicy(Certificate, refused={"add", "delete"}),
    CertificateRequest: CertificatePermissionPolicy(
        CertificateRequest, refused={"add", "delete"}
    ),
    CertificateBatch: CertificatePermissionPolicy(
        CertificateBatch, refused={"change", "delete"}
    ),
}


class ReadOnlyViewSet(ModelViewSet):
    """A listing and a page per object, nothing to add, edit or delete: the
    edit, add, delete, copy and usage URLs are never made, so no link to
    them appears; extra views come from ``extra_urlpatterns``."""

    inspect_view_enabled = True
    copy_view_enabled = False
    add_to_reference_index = False
    #: The Django permissions offered in Wagtail's group settings.
    offered_permissions: tuple[str, ...] = ("view",)

    def get_common_view_kwargs(self, **kwargs):  # type: ignore[no-untyped-def]
        return super().get_common_view_kwargs(
            **{
                "add_url_name": None,
                "edit_url_name": None,
                "delete_url_name": None,
                "usage_url_name": None,
                "history_url_name": None,
                **kwargs,
            }
        )

    def get_urlpatterns(self):  # type: ignore[no-untyped-def]
        conv = self.pk_path_converter
        return [
            path("", self.index_view, name="index"),
            path("results/", self.index_results_view, name="index_results"),
            path(f"inspect/<{conv}:pk>/", self.inspect_view, name="inspect"),
            *self.extra_urlpatterns(),
        ]

    def extra_urlpatterns(self) -> list:
        return []

    @property
    def url_finder_class(self):  # type: ignore[no-untyped-def]
        # Wagtail's site history links each logged object here.
        return type(
            "_InspectURLFinder",
            (ModelAdminURLFinder,),
            {"edit_url_name": self.get_url_name("inspect")},
        )

    def get_permissions_to_register(self):  # type: ignore[no-untyped-def]
        codenames = [
            f"{action}_{self.model_name}" for action in self.offered_permissions
        ]
        return super().get_permissions_to_register().filter(codename__in=codenames)


def _admin_messages(error: Exception) -> str:
    return " ".join(getattr(error, "messages", None) or [str(error)])


# --- templates -----------------------------------------------------------------


class CertificateTemplateViewSet(SnippetViewSet):
    model = CertificateTemplate
    icon = "doc-full-inverse"
    menu_label = gettext_lazy("Templates")
    menu_name = "certificate-templates"
    list_display = ["name", "title", "validity_months", "updated_at"]
    search_fields = ["name", "title", "title_en"]
    copy_view_enabled = True
    edit_handler = ObjectList(
        CertificateTemplate.panels, base_form_class=CertificateTemplateForm
    )


# --- certificates ----------------------------------------------------------------


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
    def get_base_queryset(self):  # type: ignore[no-untyped-def]
        return super().get_base_queryset().select_related("user")

    def get_list_more_buttons(self, instance):  # type: ignore[no-untyped-def]
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

    def get_object(self, queryset=None):  # type: ignore[no-untyped-def]
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
    def header_buttons(self):  # type: ignore[no-untyped-def]
        if not self.user_has_permission("view"):
            return []
        return [
            HeaderButton(
                _("Evidence"),
                url=reverse(EVIDENCE_URL_NAME, args=(quote(self.object.pk),)),
                icon_name="clipboard-list",
            )
        ]

    def get_context_data(self, **kwargs):  # type: ignore[no-untyped-def]
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

    def get_context_data(self, **kwargs):  # type: ignore[no-untyped-def]
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
        return redirect(self.inspect_url_name, quote(new.pk))


class CertificatePdfView(PermissionCheckedMixin, View):
    """The stored PDF, for staff who may view certificates."""

    model = Certificate
    permission_required = "view"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
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

    def get_common_view_kwargs(self, **kwargs):  # type: ignore[no-untyped-def]
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


# --- certificate requests ----------------------------------------------------------


class CertificateRequestInspectView(generic.InspectView):
    retry_url_name: str | None = None
    certificate_inspect_url_name: str | None = None

    def get_user_display_value(self) -> str:
        user = self.object.user
        return f"{user.get_full_name() or '-'} <{user.email}>"

    def get_context_data(self, **kwargs):  # type: ignore[no-untyped-def]
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
        return redirect(self.inspect_url_name, quote(certificate_request.pk))


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

    def get_common_view_kwargs(self, **kwargs):  # type: ignore[no-untyped-def]
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


# --- bulk runs -----------------------------------------------------------------


class BatchIndexView(generic.IndexView):
    def get_base_queryset(self):  # type: ignore[no-untyped-def]
        pending = CertificateBatchItem.Status.PENDING
        failed = CertificateBatchItem.Status.FAILED
        return (
            super()
            .get_base_queryset()
            .select_related("created_by")
            .annotate(
                item_count=Count("items"),
                done_count=Count("items", filter=~Q(items__status=pending)),
                failed_count=Count("items", filter=Q(items__status=failed)),
            )
        )


class BatchStartView(PermissionCheckedMixin, WagtailAdminTemplateMixin, FormView):
    """Choose a class (or, with ``?source=event:<id>``, one source's
    achievements such as an event's attendance), see what a run would do,
    confirm; then the progress."""

    model = CertificateBatch
    permission_required = "add"
    template_name = "courses/admin/certificates/batch_start.html"
    form_class = BatchStartForm
    page_title = gettext_lazy("Issue the certificates of a training class")
    header_icon = "doc-full"
    index_url_name: str | None = None
    inspect_url_name: str | None = None

    @cached_property
    def by_source(self) -> bool:
        """A run for one source's requests rather than for a class."""
        return "source" in self.request.GET or "source" in self.request.POST

    def get_page_title(self) -> str:
        if self.by_source:
            return _("Issue the certificates of an achievement")
        return super().get_page_title()

    def get_form_class(self):  # type: ignore[no-untyped-def]
        return SourceBatchStartForm if self.by_source else BatchStartForm

    def get_breadcrumbs_items(self) -> list:
        return [
            *self.breadcrumbs_items,
            {
                "url": reverse(self.index_url_name),
                "label": capfirst(CertificateBatch._meta.verbose_name_plural),
            },
            {"url": "", "label": self.get_page_title()},
        ]

    def get_initial(self) -> dict:
        return {"training_class": self.request.GET.get("training_class")}

    def get_form(self, form_class=None):  # type: ignore[no-untyped-def]
        form = super().get_form(form_class)
        key = "source" if self.by_source else "training_class"
        if self.request.method == "GET" and self.request.GET.get(key):
            # Arrived from a class's (or an event's) page: check it like a
            # submitted choice.
            form = self.get_form_class()(data={key: self.request.GET[key]})
        return form

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = self.get_form()
        if form.is_bound and form.is_valid():
            return self.render_to_response(self.confirm_context(form))
        return self.render_to_response(self.get_context_data(form=form))

    def get_context_data(self, **kwargs: Any) -> dict:
        context = super().get_context_data(**kwargs)
        context["by_source"] = self.by_source
        if not self.by_source and "confirm" not in context:
            context["sources"] = services.batch_sources()
        return context

    def confirm_context(self, form: Any) -> dict:
        if self.by_source:
            source = form.cleaned_data["source"]
            requests = services.source_requests(
                source_type=source["source_type"], source_key=source["source_key"]
            )
            total = requests.count()
            already = requests.filter(certificates__isnull=False).distinct().count()
            return self.get_context_data(
                form=form,
                source=source,
                confirm=True,
                completions=total,
                already=already,
                to_issue=total - already,
            )
        training_class = form.cleaned_data["training_class"]
        requests = services.training_class_requests(training_class=training_class)
        total = requests.count()
        already = requests.filter(certificates__isnull=False).distinct().count()
        return self.get_context_data(
            form=form,
            training_class=training_class,
            confirm=True,
            members=training_class.members.count(),
            completions=total,
            already=already,
            to_issue=total - already,
        )

    def form_valid(self, form: Any) -> HttpResponse:
        if "confirm" not in self.request.POST:
            return self.render_to_response(self.confirm_context(form))
        if self.by_source:
            source = form.cleaned_data["source"]
            batch = services.certificate_batch_create(
                requests=services.source_requests(
                    source_type=source["source_type"], source_key=source["source_key"]
                ),
                title=source["title"],
                source_type=source["source_type"],
                source_key=source["source_key"],
                by=self.request.user,
            )
        else:
            batch = services.certificate_batch_create(
                training_class=form.cleaned_data["training_class"],
                by=self.request.user,
            )
        messages.success(
            self.request,
            _("The bulk run for %(name)s has started.") % {"name": batch.title},
        )
        return redirect(self.inspect_url_name, quote(batch.pk))


def batch_failures(batch: CertificateBatch) -> list[dict]:
    items = (
        batch.items.filter(status=CertificateBatchItem.Status.FAILED)
        .select_related("request__user")
        .order_by("pk")[:FAILURES_SHOWN]
    )
    return [
        {
            "name": item.request.user.get_full_name(),
            "email": item.request.user.email,
            "title": item.request.title,
            "error": item.error,
        }
        for item in items
    ]


def batch_status(batch: CertificateBatch) -> dict:
    """What the progress page shows, as the page and its JSON both need it."""
    progress = services.batch_progress(batch=batch)
    total, done = progress["total"], progress["done"]
    return {
        **progress,
        "percent": round(100 * done / total) if total else 100,
        "summary": _("%(done)s of %(total)s done") % {"done": done, "total": total},
        "state_label": str(
            CertificateBatch.Status.DONE.label
            if progress["finished"]
            else CertificateBatch.Status.RUNNING.label
        ),
        "failures": batch_failures(batch) if progress["failed"] else [],
    }


class BatchProgressView(generic.InspectView):
    """A run's progress, updated in place by a small script (and by a
    refresh every few seconds without JavaScript) until it is finished."""

    any_permission_required = ["view", "add"]
    progress_url_name: str | None = None
    start_url_name: str | None = None

    def get_fields(self) -> list:
        return []

    def get_page_title(self) -> str:
        return _("Bulk certificates")

    def get_page_subtitle(self) -> str:
        return str(self.object.title)

    def get_context_data(self, **kwargs):  # type: ignore[no-untyped-def]
        context = super().get_context_data(**kwargs)
        batch = self.object
        context.update(
            batch=batch,
            status=batch_status(batch),
            progress_url=reverse(self.progress_url_name, args=(quote(batch.pk),)),
            certificates_url=reverse(f"{CERTIFICATES}:index")
            + (
                f"?training_class={batch.training_class_id}"
                if batch.training_class_id
                # A source's certificates carry its title (searched).
                else "?" + urlencode({"q": batch.title})
            ),
        )
        again = ""
        if batch.training_class_id:
            again = f"?training_class={batch.training_class_id}"
        elif batch.source_type:
            again = f"?source={batch.source_type}:{batch.source_key}"
        if again and self.user_has_permission("add"):
            context["again_url"] = reverse(self.start_url_name) + again
        return context


class BatchProgressJsonView(PermissionCheckedMixin, View):
    model = CertificateBatch
    any_permission_required = ["view", "add"]

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        batch = get_object_or_404(CertificateBatch, pk=pk)
        response = JsonResponse(batch_status(batch))
        response["Cache-Control"] = "no-store"
        return response


class CertificateBatchViewSet(ReadOnlyViewSet):
    model = CertificateBatch
    name = BATCHES
    icon = "tasks"
    menu_label = gettext_lazy("Bulk certificates")
    menu_name = "certificate-batches"
    offered_permissions = ("view", "add")
    index_view_class = BatchIndexView
    inspect_view_class = BatchProgressView
    inspect_template_name = "courses/admin/certificates/batch_progress.html"
    search_fields = ["title"]
    ordering = ["-created_at"]
    list_display = [
        "title",
        Column("created_by", label=gettext_lazy("Started by"), accessor="created_by"),
        DateColumn("created_at", label=gettext_lazy("Started"), sort_key="created_at"),
        "status",
        Column(
            "progress",
            label=gettext_lazy("Done"),
            accessor=lambda b: f"{b.done_count} / {b.item_count}",
        ),
        Column(
            "failed", label=gettext_lazy("Failed to issue"), accessor="failed_count"
        ),
    ]

    def get_common_view_kwargs(self, **kwargs):  # type: ignore[no-untyped-def]
        return super().get_common_view_kwargs(
            add_url_name=self.get_url_name("add"),
            progress_url_name=self.get_url_name("progress"),
            start_url_name=self.get_url_name("add"),
            inspect_url_name=self.get_url_name("inspect"),
            **kwargs,
        )

    def extra_urlpatterns(self) -> list:
        return [
            path("new/", self.construct_view(BatchStartView), name="add"),
            path(
                "progress/<int:pk>/",
                self.construct_view(BatchProgressJsonView),
                name="progress",
            ),
        ]

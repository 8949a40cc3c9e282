"""Bulk certificates: a training manager chooses a class, confirms, and
watches the run's progress ("add bulk certificate run" to start one, "view"
to watch); past runs stay listed."""

from typing import Any

from django.contrib.admin.utils import quote
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.functional import cached_property
from django.utils.http import urlencode
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import FormView, View

from wagtail.admin import messages
from wagtail.admin.ui.tables import Column, DateColumn
from wagtail.admin.views import generic
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.views.generic.permissions import PermissionCheckedMixin

from courses.certificates import services
from courses.certificates.admin_forms import BatchStartForm, SourceBatchStartForm
from courses.certificates.admin_views.base import BATCHES, CERTIFICATES, ReadOnlyViewSet
from courses.models import CertificateBatch, CertificateBatchItem

#: Failed learners listed on a bulk run's page (and in its JSON).
FAILURES_SHOWN = 200


class BatchIndexView(generic.IndexView):
    def get_base_queryset(self):
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

    def get_form_class(self):
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

    def get_form(self, form_class=None):
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
        return redirect(reverse(self.inspect_url_name, args=(quote(batch.pk),)))


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

    def get_context_data(self, **kwargs):
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

    def get_common_view_kwargs(self, **kwargs):
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

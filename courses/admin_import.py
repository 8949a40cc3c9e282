"""Training classes in the admin, for training managers: the list, the form,
a page with the trainees, and importing trainees from a CSV or XLSX file.

The import runs in the background (portal.admin_import,
courses.import_jobs): the upload keeps the file and queues an import job;
its page shows the preview once a worker has checked it, and the
confirmation queues the write, which reads it again, checks it again and
imports it, then deletes it.
"""

from django import forms
from django.contrib.admin.utils import quote
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.functional import cached_property
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.panels import FieldPanel, FieldRowPanel, ObjectList
from wagtail.admin.ui.menus import MenuItem
from wagtail.admin.ui.tables import Column
from wagtail.admin.views import generic
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.admin.widgets.button import Button

from courses import import_jobs
from courses.admin_class_progress import ClassHistoryView, class_progress_url
from courses.imports import MAX_FILE_BYTES, MAX_ROWS
from courses.models import TrainingClass, TrainingClassMember
from portal.admin_import import (
    SpreadsheetForm,
    SpreadsheetImportMixin,
    SpreadsheetUploadView,
)

UPLOAD_FOLDER = import_jobs.UPLOAD_FOLDER
MEMBERS_PER_PAGE = 100


# --- the class form ------------------------------------------------------------


class TrainingClassForm(WagtailAdminModelForm):
    def clean(self):
        cleaned_data = super().clean()
        starts_on, ends_on = cleaned_data.get("starts_on"), cleaned_data.get("ends_on")
        if starts_on and ends_on and ends_on < starts_on:
            # Said here, in words, before the database constraint would refuse it.
            self.add_error("ends_on", _("A class cannot end before it starts."))
        return cleaned_data


# --- the class screens -------------------------------------------------------


def _import_button(url: str, *, priority: int = 10) -> Button:
    return Button(_("Import trainees"), url=url, icon_name="upload", priority=priority)


def _import_menu_item(url: str) -> MenuItem:
    return MenuItem(_("Import trainees"), url=url, icon_name="upload", priority=15)


def _certificates_url(user, training_class) -> str | None:
    """The bulk certificate run for this class, for those allowed to start one."""
    if not user.has_perm("courses.add_certificatebatch"):
        return None
    return (
        reverse("certificate_batches:add")
        + f"?training_class={quote(training_class.pk)}"
    )


class TrainingClassIndexView(generic.IndexView):
    import_url_name: str | None = None

    def get_base_queryset(self):
        return super().get_base_queryset().annotate(member_count=Count("members"))

    def get_list_more_buttons(self, instance):
        buttons = super().get_list_more_buttons(instance)
        if self.import_url_name and self.user_has_permission("change"):
            url = reverse(self.import_url_name, args=(quote(instance.pk),))
            buttons.append(_import_menu_item(url))
        if url := _certificates_url(self.request.user, instance):
            buttons.append(
                MenuItem(_("Issue certificates"), url=url, icon_name="doc-full")
            )
        if url := class_progress_url(self.request.user, instance):
            buttons.append(MenuItem(_("Progress"), url=url, icon_name="table"))
        return buttons


class TrainingClassEditView(generic.EditView):
    import_url_name: str | None = None

    @cached_property
    def header_more_buttons(self):
        url = reverse(self.import_url_name, args=(quote(self.object.pk),))
        return [*super().header_more_buttons, _import_button(url, priority=5)]


class TrainingClassInspectView(generic.InspectView):
    """The class and its trainees, a page of them at a time."""

    import_url_name: str | None = None

    @cached_property
    def header_more_buttons(self):
        buttons = super().header_more_buttons
        if self.user_has_permission("change"):
            url = reverse(self.import_url_name, args=(quote(self.object.pk),))
            buttons = [*buttons, _import_button(url, priority=5)]
        if url := _certificates_url(self.request.user, self.object):
            buttons.append(
                Button(_("Issue certificates"), url=url, icon_name="doc-full")
            )
        if url := class_progress_url(self.request.user, self.object):
            buttons.append(Button(_("Progress"), url=url, icon_name="table"))
        return buttons

    def get_courses_display_value(self) -> str:
        return "、".join(course.title for course in self.object.courses.all()) or "-"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        members = (
            TrainingClassMember.objects.filter(training_class=self.object)
            .select_related("user__audience", "user__district")
            .order_by("added_at", "pk")
        )
        page = Paginator(members, MEMBERS_PER_PAGE).get_page(self.request.GET.get("p"))
        context["members_page"] = page
        if self.user_has_permission("change"):
            context["import_url"] = reverse(
                self.import_url_name, args=(quote(self.object.pk),)
            )
        return context


# --- import: the views -------------------------------------------------------


class TraineeFileForm(SpreadsheetForm):
    file_label = gettext_lazy("Trainee list")
    max_bytes = MAX_FILE_BYTES

    def get_help_text(self) -> str:
        return _(
            "A .csv or .xlsx file (first sheet), at most %(size)s MB and %(rows)s "
            "trainees. The first line names the columns: e-mail and name are "
            "required; organisation, audience group and district are optional."
        ) % {"size": MAX_FILE_BYTES // (1024 * 1024), "rows": MAX_ROWS}


class TrainingClassImportMixin(SpreadsheetImportMixin):
    """The upload: needs the right to change training classes."""

    model = TrainingClass
    permission_required = "change"
    page_title = gettext_lazy("Import trainees")
    import_kind = import_jobs.KIND
    upload_folder = UPLOAD_FOLDER
    index_url_name: str | None = None
    inspect_url_name: str | None = None
    import_url_name: str | None = None

    def setup(self, request: HttpRequest, *args, **kwargs) -> None:
        super().setup(request, *args, **kwargs)
        self.training_class = get_object_or_404(TrainingClass, pk=kwargs["pk"])

    def get_page_subtitle(self) -> str:
        return str(self.training_class)

    def get_breadcrumbs_items(self) -> list:
        return [
            *self.breadcrumbs_items,
            {
                "url": reverse(self.index_url_name),
                "label": capfirst(TrainingClass._meta.verbose_name_plural),
            },
            {"url": self.inspect_url, "label": str(self.training_class)},
            {"url": "", "label": self.get_page_title()},
        ]

    @property
    def inspect_url(self) -> str:
        return reverse(self.inspect_url_name, args=(quote(self.training_class.pk),))

    @property
    def upload_url(self) -> str:
        return reverse(self.import_url_name, args=(quote(self.training_class.pk),))

    def get_import_target_id(self) -> int | None:
        return self.training_class.pk

    def get_done_url(self) -> str:
        return self.inspect_url


class TraineeImportView(TrainingClassImportMixin, SpreadsheetUploadView):
    """Choose the file; its check and import run in the background, on the
    job's page (portal.admin_import.ImportJobView)."""

    template_name = "courses/admin/trainee_import.html"
    form_class = TraineeFileForm

    def get_context_data(self, **kwargs):
        return super().get_context_data(training_class=self.training_class, **kwargs)


# --- the viewset ---------------------------------------------------------------


class TrainingClassViewSet(ModelViewSet):
    model = TrainingClass
    icon = "group"
    menu_label = gettext_lazy("Training classes")
    menu_name = "training-classes"
    menu_order = 250
    add_to_admin_menu = True
    index_view_class = TrainingClassIndexView
    edit_view_class = TrainingClassEditView
    inspect_view_class = TrainingClassInspectView
    # With its enrolments' entries: quiz attempts granted to trainees.
    history_view_class = ClassHistoryView
    inspect_view_enabled = True
    copy_view_enabled = False
    inspect_template_name = "courses/admin/training_class_inspect.html"
    list_display = [
        "name",
        "code",
        "starts_on",
        "ends_on",
        Column("member_count", label=gettext_lazy("Trainees"), sort_key="member_count"),
    ]
    search_fields = ["name", "code"]
    ordering = ["-starts_on", "name"]
    inspect_view_fields = [
        "name",
        "code",
        "starts_on",
        "ends_on",
        "description",
        "courses",
    ]
    edit_handler = ObjectList(
        [
            FieldPanel("name"),
            FieldPanel("code"),
            FieldRowPanel([FieldPanel("starts_on"), FieldPanel("ends_on")]),
            FieldPanel("description"),
            # Ticked from the catalogue: Wagtail's page chooser picks one page,
            # and a class has a handful of courses.
            FieldPanel("courses", widget=forms.CheckboxSelectMultiple),
        ],
        base_form_class=TrainingClassForm,
    )

    def get_common_view_kwargs(self, **kwargs):
        return super().get_common_view_kwargs(
            import_url_name=self.get_url_name("import"),
            inspect_url_name=self.get_url_name("inspect"),
            **kwargs,
        )

    @property
    def import_view(self):
        return self.construct_view(TraineeImportView)

    def get_urlpatterns(self):
        return [
            *super().get_urlpatterns(),
            path("import/<int:pk>/", self.import_view, name="import"),
        ]

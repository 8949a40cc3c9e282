"""The talent pool in the admin: experts, organisations, importing experts
from a file, and changing an expert's status with a reason.

The import runs in the background, like the trainee import
(portal.admin_import, talentpool.import_jobs): the upload is kept in the
default storage and an import job queued; its page shows the check's
progress, then the preview; the confirmation queues the write, which checks
the file again and imports it, all or nothing, then deletes it.
"""

from typing import Any

from django import forms
from django.contrib.admin.utils import quote
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.functional import cached_property
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import FormView

from wagtail.admin import messages
from wagtail.admin.forms.choosers import BaseFilterForm
from wagtail.admin.panels import (
    FieldPanel,
    FieldRowPanel,
    InlinePanel,
    MultiFieldPanel,
    ObjectList,
    TabbedInterface,
)
from wagtail.admin.ui.tables import Column
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.views.generic.permissions import PermissionCheckedMixin
from wagtail.admin.widgets.button import Button
from wagtail.snippets.views import chooser as snippet_chooser_views
from wagtail.snippets.views import snippets as snippet_views
from wagtail.snippets.views.chooser import SnippetChooserViewSet
from wagtail.snippets.views.snippets import SnippetViewSet

from portal.admin_import import (
    SpreadsheetForm,
    SpreadsheetImportMixin,
    SpreadsheetUploadView,
)
from portal.http import signed_in_user
from talentpool import import_jobs
from talentpool.models import Expert, ExpertStatus, Organisation
from talentpool.search import experts_matching
from talentpool.services import (
    TalentPoolError,
    expert_status_change,
)

UPLOAD_FOLDER = import_jobs.UPLOAD_FOLDER
MAX_UPLOAD_BYTES = 50 * 1024 * 1024


# --- import --------------------------------------------------------------------


class ExpertFileForm(SpreadsheetForm):
    file_label = gettext_lazy("Expert list")
    max_bytes = MAX_UPLOAD_BYTES

    create_only = forms.BooleanField(
        label=gettext_lazy("New experts only"),
        required=False,
        help_text=gettext_lazy(
            "The file holds experts not yet in the talent pool: rows need no "
            "external ID or licence number, and a row that matches an expert "
            "already in the pool is refused. Importing such a file twice adds "
            "its experts twice."
        ),
    )

    def upload_options(self) -> dict[str, Any]:
        return {"create_only": self.cleaned_data.get("create_only", False)}

    def get_help_text(self) -> str:
        return _(
            "A .csv (UTF-8 or GBK) or .xlsx file (first sheet), at most %(size)s MB. "
            "The first line names the columns: external_id, name, category, "
            "ip_types, services, industries, district, organization, languages, "
            "years_of_practice, talent_tier, license_no, bio, email, phone, in "
            "English or Chinese (外部编号, 姓名, 类别, …). The name is required, a "
            "category for a new expert, and an external ID or a licence number on "
            "every row unless the file holds new experts only; a column the import "
            "does not know refuses the file (序号 and 备注 are ignored). Several "
            "values in one cell are separated by ; ； 、 or |."
        ) % {"size": MAX_UPLOAD_BYTES // (1024 * 1024)}

    def too_large(self) -> str:
        return _(
            "The file is larger than %(size)s MB: import it with "
            "manage.py import_experts, or split it."
        ) % {"size": MAX_UPLOAD_BYTES // (1024 * 1024)}


class ExpertImportMixin(SpreadsheetImportMixin):
    """The upload: needs the rights to add and change experts."""

    model = Expert
    permission_required = "add"
    page_title = gettext_lazy("Import experts")
    import_kind = import_jobs.KIND
    upload_folder = UPLOAD_FOLDER
    index_url_name: str | None = None
    import_url_name: str | None = None

    def user_has_permission(self, permission: str) -> bool:
        return self.permission_policy.user_has_permission(
            self.request.user, "add"
        ) and self.permission_policy.user_has_permission(self.request.user, "change")

    def get_breadcrumbs_items(self) -> list:
        return [
            *self.breadcrumbs_items,
            {
                "url": reverse(self.index_url_name),
                "label": capfirst(Expert._meta.verbose_name_plural),
            },
            {"url": "", "label": self.get_page_title()},
        ]

    def get_done_url(self) -> str:
        return reverse(self.index_url_name)


class ExpertImportView(ExpertImportMixin, SpreadsheetUploadView):
    """Choose the file; its check and import run in the background, on the
    job's page (portal.admin_import.ImportJobView)."""

    template_name = "talentpool/admin/expert_import.html"
    form_class = ExpertFileForm


# --- status --------------------------------------------------------------------


class ExpertStatusForm(forms.Form):
    status = forms.ChoiceField(label=gettext_lazy("Status"), choices=ExpertStatus)
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy(
            "Required to suspend or remove; kept in the expert's history."
        ),
    )

    def clean(self):
        cleaned_data = super().clean()
        status = cleaned_data.get("status")
        if (
            status in Expert.STATUSES_NEEDING_REASON
            and not cleaned_data.get("reason", "").strip()
        ):
            self.add_error("reason", _("Say why the expert is suspended or removed."))
        return cleaned_data


class ExpertStatusView(PermissionCheckedMixin, WagtailAdminTemplateMixin, FormView):
    """Public, withdrawn, suspended or removed, with a reason, through
    talentpool.services.expert_status_change (which logs it)."""

    model = Expert
    permission_required = "change"
    header_icon = "warning"
    page_title = gettext_lazy("Change status")
    template_name = "talentpool/admin/expert_status.html"
    form_class = ExpertStatusForm
    edit_url_name: str | None = None
    index_url_name: str | None = None

    def setup(self, request: HttpRequest, *args, **kwargs) -> None:
        super().setup(request, *args, **kwargs)
        self.expert = get_object_or_404(Expert, pk=kwargs["pk"])

    def get_page_subtitle(self) -> str:
        return str(self.expert)

    def get_initial(self) -> dict:
        return {"status": self.expert.status, "reason": self.expert.status_reason}

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            expert=self.expert,
            cancel_url=reverse(self.edit_url_name, args=(quote(self.expert.pk),)),
            **kwargs,
        )

    def form_valid(self, form: ExpertStatusForm) -> HttpResponse:
        try:
            expert_status_change(
                expert=self.expert,
                status=form.cleaned_data["status"],
                reason=form.cleaned_data["reason"],
                # Only signed-in users with the permission reach the admin.
                user=signed_in_user(self.request),
            )
        except TalentPoolError as error:
            form.add_error(None, str(error))
            return self.form_invalid(form)
        messages.success(
            self.request,
            _("The status of %(name)s is now “%(status)s”.")
            % {
                "name": self.expert.name,
                "status": ExpertStatus(form.cleaned_data["status"]).label,
            },
        )
        return redirect(reverse(self.edit_url_name, args=(quote(self.expert.pk),)))


# --- the expert screens ----------------------------------------------------------


class ExpertChooserFilterForm(BaseFilterForm):
    """The chooser's search box, searching like the site does."""

    q = forms.CharField(
        label=gettext_lazy("Search term"),
        widget=forms.TextInput(attrs={"placeholder": gettext_lazy("Search")}),
        required=False,
    )

    def filter(self, objects):
        objects = super().filter(objects)
        query = self.cleaned_data.get("q")
        if query:
            objects = experts_matching(objects, query)
            self.is_searching = True
            self.search_query = query
        return objects


class ExpertChooseView(snippet_chooser_views.ChooseView):
    filter_form_class = ExpertChooserFilterForm


class ExpertChooseResultsView(snippet_chooser_views.ChooseResultsView):
    filter_form_class = ExpertChooserFilterForm


class ExpertChooserViewSet(SnippetChooserViewSet):
    choose_view_class = ExpertChooseView
    choose_results_view_class = ExpertChooseResultsView


class ExpertIndexView(snippet_views.IndexView):
    import_url_name: str | None = None

    def search_queryset(self, queryset):
        # The talent pool's own search: Traditional, pinyin and English
        # queries, and Chinese words inside longer text, as on the site.
        if not self.is_searching:
            return queryset
        return experts_matching(queryset, self.search_query)

    @cached_property
    def header_more_buttons(self):
        buttons = super().header_more_buttons
        if self.user_has_permission("add"):
            buttons = [
                *buttons,
                Button(
                    _("Import experts"),
                    url=reverse(self.import_url_name),
                    icon_name="upload",
                    priority=5,
                ),
            ]
        return buttons


class ExpertEditView(snippet_views.EditView):
    status_url_name: str | None = None

    @cached_property
    def header_more_buttons(self):
        url = reverse(self.status_url_name, args=(quote(self.object.pk),))
        return [
            *super().header_more_buttons,
            Button(_("Change status"), url=url, icon_name="warning", priority=5),
        ]


class ExpertViewSet(SnippetViewSet):
    """Every expert, removed ones included: staff see the whole history.
    Status and verification are not on the form: they change through
    services that log who did what and why."""

    model = Expert
    icon = "user"
    menu_label = gettext_lazy("Experts")
    menu_name = "experts"
    index_view_class = ExpertIndexView
    edit_view_class = ExpertEditView
    inspect_view_enabled = True
    copy_view_enabled = False
    # search_fields only switches the search box on: ExpertIndexView and the
    # chooser search with talentpool.search (Chinese, pinyin, English).
    search_backend_name = None
    search_fields = ["name", "external_id", "organisation__name"]
    chooser_viewset_class = ExpertChooserViewSet
    list_display = [
        "name",
        "organisation",
        "district",
        Column("status", label=gettext_lazy("Status"), accessor="get_status_display"),
        Column(
            "verification_status",
            label=gettext_lazy("Verification"),
            accessor="get_verification_status_display",
        ),
        "updated_at",
    ]
    list_filter = ["status", "verification_status", "categories", "district"]
    ordering = ["name", "pk"]
    inspect_view_fields = [
        "external_id",
        "name",
        "categories",
        "ip_types",
        "services",
        "industries",
        "languages",
        "district",
        "organisation",
        "years_of_practice",
        "talent_tier",
        "biography",
        "email",
        "phone",
        "accepting_requests",
        "verification_status",
        "verified_at",
        "verified_by",
        "last_confirmed_at",
        "status",
        "status_reason",
        "status_changed_at",
        "publication_consent_at",
        "user",
        "created_at",
        "updated_at",
    ]
    edit_handler = TabbedInterface(
        [
            ObjectList(
                [
                    FieldPanel("name"),
                    FieldPanel("external_id"),
                    FieldPanel("photo"),
                    FieldPanel("organisation"),
                    FieldRowPanel(
                        [FieldPanel("district"), FieldPanel("years_of_practice")]
                    ),
                    FieldPanel("talent_tier"),
                    FieldPanel("biography"),
                    MultiFieldPanel(
                        [
                            FieldPanel(
                                "categories", widget=forms.CheckboxSelectMultiple
                            ),
                            FieldPanel("ip_types", widget=forms.CheckboxSelectMultiple),
                            FieldPanel("services", widget=forms.CheckboxSelectMultiple),
                            FieldPanel(
                                "industries", widget=forms.CheckboxSelectMultiple
                            ),
                            FieldPanel(
                                "languages", widget=forms.CheckboxSelectMultiple
                            ),
                        ],
                        heading=gettext_lazy("Expertise"),
                    ),
                ],
                heading=gettext_lazy("Profile"),
            ),
            ObjectList(
                [
                    InlinePanel(
                        "qualifications", heading=gettext_lazy("Qualifications")
                    ),
                ],
                heading=gettext_lazy("Qualifications"),
            ),
            ObjectList(
                [
                    FieldRowPanel([FieldPanel("email"), FieldPanel("phone")]),
                    FieldPanel("accepting_requests"),
                    FieldPanel("user"),
                ],
                heading=gettext_lazy("Contact (private)"),
            ),
        ]
    )

    def get_common_view_kwargs(self, **kwargs):
        return super().get_common_view_kwargs(
            import_url_name=self.get_url_name("import"),
            status_url_name=self.get_url_name("status"),
            **kwargs,
        )

    @property
    def import_view(self):
        return self.construct_view(ExpertImportView)

    @property
    def status_view(self):
        return self.construct_view(ExpertStatusView)

    def get_urlpatterns(self):
        return [
            *super().get_urlpatterns(),
            path("import/", self.import_view, name="import"),
            path("status/<int:pk>/", self.status_view, name="status"),
        ]


class OrganisationViewSet(SnippetViewSet):
    model = Organisation
    icon = "group"
    menu_label = gettext_lazy("Organisations")
    menu_name = "organisations"
    search_backend_name = None
    search_fields = ["name", "credit_code"]
    list_display = ["name", "kind", "district", "credit_code"]
    list_filter = ["kind", "district"]
    ordering = ["name"]

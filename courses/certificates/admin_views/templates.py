"""Certificate templates: a snippet with Wagtail's live preview (HTML and PDF
on sample data); a template whose images cannot be read is refused when saved."""

from django.utils.translation import gettext_lazy

from wagtail.admin.panels import ObjectList
from wagtail.snippets.views.snippets import SnippetViewSet

from courses.certificates.admin_forms import CertificateTemplateForm
from courses.models import CertificateTemplate


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

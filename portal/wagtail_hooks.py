"""Admin screens of the portal: vocabularies and the e-mail outbox; the
portal's other Wagtail hooks (export log messages, the admin's help menu,
script and stylesheet, byte ranges of documents). Every Wagtail hook of the
portal is registered here (Wagtail discovers only this module)."""

from django.templatetags.static import static
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from wagtail import hooks
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet, SnippetViewSetGroup

from portal import background_work, document_ranges, frontend_cache
from portal.exports import LOG_EXPORTED, ExportedFormatter
from portal.models import Audience, District, OutgoingEmail


class AudienceViewSet(SnippetViewSet):
    model = Audience
    icon = "group"
    menu_label = _("Audience groups")
    list_display = ["name_zh", "name_en", "code", "is_active"]
    search_fields = ["name_zh", "name_en", "code"]
    ordering = ["sort_order", "code"]


class DistrictViewSet(SnippetViewSet):
    model = District
    icon = "site"
    menu_label = _("Districts")
    list_display = ["name_zh", "name_en", "code", "is_active"]
    search_fields = ["name_zh", "name_en", "code"]
    ordering = ["sort_order", "code"]


class VocabularyGroup(SnippetViewSetGroup):
    items = (AudienceViewSet, DistrictViewSet)
    menu_icon = "list-ul"
    menu_label = _("Vocabularies")
    menu_name = "vocabularies"


register_snippet(VocabularyGroup)

# Range requests on documents, answered once the access checks (other apps'
# before_serve_document hooks, default order 0) have passed.
hooks.register(
    "before_serve_document",
    document_ranges.serve_byte_range,
    order=document_ranges.AFTER_ACCESS_CHECKS,
)


class OutgoingEmailViewSet(ModelViewSet):
    """The outbox, for administrators: what was sent, what waits, what failed.
    Read-only: mail is written by the portal, never by hand; the edit form
    changes only the status (a failed e-mail set back to pending is retried).
    "body" shows OutgoingEmail.get_body_display: a note, never the body, once
    delivered or for an account e-mail; the HTML, headers and attachments are
    not shown at all (they say what the body says)."""

    model = OutgoingEmail
    icon = "mail"
    menu_label = _("Outgoing e-mail")
    menu_name = "outgoing-email"
    add_to_settings_menu = True
    list_display = ["subject", "to", "status", "attempts", "created_at", "sent_at"]
    list_filter = ["status"]
    search_fields = ["subject"]
    inspect_view_enabled = True
    inspect_view_fields = [
        "status",
        "subject",
        "from_email",
        "to",
        "cc",
        "attempts",
        "last_error",
        "created_at",
        "sent_at",
        "body_removed_at",
        "body",
    ]
    form_fields = ["status"]
    copy_view_enabled = False


@hooks.register("register_admin_viewset")
def register_outbox_viewset():
    return OutgoingEmailViewSet("outgoing_email")


@hooks.register("register_log_actions")
def register_export_log_action(actions):
    actions.register_action(LOG_EXPORTED)(ExportedFormatter)


@hooks.register("construct_help_menu")
def remove_links_to_the_internet(request, menu_items):
    """Wagtail's release notes and editor guide live on wagtail.org, which a
    closed government intranet cannot reach."""
    menu_items[:] = [
        item
        for item in menu_items
        if item.name != "editor-guide" and not item.name.startswith("whats-new")
    ]


@hooks.register("insert_global_admin_js")
def admin_init_script():
    """static/js/admin-init.js on every admin page: it starts the inline
    panels, date pickers and choosers that Wagtail starts with inline scripts,
    which the admin's Content-Security-Policy refuses (portal/admin_scripts.py).
    Deferred, so that it runs once the page and every widget's script (loaded
    after this hook's output) are there."""
    return format_html('<script src="{}" defer></script>', static("js/admin-init.js"))


@hooks.register("insert_global_admin_css")
def admin_stylesheet():
    """static/css/admin.css on every admin page: the layout and chart colours
    of the portal's own admin screens, which the admin's
    Content-Security-Policy would refuse as style= attributes."""
    return format_html('<link rel="stylesheet" href="{}">', static("css/admin.css"))


@hooks.register("register_admin_urls")
def register_import_job_urls():
    """Spreadsheet import jobs (portal.admin_import): the page, its state as
    JSON, the CSV of bad rows. Each view lets in only users who may import
    the job's kind."""
    from django.urls import path

    from portal.admin_import import (
        ImportJobReportView,
        ImportJobStatusView,
        ImportJobView,
    )

    return [
        path("imports/<int:pk>/", ImportJobView.as_view(), name="portal_import_job"),
        path(
            "imports/<int:pk>/status/",
            ImportJobStatusView.as_view(),
            name="portal_import_job_status",
        ),
        path(
            "imports/<int:pk>/problems.csv",
            ImportJobReportView.as_view(),
            name="portal_import_job_report",
        ),
    ]


# --- Settings › Background work (portal.admin_background_work) -----------------


@hooks.register("register_admin_urls")
def register_background_work_urls():
    from django.urls import path

    from portal.admin_background_work import (
        INDEX_URL_NAME,
        RETRY_URL_NAME,
        BackgroundWorkRetryView,
        BackgroundWorkView,
    )

    return [
        path("background-work/", BackgroundWorkView.as_view(), name=INDEX_URL_NAME),
        path(
            "background-work/<slug:kind>/retry/",
            BackgroundWorkRetryView.as_view(),
            name=RETRY_URL_NAME,
        ),
    ]


@hooks.register("register_settings_menu_item")
def register_background_work_menu_item():
    from django.urls import reverse

    from portal.admin_background_work import INDEX_URL_NAME, BackgroundWorkMenuItem

    return BackgroundWorkMenuItem(
        _("Background work"),
        reverse(INDEX_URL_NAME),
        name="background-work",
        icon_name="cogs",
        order=900,
    )


@hooks.register("register_log_actions")
def register_background_work_log_action(actions):
    actions.register_action(background_work.LOG_RETRIED)(
        background_work.RetriedFormatter
    )


# The portal's own kinds of background work; the apps hand over theirs
# through the same hook (portal.background_work.REGISTER_HOOK).
hooks.register(background_work.REGISTER_HOOK, background_work.email_work)
hooks.register(background_work.REGISTER_HOOK, background_work.import_work)

# Pages the reverse proxy may keep for visitors with no cookie.
hooks.register("before_serve_page", frontend_cache.mark_for_the_proxy)

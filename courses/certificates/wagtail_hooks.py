"""Wagtail admin for certificates (imported by courses.wagtail_hooks): the
"Certificates" menu (courses.certificates.admin_views) and the history
messages of each lifecycle step."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wagtail import hooks
from wagtail.admin.viewsets.base import ViewSetGroup
from wagtail.log_actions import LogFormatter
from wagtail.permissions import register_permission_policy
from wagtail.snippets.models import register_snippet

from courses.certificates import admin_views
from courses.certificates import background_work as certificate_work
from portal import background_work

# First, before any view asks for them (Wagtail would make default ones).
for _model, _policy in admin_views.POLICIES.items():
    register_permission_policy(_model, _policy)


class CertificateAdminGroup(ViewSetGroup):
    """证书: templates, certificates, waiting requests and bulk runs."""

    menu_label = gettext_lazy("Certificates")
    menu_name = "certificates"
    menu_icon = "doc-full"
    menu_order = 260  # after training classes
    items = (
        admin_views.CertificateViewSet,
        admin_views.CertificateBatchViewSet,
        admin_views.CertificateRequestViewSet,
        admin_views.CertificateTemplateViewSet,
    )


# The templates have their menu item in this group, not under "Snippets".
admin_views.CertificateTemplateViewSet.menu_item_is_registered = True
register_snippet(CertificateAdminGroup)


@hooks.register("register_log_actions")
def register_certificate_log_actions(actions):
    @actions.register_action("courses.certificate.issued")
    class Issued(LogFormatter):
        label = gettext_lazy("Issue certificate")

        def format_message(self, log_entry) -> str:
            data = log_entry.data or {}
            if data.get("replaces"):
                message = _("Certificate issued in place of %(serial)s") % {
                    "serial": data["replaces"]
                }
                if data.get("note"):
                    message += _(" (note: %(note)s)") % {"note": data["note"]}
                return message
            return _("Certificate issued")

    actions.register_action(
        "courses.certificate.rendered",
        gettext_lazy("Render PDF"),
        gettext_lazy("PDF rendered and e-mailed"),
    )

    @actions.register_action("courses.certificate.revoked")
    class Revoked(LogFormatter):
        label = gettext_lazy("Revoke")

        def format_message(self, log_entry) -> str:
            reason = (log_entry.data or {}).get("reason")
            if reason:
                return _("Certificate revoked: %(reason)s") % {"reason": reason}
            return _("Certificate revoked")

    @actions.register_action("courses.certificate.superseded")
    class Superseded(LogFormatter):
        label = gettext_lazy("Reissue")

        def format_message(self, log_entry) -> str:
            data = log_entry.data or {}
            if data.get("by"):
                return _("Superseded by the new certificate %(serial)s") % {
                    "serial": data["by"]
                }
            return _("Superseded by a new certificate")

    actions.register_action(
        "courses.certificate.expiry_reminded",
        gettext_lazy("Expiry reminder"),
        gettext_lazy("Expiry reminder e-mailed"),
    )

    @actions.register_action("courses.certificate_batch.started")
    class BatchStarted(LogFormatter):
        label = gettext_lazy("Start bulk run")

        def format_message(self, log_entry) -> str:
            items = (log_entry.data or {}).get("items")
            if items is None:
                return _("Bulk run started")
            return _("Bulk run started: %(items)s completions to certify") % {
                "items": items
            }

    actions.register_action(
        "courses.certificate_batch.finished",
        gettext_lazy("Finish bulk run"),
        gettext_lazy("Bulk run finished"),
    )


# Settings › Background work (portal.background_work): PDFs and bulk runs.
hooks.register(background_work.REGISTER_HOOK, certificate_work.render_work)
hooks.register(background_work.REGISTER_HOOK, certificate_work.batch_item_work)

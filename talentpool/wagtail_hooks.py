"""Admin screens of the talent pool, under one menu group: experts,
organisations and the pool's vocabularies; the log actions on an expert's
history; the statistics panel on the dashboard. Every Wagtail hook of the
talent pool is registered here (Wagtail discovers only this module); the
views they name stay in their own modules."""

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wagtail import hooks
from wagtail.log_actions import LogFormatter
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.permissions import register_permission_policy
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet, SnippetViewSetGroup

from portal.models import User
from talentpool.admin_consent import RecordPaperConsentBulkAction
from talentpool.admin_statistics import (
    StatisticsViewSet,
    TalentPoolDashboardPanel,
    can_view_statistics,
)
from talentpool.admin_views import ExpertViewSet, OrganisationViewSet
from talentpool.applications.admin_views import ExpertApplicationViewSet
from talentpool.contacts.admin_views import (
    ContactDisclosureViewSet,
    ContactRequestViewSet,
    EnterpriseViewSet,
)
from talentpool.contacts.services import (
    LOG_ENTERPRISE_REGISTERED,
    LOG_ENTERPRISE_REJECTED,
    LOG_ENTERPRISE_VERIFIED,
)
from talentpool.invitations.admin_views import (
    INVITE_URL_NAME,
    InviteBulkAction,
    InviteExpertsView,
)
from talentpool.models import (
    Expert,
    ExpertCategory,
    ExpertStatus,
    Industry,
    Language,
    SearchSynonym,
    Service,
    TalentTier,
)
from talentpool.services import LOG_IMPORTED, LOG_STATUS_CHANGED


class KeptRecordPermissionPolicy(ModelPermissionPolicy):
    """Experts are never deleted, not even by a superuser: removing one is a
    status with a reason, and the entry keeps its history."""

    def user_has_permission(self, user, action):
        return action != "delete" and super().user_has_permission(user, action)

    def users_with_any_permission(self, actions):
        actions = [action for action in actions if action != "delete"]
        if not actions:
            return User.objects.none()
        return super().users_with_any_permission(actions)


register_permission_policy(Expert, KeptRecordPermissionPolicy(Expert))


def _vocabulary_viewset(term_model, icon: str, label) -> type[SnippetViewSet]:
    return type(
        f"{term_model.__name__}ViewSet",
        (SnippetViewSet,),
        {
            "model": term_model,
            "icon": icon,
            "menu_label": label,
            "list_display": ["name_zh", "name_en", "code", "is_active"],
            "search_fields": ["name_zh", "name_en", "code"],
            "search_backend_name": None,
            "ordering": ["sort_order", "code"],
        },
    )


class SearchSynonymViewSet(SnippetViewSet):
    """The words a visitor may type for others (talentpool.search.lexicon)."""

    model = SearchSynonym
    icon = "search"
    menu_label = gettext_lazy("Search synonyms")
    list_display = ["phrase", "alternatives", "mutual", "updated_at"]
    search_fields = ["phrase", "alternatives"]
    search_backend_name = None
    ordering = ["phrase"]


class TalentPoolGroup(SnippetViewSetGroup):
    items = (
        ExpertViewSet,
        ExpertApplicationViewSet,
        OrganisationViewSet,
        EnterpriseViewSet,
        ContactRequestViewSet,
        ContactDisclosureViewSet,
        _vocabulary_viewset(ExpertCategory, "tag", gettext_lazy("Expert categories")),
        _vocabulary_viewset(Service, "tasks", gettext_lazy("Services")),
        _vocabulary_viewset(Industry, "cogs", gettext_lazy("Industries")),
        _vocabulary_viewset(Language, "globe", gettext_lazy("Languages")),
        _vocabulary_viewset(TalentTier, "pick", gettext_lazy("Talent tiers")),
        SearchSynonymViewSet,
        StatisticsViewSet,
    )
    menu_icon = "user"
    menu_label = gettext_lazy("Talent pool")
    menu_name = "talent-pool"
    menu_order = 260


register_snippet(TalentPoolGroup)


@hooks.register("register_log_actions")
def register_talentpool_log_actions(actions):
    @actions.register_action(LOG_IMPORTED)
    class ExpertImported(LogFormatter):
        label = gettext_lazy("Import experts")

        def format_message(self, log_entry) -> str:
            data = log_entry.data or {}
            message = (
                _("Added from %(file)s, line %(line)s.")
                if data.get("created")
                else _("Updated from %(file)s, line %(line)s.")
            )
            return message % {"file": data.get("file", ""), "line": data.get("line")}

    @actions.register_action(LOG_STATUS_CHANGED)
    class ExpertStatusChanged(LogFormatter):
        label = gettext_lazy("Change status")

        def format_message(self, log_entry) -> str:
            data = log_entry.data or {}

            def label(value: str) -> str:
                try:
                    return str(ExpertStatus(value).label)
                except ValueError:
                    return value

            message = _("Status changed from “%(from)s” to “%(to)s”.") % {
                "from": label(data.get("from", "")),
                "to": label(data.get("to", "")),
            }
            if data.get("reason"):
                message += " " + _("Reason: %(reason)s") % {"reason": data["reason"]}
            return message


@hooks.register("register_log_actions")
def register_enterprise_log_actions(actions):
    actions.register_action(
        LOG_ENTERPRISE_REGISTERED,
        gettext_lazy("Register enterprise"),
        gettext_lazy("Registered for verification"),
    )
    actions.register_action(
        LOG_ENTERPRISE_VERIFIED,
        gettext_lazy("Verify enterprise"),
        gettext_lazy("Verified"),
    )

    @actions.register_action(LOG_ENTERPRISE_REJECTED)
    class EnterpriseRejected(LogFormatter):
        label = gettext_lazy("Reject enterprise")

        def format_message(self, log_entry) -> str:
            data = log_entry.data or {}
            return _("Rejected. Reason: %(reason)s") % {
                "reason": data.get("reason", "")
            }


@hooks.register("register_log_actions")
def register_application_log_actions(actions):
    from talentpool.applications.admin_hooks import register_log_actions

    register_log_actions(actions)


@hooks.register("construct_homepage_summary_items")
def add_application_summary(request, items):
    from talentpool.applications.admin_hooks import ApplicationsSummaryItem

    if request.user.has_perm("talentpool.change_expert"):
        items.append(ApplicationsSummaryItem(request))


@hooks.register("register_snippet_listing_buttons")
def add_expert_application_buttons(snippet, user, next_url=None):
    from talentpool.applications.admin_views import expert_listing_buttons

    return expert_listing_buttons(snippet, user) if isinstance(snippet, Expert) else []


@hooks.register("construct_homepage_panels")
def add_talent_pool_panel(request, panels) -> None:
    if can_view_statistics(request.user):
        panels.append(
            TalentPoolDashboardPanel(
                reverse("talentpool_statistics:index"),
                # add_application_summary shows them to these users.
                applications_shown=request.user.has_perm("talentpool.change_expert"),
            )
        )


# --- evidence given on paper (issue 15): log actions and the bulk action -------


@hooks.register("register_log_actions")
def register_paper_evidence_log_actions(actions):
    from talentpool.services import LOG_CONSENT_ON_PAPER, LOG_VERIFIED_ON_PAPER

    def on_date(log_entry) -> str:
        from datetime import date

        from django.utils.formats import date_format

        value = (log_entry.data or {}).get("on", "")
        try:
            return date_format(date.fromisoformat(value))
        except (TypeError, ValueError):
            return value

    def from_file(log_entry) -> str:
        data = log_entry.data or {}
        if not data.get("file"):
            return ""
        return " " + _("From %(file)s, line %(line)s.") % {
            "file": data["file"],
            "line": data.get("line"),
        }

    @actions.register_action(LOG_VERIFIED_ON_PAPER)
    class ExpertVerifiedOnPaper(LogFormatter):
        label = gettext_lazy("Verify on paper")

        def format_message(self, log_entry) -> str:
            return _("Verified on %(date)s (recorded from a paper roster).") % {
                "date": on_date(log_entry)
            } + from_file(log_entry)

    @actions.register_action(LOG_CONSENT_ON_PAPER)
    class ConsentGivenOnPaper(LogFormatter):
        label = gettext_lazy("Record paper consent")

        def format_message(self, log_entry) -> str:
            data = log_entry.data or {}
            return _(
                "Consent to publication signed on paper on %(date)s, form "
                "%(reference)s."
            ) % {
                "date": on_date(log_entry),
                "reference": data.get("reference", ""),
            } + from_file(log_entry)


hooks.register("register_bulk_action", RecordPaperConsentBulkAction)


# --- invitations to claim a profile (talentpool/invitations) ----------------------


@hooks.register("register_admin_urls")
def register_invitation_urls():
    from django.urls import path

    return [
        path("talent-pool/invite/", InviteExpertsView.as_view(), name=INVITE_URL_NAME)
    ]


hooks.register("register_bulk_action", InviteBulkAction)


@hooks.register("register_log_actions")
def register_invitation_log_actions(actions):
    from talentpool.invitations.services import LOG_CLAIMED, LOG_INVITED

    actions.register_action(
        LOG_INVITED,
        gettext_lazy("Invite to claim the profile"),
        gettext_lazy("Invited to claim the profile"),
    )
    actions.register_action(
        LOG_CLAIMED,
        gettext_lazy("Claim the profile"),
        gettext_lazy("Claimed by the expert's account"),
    )

"""Admin menu 公告订阅 (Announcements): announcements, with their preview, send
and delivery report, and the topics subscribers choose from."""

from django.utils.translation import gettext_lazy as _

from wagtail import hooks
from wagtail.admin.ui.tables import Column
from wagtail.admin.viewsets.base import ViewSetGroup
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.permissions import register_permission_policy

from portal import background_work
from portal.models import User
from subscriptions.admin_views import AnnouncementViewSet
from subscriptions.background_work import announcement_work
from subscriptions.models import Subscription, Topic


class TopicViewSet(ModelViewSet):
    model = Topic
    icon = "tag"
    menu_label = _("Subscription topics")
    menu_name = "subscription-topics"
    copy_view_enabled = False
    form_fields = ["code", "name_zh", "name_en", "sort_order", "is_active"]
    list_display = ["name_zh", "name_en", "code", "sort_order", "is_active"]
    search_fields = ["name_zh", "name_en", "code"]
    ordering = ["sort_order", "code"]


class SubscriptionRecordPolicy(ModelPermissionPolicy):
    """Subscriptions are the users' own consent: read here, never written."""

    def user_has_permission(self, user, action):
        return action == "view" and super().user_has_permission(user, action)

    def users_with_any_permission(self, actions):
        if "view" not in actions:
            return User.objects.none()
        return super().users_with_any_permission(["view"])


register_permission_policy(Subscription, SubscriptionRecordPolicy(Subscription))


class SubscriptionViewSet(ModelViewSet):
    """Who subscribed, when consent was given or withdrawn (read-only)."""

    model = Subscription
    icon = "user"
    menu_label = _("Subscribers")
    menu_name = "subscribers"
    copy_view_enabled = False
    inspect_view_enabled = True
    search_fields = ["user__email", "user__real_name"]
    list_display = [
        Column("user", label=_("user")),
        "consented_at",
        "withdrawn_at",
        "updated_at",
    ]
    list_filter = {"withdrawn_at": ["isnull"], "topics": ["exact"]}
    ordering = ["-consented_at", "-pk"]
    inspect_view_fields = [
        "user",
        "topics",
        "audiences",
        "consented_at",
        "withdrawn_at",
        "updated_at",
    ]
    form_fields = ["consented_at"]

    def get_queryset(self, request):
        return Subscription.objects.select_related("user")


class SubscriptionsGroup(ViewSetGroup):
    items = (
        AnnouncementViewSet("announcements"),
        SubscriptionViewSet("subscribers"),
        TopicViewSet("subscription_topics"),
    )
    menu_icon = "mail"
    menu_label = _("Announcements")
    menu_name = "subscriptions"


@hooks.register("register_admin_viewset")
def register_subscriptions():
    return SubscriptionsGroup()


@hooks.register("register_permissions")
def announcement_permissions():
    """Offered in the group settings: who writes and sends announcements."""
    from django.contrib.auth.models import Permission

    return Permission.objects.filter(
        content_type__app_label="subscriptions",
        codename__in=[
            "add_announcement",
            "change_announcement",
            "delete_announcement",
            "view_announcement",
            "view_subscription",
        ],
    )


# Settings › Background work (portal.background_work): announcements.
hooks.register(background_work.REGISTER_HOOK, announcement_work)

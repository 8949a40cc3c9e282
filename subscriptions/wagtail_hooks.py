"""Admin menu 公告订阅 (Announcements): announcements, with their preview, send
and delivery report, the subscribers (with an account, and without one:
double opt-in by e-mail address) and the topics subscribers choose from."""

import django_filters

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from wagtail import hooks
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.ui.tables import Column, DateColumn
from wagtail.admin.viewsets.base import ViewSetGroup
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.permissions import register_permission_policy

from portal import background_work
from portal.models import User
from subscriptions.admin_views import AnnouncementViewSet
from subscriptions.background_work import announcement_work
from subscriptions.models import EmailSubscriber, Subscription, Topic
from subscriptions.selectors import email_subscriber_state


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
register_permission_policy(EmailSubscriber, SubscriptionRecordPolicy(EmailSubscriber))


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


#: A subscriber without an account's state (selectors.email_subscriber_state).
EMAIL_SUBSCRIBER_STATES = {
    "confirmed": pgettext_lazy("subscriber", "Confirmed"),
    "pending": pgettext_lazy("subscriber", "Pending confirmation"),
    "withdrawn": pgettext_lazy("subscriber", "Unsubscribed"),
}


class EmailSubscriberFilterSet(WagtailFilterSet):
    state = django_filters.ChoiceFilter(
        label=_("Status"),
        choices=list(EMAIL_SUBSCRIBER_STATES.items()),
        method="filter_state",
        empty_label=_("All"),
    )

    class Meta:
        model = EmailSubscriber
        fields: list[str] = []

    def filter_state(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if value == "withdrawn":
            return queryset.filter(withdrawn_at__isnull=False)
        if value == "pending":
            return queryset.filter(confirmed_at__isnull=True, withdrawn_at__isnull=True)
        if value == "confirmed":
            return queryset.filter(
                confirmed_at__isnull=False, withdrawn_at__isnull=True
            )
        return queryset


def _topics(subscriber: EmailSubscriber) -> str:
    """The chosen topics' names, in the admin's language (prefetched)."""
    return "、".join(str(topic) for topic in subscriber.topics.all())


def _state(subscriber: EmailSubscriber) -> str:
    return str(EMAIL_SUBSCRIBER_STATES[email_subscriber_state(subscriber)])


class EmailSubscriberViewSet(ModelViewSet):
    """Subscribers without an account (double opt-in by e-mail address):
    the address, the topics, whether the confirmation link was followed,
    and since when (read-only: their consent is theirs to give and
    withdraw, from the e-mails' links). A pending sign-up holds no topics:
    the choices travel in the confirmation link until it is followed."""

    model = EmailSubscriber
    icon = "mail"
    menu_label = _("Subscribers without an account")
    menu_name = "email-subscribers"
    copy_view_enabled = False
    inspect_view_enabled = True
    search_fields = ["email"]
    filterset_class = EmailSubscriberFilterSet
    list_display = [
        Column("email", label=_("e-mail address")),
        Column("topics", label=_("Topics"), accessor=_topics),
        Column("state", label=_("Status"), accessor=_state),
        DateColumn("created_at", label=_("signed up"), sort_key="created_at"),
        DateColumn(
            "confirmed_at", label=_("consent confirmed"), sort_key="confirmed_at"
        ),
        DateColumn("withdrawn_at", label=_("withdrawn"), sort_key="withdrawn_at"),
    ]
    ordering = ["-created_at", "-pk"]
    inspect_view_fields = [
        "email",
        "language",
        "topics",
        "audiences",
        "created_at",
        "confirmation_sent_at",
        "confirmed_at",
        "withdrawn_at",
        "updated_at",
    ]
    form_fields = ["email"]

    def get_queryset(self, request):
        return EmailSubscriber.objects.prefetch_related("topics")


class SubscriptionsGroup(ViewSetGroup):
    items = (
        AnnouncementViewSet("announcements"),
        SubscriptionViewSet("subscribers"),
        EmailSubscriberViewSet("email_subscribers"),
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
            "view_emailsubscriber",
        ],
    )


# Settings › Background work (portal.background_work): announcements.
hooks.register(background_work.REGISTER_HOOK, announcement_work)

"""Wagtail's user admin, with the portal's forms (no username or split name)."""

from wagtail.users.apps import WagtailUsersAppConfig


class PortalUsersConfig(WagtailUsersAppConfig):
    user_viewset = "portal.admin_views.PortalUserViewSet"

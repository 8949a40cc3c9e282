"""Admin views that adapt Wagtail's screens to the portal's user model."""

from wagtail.users.views.users import UserViewSet

from portal.forms import PortalUserCreationForm, PortalUserEditForm


class PortalUserViewSet(UserViewSet):
    def get_form_class(self, for_update: bool = False):
        return PortalUserEditForm if for_update else PortalUserCreationForm

"""What the certificate screens share: the states a checker is told, the
viewsets' URL namespaces, the permission policies and the read-only viewset."""

from typing import Any

from django.urls import path
from django.utils.translation import gettext_lazy

from wagtail.admin.admin_url_finder import ModelAdminURLFinder
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.permission_policies import ModelPermissionPolicy

from courses.models import (
    Certificate,
    CertificateBatch,
    CertificateRequest,
    CertificateTemplate,
)

#: What a checker is told, as Certificate.state says it.
STATES = {
    "valid": gettext_lazy("Valid"),
    "expired": gettext_lazy("Expired"),
    "revoked": gettext_lazy("Revoked"),
    "superseded": gettext_lazy("Superseded"),
}
#: The admin URL namespaces of the viewsets ("certificates" is the public pages').
CERTIFICATES = "certificate_admin"
REQUESTS = "certificate_requests"
BATCHES = "certificate_batches"


# --- permissions ---------------------------------------------------------------


class CertificatePermissionPolicy(ModelPermissionPolicy):
    """The model's permissions, less the actions that never happen here.

    Certificates, requests and runs are written by the services only, and no
    certificate record is ever deleted (docs/decisions.md, decision 2): those actions
    are refused to everyone, superusers included. For certificates, "change"
    is what allows revoking and reissuing.
    """

    def __init__(self, model: Any, *, refused: set[str]) -> None:
        super().__init__(model)
        self.refused = refused

    def user_has_permission(self, user: Any, action: str) -> bool:
        return action not in self.refused and super().user_has_permission(user, action)

    def users_with_any_permission(self, actions: Any) -> Any:
        allowed = [a for a in actions if a not in self.refused]
        if not allowed:
            return super().users_with_any_permission([]).none()
        return super().users_with_any_permission(allowed)


POLICIES = {
    CertificateTemplate: CertificatePermissionPolicy(
        CertificateTemplate, refused={"delete"}
    ),
    Certificate: CertificatePermissionPolicy(Certificate, refused={"add", "delete"}),
    CertificateRequest: CertificatePermissionPolicy(
        CertificateRequest, refused={"add", "delete"}
    ),
    CertificateBatch: CertificatePermissionPolicy(
        CertificateBatch, refused={"change", "delete"}
    ),
}


class ReadOnlyViewSet(ModelViewSet):
    """A listing and a page per object, nothing to add, edit or delete: the
    edit, add, delete, copy and usage URLs are never made, so no link to
    them appears; extra views come from ``extra_urlpatterns``."""

    inspect_view_enabled = True
    copy_view_enabled = False
    add_to_reference_index = False
    #: The Django permissions offered in Wagtail's group settings.
    offered_permissions: tuple[str, ...] = ("view",)

    def get_common_view_kwargs(self, **kwargs):
        return super().get_common_view_kwargs(
            **{
                "add_url_name": None,
                "edit_url_name": None,
                "delete_url_name": None,
                "usage_url_name": None,
                "history_url_name": None,
                **kwargs,
            }
        )

    def get_urlpatterns(self):
        conv = self.pk_path_converter
        return [
            path("", self.index_view, name="index"),
            path("results/", self.index_results_view, name="index_results"),
            path(f"inspect/<{conv}:pk>/", self.inspect_view, name="inspect"),
            *self.extra_urlpatterns(),
        ]

    def extra_urlpatterns(self) -> list:
        return []

    @property
    def url_finder_class(self):
        # Wagtail's site history links each logged object here.
        return type(
            "_InspectURLFinder",
            (ModelAdminURLFinder,),
            {"edit_url_name": self.get_url_name("inspect")},
        )

    def get_permissions_to_register(self):
        codenames = [
            f"{action}_{self.model_name}" for action in self.offered_permissions
        ]
        return super().get_permissions_to_register().filter(codename__in=codenames)


def _admin_messages(error: Exception) -> str:
    return " ".join(getattr(error, "messages", None) or [str(error)])

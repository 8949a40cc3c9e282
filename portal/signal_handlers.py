"""Forget cached frame parts (portal.frame) when what they show changes, and
note in the session when staff set up their second factor (portal.staff).

Handlers delete cache entries (at once and again on commit) or write to the
session; they never write rows. Connected in PortalConfig.ready().
"""

from django.contrib.auth.models import Group, Permission
from django.db.models.signals import m2m_changed, post_delete, post_save

from wagtail.models import Page, PageViewRestriction, Site
from wagtail.signals import page_unpublished, post_page_move

from portal import frame


def _page_changed(sender, instance=None, **kwargs) -> None:
    # Any page: a title, slug, "show in menus" or live flag of a site root's
    # child changes the menu. Saves of other pages forget it too: cheaper
    # than telling them apart, and rare next to reads.
    if isinstance(instance, Page):
        frame.frames_invalidate()


def _frame_changed(sender, **kwargs) -> None:
    frame.frames_invalidate()


def _permissions_changed(sender, **kwargs) -> None:
    frame.permissions_invalidate()


def _user_changed(sender, instance, **kwargs) -> None:
    # is_superuser or is_active may have changed.
    frame.admin_access_invalidate(user_id=instance.pk)


def connect() -> None:
    from allauth.mfa.signals import authenticator_added

    from django.contrib.auth import get_user_model

    from portal import staff

    # Setting up an authenticator proves it for the session (portal.staff).
    authenticator_added.connect(
        staff.authenticator_added, dispatch_uid="portal_staff_authenticator_added"
    )

    from portal.models import SiteSettings

    user_model = get_user_model()
    post_save.connect(_page_changed, dispatch_uid="portal_frame_page_saved")
    post_delete.connect(_page_changed, dispatch_uid="portal_frame_page_deleted")
    page_unpublished.connect(_frame_changed, dispatch_uid="portal_frame_unpublished")
    post_page_move.connect(_frame_changed, dispatch_uid="portal_frame_page_moved")
    for model in (PageViewRestriction, SiteSettings, Site):
        for signal in (post_save, post_delete):
            signal.connect(
                _frame_changed,
                sender=model,
                dispatch_uid=f"portal_frame_{model.__name__}_{signal is post_save}",
            )

    for through in (
        user_model.groups.through,
        user_model.user_permissions.through,
        Group.permissions.through,
    ):
        m2m_changed.connect(
            _permissions_changed,
            sender=through,
            dispatch_uid=f"portal_frame_{through.__name__}",
        )
    for model in (Group, Permission):
        post_delete.connect(
            _permissions_changed,
            sender=model,
            dispatch_uid=f"portal_frame_{model.__name__}_deleted",
        )
    post_save.connect(
        _user_changed, sender=user_model, dispatch_uid="portal_frame_user_saved"
    )

"""Registration's admin hooks (imported by events/wagtail_hooks.py):
the attendee list's URL, a "Registrations" button on each event in the page
tree, the permission that opens it, and filling freed places when an
editor publishes more of them."""

from django.contrib.auth.models import Permission
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from wagtail import hooks
from wagtail.admin import widgets

from events.models import EventPage
from events.registration.admin_views import AttendeesView, can_view_attendees

URL_NAME = "events_registration_attendees"


@hooks.register("register_admin_urls")
def register_attendees_url():
    return [
        path(
            "event-registrations/<int:event_id>/",
            AttendeesView.as_view(),
            name=URL_NAME,
        )
    ]


@hooks.register("register_permissions")
def register_registration_permission():
    # "Can view registration" opens the attendee list, in the group settings.
    return Permission.objects.filter(
        content_type__app_label="events", codename="view_registration"
    )


def _attendees_button(page, user, button_class, priority):
    if issubclass(page.specific_class or type(page), EventPage) and can_view_attendees(
        user
    ):
        yield button_class(
            _("Registrations"),
            reverse(URL_NAME, args=[page.pk]),
            icon_name="group",
            priority=priority,
        )


@hooks.register("register_page_header_buttons")
def attendees_header_button(page, user, view_name, next_url=None):
    yield from _attendees_button(page, user, widgets.Button, 45)


@hooks.register("register_page_listing_more_buttons")
def attendees_listing_button(page, user, next_url=None):
    yield from _attendees_button(page, user, widgets.Button, 45)


@hooks.register("after_publish_page")
def promote_after_publish(request, page):
    # More places published: the waiting list gets them (after the commit).
    if isinstance(page, EventPage):
        from events.registration.tasks import promote_waiting_registrations

        promote_waiting_registrations.delay_on_commit(page.pk)

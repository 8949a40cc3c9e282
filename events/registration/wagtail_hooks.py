"""Registration's admin hooks (imported by events/wagtail_hooks.py):
the attendee list's, messaging's and cancelling's URLs, a "Registrations"
button on each event its organisers may see, the permission that opens it,
the history's wording of a cancellation and a message, filling freed places
when an editor publishes more of them, and telling registrants when a
publish changes the event's time or place (the page_published signal)."""

from django.contrib.auth.models import Permission
from django.urls import path, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from wagtail import hooks
from wagtail.admin import widgets
from wagtail.log_actions import LogFormatter
from wagtail.signals import page_published

from events.models import EventPage
from events.registration import services
from events.registration.admin_views import (
    CANCEL_URL_NAME,
    MESSAGE_URL_NAME,
    AttendeesView,
    CancelEventView,
    MessageView,
    can_view_attendees,
)

URL_NAME = "events_registration_attendees"


@hooks.register("register_admin_urls")
def register_attendees_url():
    return [
        path(
            "event-registrations/<int:event_id>/",
            AttendeesView.as_view(),
            name=URL_NAME,
        ),
        path(
            "event-registrations/<int:event_id>/message/",
            MessageView.as_view(),
            name=MESSAGE_URL_NAME,
        ),
        path(
            "event-registrations/<int:event_id>/cancel-event/",
            CancelEventView.as_view(),
            name=CANCEL_URL_NAME,
        ),
    ]


@hooks.register("register_permissions")
def register_registration_permission():
    # "Can view registration" opens the attendee list, in the group settings.
    return Permission.objects.filter(
        content_type__app_label="events", codename="view_registration"
    )


def _attendees_button(page, user, button_class, priority):
    if (
        issubclass(page.specific_class or type(page), EventPage)
        and can_view_attendees(user)
        and (user.is_superuser or page.permissions_for_user(user).can_edit())
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


def on_event_published(sender, instance, revision=None, **kwargs):
    """A publish that changed the event's time or place raises its sequence
    and e-mails its registrants on commit (services.event_schedule_published);
    text-only changes send nothing."""
    if isinstance(instance, EventPage) and instance.live:
        services.event_schedule_published(event_id=instance.pk)


page_published.connect(
    on_event_published, sender=EventPage, dispatch_uid="events_schedule_published"
)


@hooks.register("register_log_actions")
def register_informing_log_actions(actions):
    @actions.register_action(services.LOG_CANCELLED)
    class EventCancelled(LogFormatter):
        label = _("Cancel event")

        def format_message(self, log_entry) -> str:
            data = log_entry.data or {}
            return gettext(
                "Event cancelled (%(count)s registrants e-mailed): %(reason)s"
            ) % {"count": data.get("registrants", 0), "reason": data.get("reason", "")}

    @actions.register_action(services.LOG_MESSAGE_SENT)
    class MessageSent(LogFormatter):
        label = _("Message registrants")

        def format_message(self, log_entry) -> str:
            data = log_entry.data or {}
            return gettext("Message “%(subject)s” sent to %(count)s registrants") % {
                "subject": data.get("subject", ""),
                "count": data.get("recipients", 0),
            }

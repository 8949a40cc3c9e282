"""{% event_registration_state page as state %}: what an event page's
registration panel shows (events/templates/events/includes/registration_panel.html)."""

from typing import Any

from django import template

from events.registration.selectors import PanelState, event_panel_state

register = template.Library()


@register.simple_tag(takes_context=True)
def event_registration_state(context: dict[str, Any], event) -> PanelState:
    request = context.get("request")
    user = getattr(request, "user", None)
    return event_panel_state(event=event, user=user)

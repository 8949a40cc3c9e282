"""Template helpers for campaigns (events.campaigns)."""

from collections.abc import Iterable

from django import template

from events.campaigns import CampaignEvents, campaign_events_split
from events.models import EventPage

register = template.Library()


@register.filter
def split_past(events: Iterable[EventPage] | CampaignEvents) -> CampaignEvents:
    """A campaign's events (a list already loaded) as upcoming and past, as
    the home page groups them: `{% with groups=campaign_events|split_past %}`."""
    if isinstance(events, CampaignEvents):
        return events
    return campaign_events_split(events=list(events))

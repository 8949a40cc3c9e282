"""schema.org JSON-LD for an event page (an `Event`), in the page's <head>
(`{% block structured_data %}` of base.html): what search engines show of an
event. See docs/seo.md."""

import logging
from typing import Any

from django import template
from django.http import HttpRequest
from django.utils import timezone
from django.utils.safestring import SafeString

from events.models import EventPage
from portal import seo

register = template.Library()
logger = logging.getLogger(__name__)

SCHEMA = "https://schema.org/"
IMAGE_SPEC = "fill-1200x630"  # the Open Graph rendition: made once per image


def _image_url(event: EventPage) -> str:
    if event.image is not None:
        try:
            return seo.absolute(event.image.get_rendition(IMAGE_SPEC).url)
        except Exception:  # a missing or broken file: the default image
            logger.warning("No rendition for event image %s", event.image_id)
    return seo.default_share_image().url


def event_data(*, event: EventPage, request: HttpRequest | None) -> dict[str, Any]:
    """The event as a schema.org Event (https://schema.org/Event)."""
    places: list[dict[str, Any]] = []
    if event.venue or event.address:
        places.append(
            seo.drop_empty(
                {
                    "@type": "Place",
                    "name": seo.text_or_none(event.venue or event.address),
                    "address": seo.text_or_none(event.address or event.venue),
                }
            )
        )
    if event.online_url:
        places.append({"@type": "VirtualLocation", "url": event.online_url})
    if len(places) == 2:
        mode = "MixedEventAttendanceMode"
    elif event.online_url:
        mode = "OnlineEventAttendanceMode"
    else:
        mode = "OfflineEventAttendanceMode"
    url = event.get_full_url(request)
    return seo.drop_empty(
        {
            "@context": "https://schema.org",
            "@type": "Event",
            "name": event.title,
            "description": seo.text_or_none(event.search_description or event.summary),
            "startDate": timezone.localtime(event.starts_at).isoformat(),
            "endDate": timezone.localtime(event.ends_at).isoformat(),
            # cancelled_at: an event called off (another change adds it;
            # read defensively so that this works either way).
            "eventStatus": SCHEMA
            + (
                "EventCancelled"
                if getattr(event, "cancelled_at", None)
                else "EventScheduled"
            ),
            "eventAttendanceMode": SCHEMA + mode,
            "location": places[0] if len(places) == 1 else places,
            "organizer": {"@type": "Organization", "name": event.organiser}
            if event.organiser
            else None,
            "image": [_image_url(event)],
            "url": seo.absolute(url) if url else None,
            "inLanguage": seo.hreflang("zh-hans"),
        }
    )


@register.simple_tag(takes_context=True)
def event_json_ld(context: template.Context, event: EventPage) -> SafeString:
    """`<script type="application/ld+json">` describing `event`."""
    return seo.json_ld_script(event_data(event=event, request=context.get("request")))

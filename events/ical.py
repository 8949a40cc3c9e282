"""iCalendar (RFC 5545) files for events: one event's `.ics` download (also
attached to registration confirmations) and an index's feed.

Times are written with TZID=Asia/Shanghai and the matching VTIMEZONE, so a
calendar shows them at the hour printed on the page whatever its own zone.
The UID depends only on the event's id and the portal's configured host, so
importing the same event twice updates it instead of adding a copy.
"""

import datetime
from collections.abc import Iterable
from email.utils import parseaddr
from typing import TYPE_CHECKING
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import icalendar

from django.conf import settings
from django.utils import timezone

from portal.site_url import base_url

if TYPE_CHECKING:
    from events.models import EventPage

PRODID = "-//IP training portal//events//ZH"


def _zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def event_uid(event: "EventPage") -> str:
    """The event's stable UID: `event-<id>@<the portal's host>`. The host is
    the public address's (portal.site_url), not the request's, so that the file in
    the confirmation e-mail and the one downloaded are the same event."""
    host = urlsplit(base_url()).hostname or "portal"
    return f"event-{event.pk}@{host}"


def event_full_url(event: "EventPage", *, base_url: str) -> str:
    """The event page's address on `base_url` (its path in the page's language)."""
    parts = event.get_url_parts()
    path = parts[2] if parts else event.url_path
    return base_url.rstrip("/") + path


def event_location(event: "EventPage") -> str:
    """Venue and address, or the online link when there is no place."""
    place = "，".join(part for part in (event.venue, event.address) if part)
    return place or event.online_url


def organizer_address() -> str:
    """The ORGANIZER of an e-mailed invitation: the portal's sender address
    (the bare address of DEFAULT_FROM_EMAIL)."""
    return parseaddr(settings.DEFAULT_FROM_EMAIL)[1] or "noreply@portal"


def _vevent(
    event: "EventPage", *, base_url: str, attendee: str | None = None
) -> icalendar.Event:
    zone = _zone()
    url = event_full_url(event, base_url=base_url)
    vevent = icalendar.Event()
    vevent.add("uid", event_uid(event))
    # Raised with each published change of time or place and by the
    # cancellation (events.registration.services): a calendar applies a file
    # only if its SEQUENCE is not lower than the one it holds.
    vevent.add("sequence", event.ical_sequence)
    if event.cancelled_at is not None:
        vevent.add("status", "CANCELLED")
    else:
        vevent.add("status", "CONFIRMED")
    if attendee:
        # An iTIP invitation (REQUEST, CANCEL) names its organiser and the
        # attendee it is for, or calendars treat it as a plain file.
        organizer = icalendar.vCalAddress(f"mailto:{organizer_address()}")
        vevent.add("organizer", organizer)
        person = icalendar.vCalAddress(f"mailto:{attendee}")
        person.params["ROLE"] = "REQ-PARTICIPANT"
        person.params["PARTSTAT"] = "ACCEPTED"
        person.params["RSVP"] = "FALSE"
        vevent.add("attendee", person)
    # DTSTAMP: when this version of the event was published, so the file for
    # an unchanged event is byte-for-byte the same each time it is fetched.
    stamp = event.last_published_at or event.latest_revision_created_at
    vevent.add("dtstamp", (stamp or timezone.now()).astimezone(datetime.UTC))
    vevent.add("dtstart", event.starts_at.astimezone(zone))
    vevent.add("dtend", event.ends_at.astimezone(zone))
    vevent.add("summary", event.title)
    location = event_location(event)
    if location:
        vevent.add("location", location)
    description = [event.summary] if event.summary else []
    if event.online_url and event.online_url != location:
        description.append(event.online_url)
    if event.organiser:
        description.append(event.organiser)
    description.append(url)
    vevent.add("description", "\n\n".join(description))
    vevent.add("url", url)
    vevent.add("categories", [str(event.get_event_type_display())])
    if event.last_published_at:
        vevent.add("last-modified", event.last_published_at.astimezone(datetime.UTC))
    return vevent


def _calendar(
    vevents: Iterable[icalendar.Event], *, method: str = "PUBLISH", **extra: str
) -> bytes:
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    for key, value in extra.items():
        calendar.add(key, value)
    for vevent in vevents:
        calendar.add_component(vevent)
    calendar.add_missing_timezones()
    return calendar.to_ical()


#: The iTIP methods of the e-mailed files: an invitation (a new one or an
#: update of the same UID) and its withdrawal.
METHODS = ("PUBLISH", "REQUEST", "CANCEL")


def ics_for_event(
    event: "EventPage",
    *,
    base_url: str,
    method: str = "PUBLISH",
    attendee: str | None = None,
) -> bytes:
    """One event as an iCalendar file (UTF-8 bytes).

    `base_url` is the site's scheme and host ("https://ip.example.gov.cn"),
    used for the page's URL and the UID. `method` PUBLISH (the download),
    REQUEST (a registrant's place, first or updated) or CANCEL (the event is
    cancelled), the last two for one `attendee`'s e-mail address. Reads the
    page only; pure.
    """
    if method not in METHODS:
        raise ValueError(f"Unknown iTIP method: {method}")
    return _calendar(
        [_vevent(event, base_url=base_url, attendee=attendee)], method=method
    )


def ics_for_events(events: Iterable["EventPage"], *, base_url: str, name: str) -> bytes:
    """Several events as one calendar named `name` (a feed), UTF-8 bytes."""
    return _calendar(
        [_vevent(event, base_url=base_url) for event in events],
        **{"x-wr-calname": name, "x-wr-timezone": settings.TIME_ZONE},
    )

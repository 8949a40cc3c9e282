"""The public views of the event pages, called from their routes in models.py:
an index's list and calendar views and iCal feed, an event's `.ics` download,
and the words and links the templates show. Reads only (through selectors).
"""

import datetime
from typing import TYPE_CHECKING, Any

from django.http import HttpRequest, HttpResponse, QueryDict
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from events import ical, selectors
from events.filters import EventFilterForm
from portal import selectors as portal_selectors
from portal import site_url

if TYPE_CHECKING:
    from events.models import EventIndexPage, EventPage

PER_PAGE = 10
FEED_LIMIT = 500
ICAL_CONTENT_TYPE = "text/calendar; charset=utf-8"


def time_range_display(starts_at: datetime.datetime, ends_at: datetime.datetime) -> str:
    """When an event is on, in local time and the active language:
    "2027年4月26日（星期一）09:00–11:00" or "Monday 26 April 2027, 09:00–11:00";
    both dates in full when it runs over several days."""
    start = timezone.localtime(starts_at)
    end = timezone.localtime(ends_at)
    if start.date() == end.date():
        return _("%(weekday)s %(date)s, %(start)s–%(end)s") % {
            "weekday": date_format(start, "l"),
            "date": date_format(start, "DATE_FORMAT"),
            "start": date_format(start, "TIME_FORMAT"),
            "end": date_format(end, "TIME_FORMAT"),
        }
    return _("%(start)s – %(end)s") % {
        "start": date_format(start, "DATETIME_FORMAT"),
        "end": date_format(end, "DATETIME_FORMAT"),
    }


def _ics_response(content: bytes, *, filename: str, attachment: bool) -> HttpResponse:
    response = HttpResponse(content, content_type=ICAL_CONTENT_TYPE)
    disposition = "attachment" if attachment else "inline"
    response["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    return response


def _query(params: dict[str, str], **changes: str) -> str:
    """A query string ("?a=1&b=2") of `params` with some keys replaced or
    dropped (empty values are left out)."""
    query = QueryDict(mutable=True)
    for key, value in {**params, **changes}.items():
        if value:
            query[key] = value
    encoded = query.urlencode()
    return f"?{encoded}" if encoded else ""


def _index_links(
    index: "EventIndexPage", request: HttpRequest, form: EventFilterForm
) -> dict[str, str]:
    """The list, calendar and feed addresses, keeping the valid filters."""
    url = index.get_url(request) or index.url or "/"
    params = form.query_params()
    shared = {"type": params.get("type", ""), "audience": params.get("audience", "")}
    in_month = {"month": params.get("month", ""), **shared}
    calendar = url + index.reverse_subpage("calendar")
    return {
        "list_url": url + _query(in_month),
        "calendar_url": calendar + _query(in_month),
        "clear_url": url if "when" in form.fields else calendar,
        "feed_url": url + index.reverse_subpage("feed") + _query(shared),
    }


def _month_links(form: EventFilterForm, month: datetime.date) -> dict[str, Any]:
    """The months before and after `month`, with links keeping the filters."""
    params = form.query_params()
    previous, following = selectors.previous_month(month), selectors.next_month(month)
    return {
        "previous_month": previous,
        "next_month": following,
        "previous_url": _query(params, month=f"{previous:%Y-%m}"),
        "next_url": _query(params, month=f"{following:%Y-%m}"),
        "this_month_url": _query(params, month=""),
    }


def index_list(index: "EventIndexPage", request: HttpRequest) -> TemplateResponse:
    """The list view: upcoming events (or past, or all), filtered, paginated."""
    form = EventFilterForm(request.GET)
    form.is_valid()
    filters = form.filters()
    events = selectors.events_filtered(index=index, **filters)
    items = portal_selectors.paginate(events, request, per_page=PER_PAGE)
    params = form.query_params()
    context: dict[str, Any] = {
        "view": "list",
        "form": form,
        "items": items,
        "when": filters["when"],
        "month": filters["month"],
        "filtered": form.is_filtered,
        "past_url": _query(params, when=EventFilterForm.WHEN_PAST),
        "upcoming_url": _query(params, when=EventFilterForm.WHEN_UPCOMING),
        **_index_links(index, request, form),
    }
    if filters["month"]:
        # The list of one month also steps to the months around it.
        context.update(_month_links(form, filters["month"]))
    return index.render(request, context_overrides=context)


def _weekday_names() -> list[tuple[str, str]]:
    """(full, short) weekday names from Monday, in the active language."""
    monday = datetime.date(2024, 1, 1)
    days = [monday + datetime.timedelta(days=n) for n in range(7)]
    return [(date_format(day, "l"), date_format(day, "D")) for day in days]


def index_calendar(index: "EventIndexPage", request: HttpRequest) -> TemplateResponse:
    """The calendar view: one month's grid (this month unless ?month=)."""
    form = EventFilterForm(request.GET, with_when=False)
    form.is_valid()
    filters = form.filters()
    month = filters["month"] or timezone.localdate().replace(day=1)
    grid = selectors.event_calendar_month(
        index=index,
        month=month,
        event_type=filters["event_type"],
        audience=filters["audience"],
    )
    context = {
        "view": "calendar",
        "form": form,
        "calendar": grid,
        "month": month,
        "filtered": form.is_filtered,
        "weekdays": _weekday_names(),
        **_month_links(form, month),
        **_index_links(index, request, form),
    }
    return index.render(request, context_overrides=context)


def index_feed(index: "EventIndexPage", request: HttpRequest) -> HttpResponse:
    """The index's upcoming events as an iCal feed (type and audience filters
    apply; a bad value is left out, as in the list)."""
    form = EventFilterForm(request.GET, with_when=False)
    form.is_valid()
    filters = form.filters()
    events = selectors.events_upcoming(
        index=index,
        limit=FEED_LIMIT,
        event_type=filters["event_type"],
        audience=filters["audience"],
    )
    content = ical.ics_for_events(
        events, base_url=site_url.base_url(), name=index.title
    )
    return _ics_response(content, filename="events.ics", attachment=False)


def event_context(event: "EventPage", request: HttpRequest) -> dict[str, Any]:
    """What the event page shows besides its fields (places left are the
    registration panel's)."""
    url = event.get_url(request) or event.url or "/"
    return {
        "audiences": list(event.audiences.all()),
        "ics_url": url + event.reverse_subpage("ics"),
    }


def event_ics(event: "EventPage", request: HttpRequest) -> HttpResponse:
    """The event's `.ics` download."""
    content = ical.ics_for_event(event, base_url=site_url.base_url())
    return _ics_response(content, filename=f"event-{event.pk}.ics", attachment=True)

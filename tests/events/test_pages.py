"""The public event pages: the list and calendar of an event index with their
filters, an event's page, its .ics download and the index's iCal feed, in
Chinese and in English."""

import datetime
import re
from zoneinfo import ZoneInfo

import icalendar
import pytest

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from events.ical import ics_for_event, ics_for_events
from events.models import Registration
from portal.models import Audience
from tests.courses.factories import CourseIndexPageFactory, CoursePageFactory
from tests.events.factories import (
    EventIndexPageFactory,
    EventPageFactory,
    shanghai,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Far enough ahead to be upcoming whenever the suite runs; 28 April 2031 is a
# Monday.
MONDAY = (2031, 4, 28)


@pytest.fixture
def index(home):
    return EventIndexPageFactory(parent=home, title="活动", slug="events")


def event_at(index, *day_and_time, hours=2, **kwargs):
    starts = shanghai(*day_and_time)
    return EventPageFactory(
        parent=index,
        starts_at=starts,
        ends_at=starts + datetime.timedelta(hours=hours),
        **kwargs,
    )


def text(response) -> str:
    assert response.status_code == 200
    return response.content.decode()


def titles_in_order(html: str, titles: list[str]) -> list[str]:
    """The given titles in the order the page shows them."""
    found = [(html.find(f">{title}<"), title) for title in titles]
    return [title for position, title in sorted(found) if position >= 0]


# --- The list ---------------------------------------------------------------


def test_list_shows_upcoming_events_soonest_first_and_past_ones_on_request(
    client, index
):
    now = timezone.now()
    later = EventPageFactory(
        parent=index,
        title="专利检索培训班",
        starts_at=now + datetime.timedelta(days=30),
    )
    sooner = EventPageFactory(
        parent=index, title="商标保护讲座", starts_at=now + datetime.timedelta(days=2)
    )
    past = EventPageFactory(
        parent=index,
        title="版权宣传活动",
        starts_at=now - datetime.timedelta(days=10),
    )
    html = text(client.get("/events/"))
    assert titles_in_order(html, [later.title, sooner.title, past.title]) == [
        sooner.title,
        later.title,
    ]
    assert "?when=past" in html  # the way to the past events

    html = text(client.get("/events/", {"when": "past"}))
    assert titles_in_order(html, [later.title, sooner.title, past.title]) == [
        past.title
    ]


def test_an_unpublished_event_is_not_listed(client, index):
    draft = EventPageFactory(parent=index, title="尚未发布的讲座", live=False)
    assert draft.title not in text(client.get("/events/"))


def test_filters_by_month_type_and_audience_from_a_shareable_address(client, index):
    civil_servants = Audience.objects.get(code="civil_servant")
    teachers = Audience.objects.get(code="teacher")
    april_lecture = event_at(index, 2031, 4, 28, 9, 0, title="四月讲座")
    april_lecture.audiences.set([civil_servants])
    april_lecture.save()
    april_training = event_at(
        index, 2031, 4, 20, 9, 0, title="四月培训班", event_type="training"
    )
    april_training.audiences.set([civil_servants, teachers])
    april_training.save()
    event_at(index, 2031, 5, 6, 9, 0, title="五月讲座")

    html = text(client.get("/events/", {"month": "2031-04"}))
    assert titles_in_order(html, ["四月讲座", "四月培训班", "五月讲座"]) == [
        "四月培训班",
        "四月讲座",
    ]
    html = text(client.get("/events/", {"month": "2031-04", "type": "training"}))
    assert titles_in_order(html, ["四月讲座", "四月培训班", "五月讲座"]) == [
        "四月培训班"
    ]
    html = text(client.get("/events/", {"audience": "teacher"}))
    assert titles_in_order(html, ["四月讲座", "四月培训班", "五月讲座"]) == [
        "四月培训班"
    ]
    # The form shows the filters in use, each with its label.
    html = text(client.get("/events/", {"month": "2031-04", "audience": "teacher"}))
    assert 'value="2031-04"' in html
    assert '<option value="teacher" selected>' in html
    for field in ("month", "type", "audience", "when"):
        assert f'<label for="id_{field}">' in html


def test_an_event_over_the_turn_of_a_month_is_in_both_months(client, index):
    event_at(index, 2031, 4, 30, 9, 0, hours=48, title="跨月展览")
    assert "跨月展览" in text(client.get("/events/", {"month": "2031-04"}))
    assert "跨月展览" in text(client.get("/events/", {"month": "2031-05"}))
    assert "跨月展览" not in text(client.get("/events/", {"month": "2031-06"}))


def test_a_month_is_a_shanghai_month(client, index):
    # 00:30 on 1 May in Chongqing is still 30 April in UTC.
    event_at(index, 2031, 5, 1, 0, 30, hours=1, title="五一零点活动")
    assert "五一零点活动" in text(client.get("/events/", {"month": "2031-05"}))
    assert "五一零点活动" not in text(client.get("/events/", {"month": "2031-04"}))


@pytest.mark.parametrize(
    "params",
    [
        {"month": "2031-13"},
        {"month": "April"},
        {"type": "party"},
        {"audience": "nobody"},
        {"when": "tomorrow"},
        {"month": "0000-01", "type": "x" * 500, "page": "last-but-one"},
    ],
)
def test_bad_filters_are_left_out_with_a_note(client, index, params):
    event_at(index, *MONDAY, 9, 0, title="照常显示的讲座")
    html = text(client.get("/events/", params))
    assert 'role="alert"' in html
    assert "照常显示的讲座" in html


def test_bad_filters_are_explained_in_english_too(client, index):
    html = text(client.get("/en/events/", {"month": "2031-13"}))
    assert "Some filters were not understood" in html
    assert "is not a month" in html


def test_the_list_is_paginated_and_keeps_the_filters(client, index):
    for n in range(12):
        event_at(index, 2031, 4, 1 + n, 9, 0, title=f"分页讲座{n:02d}")
    html = text(client.get("/events/", {"month": "2031-04"}))
    assert "分页讲座00" in html
    assert "分页讲座10" not in html
    assert "month=2031-04&amp;page=2" in html
    html = text(client.get("/events/", {"month": "2031-04", "page": "2"}))
    assert "分页讲座10" in html
    assert "分页讲座00" not in html


def test_the_list_shows_places_left_from_confirmed_registrations(client, index):
    event = event_at(index, *MONDAY, 9, 0, capacity=3)
    for status in ("confirmed", "confirmed", "waiting"):
        Registration.objects.create(
            event=event,
            event_title=event.title,
            event_starts_at=event.starts_at,
            user=UserFactory(),
            status=status,
        )
    html = text(client.get("/en/events/"))
    assert "1 place left" in html


# --- The calendar -------------------------------------------------------------


def calendar_cells(html: str) -> dict[str, str]:
    """The grid's cells by date (YYYY-MM-DD) → their HTML."""
    cells = re.findall(
        r'<td class="event-calendar__day[^"]*"[^>]*>\s*'
        r'<time class="event-calendar__date" datetime="([\d-]+)">(.*?)</td>',
        html,
        re.S,
    )
    return dict(cells)


def test_the_calendar_puts_events_on_their_days_in_a_table(client, index):
    event_at(index, *MONDAY, 9, 0, title="周一讲座")
    event_at(index, 2031, 4, 2, 14, 0, hours=24 * 2, title="三天展览")
    event_at(index, 2031, 5, 6, 9, 0, title="五月讲座")
    html = text(client.get("/events/calendar/", {"month": "2031-04"}))
    assert "<table" in html and "<caption" in html
    assert html.count('<th scope="col">') == 7
    cells = calendar_cells(html)
    assert len(cells) == 30
    assert "周一讲座" in cells["2031-04-28"]
    assert "09:00" in cells["2031-04-28"]
    assert [day for day, cell in cells.items() if "三天展览" in cell] == [
        "2031-04-02",
        "2031-04-03",
        "2031-04-04",
    ]
    assert "五月讲座" not in html
    # Weeks start on Monday: April 2031 starts on a Tuesday, one empty cell.
    first_row = html.split("<tbody>")[1].split("</tr>")[0]
    assert first_row.count("is-outside") == 1


def test_the_calendar_steps_between_months_keeping_the_filters(client, index):
    event_at(index, 2031, 5, 6, 9, 0, title="五月培训班", event_type="training")
    html = text(
        client.get("/events/calendar/", {"month": "2031-04", "type": "training"})
    )
    assert 'href="?month=2031-03&amp;type=training" rel="prev"' in html
    assert 'href="?month=2031-05&amp;type=training" rel="next"' in html
    assert "五月培训班" not in html
    html = text(
        client.get("/events/calendar/", {"month": "2031-05", "type": "training"})
    )
    assert "五月培训班" in html
    # December steps to January of the next year.
    html = text(client.get("/events/calendar/", {"month": "2031-12"}))
    assert 'href="?month=2032-01" rel="next"' in html


def test_the_calendar_shows_this_month_by_default_with_today_marked(client, index):
    today = timezone.localdate()
    html = text(client.get("/events/calendar/"))
    assert f'datetime="{today:%Y-%m-%d}"' in html
    assert html.count('aria-current="date"') == 1
    assert f"{today.year}年{today.month}月" in html


def test_a_bad_calendar_month_shows_this_month_with_a_note(client, index):
    today = timezone.localdate()
    html = text(client.get("/events/calendar/", {"month": "2031-99"}))
    assert 'role="alert"' in html
    assert f"{today.year}年{today.month}月" in html


def test_the_calendar_in_english(client, index):
    event_at(index, *MONDAY, 9, 0, title="周一讲座")
    html = text(client.get("/en/events/calendar/", {"month": "2031-04"}))
    assert '<html lang="en">' in html
    assert "April 2031" in html
    assert '<abbr title="Monday">Mon</abbr>' in html
    assert 'href="/en/events/' in html
    assert "周一讲座" in calendar_cells(html)["2031-04-28"]


def test_the_list_and_calendar_link_to_each_other_keeping_the_filters(client, index):
    html = text(client.get("/events/", {"month": "2031-04", "audience": "teacher"}))
    assert 'href="/events/calendar/?month=2031-04&amp;audience=teacher"' in html
    html = text(client.get("/events/calendar/", {"month": "2031-04"}))
    assert 'href="/events/?month=2031-04"' in html


# --- Query counts -------------------------------------------------------------


def queries_for(client, url, params=None) -> int:
    """Queries of a second request (the first warms the caches), leaving out
    the shared cache's table."""
    client.get(url, params)
    with CaptureQueriesContext(connection) as context:
        response = client.get(url, params)
    assert response.status_code == 200
    return len([q for q in context.captured_queries if "portal_cache" not in q["sql"]])


def grow(index, count):
    audience = Audience.objects.get(code="civil_servant")
    for n in range(count):
        event = event_at(index, 2031, 4, 1 + n % 28, 9, 0, capacity=50)
        event.audiences.set([audience])
        event.save()
        Registration.objects.create(
            event=event,
            event_title=event.title,
            event_starts_at=event.starts_at,
            user=UserFactory(),
            status="confirmed",
        )


@pytest.mark.parametrize(
    "url,params",
    [
        ("/events/", {}),
        ("/events/", {"month": "2031-04", "audience": "civil_servant"}),
        ("/events/calendar/", {"month": "2031-04"}),
        ("/en/events/calendar/", {"month": "2031-04", "type": "lecture"}),
    ],
)
def test_list_and_calendar_queries_do_not_grow_with_the_events(
    client, index, url, params
):
    grow(index, 2)
    small = queries_for(client, url, params)
    grow(index, 20)
    assert queries_for(client, url, params) == small


# --- The event page -----------------------------------------------------------


@pytest.fixture
def lecture(index):
    event = event_at(
        index,
        *MONDAY,
        9,
        0,
        title="专利申请实务讲座",
        venue="重庆市知识产权局报告厅",
        address="重庆市渝北区",
        online_url="https://live.example.org/room/1",
        organiser="重庆市知识产权局",
        summary="讲解专利申请文件的撰写。",
        training_hours=2.5,
        capacity=80,
    )
    event.audiences.set([Audience.objects.get(code="civil_servant")])
    event.save()
    return event


def test_the_event_page_in_chinese(client, lecture):
    event = lecture
    html = text(client.get(event.url))
    assert "专利申请实务讲座" in html
    assert "2031年4月28日" in html and "星期一" in html and "09:00–11:00" in html
    assert 'datetime="2031-04-28T09:00:00+08:00"' in html
    assert "重庆市知识产权局报告厅" in html and "重庆市渝北区" in html
    assert 'href="https://live.example.org/room/1"' in html
    assert "公务员" in html
    assert "2.5" in html
    assert "讲解专利申请文件的撰写。" in html
    assert f'href="{event.url}ical/"' in html


def test_the_event_page_in_english(client, lecture):
    event = lecture
    url = event.url
    html = text(client.get(f"/en{url}"))
    assert '<html lang="en">' in html
    assert "Monday 28 April 2031, 09:00–11:00" in html
    assert "Lecture" in html
    assert "Civil servants" in html
    assert "80 places" in html
    assert "Add to calendar (.ics)" in html
    assert f'href="/en{url}ical/"' in html


def test_the_event_page_links_the_course(client, home, index):
    courses = CourseIndexPageFactory(parent=home)
    course = CoursePageFactory(parent=courses, title="专利基础", slug="patents")
    event = event_at(index, *MONDAY, 9, 0, course=course)
    html = text(client.get(event.url))
    assert f'href="{course.url}"' in html
    assert "专利基础" in html


def test_an_event_is_found_by_the_site_search(
    client, index, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        event_at(
            index, *MONDAY, 9, 0, title="地理标志保护讲座", venue="两江新区会议中心"
        )
    assert "地理标志保护讲座" in text(client.get("/search/", {"q": "地理标志"}))
    assert "地理标志保护讲座" in text(client.get("/search/", {"q": "两江新区"}))


# --- iCal -------------------------------------------------------------------


def test_the_event_ics_download(client, lecture):
    event = lecture
    response = client.get(f"{event.url}ical/")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="event-{event.pk}.ics"'
    )
    calendar = icalendar.Calendar.from_ical(response.content)
    [vevent] = calendar.walk("VEVENT")
    start = vevent.decoded("dtstart")
    assert start == datetime.datetime(2031, 4, 28, 9, 0, tzinfo=SHANGHAI)
    assert vevent["dtstart"].params["TZID"] == "Asia/Shanghai"
    assert vevent.decoded("dtend") == datetime.datetime(
        2031, 4, 28, 11, 0, tzinfo=SHANGHAI
    )
    assert str(vevent["summary"]) == "专利申请实务讲座"
    assert str(vevent["location"]) == "重庆市知识产权局报告厅，重庆市渝北区"
    assert str(vevent["url"]) == f"http://testserver{event.url}"
    assert "https://live.example.org/room/1" in str(vevent["description"])
    assert calendar.walk("VTIMEZONE")[0]["tzid"] == "Asia/Shanghai"
    # The same UID every time: importing twice updates, not duplicates.
    again = icalendar.Calendar.from_ical(client.get(f"{event.url}ical/").content)
    assert again.walk("VEVENT")[0]["uid"] == vevent["uid"]


def test_an_online_event_ics_has_the_link_as_location(client, index):
    event = event_at(
        index,
        *MONDAY,
        19,
        0,
        venue="",
        event_type="livestream",
        online_url="https://live.example.org/room/2",
    )
    calendar = icalendar.Calendar.from_ical(client.get(f"{event.url}ical/").content)
    assert str(calendar.walk("VEVENT")[0]["location"]) == (
        "https://live.example.org/room/2"
    )


def test_the_feed_has_the_upcoming_events(client, index):
    now = timezone.now()
    EventPageFactory(
        parent=index, title="下周讲座", starts_at=now + datetime.timedelta(days=7)
    )
    EventPageFactory(
        parent=index,
        title="下月培训班",
        event_type="training",
        starts_at=now + datetime.timedelta(days=30),
    )
    EventPageFactory(
        parent=index, title="上周讲座", starts_at=now - datetime.timedelta(days=7)
    )
    EventPageFactory(parent=index, title="草稿讲座", live=False)
    response = client.get("/events/ical/")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert 'filename="events.ics"' in response["Content-Disposition"]
    calendar = icalendar.Calendar.from_ical(response.content)
    assert str(calendar["x-wr-calname"]) == "活动"
    summaries = [str(vevent["summary"]) for vevent in calendar.walk("VEVENT")]
    assert summaries == ["下周讲座", "下月培训班"]
    for vevent in calendar.walk("VEVENT"):
        assert vevent.decoded("dtstart").tzinfo.key == "Asia/Shanghai"

    # A feed of one type, linked from the list filtered by it.
    html = text(client.get("/events/", {"type": "training"}))
    assert 'href="/events/ical/?type=training"' in html
    calendar = icalendar.Calendar.from_ical(
        client.get("/events/ical/", {"type": "training"}).content
    )
    assert [str(v["summary"]) for v in calendar.walk("VEVENT")] == ["下月培训班"]


def test_the_index_page_in_both_languages(client, index):
    event_at(index, *MONDAY, 9, 0, title="周一讲座")
    html = text(client.get("/events/"))
    assert '<html lang="zh-Hans">' in html
    assert "2031年4月28日" in html
    html = text(client.get("/en/events/"))
    assert '<html lang="en">' in html
    assert "Upcoming events" in html
    assert "Monday 28 April 2031, 09:00–11:00" in html
    assert 'href="/en/events/calendar/"' in html


def test_ics_for_event_outside_a_request_as_the_confirmation_e_mail_uses_it(index):
    event = event_at(index, *MONDAY, 9, 0, title="商标实务培训班", address="渝中区")
    first = icalendar.Calendar.from_ical(
        ics_for_event(event, base_url="https://ip.example.gov.cn")
    )
    second = icalendar.Calendar.from_ical(
        ics_for_event(event, base_url="http://127.0.0.1:8000/")
    )
    [vevent] = first.walk("VEVENT")
    assert str(vevent["summary"]) == "商标实务培训班"
    assert vevent.decoded("dtstart") == datetime.datetime(
        2031, 4, 28, 9, 0, tzinfo=SHANGHAI
    )
    assert str(vevent["url"]) == f"https://ip.example.gov.cn{event.url}"
    # The same event whichever address the file was made for.
    assert second.walk("VEVENT")[0]["uid"] == vevent["uid"]
    assert str(second.walk("VEVENT")[0]["url"]) == f"http://127.0.0.1:8000{event.url}"


def test_ics_for_events_names_the_calendar(index):
    events = [event_at(index, 2031, 4, day, 9, 0) for day in (1, 2)]
    calendar = icalendar.Calendar.from_ical(
        ics_for_events(events, base_url="https://ip.example.gov.cn", name="4·26 活动")
    )
    assert str(calendar["x-wr-calname"]) == "4·26 活动"
    assert len({str(v["uid"]) for v in calendar.walk("VEVENT")}) == 2

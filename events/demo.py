"""Demo events for `make run`: the 4·26 知识产权宣传周 campaign and three of
its events, one past with attendance recorded, one open for registration and
one full with a waiting list.

When: the campaign's window is the publicity week that ends on the coming
April 26 (April 20, 00:00 to April 27, 00:00, Asia/Shanghai; this year's if
that week has not ended yet, else next year's). Its countdown is made to run
from the day the demo is loaded, so a fresh `make run` shows the countdown on
the home page, and during the week the home page features the campaign by
itself; the usual home page stays visible under the countdown the rest of
the time. The events are dated from the same moment: the past one a week
before loading (a warm-up lecture), the others inside the week.

Registrations are written with the models (as the registration and check-in
services would leave them), with the event's title and start copied in; the
past event's attendees have their check-in time and an hours-ledger entry
(source "event").

Idempotent: pages are found by slug, users by e-mail, registrations by user
and event; running it again creates nothing.
"""

import datetime
from decimal import Decimal

from allauth.account.models import EmailAddress

from django.db import transaction
from django.utils import timezone

from courses.achievements import achievement_record
from courses.models import HoursLedgerEntry
from events.models import CampaignPage, EventIndexPage, EventPage, Registration
from portal.models import HomePage, User

DEMO_PASSWORD = "Huodong-2027-demo"
ATTENDEES = [
    ("attendee1@example.org", "张晓"),
    ("attendee2@example.org", "王芳"),
    ("attendee3@example.org", "刘洋"),
    ("attendee4@example.org", "陈静"),
    ("attendee5@example.org", "赵磊"),
]


def _p(text: str) -> dict:
    return {"type": "paragraph", "value": f"<p>{text}</p>"}


def campaign_window(*, now: datetime.datetime) -> tuple[datetime.datetime, ...]:
    """The publicity week ending on the coming April 26: (start, end)."""
    local = timezone.localtime(now)
    for year in (local.year, local.year + 1):
        starts = timezone.make_aware(datetime.datetime(year, 4, 20))
        ends = timezone.make_aware(datetime.datetime(year, 4, 27))
        if ends > now:
            return starts, ends
    raise AssertionError("unreachable")  # pragma: no cover


def _user(email: str, name: str, created: list[str]) -> User:
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(
            email=email, password=DEMO_PASSWORD, real_name=name
        )
        EmailAddress.objects.create(user=user, email=email, primary=True, verified=True)
        created.append(email)
    return user


def _register(
    event: EventPage,
    user: User,
    status: str,
    *,
    at: datetime.datetime,
    checked_in: bool = False,
) -> None:
    if Registration.objects.filter(event=event, user=user).exists():
        return
    Registration.objects.create(
        event=event,
        event_title=event.title,
        event_starts_at=event.starts_at,
        user=user,
        status=status,
        confirmed_at=at if status == Registration.Status.CONFIRMED else None,
        waiting_since=at if status == Registration.Status.WAITING else None,
        checked_in_at=event.starts_at + datetime.timedelta(minutes=5)
        if checked_in
        else None,
    )
    if checked_in:
        achievement_record(
            user=user,
            source_type=HoursLedgerEntry.Source.EVENT,
            source_key=event.pk,
            title=event.title,
            hours=event.training_hours,
            achieved_on=timezone.localdate(event.starts_at),
            certificate=False,
        )


@transaction.atomic
def load_demo_content() -> list[str]:
    """Create what is missing of the demo campaign and events; return what
    was created (titles and e-mail addresses)."""
    created: list[str] = []
    home = HomePage.objects.first()
    if home is None:
        raise RuntimeError("The home page is missing: run migrate first.")
    now = timezone.now().replace(second=0, microsecond=0)

    def child(parent, model, slug: str, **fields):
        page = model.objects.child_of(parent).filter(slug=slug).first()
        if page is None:
            page = model(slug=slug, **fields)
            parent.add_child(instance=page)
            page.save_revision().publish()
            created.append(page.title)
        return page

    index = child(
        home,
        EventIndexPage,
        "events",
        title="活动",
        show_in_menus=True,
        intro="讲座、培训班、宣传活动和展览：在线报名，签到后计入培训学时。",
    )
    starts, ends = campaign_window(now=now)
    campaign = child(
        home,
        CampaignPage,
        "world-ip-day",
        title="4·26 知识产权宣传周",
        starts_at=starts,
        ends_at=ends,
        # The countdown runs from the day the demo is loaded (see above).
        countdown_days=max(14, (starts - now).days + 1),
        summary="围绕“4·26”世界知识产权日，全市集中开展知识产权讲座、培训、展览和咨询活动。",
        body=[
            _p(
                "宣传周期间，市知识产权局联合各区县举办专题讲座、专利运营培训班和知识产权保护成果展，"
                "欢迎社会各界报名参加。参加活动并签到可获得相应培训学时。"
            )
        ],
    )
    past = child(
        index,
        EventPage,
        "warm-up-lecture",
        title="宣传周预热讲座：企业商标保护实务",
        event_type="lecture",
        starts_at=now - datetime.timedelta(days=7),
        ends_at=now - datetime.timedelta(days=7) + datetime.timedelta(hours=2),
        venue="重庆市知识产权局报告厅",
        address="重庆市渝北区（演示地址）",
        organiser="重庆市知识产权局",
        summary="讲解商标注册、使用和维权中的常见问题。",
        campaign=campaign,
        capacity=50,
        training_hours=Decimal("2"),
        issues_certificate=True,
    )
    open_event = child(
        index,
        EventPage,
        "patent-operation-class",
        title="专利运营与布局专题培训班",
        event_type="training",
        starts_at=starts + datetime.timedelta(days=1, hours=9),
        ends_at=starts + datetime.timedelta(days=1, hours=17),
        venue="国家知识产权培训（重庆）基地",
        organiser="重庆市知识产权局",
        summary="面向企业管理人员和专业技术人员的一日专题培训。",
        campaign=campaign,
        registration_opens_at=now - datetime.timedelta(days=1),
        capacity=60,
        training_hours=Decimal("6"),
        issues_certificate=True,
    )
    full = child(
        index,
        EventPage,
        "ip-protection-salon",
        title="知识产权保护沙龙（小班）",
        event_type="publicity",
        starts_at=starts + datetime.timedelta(days=4, hours=14),
        ends_at=starts + datetime.timedelta(days=4, hours=16),
        venue="重庆市知识产权保护中心会议室",
        organiser="重庆市知识产权保护中心",
        summary="小班交流：企业海外维权经验分享。",
        campaign=campaign,
        registration_opens_at=now - datetime.timedelta(days=1),
        capacity=3,
        waiting_list=True,
        training_hours=Decimal("2"),
    )
    del open_event  # open for registration: nobody registered yet

    users = [_user(email, name, created) for email, name in ATTENDEES]
    booked = now - datetime.timedelta(days=10)
    for user in users[:3]:
        _register(past, user, Registration.Status.CONFIRMED, at=booked, checked_in=True)
    for position, user in enumerate(users):
        at = booked + datetime.timedelta(minutes=position)
        status = (
            Registration.Status.CONFIRMED
            if position < 3
            else Registration.Status.WAITING
        )
        _register(full, user, status, at=at)
    return created

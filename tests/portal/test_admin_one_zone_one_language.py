"""The admin in one time zone and one language (issue 17, part 6): times in
Beijing time everywhere, no raw `None`, one English word with two Chinese
translations where it means two things, Wagtail's untranslated strings
supplied by the portal's catalogue, one definition of training hours on the
dashboard and in the report, and the dashboard and announcement report
fixed."""

import datetime
import re
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation

from wagtail.users.models import UserProfile

from courses import reports
from courses.blocks import QuizQuestionBlock
from courses.certificates import services as certificate_services
from courses.models import Certificate, Enrolment, HoursLedgerEntry
from events.models import EventPage
from tests.courses.factories import (
    CertificateRequestFactory,
    CourseIndexPageFactory,
    CoursePageFactory,
)
from tests.factories import StaffFactory, UserFactory
from tests.subscriptions.factories import AnnouncementFactory, SubscriptionFactory
from tests.talentpool.factories import EnterpriseFactory, ExpertFactory

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
UTC = datetime.UTC


@pytest.fixture
def admin(client, home):  # type: ignore[no-untyped-def]
    staff = StaffFactory(mfa=False)
    TOTP.activate(staff, generate_totp_secret())
    client.force_login(staff)
    client.staff = staff
    return client


def text_of(html: str) -> str:
    """What a reader sees: the page without tags, scripts and styles."""
    html = re.sub(r"(?s)<(script|style|template)\b.*?</\1>", " ", html)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# --- one time zone ------------------------------------------------------------------


def test_certificate_times_are_in_beijing_time_and_empty_fields_are_not_none(admin):
    request = CertificateRequestFactory()
    certificate = certificate_services.certificate_issue(
        request_id=request.pk, render=False
    )[0]
    # 23:30 UTC is 07:30 the next day in Beijing.
    issued = datetime.datetime(2027, 3, 1, 23, 30, tzinfo=UTC)
    Certificate.objects.filter(pk=certificate.pk).update(issued_at=issued)
    html = admin.get(
        reverse("certificate_admin:inspect", args=[certificate.pk])
    ).content.decode()
    page = text_of(html)
    assert "2027年3月2日 07:30" in page
    assert "2027年3月1日 23:30" not in page
    assert "None" not in page  # e.g. revoked_reason, emailed_at, last_error


@pytest.mark.parametrize("kind", ["request", "enterprise", "expert", "subscription"])
def test_detail_pages_never_show_none(admin, kind):
    if kind == "request":
        url = reverse(
            "certificate_requests:inspect", args=[CertificateRequestFactory().pk]
        )
    elif kind == "enterprise":
        url = reverse(
            "wagtailsnippets_talentpool_enterprise:inspect",
            args=[EnterpriseFactory().pk],
        )
    elif kind == "expert":
        url = reverse(
            "wagtailsnippets_talentpool_expert:inspect", args=[ExpertFactory().pk]
        )
    else:
        url = reverse("subscribers:inspect", args=[SubscriptionFactory().pk])
    response = admin.get(url)
    assert response.status_code == 200
    assert "None" not in text_of(response.content.decode())


def test_no_one_can_choose_another_time_zone_for_the_admin(admin):
    assert settings.WAGTAIL_USER_TIME_ZONES == ["Asia/Shanghai"]
    html = admin.get(reverse("wagtailadmin_account")).content.decode()
    assert 'name="locale-current_time_zone"' not in html


# --- one language ---------------------------------------------------------------------


def test_type_means_two_things_in_chinese():
    with translation.override("zh-hans"):
        event_type = EventPage._meta.get_field("event_type").verbose_name
        assert str(event_type) == "活动类型"
        assert str(QuizQuestionBlock().child_blocks["kind"].label) == "题型"
    with translation.override("en"):
        assert str(event_type) == "type"


def test_the_event_editor_labels_the_event_type_in_chinese(admin, home):
    from tests.events.factories import EventIndexPageFactory

    index = EventIndexPageFactory(parent=home)
    html = admin.get(
        reverse("wagtailadmin_pages:add", args=["events", "eventpage", index.pk])
    ).content.decode()
    assert "活动类型" in html
    assert 'for="id_event_type">题型' not in html


def test_wagtails_new_label_is_in_chinese(admin):
    html = admin.get(reverse("announcements:add")).content.decode()
    assert "New:" not in text_of(html)
    assert "新建：" in html
    # Others found by walking the admin in Chinese (Wagtail 8's zh_Hans
    # catalogue lacks them): the account settings and the page explorer.
    account = text_of(admin.get(reverse("wagtailadmin_account")).content.decode())
    assert "主题偏好" in account and "Theme preferences" not in account
    explorer = text_of(admin.get("/admin/pages/").content.decode())
    assert "If you just want to add pages" not in explorer


def test_the_default_workflow_is_named_in_chinese_in_the_editor(admin, home):
    """A row, not a string (portal migration 0010): the editor's "submit to"
    action names it."""
    from tests.factories import NewsIndexPageFactory

    page = NewsIndexPageFactory(parent=home)
    html = admin.get(
        reverse("wagtailadmin_pages:edit", args=[page.pk])
    ).content.decode()
    assert "审核员审批" in html
    assert "Moderators approval" not in html


def test_the_portal_catalogue_comes_before_wagtails():
    """The project's translations win over Wagtail's: LOCALE_PATHS first,
    and portal before the wagtail apps in INSTALLED_APPS."""
    assert str(settings.LOCALE_PATHS[0]).endswith("portal/locale")
    apps = settings.INSTALLED_APPS
    wagtail_apps = [i for i, app in enumerate(apps) if app.startswith("wagtail")]
    assert apps.index("portal") < min(wagtail_apps)


# --- the dashboard ------------------------------------------------------------


def enrol(user, course, *, completed_at=None):  # type: ignore[no-untyped-def]
    enrolment = Enrolment.objects.create(
        user=user,
        course=course,
        course_key=course.pk,
        course_title=course.title,
        credit_hours=course.credit_hours,
        completed_at=completed_at,
    )
    if completed_at:
        HoursLedgerEntry.objects.create(
            user=user,
            source_type=HoursLedgerEntry.Source.COURSE,
            source_key=course.pk,
            title=course.title,
            hours=course.credit_hours,
            earned_on=timezone.localdate(completed_at),
        )
    return enrolment


@pytest.fixture
def training(home):  # type: ignore[no-untyped-def]
    """This year: two completions (2.0 h and 3.5 h), one in progress; an
    event's hours and a manual adjustment in the ledger too; last year's
    enrolment completed this year."""
    index = CourseIndexPageFactory(parent=home)
    patent = CoursePageFactory(parent=index, credit_hours=Decimal("2.0"))
    trademark = CoursePageFactory(parent=index, credit_hours=Decimal("3.5"))
    now = timezone.now()
    a, b, c = UserFactory(), UserFactory(), UserFactory()
    enrol(a, patent, completed_at=now)
    enrol(b, trademark, completed_at=now)
    enrol(c, patent)
    old = enrol(c, trademark, completed_at=now)
    Enrolment.objects.filter(pk=old.pk).update(
        enrolled_at=datetime.datetime(
            timezone.localdate().year - 1, 12, 1, tzinfo=SHANGHAI
        )
    )
    HoursLedgerEntry.objects.create(
        user=a,
        source_type=HoursLedgerEntry.Source.EVENT,
        source_key=1,
        title="讲座",
        hours=Decimal("6.0"),
        earned_on=timezone.localdate(),
    )


def dashboard_panel(admin) -> str:  # type: ignore[no-untyped-def]
    html = admin.get("/admin/").content.decode()
    start = html.index('id="training-statistics-section"')
    return html[start : html.index("</section>", start)]


def figure(html: str, label: str) -> str:
    found = re.search(rf"<dt>{re.escape(label)}</dt>\s*<dd[^>]*>([^<]+)</dd>", html)
    assert found, label
    return found.group(1).strip()


def test_dashboard_and_report_count_training_hours_the_same_way(admin, training):
    panel = dashboard_panel(admin)
    dashboard_hours = figure(panel, "获得学时")
    # The panel's link opens the report on the same enrolments.
    link = re.search(r'href="([^"]*date_from=[^"]*)"', panel).group(1)
    report = text_of(admin.get(link.replace("&amp;", "&")).content.decode())
    totals = re.search(r"合计((?: [\d.%—-]+)+)", report)
    assert totals, report
    assert dashboard_hours == "5.5" == totals.group(1).split()[-1]
    # And the two selectors agree on any data.
    year = reports.year_filters()
    assert (
        reports.year_totals().hours
        == reports.training_report(dimension="course", filters=year).totals.hours
        == Decimal("5.5")
    )


def test_the_dashboard_shows_the_applications_waiting_once(admin):
    english = UserProfile.get_for_user(admin.staff)
    english.preferred_language = "en"
    english.save()
    page = text_of(admin.get("/admin/").content.decode())
    assert page.count("waiting for review") == 1, page


# --- the announcement report --------------------------------------------------


def test_the_announcement_report_has_a_labelled_csv_button_and_a_header(admin):
    announcement = AnnouncementFactory()
    html = admin.get(
        reverse(
            "announcements:report",
            args=[announcement.pk],
        )
    ).content.decode()
    button = re.search(r'<a class="button[^"]*" href="[^"]*/csv/">(.*?)</a>', html)
    assert button and "下载 CSV" in button.group(1)
    assert "button--icon" in button.group(0)
    # The header names the page and the announcement, not just 首页 (Home).
    start = html.index('aria-label="当前位置"')
    trail = text_of(html[start : html.index("</nav>", start)])
    assert "通知" in trail or "公告" in trail
    assert announcement.subject in trail and "发送报告" in trail


def test_exports_write_times_in_beijing_time():
    """The database hands back UTC; a CSV or XLSX cell is read in Beijing."""
    from openpyxl import Workbook

    from portal.exports import csv_cell, xlsx_row

    late = datetime.datetime(2027, 3, 1, 23, 30, tzinfo=UTC)
    assert csv_cell(late) == "2027-03-02 07:30"
    sheet = Workbook(write_only=True).create_sheet()
    (cell,) = xlsx_row(sheet, [late])
    assert cell.value == datetime.datetime(2027, 3, 2, 7, 30)

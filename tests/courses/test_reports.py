"""The training report: figures per dimension and filter, a fixed number of
queries, the CSV and XLSX exports, the admin screen and the dashboard panel."""

import csv
import datetime
import io
from decimal import Decimal
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from wagtail.users.models import UserProfile

from courses import reports
from courses.models import Enrolment, HoursLedgerEntry, QuizAttempt, TrainingClass
from courses.reports import Dimension, ReportFilters
from portal.models import Audience, District
from tests.courses.factories import CourseIndexPageFactory, CoursePageFactory
from tests.factories import StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
URL = "/admin/reports/training/"


def at(*args: int) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=SHANGHAI)


def enrol(user, course, enrolled_at, *, completed_at=None, training_class=None):  # type: ignore[no-untyped-def]
    """An enrolment as the services leave it; completion writes the ledger."""
    enrolment = Enrolment.objects.create(
        user=user,
        course=course,
        course_key=course.pk,
        course_title=course.title,
        credit_hours=course.credit_hours,
        training_class=training_class,
        completed_at=completed_at,
    )
    # enrolled_at is auto_now_add: set the date under test afterwards.
    Enrolment.objects.filter(pk=enrolment.pk).update(enrolled_at=enrolled_at)
    if completed_at:
        HoursLedgerEntry.objects.create(
            user=user,
            source_type=HoursLedgerEntry.Source.COURSE,
            source_key=course.pk,
            title=course.title,
            hours=course.credit_hours,
            earned_on=completed_at.astimezone(SHANGHAI).date(),
        )
    return enrolment


def attempt(enrolment, score, *, quiz="q1", number=1, submitted=True):  # type: ignore[no-untyped-def]
    return QuizAttempt.objects.create(
        enrolment=enrolment,
        lesson_key=1,
        lesson_title="随堂测验",
        quiz_key=quiz,
        number=number,
        layout={"questions": []},
        score=Decimal(score) if submitted else None,
        passed=submitted and Decimal(score) >= 60,
        status=QuizAttempt.Status.SUBMITTED if submitted else QuizAttempt.Status.OPEN,
    )


@pytest.fixture
def data(home):  # type: ignore[no-untyped-def]
    """Four learners, two courses, a class, seven enrolments.

    patent (专利基础, 2 h): e1 u1 Jan 15, class, done, best 90 (50 then 90);
        e2 u2 Feb 1 00:30 Shanghai (still Jan 31 in UTC), done, 70; e3 u3
        Feb 5, not done, 40.
    trademark (商标实务, 3 h): e4 u1 Feb 10, done, 80 and 100 (two quizzes);
        e5 u4 Mar 3; e6 u3 Dec 20 2025, done; e7 u2 Mar 10.
    """
    audiences = list(Audience.objects.order_by("sort_order", "code")[:2])
    districts = list(District.objects.order_by("sort_order", "code")[:2])
    bureau, university = "重庆市知识产权局", "重庆大学"
    u1 = UserFactory(audience=audiences[0], district=districts[0], organisation=bureau)
    u2 = UserFactory(
        audience=audiences[0], district=districts[1], organisation=university
    )
    u3 = UserFactory(
        audience=audiences[1], district=districts[0], organisation=f" {university}"
    )
    u4 = UserFactory()
    index = CourseIndexPageFactory(parent=home)
    patent = CoursePageFactory(
        parent=index, title="专利基础", credit_hours=Decimal("2.0")
    )
    trademark = CoursePageFactory(
        parent=index, title="商标实务", credit_hours=Decimal("3.0")
    )
    spring = TrainingClass.objects.create(
        name="2026春季班",
        code="2026-spring",
        starts_on=datetime.date(2026, 1, 1),
        ends_on=datetime.date(2026, 6, 30),
    )
    e1 = enrol(
        u1,
        patent,
        at(2026, 1, 15, 10),
        completed_at=at(2026, 1, 20),
        training_class=spring,
    )
    attempt(e1, "50", number=1)
    attempt(e1, "90", number=2)
    e2 = enrol(u2, patent, at(2026, 2, 1, 0, 30), completed_at=at(2026, 2, 10))
    attempt(e2, "70")
    attempt(e2, "0", number=2, submitted=False)  # open: not counted
    e3 = enrol(u3, patent, at(2026, 2, 5))
    attempt(e3, "40")
    e4 = enrol(u1, trademark, at(2026, 2, 10), completed_at=at(2026, 3, 1))
    attempt(e4, "80", quiz="q1")
    attempt(e4, "100", quiz="q2")
    enrol(u4, trademark, at(2026, 3, 3))
    enrol(u3, trademark, at(2025, 12, 20), completed_at=at(2026, 1, 5))
    enrol(u2, trademark, at(2026, 3, 10))
    return {
        "audiences": audiences,
        "districts": districts,
        "users": (u1, u2, u3, u4),
        "patent": patent,
        "trademark": trademark,
        "class": spring,
        "index": index,
    }


def figures(report) -> list[tuple]:  # type: ignore[no-untyped-def]
    """label, learners, enrolments, completions, rate, average score, hours."""
    return [
        (
            row.label,
            row.learners,
            row.enrolments,
            row.completions,
            row.completion_rate,
            row.average_score,
            row.hours,
        )
        for row in report.rows
    ]


def D(value: str) -> Decimal:  # noqa: N802
    return Decimal(value)


# --- the figures ------------------------------------------------------------------


def test_by_course(data):
    report = reports.training_report(dimension="course", filters=ReportFilters())
    assert figures(report) == [
        ("商标实务", 4, 4, 2, D("50.0"), D("90.0"), D("6.0")),
        ("专利基础", 3, 3, 2, D("66.7"), D("66.7"), D("4.0")),
    ]
    totals = report.totals
    assert (totals.learners, totals.enrolments, totals.completions) == (4, 7, 4)
    assert totals.completion_rate == D("57.1")
    assert totals.average_score == D("76.0")  # (90 + 70 + 40 + 80 + 100) / 5
    assert totals.hours == D("10.0")


def test_by_training_class_puts_enrolments_without_one_last(data):
    report = reports.training_report(
        dimension="training_class", filters=ReportFilters()
    )
    assert figures(report) == [
        ("2026春季班", 1, 1, 1, D("100.0"), D("90.0"), D("2.0")),
        ("无所属培训班", 4, 6, 3, D("50.0"), D("72.5"), D("8.0")),
    ]


def test_by_audience_and_district_use_the_vocabulary_labels(data):
    a, b = data["audiences"]
    report = reports.training_report(dimension="audience", filters=ReportFilters())
    assert figures(report) == [
        (a.name_zh, 2, 4, 3, D("75.0"), D("85.0"), D("7.0")),
        (b.name_zh, 1, 2, 1, D("50.0"), D("40.0"), D("3.0")),
        ("未填写", 1, 1, 0, D("0.0"), None, D("0.0")),
    ]
    d1, d2 = data["districts"]
    report = reports.training_report(dimension="district", filters=ReportFilters())
    assert figures(report) == [
        (d1.name_zh, 2, 4, 3, D("75.0"), D("77.5"), D("8.0")),
        (d2.name_zh, 1, 2, 1, D("50.0"), D("70.0"), D("2.0")),
        ("未填写", 1, 1, 0, D("0.0"), None, D("0.0")),
    ]
    with translation.override("en"):
        report = reports.training_report(dimension="district", filters=ReportFilters())
    assert report.rows[0].label == d1.name_en


def test_by_organisation_ignores_stray_spaces(data):
    report = reports.training_report(dimension="organisation", filters=ReportFilters())
    assert figures(report) == [
        ("重庆大学", 2, 4, 2, D("50.0"), D("55.0"), D("5.0")),
        ("重庆市知识产权局", 1, 2, 2, D("100.0"), D("90.0"), D("5.0")),
        ("未填写", 1, 1, 0, D("0.0"), None, D("0.0")),
    ]


def test_by_month_counts_in_shanghai_time(data):
    report = reports.training_report(dimension="month", filters=ReportFilters())
    assert [(row.key, row.enrolments, row.completions) for row in report.rows] == [
        (datetime.date(2025, 12, 1), 1, 1),
        (datetime.date(2026, 1, 1), 1, 1),
        # e2 enrolled at 00:30 on 1 February in Shanghai: February, not January.
        (datetime.date(2026, 2, 1), 3, 2),
        (datetime.date(2026, 3, 1), 2, 0),
    ]
    assert report.rows[2].label == "2026年2月"


def test_filters(data):
    def enrolments(dimension="course", **filters) -> dict:  # type: ignore[no-untyped-def]
        report = reports.training_report(
            dimension=dimension, filters=ReportFilters(**filters)
        )
        return {row.label: row.enrolments for row in report.rows}

    jan_feb = {
        "date_from": datetime.date(2026, 1, 1),
        "date_to": datetime.date(2026, 2, 28),
    }
    assert enrolments(**jan_feb) == {"专利基础": 3, "商标实务": 1}
    # The last day is included, up to midnight in Shanghai: e2 is on 1 February.
    assert enrolments(date_to=datetime.date(2026, 1, 31)) == {
        "专利基础": 1,
        "商标实务": 1,
    }
    assert enrolments(date_from=datetime.date(2026, 3, 1)) == {"商标实务": 2}

    a, b = data["audiences"]
    assert enrolments("audience", course_key=data["patent"].pk) == {
        a.name_zh: 2,
        b.name_zh: 1,
    }
    assert enrolments(audience_id=a.pk) == {"专利基础": 2, "商标实务": 2}
    assert enrolments(district_id=data["districts"][1].pk) == {
        "专利基础": 1,
        "商标实务": 1,
    }
    assert enrolments("month", training_class_id=data["class"].pk) == {"2026年1月": 1}
    assert enrolments(course_key=data["patent"].pk, audience_id=b.pk) == {"专利基础": 1}
    assert enrolments(date_from=datetime.date(2030, 1, 1)) == {}


def test_deleted_course_keeps_its_title_and_figures(data):
    data["patent"].delete()
    report = reports.training_report(dimension="course", filters=ReportFilters())
    row = next(r for r in report.rows if r.key != data["trademark"].pk)
    assert (row.label, row.enrolments, row.completions, row.hours) == (
        "专利基础（课程已删除）",
        3,
        2,
        D("4.0"),
    )


def test_large_hours_and_scores_do_not_overflow(home):
    # The ledger holds at most 9999.9 a row; the sums must hold more.
    course = CoursePageFactory(
        parent=CourseIndexPageFactory(parent=home), credit_hours=Decimal("9000.0")
    )
    for _ in range(2):
        enrol(UserFactory(), course, at(2026, 1, 1), completed_at=at(2026, 1, 2))
    report = reports.training_report(dimension="course", filters=ReportFilters())
    assert report.totals.hours == D("18000.0")
    assert reports.year_totals(today=datetime.date(2026, 6, 1)).hours == D("18000.0")


def test_query_count_does_not_grow_with_data(data):
    def queries(dimension: str) -> int:
        with CaptureQueriesContext(connection) as context:
            reports.training_report(dimension=dimension, filters=ReportFilters())
        return len(context.captured_queries)

    small = {d: queries(d) for d in Dimension.values}
    for i in range(15):
        user = UserFactory(
            audience=data["audiences"][i % 2],
            district=data["districts"][i % 2],
            organisation=f"单位{i}",
        )
        for course in (data["patent"], data["trademark"]):
            e = enrol(user, course, at(2026, 1 + i % 6, 3), completed_at=at(2026, 7, 1))
            attempt(e, "60")
            attempt(e, "75", number=2)
    large = {d: queries(d) for d in Dimension.values}
    assert small == large
    assert set(large.values()) == {3}


def test_unknown_dimension_is_refused():
    with pytest.raises(ValueError):
        reports.training_report(dimension="colour", filters=ReportFilters())


# --- the dashboard figures ------------------------------------------------------------


def test_monthly_activity_and_year_totals(data):
    points = reports.monthly_activity(months=12, today=datetime.date(2026, 3, 15))
    assert len(points) == 12
    assert points[0].month == datetime.date(2025, 4, 1)
    assert [(p.month.month, p.enrolments, p.completions) for p in points[-4:]] == [
        (12, 1, 0),
        (1, 1, 2),  # completions by the month completed: e1 and e6
        (2, 3, 1),
        (3, 2, 1),
    ]
    # The year's figures are the report's totals for the enrolments of 2026
    # (e6, enrolled in December 2025, is not one of them), as on the dashboard.
    totals = reports.year_totals(today=datetime.date(2026, 3, 15))
    assert (totals.year, totals.learners, totals.enrolments, totals.completions) == (
        2026,
        4,
        6,
        3,
    )
    assert totals.hours == D("7.0")  # e1 and e2 (2 h each), e4 (3 h)
    year = reports.training_report(
        dimension="month",
        filters=ReportFilters(
            date_from=datetime.date(2026, 1, 1), date_to=datetime.date(2026, 3, 15)
        ),
    ).totals
    assert (year.learners, year.enrolments, year.completions, year.hours) == (
        totals.learners,
        totals.enrolments,
        totals.completions,
        totals.hours,
    )


# --- the admin screen -------------------------------------------------------------


def staff_with_mfa(**kwargs):  # type: ignore[no-untyped-def]
    staff = StaffFactory(**kwargs, mfa=False)
    TOTP.activate(staff, generate_totp_secret())
    return staff


@pytest.fixture
def admin_client(client):  # type: ignore[no-untyped-def]
    client.force_login(staff_with_mfa())
    return client


def test_report_page_shows_form_chart_and_table(admin_client, data):
    response = admin_client.get(URL, {"dimension": "district"})
    assert response.status_code == 200
    html = response.content.decode()
    assert '<form method="get"' in html
    start = html.rindex("<svg", 0, html.index('"report-chart-title report-chart-desc"'))
    chart = html[start : html.index("</svg>", start)]
    assert 'role="img"' in chart and '<desc id="report-chart-desc">' in chart
    assert chart.count("<g>") == 3  # a pair of bars per district, and "not stated"
    assert '<table class="listing"' in html
    d1 = data["districts"][0]
    assert d1.name_zh in html
    assert "<tfoot>" in html
    assert "export=csv" in html and "export=xlsx" in html
    assert "dimension=district" in html  # the export links keep the filters


def test_report_page_defaults_to_courses(admin_client, data):
    response = admin_client.get(URL)
    assert response.status_code == 200
    assert response.context["report"].dimension == "course"
    assert "商标实务" in response.content.decode()


def test_report_page_query_count_does_not_grow(admin_client, data):
    def queries() -> int:
        admin_client.get(URL, {"dimension": "audience"})  # warm caches
        with CaptureQueriesContext(connection) as context:
            assert admin_client.get(URL, {"dimension": "audience"}).status_code == 200
        return len(context.captured_queries)

    small = queries()
    for i in range(10):
        user = UserFactory(audience=data["audiences"][i % 2], organisation=f"单位{i}")
        enrol(user, data["patent"], at(2026, 2, 2), completed_at=at(2026, 2, 3))
    assert queries() == small


@pytest.mark.parametrize(
    "params",
    [
        {"dimension": "colour"},
        {"date_from": "2026-13-45"},
        {"date_from": "2026-03-01", "date_to": "2026-02-01"},
        {"course": "abc"},
        {"training_class": "999999"},
        {"audience": "x"},
        {"district": "-1"},
        {"dimension": "month", "date_to": "tomorrow", "export": "csv"},
    ],
)
def test_bad_filter_values_are_form_errors(admin_client, data, params):
    response = admin_client.get(URL, params)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert response.context["form"].errors
    assert response.context["report"] is None
    assert "error-message" in response.content.decode()


def test_csv_export_has_a_bom_translated_headings_and_the_figures(admin_client, data):
    response = admin_client.get(URL, {"dimension": "district", "export": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "training-report-district-" in response["Content-Disposition"]
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    with translation.override("zh-hans"):
        assert rows[0][0] == "区县"
        assert rows[0][1:] == [
            str(reports.COLUMN_HEADINGS[f])
            for f in (
                "learners",
                "enrolments",
                "completions",
                "completion_rate",
                "average_score",
                "hours",
            )
        ]
    d1 = data["districts"][0]
    assert rows[1] == [d1.name_zh, "2", "4", "3", "75.0", "77.5", "8.0"]
    assert rows[-1][1:] == ["4", "7", "4", "57.1", "76.0", "10.0"]  # the totals
    assert len(rows) == 1 + 3 + 1


def test_csv_export_follows_the_admin_language(client, data):
    staff = staff_with_mfa()
    profile = UserProfile.get_for_user(staff)
    profile.preferred_language = "en"
    profile.save()
    client.force_login(staff)
    response = client.get(URL, {"dimension": "district", "export": "csv"})
    header = next(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert header[:3] == ["District", "Learners", "Enrolments"]
    assert header[5] == "Average quiz score (best attempt per quiz, %)"


def test_csv_export_defuses_formulas_in_organisation_names(admin_client, data):
    user = UserFactory(organisation='=HYPERLINK("http://evil")')
    enrol(user, data["patent"], at(2026, 2, 2))
    response = admin_client.get(URL, {"dimension": "organisation", "export": "csv"})
    assert "'=HYPERLINK" in response.content.decode("utf-8-sig")


def test_xlsx_export(admin_client, data):
    response = admin_client.get(
        URL,
        {"dimension": "course", "export": "xlsx", "audience": data["audiences"][0].pk},
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert "training-report-course-" in response["Content-Disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(response.getvalue())).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "课程"
    # Audience filter: u1 and u2 only.
    assert rows[1] == ("专利基础", 2, 2, 2, 100, 80, 4)
    assert rows[2] == ("商标实务", 2, 2, 1, 50, 90, 3)
    assert rows[3][1:] == (2, 4, 3, 75, 85, 7)
    assert len(rows) == 4


# --- who may see it ------------------------------------------------------------------


def test_anonymous_and_learners_are_refused(client, data):
    assert client.get(URL)["Location"].startswith(reverse("account_login"))
    client.force_login(UserFactory())
    response = client.get(URL)
    assert response.status_code == 302
    assert "商标实务" not in response.content.decode()


def test_staff_need_the_view_enrolment_permission(client, data):
    staff = staff_with_mfa(is_superuser=False)
    managers = Group.objects.create(name="培训管理员")
    managers.permissions.add(
        Permission.objects.get(
            content_type__app_label="wagtailadmin", codename="access_admin"
        )
    )
    staff.groups.add(managers)
    client.force_login(staff)
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"] == reverse("wagtailadmin_home")
    assert "training-statistics" not in client.get("/admin/").content.decode()

    managers.permissions.add(
        Permission.objects.get(
            content_type__app_label="courses", codename="view_enrolment"
        )
    )
    staff = type(staff).objects.get(pk=staff.pk)  # no cached permissions
    client.force_login(staff)
    assert client.get(URL).status_code == 200
    home = client.get("/admin/").content.decode()
    assert "training-statistics" in home
    assert URL in home  # the Reports menu item


def test_the_permission_is_offered_in_group_settings(admin_client):
    response = admin_client.get(reverse("wagtailusers_groups:add"))
    perm = Permission.objects.get(
        content_type__app_label="courses", codename="view_enrolment"
    )
    assert f'value="{perm.pk}"' in response.content.decode()


# --- the dashboard panel -------------------------------------------------------------


def test_dashboard_panel(admin_client, data):
    response = admin_client.get("/admin/")
    assert response.status_code == 200
    html = response.content.decode()
    start = html.index('id="training-statistics-section"')
    panel = html[start : html.index("</section>", start)]
    start = panel.rindex("<svg", 0, panel.index('"training-months-title'))
    chart = panel[start : panel.index("</svg>", start)]
    assert 'role="img"' in chart and '<title id="training-months-title">' in chart
    assert chart.count("<g>") == 12  # a pair of bars per month
    assert '<table class="w-sr-only">' in panel
    assert panel.count('<th scope="row">') == 12
    assert URL in panel


def test_dashboard_query_count_does_not_grow(admin_client, data):
    def queries() -> int:
        admin_client.get("/admin/")  # warm caches
        with CaptureQueriesContext(connection) as context:
            assert admin_client.get("/admin/").status_code == 200
        return len(context.captured_queries)

    small = queries()
    for i in range(10):
        user = UserFactory(organisation=f"单位{i}")
        enrol(user, data["trademark"], at(2026, 2, 2), completed_at=at(2026, 2, 3))
    assert queries() == small


def test_long_reports_chart_the_largest_groups_and_table_them_all(admin_client, home):
    course = CoursePageFactory(parent=CourseIndexPageFactory(parent=home))
    for i in range(25):
        enrol(UserFactory(organisation=f"单位{i:02}"), course, at(2026, 1, 1))
    html = admin_client.get(URL, {"dimension": "organisation"}).content.decode()
    start = html.index('aria-labelledby="report-chart-title')
    svg = html[start : html.index("</svg>", start)]
    assert svg.count("<g>") == 20
    assert html.count('<th scope="row">单位') == 25
    assert "20" in html[html.index("<figcaption") : html.index("</figcaption>")]

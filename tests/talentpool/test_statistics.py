"""Talent pool statistics: the figures on a small known pool, the filters, a
fixed number of queries, the charts and tables of the admin screen, the CSV
and XLSX exports of the figures and of expert records, who may reach them,
and the dashboard panel."""

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
from django.utils import timezone, translation
from django.utils.text import capfirst

from wagtail.models import ModelLogEntry, Site
from wagtail.users.models import UserProfile

from portal.exports import LOG_EXPORTED
from portal.models import District
from talentpool import statistics
from talentpool.models import (
    ContactRequest,
    Enterprise,
    Expert,
    ExpertApplication,
    ExpertCategory,
    Industry,
    TalentTier,
)
from talentpool.statistics import StatisticsFilters
from tests.factories import StaffFactory, UserFactory
from tests.talentpool.factories import (
    ExpertFactory,
    OrganisationFactory,
    QualificationFactory,
)

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
URL = "/admin/talent-pool/statistics/"
EXPORT_URL = "/admin/talent-pool/statistics/experts/"
TODAY = datetime.date(2026, 11, 27)


def at(*args: int) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=SHANGHAI)


def term(model, code):  # type: ignore[no-untyped-def]
    return model.objects.get(code=code)


def expert(
    *,
    listed: bool = True,
    categories=(),
    industries=(),
    district: str = "",
    tier: str = "",
    **fields,
) -> Expert:  # type: ignore[no-untyped-def]
    """An expert; `listed` ones are public, verified and consented."""
    now = timezone.now()
    if listed:
        fields.setdefault("verification_status", Expert.Verification.VERIFIED)
        fields.setdefault("verified_at", now)
        fields.setdefault("publication_consent_at", now)
    made = ExpertFactory(
        district=term(District, district) if district else None,
        talent_tier=term(TalentTier, tier) if tier else None,
        **fields,
    )
    made.categories.set(ExpertCategory.objects.filter(code__in=categories))
    made.industries.set(Industry.objects.filter(code__in=industries))
    return made


def application(status, submitted_at, **fields):  # type: ignore[no-untyped-def]
    if status in ExpertApplication.STATUSES_NEEDING_REASON:
        fields.setdefault("reason", "材料不全")
    return ExpertApplication.objects.create(
        applicant=UserFactory(),
        status=status,
        submitted_at=submitted_at,
        data={"name": "申请人"},
        **fields,
    )


def enterprise(status, n):  # type: ignore[no-untyped-def]
    return Enterprise.objects.create(
        name=f"重庆某科技有限公司{n}",
        credit_code=f"91500000MA5U00000{n}",
        contact_name="王经理",
        contact_email=f"boss{n}@example.cn",
        status=status,
        status_reason="不符合条件" if status == Enterprise.Status.REJECTED else "",
        registered_by=UserFactory(),
    )


def contact_request(company, to, status, sent_at):  # type: ignore[no-untyped-def]
    request = ContactRequest.objects.create(
        enterprise=company,
        sender=company.registered_by,
        expert=to,
        need="专利布局咨询",
        status=status,
        no_conflict_declared_at=(
            sent_at if status == ContactRequest.Status.ACCEPTED else None
        ),
    )
    # created_at is auto_now_add: set the date under test afterwards.
    ContactRequest.objects.filter(pk=request.pk).update(created_at=sent_at)
    return request


@pytest.fixture
def pool(home):  # type: ignore[no-untyped-def]
    """Five experts (two listed), four applications, three enterprises and
    five contact requests.

    zhang: listed; lawyer + patent attorney; Yuzhong; automotive; leading tier
    li:    listed; lawyer; Jiangbei; electronics
    wang:  public but not verified; patent attorney; Yuzhong
    zhao:  verified but suspended; automotive + electronics; no district
    chen:  verified but lapsed; lawyer; Yuzhong
    """
    experts = {
        "zhang": expert(
            name="张三",
            categories=["lawyer", "patent_attorney"],
            industries=["automotive"],
            district="yuzhong",
            tier="leading",
            email="zhangsan@example.cn",
            phone="023-6388 1234",
            organisation=OrganisationFactory(name="重庆渝中律师事务所"),
        ),
        "li": expert(
            name="李四",
            categories=["lawyer"],
            industries=["electronics"],
            district="jiangbei",
        ),
        "wang": expert(
            name="王五",
            listed=False,
            categories=["patent_attorney"],
            district="yuzhong",
        ),
        "zhao": expert(
            name="赵六",
            industries=["automotive", "electronics"],
            status=Expert.Status.SUSPENDED,
            status_reason="投诉核查中",
        ),
        "chen": expert(
            name="陈七",
            categories=["lawyer"],
            district="yuzhong",
            lapsed_at=timezone.now(),
        ),
    }
    QualificationFactory(
        expert=experts["zhang"],
        title="律师执业证",
        licence_number="15001201010000001",
        issued_by="重庆市司法局",
        valid_until=datetime.date(2027, 6, 30),
    )
    Status = ExpertApplication.Status
    application(Status.APPROVED, at(2026, 10, 31, 23, 30))  # October in Shanghai
    application(Status.SUBMITTED, at(2026, 11, 1, 0, 30))  # November in Shanghai
    application(Status.REJECTED, at(2026, 11, 20))
    application(Status.APPROVED, at(2025, 1, 5))  # older than 12 months

    verified = enterprise(Enterprise.Status.VERIFIED, 1)
    enterprise(Enterprise.Status.PENDING, 2)
    enterprise(Enterprise.Status.REJECTED, 3)
    Request = ContactRequest.Status
    contact_request(verified, experts["zhang"], Request.ACCEPTED, at(2026, 11, 2))
    contact_request(verified, experts["li"], Request.DECLINED, at(2026, 11, 3))
    contact_request(verified, experts["zhang"], Request.PENDING, at(2026, 11, 4))
    contact_request(verified, experts["li"], Request.EXPIRED, at(2026, 10, 5))
    contact_request(verified, experts["wang"], Request.WITHDRAWN, at(2026, 10, 6))
    return experts


def staff_with_mfa(**kwargs):  # type: ignore[no-untyped-def]
    staff = StaffFactory(**kwargs, mfa=False)
    TOTP.activate(staff, generate_totp_secret())
    return staff


@pytest.fixture
def admin_client(client):  # type: ignore[no-untyped-def]
    client.force_login(staff_with_mfa())
    return client


def stats(**filters) -> statistics.PoolStatistics:  # type: ignore[no-untyped-def]
    with translation.override("zh-hans"):
        return statistics.pool_statistics(
            filters=StatisticsFilters(**filters), today=TODAY
        )


def zh(model, code):  # type: ignore[no-untyped-def]
    return term(model, code).name_zh


# --- the figures ----------------------------------------------------------------------


def test_totals_and_breakdowns(pool):
    result = stats()
    assert (result.totals.experts, result.totals.listed) == (5, 2)
    assert result.totals.not_listed == 3

    by_category = result.tables["category"].as_dict()
    assert by_category[zh(ExpertCategory, "lawyer")] == [3, 2]
    assert by_category[zh(ExpertCategory, "patent_attorney")] == [2, 1]
    assert by_category[zh(ExpertCategory, "notary")] == [0, 0]  # all terms shown
    with translation.override("zh-hans"):
        assert by_category[translation.gettext("Not stated")] == [1, 0]
    # Largest first, "not stated" last.
    rows = result.tables["category"].rows
    assert rows[0][0] == zh(ExpertCategory, "lawyer")
    assert rows[-1][1:] == [1, 0]
    assert result.tables["category"].totals[1:] == [5, 2]

    by_district = result.tables["district"]
    assert len(by_district.rows) == District.objects.count() + 1  # and "not stated"
    assert District.objects.count() == 38
    assert by_district.as_dict()[zh(District, "yuzhong")] == [3, 1]
    assert by_district.as_dict()[zh(District, "jiangbei")] == [1, 1]
    assert by_district.rows[-1][1:] == [1, 0]

    by_industry = result.tables["industry"].as_dict()
    assert by_industry[zh(Industry, "automotive")] == [2, 1]
    assert by_industry[zh(Industry, "electronics")] == [2, 1]
    assert result.tables["industry"].rows[-1][1:] == [2, 0]

    by_tier = result.tables["tier"].as_dict()
    assert by_tier[zh(TalentTier, "leading")] == [1, 1]
    assert result.tables["tier"].rows[-1][1:] == [4, 1]


def test_status_and_verification(pool):
    table = stats().tables["status"]
    with translation.override("zh-hans"):
        public = str(Expert.Status.PUBLIC.label)
        suspended = str(Expert.Status.SUSPENDED.label)
    rows = table.as_dict()
    # Columns: not yet verified, verified, changes requested, rejected, total, listed.
    assert rows[public] == [1, 3, 0, 0, 4, 2]
    assert rows[suspended] == [0, 1, 0, 0, 1, 0]
    assert table.totals[1:] == [1, 4, 0, 0, 5, 2]


def test_listed_matches_what_visitors_find(pool):
    assert stats().totals.listed == Expert.objects.listed().count()


def test_applications_per_month_in_shanghai_time(pool):
    table = stats().tables["applications"]
    assert len(table.rows) == 12
    # Columns: submitted, approved, changes requested, rejected, withdrawn, waiting.
    assert table.rows[-1][1:] == [2, 0, 0, 1, 0, 1]  # November 2026
    assert table.rows[-2][1:] == [1, 1, 0, 0, 0, 0]  # October 2026
    assert table.totals[1:] == [3, 1, 0, 1, 0, 1]  # January 2025 is out of range
    with translation.override("zh-hans"):
        assert "2026" in table.rows[-1][0] and "11" in table.rows[-1][0]
    assert stats(months=24).tables["applications"].totals[1] == 4


def test_contact_requests_per_month_and_acceptance_rate(pool):
    table = stats().tables["contact_requests"]
    # Columns: sent, accepted, declined, expired, withdrawn, waiting, rate.
    assert table.rows[-1][1:] == [3, 1, 1, 0, 0, 1, Decimal("50.0")]
    assert table.rows[-2][1:] == [2, 0, 0, 1, 1, 0, Decimal("0.0")]
    assert table.rows[0][1:] == [0, 0, 0, 0, 0, 0, None]  # nothing decided
    assert table.totals[1:] == [5, 1, 1, 1, 1, 1, Decimal("33.3")]


def test_enterprises_by_status(pool):
    table = stats().tables["enterprises"]
    assert [row[1] for row in table.rows] == [1, 1, 1]  # pending, verified, rejected
    assert table.totals[1] == 3


def test_filters(pool):
    listed = stats(listed_only=True)
    assert (listed.totals.experts, listed.totals.listed) == (2, 2)
    assert listed.tables["category"].as_dict()[zh(ExpertCategory, "lawyer")] == [2, 2]

    lawyers = stats(category_id=term(ExpertCategory, "lawyer").pk)
    assert lawyers.totals.experts == 3
    by_category = lawyers.tables["category"].as_dict()
    assert by_category[zh(ExpertCategory, "lawyer")] == [3, 2]
    # Zhang is also a patent attorney: the breakdown still shows it.
    assert by_category[zh(ExpertCategory, "patent_attorney")] == [1, 1]

    yuzhong = stats(district_id=term(District, "yuzhong").pk)
    assert (yuzhong.totals.experts, yuzhong.totals.listed) == (3, 1)

    automotive = stats(industry_id=term(Industry, "automotive").pk)
    assert automotive.totals.experts == 2
    assert automotive.tables["industry"].as_dict()[zh(Industry, "electronics")] == [
        1,
        0,
    ]

    # The whole-pool figures do not follow the expert filters.
    assert automotive.tables["contact_requests"].totals[1] == 5


def test_statistics_cost_a_fixed_number_of_queries(pool, django_assert_num_queries):
    with django_assert_num_queries(13):
        statistics.pool_statistics(filters=StatisticsFilters(), today=TODAY)
    for i in range(20):
        expert(name=f"专家甲{i}", categories=["notary"], district="wanzhou")
    notaries = StatisticsFilters(category_id=term(ExpertCategory, "notary").pk)
    with django_assert_num_queries(13):
        statistics.pool_statistics(filters=notaries, today=TODAY)


# --- the admin screen ---------------------------------------------------------------


def section(html: str, key: str) -> str:
    start = html.index(f'aria-labelledby="stats-{key}-heading"')
    return html[start : html.index("</section>", start)]


def test_page_shows_form_totals_charts_and_tables(admin_client, pool):
    response = admin_client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert '<form method="get"' in html
    assert response.context["stats"].totals.experts == 5

    districts = section(html, "district")
    chart = districts[districts.index("<svg") : districts.index("</svg>")]
    assert 'role="img"' in chart
    assert 'aria-labelledby="stats-district-title stats-district-desc"' in chart
    assert '<title id="stats-district-title">' in chart
    assert chart.count("<g>") == 39  # 38 districts and "not stated"
    assert '<table class="listing"' in districts
    assert districts.count('<th scope="row">') == 39 + 1  # and the totals
    assert zh(District, "yuzhong") in districts

    for key in (
        "category",
        "industry",
        "tier",
        "status",
        "applications",
        "contact_requests",
        "enterprises",
    ):
        assert "<svg" in section(html, key), key
    assert "33.3" in section(html, "contact_requests")
    assert "export=csv" in html and "export=xlsx" in html
    assert EXPORT_URL in html


def test_page_filters_follow_the_query(admin_client, pool):
    response = admin_client.get(
        URL, {"status": "listed", "district": term(District, "yuzhong").pk}
    )
    assert response.status_code == 200
    assert response.context["stats"].totals.experts == 1
    html = response.content.decode()
    # The export links carry the filters.
    assert f"district={term(District, 'yuzhong').pk}" in html
    assert "status=listed" in html


def test_page_in_english(client, pool):
    staff = staff_with_mfa()
    profile = UserProfile.get_for_user(staff)
    profile.preferred_language = "en"
    profile.save()
    client.force_login(staff)
    html = client.get(URL).content.decode()
    assert "Talent pool statistics" in html
    assert "Experts by expert category" in html
    assert term(District, "yuzhong").name_en in html
    assert term(ExpertCategory, "lawyer").name_en in html
    assert term(ExpertCategory, "lawyer").name_zh not in html


@pytest.mark.parametrize(
    "params",
    [
        {"status": "everyone"},
        {"category": "999999"},
        {"district": "x"},
        {"industry": "-1"},
        {"months": "7"},
        {"months": "many", "export": "csv"},
    ],
)
def test_bad_filter_values_are_form_errors(admin_client, pool, params):
    response = admin_client.get(URL, params)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert response.context["form"].errors
    assert response.context["stats"] is None
    assert "error-message" in response.content.decode()


def test_page_query_count_does_not_grow(admin_client, pool):
    def queries() -> int:
        admin_client.get(URL)  # warm caches
        with CaptureQueriesContext(connection) as context:
            assert admin_client.get(URL).status_code == 200
        return len(context.captured_queries)

    for i in range(5):  # ten experts
        expert(name=f"专家乙{i}", categories=["mediator"], industries=["iot"])
    ten = queries()
    for i in range(40):  # fifty experts
        made = expert(
            name=f"专家丙{i}",
            listed=i % 2 == 0,
            categories=["mediator", "lawyer"],
            industries=["iot"],
            district="wanzhou",
            tier="backbone",
        )
        QualificationFactory(expert=made)
    assert Expert.objects.count() == 50
    assert queries() == ten


# --- exports of the figures -----------------------------------------------------------


def test_statistics_csv_export(admin_client, pool):
    response = admin_client.get(URL, {"export": "csv", "status": "listed"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "talent-pool-statistics-" in response["Content-Disposition"]
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    lawyer = zh(ExpertCategory, "lawyer")
    assert [lawyer, "2", "2"] in rows
    assert [zh(District, "jiangbei"), "1", "1"] in rows
    with translation.override("zh-hans"):
        title = translation.gettext("Contact requests per month")
        month_sent = translation.gettext("Month sent")
    start = rows.index([title])
    assert rows[start + 1][0] == month_sent
    assert rows[start + 1 + 12 + 1][1:] == ["5", "1", "1", "1", "1", "1", "33.3"]


def test_statistics_xlsx_export(admin_client, pool):
    response = admin_client.get(URL, {"export": "xlsx"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    workbook = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert len(workbook.sheetnames) == 1 + 8  # an overview and one per table
    overview = list(workbook.worksheets[0].iter_rows(values_only=True))
    assert overview[2][1] == 5 and overview[3][1] == 2  # experts, listed
    categories = list(workbook.worksheets[1].iter_rows(values_only=True))
    assert (zh(ExpertCategory, "lawyer"), 3, 2) in categories
    assert categories[-1][1:] == (5, 2)  # the totals


# --- the expert export ----------------------------------------------------------------


def export_rows(response) -> list[list[str]]:  # type: ignore[no-untyped-def]
    content = b"".join(response.streaming_content)
    assert content.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def test_expert_csv_export_has_every_field(admin_client, pool):
    response = admin_client.get(EXPORT_URL, {"export": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "experts-" in response["Content-Disposition"]
    rows = export_rows(response)
    header, body = rows[0], rows[1:]
    assert len(body) == 5
    with translation.override("zh-hans"):
        email = capfirst(str(Expert._meta.get_field("email").verbose_name))
        phone = capfirst(str(Expert._meta.get_field("phone").verbose_name))
        yes = translation.gettext("Yes")
        suspended = str(Expert.Status.SUSPENDED.label)
    assert email in header and phone in header
    zhang = dict(zip(header, body[0], strict=True))
    assert zhang[header[2]] == "张三"
    assert zhang[email] == "zhangsan@example.cn"
    assert zhang[phone] == "023-6388 1234"
    assert zhang[header[3]] == f"{zh(ExpertCategory, 'lawyer')}; " + zh(
        ExpertCategory, "patent_attorney"
    )
    assert zhang[header[8]] == zh(District, "yuzhong")
    assert zhang[header[9]] == "重庆渝中律师事务所"
    assert zhang[header[11]] == zh(TalentTier, "leading")
    assert "律师执业证 · 15001201010000001 · 重庆市司法局" in zhang[header[12]]
    assert "2027-06-30" in zhang[header[12]]
    assert zhang[header[16]] == yes  # listed
    zhao = dict(zip(header, body[3], strict=True))
    assert zhao[header[17]] == suspended
    assert zhao[header[18]] == "投诉核查中"
    assert zhao[header[16]] != yes


def test_expert_export_follows_the_filters(admin_client, pool):
    response = admin_client.get(
        EXPORT_URL,
        {
            "export": "csv",
            "status": "listed",
            "category": term(ExpertCategory, "lawyer").pk,
        },
    )
    names = [row[2] for row in export_rows(response)[1:]]
    assert names == ["张三", "李四"]


def test_expert_export_in_english(client, pool):
    staff = staff_with_mfa()
    profile = UserProfile.get_for_user(staff)
    profile.preferred_language = "en"
    profile.save()
    client.force_login(staff)
    rows = export_rows(client.get(EXPORT_URL, {"export": "csv"}))
    assert rows[0][:3] == ["ID", "External ID", "Name"]
    assert "E-mail" in rows[0]
    assert rows[1][3] == "; ".join(
        term(ExpertCategory, c).name_en for c in ("lawyer", "patent_attorney")
    )
    assert rows[1][16] == "Yes"


def test_expert_export_defuses_formulas(admin_client, pool):
    expert(name='=HYPERLINK("http://evil")', biography="@SUM(1)\x0b")
    rows = export_rows(admin_client.get(EXPORT_URL, {"export": "csv"}))
    assert rows[-1][2] == '\'=HYPERLINK("http://evil")'
    response = admin_client.get(EXPORT_URL, {"export": "xlsx"})
    sheet = openpyxl.load_workbook(
        io.BytesIO(b"".join(response.streaming_content))
    ).active
    last = list(sheet.iter_rows())[-1]
    assert last[2].value == '=HYPERLINK("http://evil")'
    assert last[2].data_type == "s"  # text, not a formula


def test_expert_xlsx_export(admin_client, pool):
    response = admin_client.get(EXPORT_URL, {"export": "xlsx", "status": "listed"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert "experts-" in response["Content-Disposition"]
    sheet = openpyxl.load_workbook(
        io.BytesIO(b"".join(response.streaming_content))
    ).active
    rows = list(sheet.iter_rows(values_only=True))
    with translation.override("zh-hans"):
        assert rows[0][13] == capfirst(
            str(Expert._meta.get_field("email").verbose_name)
        )
    assert [row[2] for row in rows[1:]] == ["张三", "李四"]
    assert rows[1][13] == "zhangsan@example.cn"
    assert isinstance(rows[1][21], datetime.datetime)  # verified at, a real date


def test_expert_export_reads_in_chunks(pool):
    def queries(chunk_size: int) -> int:
        with CaptureQueriesContext(connection) as context:
            rows = list(
                statistics.expert_export_rows(
                    filters=StatisticsFilters(), chunk_size=chunk_size
                )
            )
        assert len(rows) == Expert.objects.count()
        return len(context.captured_queries)

    one_chunk = queries(100)
    for i in range(45):
        QualificationFactory(expert=expert(name=f"专家丁{i}", categories=["lawyer"]))
    assert queries(100) == one_chunk  # fifty experts: still one chunk
    # Three chunks: the experts, their five vocabularies and qualifications.
    assert queries(20) == one_chunk + 2 * 7


def test_bad_export_requests_go_back_to_the_statistics(admin_client, pool):
    response = admin_client.get(EXPORT_URL, {"export": "pdf", "status": "listed"})
    assert response.status_code == 302
    assert response["Location"] == f"{URL}?status=listed"
    response = admin_client.get(EXPORT_URL, {"export": "csv", "months": "7"})
    assert response.status_code == 302
    assert response["Location"].startswith(URL)


# --- who may see it ------------------------------------------------------------------


@pytest.mark.parametrize("url", [URL, f"{URL}?export=csv", f"{EXPORT_URL}?export=csv"])
def test_anonymous_and_trainees_are_refused(client, pool, url):
    assert client.get(url)["Location"].startswith(reverse("account_login"))
    client.force_login(UserFactory())
    response = client.get(url)
    assert response.status_code == 302
    assert b"zhangsan@example.cn" not in response.content


def test_staff_need_a_permission_on_experts(client, pool):
    staff = staff_with_mfa(is_superuser=False)
    group = Group.objects.create(name="人才库审核员")
    group.permissions.add(
        Permission.objects.get(
            content_type__app_label="wagtailadmin", codename="access_admin"
        )
    )
    staff.groups.add(group)
    client.force_login(staff)
    for url in (URL, f"{EXPORT_URL}?export=csv", f"{EXPORT_URL}?export=xlsx"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"] == reverse("wagtailadmin_home")
    home = client.get("/admin/").content.decode()
    assert URL not in home
    assert "talent-pool-summary" not in home

    group.permissions.add(
        Permission.objects.get(
            content_type__app_label="talentpool", codename="view_expert"
        )
    )
    staff = type(staff).objects.get(pk=staff.pk)  # no cached permissions
    client.force_login(staff)
    assert client.get(URL).status_code == 200
    rows = export_rows(client.get(EXPORT_URL, {"export": "csv"}))
    assert "zhangsan@example.cn" in rows[1]
    home = client.get("/admin/").content.decode()
    assert "talent-pool-summary" in home
    assert URL in home  # the menu item
    # Not a reviewer: no summary item above, so the panel counts them.
    assert "待审核的申请" in home and "份专家申请待审核" not in home


# --- the dashboard --------------------------------------------------------------------


def test_dashboard_panel(admin_client, pool):
    html = admin_client.get("/admin/").content.decode()
    start = html.index('id="talent-pool-summary-section"')
    panel = html[start : html.index("</section>", start)]
    figures = [
        int(chunk.split(">", 1)[1].split("<", 1)[0]) for chunk in panel.split("<dd")[1:]
    ]
    # Listed, enterprises, requests: the applications waiting are in the
    # dashboard's summary for whoever may review them, not a second time here.
    assert figures == [2, 1, 1]
    assert URL in panel
    assert "待审核的申请" not in panel and "份专家申请待审核" in html


def test_dashboard_query_count_does_not_grow(admin_client, pool):
    def queries() -> int:
        admin_client.get("/admin/")
        with CaptureQueriesContext(connection) as context:
            assert admin_client.get("/admin/").status_code == 200
        return len(context.captured_queries)

    small = queries()
    for i in range(10):
        expert(name=f"专家戊{i}")
        application(ExpertApplication.Status.SUBMITTED, at(2026, 11, 3))
    assert queries() == small


# --- the audit log of expert exports ----------------------------------------------


def export_log_entries():  # type: ignore[no-untyped-def]
    return list(ModelLogEntry.objects.filter(action=LOG_EXPORTED))


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_each_expert_export_is_recorded_in_site_history(client, pool, fmt):
    staff = staff_with_mfa(real_name="审计员甲")
    client.force_login(staff)
    response = client.get(EXPORT_URL, {"export": fmt, "status": "listed"})
    assert response.status_code == 200
    b"".join(response.streaming_content)  # the whole file, as a browser reads it

    (entry,) = export_log_entries()
    assert entry.user_id == staff.pk
    assert entry.object_id == str(Site.objects.get(is_default_site=True).pk)
    assert entry.data["format"] == fmt and entry.data["rows"] == 2
    assert entry.data["filters"]  # which experts: the filters in words

    history = client.get(reverse("wagtailadmin_reports:site_history")).content.decode()
    assert f"已导出专家及其联系方式（{fmt.upper()}）：2 行。" in history
    assert "审计员甲" in history


def test_refused_and_bad_expert_exports_leave_no_record(client, pool):
    staff = staff_with_mfa(is_superuser=False)
    group = Group.objects.create(name="无专家权限")
    group.permissions.add(
        Permission.objects.get(
            content_type__app_label="wagtailadmin", codename="access_admin"
        )
    )
    staff.groups.add(group)
    client.force_login(staff)
    for fmt in ("csv", "xlsx"):
        assert client.get(EXPORT_URL, {"export": fmt}).status_code == 302
    client.force_login(staff_with_mfa())
    assert client.get(EXPORT_URL, {"export": "pdf"}).status_code == 302
    assert client.get(EXPORT_URL, {"export": "csv", "months": "7"}).status_code == 302
    assert export_log_entries() == []

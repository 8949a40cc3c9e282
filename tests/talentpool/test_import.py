"""Importing experts from CSV or XLSX: the reading, the checks, the writing,
the management command and the admin screens."""

import csv
import io

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from openpyxl import Workbook

from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from wagtail.models import ModelLogEntry

from talentpool.imports import expert_file_check
from talentpool.models import Expert, Organisation, OrganisationKind, Qualification
from talentpool.services import ImportRefused, experts_import
from tests.factories import StaffFactory
from tests.talentpool.factories import ExpertFactory, QualificationFactory

pytestmark = pytest.mark.django_db

HEADER = [
    "external_id",
    "name",
    "category",
    "ip_types",
    "services",
    "industries",
    "district",
    "organization",
    "languages",
    "years_of_practice",
    "talent_tier",
    "license_no",
    "bio",
    "email",
    "phone",
]
CHINESE_HEADER = [
    "外部编号",
    "姓名",
    "类别",
    "知识产权类型",
    "服务",
    "行业",
    "区县",
    "机构/单位",
    "语言",
    "执业年限",
    "人才层级",
    "执业证号",
    "简介",
    "邮箱",
    "电话",
]
# Codes, Chinese labels and English labels; every separator; full-width digits.
GOOD_ROWS = [
    [
        "CQ-001",
        "张伟",
        "lawyer;patent_attorney",
        "patent|trademark",
        "诉讼、法律咨询",
        "集成电路；电子信息",
        "渝中区",
        "重庆某某知识产权律师事务所",
        "中文;English",
        "１２",
        "leading",
        "１５００１２０１０１０１２３４５６",
        "擅长专利侵权诉讼。",
        "Zhang.Wei@Example.CN",
        "023-6666 8888",
    ],
    [
        "CQ-002",
        "李娜",
        "Patent attorney",
        "Patents",
        "Filing and prosecution",
        "electronics",
        "yubei",
        "重庆大学",
        "zh",
        "5年",
        "骨干人才",
        "",
        "",
        "li.na@example.cn",
        "",
    ],
    [
        "CQ-003",
        "王芳",
        "公证员",
        "",
        "证据保全公证",
        "",
        "沙坪坝区",
        "重庆市某某公证处",
        "",
        "",
        "",
        "P2019-00123",
        "",
        "",
        "13800138000",
    ],
]


def csv_file(rows: list[list[str]], encoding: str = "utf-8") -> io.BytesIO:
    text = io.StringIO()
    csv.writer(text).writerows(rows)
    return io.BytesIO(text.getvalue().encode(encoding))


def xlsx_file(rows: list[list]) -> io.BytesIO:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    content = io.BytesIO()
    workbook.save(content)
    content.seek(0)
    return content


def errors_by_line(report) -> dict:
    found: dict = {}
    for line, message in report.errors:
        found.setdefault(line, []).append(message)
    return found


def codes(manager) -> set[str]:
    return set(manager.values_list("code", flat=True))


def assert_good_rows_imported() -> None:
    zhang = Expert.objects.get(external_id="CQ-001")
    assert zhang.name == "张伟"
    assert codes(zhang.categories) == {"lawyer", "patent_attorney"}
    assert codes(zhang.ip_types) == {"patent", "trademark"}
    assert codes(zhang.services) == {"litigation", "legal_advice"}
    assert codes(zhang.industries) == {"integrated_circuits", "electronics"}
    assert codes(zhang.languages) == {"zh", "en"}
    assert zhang.district.code == "yuzhong" and zhang.talent_tier.code == "leading"
    assert zhang.years_of_practice == 12
    assert zhang.email == "zhang.wei@example.cn" and zhang.phone == "023-6666 8888"
    assert zhang.organisation.kind == OrganisationKind.LAW_FIRM
    assert zhang.qualifications.get().licence_number == "15001201010123456"
    li = Expert.objects.get(external_id="CQ-002")
    assert codes(li.categories) == {"patent_attorney"}
    assert codes(li.services) == {"agency"} and li.talent_tier.code == "backbone"
    assert li.years_of_practice == 5
    assert li.organisation.kind == OrganisationKind.UNIVERSITY
    wang = Expert.objects.get(external_id="CQ-003")
    assert wang.organisation.kind == OrganisationKind.NOTARY_OFFICE
    assert wang.qualifications.get().licence_number == "P2019-00123"
    # Imported is not public: verification and consent come first.
    assert not Expert.objects.listed().exists()


# --- reading files ----------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_a_csv_in_utf8_or_gbk_is_imported(encoding):
    file = csv_file([HEADER, *GOOD_ROWS], encoding)

    result = experts_import(file=file, filename="专家.csv")

    assert (result.created, result.updated) == (3, 0)
    assert_good_rows_imported()


def test_an_xlsx_workbook_with_chinese_headers_is_imported():
    file = xlsx_file([["重庆市知识产权人才库"], CHINESE_HEADER, *GOOD_ROWS])

    report = expert_file_check(file=file, filename="专家名单.XLSX")
    assert report.errors == [] and report.rows == 3 and report.new == 3
    assert [row.line for row in report.sample] == [3, 4, 5]
    assert Expert.objects.count() == 0  # checking writes nothing

    experts_import(file=file, filename="专家名单.xlsx")
    assert_good_rows_imported()


def test_header_synonyms_and_extra_columns_are_understood():
    header = ["编号", "专家姓名", "专家类别", "工作单位", "手机号码", "备注"]
    rows = [header, ["A1", "赵敏", "律师", "某某律师事务所", "13900001111", "x"]]

    report = expert_file_check(file=csv_file(rows), filename="a.csv")

    assert report.errors == [] and report.rows == 1
    assert any("备注" in warning for warning in report.warnings)
    row = report.sample[0]
    assert (row.external_id, row.name, row.phone) == ("A1", "赵敏", "13900001111")


def test_importing_again_updates_and_never_duplicates():
    experts_import(file=csv_file([HEADER, *GOOD_ROWS]), filename="a.csv")
    changed = [list(row) for row in GOOD_ROWS]
    changed[0][1] = "张伟（合伙人）"
    changed[0][2] = "律师"
    changed[1][9] = "6"

    result = experts_import(file=csv_file([HEADER, *changed]), filename="a.csv")

    # Two rows changed; the third is the same as in the pool, and said so.
    assert (result.created, result.updated, result.unchanged) == (0, 2, 1)
    assert Expert.objects.count() == 3
    assert Organisation.objects.count() == 3
    assert Qualification.objects.count() == 2
    zhang = Expert.objects.get(external_id="CQ-001")
    assert zhang.name == "张伟（合伙人）" and codes(zhang.categories) == {"lawyer"}
    assert Expert.objects.get(external_id="CQ-002").years_of_practice == 6
    # Each import that changed an expert is on the expert's history.
    wang = Expert.objects.get(external_id="CQ-003")
    assert (
        ModelLogEntry.objects.filter(
            object_id=str(wang.pk), action="talentpool.expert_imported"
        ).count()
        == 1
    )
    assert (
        ModelLogEntry.objects.filter(
            object_id=str(zhang.pk), action="talentpool.expert_imported"
        ).count()
        == 2
    )


def test_an_update_leaves_columns_the_file_does_not_have_alone():
    experts_import(file=csv_file([HEADER, *GOOD_ROWS]), filename="a.csv")
    experts_import(
        file=csv_file([["external_id", "name"], ["CQ-001", "张伟"]]), filename="b.csv"
    )
    zhang = Expert.objects.get(external_id="CQ-001")
    assert zhang.email == "zhang.wei@example.cn"
    assert codes(zhang.categories) == {"lawyer", "patent_attorney"}


def test_without_an_external_id_the_licence_number_finds_the_expert():
    expert = ExpertFactory(external_id=None, name="陈静")
    QualificationFactory(expert=expert, licence_number="15001201010999999")
    rows = [["姓名", "执业证号", "执业年限"], ["陈静", "15001201010999999", "8"]]

    result = experts_import(file=csv_file(rows), filename="a.csv")

    assert (result.created, result.updated) == (0, 1)
    expert.refresh_from_db()
    assert expert.years_of_practice == 8


# --- bad rows -----------------------------------------------------------------


def test_every_bad_row_is_reported_with_its_line_and_nothing_is_written():
    QualificationFactory(licence_number="15001201010777777")
    bad = [
        HEADER,
        GOOD_ROWS[0],  # line 2, good
        ["CQ-010", "", "律师", "", "", "", "", "", "", "", "", "", "", "", ""],
        [
            "CQ-011",
            "刘洋",
            "火星律师",
            "",
            "",
            "",
            "火星区",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
        ],
        ["CQ-012", "周敏", "", "", "", "", "", "", "", "很多", "", "", "", "a@", ""],
        ["CQ-013", "吴刚", "", "", "", "", "", "", "", "", "", "12", "", "", ""],
        [
            "CQ-014",
            "郑爽",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            GOOD_ROWS[0][11],
            "",
            "",
            "",
        ],
        [
            "CQ-015",
            "孙丽",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "15001201010777777",
            "",
            "",
            "",
        ],
        ["CQ-001", "张伟", "", "", "", "", "", "", "", "", "", "", "", "", ""],
        [
            "CQ-016",
            "钱多",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "leading;backbone",
            "",
            "",
            "",
            "电话",
        ],
    ]

    report = expert_file_check(file=csv_file(bad), filename="bad.csv")
    found = errors_by_line(report)

    assert sorted(found) == [3, 4, 5, 6, 7, 8, 9, 10]
    assert any("姓名" in m for m in found[3])  # missing name
    assert any("火星律师" in m for m in found[4]) and any(
        "火星区" in m for m in found[4]
    )
    assert any("很多" in m for m in found[5]) and any("a@" in m for m in found[5])
    assert any("12" in m for m in found[6])  # malformed licence number
    assert any("2" in m for m in found[7])  # same licence as line 2
    assert any("15001201010777777" in m for m in found[8])  # another expert's
    assert any("CQ-001" in m for m in found[9])  # external ID twice
    assert len(found[10]) == 2  # two tiers; not a phone number
    assert not report.is_valid

    with pytest.raises(ImportRefused) as refused:
        experts_import(file=csv_file(bad), filename="bad.csv")
    assert refused.value.report.errors == report.errors
    assert not Expert.objects.exclude(
        qualifications__licence_number="15001201010777777"
    ).exists()
    assert not Organisation.objects.exists()


@pytest.mark.parametrize(
    ("content", "filename"),
    [
        (b"\x00\x01garbage", "a.xlsx"),
        (b"PK\x03\x04 not really", "a.csv"),
        (b"name\n", "a.txt"),
        ("外部编号,备注\n1,2\n".encode(), "a.csv"),  # no name column
        ("姓名\n".encode(), "a.csv"),  # no experts
        ("姓名\n张伟\n".encode() + "李娜\n".encode("gbk"), "a.csv"),
    ],
)
def test_unreadable_files_get_one_clear_message_and_import_nothing(content, filename):
    report = expert_file_check(file=io.BytesIO(content), filename=filename)
    assert len(report.errors) == 1 and report.errors[0][0] is None
    assert not report.is_valid
    assert not Expert.objects.exists()


# --- the management command -------------------------------------------------------


def write(tmp_path, rows, name="experts.csv"):
    path = tmp_path / name
    path.write_bytes(csv_file(rows).getvalue())
    return str(path)


def test_the_command_dry_run_writes_nothing(tmp_path, capsys):
    call_command("import_experts", write(tmp_path, [HEADER, *GOOD_ROWS]), "--dry-run")

    out = capsys.readouterr().out
    assert "3" in out
    assert not Expert.objects.exists()


def test_the_command_imports_and_reports(tmp_path, capsys):
    path = write(tmp_path, [HEADER, *GOOD_ROWS])
    call_command("import_experts", path)
    assert Expert.objects.count() == 3
    call_command("import_experts", path)
    assert Expert.objects.count() == 3
    out = capsys.readouterr().out
    assert "3" in out


def test_the_command_lists_bad_rows_and_exits_1(tmp_path, capsys):
    path = write(tmp_path, [HEADER, GOOD_ROWS[0], ["X", "", "火星律师"]])
    with pytest.raises(CommandError) as error:
        call_command("import_experts", path)
    assert error.value.returncode == 1
    err = capsys.readouterr().err
    assert "3" in err and "火星律师" in err
    # Each problem names its column as the spreadsheet shows it.
    assert "(B " in err and "(C " in err
    assert not Expert.objects.exists()


# --- the admin --------------------------------------------------------------------


@pytest.fixture
def staff_client(client, home):
    staff = StaffFactory(mfa=False)
    TOTP.activate(staff, generate_totp_secret())
    client.force_login(staff)
    return client


def upload(client, file: io.BytesIO, filename: str):
    file.name = filename
    return client.post(
        reverse("wagtailsnippets_talentpool_expert:import"), {"file": file}
    )


# The check and the write run in Celery tasks (eager here, once the request's
# transaction commits): tests/talentpool/test_import_jobs.py has the rest.


def test_the_admin_shows_bad_rows_and_imports_nothing(
    staff_client, django_capture_on_commit_callbacks
):
    rows = [HEADER, GOOD_ROWS[0], ["X9", "刘洋", "火星律师"]]
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(staff_client, csv_file(rows), "bad.csv")
    assert response.status_code == 302
    preview = staff_client.get(response["Location"])
    page = preview.content.decode()
    assert preview.status_code == 200
    assert "火星律师" in page and "张伟" in page
    assert 'name="confirm"' not in page

    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(response["Location"], {"confirm": ""})
    assert not Expert.objects.exists()


def test_the_admin_uploads_previews_and_imports(
    staff_client, django_capture_on_commit_callbacks
):
    index = reverse("wagtailsnippets_talentpool_expert:list")
    import_url = reverse("wagtailsnippets_talentpool_expert:import")
    assert import_url in staff_client.get(index).content.decode()
    assert staff_client.get(import_url).status_code == 200

    with django_capture_on_commit_callbacks(execute=True):
        response = upload(
            staff_client, xlsx_file([CHINESE_HEADER, *GOOD_ROWS]), "专家.xlsx"
        )
    job_url = response["Location"]
    assert job_url.startswith("/admin/imports/")
    page = staff_client.get(job_url).content.decode()
    assert "张伟" in page and 'name="confirm"' in page
    assert not Expert.objects.exists()  # the preview writes nothing

    with django_capture_on_commit_callbacks(execute=True):
        done = staff_client.post(job_url, {"confirm": ""})

    assert done.status_code == 302 and done["Location"] == job_url
    assert_good_rows_imported()
    assert index in staff_client.get(job_url).content.decode()
    listing = staff_client.get(index).content.decode()
    assert "张伟" in listing and "王芳" in listing
    # A second click changes nothing.
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(job_url, {"confirm": ""})
    assert Expert.objects.count() == 3


def test_staff_remove_an_expert_with_a_reason_and_still_see_it(staff_client):
    expert = ExpertFactory(name="赵六")
    url = reverse("wagtailsnippets_talentpool_expert:status", args=(expert.pk,))

    refused = staff_client.post(url, {"status": "removed", "reason": ""})
    assert refused.status_code == 200
    expert.refresh_from_db()
    assert expert.status == "public"

    done = staff_client.post(url, {"status": "removed", "reason": "重复录入"})
    assert done.status_code == 302
    expert.refresh_from_db()
    assert expert.status == "removed" and expert.status_reason == "重复录入"
    listing = reverse("wagtailsnippets_talentpool_expert:list")
    assert "赵六" in staff_client.get(listing).content.decode()
    history = reverse("wagtailsnippets_talentpool_expert:history", args=(expert.pk,))
    assert "重复录入" in staff_client.get(history).content.decode()
    # Nobody deletes experts, not even a superuser.
    delete = reverse("wagtailsnippets_talentpool_expert:delete", args=(expert.pk,))
    assert staff_client.get(delete).status_code in (302, 403)
    assert Expert.objects.filter(pk=expert.pk).exists()


def test_the_talent_pool_vocabularies_are_in_the_admin(staff_client):
    for model in ("expertcategory", "service", "industry", "language", "talenttier"):
        url = reverse(f"wagtailsnippets_talentpool_{model}:list")
        assert staff_client.get(url).status_code == 200
    page = staff_client.get(reverse("wagtailsnippets_talentpool_expertcategory:list"))
    assert "专利代理师" in page.content.decode()

"""Rosters go live legitimately (issue 15): the import columns verified_on,
consent_on and consent_ref record verification and consent given on paper,
with the importing staff member as who verified and recorded them, in the
audit log. Rows with both are listed at once; rows without stay unlisted;
bad dates and half a consent refuse the file with their lines; a re-import
changes nothing; a later online withdrawal stands."""

import io
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from openpyxl import Workbook

from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone, translation

from wagtail.models import ModelLogEntry

from talentpool.imports import evidence_date, expert_file_check
from talentpool.models import Expert, ExpertConsent
from talentpool.search import expert_search
from talentpool.services import (
    LOG_CONSENT_ON_PAPER,
    LOG_VERIFIED_ON_PAPER,
    ImportRefused,
    experts_import,
)
from tests.factories import StaffFactory, UserFactory
from tests.talentpool.factories import ExpertFactory
from tests.talentpool.helpers import talent_page
from tests.talentpool.test_import import csv_file

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
HEADER = ["external_id", "name", "category", "verified_on", "consent_on", "consent_ref"]
CHINESE_HEADER = ["外部编号", "姓名", "类别", "核验日期", "同意日期", "同意书编号"]
ROWS = [
    ["R-001", "欧阳锋", "lawyer", "2025/3/1", "2025-03-02", "TY-2025-001"],
    ["R-002", "黄药师", "patent_attorney", "2025年3月1日", "2025.3.2", "TY-2025-002"],
]


@pytest.fixture(autouse=True)
def _english():
    translation.activate("en")


@pytest.fixture
def staff():
    return StaffFactory(mfa=False)


def run(rows, user=None, **options):
    return experts_import(
        file=csv_file(rows), filename="名单.csv", user=user, **options
    )


def test_dates_as_rosters_write_them():
    for text in (
        "2025/3/1",
        "2025-03-01",
        "2025年3月1日",
        "２０２５／３／１",
        "2025.3.1",
    ):
        assert evidence_date(text) == date(2025, 3, 1), text
    # An Excel date cell (read as ISO), or one left as a serial number.
    assert evidence_date("2025-03-01T00:00:00") == date(2025, 3, 1)
    assert evidence_date("45717") == date(2025, 3, 1)
    for text in ("2025-02-30", "3/1/2025", "明年", "1", "20250301"):
        assert evidence_date(text) is None, text


def test_rows_with_both_are_listed_at_once_with_the_staff_member_as_verifier(
    client, home, staff
):
    talent_page(home)
    result = run([CHINESE_HEADER, *ROWS], user=staff)
    assert (result.created, result.verified, result.consented) == (2, 2, 2)

    experts = Expert.objects.order_by("external_id")
    assert set(Expert.objects.listed()) == set(experts)
    for expert in experts:
        assert expert.verification_status == Expert.Verification.VERIFIED
        assert expert.verified_by == staff
        assert expert.verified_at == datetime(2025, 3, 1, 12, tzinfo=SHANGHAI)
        assert expert.publication_consent_at == datetime(
            2025, 3, 2, 12, tzinfo=SHANGHAI
        )
        consent = ExpertConsent.objects.get(expert=expert)
        assert consent.method == ExpertConsent.Method.PAPER
        assert consent.given and consent.user is None
        assert consent.recorded_by == staff
        assert consent.reference in {"TY-2025-001", "TY-2025-002"}
        assert consent.wording.startswith("我同意")  # the Chinese wording

    # In the search the public page and the API use, and on the page.
    found = set(expert_search().ids(1, 50))
    assert found == {expert.pk for expert in experts}
    page = client.get("/talent/").content.decode()
    assert "欧阳锋" in page and "黄药师" in page

    # The audit log: who verified and recorded, which file and line.
    entries = ModelLogEntry.objects.filter(
        action__in=[LOG_VERIFIED_ON_PAPER, LOG_CONSENT_ON_PAPER]
    )
    assert entries.count() == 4
    assert {entry.user_id for entry in entries} == {staff.pk}
    consent_entry = entries.get(action=LOG_CONSENT_ON_PAPER, label="欧阳锋")
    assert consent_entry.data["reference"] == "TY-2025-001"
    assert consent_entry.data["line"] == 2
    message = consent_entry.formatter.format_message(consent_entry)
    assert "TY-2025-001" in message and "名单.csv" in message


def test_rows_without_the_columns_stay_unlisted(staff):
    rows = [["external_id", "name", "category"], ["R-001", "欧阳锋", "lawyer"]]
    run(rows, user=staff)
    expert = Expert.objects.get()
    assert expert.verification_status == Expert.Verification.UNVERIFIED
    assert not Expert.objects.listed().exists()
    assert not ExpertConsent.objects.exists()


def test_a_verified_row_without_consent_is_verified_but_not_listed(staff):
    rows = [
        HEADER,
        ["R-001", "欧阳锋", "lawyer", "2025-03-01", "", ""],
    ]
    result = run(rows, user=staff)
    assert (result.verified, result.consented) == (1, 0)
    expert = Expert.objects.get()
    assert expert.verification_status == Expert.Verification.VERIFIED
    assert not Expert.objects.listed().exists()


def test_an_xlsx_with_date_cells(staff):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    sheet.append(["R-001", "欧阳锋", "lawyer", datetime(2025, 3, 1), 45718, "TY-1"])
    content = io.BytesIO()
    workbook.save(content)
    content.seek(0)
    experts_import(file=content, filename="名单.xlsx", user=staff)
    expert = Expert.objects.get()
    assert timezone.localdate(expert.verified_at) == date(2025, 3, 1)
    assert timezone.localdate(expert.publication_consent_at) == date(2025, 3, 2)


def test_bad_dates_and_half_a_consent_are_refused_with_their_lines(staff):
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    rows = [
        HEADER,
        ["R-001", "欧阳锋", "lawyer", tomorrow, "", ""],
        ["R-002", "黄药师", "lawyer", "2025-13-01", "", ""],
        ["R-003", "洪七公", "lawyer", "", "2025-03-01", ""],
        ["R-004", "段智兴", "lawyer", "", "", "TY-4"],
        ["R-005", "王重阳", "lawyer", "", "上周", "TY-5"],
        ["R-006", "周伯通", "lawyer", "2025-03-01", "2025-03-01", "TY-6"],
    ]
    report = expert_file_check(file=csv_file(rows), filename="a.csv")
    problems = dict(report.errors)
    assert set(problems) == {2, 3, 4, 5, 6}
    assert "in the future" in problems[2]
    assert "“2025-13-01” is not a date" in problems[3]
    assert "needs the reference of the signed consent form" in problems[4]
    assert "needs the date the form was signed" in problems[5]
    assert "“上周” is not a date" in problems[6]

    with pytest.raises(ImportRefused):
        run(rows, user=staff)
    assert not Expert.objects.exists()
    assert not ExpertConsent.objects.exists()
    assert not ModelLogEntry.objects.filter(
        action__in=[LOG_VERIFIED_ON_PAPER, LOG_CONSENT_ON_PAPER]
    ).exists()


def test_a_file_with_a_consent_date_column_but_no_reference_column_is_refused():
    rows = [
        ["external_id", "name", "category", "consent_on"],
        ["R-001", "欧阳锋", "lawyer", "2025-03-01"],
    ]
    report = expert_file_check(file=csv_file(rows), filename="a.csv")
    ((line, message),) = report.errors
    assert line is None and "consent_ref" in message


def test_the_columns_need_the_importing_staff_member():
    with pytest.raises(ImportRefused) as refused:
        run([HEADER, *ROWS], user=None)
    assert "--as-user" in refused.value.report.errors[0][1]
    assert not Expert.objects.exists()


def test_a_reimport_changes_nothing(staff):
    run([HEADER, *ROWS], user=staff)
    entries = ModelLogEntry.objects.count()
    again = run([HEADER, *ROWS], user=StaffFactory(mfa=False))
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert (again.verified, again.consented) == (0, 0)
    assert ExpertConsent.objects.count() == 2
    assert ModelLogEntry.objects.count() == entries
    assert set(Expert.objects.values_list("verified_by", flat=True)) == {staff.pk}


def test_the_same_form_under_another_date_is_refused(staff):
    run([HEADER, *ROWS], user=staff)
    rows = [
        HEADER,
        ["R-001", "欧阳锋", "lawyer", "2025/3/1", "2025-04-01", "TY-2025-001"],
    ]
    report = expert_file_check(file=csv_file(rows), filename="a.csv")
    ((line, message),) = report.errors
    assert line == 2 and "already recorded" in message


def test_a_later_verification_is_kept(staff):
    reviewer = StaffFactory(mfa=False)
    later = datetime(2026, 6, 1, 9, tzinfo=SHANGHAI)
    ExpertFactory(
        external_id="R-001",
        verification_status=Expert.Verification.VERIFIED,
        verified_at=later,
        verified_by=reviewer,
    )
    result = run(
        [HEADER, ["R-001", "欧阳锋", "lawyer", "2025-03-01", "", ""]], user=staff
    )
    expert = Expert.objects.get()
    assert (expert.verified_at, expert.verified_by) == (later, reviewer)
    assert result.verified == 0


def test_a_withdrawal_online_after_the_paper_date_stands(staff):
    account = UserFactory()
    expert = ExpertFactory(external_id="R-001", name="欧阳锋", user=account)
    ExpertConsent.objects.create(
        expert=expert,
        given=False,
        wording="…",
        user=account,
        recorded_at=datetime(2025, 6, 1, 9, tzinfo=SHANGHAI),
    )
    rows = [
        HEADER,
        ["R-001", "欧阳锋（更新）", "lawyer", "2025-03-01", "2025-03-02", "TY-1"],
    ]
    report = expert_file_check(file=csv_file(rows), filename="a.csv")
    assert report.is_valid and report.consent_skipped_lines == [2]
    assert any(
        "Line 2" in warning and "stands" in warning for warning in report.warnings
    )

    result = run(rows, user=staff)
    assert result.consent_skipped_lines == [2] and result.consented == 0
    expert.refresh_from_db()
    assert expert.name == "欧阳锋（更新）"  # the rest of the row is imported
    assert expert.verification_status == Expert.Verification.VERIFIED
    assert expert.publication_consent_at is None
    assert not ExpertConsent.objects.filter(method=ExpertConsent.Method.PAPER).exists()
    assert not Expert.objects.listed().exists()


def test_a_paper_consent_after_a_withdrawal_is_recorded_for_the_account(staff):
    account = UserFactory()
    expert = ExpertFactory(external_id="R-001", name="欧阳锋", user=account)
    ExpertConsent.objects.create(
        expert=expert,
        given=False,
        wording="…",
        user=account,
        recorded_at=datetime(2024, 6, 1, 9, tzinfo=SHANGHAI),
    )
    run(
        [HEADER, ["R-001", "欧阳锋", "lawyer", "2025-03-01", "2025-03-02", "TY-1"]],
        user=staff,
    )
    consent = ExpertConsent.objects.get(method=ExpertConsent.Method.PAPER)
    assert consent.user == account and consent.recorded_by == staff
    assert Expert.objects.listed().get() == expert


def test_the_command_needs_a_staff_member_for_the_columns(tmp_path, staff):
    path = tmp_path / "名单.csv"
    path.write_bytes(csv_file([HEADER, *ROWS]).getvalue())
    with pytest.raises(CommandError, match="--as-user"):
        call_command("import_experts", str(path), "--dry-run")
    errors = io.StringIO()
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_experts", str(path), stderr=errors)
    assert "--as-user" in errors.getvalue()
    learner = UserFactory()
    with pytest.raises(CommandError):
        call_command("import_experts", str(path), "--as-user", learner.email)
    assert not Expert.objects.exists()

    out = io.StringIO()
    call_command("import_experts", str(path), "--as-user", staff.email, stdout=out)
    assert "2 experts verified and 2 paper consents recorded" in out.getvalue()
    assert Expert.objects.listed().count() == 2
    assert set(Expert.objects.values_list("verified_by", flat=True)) == {staff.pk}

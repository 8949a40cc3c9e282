"""A training manager's import in a real browser, in Chinese: sign in with a
password and a TOTP code, upload a trainee list (.xlsx) with a bad line, see
it refused, upload the corrected list, import it, and find the class in the
training report; axe-core on the preview and on the report."""

import datetime
import io
import re
import time

import pytest
from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
)
from openpyxl import Workbook
from playwright.sync_api import expect

from courses.models import Enrolment, TrainingClass, TrainingClassMember
from tests.browser.helpers import assert_no_serious_axe_violations, field
from tests.courses.factories import CourseIndexPageFactory, CoursePageFactory
from tests.factories import StaffFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PASSWORD = "correct horse battery staple"
CLASS_NAME = "2027年春季知识产权培训班"
HEADER = ["邮箱", "姓名", "单位", "人员类别", "区县"]
GOOD_ROWS = [
    ["zhang.wei@example.cn", "张伟", "重庆市知识产权局", "公务员", "渝中区"],
    ["li.na@example.cn", "李娜", "重庆大学", "教师", "沙坪坝区"],
    ["wang.fang@example.cn", "王芳", "", "", ""],
]
BAD_ROW = ["zhao.lei-example.cn", "赵磊", "重庆市科技局", "公务员", "渝中区"]
FIXED_ROW = ["zhao.lei@example.cn", "赵磊", "重庆市科技局", "公务员", "渝中区"]
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx(rows: list[list[str]]) -> bytes:
    """A trainee list as a workbook: the column names, then the rows."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "学员名单"
    for row in [HEADER, *rows]:
        sheet.append(row)
    content = io.BytesIO()
    workbook.save(content)
    return content.getvalue()


def upload(tab, filename: str, rows: list[list[str]]) -> None:  # type: ignore[no-untyped-def]
    """Choose the trainee list on the import page and have it checked."""
    tab.get_by_label("学员名单").set_input_files(
        files=[{"name": filename, "mimeType": XLSX_TYPE, "buffer": xlsx(rows)}]
    )
    tab.get_by_role("button", name="检查文件").click()


def totp_code(secret: str) -> str:
    """The authenticator app's current code; near the end of a period, the
    next one, so that the code is still valid when the server checks it."""
    period = mfa_settings.TOTP_PERIOD
    if period - time.time() % period < 3:
        time.sleep(period - time.time() % period + 0.1)
    return format_hotp_value(hotp_value(secret, int(time.time()) // period))


@pytest.fixture
def training_class(home) -> TrainingClass:
    catalogue = CourseIndexPageFactory(parent=home)
    training_class = TrainingClass.objects.create(
        name=CLASS_NAME,
        code="2027-spring-ip",
        starts_on=datetime.date(2027, 3, 1),
        ends_on=datetime.date(2027, 6, 30),
    )
    training_class.courses.set(
        [
            CoursePageFactory(parent=catalogue, title="知识产权基础"),
            CoursePageFactory(parent=catalogue, title="专利导航实务"),
        ]
    )
    return training_class


@pytest.fixture
def manager() -> tuple[str, str]:
    """A staff member with an authenticator app: (e-mail, TOTP secret)."""
    staff = StaffFactory(email="peixun@example.org", real_name="陈敏", mfa=False)
    secret = generate_totp_secret()
    TOTP.activate(staff, secret)
    return staff.email, secret


def test_a_manager_imports_a_class_from_xlsx_and_sees_it_in_the_report(
    page, training_class, manager, screenshot
):
    email, secret = manager

    # Signing in: the admin sends the manager to the site's login, then asks
    # for the authenticator code.
    page.goto("/admin/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    field(page, "电子邮件").fill(email)
    field(page, "密码").fill(PASSWORD)
    page.get_by_role("main").get_by_role("button", name="登录").click()
    expect(page).to_have_url(re.compile(r"/accounts/2fa/authenticate/$"))
    page.locator("input[name=code]").fill(totp_code(secret))
    page.get_by_role("main").get_by_role("button", name="登录").click()
    expect(page).to_have_url(re.compile(r"/admin/$"))

    # To the class's import page through the admin menu and the class's row.
    page.get_by_role("link", name="培训班", exact=True).click()
    row = page.get_by_role("row").filter(has_text=CLASS_NAME)
    row.get_by_role("button", name=re.compile("更多")).click()
    row.get_by_role("link", name="导入学员").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("导入学员")

    # A file with a bad e-mail address on line 5: every row and the problem
    # are shown, and there is nothing to confirm.
    upload(page, "学员名单.xlsx", [*GOOD_ROWS, BAD_ROW])
    # The check ran in a Celery task (eager, on commit): the job's page.
    expect(page).to_have_url(re.compile(r"/admin/imports/\d+/$"))
    main = page.get_by_role("main")
    expect(main).to_contain_text("学员名单.xlsx：3 名学员可导入，其中 3 人尚无账号。")
    problems = main.get_by_role(
        "region", name=re.compile("文件有 1 处问题。问题改正之前无法导入")
    )
    expect(problems.get_by_role("row")).to_have_count(2)
    expect(problems.get_by_role("row").nth(1).get_by_role("cell")).to_have_text(
        # The line, the column as the spreadsheet names it, the problem.
        ["5", "A 邮箱", "“zhao.lei-example.cn”不是有效的邮箱地址。"]
    )
    trainees = main.get_by_role("table", name="文件中的学员")
    expect(trainees.get_by_role("row")).to_have_count(1 + len(GOOD_ROWS))
    for email_address, name, *_ in GOOD_ROWS:
        expect(trainees).to_contain_text(email_address)
        expect(trainees).to_contain_text(name)
    expect(main.locator("button[name=confirm]")).to_have_count(0)
    expect(main.get_by_role("button", name="取消导入")).to_be_visible()
    screenshot(page, "manager-import-preview-errors")
    assert_no_serious_axe_violations(page)
    assert not TrainingClassMember.objects.exists()

    # The corrected file: four trainees, and the import.
    main.get_by_role("link", name="上传修改后的文件").click()
    upload(page, "学员名单（修改）.xlsx", [*GOOD_ROWS, FIXED_ROW])
    main = page.get_by_role("main")
    expect(main).to_contain_text("4 名学员可导入，其中 4 人尚无账号")
    expect(main).not_to_contain_text("处问题")
    trainees = main.get_by_role("table", name="文件中的学员")
    expect(trainees.get_by_role("row")).to_have_count(5)
    expect(trainees).to_contain_text("zhao.lei@example.cn")
    screenshot(page, "manager-import-preview")
    assert_no_serious_axe_violations(page)
    # Found by its name attribute, not its label: the Chinese catalogue gives
    # "Import %(counter)s trainees" the search page's "共 %(counter)s 条结果".
    confirm = main.locator("button[name=confirm]")
    expect(confirm).to_contain_text("4")
    confirm.click()
    # The write ran in a Celery task; the job's page says what it did.
    expect(page.get_by_role("main")).to_contain_text(
        "已将 4 名学员加入培训班（新开账号 4 个，已发邮件邀请）；0 名原已在班中。"
    )
    page.get_by_role("main").locator(
        "a[href*='/admin/training_classes/inspect/']"
    ).click()
    expect(page).to_have_url(re.compile(r"/admin/training_classes/inspect/\d+/$"))
    assert (
        TrainingClassMember.objects.filter(training_class=training_class).count() == 4
    )
    assert Enrolment.objects.filter(training_class=training_class).count() == 8

    # The training report (报告 › 培训统计), grouped by training class:
    # 4 trainees, each enrolled in the class's 2 courses.
    page.get_by_role("button", name="报告").click()
    page.get_by_role("link", name="培训统计").click()
    expect(page).to_have_url(re.compile(r"/admin/reports/training/$"))
    # Wagtail's label holds the asterisk in a span, with spaces around.
    page.get_by_role("combobox", name=re.compile(r"^统计维度")).select_option(
        label="培训班"
    )
    page.get_by_role("button", name="生成统计").click()
    expect(page).to_have_url(re.compile(r"dimension=training_class"))
    results = page.locator("#listing-results")
    class_row = results.get_by_role("row").filter(has_text=CLASS_NAME)
    # Learners, enrolments, completions, rate, average score, hours.
    expect(class_row.get_by_role("cell")).to_have_text(
        ["4", "8", "0", "0.0", "—", "0.0"]
    )
    chart = results.get_by_role("img", name=re.compile("按培训班统计的报名与完成人次"))
    expect(chart).to_be_visible()
    expect(chart).to_contain_text("0 / 8")
    screenshot(page, "manager-training-report")
    assert_no_serious_axe_violations(page)

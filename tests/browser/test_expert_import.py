"""An administrator's expert import in a real browser, in Chinese: sign in
with a password and a TOTP code, upload a spreadsheet with Chinese column
names and two bad rows, see every problem with its line and nothing
imported, upload the corrected file, import it, and find the experts in the
admin's own search by a Traditional-character query; axe-core on the
preview."""

import io
import re

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from openpyxl import Workbook
from playwright.sync_api import expect

from talentpool.models import Expert, Qualification
from tests.browser.helpers import assert_no_serious_axe_violations, field
from tests.browser.test_training_manager import PASSWORD, XLSX_TYPE, totp_code
from tests.factories import StaffFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

HEADER = [
    "外部编号",
    "姓名",
    "类别",
    "知识产权类型",
    "行业",
    "区县",
    "机构/单位",
    "执业证号",
    "邮箱",
]
GOOD_ROWS = [
    [
        "CQ-101",
        "张伟",
        "专利代理师",
        "专利",
        "集成电路",
        "渝中区",
        "重庆某某专利代理事务所",
        "15001201010123456",
        "zhang.wei@example.cn",
    ],
    [
        "CQ-102",
        "李娜",
        "律师；公证员",
        "商标|著作权",
        "电子信息",
        "渝北区",
        "重庆某某律师事务所",
        "",
        "li.na@example.cn",
    ],
    ["CQ-103", "王芳", "lawyer", "trademark", "", "沙坪坝区", "", "", ""],
]
# Line 5: an unknown category; line 6: an e-mail address without "@".
BAD_ROWS = [
    ["CQ-104", "赵磊", "魔法师", "专利", "", "江北区", "", "", ""],
    ["CQ-105", "钱琳", "律师", "", "", "", "", "", "qian.lin-example.cn"],
]
FIXED_ROWS = [
    ["CQ-104", "赵磊", "专利代理师", "专利", "", "江北区", "", "", ""],
    ["CQ-105", "钱琳", "律师", "", "", "", "", "", "qian.lin@example.cn"],
]


def xlsx(rows: list[list[str]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "专家名单"
    for row in [HEADER, *rows]:
        sheet.append(row)
    content = io.BytesIO()
    workbook.save(content)
    return content.getvalue()


def upload(tab, filename: str, rows: list[list[str]]) -> None:  # type: ignore[no-untyped-def]
    tab.get_by_label("专家名单").set_input_files(
        files=[{"name": filename, "mimeType": XLSX_TYPE, "buffer": xlsx(rows)}]
    )
    tab.get_by_role("main").locator("button[type=submit]").first.click()


@pytest.fixture
def administrator() -> tuple[str, str]:
    staff = StaffFactory(email="rencai@example.org", real_name="周静", mfa=False)
    secret = generate_totp_secret()
    TOTP.activate(staff, secret)
    return staff.email, secret


def test_an_administrator_imports_experts_with_chinese_headers(
    page, administrator, screenshot
):
    email, secret = administrator
    page.goto("/admin/")
    field(page, "电子邮件").fill(email)
    field(page, "密码").fill(PASSWORD)
    page.get_by_role("main").get_by_role("button", name="登录").click()
    expect(page).to_have_url(re.compile(r"/accounts/2fa/authenticate/$"))
    page.locator("input[name=code]").fill(totp_code(secret))
    page.get_by_role("main").get_by_role("button", name="登录").click()
    expect(page).to_have_url(re.compile(r"/admin/$"))

    # 人才库 › 专家 › 更多 › 导入专家
    page.get_by_role("button", name="人才库").click()
    page.get_by_role("link", name="专家", exact=True).click()
    page.locator("#w-slim-header-buttons").get_by_role("button", name="动作").click()
    page.get_by_role("link", name="导入专家").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("导入专家")

    # Two bad rows: both listed with their line, nothing to confirm.
    upload(page, "专家名单.xlsx", [*GOOD_ROWS, *BAD_ROWS])
    # The check ran in a Celery task (eager, on commit): the job's page.
    expect(page).to_have_url(re.compile(r"/admin/imports/\d+/$"))
    main = page.get_by_role("main")
    problems = main.get_by_role("region", name=re.compile("文件有 2 处问题"))
    rows = problems.get_by_role("row")
    expect(rows).to_have_count(3)
    expect(rows.nth(1).get_by_role("cell").first).to_have_text("5")
    expect(rows.nth(1)).to_contain_text("魔法师")
    expect(rows.nth(2).get_by_role("cell").first).to_have_text("6")
    expect(rows.nth(2)).to_contain_text("qian.lin-example.cn")
    expect(main.locator("button[name=confirm]")).to_have_count(0)
    screenshot(page, "expert-import-preview-errors")
    assert_no_serious_axe_violations(page)
    assert not Expert.objects.exists()

    # The corrected file imports all five.
    main.get_by_role("link", name="上传修改后的文件").click()
    upload(page, "专家名单（修改）.xlsx", [*GOOD_ROWS, *FIXED_ROWS])
    main = page.get_by_role("main")
    expect(main).not_to_contain_text("处问题")
    expect(
        main.get_by_role("table", name="文件中的专家").get_by_role("row")
    ).to_have_count(6)
    assert_no_serious_axe_violations(page)
    main.locator("button[name=confirm]").click()
    # The write ran in a Celery task; the job's page says what it did.
    expect(page.get_by_role("main")).to_contain_text(
        "已新增 5 位专家，更新 0 位，0 位无变化。"
    )
    assert Expert.objects.count() == 5
    page.get_by_role("main").locator(
        "a[href$='/admin/snippets/talentpool/expert/']"
    ).click()
    zhang = Expert.objects.get(external_id="CQ-101")
    assert [c.code for c in zhang.categories.all()] == ["patent_attorney"]
    assert Qualification.objects.get(expert=zhang).licence_number == "15001201010123456"

    # The admin's search finds the patent attorney in Traditional characters.
    search = page.get_by_role("main").get_by_role("textbox", name=re.compile("搜索"))
    search.fill("專利代理師 積體電路")
    search.press("Enter")
    listing = page.locator("#listing-results")
    expect(listing).to_contain_text("张伟")
    expect(listing).not_to_contain_text("李娜")
    screenshot(page, "expert-import-done")

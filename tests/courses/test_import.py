"""Importing trainees into a training class from a CSV or XLSX file."""

import csv
import datetime
import io
import os
import time
import zipfile

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from openpyxl import Workbook

from django.contrib.auth.models import Permission
from django.core import mail
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import translation

from courses.admin_import import UPLOAD_FOLDER
from courses.imports import (
    MAX_ROWS,
    trainee_file_read,
    training_class_import,
)
from courses.models import Enrolment, TrainingClass, TrainingClassMember
from courses.services import CourseError
from portal.models import Audience, District, ImportJob, User
from tests.courses.factories import CourseIndexPageFactory, CoursePageFactory
from tests.factories import StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

ENGLISH_HEADER = ["Email", "Name", "Organisation", "Audience", "District"]
CHINESE_HEADER = ["电子邮箱", "姓名", "工作单位", "人员类别", "所在区县"]
GOOD_ROWS = [
    ["zhang.wei@example.cn", "张伟", "重庆市知识产权局", "civil_servant", "yuzhong"],
    ["Li.Na@Example.CN", "李娜", "重庆大学", "教师", "沙坪坝区"],
    ["wang.fang@example.cn", "王芳", "", "Enterprise and institution managers", ""],
]


def csv_file(rows: list[list[str]], encoding: str = "utf-8") -> bytes:
    text = io.StringIO()
    csv.writer(text).writerows(rows)
    return text.getvalue().encode(encoding)


def xlsx_file(rows: list[list]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    content = io.BytesIO()
    workbook.save(content)
    return content.getvalue()


@pytest.fixture
def training_class(home) -> TrainingClass:
    catalogue = CourseIndexPageFactory(parent=home)
    training_class = TrainingClass.objects.create(
        name="2027年春季知识产权培训班",
        code="2027-spring-ip",
        starts_on=datetime.date(2027, 3, 1),
        ends_on=datetime.date(2027, 6, 30),
    )
    training_class.courses.set(
        [
            CoursePageFactory(parent=catalogue, self_enrolment=False),
            CoursePageFactory(parent=catalogue),
        ]
    )
    return training_class


def errors_by_line(preview) -> dict:
    found: dict = {}
    for line, message in preview.errors:
        found.setdefault(line, []).append(message)
    return found


# --- reading files ----------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_a_csv_is_read_in_utf8_with_or_without_bom_or_in_gbk(encoding, db):
    content = csv_file([ENGLISH_HEADER, *GOOD_ROWS], encoding)

    preview = trainee_file_read(content=content, filename="学员名单.CSV")

    assert preview.errors == [] and preview.warnings == []
    assert [row.line for row in preview.rows] == [2, 3, 4]
    zhang, li, wang = preview.rows
    assert (zhang.email, zhang.name, zhang.organisation) == (
        "zhang.wei@example.cn",
        "张伟",
        "重庆市知识产权局",
    )
    # Codes, Chinese and English labels all name a term; e-mails are lower-cased.
    assert zhang.audience == Audience.objects.get(code="civil_servant")
    assert zhang.district == District.objects.get(code="yuzhong")
    assert li.email == "li.na@example.cn"
    assert li.audience.code == "teacher" and li.district.code == "shapingba"
    assert wang.audience.code == "enterprise_manager" and wang.district is None
    assert all(row.is_new for row in preview.rows)


def test_a_gbk_file_with_chinese_headers_as_excel_saves_it(db):
    rows = [
        CHINESE_HEADER,
        ["chen.jing@example.cn", "陈静", "两江新区管委会", "公务员", "渝北区"],
    ]
    content = csv_file(rows, "gb18030")
    with pytest.raises(UnicodeDecodeError):
        content.decode("utf-8")  # the test really is about a non-UTF-8 file

    preview = trainee_file_read(content=content, filename="名单.csv")

    assert preview.errors == []
    (row,) = preview.rows
    assert (row.name, row.organisation) == ("陈静", "两江新区管委会")
    assert (row.audience.code, row.district.code) == ("civil_servant", "yubei")


def test_an_xlsx_workbook_is_read_below_a_title_line(db):
    content = xlsx_file(
        [
            ["2027年春季培训班学员名单"],
            ["邮箱", "姓名", "单位", "人员类别", "区县"],
            ["zhao.lei@example.cn", "赵磊", "长安汽车", "technical_staff", "Jiangbei"],
            [None, None, None, None, None],  # an empty line is skipped, not an error
            ["sun.li@example.cn", "孙丽", 12345, None, None],
        ]
    )

    preview = trainee_file_read(content=content, filename="名单.xlsx")

    assert preview.errors == []
    assert [(row.line, row.name) for row in preview.rows] == [(3, "赵磊"), (5, "孙丽")]
    assert preview.rows[0].district.code == "jiangbei"
    assert preview.rows[1].organisation == "12345"
    assert len(preview.warnings) == 1 and "1" in preview.warnings[0]


def test_header_names_ignore_case_spaces_and_notes(db):
    header = [" E-MAIL (required) ", "姓名*", "ORGANIZATION", "audience group", "区/县"]
    content = csv_file([header, GOOD_ROWS[0]])

    preview = trainee_file_read(content=content, filename="list.csv")

    assert preview.errors == [] and preview.rows[0].district.code == "yuzhong"


def test_extra_columns_are_a_warning_and_ignored(db):
    content = csv_file(
        [[*ENGLISH_HEADER, "手机", "备注"], [*GOOD_ROWS[0], "13800000000", "班长"]]
    )

    preview = trainee_file_read(content=content, filename="list.csv")

    assert preview.errors == [] and preview.is_valid
    assert len(preview.warnings) == 1
    assert "手机" in preview.warnings[0] and "备注" in preview.warnings[0]


def test_every_bad_row_is_reported_with_its_line_and_nothing_is_written(
    training_class,
):
    existing = UserFactory(email="taken@example.cn")
    rows = [
        ENGLISH_HEADER,
        GOOD_ROWS[0],  # line 2: fine
        ["not-an-email", "刘洋", "", "", ""],  # 3
        ["zhou.min@example.cn", "周敏", "", "", "火星区"],  # 4: unknown district
        ["ZHANG.WEI@example.cn", "张伟", "", "", ""],  # 5: same as line 2
        ["wu.gang@example.cn", "", "", "", ""],  # 6: no name
        ["zheng.hui@example.cn", "郑慧", "", "外星人", ""],  # 7: unknown audience
        ["", "无邮箱", "", "", ""],  # 8
        ["taken@example.cn", "冯强", "", "", ""],  # 9: fine, existing account
    ]
    users_before = User.objects.count()

    preview = trainee_file_read(content=csv_file(rows), filename="list.csv")

    errors = errors_by_line(preview)
    assert sorted(errors) == [3, 4, 5, 6, 7, 8]
    assert "not-an-email" in errors[3][0]
    assert "火星区" in errors[4][0]
    assert "2" in errors[5][0]  # points to the first line with that address
    assert "外星人" in errors[7][0]
    assert [row.line for row in preview.rows] == [2, 9]
    assert preview.rows[1].user_id == existing.pk
    assert not preview.is_valid

    with pytest.raises(CourseError):
        training_class_import(
            training_class=training_class, preview=preview, invited_by=StaffFactory()
        )
    assert User.objects.count() == users_before + 1  # only the staff member above
    assert not TrainingClassMember.objects.exists()
    assert not Enrolment.objects.exists()
    assert mail.outbox == []


def test_a_file_without_the_required_columns_is_refused_whole(db):
    content = csv_file([["Email", "Organisation"], ["a@example.cn", "重庆大学"]])

    with translation.override("en"):
        preview = trainee_file_read(content=content, filename="list.csv")

    assert preview.rows == []
    ((line, message),) = preview.errors
    assert line is None and "name" in message


@pytest.mark.parametrize(
    ("content", "filename"),
    [
        (b"\x81\x30\xff\xfe\x00\x00garbage\xff", "list.csv"),  # neither UTF-8 nor GBK
        (b"", "list.csv"),
        (b"Email,Name\r\n", "list.csv"),  # the columns and no trainee
        (b"some text", "list.xlsx"),  # not a workbook
        (b"Email,Name\r\na@example.cn,A\r\n", "list.xls"),  # old Excel format
        (b"Email;Name\r\na@example.cn;A\r\n", "list.csv"),  # no column is known
    ],
)
def test_unreadable_files_get_one_clear_message(content, filename, db):
    preview = trainee_file_read(content=content, filename=filename)

    assert preview.rows == []
    assert len(preview.errors) == 1 and preview.errors[0][0] is None
    assert preview.errors[0][1]


def test_an_excel_workbook_named_csv_is_recognised(db):
    content = xlsx_file([ENGLISH_HEADER, GOOD_ROWS[0]])

    preview = trainee_file_read(content=content, filename="list.csv")

    assert ".xlsx" in preview.errors[0][1]


def test_files_over_the_limits_are_refused(db):
    too_many = [ENGLISH_HEADER] + [
        [f"t{n}@example.cn", f"学员{n}", "", "", ""] for n in range(MAX_ROWS + 1)
    ]
    preview = trainee_file_read(content=csv_file(too_many), filename="list.csv")
    assert preview.rows == [] and "5000" in preview.errors[0][1]

    too_big = b"Email,Name\r\n" + b"x" * (5 * 1024 * 1024)
    preview = trainee_file_read(content=too_big, filename="list.csv")
    assert preview.rows == [] and "5" in preview.errors[0][1]


def test_a_workbook_that_unpacks_to_too_much_is_refused_unread(db):
    content = io.BytesIO(xlsx_file([ENGLISH_HEADER, GOOD_ROWS[0]]))
    with (
        zipfile.ZipFile(content, "a", zipfile.ZIP_DEFLATED) as workbook,
        workbook.open("xl/padding.xml", "w") as padding,
    ):
        for _ in range(101):
            padding.write(b" " * 1024 * 1024)
    assert len(content.getvalue()) < 1024 * 1024

    preview = trainee_file_read(content=content.getvalue(), filename="list.xlsx")

    assert preview.rows == [] and preview.errors[0][0] is None


# --- importing --------------------------------------------------------------


def test_importing_twice_creates_and_invites_once(
    training_class, django_capture_on_commit_callbacks
):
    existing = UserFactory(
        email="Wang.Fang@example.cn", real_name="王芳（原名）", organisation="原单位"
    )
    manager = StaffFactory()
    content = csv_file([ENGLISH_HEADER, *GOOD_ROWS])

    with django_capture_on_commit_callbacks(execute=True):
        first = training_class_import(
            training_class=training_class,
            preview=trainee_file_read(content=content, filename="list.csv"),
            invited_by=manager,
        )

    assert (first.users_created, first.members_added, first.already_members) == (
        2,
        3,
        0,
    )
    assert sorted(message.to[0] for message in mail.outbox) == [
        "li.na@example.cn",
        "zhang.wei@example.cn",
    ]
    invitation = next(m for m in mail.outbox if m.to == ["zhang.wei@example.cn"])
    assert training_class.name in invitation.subject
    assert "http://testserver/accounts/password/reset/" in invitation.body
    assert "张伟" in invitation.body and "zhang.wei@example.cn" in invitation.body
    assert "2027年3月1日" in invitation.body  # written in Chinese, the default

    zhang = User.objects.get(email="zhang.wei@example.cn")
    assert not zhang.has_usable_password()
    assert (zhang.real_name, zhang.organisation) == ("张伟", "重庆市知识产权局")
    assert (zhang.audience.code, zhang.district.code) == ("civil_servant", "yuzhong")
    assert EmailAddress.objects.filter(
        user=zhang, email="zhang.wei@example.cn", verified=True, primary=True
    ).exists()
    # The manager vouches for new addresses, not for existing profiles.
    existing.refresh_from_db()
    assert (existing.real_name, existing.organisation) == ("王芳（原名）", "原单位")
    assert (
        TrainingClassMember.objects.filter(training_class=training_class).count() == 3
    )
    assert Enrolment.objects.filter(training_class=training_class).count() == 6

    sent = len(mail.outbox)
    with django_capture_on_commit_callbacks(execute=True):
        second = training_class_import(
            training_class=training_class,
            preview=trainee_file_read(content=content, filename="list.csv"),
            invited_by=manager,
        )

    assert (second.users_created, second.members_added, second.already_members) == (
        0,
        0,
        3,
    )
    assert len(mail.outbox) == sent
    assert User.objects.filter(email__endswith="@example.cn").count() == 3
    assert TrainingClassMember.objects.count() == 3
    assert Enrolment.objects.count() == 6


def test_an_address_verified_on_another_account_finds_that_account(
    training_class, django_capture_on_commit_callbacks
):
    person = UserFactory(email="old.address@example.cn")
    EmailAddress.objects.create(
        user=person, email="zhang.wei@example.cn", verified=True
    )
    content = csv_file([ENGLISH_HEADER, GOOD_ROWS[0]])

    with django_capture_on_commit_callbacks(execute=True):
        result = training_class_import(
            training_class=training_class,
            preview=trainee_file_read(content=content, filename="list.csv"),
            invited_by=StaffFactory(),
        )

    assert (result.users_created, result.members_added) == (0, 1)
    assert TrainingClassMember.objects.get().user == person
    assert mail.outbox == []


def test_an_invited_trainee_can_set_a_password_from_the_link(
    client, training_class, django_capture_on_commit_callbacks
):
    content = csv_file([ENGLISH_HEADER, GOOD_ROWS[0]])
    with django_capture_on_commit_callbacks(execute=True):
        training_class_import(
            training_class=training_class,
            preview=trainee_file_read(content=content, filename="list.csv"),
            invited_by=StaffFactory(),
        )
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("account_reset_password"), {"email": "zhang.wei@example.cn"}
        )

    assert response.status_code == 302
    assert [message.to for message in mail.outbox] == [["zhang.wei@example.cn"]]


# --- the admin --------------------------------------------------------------


@pytest.fixture
def manager_client(client, home):
    staff = StaffFactory(mfa=False)
    TOTP.activate(staff, generate_totp_secret())
    client.force_login(staff)
    return client


def admin_url(name: str, *args) -> str:
    return reverse(f"training_classes:{name}", args=args)


def upload(client, training_class, content: bytes, filename: str):
    file = io.BytesIO(content)
    file.name = filename
    return client.post(admin_url("import", training_class.pk), {"file": file})


def stored_uploads() -> list[str]:
    try:
        return default_storage.listdir(UPLOAD_FOLDER)[1]
    except FileNotFoundError:
        return []


def test_a_bad_file_is_shown_with_its_problems_and_cannot_be_imported(
    manager_client, training_class, django_capture_on_commit_callbacks
):
    rows = [
        ENGLISH_HEADER,
        GOOD_ROWS[0],
        ["not-an-email", "刘洋", "", "", ""],
        ["zhou.min@example.cn", "周敏", "", "", "火星区"],
    ]

    # The check runs in a Celery task once the upload's job is committed.
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(manager_client, training_class, csv_file(rows), "list.csv")
    assert response.status_code == 302
    preview = manager_client.get(response["Location"])

    page = preview.content.decode()
    assert "zhang.wei@example.cn" in page
    assert "not-an-email" in page and "火星区" in page
    assert 'name="confirm"' not in page

    with django_capture_on_commit_callbacks(execute=True):
        manager_client.post(response["Location"], {"confirm": ""})
    assert not TrainingClassMember.objects.exists()
    assert not User.objects.filter(email="zhang.wei@example.cn").exists()


def test_a_manager_uploads_previews_and_imports_a_file(
    manager_client, training_class, django_capture_on_commit_callbacks
):
    import_url = admin_url("import", training_class.pk)
    for screen in (admin_url("index"), admin_url("edit", training_class.pk)):
        assert import_url in manager_client.get(screen).content.decode()
    assert manager_client.get(import_url).status_code == 200
    before = set(stored_uploads())

    content = xlsx_file([CHINESE_HEADER, *GOOD_ROWS])
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(manager_client, training_class, content, "学员名单.xlsx")
    preview_url = response["Location"]  # the import job's page
    assert response.status_code == 302 and preview_url.startswith("/admin/imports/")
    # The file waits on the server, under a name the browser never sees.
    assert len(set(stored_uploads()) - before) == 1
    assert UPLOAD_FOLDER not in str(manager_client.cookies)

    preview = manager_client.get(preview_url)
    page = preview.content.decode()
    assert preview.status_code == 200
    assert all(row[0] in page for row in GOOD_ROWS[::2]) and "li.na@example.cn" in page
    assert 'name="confirm"' in page
    assert not TrainingClassMember.objects.exists()  # the preview writes nothing

    with django_capture_on_commit_callbacks(execute=True):
        done = manager_client.post(preview_url, {"confirm": ""})

    assert done.status_code == 302 and done["Location"] == preview_url
    assert (
        TrainingClassMember.objects.filter(training_class=training_class).count() == 3
    )
    assert len(mail.outbox) == 3
    assert set(stored_uploads()) == before  # deleted after the import
    result = manager_client.get(preview_url).content.decode()
    assert admin_url("inspect", training_class.pk) in result
    detail = manager_client.get(admin_url("inspect", training_class.pk))
    page = detail.content.decode()
    assert "zhang.wei@example.cn" in page and "王芳" in page

    # Confirming again (a second click) changes nothing.
    with django_capture_on_commit_callbacks(execute=True):
        manager_client.post(preview_url, {"confirm": ""})
    assert len(mail.outbox) == 3


def test_cancelling_deletes_the_upload(
    manager_client, training_class, django_capture_on_commit_callbacks
):
    before = set(stored_uploads())
    with django_capture_on_commit_callbacks(execute=True):
        uploaded = upload(
            manager_client,
            training_class,
            csv_file([ENGLISH_HEADER, *GOOD_ROWS]),
            "a.csv",
        )
    assert len(set(stored_uploads()) - before) == 1

    response = manager_client.post(uploaded["Location"], {"cancel": ""})

    assert response["Location"] == admin_url("inspect", training_class.pk)
    assert set(stored_uploads()) == before
    assert not User.objects.filter(email="zhang.wei@example.cn").exists()


def test_uploads_abandoned_for_a_day_are_removed_by_the_next_upload(
    manager_client, training_class
):
    old = default_storage.save(f"{UPLOAD_FOLDER}/abandoned.csv", io.BytesIO(b"x"))
    a_day_ago = time.time() - 25 * 3600
    os.utime(default_storage.path(old), (a_day_ago, a_day_ago))

    upload(
        manager_client, training_class, csv_file([ENGLISH_HEADER, *GOOD_ROWS]), "a.csv"
    )

    assert not default_storage.exists(old)
    assert len(stored_uploads()) >= 1  # the new one waits for its confirmation


def test_only_csv_and_xlsx_files_are_accepted(manager_client, training_class):
    response = upload(manager_client, training_class, b"%PDF-1.7", "list.pdf")

    assert response.status_code == 200
    assert response.context["form"].errors["file"]


def test_only_managers_with_the_change_permission_import(client, training_class):
    staff = StaffFactory(is_superuser=False, mfa=False)
    staff.user_permissions.add(
        Permission.objects.get(
            codename="access_admin", content_type__app_label="wagtailadmin"
        )
    )
    TOTP.activate(staff, generate_totp_secret())
    client.force_login(staff)
    content = csv_file([ENGLISH_HEADER, *GOOD_ROWS])
    before = set(stored_uploads())

    # Wagtail turns a refusal into a redirect to the dashboard, with a message.
    for response in (
        client.get(admin_url("import", training_class.pk)),
        upload(client, training_class, content, "a.csv"),
    ):
        assert response.status_code == 302
        assert response["Location"] == reverse("wagtailadmin_home")
    assert set(stored_uploads()) == before
    # Another manager's import job is not theirs to see or confirm.
    job = ImportJob.objects.create(
        kind="trainee", target_id=training_class.pk, filename="a.csv", status="checked"
    )
    job_url = reverse("portal_import_job", args=(job.pk,))
    assert client.get(job_url).status_code == 404
    assert client.post(job_url, {"confirm": ""}).status_code == 404

    staff.user_permissions.add(Permission.objects.get(codename="change_trainingclass"))
    assert client.get(admin_url("import", training_class.pk)).status_code == 200


def test_a_manager_creates_a_class_with_its_courses(manager_client, home):
    catalogue = CourseIndexPageFactory(parent=home)
    course = CoursePageFactory(parent=catalogue)
    data = {
        "name": "专利代理实务班",
        "code": "patent-practice",
        "starts_on": "2027-09-01",
        "ends_on": "2027-08-01",
        "description": "",
        "courses": [course.pk],
    }

    refused = manager_client.post(admin_url("add"), data)
    assert refused.status_code == 200 and not TrainingClass.objects.exists()
    assert refused.context["form"].errors["ends_on"]

    manager_client.post(admin_url("add"), {**data, "ends_on": "2027-12-31"})
    training_class = TrainingClass.objects.get(code="patent-practice")
    assert list(training_class.courses.all()) == [course]

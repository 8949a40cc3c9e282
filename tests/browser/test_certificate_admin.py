"""A training manager issues the certificates of a whole class in a real
browser, in Chinese: signs in with a TOTP code, chooses the class, sees what
the run will do, starts it and watches the progress reach 5 of 5 on a page
that updates itself without reloading; axe-core on the progress page."""

import datetime
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
from playwright.sync_api import expect

from django.contrib.auth.models import Group, Permission

from courses import tasks
from courses.certificates import services
from courses.models import (
    Certificate,
    CertificateBatch,
    TrainingClass,
    TrainingClassMember,
)
from tests.browser.helpers import assert_no_serious_axe_violations, field
from tests.courses.factories import (
    CertificateRequestFactory,
    CourseIndexPageFactory,
    CoursePageFactory,
)
from tests.factories import StaffFactory, UserFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PASSWORD = "correct horse battery staple"
CLASS_NAME = "2027年春季知识产权培训班"
NAMES = ["张喆", "李堃", "王玥", "陈珺", "刘昇"]


def totp_code(secret: str) -> str:
    """The authenticator app's current code; near the end of a period, the
    next one, so that the code is still valid when the server checks it."""
    period = mfa_settings.TOTP_PERIOD
    if period - time.time() % period < 3:
        time.sleep(period - time.time() % period + 0.1)
    return format_hotp_value(hotp_value(secret, int(time.time()) // period))


@pytest.fixture
def training_class(home) -> TrainingClass:
    """Five trainees who completed the class's course."""
    course = CoursePageFactory(
        parent=CourseIndexPageFactory(parent=home), title="知识产权基础"
    )
    training_class = TrainingClass.objects.create(
        name=CLASS_NAME,
        code="2027-spring-ip",
        starts_on=datetime.date(2027, 3, 1),
        ends_on=datetime.date(2027, 6, 30),
    )
    training_class.courses.add(course)
    for name in NAMES:
        user = UserFactory(real_name=name)
        TrainingClassMember.objects.create(training_class=training_class, user=user)
        CertificateRequestFactory(user=user, source_key=course.pk, title=course.title)
    return training_class


@pytest.fixture
def manager() -> tuple[str, str]:
    """A training manager (not a superuser) with an authenticator app."""
    staff = StaffFactory(
        email="peixun@example.org", real_name="陈敏", is_superuser=False, mfa=False
    )
    managers = Group.objects.create(name="培训管理员")
    managers.permissions.add(
        Permission.objects.get(codename="access_admin"),
        Permission.objects.get(codename="add_certificatebatch"),
        Permission.objects.get(codename="view_certificatebatch"),
        Permission.objects.get(codename="view_certificate"),
    )
    staff.groups.add(managers)
    secret = generate_totp_secret()
    TOTP.activate(staff, secret)
    return staff.email, secret


@pytest.fixture
def worker_paused(monkeypatch):
    """The run's task is not started by the web request: the test does the
    worker's part itself, a few learners at a time, while the page watches."""
    monkeypatch.setattr(
        tasks.run_certificate_batch, "delay_on_commit", lambda *args: None
    )


def test_a_manager_starts_a_bulk_run_and_watches_it_finish(
    page, training_class, manager, worker_paused, screenshot
):
    email, secret = manager
    page.goto("/admin/")
    field(page, "电子邮件").fill(email)
    field(page, "密码").fill(PASSWORD)
    page.get_by_role("main").get_by_role("button", name="登录").click()
    expect(page).to_have_url(re.compile(r"/accounts/2fa/authenticate/$"))
    page.locator("input[name=code]").fill(totp_code(secret))
    page.get_by_role("main").get_by_role("button", name="登录").click()
    expect(page).to_have_url(re.compile(r"/admin/$"))

    # 证书 › 批量发证, then the button to start a run.
    page.get_by_role("button", name="证书", exact=True).click()
    page.get_by_role("link", name="批量发证").click()
    expect(page).to_have_url(re.compile(r"/admin/certificate_batches/$"))
    page.get_by_role("link", name=re.compile("发证")).filter(
        has_text=re.compile("添加|新")
    ).first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("颁发培训班证书")

    page.get_by_role("combobox", name=re.compile("^培训班")).select_option(
        label=f"{CLASS_NAME} (2027-03-01 – 2027-06-30)"
    )
    page.get_by_role("button", name="继续").click()
    main = page.get_by_role("main")
    expect(main).to_contain_text("将颁发 5 份证书")
    assert not Certificate.objects.exists()  # nothing before the confirmation
    main.get_by_role("button", name="开始批量发证").click()

    expect(page).to_have_url(re.compile(r"/admin/certificate_batches/inspect/\d+/$"))
    status = page.get_by_role("status").filter(has_text="已完成")
    expect(status).to_contain_text("已完成 0 / 5")
    page.evaluate("window.samePage = true")
    batch = CertificateBatch.objects.get()
    items = list(batch.items.order_by("pk").values_list("pk", flat=True))

    # The worker issues two certificates: the page says so by itself.
    services.certificate_batch_process(item_ids=items[:2])
    expect(status).to_contain_text("已完成 2 / 5")
    expect(page.locator("#batch-progress-bar")).to_have_attribute("value", "40")

    services.certificate_batch_process(item_ids=items[2:])
    expect(status).to_contain_text("已完成 5 / 5")
    expect(page.get_by_role("link", name="本班证书")).to_be_visible()
    assert page.evaluate("window.samePage") is True  # updated, never reloaded
    screenshot(page, "manager-bulk-certificates")
    assert_no_serious_axe_violations(page)
    assert Certificate.objects.filter(rendered_at__isnull=False).count() == 5

    # Closed and opened again: the past run is listed, finished.
    page.goto("/admin/certificate_batches/")
    row = page.get_by_role("row").filter(has_text=CLASS_NAME)
    expect(row).to_contain_text("5 / 5")

"""Keeping attendees informed, in a real browser: the organiser searches the
attendee list, previews and sends a message, and cancels the event; a
registrant confirms cancelling a registration. axe-core on each page added."""

import pytest
from playwright.sync_api import expect

from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from wagtail.models import GroupPagePermission

from events.models import EventMessage, EventPage, Registration
from events.registration import services
from tests.browser.helpers import (
    assert_no_serious_axe_violations,
    field,
    sign_in,
    sign_in_with_code,
)
from tests.events.factories import EventIndexPageFactory, EventPageFactory
from tests.factories import UserFactory, activate_totp

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_an_organiser_searches_messages_and_cancels(page, home):
    index = EventIndexPageFactory(parent=home)
    event = EventPageFactory(parent=index, title="专利检索讲座", capacity=2)
    event.save_revision().publish()
    for name in ("王芳", "李雷", "韩梅梅"):
        services.registration_create(user=UserFactory(real_name=name), event=event)
    organiser = UserFactory(real_name="组织者", email="org@example.org")
    group = Group.objects.create(name="活动组织者")
    group.permissions.add(
        Permission.objects.get(codename="access_admin"),
        Permission.objects.get(
            content_type__app_label="events", codename="view_registration"
        ),
    )
    for codename in ("change_page", "publish_page"):
        GroupPagePermission.objects.create(
            group=group,
            page=index,
            permission=Permission.objects.get(
                content_type__app_label="wagtailcore", codename=codename
            ),
        )
    organiser.groups.add(group)
    secret = activate_totp(organiser)

    sign_in_with_code(page, organiser.email, secret)
    page.goto(reverse("events_registration_attendees", args=[event.pk]))
    field(page, "姓名、邮箱或签到码").fill("王芳")
    page.get_by_role("search", name="搜索报名").get_by_role(
        "button", name="搜索"
    ).click()
    table = page.get_by_role("table")
    expect(table).to_contain_text("王芳")
    expect(table).not_to_contain_text("李雷")
    assert_no_serious_axe_violations(page)

    page.get_by_role("link", name="给报名者发消息").click()
    page.get_by_label("已确认及候补", exact=False).check()
    field(page, "标题").fill("集合地点变更")
    field(page, "正文").fill("请到二楼报告厅。")
    page.get_by_role("button", name="预览收件人").click()
    expect(page.locator(".help-warning")).to_contain_text("发送给 3 人")
    assert not EventMessage.objects.exists()
    assert_no_serious_axe_violations(page)
    page.get_by_role("button", name="发送给 3 人").click()
    expect(page.locator(".messages")).to_contain_text("3")
    assert EventMessage.objects.get().recipients == 3

    page.get_by_role("link", name="取消活动").click()
    assert_no_serious_axe_violations(page)
    field(page, "活动为何取消？").fill("场馆检修。")
    page.get_by_role("button", name="取消活动并通知报名者").click()
    expect(page.locator(".messages")).to_contain_text("已取消")
    assert EventPage.objects.get(pk=event.pk).cancelled_at is not None


def test_a_registrant_confirms_cancelling(page, home):
    index = EventIndexPageFactory(parent=home)
    event = EventPageFactory(parent=index, title="商标保护讲座", capacity=5)
    trainee = UserFactory(email="li@example.org")
    registration = services.registration_create(user=trainee, event=event)

    sign_in(page, trainee.email)
    page.goto(event.url)
    page.get_by_role("link", name="取消报名").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("取消报名？")
    assert_no_serious_axe_violations(page)
    assert Registration.objects.get(pk=registration.pk).status == "confirmed"
    page.get_by_role("button", name="确定取消报名").click()
    page.wait_for_url(f"**{event.url}")
    assert Registration.objects.get(pk=registration.pk).status == "cancelled"

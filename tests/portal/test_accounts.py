"""Accounts through allauth: sign-up, verification, login, profile, password,
e-mail change and deletion, with bad input answered in the user's language."""

import re

import pytest
from allauth.account.models import EmailAddress, EmailConfirmationHMAC

from django.core import mail
from django.urls import reverse
from django.utils import translation

from portal.models import Audience, District, OutgoingEmail, User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "Zhishi-Chanquan-2027"


def signup(client, email="zhang.wei@example.org", password=PASSWORD, **extra):
    data = {
        "email": email,
        "password1": password,
        "password2": password,
        "real_name": "张伟",
        "audience": Audience.objects.get(code="civil_servant").pk,
        "privacy_consent": "on",
    }
    data.update(extra)
    return client.post(reverse("account_signup"), data)


def confirmation_link(message) -> str:
    match = re.search(r"https?://[^\s]+/accounts/confirm-email/[^\s/]+/", message.body)
    assert match, message.body
    return match.group(0).split("testserver", 1)[-1]


def test_signup_sends_a_chinese_verification_email_and_login_waits_for_it(
    client, home, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = signup(client)
    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    user = User.objects.get(email="zhang.wei@example.org")
    assert user.real_name == "张伟" and user.audience.code == "civil_servant"
    sent = OutgoingEmail.objects.get(status="sent")
    assert sent.to == ["zhang.wei@example.org"]
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert "确认" in message.subject or "验证" in message.subject
    assert "知识产权培训与人才库" in message.body  # the portal's name, not the host

    # Before verification, logging in only re-sends the verification notice.
    client.logout()
    response = client.post(
        reverse("account_login"),
        {"login": "zhang.wei@example.org", "password": PASSWORD},
    )
    assert "_auth_user_id" not in client.session

    link = confirmation_link(message)
    assert client.get(link).status_code == 200
    assert client.post(link).status_code == 302
    assert EmailAddress.objects.get(email="zhang.wei@example.org").verified

    response = client.post(
        reverse("account_login"),
        {"login": "zhang.wei@example.org", "password": PASSWORD},
    )
    assert response.status_code == 302
    # Signing in without a `next` ends on My learning (the learner's next step).
    assert response["Location"] == reverse("courses:my_learning")
    page = client.get(reverse("account_profile")).content.decode()
    assert "个人资料" in page and "zhang.wei@example.org" in page


def test_profile_saves_the_vocabulary_terms(client, home):
    user = UserFactory()
    client.force_login(user)
    district = District.objects.get(code="yubei")
    response = client.post(
        reverse("account_profile"),
        {
            "real_name": "李玥",
            "audience": Audience.objects.get(code="teacher").pk,
            "organisation": "重庆大学",
            "district": district.pk,
            "job_title": "讲师",
            "language": "en",
        },
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert (user.real_name, user.district, user.organisation, user.language) == (
        "李玥",
        district,
        "重庆大学",
        "en",
    )
    html = client.get(reverse("account_profile")).content.decode()
    assert "渝北区" in html


def test_profile_rejects_a_blank_name_and_unknown_district(client, home):
    user = UserFactory(real_name="王芳")
    client.force_login(user)
    response = client.post(
        reverse("account_profile"),
        {"real_name": "  ", "district": "999999", "language": "xx"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "请填写真实姓名" in html
    assert "选择一个有效的选项" in html
    user.refresh_from_db()
    assert user.real_name == "王芳"


@pytest.mark.parametrize(
    ("email", "password", "message"),
    [
        ("not-an-email", PASSWORD, "有效的 Email 地址"),
        ("zhang.wei@example.org", "Ab3$x", "密码太短：至少需要 10 个字符"),
        ("zhang.wei@example.org", "password123", "密码"),
    ],
)
def test_signup_bad_input_is_explained_in_chinese_and_creates_nothing(
    client, home, email, password, message
):
    response = signup(client, email=email, password=password)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not User.objects.exists()
    assert not OutgoingEmail.objects.exists()


def test_signup_with_a_used_email_creates_no_second_account(client, home):
    UserFactory(email="taken@example.org")
    response = signup(client, email="Taken@Example.org")
    # allauth does not reveal that the address is taken (no enumeration):
    # it answers as for a new address and mails the owner instead.
    assert User.objects.filter(email__iexact="taken@example.org").count() == 1
    assert response.status_code in (200, 302)


def test_signup_in_english_explains_in_english(client, home):
    with translation.override("en"):
        url = reverse("account_signup")
    response = client.post(
        url, {"email": "bad", "password1": "x", "password2": "x", "real_name": "Li"}
    )
    assert response.status_code == 200
    assert "Enter a valid email address." in response.content.decode()


def test_reused_and_bad_verification_links_are_explained(
    client, home, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        signup(client)
    link = confirmation_link(mail.outbox[0])
    client.post(link)
    again = client.get(link)
    assert (
        "已过期或无效" in again.content.decode() or "已确认" in again.content.decode()
    )
    bogus = client.get(reverse("account_confirm_email", args=["not-a-real-key"]))
    assert bogus.status_code in (200, 404)
    assert "已过期或无效" in bogus.content.decode()


def test_expired_verification_link_is_refused(client, home, settings):
    user = UserFactory(verified=False)
    address = EmailAddress.objects.create(
        user=user, email=user.email, primary=True, verified=False
    )
    key = EmailConfirmationHMAC(address).key
    settings.ACCOUNT_EMAIL_CONFIRMATION_EXPIRE_DAYS = -1
    page = client.get(reverse("account_confirm_email", args=[key]))
    assert "已过期或无效" in page.content.decode()
    client.post(reverse("account_confirm_email", args=[key]))
    address.refresh_from_db()
    assert not address.verified


def test_password_reset_sends_an_email_with_a_working_link(
    client, home, django_capture_on_commit_callbacks
):
    UserFactory(email="reset@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("account_reset_password"), {"email": "reset@example.org"}
        )
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert "/accounts/password/reset/key/" in mail.outbox[0].body


def test_password_change_checks_the_old_password(client, home):
    user = UserFactory()
    client.force_login(user)
    response = client.post(
        reverse("account_change_password"),
        {
            "oldpassword": "wrong",
            "password1": "Another-Long-Pass-99",
            "password2": "Another-Long-Pass-99",
        },
    )
    assert response.status_code == 200
    assert (
        "当前密码" in response.content.decode() or "密码" in response.content.decode()
    )
    response = client.post(
        reverse("account_change_password"),
        {
            "oldpassword": "correct horse battery staple",
            "password1": "Another-Long-Pass-99",
            "password2": "Another-Long-Pass-99",
        },
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("Another-Long-Pass-99")


def test_change_of_email_is_verified_before_it_counts(
    client, home, django_capture_on_commit_callbacks
):
    user = UserFactory(email="old@example.org")
    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("account_email"), {"action_add": "", "email": "new@example.org"}
        )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.email == "old@example.org"
    link = confirmation_link(mail.outbox[-1])
    client.post(link)
    user.refresh_from_db()
    assert user.email == "new@example.org"


def test_delete_account_needs_the_password_then_removes_everything(client, home):
    user = UserFactory()
    client.force_login(user)
    response = client.post(
        reverse("account_delete"), {"password": "wrong", "confirm": "on"}
    )
    assert response.status_code == 200
    assert "密码不正确" in response.content.decode()
    assert User.objects.filter(pk=user.pk).exists()

    response = client.post(
        reverse("account_delete"),
        {"password": "correct horse battery staple", "confirm": "on"},
    )
    assert response.status_code == 302
    assert not User.objects.filter(pk=user.pk).exists()
    assert not EmailAddress.objects.filter(email=user.email).exists()
    assert "_auth_user_id" not in client.session


def test_failed_logins_are_rate_limited(client, home):
    UserFactory(email="target@example.org")
    for _ in range(5):
        client.post(
            reverse("account_login"),
            {"login": "target@example.org", "password": "wrong"},
        )
    response = client.post(
        reverse("account_login"),
        {"login": "target@example.org", "password": "correct horse battery staple"},
    )
    assert "_auth_user_id" not in client.session
    assert response.status_code in (200, 429)


def test_account_emails_carry_the_portal_name_and_the_users_language(
    client, home, django_capture_on_commit_callbacks
):
    UserFactory(email="english@example.org", language="en")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("account_reset_password"), {"email": "english@example.org"})
    message = mail.outbox[-1]
    assert "IP Training and Talent Pool" in message.body
    assert "Password Reset" in message.subject or "password" in message.body.lower()

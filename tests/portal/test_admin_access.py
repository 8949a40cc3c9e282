"""Every way into the admin goes through allauth, and staff need a second factor."""

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
    yield_hotp_counters_from_time,
)

from django.urls import reverse

from tests.factories import StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"


def sign_in(client, user) -> None:
    """Sign in through allauth, as a person does (force_login would skip the
    record of a recent authentication that allauth asks for before MFA set-up)."""
    client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    assert client.session["_auth_user_id"] == str(user.pk)


def reauthenticate(client, response):
    """allauth asks for the password again before MFA set-up; give it."""
    assert response["Location"].startswith(reverse("account_reauthenticate"))
    page = client.get(response["Location"])
    done = client.post(response["Location"], {"password": PASSWORD})
    assert done.status_code == 302
    return page, client.get(done["Location"])


def current_code(secret: str) -> str:
    counters = list(yield_hotp_counters_from_time())
    return format_hotp_value(hotp_value(secret, counters[len(counters) // 2]))


@pytest.mark.parametrize("path", ["/admin/login/", "/django-admin/login/"])
def test_admin_login_pages_do_not_accept_a_password(client, home, path):
    staff = StaffFactory()
    response = client.post(
        path, {"username": staff.email, "email": staff.email, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert "_auth_user_id" not in client.session
    # And the GET sends the visitor to allauth's login too.
    assert client.get(path)["Location"].startswith(reverse("account_login"))


def test_admin_sends_anonymous_visitors_to_allauth_login(client, home):
    response = client.get("/admin/pages/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


@pytest.mark.parametrize("path", ["/admin/", "/django-admin/"])
def test_staff_without_mfa_are_sent_to_set_it_up(client, home, path):
    sign_in(client, StaffFactory(mfa=False))
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("mfa_activate_totp"))
    notice, setup = reauthenticate(client, client.get(response["Location"]))
    assert "工作人员须先设置两步验证" in notice.content.decode()
    assert setup.status_code == 200
    assert "data:image/svg+xml" in setup.content.decode()  # the QR code to scan


def test_staff_with_mfa_reach_the_admin(client, home):
    staff = StaffFactory(mfa=False)
    TOTP.activate(staff, generate_totp_secret())
    client.force_login(staff)
    assert client.get("/admin/").status_code == 200
    assert client.get("/django-admin/").status_code == 200


def test_trainees_are_not_asked_for_mfa_and_do_not_reach_the_admin(client, home):
    client.force_login(UserFactory())
    response = client.get("/admin/")
    assert response.status_code == 302
    assert not response["Location"].startswith(reverse("mfa_activate_totp"))


def test_staff_login_with_mfa_asks_for_the_code_before_signing_in(client, home):
    staff = StaffFactory(mfa=False)
    secret = generate_totp_secret()
    TOTP.activate(staff, secret)
    response = client.post(
        reverse("account_login"), {"login": staff.email, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_authenticate")
    assert "_auth_user_id" not in client.session

    wrong = client.post(reverse("mfa_authenticate"), {"code": "000000"})
    assert wrong.status_code == 200
    assert "_auth_user_id" not in client.session

    client.post(reverse("mfa_authenticate"), {"code": current_code(secret)})
    assert client.session["_auth_user_id"] == str(staff.pk)
    assert client.get("/admin/").status_code == 200


def test_mfa_setup_is_offered_to_every_user(client, home):
    user = UserFactory()
    sign_in(client, user)
    assert client.get(reverse("mfa_index")).status_code == 200
    _, page = reauthenticate(client, client.get(reverse("mfa_activate_totp")))
    assert page.status_code == 200
    assert "data:image/svg+xml" in page.content.decode()
    assert not Authenticator.objects.filter(user=user).exists()

"""Passwords are stored with Argon2id at OWASP's parameters (portal/hashers.py,
docs/security.md "Passwords"), and a hash made before (PBKDF2) still signs
its owner in and is replaced by an Argon2id one."""

import pytest

from django.contrib.auth.hashers import identify_hasher, make_password
from django.urls import reverse

from portal.models import User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "Zhishi-Chanquan-2027"


@pytest.fixture
def production_hashers(settings):
    """The deployed hashers (the test settings use a fast one)."""
    from portal.settings import base

    settings.PASSWORD_HASHERS = base.PASSWORD_HASHERS


def test_a_new_password_is_argon2id_at_owasp_parameters(production_hashers):
    encoded = make_password(PASSWORD)
    assert encoded.startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$")


def test_an_older_pbkdf2_hash_signs_in_and_is_rehashed(
    production_hashers, client, home
):
    user = UserFactory(email="li.na@example.org")
    User.objects.filter(pk=user.pk).update(
        password=make_password(PASSWORD, hasher="pbkdf2_sha256")
    )
    response = client.post(
        reverse("account_login"), {"login": "li.na@example.org", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert "_auth_user_id" in client.session
    user.refresh_from_db()
    assert identify_hasher(user.password).algorithm == "argon2"


def test_a_wrong_password_does_not_sign_in(production_hashers, client, home):
    UserFactory(email="wang.fang@example.org", password=PASSWORD)
    response = client.post(
        reverse("account_login"),
        {"login": "wang.fang@example.org", "password": "x" + PASSWORD},
    )
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session

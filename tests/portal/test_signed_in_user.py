"""The views behind a sign-in act for the signed-in user and nobody else: a
view that lost its login check refuses an anonymous request (403) rather
than acting for an anonymous user."""

import pytest

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.test import RequestFactory

from portal.http import signed_in_user
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_the_signed_in_user_is_who_the_view_acts_for():
    request = RequestFactory().get("/")
    request.user = user = UserFactory()
    assert signed_in_user(request) == user


def test_an_anonymous_request_is_refused():
    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    with pytest.raises(PermissionDenied):
        signed_in_user(request)

"""A request for a host the portal does not serve is a 400 page, never a 500.

The 400 page sits in the site's frame, and the frame asks the request for its
host (Open Graph's absolute URL, the Wagtail site, its settings and menu): for
a refused Host header that asked again and failed, so the attacker got a 500.
"""

import pytest

from django.test import Client

from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def only_our_host(settings, home):
    settings.ALLOWED_HOSTS = ["testserver"]


@pytest.fixture
def anonymous() -> Client:
    return Client(raise_request_exception=False)


@pytest.mark.parametrize(
    "path", ["/", "/news/", "/admin/", "/django-admin/", "/api/v1/experts/"]
)
def test_a_foreign_host_gets_the_400_page_in_chinese(only_our_host, anonymous, path):
    response = anonymous.get(path, HTTP_HOST="evil.example")
    assert response.status_code == 400
    page = response.content.decode()
    assert "请求有误" in page
    assert "evil.example" not in page


def test_a_foreign_host_on_an_english_address_gets_the_english_400_page(
    only_our_host, anonymous
):
    response = anonymous.get("/en/", HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert "Bad request" in response.content.decode()


def test_a_post_to_a_foreign_host_is_a_400(only_our_host, anonymous):
    response = anonymous.post(
        "/accounts/login/",
        {"login": "a@example.org", "password": "x"},
        HTTP_HOST="evil.example",
    )
    assert response.status_code == 400
    assert "请求有误" in response.content.decode()


@pytest.mark.parametrize(
    "host", ["evil.example:8080", "testserver.evil.example", "bad host", "[::1"]
)
def test_malformed_and_look_alike_hosts_are_a_400(only_our_host, anonymous, host):
    assert anonymous.get("/", HTTP_HOST=host).status_code == 400


def test_a_signed_in_staff_member_on_a_foreign_host_gets_a_400(only_our_host):
    client = Client(raise_request_exception=False)
    client.force_login(StaffFactory())
    for path in ("/", "/admin/"):
        response = client.get(path, HTTP_HOST="evil.example")
        assert response.status_code == 400
        assert "请求有误" in response.content.decode()


def test_the_https_redirect_refuses_a_foreign_host_with_a_400(
    only_our_host, anonymous, settings
):
    """In production the HTTPS redirect asks for the host first, before the
    language is chosen: the page is still in the address's language."""
    settings.SECURE_SSL_REDIRECT = True
    response = anonymous.get("/", HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert "请求有误" in response.content.decode()
    response = anonymous.get("/en/", HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert "Bad request" in response.content.decode()


def test_our_own_host_still_gets_the_site(only_our_host, anonymous):
    assert anonymous.get("/", HTTP_HOST="testserver").status_code == 200

"""Behind the documented nginx (TRUSTED_PROXY_COUNT=1) each visitor counts
against its own rate limits: failed logins from one address lock that address
only, a forged X-Forwarded-For does not help the attacker, and a header that is
not one never breaks a page."""

import pytest

from django.test import RequestFactory
from django.urls import reverse

from portal.clientip import client_ip
from tests.factories import UserFactory
from tests.talentpool.helpers import talent_page

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"  # what UserFactory sets
PROXY = "127.0.0.1"  # REMOTE_ADDR: nginx on the same machine
ATTACKER = "203.0.113.7"
VISITOR = "198.51.100.20"
LOCKED = "登录失败次数过多"


@pytest.fixture
def behind_nginx(settings):
    settings.PORTAL_TRUSTED_PROXY_COUNT = 1


def login(client, email: str, password: str, forwarded: str | None = None):
    """A login POST as nginx passes it on: X-Forwarded-For is what the client
    sent followed by the address nginx saw."""
    headers = {} if forwarded is None else {"X-Forwarded-For": forwarded}
    return client.post(
        reverse("account_login"),
        {"login": email, "password": password},
        headers=headers,
        REMOTE_ADDR=PROXY,
    )


def fail_ten_logins(client, forwarded) -> None:  # type: ignore[no-untyped-def]
    """Ten wrong passwords, each for another account (so allauth's per-account
    limit never trips and only the per-address one is tested). `forwarded`
    gives attempt n's X-Forwarded-For."""
    for n in range(10):
        response = login(client, f"guess{n}@example.org", "wrong", forwarded(n))
        assert response.status_code == 200
        assert "_auth_user_id" not in client.session


def signed_in(client) -> bool:  # type: ignore[no-untyped-def]
    return "_auth_user_id" in client.session


class TestFailedLogins:
    def test_ten_failures_lock_that_address_and_nobody_else(
        self, client, home, behind_nginx
    ):
        user = UserFactory()
        fail_ten_logins(client, lambda n: ATTACKER)

        response = login(client, user.email, PASSWORD, ATTACKER)
        assert not signed_in(client)
        assert LOCKED in response.content.decode()

        response = login(client, user.email, PASSWORD, VISITOR)
        assert response.status_code == 302
        assert signed_in(client)

    def test_a_forged_left_entry_does_not_escape_the_limit(
        self, client, home, behind_nginx
    ):
        # The attacker writes a new address on the left each time; nginx
        # appends the one it really saw on the right.
        user = UserFactory()
        fail_ten_logins(client, lambda n: f"192.0.2.{n + 1}, {ATTACKER}")

        response = login(client, user.email, PASSWORD, f"192.0.2.99, {ATTACKER}")
        assert not signed_in(client)
        assert LOCKED in response.content.decode()

    def test_without_a_trusted_proxy_the_header_is_ignored(self, client, home):
        # TRUSTED_PROXY_COUNT=0: a client talking to gunicorn directly cannot
        # pick its address with the header.
        user = UserFactory()
        fail_ten_logins(client, lambda n: f"192.0.2.{n + 1}")

        response = login(client, user.email, PASSWORD, VISITOR)
        assert not signed_in(client)
        assert LOCKED in response.content.decode()

    @pytest.mark.parametrize(
        "forwarded",
        [
            "garbage",
            "",
            " , ,",
            "999.1.1.1",
            "[2001:db8::1",
            "1.2.3.4, 5.6.7.8:99999:1",
            "例子, ☃",
            "1.2.3.4" * 2000,
        ],
    )
    def test_a_garbage_header_is_no_error_and_counts_on_the_peer(
        self, client, home, behind_nginx, forwarded
    ):
        # Only a broken proxy would pass such a right-most entry; the request
        # then counts on the address that connected (the proxy's).
        user = UserFactory()
        fail_ten_logins(client, lambda n: forwarded)

        response = login(client, user.email, PASSWORD, forwarded)
        assert not signed_in(client)
        assert LOCKED in response.content.decode()
        # A well-formed visitor behind the same proxy is not affected.
        login(client, user.email, PASSWORD, VISITOR)
        assert signed_in(client)


class TestOtherLimits:
    def test_the_talent_search_limit_counts_the_forwarded_address(
        self, client, home, settings, behind_nginx
    ):
        talent_page(home)
        settings.PORTAL_TALENT_RATE_LIMITS = {"search": "3/m"}
        for n in range(3):
            forged = {"X-Forwarded-For": f"192.0.2.{n}, {ATTACKER}"}
            assert client.get("/talent/", headers=forged).status_code == 200
        assert client.get("/talent/", headers=forged).status_code == 429

        visitor = {"X-Forwarded-For": VISITOR}
        assert client.get("/talent/", headers=visitor).status_code == 200

    def test_the_certificate_verification_limit_counts_the_forwarded_address(
        self, client, home, settings, behind_nginx
    ):
        settings.PORTAL_CERTIFICATE_RATE_LIMITS = {"pages": "3/m"}
        for n in range(3):
            forged = {"X-Forwarded-For": f"192.0.2.{n}, {ATTACKER}"}
            response = client.get(f"/certificates/verify/guess-{n}/", headers=forged)
            assert response.status_code == 404
        response = client.get("/certificates/verify/guess-x/", headers=forged)
        assert response.status_code == 429

        visitor = {"X-Forwarded-For": VISITOR}
        response = client.get("/certificates/verify/guess-x/", headers=visitor)
        assert response.status_code == 404


@pytest.mark.parametrize(
    ("count", "remote", "forwarded", "expected"),
    [
        (0, "192.0.2.1", "203.0.113.7", "192.0.2.1"),
        (1, "127.0.0.1", "1.2.3.4, 203.0.113.7", "203.0.113.7"),
        (2, "10.0.0.2", "1.2.3.4, 203.0.113.7, 10.0.0.1", "203.0.113.7"),
        # Fewer entries than proxies: not through our proxies; the peer counts.
        (2, "10.0.0.2", "203.0.113.7", "10.0.0.2"),
        (1, "127.0.0.1", None, "127.0.0.1"),
        # What proxies write: ports, brackets, an IPv4 seen over IPv6.
        (1, "127.0.0.1", "203.0.113.7:4711", "203.0.113.7"),
        (1, "127.0.0.1", "[2001:DB8::1]:4711", "2001:db8::1"),
        (1, "127.0.0.1", "2001:db8::1", "2001:db8::1"),
        (0, "::ffff:192.0.2.1", None, "192.0.2.1"),
        # Not even REMOTE_ADDR is an address (a Unix socket): one shared limit.
        (0, "", None, "0.0.0.0"),
    ],
)
def test_client_ip(settings, count, remote, forwarded, expected):
    settings.PORTAL_TRUSTED_PROXY_COUNT = count
    headers = {} if forwarded is None else {"X-Forwarded-For": forwarded}
    request = RequestFactory().get("/", headers=headers, REMOTE_ADDR=remote)
    assert client_ip(request) == expected

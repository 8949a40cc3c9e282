"""The site stays up while an import runs and when the limiters' cache fails
(issue 15, part 5): on the embedded default the cache is an SQLite file of
its own, so a long write transaction on the main database locks no counter;
a limiter that cannot count lets reads through and refuses sign-ins with an
honest 503; never a 429 that is not true."""

import json
import logging
import multiprocessing
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from django.conf import settings as django_settings
from django.core.cache import caches
from django.db import connection
from django.http import HttpResponse
from django.test import override_settings
from django.urls import reverse

from wagtail.models import PageViewRestriction

from portal import http
from portal.cache import CacheUnavailable, SQLiteCache
from portal.models import User
from tests.factories import StandardPageFactory, UserFactory
from tests.talentpool.helpers import pool, talent_page

EMBEDDED = django_settings.CACHES["default"]["BACKEND"] == "portal.cache.SQLiteCache"
embedded_only = pytest.mark.skipif(
    not EMBEDDED, reason="the embedded default's cache (no REDIS_URL, SQLite)"
)


def failure() -> Exception:
    """What the configured cache raises when it cannot be reached."""
    if EMBEDDED:
        return CacheUnavailable("database is locked")
    from redis.exceptions import ConnectionError

    return ConnectionError("Connection refused")


@pytest.fixture
def counters_fail(monkeypatch):
    """Every counter operation of the cache raises (a lock timeout, a server
    gone): what a limiter does first."""
    cache = caches["default"]

    def fail(*args, **kwargs):
        raise failure()

    for method in ("add", "incr"):
        monkeypatch.setattr(cache, method, fail)


@pytest.fixture
def experts(home):
    talent_page(home)
    return pool()


@pytest.mark.django_db
class TestALimiterThatCannotCount:
    def test_search_profile_and_api_answer_200_and_the_failure_is_logged(
        self, client, experts, counters_fail, caplog
    ):
        zeng = experts["zeng"].pk
        with caplog.at_level(logging.ERROR, logger="portal.http"):
            for url in [
                "/talent/",
                "/talent/?q=律师",
                f"/talent/experts/{zeng}/",
                "/api/v1/experts/",
                f"/api/v1/experts/{zeng}/",
            ]:
                response = client.get(url)
                assert response.status_code == 200, url
        assert "could not be checked" in caplog.text
        assert "Daily count talentpool.profiles could not be kept" in caplog.text

    def test_a_certificate_look_up_page_is_not_refused_either(
        self, client, home, counters_fail
    ):
        response = client.get("/certificates/verify/no-such-code/")
        assert response.status_code == 404

    def test_a_limit_that_fails_closed_answers_503_never_429(self, counters_fail, rf):
        limited = http.rate_limit("test.closed", rate=lambda: "5/m", fail_closed=True)
        page = limited(lambda request: HttpResponse("ok"))
        api = http.rate_limit(
            "test.closed.api", rate=lambda: "5/m", fail_closed=True, api=True
        )(lambda request: HttpResponse("ok"))
        request = rf.get("/en/whatever/")
        request.user = UserFactory.build()

        response = page(request)
        assert response.status_code == 503
        assert response["Retry-After"]
        assert "Too many" not in response.content.decode()
        response = api(request)
        assert response.status_code == 503
        assert json.loads(response.content)["error"] == "temporarily_unavailable"

    def test_a_sign_in_while_the_cache_fails_is_an_honest_503(
        self, client, home, counters_fail
    ):
        user = UserFactory()
        login = "/en" + reverse("account_login")
        # The page itself needs no counter.
        assert client.get(login).status_code == 200
        response = client.post(
            login,
            {"login": user.email, "password": "correct horse battery staple"},
        )
        assert response.status_code == 503
        html = response.content.decode()
        assert "cannot check its request limits" in html
        assert "Too many" not in html and "too many" not in html
        assert "_auth_user_id" not in client.session

    def test_password_guessing_forms_refuse_with_503_and_check_no_password(
        self, client, home, counters_fail
    ):
        """The page and collection passwords, the certificate look-up by
        serial number and name, and the account deletion's password each
        stand behind a limit: blind, they check nothing, and say why."""
        page = StandardPageFactory(parent=home, slug="closed")
        restriction = PageViewRestriction.objects.create(
            page=page, restriction_type="password", password="secret-2027"
        )
        password_form = reverse(
            "wagtailcore_authenticate_with_password", args=[restriction.pk, page.pk]
        )
        response = client.post(
            password_form, {"password": "secret-2027", "return_url": page.url}
        )
        assert response.status_code == 503
        assert "服务器无法检查请求频率限制" in response.content.decode()
        assert restriction.passed_view_restrictions_session_key not in client.session

        response = client.post(
            "/en/certificates/verify/", {"serial": "CQIP-2026-000001", "name": "张伟"}
        )
        assert response.status_code == 503
        assert "cannot check its request limits" in response.content.decode()

        user = UserFactory()
        client.force_login(user)
        response = client.post(
            "/en/accounts/delete/",
            {"password": "correct horse battery staple", "confirm": "on"},
        )
        assert response.status_code == 503
        html = response.content.decode()
        assert "cannot check its request limits" in html
        assert "Too many" not in html
        assert User.objects.filter(pk=user.pk).exists()

    def test_django_ratelimits_quiet_failure_is_not_read_as_over_the_limit(
        self, client, experts, monkeypatch
    ):
        # A cache that fails quietly (add answers False, incr finds nothing),
        # as Django's DatabaseCache does on a locked table: django-ratelimit
        # would call that "over the limit".
        cache = caches["default"]
        monkeypatch.setattr(cache, "add", lambda *args, **kwargs: False)

        def incr(*args, **kwargs):
            raise ValueError("Key not found")

        monkeypatch.setattr(cache, "incr", incr)
        assert client.get("/talent/").status_code == 200
        assert client.get("/api/v1/experts/").status_code == 200


@embedded_only
@pytest.mark.django_db
def test_when_the_cache_file_cannot_be_used_pages_answer_and_sign_in_says_why(
    client, experts, monkeypatch
):
    def unusable(self):
        raise sqlite3.OperationalError("unable to open database file")

    login = "/en" + reverse("account_login")
    # Undone before the suite's fixtures clear the cache.
    with monkeypatch.context() as patch:
        patch.setattr(SQLiteCache, "_connect", unusable)
        assert client.get("/talent/").status_code == 200
        assert client.get(f"/talent/experts/{experts['qiu'].pk}/").status_code == 200
        assert client.get(login).status_code == 200
        response = client.post(login, {"login": "a@example.org", "password": "x"})
        assert response.status_code == 503


@pytest.mark.django_db
def test_with_redis_stopped_pages_answer_and_sign_in_says_why(client, experts):
    """Production's cache is Redis (portal.cache.RedisCache); here one that
    refuses every connection, as a stopped Redis does. Django's own backend
    raised on every read, so every page was a 503 and saving a user failed
    on the cache invalidation its signal does."""
    learner = UserFactory()
    stopped = {
        "default": {
            "BACKEND": "portal.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
        }
    }
    login = "/en" + reverse("account_login")
    client.force_login(learner)
    with override_settings(CACHES=stopped):
        cache = caches["default"]
        assert cache.get("anything", "missed") == "missed"
        cache.set("anything", 1)  # skipped, logged
        assert cache.delete("anything") is False
        with pytest.raises(CacheUnavailable):
            cache.add("lock", 1)
        with pytest.raises(CacheUnavailable):
            cache.incr("counter")

        assert client.get("/").status_code == 200
        assert client.get("/talent/").status_code == 200
        # The signed-in session is read from the database when the cache
        # misses, and the account's own page answers.
        assert client.get(reverse("account_profile")).status_code == 200
        learner.first_name = "新名"
        learner.save()  # its signal's cache invalidation is skipped, not fatal
        client.logout()
        assert client.get(login).status_code == 200
        response = client.post(login, {"login": learner.email, "password": "x"})
        assert response.status_code == 503


# --- A long import on the main database ----------------------------------------


@contextmanager
def main_database_write_lock() -> Iterator[None]:
    """Another connection holds the main SQLite database's write lock, as an
    import's transaction does, until the test ends."""
    path = connection.settings_dict["NAME"]
    taken, done = threading.Event(), threading.Event()

    def hold() -> None:
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        # A write of the transaction's own, as an import's.
        other.execute("DELETE FROM django_session WHERE session_key = ''")
        taken.set()
        done.wait(120)
        other.execute("ROLLBACK")
        other.close()

    holder = threading.Thread(target=hold, daemon=True)
    holder.start()
    assert taken.wait(10)
    # The lock is really held: another writer is refused at once.
    probe = sqlite3.connect(path, timeout=0, isolation_level=None)
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        probe.execute("BEGIN IMMEDIATE")
    probe.close()
    try:
        yield
    finally:
        done.set()
        holder.join(10)


@embedded_only
# serialized_rollback: the flush at the end would otherwise take the home
# page and the vocabularies from the transactional tests that follow.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_long_write_on_the_main_database_blocks_no_search_and_no_sign_in_page(
    client, home, settings
):
    assert connection.vendor == "sqlite"
    assert settings.CACHES["default"]["LOCATION"] != connection.settings_dict["NAME"]
    experts = pool()
    talent_page(home)
    login = "/en" + reverse("account_login")
    client.get("/talent/")  # the first visit's own writes (none expected)

    # A request that wrote to the main database would wait for the lock and
    # then fail: let it fail in a second rather than the usual 20.
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA busy_timeout = 1000")
    with main_database_write_lock():
        for url in [
            "/talent/",
            "/talent/?q=集成电路",
            f"/talent/experts/{experts['zeng'].pk}/",
            "/api/v1/experts/?q=律师",
            login,
        ]:
            response = client.get(url)
            assert response.status_code == 200, url
        # A wrong password is counted (allauth's failed-login limit) and
        # answered as a wrong password, not as "too many requests".
        response = client.post(login, {"login": "nobody@example.org", "password": "x"})
        assert response.status_code == 200
        assert "Too many" not in response.content.decode()


# --- The embedded cache's own guarantees ---------------------------------------


def _count(path: str, rounds: int, queue: Any) -> None:
    cache = SQLiteCache(path, {})
    locks = 0
    for n in range(rounds):
        if not cache.add("counter", 1, 60):
            cache.incr("counter")
        if cache.add(f"lock-{n}", True, 60):
            locks += 1
    queue.put(locks)


def test_counters_and_locks_are_atomic_across_processes(tmp_path):
    # django-ratelimit counts with add + incr; allauth locks with add. Four
    # processes at once: no increment is lost and each lock is taken once.
    path = str(tmp_path / "cache.sqlite3")
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    workers = [
        context.Process(target=_count, args=(path, 100, queue)) for _ in range(4)
    ]
    for worker in workers:
        worker.start()
    taken = sum(queue.get(timeout=60) for _ in workers)
    for worker in workers:
        worker.join(60)
    assert SQLiteCache(path, {}).get("counter") == 400
    assert taken == 100


def test_the_cache_keeps_values_and_expiry(tmp_path):
    cache = SQLiteCache(str(tmp_path / "sub" / "cache.sqlite3"), {})
    assert cache.add("a", 1, 60) and not cache.add("a", 2, 60)
    assert cache.incr("a", 5) == 6
    cache.set("gone", "x", 0)
    assert cache.get("gone", "missing") == "missing"
    assert cache.add("gone", "back", 60)
    with pytest.raises(ValueError):
        cache.incr("never-set")
    cache.set("session", {"user": 1})
    assert cache.get("session") == {"user": 1}
    assert cache.touch("session", 60) and cache.delete("session")
    cache.clear()
    assert cache.get("a") is None

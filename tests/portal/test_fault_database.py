"""A database connection dropped under a running web process (issue 16,
part 4): PostgreSQL ended the backend (a restart, a failover, an
administrator's pg_terminate_backend, a firewall's idle timeout).

A real gunicorn with the production settings (tests/portal/fault_settings.py)
serves the test database, so the connection kept between requests
(CONN_MAX_AGE) and the check of it at the start of each request
(CONN_HEALTH_CHECKS) are the deployed ones; the test ends that process's
backends from a second connection. Its connections are told apart by their
application_name (PGAPPNAME, which libpq reads).

PostgreSQL only: on SQLite the database is a file the web process opens
itself, with no server and no connection between them to drop, so there is
nothing to test there; CI runs the suite on PostgreSQL too.
"""

import http.client
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

import psycopg
import pytest

from django.conf import settings
from django.db import connection
from django.test import Client
from django.urls import reverse

from courses import services
from courses.models import (
    CertificateRequest,
    Enrolment,
    HoursLedgerEntry,
    LessonProgress,
)
from tests.courses.factories import (
    CourseIndexPageFactory,
    CoursePageFactory,
    LessonPageFactory,
)
from tests.courses.reading import read_for_the_minimum_time
from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parents[2]
APP = "portal-fault-web"
SERVER_ERROR = "服务器错误"  # templates/500.html
CSRF = "f" * 32  # any 32 characters will do, sent as cookie and header alike

pytestmark = [
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="SQLite has no server connection to drop (see the docstring)",
    ),
]


def _dsn(name: str | None = None) -> str:
    db = connection.settings_dict
    return (
        f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@"
        f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{name or db['NAME']}"
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Web:
    """A gunicorn worker on the test database, and what an operator sees of it:
    its database backends, its log and the tasks it queued."""

    def __init__(self, port: int, log: Path, broker: Path) -> None:
        self.port, self.log, self.broker = port, log, broker
        self.admin = psycopg.connect(_dsn(), autocommit=True)

    def request(
        self, method: str, path: str, *, cookies: str = "", form: dict | None = None
    ) -> tuple[int, str]:
        """One request as a browser sends it (redirects not followed)."""
        headers = {"Cookie": cookies} if cookies else {}
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["X-CSRFToken"] = CSRF
        link = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            link.request(method, path, body=body, headers=headers)
            response = link.getresponse()
            return response.status, response.read().decode()
        finally:
            link.close()

    def backends(self, *, waiting: bool = False) -> list[int]:
        """The pids of the web process's database backends (waiting: only
        those that wait for a lock)."""
        rows = self.admin.execute(
            "SELECT pid FROM pg_stat_activity WHERE application_name = %s"
            " AND datname = current_database()"
            + (" AND wait_event_type = 'Lock'" if waiting else ""),
            [APP],
        ).fetchall()
        return [pid for (pid,) in rows]

    def kill_backend(self, pid: int) -> None:
        """pg_terminate_backend, as a failover or an administrator would."""
        assert self.admin.execute(
            "SELECT pg_terminate_backend(%s)", [pid]
        ).fetchone() == (True,)
        deadline = time.monotonic() + 10
        while pid in self.backends():
            assert time.monotonic() < deadline, "the backend did not end"
            time.sleep(0.05)

    def queued_tasks(self) -> int:
        return len(list(self.broker.glob("*"))) if self.broker.exists() else 0


@pytest.fixture(scope="module")
def web(django_db_setup, tmp_path_factory):
    """gunicorn, one sync worker, production settings, on the test database
    and the tests' cache (the Redis database the suite clears, or the test
    database's table); its broker a folder of its own, where queued tasks stay."""
    tmp = tmp_path_factory.mktemp("fault-web")
    port = _free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if key
        not in {
            "DJANGO_SETTINGS_MODULE",
            "PORTAL_TEST_SHARED_DIR",
            "REDIS_URL",
            "CELERY_BROKER_URL",
            "CONN_MAX_AGE",
        }
    }
    env.update(
        DJANGO_SETTINGS_MODULE="tests.portal.fault_settings",
        DATABASE_URL=_dsn(),
        CELERY_BROKER_URL="filesystem://",
        PGAPPNAME=APP,
        # The test's sessions are signed with the test settings' key.
        SECRET_KEY=settings.SECRET_KEY,
        EMAIL_URL="dummymail://",
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="False",
        PORTAL_VAR_DIR=str(tmp / "var"),
    )
    if settings.CACHES["default"]["BACKEND"].endswith("RedisCache"):
        env["REDIS_URL"] = settings.CACHES["default"]["LOCATION"]
    log = tmp / "gunicorn.log"
    with open(log, "wb") as output:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "portal.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "1",
                "--timeout",
                "60",
            ],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    process = Web(port, log, tmp / "var" / "broker" / "queue")
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if process.request("GET", "/healthz/")[0] == 200:
                    break
            except OSError:
                pass
            assert server.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        yield process
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        process.admin.close()


def test_a_dropped_idle_connection_is_replaced_before_the_next_request(web, home):
    status, _ = web.request("GET", "/")
    assert status == 200, web.log.read_text()[-4000:]
    (kept,) = web.backends()  # CONN_MAX_AGE: kept open for the next request

    web.kill_backend(kept)

    # CONN_HEALTH_CHECKS: the next request finds the connection dead before
    # using it and opens a new one; the visitor never sees the failure.
    status, body = web.request("GET", "/")
    assert status == 200, body
    assert SERVER_ERROR not in body
    assert web.backends() and kept not in web.backends()


@pytest.fixture
def learner_at_the_end_of_a_course(home):
    """A learner enrolled in a one-lesson course, who has read the lesson for
    its minimum time: marking it complete completes the course."""
    catalogue = CourseIndexPageFactory(parent=home)
    course = CoursePageFactory(parent=catalogue, slug="fault-course")
    lesson = LessonPageFactory(parent=course, slug="only-lesson")
    user = UserFactory()
    services.enrolment_self(user=user, course=course)
    read_for_the_minimum_time(user, lesson)
    browser = Client()
    browser.force_login(user)
    cookies = (
        f"{settings.SESSION_COOKIE_NAME}="
        f"{browser.cookies[settings.SESSION_COOKIE_NAME].value}; "
        f"{settings.CSRF_COOKIE_NAME}={CSRF}"
    )
    return user, lesson, cookies


def test_a_write_cut_off_mid_request_fails_cleanly_leaves_nothing_and_can_be_retried(
    web, learner_at_the_end_of_a_course
):
    user, lesson, cookies = learner_at_the_end_of_a_course
    enrolment = Enrolment.objects.get(user=user)
    url = reverse("courses:complete", args=[lesson.pk])

    # Hold the enrolment's row: the request writes the lesson's progress, then
    # waits here (course_completion_evaluate locks the enrolment), inside its
    # transaction. There its connection is ended.
    locker = psycopg.connect(_dsn())
    locker.execute(
        "SELECT id FROM courses_enrolment WHERE id = %s FOR UPDATE", [enrolment.pk]
    )
    answer: list[tuple[int, str]] = []
    sending = threading.Thread(
        target=lambda: answer.append(web.request("POST", url, cookies=cookies, form={}))
    )
    sending.start()
    try:
        deadline = time.monotonic() + 20
        while not web.backends(waiting=True):
            assert time.monotonic() < deadline, "the request never reached the lock"
            time.sleep(0.05)
        (cut_off,) = web.backends(waiting=True)
        web.kill_backend(cut_off)
    finally:
        locker.rollback()
        locker.close()
        sending.join(timeout=30)

    ((status, body),) = answer
    # The learner gets the error page, in the site's words, and no internals.
    assert status == 500
    assert SERVER_ERROR in body
    assert "Traceback" not in body and "OperationalError" not in body
    # The operator finds it in the log.
    assert "OperationalError" in web.log.read_text()
    # Nothing half-written: not the lesson, not the course, no hours, no
    # certificate, no task queued for one.
    progress = LessonProgress.objects.get(enrolment=enrolment, lesson_key=lesson.pk)
    assert progress.status != LessonProgress.Status.COMPLETED
    assert progress.completed_at is None
    enrolment.refresh_from_db()
    assert enrolment.completed_at is None
    assert not HoursLedgerEntry.objects.filter(user=user).exists()
    assert not CertificateRequest.objects.filter(user=user).exists()
    assert web.queued_tasks() == 0

    # The learner tries again: the next request succeeds, once, whole.
    status, body = web.request("POST", url, cookies=cookies, form={})
    assert status == 302, body
    progress.refresh_from_db()
    enrolment.refresh_from_db()
    assert progress.status == LessonProgress.Status.COMPLETED
    assert enrolment.completed_at is not None
    assert HoursLedgerEntry.objects.filter(user=user).count() == 1
    assert CertificateRequest.objects.filter(user=user).count() == 1
    assert web.queued_tasks() == 1  # the certificate's issue, after the commit

"""Health and observability (issue 16): /readyz/ tries the database, the
cache, the broker and media storage and names what fails, by class only;
every request has an id that its log lines carry; production logs are one
JSON line per record, without query strings or client addresses."""

import json
import logging
import os
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

import kombu
import pytest

from django.core.cache import caches
from django.core.files.storage import storages
from django.db import connections
from django.db.utils import OperationalError
from django.http import HttpRequest, HttpResponse
from django.urls import path

from portal import health, logs
from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parents[2]

#: What a failure's message might carry; no answer may show it.
SECRET = "redis://:s3cret-password@10.1.2.3:6379/var/lib/portal"
ALL_OK = {"database": "ok", "cache": "ok", "broker": "ok", "storage": "ok"}


class CacheDown(Exception):
    """Stands for whatever the configured cache raises."""


class StorageDown(Exception):
    """Stands for whatever the configured storage raises."""


def raising(error: Exception):
    """A stand-in for a method: raises `error` whatever it is given."""

    def fail(*args, **kwargs):
        raise error

    return fail


# --- A view that logs, for the request id tests (pytest.mark.urls) ------------

view_logger = logging.getLogger("tests.portal.health_and_logs")


def logging_view(request: HttpRequest) -> HttpResponse:
    view_logger.warning("inside the view")
    return HttpResponse("logged")


urlpatterns = [path("logs/", logging_view)]


class Collect(logging.Handler):
    """Keeps the records it is given, after the filters of LOGGING's handler."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []
        self.addFilter(logs.RequestIdFilter())

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def collected():
    """The records of the test view's logger and of the request logger, as
    the console handler of LOGGING sees them (with its request id filter)."""
    handler = Collect()
    loggers = [view_logger, logs.request_logger]
    levels = [each.level for each in loggers]
    for each in loggers:
        each.addHandler(handler)
        each.setLevel(logging.INFO)
    yield handler.records
    for each, level in zip(loggers, levels, strict=True):
        each.removeHandler(handler)
        each.setLevel(level)


# --- /readyz/ -------------------------------------------------------------------


def ready(client, **headers):
    response = client.get("/readyz/", **headers)
    assert response["Content-Type"] == "application/json"
    return response, response.json()


@pytest.mark.django_db
def test_readyz_answers_ready_when_everything_works(client):
    response, body = ready(client)
    assert response.status_code == 200
    assert body == {"status": "ready", "checks": ALL_OK}
    assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db
def test_readyz_sets_no_cookie_and_is_not_redirected_by_language(client):
    # A visitor whose browser and cookie ask for English: the answer is the
    # same, at the same address, with no cookie (no session, no CSRF token).
    client.cookies["portal_language"] = "en"
    response, body = ready(client, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert body["status"] == "ready"
    assert not response.cookies


@pytest.mark.django_db
def test_readyz_sets_no_cookie_for_a_signed_in_user(client):
    client.force_login(UserFactory())
    response, _body = ready(client)
    assert response.status_code == 200
    assert not response.cookies


@pytest.mark.django_db
def test_readyz_has_no_rate_limit(client):
    # More than any per-minute limit of the portal (30/m at most).
    for _ in range(35):
        assert client.get("/readyz/").status_code == 200


@pytest.mark.django_db
def test_readyz_names_a_failing_database_by_class_only(client):
    # Class-level: the check runs in a thread with a connection of its own.
    # Undone before the test's transaction is rolled back, which needs it.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            type(connections["default"]), "cursor", raising(OperationalError(SECRET))
        )
        response, body = ready(client)
    assert response.status_code == 503
    assert body == {
        "status": "unavailable",
        "checks": ALL_OK | {"database": "error: OperationalError"},
    }
    assert b"s3cret" not in response.content
    assert b"10.1.2.3" not in response.content


@pytest.mark.django_db
def test_readyz_names_a_failing_cache_by_class_only(client):
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(type(caches["default"]), "set", raising(CacheDown(SECRET)))
        response, body = ready(client)
    assert response.status_code == 503
    assert body["status"] == "unavailable"
    assert body["checks"] == ALL_OK | {"cache": "error: CacheDown"}
    assert b"s3cret" not in response.content


@pytest.mark.django_db
def test_readyz_notices_a_cache_that_keeps_nothing(client):
    # The embedded cache reports its own failures as misses (portal/cache.py).
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(type(caches["default"]), "get", lambda *args, **kwargs: None)
        response, body = ready(client)
    assert response.status_code == 503
    assert body["checks"]["cache"] == "error: ReadBackMismatch"


@pytest.mark.django_db
def test_readyz_names_a_failing_broker_by_class_only(client):
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            kombu.Connection,
            "ensure_connection",
            raising(kombu.exceptions.OperationalError(SECRET)),
        )
        response, body = ready(client)
    assert response.status_code == 503
    assert body["checks"] == ALL_OK | {"broker": "error: OperationalError"}
    assert b"s3cret" not in response.content


@pytest.mark.django_db
def test_readyz_names_a_failing_storage_by_class_only(client):
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(storages["default"], "save", raising(StorageDown(SECRET)))
        response, body = ready(client)
    assert response.status_code == 503
    assert body["checks"] == ALL_OK | {"storage": "error: StorageDown"}
    assert b"/var/lib/portal" not in response.content


@pytest.mark.django_db
def test_readyz_leaves_no_file_in_storage(client, settings):
    ready(client)
    folder = Path(settings.MEDIA_ROOT) / "healthcheck"
    assert not folder.exists() or not any(folder.iterdir())


@pytest.mark.django_db
def test_a_check_that_hangs_times_out_and_is_not_started_twice(client, monkeypatch):
    release = threading.Event()
    calls = []

    def hangs() -> None:
        calls.append(1)
        release.wait(10)

    monkeypatch.setattr(health, "CHECK_TIMEOUT", 0.3)
    monkeypatch.setitem(health.CHECKS, "broker", hangs)
    try:
        started = time.monotonic()
        response, body = ready(client)
        assert time.monotonic() - started < 2
        assert response.status_code == 503
        assert body["checks"] == ALL_OK | {"broker": "error: TimeoutError"}
        # Asked again while the first run still hangs: it waits for that run.
        _response, body = ready(client)
        assert body["checks"]["broker"] == "error: TimeoutError"
        assert len(calls) == 1
    finally:
        release.set()
        health._runs["broker"].thread.join(5)


@pytest.mark.django_db
def test_readyz_answers_503_even_when_the_checks_cannot_run(client, monkeypatch):
    monkeypatch.setattr(health, "run_checks", raising(RuntimeError(SECRET)))
    response, body = ready(client)
    assert response.status_code == 503
    assert body == {
        "status": "unavailable",
        "checks": dict.fromkeys(health.CHECKS, "error: RuntimeError"),
    }
    assert b"s3cret" not in response.content


# --- The request id ----------------------------------------------------------


@pytest.mark.urls(__name__)
def test_a_safe_request_id_is_echoed_and_reaches_the_views_log(client, collected):
    response = client.get("/logs/?q=secret-term", HTTP_X_REQUEST_ID="lb-1234-abcd")
    assert response["X-Request-ID"] == "lb-1234-abcd"
    inside = [each for each in collected if each.getMessage() == "inside the view"]
    assert [each.request_id for each in inside] == ["lb-1234-abcd"]


@pytest.mark.parametrize(
    "header",
    [
        "abc\ndefgh-1234",  # a line break: a forged log line
        "a" * 200,  # too long
        "short",  # too short
        "id with spaces",
        "id_with_underscore",
        "",
    ],
)
@pytest.mark.urls(__name__)
def test_an_unsafe_request_id_is_replaced(client, collected, header):
    response = client.get("/logs/", HTTP_X_REQUEST_ID=header)
    new_id = response["X-Request-ID"]
    assert new_id != header
    assert len(new_id) == 32 and int(new_id, 16) >= 0
    inside = [each for each in collected if each.getMessage() == "inside the view"]
    assert [each.request_id for each in inside] == [new_id]


@pytest.mark.urls(__name__)
def test_each_request_gets_its_own_id_and_none_outside(client, collected):
    first = client.get("/logs/")["X-Request-ID"]
    second = client.get("/logs/")["X-Request-ID"]
    assert first != second
    assert logs.request_id.get() is None
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "outside", None, None)
    logs.RequestIdFilter().filter(record)
    assert record.request_id is None


@pytest.mark.urls(__name__)
def test_a_request_is_logged_once_without_query_string_or_address(client, collected):
    response = client.get("/logs/?email=someone%40example.org&code=123456")
    (line,) = [each for each in collected if each.name == "portal.request"]
    assert line.request_id == response["X-Request-ID"]
    assert (line.method, line.path, line.status) == ("GET", "/logs/", 200)
    assert isinstance(line.duration_ms, float)
    assert not hasattr(line, "client_ip")
    text = logs.JsonFormatter().format(line)
    assert "example.org" not in text and "123456" not in text
    assert "127.0.0.1" not in text


@pytest.mark.urls(__name__)
def test_the_client_address_is_logged_only_when_turned_on(client, collected, settings):
    settings.PORTAL_LOG_CLIENT_IP = True
    client.get("/logs/", REMOTE_ADDR="192.0.2.7")
    (line,) = [each for each in collected if each.name == "portal.request"]
    assert line.client_ip == "192.0.2.7"


@pytest.mark.django_db
def test_successful_probes_are_not_logged_but_failures_are(
    client, collected, monkeypatch
):
    client.get("/healthz/")
    client.get("/readyz/")
    assert not [each for each in collected if each.name == "portal.request"]
    monkeypatch.setattr(health, "run_checks", raising(RuntimeError("down")))
    client.get("/readyz/")
    (line,) = [each for each in collected if each.name == "portal.request"]
    assert (line.path, line.status) == ("/readyz/", 503)


# --- The JSON formatter ----------------------------------------------------------


def test_the_json_formatter_writes_one_line_with_the_fields():
    record = logging.LogRecord(
        "portal.request",
        logging.INFO,
        __file__,
        1,
        "GET %s 200\nsecond line",
        ("/search/",),
        None,
    )
    record.__dict__.update(
        request_id="lb-1234-abcd",
        method="GET",
        path="/search/?q=confidential+term&token=abc",
        status=200,
        duration_ms=12.5,
        user_email="someone@example.org",  # passed by mistake: not written
    )
    text = logs.JsonFormatter().format(record)
    assert "\n" not in text and len(text.splitlines()) == 1
    line = json.loads(text)
    assert set(line) == {
        "time",
        "level",
        "logger",
        "message",
        "request_id",
        "method",
        "path",
        "status",
        "duration_ms",
    }
    assert line["path"] == "/search/"
    assert "confidential" not in text and "token" not in text
    assert "someone@example.org" not in text
    assert line["level"] == "INFO"
    assert line["logger"] == "portal.request"
    assert line["message"] == "GET /search/ 200\nsecond line"
    assert line["request_id"] == "lb-1234-abcd"
    assert (line["status"], line["duration_ms"]) == (200, 12.5)
    assert datetime.fromisoformat(line["time"]).utcoffset().total_seconds() == 8 * 3600


def test_the_json_formatter_keeps_an_exception_on_the_same_line():
    try:
        raise ValueError("broken")
    except ValueError:
        record = logging.LogRecord(
            "portal", logging.ERROR, __file__, 1, "failed", None, sys.exc_info()
        )
    text = logs.JsonFormatter().format(record)
    assert len(text.splitlines()) == 1
    line = json.loads(text)
    assert "ValueError: broken" in line["exception"]
    assert line["request_id"] is None
    assert "method" not in line


def test_production_logs_are_json_lines(tmp_path):
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DJANGO_SETTINGS_MODULE", "DEBUG", "PORTAL_TEST_SHARED_DIR"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="portal.settings.production",
        SECRET_KEY="x7!kq2Lr9vZ0pW4eYh3Tn8sGm1Bc6Jd5Fa0Ru2Ox9Ei7Uy4Hw3Qt6Ps1Lk8Mn5",
        EMAIL_URL="dummymail://",
        ALLOWED_HOSTS="portal.example.org",
        BASE_URL="https://portal.example.org",
        PORTAL_VAR_DIR=str(tmp_path / "var"),
        DATABASE_URL=f"sqlite:///{tmp_path / 'portal.sqlite3'}",
    )
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "shell",
            "-c",
            "import logging; logging.getLogger('portal.probe').warning('hello %s', 1)",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    lines = [json.loads(each) for each in result.stderr.splitlines() if each]
    probe = [each for each in lines if each["logger"] == "portal.probe"]
    assert probe == [
        {
            "time": probe[0]["time"],
            "level": "WARNING",
            "logger": "portal.probe",
            "message": "hello 1",
            "request_id": None,
        }
    ]

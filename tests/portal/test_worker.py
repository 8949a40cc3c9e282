"""With a real Celery worker process: e-mail is enqueued only after commit and
delivered by the worker; Wagtail's own tasks and the beat tasks run there too.

Runs in both CI runs: on SQLite with the embedded filesystem broker, and on
PostgreSQL with Redis.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from django.conf import settings
from django.core.mail import send_mail
from django.db import connection, transaction

from wagtail.search.models import IndexEntry

from portal import queues
from portal.celery import app as celery_app
from portal.models import NewsPage, OutgoingEmail
from portal.tasks import publish_scheduled_pages
from tests.factories import NewsIndexPageFactory, NewsPageFactory

pytestmark = [
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

ROOT = Path(__file__).resolve().parents[2]
FILE_BACKEND = "django.core.mail.backends.filebased.EmailBackend"


def database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{db['NAME']}"
    user = db["USER"] or "postgres"
    host, port = db["HOST"] or "127.0.0.1", db["PORT"] or 5432
    return f"postgres://{user}@{host}:{port}/{db['NAME']}"


def wait_for(condition, timeout=30.0, interval=0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return False


@pytest.fixture
def worker(tmp_path, monkeypatch):
    """A real `celery worker` process on the test database and broker."""
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings.test",
        "DATABASE_URL": database_url(),
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "PORTAL_EMAIL_DELIVERY_BACKEND": FILE_BACKEND,
        "EMAIL_FILE_PATH": str(mail_dir),
    }
    if settings.CELERY_BROKER_URL != "filesystem://":
        celery_app.control.purge()  # nothing left over from an earlier run
    log = open(tmp_path / "worker.log", "w+")  # noqa: SIM115 (closed at teardown)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "portal",
            "worker",
            "--pool",
            "solo",
            "--queues",
            ",".join(queues.all_queues(settings.CELERY_TASK_DEFAULT_QUEUE)),
            "--without-mingle",
            "--without-gossip",
            "--without-heartbeat",
            "--loglevel",
            "INFO",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    monkeypatch.setitem(celery_app.conf, "task_always_eager", False)
    ready = wait_for(
        lambda: "ready." in (tmp_path / "worker.log").read_text(), timeout=60
    )
    if not ready:
        process.kill()
        pytest.fail(
            "The worker did not start:\n" + (tmp_path / "worker.log").read_text()
        )
    yield mail_dir
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


def test_email_is_enqueued_on_commit_and_delivered_by_the_worker(worker, home):
    with transaction.atomic():
        send_mail(
            "培训开班通知",
            "请按时参加。",
            "noreply@example.org",
            ["trainee@example.org"],
        )
        email = OutgoingEmail.objects.get()
        # Inside the transaction nothing is enqueued: the worker cannot deliver.
        time.sleep(1.5)
        assert not list(worker.iterdir())
    assert wait_for(lambda: list(worker.iterdir())), "the worker delivered nothing"
    assert wait_for(lambda: OutgoingEmail.objects.get(pk=email.pk).status == "sent")
    delivered = next(worker.iterdir()).read_text(encoding="utf-8", errors="replace")
    assert "trainee@example.org" in delivered


def test_wagtail_background_tasks_run_in_the_worker(worker, home):
    index = NewsIndexPageFactory(parent=home)
    news = NewsPageFactory(parent=index, title="专利导航产业发展")
    assert wait_for(
        lambda: IndexEntry.objects.filter(object_id=str(news.pk)).exists()
    ), "the search index was not updated by the worker"


def test_beat_publishing_task_runs_in_the_worker(worker, home):
    index = NewsIndexPageFactory(parent=home)
    news = NewsPageFactory(parent=index, slug="expired-by-worker")
    NewsPage.objects.filter(pk=news.pk).update(expire_at="2000-01-01T00:00:00Z")
    publish_scheduled_pages.delay()
    assert wait_for(lambda: not NewsPage.objects.get(pk=news.pk).live)

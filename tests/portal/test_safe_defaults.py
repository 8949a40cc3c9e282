"""Safe defaults: a process started without DJANGO_SETTINGS_MODULE runs on
production settings (or refuses to start, saying why); the demo loader
refuses to run there; the first administrator's password never reaches a
terminal or a log; account deletion cannot be used to guess a password."""

import io
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from django.core.management import CommandError, call_command
from django.urls import reverse

from portal.models import User
from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery staple"
PRODUCTION_ENV = {
    "SECRET_KEY": "x7!kq2Lr9vZ0pW4eYh3Tn8sGm1Bc6Jd5Fa0Ru2Ox9Ei7Uy4Hw3Qt6Ps1Lk8Mn5",
    "EMAIL_URL": "dummymail://",
    "ALLOWED_HOSTS": "portal.example.org",
}


def run(args: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    """`args` in a fresh Python, in an environment WITHOUT DJANGO_SETTINGS_MODULE
    (nor the secrets of the caller's shell), on a throwaway var folder and
    SQLite file, plus `env`."""
    base = {
        key: value
        for key, value in os.environ.items()
        if key
        not in {
            "DJANGO_SETTINGS_MODULE",
            "SECRET_KEY",
            "EMAIL_URL",
            "DEBUG",
            "DATABASE_URL",
            "REDIS_URL",
            "CELERY_BROKER_URL",
            "PORTAL_TEST_SHARED_DIR",
        }
    }
    base.update(
        PORTAL_VAR_DIR=str(tmp_path / "var"),
        DATABASE_URL=f"sqlite:///{tmp_path / 'portal.sqlite3'}",
        **env,
    )
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=base,
        capture_output=True,
        text=True,
        timeout=120,
    )


SHOW_SETTINGS = (
    "from django.conf import settings; print(settings.SETTINGS_MODULE, settings.DEBUG)"
)


# --- production unless told otherwise -------------------------------------------


def test_manage_py_without_a_settings_module_runs_on_production(tmp_path):
    # DEBUG=true in the environment is what a careless shell might carry:
    # production settings ignore it.
    result = run(
        ["manage.py", "shell", "-c", SHOW_SETTINGS],
        tmp_path,
        DEBUG="true",
        **PRODUCTION_ENV,
    )
    assert result.returncode == 0, result.stderr
    # The last line: Django's shell first says what it imported.
    last = result.stdout.strip().splitlines()[-1]
    assert last.split() == ["portal.settings.production", "False"]


def test_manage_py_names_the_missing_variables_without_a_traceback(tmp_path):
    result = run(["manage.py", "check"], tmp_path)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr and "EMAIL_URL" in result.stderr
    assert "docs/configuration.md" in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("module", ["portal.wsgi", "portal.asgi", "portal.celery"])
def test_server_and_worker_entry_points_default_to_production(tmp_path, module):
    result = run(
        ["-c", f"import {module}; {SHOW_SETTINGS}"], tmp_path, **PRODUCTION_ENV
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["portal.settings.production", "False"]

    # Without the secrets they stop, naming what is missing, rather than
    # serving with an empty key.
    refused = run(["-c", f"import {module}; {SHOW_SETTINGS}"], tmp_path)
    assert refused.returncode != 0
    assert "ImproperlyConfigured" in refused.stderr
    assert "SECRET_KEY" in refused.stderr and "EMAIL_URL" in refused.stderr


# --- the demo loader ----------------------------------------------------------------


def test_load_demo_refuses_under_production_settings(tmp_path):
    result = run(["manage.py", "load_demo"], tmp_path, **PRODUCTION_ENV)
    assert result.returncode != 0
    assert "portal.settings.production" in result.stderr
    assert "拒绝载入演示内容" in result.stderr  # in the site's language
    assert "Traceback" not in result.stderr


@pytest.mark.django_db
def test_load_demo_creates_nothing_when_not_allowed(settings, home):
    settings.PORTAL_DEMO_ALLOWED = False
    with pytest.raises(CommandError, match="portal.settings.dev"):
        call_command("load_demo")
    assert not User.objects.exists()  # no demo trainee, enterprise or expert


# --- the first administrator's password -------------------------------------------


def admin_password(path: Path) -> str:
    (line,) = [
        line for line in path.read_text().splitlines() if line.startswith("密码：")
    ]
    return line.removeprefix("密码：")


@pytest.mark.django_db
def test_ensure_admin_writes_the_password_to_a_private_file_only(
    settings, tmp_path, capfd
):
    settings.VAR_DIR = tmp_path / "var"
    stdout, stderr = io.StringIO(), io.StringIO()
    previous = os.umask(0)  # even a permissive umask gets an owner-only file
    try:
        call_command(
            "ensure_admin", email="root@example.org", stdout=stdout, stderr=stderr
        )
    finally:
        os.umask(previous)

    path = tmp_path / "var" / "admin-password.txt"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    password = admin_password(path)
    admin = User.objects.get(email="root@example.org")
    assert admin.is_superuser and admin.check_password(password)
    printed = stdout.getvalue() + stderr.getvalue() + "".join(capfd.readouterr())
    assert password not in printed
    assert str(path) in stdout.getvalue()

    # Run again (every `make run` does): nothing new, still no password shown.
    again = io.StringIO()
    call_command("ensure_admin", email="root@example.org", stdout=again)
    assert password not in again.getvalue() and str(path) in again.getvalue()
    assert User.objects.filter(is_superuser=True).count() == 1
    assert admin_password(path) == password


@pytest.mark.django_db
def test_ensure_admin_never_writes_through_a_planted_file(settings, tmp_path):
    # Someone who can write to var/ plants a link to a file they can read:
    # the password must not land there, and no administrator is left
    # without a password anyone knows.
    settings.VAR_DIR = tmp_path
    readable = tmp_path / "public.txt"
    readable.write_text("")
    (tmp_path / "admin-password.txt").symlink_to(readable)
    with pytest.raises(CommandError, match="admin-password.txt"):
        call_command("ensure_admin", email="root@example.org", stdout=io.StringIO())
    assert readable.read_text() == ""
    assert not User.objects.filter(is_superuser=True).exists()


# --- account deletion ------------------------------------------------------------


@pytest.mark.django_db
def test_account_deletion_stops_password_guessing(client, home):
    user = UserFactory()
    client.force_login(user)
    url = reverse("account_delete")
    for _ in range(5):
        response = client.post(url, {"password": "guess", "confirm": "on"})
        assert response.status_code == 200
        assert "密码不正确" in response.content.decode()

    # The sixth try is refused, even with the right password, and says so
    # without saying whether the password was right.
    response = client.post(url, {"password": PASSWORD, "confirm": "on"})
    assert response.status_code == 429
    page = response.content.decode()
    assert "删除此账户的尝试次数过多" in page
    assert "密码不正确" not in page
    assert User.objects.filter(pk=user.pk).exists()

    # The limit is the account's: another user deletes theirs at once.
    other = UserFactory()
    client.force_login(other)
    response = client.post(url, {"password": PASSWORD, "confirm": "on"})
    assert response.status_code == 302
    assert not User.objects.filter(pk=other.pk).exists()

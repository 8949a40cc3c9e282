"""What an operator relies on: production settings pass Django's deployment
checks, the demo loader is idempotent, the admin screens open."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

from django.core.management import call_command

from wagtail.models import Page

from portal.models import PolicyDocumentPage
from tests.factories import StaffFactory

ROOT = Path(__file__).resolve().parents[2]


def production_check(**extra: str) -> subprocess.CompletedProcess:
    """`manage.py check --deploy --fail-level WARNING` in a subprocess with
    production settings and the required variables set (BASE_URL, Redis
    URLs left out unless `extra` gives them)."""
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in ("BASE_URL", "REDIS_URL", "CELERY_BROKER_URL")
    }
    env.update(
        DJANGO_SETTINGS_MODULE="portal.settings.production",
        SECRET_KEY="x7!kq2Lr9vZ0pW4eYh3Tn8sGm1Bc6Jd5Fa0Ru2Ox9Ei7Uy4Hw3Qt6Ps1Lk8Mn5",
        ALLOWED_HOSTS="portal.example.org",
        EMAIL_URL="smtp+tls://portal:secret@smtp.example.org:587",
        **extra,
    )
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_the_deployment_checks():
    # The test run's own Redis has no password, which the deploy check rightly
    # refuses (portal.W001/W002, tested in test_task_allow_list): production
    # here runs with a password-protected one.
    redis = {
        name: "redis://:s3cret@127.0.0.1:6379/0"
        for name in ("REDIS_URL", "CELERY_BROKER_URL")
        if os.environ.get(name)
    }
    result = production_check(BASE_URL="https://portal.example.org", **redis)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.django_db
def test_demo_content_loads_once_and_includes_the_seed_policy(home, capsys):
    call_command("load_demo")
    pages = Page.objects.count()
    call_command("load_demo")
    assert Page.objects.count() == pages
    assert "nothing changed" in capsys.readouterr().out
    opinions = PolicyDocumentPage.objects.get(document_number="渝府办发〔2015〕83号")
    text = " ".join(str(block.value) for block in opinions.body)
    assert "知识产权人才库" in text and "4·26" in text
    assert "智慧财产权" not in text  # Taiwan terms converted
    assert opinions.attachments.get().document.file.read(5) == b"%PDF-"


# ensure_admin: tests/portal/test_safe_defaults.py (the password goes to a
# private file, never to the terminal).


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "/admin/snippets/portal/audience/",
        "/admin/snippets/portal/district/",
        "/admin/outgoing_email/",
        "/admin/settings/portal/sitesettings/",
        "/admin/users/",
    ],
)
def test_admin_screens_open_for_administrators(client, home, path):
    staff = StaffFactory(mfa=False)
    TOTP.activate(staff, generate_totp_secret())
    client.force_login(staff)
    response = client.get(path, follow=True)
    assert response.status_code == 200

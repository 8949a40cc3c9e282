"""Backups (docs/backups.md): `manage.py backup` and `manage.py restore`.

The main test backs up a database with an issued certificate and a listed
expert, restores it into an empty database in another process (another SQLite
file, or a throwaway PostgreSQL database on the PostgreSQL run) and checks
there that the certificate still verifies, with its PDF, and that the expert
is still found. The others check the refusals, which come before anything is
written."""

import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import urllib.parse
from decimal import Decimal
from pathlib import Path

import pytest

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import translation

from courses.certificates import services
from portal import backups
from portal.models import User
from talentpool.search import expert_search, experts_reindex
from tests.courses.factories import CertificateRequestFactory
from tests.factories import UserFactory
from tests.talentpool.helpers import listed_expert

PDF = b"%PDF-1.7\n% a certificate for the backup test\n%%EOF\n"

CHECK_SCRIPT = """
import hashlib, json, sys
import django
django.setup()
from django.test import Client
from courses.certificates.selectors import certificate_by_code
from talentpool.search import expert_search
code, name, expert_id = sys.argv[1], sys.argv[2], int(sys.argv[3])
certificate = certificate_by_code(code=code)
with certificate.pdf.open("rb") as file:
    pdf = file.read()
page = Client().get(f"/certificates/verify/{code}/")
print(json.dumps({
    "state": certificate.state,
    "pdf_sha256": hashlib.sha256(pdf).hexdigest(),
    "pdf_path": certificate.pdf.path,
    "page_status": page.status_code,
    "page_has_name": certificate.learner_name in page.content.decode(),
    "found": expert_id in expert_search(query=name).ids(1, 20),
}))
"""


def archives(folder: Path) -> list[Path]:
    return sorted(folder.glob("portal-backup-*.tar"))


def backup(folder: Path) -> Path:
    call_command("backup", output=folder, stdout=io.StringIO())
    (archive,) = archives(folder)
    return archive


def media_listing() -> list[str]:
    root = Path(settings.MEDIA_ROOT)
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def postgres_database() -> tuple[str, str]:
    """A throwaway database on the server the suite runs on: (its URL, the
    maintenance database's URL to drop it from)."""
    import psycopg

    parts = urllib.parse.urlsplit(os.environ["DATABASE_URL"])._replace(
        scheme="postgres"
    )
    name = f"portal_restore_test_{os.getpid()}"
    maintenance = parts._replace(path="/postgres").geturl()
    with psycopg.connect(maintenance, autocommit=True, connect_timeout=5) as db:
        db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        db.execute(f'CREATE DATABASE "{name}"')
    return parts._replace(path=f"/{name}").geturl(), maintenance


def drop_postgres_database(url: str, maintenance: str) -> None:
    import psycopg

    name = urllib.parse.urlsplit(url).path.lstrip("/")
    with psycopg.connect(maintenance, autocommit=True, connect_timeout=5) as db:
        db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def other_portal_env(tmp_path: Path, database_url: str) -> dict[str, str]:
    """The environment of a second portal: its own database, media folder
    (the test settings keep media in PORTAL_TEST_SHARED_DIR) and var folder."""
    shared = tmp_path / "other-shared"
    shared.mkdir()
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings.test",
        "DATABASE_URL": database_url,
        "PORTAL_TEST_SHARED_DIR": str(shared),
        "PORTAL_VAR_DIR": str(tmp_path / "other-var"),
    }


def run(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        command,
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_restored_backup_still_verifies_certificates_and_finds_experts(
    home, tmp_path
):
    learner = UserFactory(real_name="李堃", email="likun-backup@example.org")
    request = CertificateRequestFactory(
        user=learner, title="专利信息检索与利用", hours=Decimal("3.5")
    )
    certificate, _ = services.certificate_issue(request_id=request.pk, render=False)
    services.certificate_store_pdf(certificate_id=certificate.pk, pdf=PDF)
    certificate.refresh_from_db()
    expert = listed_expert(name="欧阳明远", biography="专利无效宣告与诉讼。")
    experts_reindex()
    assert expert.pk in expert_search(query="欧阳明远").ids(1, 20)
    folder = tmp_path / "backups"

    archive = backup(folder)

    with tarfile.open(archive) as tar:
        manifest_file = tar.extractfile("manifest.json")
        assert manifest_file is not None
        manifest = json.load(manifest_file)
        names = tar.getnames()
    assert manifest["format_version"] == backups.FORMAT_VERSION
    assert manifest["database"]["vendor"] == connection.vendor
    assert manifest["migrations"]["courses"].startswith("0")
    pdf_member = f"media/{certificate.pdf.name}"
    assert pdf_member in names
    assert manifest["members"][pdf_member] == {
        "size": len(PDF),
        "sha256": hashlib.sha256(PDF).hexdigest(),
    }
    assert archive.stat().st_mode & 0o077 == 0  # the owner's only
    assert [p.name for p in folder.iterdir()] == [archive.name]  # no leftovers

    if connection.vendor == "postgresql":
        url, maintenance = postgres_database()
    else:
        url, maintenance = f"sqlite:///{tmp_path / 'restored.sqlite3'}", ""
    try:
        env = other_portal_env(tmp_path, url)
        restored = run([sys.executable, "manage.py", "restore", str(archive)], env)
        assert restored.returncode == 0, restored.stderr
        checked = run(
            [
                sys.executable,
                "-c",
                CHECK_SCRIPT,
                certificate.code,
                "欧阳明远",
                str(expert.pk),
            ],
            env,
        )
        assert checked.returncode == 0, checked.stderr
        found = json.loads(checked.stdout.strip().splitlines()[-1])
    finally:
        if maintenance:
            drop_postgres_database(url, maintenance)
    assert found == {
        "state": "valid",
        "pdf_sha256": hashlib.sha256(PDF).hexdigest(),
        "pdf_path": str(tmp_path / "other-shared" / "media" / certificate.pdf.name),
        "page_status": 200,
        "page_has_name": True,
        "found": True,
    }


@pytest.fixture
def media_file():
    name = default_storage.save("private/backup-test/note.txt", ContentFile(b"x" * 64))
    yield name
    default_storage.delete(name)


def refused(archive: Path, *, yes: bool = True) -> str:
    with translation.override("en"), pytest.raises(CommandError) as error:
        call_command("restore", str(archive), yes=yes, stdout=io.StringIO())
    assert error.value.returncode == 1
    return str(error.value)


def staging_folders() -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return list(root.parent.glob(f".{root.name}.*"))


@pytest.mark.django_db
def test_a_tampered_archive_is_refused_before_anything_is_written(tmp_path, media_file):
    archive = backup(tmp_path)
    member = f"media/{media_file}"
    with tarfile.open(archive) as tar:
        offset = tar.getmember(member).offset_data
    with archive.open("r+b") as file:
        file.seek(offset + 10)
        file.write(b"y")  # one byte of the note changed
    marker = UserFactory(email="still-here@example.org")
    media_before = media_listing()

    message = refused(archive)

    assert member in message
    assert "checksum" in message
    assert User.objects.filter(pk=marker.pk).exists()
    assert media_listing() == media_before
    assert staging_folders() == []


def handmade_archive(
    path: Path, members: dict[str, bytes], *, vendor: str | None = None
) -> Path:
    """An archive as `backup` writes one, with the members given (and a
    database member), listed in its manifest with their true checksums."""
    vendor = vendor or connection.vendor
    database = backups.DATABASE_MEMBERS[vendor]
    members = {database: b"not a database", **members}
    manifest = {
        "format": backups.FORMAT_NAME,
        "format_version": backups.FORMAT_VERSION,
        "created_at": "2027-04-26T10:00:00+08:00",
        "database": {"vendor": vendor, "member": database},
        "media": True,
        "migrations": {},
        "portal_version": "0.1.0",
        "members": {
            name: {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
            for name, data in members.items()
        },
    }
    members["manifest.json"] = json.dumps(manifest).encode()
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name", ["media/../escaped.txt", "media/a/../../escaped.txt", "/tmp/escaped.txt"]
)
def test_a_member_whose_path_escapes_is_refused(tmp_path, name):
    archive = handmade_archive(tmp_path / "evil.tar", {name: b"evil"})
    media_before = media_listing()

    message = refused(archive)

    assert "unsafe path" in message
    assert name in message
    assert not (Path(settings.MEDIA_ROOT).parent / "escaped.txt").exists()
    assert media_listing() == media_before
    assert staging_folders() == []


@pytest.mark.django_db
def test_a_backup_of_another_database_vendor_is_refused(tmp_path):
    other = "postgresql" if connection.vendor == "sqlite" else "sqlite"
    archive = handmade_archive(tmp_path / "other.tar", {}, vendor=other)

    message = refused(archive)

    assert f"holds a {other} database" in message


@pytest.mark.django_db
def test_restoring_over_a_database_that_is_not_empty_needs_yes(tmp_path):
    archive = backup(tmp_path)
    marker = UserFactory(email="still-here@example.org")

    message = refused(archive, yes=False)

    assert "--yes" in message
    assert "user accounts" in message
    assert User.objects.filter(pk=marker.pk).exists()
    assert staging_folders() == []


@pytest.mark.django_db
def test_a_failed_backup_leaves_no_file(tmp_path, monkeypatch):
    def failing(target: Path) -> None:
        target.write_bytes(b"half a dump")
        raise backups.BackupError("the dump failed")

    monkeypatch.setattr(backups, "_dump_database", failing)

    with pytest.raises(CommandError, match="the dump failed"):
        call_command("backup", output=tmp_path, stdout=io.StringIO())

    assert list(tmp_path.iterdir()) == []

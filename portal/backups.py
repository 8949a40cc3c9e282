"""Backups: the database and the media files in one archive, and back.

A backup is one uncompressed tar file, ``portal-backup-YYYYMMDD-HHMMSS.tar``
(Asia/Shanghai time), holding

- ``database/portal.sqlite3`` (SQLite, a consistent copy made with SQLite's
  backup API) or ``database/portal.pgdump`` (PostgreSQL, ``pg_dump
  --format=custom``);
- ``media/...``: every file under the default storage's folder (MEDIA_ROOT,
  private/ included), when media are on disk;
- ``manifest.json``: the format version, when, the database vendor, the
  migrations applied ({app: latest}), the portal's version and, for every
  other member, its size and SHA-256.

A restore checks all of that before it writes anything (docs/backups.md).
Messages raised as BackupError are for the operator and translated.
"""

from __future__ import annotations

import datetime
import hashlib
import io
import json
import os
import re
import secrets
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.files.storage import FileSystemStorage, storages
from django.db import connections
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.utils.translation import gettext as _

#: Bumped when the layout of an archive changes; a restore refuses others.
FORMAT_VERSION = 1
FORMAT_NAME = "ip-portal-backup"
MANIFEST = "manifest.json"
MEDIA_PREFIX = "media/"
DATABASE_MEMBERS = {
    "sqlite": "database/portal.sqlite3",
    "postgresql": "database/portal.pgdump",
}
ARCHIVE_TIME_ZONE = ZoneInfo("Asia/Shanghai")
CHUNK = 1024 * 1024
DB_ALIAS = "default"


class BackupError(Exception):
    """A backup or restore refused or failed; the message says why."""


# --- Small parts ---------------------------------------------------------------


def _sha256_file(path: Path) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as file:
        while chunk := file.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


class _HashingReader(io.RawIOBase):
    """A file read through, counting and hashing what tarfile copies."""

    def __init__(self, file: IO[bytes]) -> None:
        self._file = file
        self.digest = hashlib.sha256()
        self.size = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        data = self._file.read(-1 if size is None else size)
        self.digest.update(data)
        self.size += len(data)
        return data


def _media_storage() -> FileSystemStorage | None:
    """The default storage when it is a folder on disk, else None (S3)."""
    storage = storages["default"]
    return storage if isinstance(storage, FileSystemStorage) else None


def media_root() -> Path | None:
    storage = _media_storage()
    return Path(storage.location) if storage is not None else None


def _media_files(root: Path) -> Iterator[tuple[Path, str]]:
    """(path, member name) of every regular file under root, sorted; symbolic
    links are not followed (media never holds any)."""
    for folder, dirs, files in os.walk(root, followlinks=False):
        dirs.sort()
        for name in sorted(files):
            path = Path(folder, name)
            if path.is_symlink() or not path.is_file():
                continue
            relative = path.relative_to(root).as_posix()
            yield path, MEDIA_PREFIX + relative


def _in_memory(name: str) -> bool:
    return name == ":memory:" or "mode=memory" in name


def _vendor() -> str:
    return connections[DB_ALIAS].vendor


def _portal_version() -> str:
    try:
        with (Path(settings.BASE_DIR) / "pyproject.toml").open("rb") as file:
            return str(tomllib.load(file)["project"]["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return ""


def _migration_state() -> dict[str, str]:
    """{app: the latest migration applied} (by name: they are numbered)."""
    recorder = MigrationRecorder(connections[DB_ALIAS])
    if not recorder.has_table():
        return {}
    latest: dict[str, str] = {}
    for app, name in recorder.applied_migrations():
        if name > latest.get(app, ""):
            latest[app] = name
    return dict(sorted(latest.items()))


def _postgres_env() -> dict[str, str]:
    """libpq's environment for the default database: the password travels in
    PGPASSWORD, never on a command line another user could read in ps."""
    from django.db.backends.postgresql.client import DatabaseClient

    connection_settings = connections[DB_ALIAS].settings_dict
    _args, extra = DatabaseClient.settings_to_cmd_args_env(connection_settings, [])
    env = dict(os.environ)
    for variable, key in (
        ("PGHOST", "HOST"),
        ("PGPORT", "PORT"),
        ("PGUSER", "USER"),
        ("PGDATABASE", "NAME"),
    ):
        if connection_settings.get(key):
            env[variable] = str(connection_settings[key])
    env.update(extra or {})
    return env


def _run(command: list[str], *, env: dict[str, str]) -> None:
    try:
        completed = subprocess.run(
            command, env=env, capture_output=True, text=True, check=False
        )
    except FileNotFoundError:
        raise BackupError(
            _(
                "%(program)s was not found. Install PostgreSQL's client programs "
                "(Debian: apt-get install postgresql-client), of the server's "
                "major version or newer."
            )
            % {"program": command[0]}
        ) from None
    if completed.returncode != 0:
        raise BackupError(
            _("%(program)s failed: %(error)s")
            % {"program": command[0], "error": completed.stderr.strip()}
        )


# --- Backup --------------------------------------------------------------------


def _dump_database(target: Path) -> None:
    vendor = _vendor()
    connection = connections[DB_ALIAS]
    if vendor == "sqlite":
        connection.ensure_connection()
        name = str(connection.settings_dict["NAME"])
        # Its own connection to the file (Django's may be in a transaction);
        # the backup API copies one consistent snapshot even while the web
        # server and the worker write (WAL).
        source = (
            sqlite3.connect(name, timeout=20)
            if not _in_memory(name)
            else connection.connection
        )
        destination = sqlite3.connect(target)
        try:
            source.backup(destination)
        finally:
            destination.close()
            if source is not connection.connection:
                source.close()
    elif vendor == "postgresql":
        _run(
            [
                "pg_dump",
                "--format=custom",
                "--no-owner",
                "--no-privileges",
                # The cache table's rows (rate limits) need not survive.
                "--exclude-table-data=portal_cache",
                f"--file={target}",
            ],
            env=_postgres_env(),
        )
    else:
        raise BackupError(
            _("Backups support SQLite and PostgreSQL, not %(vendor)s.")
            % {"vendor": vendor}
        )


def _archive_name(folder: Path, now: datetime.datetime) -> Path:
    stem = f"portal-backup-{now.astimezone(ARCHIVE_TIME_ZONE):%Y%m%d-%H%M%S}"
    path = folder / f"{stem}.tar"
    number = 1
    while path.exists():
        path = folder / f"{stem}-{number}.tar"
        number += 1
    return path


@dataclass
class BackupResult:
    path: Path
    size: int
    media_files: int
    media_included: bool
    manifest: dict[str, Any] = field(default_factory=dict)


def _add_file(
    archive: tarfile.TarFile, path: Path, name: str, members: dict[str, dict]
) -> None:
    with path.open("rb") as file:
        stat = os.fstat(file.fileno())
        info = tarfile.TarInfo(name)
        info.size = stat.st_size
        info.mtime = int(stat.st_mtime)
        info.mode = 0o600
        reader = _HashingReader(file)
        archive.addfile(info, reader)
    members[name] = {"size": reader.size, "sha256": reader.digest.hexdigest()}


def backup_create(
    *, output: Path, now: datetime.datetime | None = None
) -> BackupResult:
    """Write a backup archive into the folder `output` (created if need be).

    After: one complete archive, readable by its owner only; a failure
    leaves no file behind (the archive is written under a temporary name in
    the same folder and renamed at the end)."""
    from django.utils import timezone

    now = now or timezone.now()
    output.mkdir(parents=True, exist_ok=True)
    vendor = _vendor()
    if vendor not in DATABASE_MEMBERS:
        raise BackupError(
            _("Backups support SQLite and PostgreSQL, not %(vendor)s.")
            % {"vendor": vendor}
        )
    descriptor, part_name = tempfile.mkstemp(
        dir=output, prefix=".portal-backup-", suffix=".tar.part"
    )
    part = Path(part_name)
    members: dict[str, dict] = {}
    root = media_root()
    media_count = 0
    try:
        with os.fdopen(descriptor, "wb") as raw:
            migrations = _migration_state()
            with tempfile.TemporaryDirectory(
                dir=output, prefix=".portal-backup-"
            ) as tmp:
                dump = Path(tmp) / "database"
                _dump_database(dump)
                with tarfile.open(
                    fileobj=raw, mode="w", format=tarfile.PAX_FORMAT
                ) as tar:
                    _add_file(tar, dump, DATABASE_MEMBERS[vendor], members)
                    dump.unlink()
                    if root is not None and root.is_dir():
                        for path, name in _media_files(root):
                            try:
                                _add_file(tar, path, name, members)
                            except FileNotFoundError:
                                continue  # deleted while we were walking
                            media_count += 1
                    manifest = {
                        "format": FORMAT_NAME,
                        "format_version": FORMAT_VERSION,
                        "created_at": now.astimezone(ARCHIVE_TIME_ZONE).isoformat(),
                        "database": {
                            "vendor": vendor,
                            "member": DATABASE_MEMBERS[vendor],
                        },
                        "media": root is not None,
                        "migrations": migrations,
                        "portal_version": _portal_version(),
                        "members": members,
                    }
                    data = json.dumps(manifest, indent=2, ensure_ascii=False).encode()
                    info = tarfile.TarInfo(MANIFEST)
                    info.size = len(data)
                    info.mtime = int(now.timestamp())
                    info.mode = 0o600
                    tar.addfile(info, io.BytesIO(data))
            # On disk before it gets its final name.
            raw.flush()
            os.fsync(raw.fileno())
        final = _archive_name(output, now)
        os.replace(part, final)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    return BackupResult(
        path=final,
        size=final.stat().st_size,
        media_files=media_count,
        media_included=root is not None,
        manifest=manifest,
    )


# --- Checking an archive ---------------------------------------------------------


def _safe_member_name(name: str) -> bool:
    """A relative POSIX path inside the archive's own tree: no absolute path,
    no drive or backslash, no `..` or empty part."""
    if not name or name.startswith("/") or "\\" in name or "\x00" in name:
        return False
    if re.match(r"^[A-Za-z]:", name):
        return False
    parts = PurePosixPath(name).parts
    return all(part not in ("", ".", "..") for part in parts) and name == "/".join(
        parts
    )


def _unsafe(name: str) -> BackupError:
    return BackupError(
        _(
            "The archive holds a file with an unsafe path (%(name)s): "
            "refused, nothing was changed."
        )
        % {"name": name}
    )


def _read_manifest(tar: tarfile.TarFile) -> dict[str, Any]:
    try:
        member = tar.getmember(MANIFEST)
        file = tar.extractfile(member)
        if file is None:
            raise KeyError(MANIFEST)
        manifest = json.loads(file.read(1024 * 1024 * 64).decode())
    except (KeyError, ValueError):
        raise BackupError(
            _("This is not a portal backup: it has no readable manifest.json.")
        ) from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
        raise BackupError(_("This is not a portal backup (manifest.json)."))
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BackupError(
            _(
                "The backup's format version is %(found)s; this portal restores "
                "version %(expected)s only."
            )
            % {
                "found": manifest.get("format_version"),
                "expected": FORMAT_VERSION,
            }
        )
    members = manifest.get("members")
    if (
        not isinstance(members, dict)
        or not isinstance(manifest.get("database"), dict)
        or not isinstance(manifest.get("migrations", {}), dict)
        or not all(
            isinstance(entry, dict)
            and isinstance(entry.get("size"), int)
            and isinstance(entry.get("sha256"), str)
            for entry in members.values()
        )
    ):
        raise BackupError(_("The backup's manifest.json is incomplete."))
    return manifest


def _check_members(tar: tarfile.TarFile, manifest: dict[str, Any]) -> None:
    """Every member safe, listed, and of the size and checksum listed."""
    listed: dict[str, dict] = manifest["members"]
    for name in listed:
        if not _safe_member_name(name):
            raise _unsafe(name)
    seen: set[str] = set()
    for member in tar.getmembers():
        name = member.name
        if not _safe_member_name(name):
            raise _unsafe(name)
        if name in seen:
            raise BackupError(
                _("The archive holds %(name)s twice: refused.") % {"name": name}
            )
        seen.add(name)
        if name == MANIFEST:
            continue
        if not member.isfile():
            raise BackupError(
                _(
                    "The archive holds %(name)s, which is not a plain file "
                    "(a link or a device): refused."
                )
                % {"name": name}
            )
        if name not in listed:
            raise BackupError(
                _("The archive holds %(name)s, which its manifest does not list.")
                % {"name": name}
            )
        expected = listed[name]
        digest = hashlib.sha256()
        size = 0
        file = tar.extractfile(member)
        assert file is not None  # a regular file
        while chunk := file.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
        if size != expected.get("size") or digest.hexdigest() != expected.get("sha256"):
            raise BackupError(
                _(
                    "%(name)s does not match its checksum in the manifest: the "
                    "archive is damaged or was altered. Nothing was changed."
                )
                % {"name": name}
            )
    missing = sorted(set(listed) - seen)
    if missing:
        raise BackupError(
            _("The archive lacks files its manifest lists: %(names)s")
            % {"names": ", ".join(missing[:5])}
        )


def _check_fits(manifest: dict[str, Any]) -> None:
    """The vendor is the current database's; the migrations are known here."""
    vendor = manifest["database"].get("vendor")
    current = _vendor()
    if vendor != current:
        raise BackupError(
            _(
                "The backup holds a %(backup)s database but the portal is "
                "configured for %(current)s (DATABASE_URL): restore it into a "
                "%(backup)s database."
            )
            % {"backup": vendor, "current": current}
        )
    if manifest["database"].get("member") not in manifest["members"]:
        raise BackupError(_("The backup holds no database."))
    loader = MigrationLoader(None, ignore_no_migrations=True)
    known = set(loader.disk_migrations)
    unknown = [
        f"{app}.{name}"
        for app, name in manifest.get("migrations", {}).items()
        if (app, name) not in known
    ]
    if unknown:
        raise BackupError(
            _(
                "The backup was made by a newer version of the portal (migrations "
                "unknown here: %(names)s). Upgrade the portal, then restore."
            )
            % {"names": ", ".join(unknown[:5])}
        )


def archive_check(path: Path) -> dict[str, Any]:
    """The archive's manifest, once everything in it has been checked: the
    format, every member's path, size and checksum, and that it fits this
    portal. Raises BackupError otherwise. Writes nothing."""
    if not path.is_file():
        raise BackupError(_("No such file: %(path)s") % {"path": path})
    try:
        with tarfile.open(path, mode="r:") as tar:
            manifest = _read_manifest(tar)
            _check_members(tar, manifest)
    except tarfile.TarError as error:
        raise BackupError(
            _("%(path)s is not a readable tar archive: %(error)s")
            % {"path": path, "error": error}
        ) from None
    _check_fits(manifest)
    return manifest


# --- What a restore would replace ----------------------------------------------------


@dataclass
class Contents:
    tables: int
    users: int | None
    media_files: int

    @property
    def empty(self) -> bool:
        return self.tables == 0 and self.media_files == 0


def current_contents() -> Contents:
    from django.contrib.auth import get_user_model

    connection = connections[DB_ALIAS]
    tables = connection.introspection.table_names()
    users: int | None = None
    user_model = get_user_model()
    if user_model._meta.db_table in tables:
        users = user_model._default_manager.count()
    root = media_root()
    media = 0
    if root is not None and root.is_dir():
        media = sum(1 for _ in _media_files(root))
    return Contents(tables=len(tables), users=users, media_files=media)


# --- Restore ------------------------------------------------------------------------


def _extract(
    tar: tarfile.TarFile,
    member: tarfile.TarInfo,
    target: Path,
    expected: dict,
) -> None:
    """Write one member to target, checking its checksum again as it goes
    (the file may have changed since it was checked)."""
    source = tar.extractfile(member)
    assert source is not None
    digest = hashlib.sha256()
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("xb") as out:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
            out.write(chunk)
    if digest.hexdigest() != expected["sha256"]:
        raise BackupError(
            _("%(name)s changed while it was restored: stopped.")
            % {"name": member.name}
        )
    os.utime(target, (member.mtime, member.mtime))


def _extract_media(tar: tarfile.TarFile, manifest: dict, folder: Path) -> int:
    base = folder.resolve()
    count = 0
    for member in tar.getmembers():
        if not member.name.startswith(MEDIA_PREFIX):
            continue
        relative = member.name[len(MEDIA_PREFIX) :]
        target = (base / relative).resolve()
        # Checked at archive_check already; checked again where it matters.
        if not _safe_member_name(relative) or not target.is_relative_to(base):
            raise _unsafe(member.name)
        _extract(tar, member, target, manifest["members"][member.name])
        count += 1
    return count


def _restore_sqlite(dump: Path) -> None:
    connection = connections[DB_ALIAS]
    connections.close_all()
    name = str(connection.settings_dict["NAME"])
    source = sqlite3.connect(dump)
    try:
        if _in_memory(name):
            connection.ensure_connection()
            source.backup(connection.connection)
            return
        Path(name).parent.mkdir(parents=True, exist_ok=True)
        destination = sqlite3.connect(name, timeout=20)
        try:
            # Every page of the file replaced in one step, under SQLite's own
            # lock: other processes see the old database or the new one.
            source.backup(destination)
        finally:
            destination.close()
    finally:
        source.close()


def _dump_tables(dump: Path, env: dict[str, str]) -> set[str]:
    completed = subprocess.run(
        ["pg_restore", "--list", str(dump)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise BackupError(
            _("pg_restore failed: %(error)s") % {"error": completed.stderr.strip()}
        )
    tables = set()
    for line in completed.stdout.splitlines():
        # "215; 1259 16390 TABLE public portal_user postgres"
        match = re.match(r"^\d+; \d+ \d+ TABLE (\S+) (\S+) ", line)
        if match:
            tables.add(match.group(2))
    return tables


def _check_postgres_tables(dump: Path) -> None:
    """Refuse a database holding tables the dump does not: pg_restore --clean
    drops and recreates only the dump's own, so these would stay, and migrate
    could then fail creating them again (a backup older than the schema)."""
    in_dump = _dump_tables(dump, _postgres_env())
    extra = sorted(set(connections[DB_ALIAS].introspection.table_names()) - in_dump)
    if extra:
        raise BackupError(
            _(
                "The database has tables the backup does not (%(tables)s), which "
                "a restore over it would leave in place. Restore into an empty "
                "database (drop it and create it again); nothing was changed."
            )
            % {"tables": ", ".join(extra[:5])}
        )


def _restore_postgres(dump: Path) -> None:
    connection = connections[DB_ALIAS]
    name = connection.settings_dict["NAME"]
    connections.close_all()
    _run(
        [
            "pg_restore",
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            f"--dbname={name}",
            str(dump),
        ],
        env=_postgres_env(),
    )


def _swap_media(new: Path, root: Path) -> None:
    """Put the folder `new` in place of `root` with two renames; the old
    media are removed only once the new ones are in place."""
    old = root.with_name(f".{root.name}.old-{secrets.token_hex(4)}")
    if root.exists():
        os.replace(root, old)
    try:
        os.replace(new, root)
    except BaseException:
        if old.exists():
            os.replace(old, root)
        raise
    shutil.rmtree(old, ignore_errors=True)


def cache_clear() -> None:
    """Empty the portal's cache after a restore: its cached sessions name
    user ids of the replaced database. On Redis only the portal's keys go
    (RedisCache.clear() would empty the whole Redis database, which may hold
    the broker's queue too)."""
    from django.core.cache import DEFAULT_CACHE_ALIAS, caches
    from django.core.cache.backends.redis import RedisCache

    cache = caches[DEFAULT_CACHE_ALIAS]  # the backend itself, not a proxy
    if isinstance(cache, RedisCache) and cache.key_prefix:
        client = cache._cache.get_client(write=True)
        batch: list[Any] = []
        for key in client.scan_iter(match=f"{cache.key_prefix}:*", count=1000):
            batch.append(key)
            if len(batch) >= 1000:
                client.delete(*batch)
                batch = []
        if batch:
            client.delete(*batch)
    else:
        cache.clear()


@dataclass
class RestoreResult:
    manifest: dict[str, Any]
    media_files: int


def backup_restore(
    *, path: Path, replace: bool, before_write: Callable[[], None] | None = None
) -> RestoreResult:
    """Restore the archive at `path` over the configured database and media.

    Checks the whole archive first (archive_check); refuses a database or a
    media folder holding anything unless `replace`. The media are extracted
    next to MEDIA_ROOT before the database is touched, then swapped in after
    it. Does not migrate: the caller does (the command runs migrate)."""
    manifest = archive_check(path)
    contents = current_contents()
    if not contents.empty and not replace:
        raise BackupError(
            _(
                "The database and media are not empty: %(tables)s tables "
                "(%(users)s user accounts) and %(media)s media files would be "
                "replaced by the backup of %(created)s. Run again with --yes "
                "to replace them."
            )
            % {
                "tables": contents.tables,
                "users": contents.users if contents.users is not None else 0,
                "media": contents.media_files,
                "created": manifest.get("created_at", "?"),
            }
        )
    root = media_root()
    if manifest.get("media") and root is None:
        raise BackupError(
            _(
                "The backup holds media files but media are not on disk here "
                "(S3_BUCKET is set): restore them into a folder configuration, "
                "or copy them into the bucket yourself."
            )
        )
    media_count = 0
    staging = None
    db_name = manifest["database"]["member"]
    if root is not None:
        root.parent.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory(
            dir=root.parent if root is not None else None, prefix=".portal-restore-"
        ) as tmp,
        tarfile.open(path, mode="r:") as tar,
    ):
        dump = Path(tmp) / "database"
        _extract(tar, tar.getmember(db_name), dump, manifest["members"][db_name])
        if manifest["database"]["vendor"] == "postgresql":
            _check_postgres_tables(dump)
        if before_write is not None:
            before_write()
        try:
            if root is not None and manifest.get("media"):
                staging = Path(
                    tempfile.mkdtemp(dir=root.parent, prefix=f".{root.name}.restore-")
                )
                # mkdtemp's 0700 would hide the media from a web server's
                # other user.
                staging.chmod(root.stat().st_mode & 0o7777 if root.exists() else 0o755)
                media_count = _extract_media(tar, manifest, staging)
            if manifest["database"]["vendor"] == "sqlite":
                _restore_sqlite(dump)
            else:
                _restore_postgres(dump)
            if staging is not None and root is not None:
                _swap_media(staging, root)
                staging = None
        finally:
            if staging is not None:
                shutil.rmtree(staging, ignore_errors=True)
    return RestoreResult(manifest=manifest, media_files=media_count)

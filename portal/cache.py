"""The cache of the embedded default (no REDIS_URL): an SQLite file of its own.

Rate-limit counters (allauth's and django-ratelimit's), the talent pool's
budgets, cached sessions and Wagtail's site lookups live in the cache. They
used to be Django's DatabaseCache in the main SQLite file, and SQLite has one
write lock per file: while an import held a 50-second write transaction,
every request that wrote a counter waited the main database's 20-second busy
timeout, and django-ratelimit and allauth read the failed write as "over the
limit" (a 429 that was not true). This cache is a separate file
(`<PORTAL_VAR_DIR>/cache.sqlite3`), so no transaction of the main database
ever holds its lock; its transactions are a few statements long, and it waits
at most `BUSY_TIMEOUT` seconds (2) for one.

Why not Django's FileBasedCache: its `add` is "does the file exist? then
write it" and its `incr` is "read, add, write", so two processes can both
"add" the same key and two concurrent increments can become one. allauth's
rate limits take a lock with `cache.add` and would lose it; django-ratelimit
counts with `add` and `incr` and would undercount a burst sent in parallel,
which is exactly what a scraper sends. It also lists its whole folder on
every write and, past MAX_ENTRIES, deletes a random third of the entries,
counters included. Django's DatabaseCache in a second database would need a
router and a second test database, and its `incr` is the same read-then-write.
Here `add`, `incr` and `touch` each run in one `BEGIN IMMEDIATE` transaction:
SQLite lets one writer in at a time across every process on the machine, so
they are atomic, as Redis's are.

An SQLite file is one machine's cache: the embedded default is one machine
anyway (the main database is an SQLite file beside it). With web processes on
several machines, set REDIS_URL: the cache is then RedisCache below, Django's
own with the same answers to failure.

Failures (locked past the busy timeout, a full disk, an unreadable file):
the counter operations (`add`, `incr`) and `clear` raise `CacheUnavailable`,
so that a limiter knows it does not know (portal.http.rate_limit decides
what then: through for reads, 503 for sign-ins); everything else logs a
warning and answers as a miss (`get` gives the default, `set`, `touch` and
`delete` report failure), as memcached clients do, so that a page that only
reads or refreshes a cached value (Wagtail's site lookup, a cached session)
still answers.
"""

from __future__ import annotations

import logging
import os
import pickle
import random
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT, BaseCache
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache

logger = logging.getLogger(__name__)

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS cache ("
    "key TEXT PRIMARY KEY, value BLOB NOT NULL, expires REAL)"
)
#: One write in this many also deletes the expired entries.
CULL_EVERY = 200


class CacheUnavailable(Exception):
    """The cache could not be read or written (locked past its busy timeout,
    a full disk, a missing folder)."""


class SQLiteCache(BaseCache):
    """A Django cache backend on one SQLite file (LOCATION, created with its
    folder on first use). OPTIONS: BUSY_TIMEOUT (seconds, default 2),
    MAX_ENTRIES (past it, the entries closest to expiring are dropped)."""

    def __init__(self, location: str, params: dict[str, Any]) -> None:
        super().__init__(params)
        self.path = location
        options = params.get("OPTIONS", {})
        self.busy_timeout = float(options.get("BUSY_TIMEOUT", 2))
        self._connection: sqlite3.Connection | None = None
        self._pid = 0
        self._lock = threading.RLock()

    # --- The connection ------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        # A process forked after connecting (Celery's pool) opens its own.
        if self._connection is None or self._pid != os.getpid():
            folder = os.path.dirname(self.path)
            if folder:
                os.makedirs(folder, exist_ok=True)
            connection = sqlite3.connect(
                self.path,
                timeout=self.busy_timeout,
                isolation_level=None,
                check_same_thread=False,
            )
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.execute(SCHEMA)
            self._connection, self._pid = connection, os.getpid()
        return self._connection

    @contextmanager
    def _cursor(self, *, write: bool = False) -> Iterator[sqlite3.Connection]:
        """The connection, inside BEGIN IMMEDIATE when `write`; any SQLite
        error becomes CacheUnavailable."""
        with self._lock:
            try:
                connection = self._connect()
                if not write:
                    yield connection
                    return
                connection.execute("BEGIN IMMEDIATE")
                try:
                    yield connection
                except BaseException:
                    connection.execute("ROLLBACK")
                    raise
                connection.execute("COMMIT")
            except (sqlite3.Error, OSError) as error:
                if self._connection is not None and self._connection.in_transaction:
                    with suppress(sqlite3.Error):
                        self._connection.execute("ROLLBACK")
                raise CacheUnavailable(f"{self.path}: {error}") from error

    def _live(self, connection: sqlite3.Connection, key: str) -> Any:
        """The row (value, expires) of `key` if it has not expired."""
        row = connection.execute(
            "SELECT value, expires FROM cache WHERE key = ?", (key,)
        ).fetchone()
        if row is None or (row[1] is not None and row[1] <= time.time()):
            return None
        return row

    def _write(
        self, connection: sqlite3.Connection, key: str, value: Any, timeout: Any
    ) -> None:
        expires = self.get_backend_timeout(timeout)
        connection.execute(
            "INSERT OR REPLACE INTO cache (key, value, expires) VALUES (?, ?, ?)",
            (key, pickle.dumps(value, pickle.HIGHEST_PROTOCOL), expires),
        )
        if random.randrange(CULL_EVERY) == 0:
            self._cull(connection)

    def _cull(self, connection: sqlite3.Connection) -> None:
        connection.execute(
            "DELETE FROM cache WHERE expires IS NOT NULL AND expires <= ?",
            (time.time(),),
        )
        (count,) = connection.execute("SELECT COUNT(*) FROM cache").fetchone()
        if count > self._max_entries:
            connection.execute(
                "DELETE FROM cache WHERE key IN (SELECT key FROM cache "
                "ORDER BY expires IS NULL, expires LIMIT ?)",
                (
                    count
                    - self._max_entries
                    + self._max_entries // self._cull_frequency,
                ),
            )

    # --- Django's cache API --------------------------------------------------

    def get(self, key: str, default: Any = None, version: int | None = None) -> Any:
        key = self.make_and_validate_key(key, version=version)
        try:
            with self._cursor() as connection:
                row = self._live(connection, key)
        except CacheUnavailable:
            logger.warning("Cache read of %s failed", key, exc_info=True)
            return default
        return default if row is None else pickle.loads(row[0])

    def has_key(self, key: str, version: int | None = None) -> bool:
        key = self.make_and_validate_key(key, version=version)
        try:
            with self._cursor() as connection:
                return self._live(connection, key) is not None
        except CacheUnavailable:
            logger.warning("Cache read of %s failed", key, exc_info=True)
            return False

    def add(
        self,
        key: str,
        value: Any,
        timeout: Any = DEFAULT_TIMEOUT,
        version: int | None = None,
    ) -> bool:
        key = self.make_and_validate_key(key, version=version)
        with self._cursor(write=True) as connection:
            if self._live(connection, key) is not None:
                return False
            self._write(connection, key, value, timeout)
            return True

    def incr(self, key: str, delta: int = 1, version: int | None = None) -> Any:
        key = self.make_and_validate_key(key, version=version)
        with self._cursor(write=True) as connection:
            row = self._live(connection, key)
            if row is None:
                raise ValueError(f"Key '{key}' not found")
            value = pickle.loads(row[0]) + delta
            connection.execute(
                "UPDATE cache SET value = ? WHERE key = ?",
                (pickle.dumps(value, pickle.HIGHEST_PROTOCOL), key),
            )
        return value

    def set(
        self,
        key: str,
        value: Any,
        timeout: Any = DEFAULT_TIMEOUT,
        version: int | None = None,
    ) -> None:
        key = self.make_and_validate_key(key, version=version)
        try:
            with self._cursor(write=True) as connection:
                self._write(connection, key, value, timeout)
        except CacheUnavailable:
            logger.warning("Cache write of %s failed", key, exc_info=True)

    def touch(
        self, key: str, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> bool:
        key = self.make_and_validate_key(key, version=version)
        try:
            with self._cursor(write=True) as connection:
                if self._live(connection, key) is None:
                    return False
                connection.execute(
                    "UPDATE cache SET expires = ? WHERE key = ?",
                    (self.get_backend_timeout(timeout), key),
                )
                return True
        except CacheUnavailable:
            logger.warning("Cache touch of %s failed", key, exc_info=True)
            return False

    def delete(self, key: str, version: int | None = None) -> bool:
        key = self.make_and_validate_key(key, version=version)
        try:
            with self._cursor() as connection:
                deleted = connection.execute("DELETE FROM cache WHERE key = ?", (key,))
                return deleted.rowcount > 0
        except CacheUnavailable:
            logger.warning("Cache delete of %s failed", key, exc_info=True)
            return False

    def clear(self) -> None:
        with self._cursor() as connection:
            connection.execute("DELETE FROM cache")

    def close(self, **kwargs: Any) -> None:
        """Kept open between requests: opening costs more than the request's
        use of it. Forked processes open their own (_connect)."""


class RedisCache(DjangoRedisCache):
    """Django's Redis cache, failing as SQLiteCache does when Redis cannot be
    reached (stopped, restarting, out of the network): a read is a miss and
    a write or delete is skipped, each logged, so that every page that only
    uses the cache to go faster (Wagtail's site lookup, the admin frame's
    menu, a cached session) still answers; the counter operations (`add`,
    `incr`) and `clear` raise CacheUnavailable, so that a limiter knows it
    does not know and sign-in fails closed (portal.http). Django's own
    raised on every call: with Redis stopped every page was a 503, and
    saving a user failed on the cache invalidation its signal does.

    Only connection failures are caught (redis-py's ConnectionError and
    TimeoutError); anything else (a bad key, a value that will not pickle)
    is a bug and raises.
    """

    def _failed(self, action: str, key: Any, error: Exception) -> None:
        logger.warning("Cache %s of %s failed: %r", action, key, error)

    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        try:
            return super().get(key, default, version)
        except _REDIS_DOWN as error:
            self._failed("read", key, error)
            return default

    def get_many(self, keys: Any, version: int | None = None) -> dict[Any, Any]:
        try:
            return super().get_many(keys, version)
        except _REDIS_DOWN as error:
            self._failed("read", keys, error)
            return {}

    def has_key(self, key: Any, version: int | None = None) -> bool:
        try:
            return super().has_key(key, version)
        except _REDIS_DOWN as error:
            self._failed("read", key, error)
            return False

    def set(
        self,
        key: Any,
        value: Any,
        timeout: Any = DEFAULT_TIMEOUT,
        version: int | None = None,
    ) -> None:
        try:
            super().set(key, value, timeout, version)
        except _REDIS_DOWN as error:
            self._failed("write", key, error)

    def set_many(
        self, data: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> list[Any]:
        try:
            return super().set_many(data, timeout, version)
        except _REDIS_DOWN as error:
            self._failed("write", list(data), error)
            return list(data)

    def touch(
        self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> bool:
        try:
            return super().touch(key, timeout, version)
        except _REDIS_DOWN as error:
            self._failed("touch", key, error)
            return False

    def delete(self, key: Any, version: int | None = None) -> bool:
        try:
            return super().delete(key, version)
        except _REDIS_DOWN as error:
            self._failed("delete", key, error)
            return False

    def delete_many(self, keys: Any, version: int | None = None) -> None:
        try:
            super().delete_many(keys, version)
        except _REDIS_DOWN as error:
            self._failed("delete", keys, error)

    def add(
        self,
        key: Any,
        value: Any,
        timeout: Any = DEFAULT_TIMEOUT,
        version: int | None = None,
    ) -> bool:
        try:
            return super().add(key, value, timeout, version)
        except _REDIS_DOWN as error:
            raise CacheUnavailable(f"add {key}: {error!r}") from error

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        try:
            return super().incr(key, delta, version)
        except _REDIS_DOWN as error:
            raise CacheUnavailable(f"incr {key}: {error!r}") from error

    def clear(self) -> None:
        try:
            super().clear()
        except _REDIS_DOWN as error:
            raise CacheUnavailable(f"clear: {error!r}") from error


def _redis_down_errors() -> tuple[type[Exception], ...]:
    from redis.exceptions import ConnectionError, TimeoutError

    return (ConnectionError, TimeoutError)


_REDIS_DOWN = _redis_down_errors()

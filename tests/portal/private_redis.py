"""A private `redis-server` on a free port, for tests that stop Redis or kill
a worker in the middle of its work: the shared Redis of the CI's second run
(port 6379) is never stopped, flushed or left with a dead worker's messages.

`redis_servers` makes fixtures; `celery_broker(url)` points this process's
Celery app at another broker for the length of a test.
"""

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from portal.celery import app as celery_app
from tests.courses.test_certificate_worker import Worker

REDIS_SERVER = shutil.which("redis-server")
#: The tests run wherever the binary is; the Redis run (REDIS_URL set, as in
#: CI) must have it, so there they fail instead of skipping.
requires_redis_server = pytest.mark.skipif(
    REDIS_SERVER is None and not os.environ.get("REDIS_URL"),
    reason="needs the redis-server program (the CI installs it for both runs)",
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RedisServer:
    """One redis-server process on 127.0.0.1:`port`, without persistence
    (as a restarted server without a disk: what was queued is gone)."""

    def __init__(self, port: int, log_path: str) -> None:
        self.port = port
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        if REDIS_SERVER is None:
            pytest.fail("redis-server is not installed; the Redis run needs it")
        with open(self.log_path, "a") as log:
            self.process = subprocess.Popen(
                [
                    REDIS_SERVER,
                    "--port",
                    str(self.port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--daemonize",
                    "no",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.ping():
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        pytest.fail(f"redis-server did not start on port {self.port}")

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL) and wait until the port is
        closed: from here on a client's connection is refused."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None


@contextmanager
def redis_servers(tmp_path: Path) -> Iterator[Callable[[], RedisServer]]:
    """For a fixture: starts private redis-servers on demand, and stops them
    all at the end."""
    servers: list[RedisServer] = []

    def start() -> RedisServer:
        server = RedisServer(free_port(), str(tmp_path / f"redis-{len(servers)}.log"))
        servers.append(server)
        server.start()
        return server

    try:
        yield start
    finally:
        for server in servers:
            server.stop()


def _reset_broker_pools() -> None:
    # The app keeps its connection and producer pools for the URL it first
    # used; dropped, they are taken again for the URL now configured. Not
    # closed: kombu keeps them per URL and hands the same ones out again.
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@contextmanager
def celery_broker(url: str) -> Iterator[None]:
    """This process's Celery app sends to `url` (tasks enqueued on commit,
    the sweeps called here), not to the run's broker; always eager off."""
    saved = {key: celery_app.conf[key] for key in ("broker_url", "task_always_eager")}
    # Celery reads CELERY_BROKER_URL from the environment before its settings.
    saved_environ = os.environ.pop("CELERY_BROKER_URL", None)
    _reset_broker_pools()
    celery_app.conf.broker_url = url
    celery_app.conf.task_always_eager = False
    try:
        yield
    finally:
        _reset_broker_pools()
        celery_app.conf.update(saved)
        if saved_environ is not None:
            os.environ["CELERY_BROKER_URL"] = saved_environ


class PrivateWorker(Worker):
    """test_certificate_worker's worker (prefork, two processes, its own
    process group) with `broker` as its broker and, if given, `cache` as
    its REDIS_URL (else the run's cache, as this process)."""

    def __init__(
        self,
        tmp_path: Path,
        *,
        broker: RedisServer,
        cache: RedisServer | None = None,
        environ: dict[str, str] | None = None,
    ) -> None:
        super().__init__(tmp_path)
        self.broker, self.cache = broker, cache
        self.environ = environ or {}

    def env(self) -> dict[str, str]:
        env = {
            **super().env(),
            "CELERY_BROKER_URL": self.broker.url(0),
            **self.environ,
        }
        if self.cache is not None:
            env["REDIS_URL"] = self.cache.url(0)
        return env

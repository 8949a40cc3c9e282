"""`make run` on PostgreSQL leaves no idle connections behind (issue 16,
part 4): the development server runs each request in a thread of its own,
and a connection kept for reuse (CONN_MAX_AGE) was never reused, so every
client left one open until PostgreSQL refused new ones."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
CLIENTS = 30

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="the leak is PostgreSQL's (CI runs the suite on PostgreSQL too)",
    ),
]


def _other_connections() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return int(cursor.fetchone()[0])


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_development_server_keeps_no_connection_per_client(home):
    settings = connection.settings_dict
    url = (
        f"postgres://{settings['USER']}:{settings['PASSWORD'] or ''}@"
        f"{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}/"
        f"{settings['NAME']}"
    )
    port = _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings.dev",
        "DATABASE_URL": url,
        "PORTAL_PORT": str(port),
    }
    env.pop("CONN_MAX_AGE", None)
    before = _other_connections()
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz/", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        home_page = f"http://127.0.0.1:{port}/"
        for _ in range(CLIENTS):  # each a new client: a new connection, a thread
            with urllib.request.urlopen(home_page, timeout=20) as page:
                assert page.status == 200
        time.sleep(1)
        left = _other_connections() - before
        assert left <= 1, f"{left} connections left open by {CLIENTS} clients"
    finally:
        server.terminate()
        server.wait(timeout=10)

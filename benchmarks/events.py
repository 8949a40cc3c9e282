"""`make bench`: registrations for one event under load, on gunicorn and
PostgreSQL (issue 6, "Performance").

Run as `.venv/bin/python -m benchmarks.events`. Like benchmarks.load (whose
set-up it reuses: a throwaway PostgreSQL database, production settings over
plain HTTP, two sync gunicorn workers), it creates USERS_TOTAL signed-in
users and one event of CAPACITY places with a waiting list, then lets
CONCURRENT users at a time register through the real form: each of
CONCURRENT threads, all released together, registers its share of the users
one after another (GET the event page for the CSRF cookie, POST the
registration). Reported: the registrations per second, the p50 and p95 of
the POST, and the end state, which must be exactly CAPACITY confirmed and
the rest waiting, nobody twice (the run stops otherwise). Replaces its
section of docs/performance.md. Nothing asserts a time.

E-mails: each registration writes its confirmation e-mail to the outbox in
the request's transaction, as in production; load_settings delivers it with
an eager task to locmem on commit, inside the request (a real worker would
take that part off the request).
"""

import argparse
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

from benchmarks.load import (
    HOST,
    Skip,
    admin_sql,
    create_database,
    database_urls,
    free_port,
    gunicorn_command,
    spawn,
    stop,
    wait_until_up,
    where,
)
from benchmarks.run import BASE_DIR, REPORT, machine, percentile, replace_section

HEADING = "## Event registration under load"
CONCURRENT = 50
USERS_TOTAL = 500
CAPACITY = 100
WORKERS = 2


def prepare() -> tuple[int, str, list[tuple[int, str]]]:
    """Migrate, create the event and the users with their sessions; returns
    (event id, event path, [(user id, session key)])."""
    import datetime

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.core.management import call_command
    from django.utils import timezone
    from django.utils.module_loading import import_string

    from events.models import EventIndexPage, EventPage
    from portal.models import HomePage, User

    call_command("migrate", verbosity=0)
    home = HomePage.objects.get()
    index = home.add_child(instance=EventIndexPage(title="活动", slug="events"))
    start = timezone.now() + datetime.timedelta(days=10)
    event = index.add_child(
        instance=EventPage(
            title="4·26 知识产权宣传周 专题讲座",
            slug="lecture",
            starts_at=start,
            ends_at=start + datetime.timedelta(hours=2),
            venue="重庆市知识产权局报告厅",
            capacity=CAPACITY,
            waiting_list=True,
            training_hours=2,
        )
    )
    User.objects.bulk_create(
        User(email=f"load{n}@example.org", real_name=f"学员{n}", password="!")
        for n in range(USERS_TOTAL)
    )
    store_class = import_string(f"{settings.SESSION_ENGINE}.SessionStore")
    sessions = []
    for user in User.objects.filter(email__startswith="load").order_by("pk"):
        session = store_class()
        session[SESSION_KEY] = user._meta.pk.value_to_string(user)
        session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.save()
        sessions.append((user.pk, session.session_key))
    return event.pk, event.url, sessions


def register(
    port: int, event_id: int, event_path: str, session_key: str, cookie_name: str
) -> tuple[float, int]:
    """One user: the event page (CSRF cookie), then the registration POST.
    Returns (seconds the POST took, its status)."""
    import http.client
    from http.cookies import SimpleCookie

    connection = http.client.HTTPConnection(HOST, port, timeout=60)
    cookies = {cookie_name: session_key}

    def header() -> str:
        return "; ".join(f"{k}={v}" for k, v in cookies.items())

    try:
        connection.request("GET", event_path, headers={"Cookie": header()})
        response = connection.getresponse()
        response.read()
        for value in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(value).items():
                cookies[name] = morsel.value
        if response.status != 200 or "csrftoken" not in cookies:
            raise SystemExit(f"The event page answered {response.status}; stopping.")
        body = urllib.parse.urlencode({"csrfmiddlewaretoken": cookies["csrftoken"]})
        started = time.perf_counter()
        connection.request(
            "POST",
            f"/events/register/{event_id}/",
            body=body,
            headers={
                "Cookie": header(),
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Bench": "register",
            },
        )
        response = connection.getresponse()
        response.read()
        return time.perf_counter() - started, response.status
    finally:
        connection.close()


def run(bench_dir: Path) -> list[str]:
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    from events.models import Registration

    # Hashed static files as in production (the pages name them).
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=BASE_DIR,
        check=True,
    )
    event_id, event_path, sessions = prepare()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
        cursor.execute("SHOW server_version")
        pg_version = cursor.fetchone()[0]
    connection.close()
    logs = bench_dir / "logs"
    logs.mkdir()
    port = free_port()
    command = gunicorn_command(port, WORKERS, 1, logs)
    server = spawn(command, logs / "gunicorn.out")
    load = os.getloadavg()[0]
    try:
        wait_until_up(server, port, logs)
        shares = [sessions[i::CONCURRENT] for i in range(CONCURRENT)]
        barrier = threading.Barrier(CONCURRENT + 1)
        results: list[tuple[float, int]] = []
        failures: list[BaseException] = []
        lock = threading.Lock()

        def user_thread(share: list[tuple[int, str]]) -> None:
            try:
                barrier.wait(timeout=60)
                for _user_id, key in share:
                    result = register(
                        port, event_id, event_path, key, settings.SESSION_COOKIE_NAME
                    )
                    with lock:
                        results.append(result)
            except BaseException as error:  # noqa: BLE001 - reported below
                failures.append(error)

        threads = [
            threading.Thread(target=user_thread, args=(share,), daemon=True)
            for share in shares
        ]
        for thread in threads:
            thread.start()
        barrier.wait(timeout=60)
        started = time.perf_counter()
        for thread in threads:
            thread.join()
        seconds = time.perf_counter() - started
    finally:
        stop(server, "gunicorn")
    if failures:
        raise SystemExit(f"A user thread failed: {failures[0]!r}; stopping.")
    statuses = {status for _seconds, status in results}
    if statuses != {302}:
        raise SystemExit(f"Registration answered {sorted(statuses)}; stopping.")
    rows = list(Registration.objects.values_list("user_id", "status"))
    confirmed = sum(1 for _user, status in rows if status == "confirmed")
    waiting = sum(1 for _user, status in rows if status == "waiting")
    users = {user for user, _status in rows}
    if (confirmed, waiting, len(users), len(rows)) != (
        CAPACITY,
        USERS_TOTAL - CAPACITY,
        USERS_TOTAL,
        USERS_TOTAL,
    ):
        raise SystemExit(
            f"End state wrong: {confirmed} confirmed, {waiting} waiting, "
            f"{len(rows)} rows for {len(users)} users; stopping."
        )
    times = sorted(seconds * 1000 for seconds, _status in results)
    facts = machine()
    facts.pop("SQLite", None)
    facts["PostgreSQL"] = f"{pg_version} at {where(os.environ['DATABASE_URL'])}"
    facts["Load average (1 min) at start"] = f"{load:.2f}"
    lines = [
        "Figures from `.venv/bin/python -m benchmarks.events` (in `make bench`),",
        "which replaces this section on every run. One event of "
        f"{CAPACITY} places with a waiting list; {USERS_TOTAL} signed-in users, "
        f"{CONCURRENT} at a time (threads released together, each registering "
        "its users one after another: the event page for the CSRF cookie, then "
        "the registration POST), on gunicorn with "
        f"{WORKERS} sync workers and PostgreSQL, production settings "
        "(benchmarks.load_settings; the confirmation e-mail is delivered to "
        "locmem on commit inside the request).",
        "",
        "| measurement | value |",
        "|---|--:|",
        f"| registrations | {len(results)} |",
        f"| wall time (s) | {seconds:.1f} |",
        f"| throughput (registrations/s) | {len(results) / seconds:.1f} |",
        f"| POST p50 (ms) | {statistics.median(times):.0f} |",
        f"| POST p95 (ms) | {percentile(times, 0.95):.0f} |",
        f"| POST max (ms) | {times[-1]:.0f} |",
        "",
        f"End state checked: exactly {confirmed} confirmed, {waiting} on the "
        f"waiting list, {len(users)} users with one registration each.",
        "",
        "### Machine",
        "",
        *(f"- {key}: {value}" for key, value in facts.items()),
        "",
    ]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--no-report", action="store_true", help="print only")
    args = parser.parse_args()
    started = time.perf_counter()
    maintenance_url, database_url, name = database_urls()
    try:
        create_database(maintenance_url, name)
    except Skip as reason:
        print(f"Event registration benchmark skipped: {reason}")
        return
    bench_dir = Path(tempfile.mkdtemp(prefix="portal-bench-events-"))
    try:
        os.environ.update(
            {
                "DJANGO_SETTINGS_MODULE": "benchmarks.load_settings",
                "SECRET_KEY": secrets.token_urlsafe(50),
                "DATABASE_URL": database_url,
                "CONN_MAX_AGE": "60",
                "EMAIL_URL": "dummymail://",
                "PORTAL_VAR_DIR": str(bench_dir),
                "LOG_LEVEL": "WARNING",
            }
        )
        for unwanted in ("REDIS_URL", "CELERY_BROKER_URL", "S3_BUCKET"):
            os.environ.pop(unwanted, None)
        lines = run(bench_dir)
        print("\n".join([HEADING, "", *lines]))
        if not args.no_report:
            replace_section(HEADING, lines)
            print(f"Wrote {REPORT.relative_to(BASE_DIR)}")
    finally:
        if "django" in sys.modules:
            from django.db import connections

            connections.close_all()
        try:
            admin_sql(maintenance_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        except Exception as error:  # noqa: BLE001 - reported, the run goes on
            print(f"Could not drop the database {name}: {error}")
        shutil.rmtree(bench_dir, ignore_errors=True)
    print(f"Done in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()

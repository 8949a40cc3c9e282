"""`make bench`, second part: the learning pages under load, on gunicorn and
PostgreSQL, with the bare /healthz/ view as the floor.

Run as `.venv/bin/python -m benchmarks.load`, after benchmarks.run (which
rewrites docs/performance.md): this appends its own section, replacing the one
an earlier run appended. It creates a throwaway PostgreSQL database on the
server that DATABASE_URL names (default postgres://postgres@127.0.0.1:5432),
fills it with the demo content, 500 courses and about 5,000 enrolments, starts
gunicorn on 127.0.0.1 with benchmarks.load_settings (production, over plain
HTTP) and lets 20 logged-in users, each a thread with its own connection and
cookies, go round catalogue → course → lesson → My learning with no pause
between requests. Server, database and temporary folder go at the end, also on
failure. Without a usable PostgreSQL it writes why it skipped and exits 0.
No time is asserted: only a broken set-up (a page that is not 200, a user who
is not logged in) stops the run.
"""

import argparse
import http.client
import os
import random
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path

from benchmarks.data import add_courses, add_learners
from benchmarks.run import BASE_DIR, REPORT, machine, percentile, step

HEADING = "## Load: 20 concurrent users on gunicorn + PostgreSQL"
DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432/postgres"
HOST = "127.0.0.1"  # the only address this module sends HTTP requests to

COURSES = 500
ENROLMENTS = 5000  # in all: add_courses' learners plus the load users'
USERS = 20  # concurrent logged-in users
COURSES_EACH = 24  # each load user's enrolments: a fresh course per round
STARTED = 10  # of which with the first lesson done
COMPLETED = 3  # of which with both lessons done: the course completed
ROUNDS = 12  # timed rounds per user: USERS * ROUNDS samples of each page
FLOOR_REQUESTS = 100  # timed /healthz/ requests per user
SOLO_ROUNDS = 10  # one user alone: the time of a request without a queue
TIME_LIMIT = 90.0  # seconds: the concurrent rounds stop after this
THINK_ROUNDS = 8  # timed rounds per user with think time, after the ROUNDS
THINK_SECONDS = (1.0, 3.0)  # a user's pause before each request, uniform
THINK_TIME_LIMIT = 150.0
TARGET_P95_MS = 150.0
WORKERS = 2
THREADS = 1  # 1: gunicorn's sync worker; more: gthread

FLOOR = "healthz"
PAGES = {
    "catalogue": "course catalogue `/courses/`",
    "course": "a course",
    "lesson": "a lesson",
    "learning": "My learning `/learning/`",
}
LABELS = {**PAGES, FLOOR: "floor: bare Django view `/healthz/`"}
EXPECT = {
    "catalogue": "基准课程",
    "course": "课时",
    "lesson": "课时",
    "learning": "学时",
}

WHY_DEFAULT = (
    "Two sync workers: one process per core, each serving one request at a"
    " time (gunicorn's default worker, the one docs/configuration.md deploys)."
    " A page is Python work under its process's GIL and PostgreSQL answers"
    " on the same machine in a fraction of a millisecond, so a worker hardly"
    " waits. With the two cores busy, more processes only take turns on them:"
    " a request then waits for the CPU inside a worker instead of waiting to"
    " be accepted, and the switching costs throughput; threads (gthread)"
    " contend for their process's GIL. In repeated trials on the two-core"
    " machine these figures were first taken on, 2 sync workers gave the"
    " shortest tail and, but for one trial where 3 came level, the highest"
    " throughput; 4 and 5 sync workers served 3 to 23 % fewer requests per"
    " second, 2 gthread workers × 2 or 4 threads about a third fewer"
    " (`--workers` and `--threads` try others). Tried again after the frame"
    " cache (2026-11-27, Redis): 2 sync workers, then 3, while other test"
    " suites shared the two cores (load average 1.2, then 3.7 to 7.7); 4"
    " sync and 2 × 4 gthread were stopped unfinished at load 7.7. Those"
    " trials cannot rank the settings (the noise was larger than any"
    " difference), so the earlier choice stands. With the database on another"
    " machine, or slow outside calls, a worker waits"
    " more and 2 × cores + 1 workers pay off again. A sync worker closes the"
    " connection after each response; on 127.0.0.1 that costs a fraction of"
    " a millisecond."
)


class Skip(Exception):
    """PostgreSQL cannot be used: say why in the report, stop, exit 0."""


@dataclass
class Sample:
    key: str  # a PAGES key or FLOOR
    status: int  # 0: no response (connection error or timeout)
    seconds: float
    problem: str = ""


@dataclass
class Learner:
    """A load user: name, session cookie and the (key, path) cycle per round."""

    name: str
    session_key: str
    rounds: list[list[tuple[str, str]]]


@dataclass
class Stage:
    samples: list[Sample] = field(default_factory=list)
    seconds: float = 0.0
    cpu: dict[str, float] = field(default_factory=dict)
    stopped_early: bool = False


# --- HTTP --------------------------------------------------------------------------


class Browser:
    """One user's connection to gunicorn (kept alive where the server allows)
    and their cookies: the session, and the CSRF cookie once a page sets it."""

    def __init__(self, port: int, cookies: dict[str, str]) -> None:
        self.connection = http.client.HTTPConnection(HOST, port, timeout=30)
        self.cookies = dict(cookies)

    def get(self, key: str, path: str, tag: str) -> tuple[Sample, str]:
        headers = {
            "User-Agent": "portal-bench-load",
            "Accept": "text/html,application/json",
            # In gunicorn's access log, to tell the stages and pages apart.
            "X-Bench": f"{tag}/{key}",
        }
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        start = time.perf_counter()
        try:
            self.connection.request("GET", path, headers=headers)
            response = self.connection.getresponse()
            body = response.read()
        except (OSError, http.client.HTTPException) as error:
            self.connection.close()
            return Sample(key, 0, time.perf_counter() - start, repr(error)), ""
        elapsed = time.perf_counter() - start
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        sample = Sample(key, response.status, elapsed)
        if response.status != 200:
            sample.problem = f"{path} answered {response.status}"
        return sample, body.decode("utf-8", "replace")

    def close(self) -> None:
        self.connection.close()


def concurrently(
    browsers: list[Browser],
    work: Callable[[int, Browser, list[Sample]], None],
    server_pids: list[int],
) -> Stage:
    """Run work(i, browser, samples) in one thread per browser, all released
    at once; the stage lasts from the release to the last thread's end."""
    barrier = threading.Barrier(len(browsers) + 1)
    results: list[list[Sample]] = [[] for _ in browsers]
    failures: list[BaseException] = []

    def target(i: int) -> None:
        try:
            barrier.wait(timeout=60)
            work(i, browsers[i], results[i])
        except BaseException as error:  # noqa: BLE001 - reported below
            failures.append(error)

    threads = [
        threading.Thread(target=target, args=(i,), daemon=True)
        for i in range(len(browsers))
    ]
    for thread in threads:
        thread.start()
    before = cpu_snapshot(server_pids)
    barrier.wait(timeout=60)
    start = time.perf_counter()
    for thread in threads:
        thread.join()
    stage = Stage(seconds=time.perf_counter() - start)
    stage.cpu = cpu_use(before, cpu_snapshot(server_pids))
    if failures:
        raise SystemExit(f"A load thread failed: {failures[0]!r}; stopping.")
    stage.samples = [sample for result in results for sample in result]
    return stage


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


# --- CPU ---------------------------------------------------------------------------


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(stat[1]) == pid:
                found.append(int(entry.name))
    return found


def cpu_snapshot(pids: list[int]) -> dict[str, float]:
    """CPU seconds so far: the machine's (busy and all, from /proc/stat), this
    process's (the load generator) and the given processes' (gunicorn's
    workers). Only "self" where /proc is missing."""
    tick = os.sysconf("SC_CLK_TCK")
    snapshot = {"self": sum(os.times()[:2])}
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().split()[1:9]]
        snapshot["all"] = sum(fields) / tick
        snapshot["busy"] = (sum(fields) - fields[3] - fields[4]) / tick
        total = 0
        for pid in pids:
            stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(stat[11]) + int(stat[12])  # utime, stime
        snapshot["server"] = total / tick
    except (OSError, ValueError, IndexError):
        pass
    return snapshot


def cpu_use(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """Share of the whole machine (all cores = 100 %) used between snapshots."""
    wall = after.get("all", 0.0) - before.get("all", 0.0)
    if wall <= 0:
        return {}
    return {
        key: 100 * (after[key] - before[key]) / wall
        for key in ("busy", "self", "server")
        if key in before and key in after
    }


# --- PostgreSQL --------------------------------------------------------------------


def database_urls() -> tuple[str, str, str]:
    """(maintenance URL, throwaway database URL, its name) on the server and
    with the credentials of DATABASE_URL when it names PostgreSQL; else on
    postgres://postgres@127.0.0.1:5432. Never the database DATABASE_URL names."""
    url = os.environ.get("DATABASE_URL", "")
    scheme = urllib.parse.urlsplit(url).scheme
    if url and scheme not in ("postgres", "postgresql", "pgsql"):
        print(f"DATABASE_URL is not PostgreSQL ({scheme}:); using {DEFAULT_SERVER}")
        url = ""
    parts = urllib.parse.urlsplit(url or DEFAULT_SERVER)._replace(scheme="postgres")
    name = f"portal_bench_load_{os.getpid()}"
    return (
        parts._replace(path="/postgres").geturl(),
        parts._replace(path=f"/{name}").geturl(),
        name,
    )


def where(url: str) -> str:
    """host:port of a database URL, without credentials."""
    parts = urllib.parse.urlsplit(url)
    return f"{parts.hostname or 'localhost'}:{parts.port or 5432}"


def admin_sql(maintenance_url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(maintenance_url, autocommit=True, connect_timeout=5) as db:
        db.execute(sql)


def create_database(maintenance_url: str, name: str) -> None:
    try:
        import psycopg
    except ImportError as error:
        raise Skip("psycopg is not installed") from error
    try:
        admin_sql(maintenance_url, f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else error
        raise Skip(
            f"no connection to PostgreSQL at {where(maintenance_url)} ({first})"
        ) from error
    except psycopg.Error as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else error
        raise Skip(
            f"no database could be created on {where(maintenance_url)} ({first})"
        ) from error


# --- gunicorn ----------------------------------------------------------------------


def gunicorn_command(port: int, workers: int, threads: int, logs: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "portal.wsgi",
        "--bind",
        f"{HOST}:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        "gthread" if threads > 1 else "sync",
        "--threads",
        str(threads),
        "--timeout",
        "60",
        "--graceful-timeout",
        "5",
        "--access-logfile",
        str(logs / "access.log"),
        # The X-Bench header names stage and page; %(D)s is the time inside
        # the worker in microseconds, from request read to response written.
        "--access-logformat",
        "%({x-bench}i)s %(s)s %(D)s",
        "--error-logfile",
        str(logs / "error.log"),
        "--log-level",
        "warning",
    ]


def spawn(command: list[str], output: Path) -> subprocess.Popen:
    """Start a process in the project folder, its output going to a file."""
    with output.open("wb") as out:
        return subprocess.Popen(
            command, cwd=BASE_DIR, stdin=subprocess.DEVNULL, stdout=out, stderr=out
        )


def wait_until_up(server: subprocess.Popen, port: int, logs: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            break
        try:
            connection = http.client.HTTPConnection(HOST, port, timeout=2)
            connection.request("GET", "/healthz/", headers={"X-Bench": "start/-"})
            if connection.getresponse().status == 200:
                connection.close()
                return
            connection.close()
        except OSError:
            pass
        time.sleep(0.2)
    tail = "".join(
        (logs / name).read_text(errors="replace")[-3000:]
        for name in ("error.log", "gunicorn.out")
        if (logs / name).exists()
    )
    raise SystemExit(f"gunicorn did not answer /healthz/ within 60 s.\n{tail}")


def stop(process: subprocess.Popen, name: str) -> None:
    """SIGTERM (gunicorn: graceful stop), then SIGKILL after ten seconds."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        print(f"{name} did not stop within 10 s; killing it.")
        process.kill()
        process.wait(timeout=10)


def in_worker_ms(logs: Path) -> dict[str, list[float]]:
    """Time inside a gunicorn worker per "stage/key" from the access log."""
    times: dict[str, list[float]] = {}
    path = logs / "access.log"
    if path.exists():
        for line in path.read_text(errors="replace").splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[1] == "200" and parts[2].isdigit():
                times.setdefault(parts[0], []).append(int(parts[2]) / 1000)
    return times


# --- data --------------------------------------------------------------------------


def prepare() -> tuple[list[Learner], dict[str, str]]:
    """Migrate, fill and log in; returns the load users and data sizes."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.core.management import call_command
    from django.utils.module_loading import import_string

    from wagtail.models import Page

    from courses.demo import load_demo_content as load_demo_courses
    from courses.models import CoursePage, Enrolment, LessonPage, LessonProgress
    from portal.demo.content import load_demo_content
    from portal.models import User

    step("migrate", lambda: call_command("migrate", verbosity=0))
    step("demo content (portal.demo.content)", load_demo_content)
    step("demo courses (courses.demo)", load_demo_courses)
    others = ENROLMENTS - USERS * COURSES_EACH
    step(
        f"{COURSES} courses and {others} enrolments (benchmarks.data.add_courses)",
        add_courses,
        COURSES,
        others,
    )
    enrolled = step(
        f"{USERS} load users × {COURSES_EACH} courses (benchmarks.data.add_learners)",
        lambda: add_learners(USERS, COURSES_EACH, started=STARTED, completed=COMPLETED),
    )

    # Logged in as allauth would leave them: the session holds the user, the
    # backend and the hash of the password, which AuthenticationMiddleware
    # checks on every request.
    store_class = import_string(f"{settings.SESSION_ENGINE}.SessionStore")
    learners = []
    for user, courses in enrolled:
        session = store_class()
        session[SESSION_KEY] = user._meta.pk.value_to_string(user)
        session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.save()
        rounds = []
        for r, (course, lessons) in enumerate(courses):
            lesson = lessons[r % len(lessons)]
            rounds.append(
                [
                    ("catalogue", "/courses/"),
                    ("course", course.url),
                    ("lesson", lesson.url),
                    ("learning", "/learning/"),
                ]
            )
        for page_round in rounds:
            for _key, path in page_round:
                if not path or not path.startswith("/"):
                    raise SystemExit(f"Not a local path: {path!r}; stopping.")
        learners.append(Learner(user.real_name, session.session_key, rounds))

    sizes = {
        "Courses": f"{CoursePage.objects.live().count()} live "
        f"({CoursePage.objects.exclude(slug__startswith='bench-').count()} of "
        "them demo courses), "
        f"{LessonPage.objects.live().count()} live lessons; "
        f"{Page.objects.count()} pages in all",
        "Enrolments": f"{Enrolment.objects.count():,}, "
        f"{Enrolment.objects.filter(completed_at__isnull=False).count()} completed; "
        f"{LessonProgress.objects.count():,} lesson progress rows",
        "Users": f"{User.objects.count():,}",
        "Load users": f"{USERS}, each enrolled in {COURSES_EACH} courses: the first "
        f"lesson done in {STARTED}, both lessons (the course completed: hours "
        f"and a certificate request) in {COMPLETED}; logged in with a "
        f"server-side session ({settings.SESSION_ENGINE})",
    }
    return learners, sizes


def settle() -> None:
    """VACUUM ANALYZE, as autovacuum would have done on a site in use (query
    plans from statistics), then CHECKPOINT (where allowed), so that the
    set-up's writes are not flushed to disk while the pages are measured."""
    from django.db import DatabaseError, connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
        try:
            cursor.execute("CHECKPOINT")
        except DatabaseError as error:  # needs superuser or pg_checkpoint
            print(f" (no CHECKPOINT: {str(error).strip()})", end="")


def query_counts(learner: Learner) -> dict[str, int]:
    """SQL queries of each page for one load user, in this process on the same
    database: one request, then one more counted (CaptureQueriesContext). The
    lesson's first request is counted too ("lesson-first"): a first visit
    writes (the progress row, the last lesson), a second only reads."""
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST=HOST)
    client.cookies[settings.SESSION_COOKIE_NAME] = learner.session_key
    counts = {}
    for key, path in [*learner.rounds[-2], (FLOOR, "/healthz/")]:
        with CaptureQueriesContext(connection) as first:
            client.get(path)
        if key == "lesson":
            counts["lesson-first"] = len(first)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(path)
        if response.status_code != 200:
            raise SystemExit(f"{path} answered {response.status_code}; stopping.")
        counts[key] = len(queries)
    return counts


# --- measuring ---------------------------------------------------------------------


def check_logged_in(port: int, learners: list[Learner]) -> None:
    """Each session cookie really logs its user in: My learning answers 200
    (not a redirect to the login page) and the header shows their name."""
    for learner in learners:
        browser = Browser(port, {session_cookie(): learner.session_key})
        sample, body = browser.get("learning", "/learning/", "check")
        browser.close()
        if sample.status != 200 or learner.name not in body:
            raise SystemExit(
                f"{learner.name} is not logged in over HTTP ({sample.status}, "
                f"{sample.problem or 'name not on the page'}); stopping."
            )


def session_cookie() -> str:
    from django.conf import settings

    return settings.SESSION_COOKIE_NAME


def measure(
    port: int,
    learners: list[Learner],
    server_pids: list[int],
    rounds: int,
    think_rounds: int,
) -> dict[str, Stage]:
    browsers = [Browser(port, {session_cookie(): lr.session_key}) for lr in learners]
    stages: dict[str, Stage] = {}

    def floor_warm(i: int, browser: Browser, out: list[Sample]) -> None:
        for _ in range(2):
            browser.get(FLOOR, "/healthz/", "warm")

    def floor(i: int, browser: Browser, out: list[Sample]) -> None:
        for _ in range(FLOOR_REQUESTS):
            out.append(browser.get(FLOOR, "/healthz/", "floor")[0])

    def pages_warm(i: int, browser: Browser, out: list[Sample]) -> None:
        # The last course of each user's: the timed rounds take the first ones.
        for key, path in learners[i].rounds[-1]:
            sample, body = browser.get(key, path, "warm")
            if sample.status == 200 and EXPECT[key] not in body:
                sample.problem = f"{path} does not show {EXPECT[key]!r}"
            elif sample.status == 200 and learners[i].name not in body:
                sample.problem = f"{path} does not show {learners[i].name}"
            out.append(sample)

    deadline = 0.0
    stopped = threading.Event()

    def pages(i: int, browser: Browser, out: list[Sample]) -> None:
        for r in range(rounds):
            if time.perf_counter() > deadline:
                stopped.set()
                return
            for key, path in learners[i].rounds[r % len(learners[i].rounds)]:
                out.append(browser.get(key, path, "load")[0])

    print(f"  floor: {USERS} users × {FLOOR_REQUESTS} requests to /healthz/ …")
    concurrently(browsers, floor_warm, server_pids)
    stages["floor"] = concurrently(browsers, floor, server_pids)

    print(f"  pages: {USERS} users × 1 warm-up round …")
    warm = concurrently(browsers, pages_warm, server_pids)
    problems = [s.problem for s in warm.samples if s.problem]
    if problems:
        raise SystemExit(f"Warm-up round: {problems[0]}; stopping.")

    print(
        f"  pages: {USERS} users × {rounds} rounds of 4 pages (≤ {TIME_LIMIT:.0f} s) …"
    )
    deadline = time.perf_counter() + TIME_LIMIT
    stages["load"] = concurrently(browsers, pages, server_pids)
    stages["load"].stopped_early = stopped.is_set()
    for browser in browsers:
        browser.close()

    # (b) The same users reading between clicks: before each request a pause
    # of THINK_SECONDS (uniform, each user's own seeded sequence), on courses
    # the first stage did not visit; /healthz/ is the fifth request of each
    # round, so the floor shares the pages' conditions.
    think_deadline = 0.0
    think_stopped = threading.Event()

    def think(i: int, browser: Browser, out: list[Sample]) -> None:
        pause = random.Random(1000 + i)
        for r in range(rounds, rounds + think_rounds):
            for key, path in [*learners[i].rounds[r], (FLOOR, "/healthz/")]:
                time.sleep(pause.uniform(*THINK_SECONDS))
                if time.perf_counter() > think_deadline:
                    think_stopped.set()
                    return
                out.append(browser.get(key, path, "think")[0])

    browsers = [Browser(port, {session_cookie(): lr.session_key}) for lr in learners]
    low, high = THINK_SECONDS
    print(
        f"  think: {USERS} users × {think_rounds} rounds of 4 pages and /healthz/, "
        f"{low:.0f}–{high:.0f} s pause before each (≤ {THINK_TIME_LIMIT:.0f} s) …"
    )
    think_deadline = time.perf_counter() + THINK_TIME_LIMIT
    stages["think"] = concurrently(browsers, think, server_pids)
    stages["think"].stopped_early = think_stopped.is_set()
    for browser in browsers:
        browser.close()

    print(f"  alone: 1 user × {SOLO_ROUNDS} rounds, then /healthz/ …")
    solo = Browser(port, {session_cookie(): learners[0].session_key})
    samples = []
    for r in range(SOLO_ROUNDS):
        for key, path in learners[0].rounds[r % len(learners[0].rounds)]:
            samples.append(solo.get(key, path, "solo")[0])
    for _ in range(SOLO_ROUNDS * 2):
        samples.append(solo.get(FLOOR, "/healthz/", "solo")[0])
    solo.close()
    stages["solo"] = Stage(samples=samples)
    return stages


# --- report ------------------------------------------------------------------------


@dataclass
class Line:
    key: str
    requests: int
    errors: int
    p50: float | None
    p95: float | None
    worst: float | None
    rate: float
    worker: tuple[float, float] | None
    alone: float | None
    queries: int | None


# The two user models: (pages' stage, floor's stage) in measure().
MODELS = {"saturation": ("load", "floor"), "think": ("think", "think")}


def summarise(
    stages: dict[str, Stage],
    worker_ms: dict[str, list[float]],
    queries: dict[str, int],
    model: str,
) -> list[Line]:
    pages_stage, floor_stage = MODELS[model]
    lines = []
    for key in (FLOOR, *PAGES):
        tag = floor_stage if key == FLOOR else pages_stage
        stage = stages[tag]
        mine = [s for s in stage.samples if s.key == key]
        ok = [s.seconds * 1000 for s in mine if s.status == 200]
        alone = [
            s.seconds * 1000
            for s in stages["solo"].samples
            if s.key == key and s.status == 200
        ]
        inside = worker_ms.get(f"{tag}/{key}", [])
        lines.append(
            Line(
                key=key,
                requests=len(mine),
                errors=len(mine) - len(ok),
                p50=percentile(ok, 0.5) if ok else None,
                p95=percentile(ok, 0.95) if ok else None,
                worst=max(ok) if ok else None,
                rate=len(mine) / stage.seconds if stage.seconds else 0.0,
                worker=(percentile(inside, 0.5), percentile(inside, 0.95))
                if inside
                else None,
                alone=percentile(alone, 0.5) if alone else None,
                queries=queries.get(key),
            )
        )
    return lines


def format_table(lines: list[Line]) -> list[str]:
    def ms(value: float | None) -> str:
        return "–" if value is None else f"{value:.1f}"

    table = [
        "| page | requests | errors | p50 ms | p95 ms | max ms | req/s "
        "| in worker p50 / p95 ms | alone p50 ms | SQL queries "
        f"| p95 < {TARGET_P95_MS:.0f} ms |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|",
    ]
    for line in lines:
        met = (
            "–"
            if line.key == FLOOR or line.p95 is None
            else "yes"
            if line.p95 < TARGET_P95_MS and not line.errors
            else "**no**"
        )
        worker = f"{ms(line.worker[0])} / {ms(line.worker[1])}" if line.worker else "–"
        table.append(
            f"| {LABELS[line.key]} | {line.requests} | {line.errors} | {ms(line.p50)} "
            f"| {ms(line.p95)} | {ms(line.worst)} | {line.rate:.1f} | {worker} "
            f"| {ms(line.alone)} | {'–' if line.queries is None else line.queries} "
            f"| {met} |"
        )
    return table


def cpu_text(cpu: dict[str, float]) -> str:
    if "busy" not in cpu:
        return "not measured (no /proc)"
    parts = [f"machine {cpu['busy']:.0f} % busy (all cores = 100 %)"]
    if "server" in cpu:
        parts.append(f"gunicorn's workers {cpu['server']:.0f} %")
    parts.append(f"the load generator {cpu['self']:.0f} %")
    rest = max(0.0, cpu["busy"] - cpu.get("server", 0) - cpu["self"])
    parts.append(f"the rest (PostgreSQL, anything else running) {rest:.0f} %")
    return ", ".join(parts)


def bullet(text: str) -> list[str]:
    """A Markdown list item wrapped like the rest of docs/performance.md."""
    return textwrap.wrap(
        text,
        width=76,
        initial_indent="- ",
        subsequent_indent="  ",
        break_long_words=False,
        break_on_hyphens=False,
    )


def verdict(line: Line) -> str:
    if line.p95 is None:
        return "no successful request"
    if line.p95 < TARGET_P95_MS and not line.errors:
        return f"p95 {line.p95:.0f} ms — met"
    return (
        f"p95 {line.p95:.0f} ms — **not met** ({line.p95 - TARGET_P95_MS:+.0f} ms"
        + (f", {line.errors} errors" if line.errors else "")
        + ")"
    )


def saturation_lines(
    lines: list[Line], stages: dict[str, Stage], rounds: int, slots: int
) -> list[str]:
    """The sentences under the table of model (a)."""
    load_stage = stages["load"]
    pages = [line for line in lines if line.key != FLOOR]
    total = sum(line.requests for line in pages)
    total_rate = total / load_stage.seconds if load_stage.seconds else 0.0
    errors = sum(line.errors for line in lines)
    samples_note = (
        f"stopped by the {TIME_LIMIT:.0f} s limit before {rounds} rounds"
        if load_stage.stopped_early
        else f"{rounds} timed rounds per user"
    )
    out = bullet(
        f"The four pages together: {total} requests in "
        f"{load_stage.seconds:.1f} s, {total_rate:.1f} requests/s "
        f"({samples_note}); {errors} errors in all. This is the throughput "
        "of the machine for this mix."
    )
    out += bullet(f"CPU while the pages were measured: {cpu_text(load_stage.cpu)}.")
    out += bullet(f"CPU while the floor was measured: {cpu_text(stages['floor'].cpu)}.")
    inside = [line.worker[0] for line in pages if line.worker]
    alone = [line.alone for line in pages if line.alone is not None]
    if inside and alone:
        out += bullet(
            f"Under load a page spends {min(inside):.0f}–{max(inside):.0f} ms "
            f"(p50) in a worker; alone it takes {min(alone):.0f}–{max(alone):.0f} "
            f"ms. The rest of what a user waits is the queue: {USERS} requests "
            f"at all times for the {slots} that gunicorn serves at once. "
            f"For p95 under {TARGET_P95_MS:.0f} ms with {USERS} users who never "
            f"pause, the mix would have to run at about "
            f"{USERS / (TARGET_P95_MS / 1000):.0f} requests/s or more "
            "(Little's law), or the machine have more cores."
        )
    return out


def think_lines(lines: list[Line], stages: dict[str, Stage]) -> list[str]:
    """The sentences under the table of model (b)."""
    stage = stages["think"]
    total = sum(line.requests for line in lines)
    errors = sum(line.errors for line in lines)
    rate = total / stage.seconds if stage.seconds else 0.0
    note = (
        f" (stopped by the {THINK_TIME_LIMIT:.0f} s limit)"
        if stage.stopped_early
        else ""
    )
    return [
        *bullet(
            f"All five requests together: {total} in {stage.seconds:.1f} s, "
            f"{rate:.1f} requests/s{note}; {errors} errors in all."
        ),
        *bullet(f"CPU meanwhile: {cpu_text(stage.cpu)}."),
    ]


def target_lines(models: dict[str, list[Line]], saturation_rate: float) -> list[str]:
    """Both verdicts, and which one the target is judged against."""
    low, high = THINK_SECONDS
    out = bullet(
        f"The target is judged against (b), {USERS} users who pause "
        f"{low:.0f}–{high:.0f} s between requests: that is what "
        f'"{USERS} concurrent users" means in the usual load-testing model '
        "(the think time of Locust and JMeter), and how people use the "
        "portal: they read a page before the next click. (a) keeps "
        f"{USERS} requests in the server at every moment; it measures "
        "throughput and the queue once the server is the bottleneck. At "
        f"(a)'s {saturation_rate:.0f} requests/s, users pausing "
        f"{(low + high) / 2:.0f} s on average would number about "
        f"{saturation_rate * (low + high) / 2:.0f} before the server saturated. "
        "Both are shown, with their verdicts:"
    )
    names = {
        "think": f"(b) {USERS} users with think time",
        "saturation": f"(a) {USERS} users without think time",
    }
    for model in ("think", "saturation"):
        for line in models[model]:
            if line.key == FLOOR:
                continue
            out += bullet(f"{names[model]}, {LABELS[line.key]}: {verdict(line)}.")
    return out


def report_lines(
    *,
    figures: list[str],
    facts: dict[str, str],
    sizes: dict[str, str],
    shown: str,
    why: str,
    cache: str,
) -> list[str]:
    wrapped = textwrap.wrap  # plain paragraphs
    low, high = THINK_SECONDS
    return [
        *wrapped(
            "Figures from `.venv/bin/python -m benchmarks.load`, the second half "
            "of `make bench`, which replaces this section on every run. The "
            f"target: p95 under {TARGET_P95_MS:.0f} ms for each page with {USERS} "
            "concurrent logged-in users on a two-core machine. Two user models "
            f"in the same run, each beside the `/healthz/` floor: (a) {USERS} "
            "users who send the next request as soon as the last one has "
            f"answered (saturation: throughput), (b) {USERS} users who pause "
            f"{low:.0f}–{high:.0f} s before each request (the usual model of "
            '"concurrent users"; the target is judged against it).',
            width=76,
        ),
        "",
        "### Machine",
        "",
        *[f"- {key}: {value}" for key, value in facts.items()],
        "",
        "### Server",
        "",
        f"- `{shown}`",
        *bullet(
            "`$LOGS` is the run's temporary folder. Started from the venv with "
            "`DJANGO_SETTINGS_MODULE=benchmarks.load_settings`: production "
            "settings (DEBUG off, WhiteNoise's manifest static files after "
            "`collectstatic`, CONN_MAX_AGE 60 with health checks) over plain "
            f"HTTP, the shared cache in {cache}, sessions in the cache and "
            "written through to the database (cached_db), Celery eager, "
            "e-mail to locmem."
        ),
        *bullet(why),
        "",
        "### Data",
        "",
        *[line for key, value in sizes.items() for line in bullet(f"{key}: {value}")],
        *bullet(
            "Before gunicorn starts: `VACUUM ANALYZE` (statistics, as on a site "
            "in use) and `CHECKPOINT` (the set-up's writes flushed first)."
        ),
        "",
        "### Figures",
        "",
        *figures,
        "",
        "### How to read them",
        "",
        *bullet(
            f"{USERS} threads in the benchmark's process, one per user, each with "
            "its own connection and cookies. Each user goes round catalogue → "
            "one of their courses → one of its lessons (the visit is recorded: a "
            "write) → My learning, a different course each round, after one "
            "untimed warm-up round. In (a) they send the next request as soon "
            "as the last one has answered: no pause to read, so there are always "
            f"{USERS} requests in the server; its floor is the same {USERS} users "
            f"asking for `/healthz/` ({FLOOR_REQUESTS} each, after two untimed), "
            "a JSON view with no database access behind the same middleware: "
            "what gunicorn, Django and the client cost before any page work. "
            f"In (b) each user waits a random {low:.0f}–{high:.0f} s (uniform, "
            "seeded per user) before every request and asks for `/healthz/` "
            "as the fifth request of each round, so its floor shares the "
            "pages' conditions."
        ),
        *bullet(
            "*p50*, *p95* (nearest rank) and *max* are what a user waits, from "
            "sending the request to the last byte, queue included; *req/s* is "
            "the page's requests over the stage's duration. *In worker* is "
            "gunicorn's own time for the request (`%(D)s` in its access log), "
            "from reading it to writing the response; the difference is time "
            "spent waiting for a free worker. *Alone* is one user going round "
            "with nobody else, after the load: the page's own cost. *SQL "
            "queries* are counted in the benchmark's process on the same "
            "database for one load user (CaptureQueriesContext), the database "
            "cache's and the session's queries included."
        ),
        *bullet(
            "In (a) latency and throughput are tied (Little's law): mean "
            f"latency ≈ {USERS} / requests per second, so p95 under "
            f"{TARGET_P95_MS:.0f} ms there needs roughly "
            f"{USERS / (TARGET_P95_MS / 1000):.0f} or more requests/s of this "
            f"mix. In (b) {USERS} users ask for about {USERS} / "
            f"{(low + high) / 2:.0f} s = {USERS / ((low + high) / 2):.0f} "
            "requests/s, and what they wait is close to the *alone* time plus "
            "the chance of arriving while the workers are busy."
        ),
        *bullet(
            "The load generator, gunicorn and PostgreSQL share the machine's "
            "cores; a load average near nproc at the start means that other "
            "work shared them too, and the times are slower than the machine "
            "can do. On a shared virtual machine the same run varies by a "
            "fifth or more from one hour to the next: compare runs made "
            "one after the other."
        ),
        "",
    ]


def forget_redis_keys(url: str, prefix: str) -> None:
    """Delete this run's keys (sessions, frames) from Redis; others' stay."""
    try:
        import redis

        client = redis.Redis.from_url(url)
        for key in client.scan_iter(match=f"{prefix}:*", count=1000):
            client.delete(key)
    except Exception as error:  # noqa: BLE001 - reported, the run goes on
        print(f"Could not delete the run's Redis keys ({prefix}:*): {error}")


def append_report(lines: list[str]) -> None:
    """Put the section in docs/performance.md in place of the one an earlier
    run wrote, or at the end."""
    text = REPORT.read_text(encoding="utf-8") if REPORT.exists() else "# Performance\n"
    section = "\n".join([HEADING, "", *lines]).rstrip()
    rest = ""
    if HEADING in text:
        # Later sections (certificates, talent pool) written by the other
        # benchmarks stay where they are.
        text, _, after = text.partition(HEADING)
        following = after.find("\n## ")
        rest = after[following + 1 :] if following >= 0 else ""
    text = text.rstrip("\n") + "\n\n" + section
    if rest:
        text += "\n\n" + rest.rstrip("\n")
    REPORT.parent.mkdir(exist_ok=True)
    REPORT.write_text(text + "\n", encoding="utf-8")


# --- main --------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(
        description="Load benchmark: 20 users on gunicorn + PostgreSQL."
    )
    parser.add_argument("--workers", type=int, default=WORKERS)
    parser.add_argument(
        "--threads", type=int, default=THREADS, help="more than 1: gthread workers"
    )
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--think-rounds", type=int, default=THINK_ROUNDS)
    parser.add_argument(
        "--no-report",
        action="store_true",
        help="print the figures, leave docs/performance.md alone",
    )
    args = parser.parse_args()

    started = time.perf_counter()
    load = os.getloadavg()[0]
    maintenance_url, database_url, name = database_urls()
    try:
        create_database(maintenance_url, name)
    except Skip as reason:
        message = (
            f"Skipped: {reason}. Start PostgreSQL, or set DATABASE_URL to a "
            "server where this user may create databases, and run `make bench` "
            "again."
        )
        print(f"Load benchmark {message[0].lower()}{message[1:]}")
        if not args.no_report:
            append_report([message, ""])
            print(f"Wrote {REPORT.relative_to(BASE_DIR)}")
        return

    bench_dir = Path(tempfile.mkdtemp(prefix="portal-bench-load-"))
    print(f"Load benchmark: database {name} on {where(maintenance_url)}; {bench_dir}")
    try:
        os.environ.update(
            {
                "DJANGO_SETTINGS_MODULE": "benchmarks.load_settings",
                # One key for this process and gunicorn: the sessions made
                # here are checked there.
                "SECRET_KEY": secrets.token_urlsafe(50),
                "DATABASE_URL": database_url,
                "CONN_MAX_AGE": "60",
                # Required by production settings; load_settings uses locmem.
                "EMAIL_URL": "dummymail://",
                "PORTAL_VAR_DIR": str(bench_dir),
                "LOG_LEVEL": "WARNING",
            }
        )
        redis_url = os.environ.pop("REDIS_URL", "")
        if redis_url:
            # The shared cache on Redis, as in production, under keys of this
            # run's own (deleted at the end); Celery stays eager.
            os.environ["BENCH_REDIS_URL"] = redis_url
            os.environ["BENCH_CACHE_PREFIX"] = name
        for unwanted in ("CELERY_BROKER_URL", "S3_BUCKET"):
            os.environ.pop(unwanted, None)
        lines = run(args, bench_dir, load)
        if not args.no_report:
            append_report(lines)
            print(f"Appended to {REPORT.relative_to(BASE_DIR)}")
    finally:
        if "django" in sys.modules:
            from django.db import connections

            connections.close_all()
        if os.environ.get("BENCH_REDIS_URL"):
            forget_redis_keys(os.environ["BENCH_REDIS_URL"], name)
        try:
            admin_sql(maintenance_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        except Exception as error:  # noqa: BLE001 - reported, the run goes on
            print(f"Could not drop the database {name}: {error}")
        shutil.rmtree(bench_dir, ignore_errors=True)
    print(f"Done in {time.perf_counter() - started:.0f} s")


def run(args: argparse.Namespace, bench_dir: Path, load: float) -> list[str]:
    # Hashed, compressed static files as in production: collectstatic runs
    # beside the data set-up (it needs no database) and must end before
    # gunicorn starts.
    logs = bench_dir / "logs"
    logs.mkdir()
    collect = spawn(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        logs / "collectstatic.out",
    )
    server = None
    try:
        import django

        django.setup()

        from django.conf import settings
        from django.db import connection

        if not settings.DATABASES["default"].get("CONN_MAX_AGE"):
            raise SystemExit("CONN_MAX_AGE is off in load_settings; stopping.")
        learners, sizes = prepare()

        print("  collectstatic …", end="", flush=True)
        if collect.wait(timeout=300) != 0:
            output = (logs / "collectstatic.out").read_text(errors="replace")
            raise SystemExit(f"collectstatic failed:\n{output[-3000:]}")
        print(" done")
        # This process may have read the manifest before it was written.
        from django.contrib.staticfiles.storage import staticfiles_storage

        staticfiles_storage.hashed_files, staticfiles_storage.manifest_hash = (
            staticfiles_storage.load_manifest()
        )

        queries = query_counts(learners[0])
        step("VACUUM ANALYZE, CHECKPOINT", settle)
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            pg_version = cursor.fetchone()[0]
        connection.close()

        port = free_port()
        command = gunicorn_command(port, args.workers, args.threads, logs)
        threads = f" × {args.threads} threads" if args.threads > 1 else " (sync)"
        print(f"Starting gunicorn on {HOST}:{port}: {args.workers} workers{threads}")
        server = spawn(command, logs / "gunicorn.out")
        wait_until_up(server, port, logs)
        server_pids = children_of(server.pid)
        check_logged_in(port, learners)
        print(f"Measuring: {len(learners)} users logged in")
        stages = measure(port, learners, server_pids, args.rounds, args.think_rounds)
    finally:
        if server is not None:
            stop(server, "gunicorn")
        stop(collect, "collectstatic")

    worker_ms = in_worker_ms(logs)
    models = {model: summarise(stages, worker_ms, queries, model) for model in MODELS}
    import gunicorn

    facts = machine()
    facts.pop("SQLite", None)
    facts["PostgreSQL"] = f"{pg_version} at {where(os.environ['DATABASE_URL'])}"
    facts["gunicorn"] = gunicorn.__version__
    facts["Load average (1 min) at start"] = f"{load:.2f}"
    why = (
        WHY_DEFAULT
        if (args.workers, args.threads) == (WORKERS, THREADS)
        else "Workers and threads chosen on the command line."
    )
    shown = shlex.join(["gunicorn", *command[3:]]).replace(str(logs), "$LOGS")
    saturation = saturation_lines(
        models["saturation"], stages, args.rounds, args.workers * args.threads
    )
    saturation_rate = sum(
        line.requests for line in models["saturation"] if line.key != FLOOR
    ) / max(stages["load"].seconds, 1e-9)
    figures = [
        f"#### (a) {USERS} users, no think time (saturation)",
        "",
        *format_table(models["saturation"]),
        "",
        *saturation,
        "",
        f"#### (b) {USERS} users, {THINK_SECONDS[0]:.0f}–{THINK_SECONDS[1]:.0f} s "
        "think time before each request",
        "",
        *format_table(models["think"]),
        "",
        *think_lines(models["think"], stages),
        "",
        *query_note(queries),
        "",
        f"### Target: p95 under {TARGET_P95_MS:.0f} ms",
        "",
        *target_lines(models, saturation_rate),
    ]
    cache = (
        "Redis (REDIS_URL; this run's own key prefix)"
        if os.environ.get("BENCH_REDIS_URL")
        else "a table in the database (no REDIS_URL)"
    )
    print()
    for key, value in facts.items():
        print(f"{key}: {value}")
    print(f"Server: {shown}; cache: {cache}")
    print()
    for line in figures:
        print(line)
    return report_lines(
        figures=figures,
        facts=facts,
        sizes=sizes,
        shown=shown,
        why=why,
        cache=cache,
    )


def query_note(queries: dict[str, int]) -> list[str]:
    if "lesson-first" not in queries or "lesson" not in queries:
        return []
    return bullet(
        f"A lesson runs {queries['lesson']} queries when the learner has been "
        f"there before, {queries['lesson-first']} on a first visit (the "
        "progress row and the last lesson are written). In both timed stages "
        "each round opens a lesson the user has not visited yet; *alone* goes "
        "round stage (a)'s courses again, so its lessons are second visits."
    )


if __name__ == "__main__":
    main()

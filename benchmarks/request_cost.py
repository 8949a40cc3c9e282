"""What each request of the load scenario costs the server: CPU time and
database queries, one request at a time, so that the load benchmark's
bottleneck (gunicorn's CPU, docs/performance.md) can be taken apart.

Run as `.venv/bin/python -m benchmarks.request_cost` (PostgreSQL; Redis for
the cache and sessions when it answers). The same throwaway database, data
and production settings as benchmarks.locust_run (benchmarks.locust_settings),
but no gunicorn and no Locust: Django's test client sends the scenario's
requests in this process, each kind PER_KIND times (officials signing in,
My learning, a course, reading, video and quiz lessons, completing a
reading, a heartbeat, starting and submitting a quiz, a certificate PDF; an
enterprise user's talent searches and profiles; a visitor's home, campaign,
news, notices and events). For each kind: the process's CPU time per request
(time.process_time: Python, templates, the ORM and the database driver, not
PostgreSQL's or Redis's own work) and the number of queries. The share of
each kind in the load scenario's mix (benchmarks.locustfile's task weights)
gives the weighted mean, the figure to compare with locust_run's
"ms/request" (which adds gunicorn's own work and the cost of sharing two
cores with PostgreSQL and Locust). Replaces its section of
docs/performance.md. Nothing asserts a time.
"""

from __future__ import annotations

import argparse
import cProfile
import html
import json
import os
import pstats
import random
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

from benchmarks import load, locust_run
from benchmarks.run import BASE_DIR, machine, replace_section, step
from benchmarks.scenario_pages import (
    COMPLETE,
    EXPERT,
    QUERIES,
    START,
    SUBMIT,
    VIDEO,
    csrf_token,
    quiz_answers,
)

PROFILE_FILE = "/tmp/portal-request-cost.prof"
HEADING = "## Cost of each request (CPU and queries, one at a time)"
PER_KIND = 30
HOST = {"HTTP_HOST": "127.0.0.1"}

#: How often each kind came in a Locust run (the 150-user step of
#: benchmarks.locust_run on 2026-12-08, docs/performance.md), for the
#: weighted mean; sign-in forms and sign-outs are left out.
MIX = {
    "campaign": 146,
    "certificate PDF": 85,
    "course": 159,
    "event": 50,
    "events list": 130,
    "home": 180,
    "lesson: complete (JSON)": 127,
    "lesson: quiz": 168,
    "lesson: reading": 292,
    "lesson: video": 107,
    "lesson: video heartbeat (JSON)": 164,
    "my learning": 250,
    "news index": 48,
    "news item": 115,
    "notice": 66,
    "notices index": 60,
    "quiz: start": 153,
    "quiz: submit": 162,
    "sign in: post": 24,
    "talent: profile": 104,
    "talent: search": 156,
}


class Meter:
    """CPU time and queries of each request, by kind; a cProfile of the kinds
    named in `profile` (then their CPU times include the profiler's)."""

    def __init__(self, profile: tuple[str, ...] = ()) -> None:
        self.cpu: dict[str, list[float]] = defaultdict(list)
        self.queries: dict[str, list[int]] = defaultdict(list)
        self.profile = profile
        self.profiler = cProfile.Profile()

    def __call__(self, kind: str, send: Callable[[], Any]) -> Any:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            profiled = kind in self.profile
            started = time.process_time()
            if profiled:
                self.profiler.enable()
            response = send()
            if profiled:
                self.profiler.disable()
            self.cpu[kind].append((time.process_time() - started) * 1000)
        self.queries[kind].append(len(captured.captured_queries))
        if response.status_code >= 400:
            raise SystemExit(f"{kind}: answered {response.status_code}")
        return response


def signed_in(meter: Meter, email: str, password: str) -> Any:
    from django.test import Client

    client = Client(**HOST)
    token = csrf_token(client.get("/accounts/login/").content.decode())
    response = meter(
        "sign in: post",
        lambda: client.post(
            "/accounts/login/",
            {"login": email, "password": password, "csrfmiddlewaretoken": token},
        ),
    )
    if response.status_code != 302:
        raise SystemExit(f"{email} was not signed in")
    return client


def official(meter: Meter, client: Any, course: dict, certificate: str) -> None:
    """One pass through a course, as the scenario's official takes it."""
    meter("my learning", lambda: client.get("/learning/"))
    meter("course", lambda: client.get(course["url"]))
    lessons = course["lessons"]
    if reading := lessons.get("reading"):
        page = meter("lesson: reading", lambda: client.get(reading)).content.decode()
        if (found := COMPLETE.search(page)) and found.group(2) == "0":
            meter(
                "lesson: complete (JSON)",
                lambda: client.post(
                    found.group(1),
                    "{}",
                    content_type="application/json",
                    HTTP_ACCEPT="application/json",
                    HTTP_X_CSRFTOKEN=csrf_token(page),
                ),
            )
    if video := lessons.get("video"):
        page = meter("lesson: video", lambda: client.get(video)).content.decode()
        if player := VIDEO.search(page):
            body = {"video": html.unescape(player.group(1)), "from": 0, "to": 0}
            meter(
                "lesson: video heartbeat (JSON)",
                lambda: client.post(
                    player.group(2),
                    json.dumps(body),
                    content_type="application/json",
                    HTTP_ACCEPT="application/json",
                    HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value,
                ),
            )
    if quiz := lessons.get("quiz"):
        page = meter("lesson: quiz", lambda: client.get(quiz)).content.decode()
        start = START.search(page)
        if start and not SUBMIT.search(page):
            token = csrf_token(page)
            started = meter(
                "quiz: start",
                lambda: client.post(start.group(1), {"csrfmiddlewaretoken": token}),
            )
            # The browser follows the redirect to the quiz (not counted:
            # a quiz lesson is its own row).
            page = client.get(started["Location"]).content.decode()
        if submit := SUBMIT.search(page):
            answers = quiz_answers(page, course["answers"])
            form = {"csrfmiddlewaretoken": csrf_token(page), **answers}
            meter("quiz: submit", lambda: client.post(submit.group(1), form))
    meter(
        "certificate PDF",
        lambda: client.get(f"/certificates/{certificate}/download/"),
    )


def enterprise(meter: Meter, client: Any, talent: str, number: int) -> None:
    query = QUERIES[number % len(QUERIES)]
    params = {"q": query} if query else {}
    page = meter("talent: search", lambda: client.get(talent, params))
    if found := EXPERT.findall(page.content.decode()):
        meter("talent: profile", lambda: client.get(found[0]))


def visitor(meter: Meter, client: Any, pages: dict[str, list[str]]) -> None:
    """A new visitor (no cookie) reading the public pages. One client for
    all of them: a new test client loads the middleware again (WhiteNoise
    reads the static files' folder), which a server does once."""
    client.cookies.clear()
    for kind, key in [
        ("home", None),
        ("campaign", "campaigns"),
        ("news index", "news_index"),
        ("news item", "news"),
        ("notices index", "notice_index"),
        ("notice", "notices"),
        ("events list", "event_index"),
        ("event", "events"),
    ]:
        url = random.choice(pages[key]) if key else "/"
        meter(kind, lambda url=url: client.get(url))


def measure(data: dict, per_kind: int, profile: tuple[str, ...]) -> Meter:
    meter = Meter(profile)
    warm = Meter()  # the first of each kind fills caches: not counted
    learners = data["learners"][: per_kind + 1]
    clients = [signed_in(meter, a["email"], data["password"]) for a in learners]
    courses = data["courses"]
    official(warm, clients[0], courses[0], learners[0]["certificate"])
    for number, (client, account) in enumerate(
        zip(clients[1:], learners[1:], strict=True)
    ):
        official(meter, client, courses[number % len(courses)], account["certificate"])
    buyer = signed_in(warm, data["enterprises"][0], data["password"])
    enterprise(warm, buyer, data["talent"], 0)
    for number in range(per_kind):
        enterprise(meter, buyer, data["talent"], number)
    from django.test import Client

    reader = Client(**HOST)
    visitor(warm, reader, data["visitor"])
    for _ in range(per_kind):
        visitor(meter, reader, data["visitor"])
    return meter


def report(meter: Meter, sizes: str, per_kind: int) -> list[str]:
    rows, weighted, weights = [], 0.0, 0.0
    for kind in sorted(meter.cpu, key=lambda k: -statistics.mean(meter.cpu[k])):
        cpu, queries = meter.cpu[kind], meter.queries[kind]
        mean = statistics.mean(cpu)
        rows.append(
            f"| {kind} | {len(cpu)} | {statistics.median(cpu):.1f} | {mean:.1f} "
            f"| {statistics.mean(queries):.1f} | {MIX.get(kind, 0)} |"
        )
        weighted += MIX.get(kind, 0) * mean
        weights += MIX.get(kind, 0)
    facts = machine()
    facts.pop("SQLite", None)
    return [
        "From `.venv/bin/python -m benchmarks.request_cost` (`make bench`), "
        "which replaces this section.",
        "",
        *(f"- {key}: {value}" for key, value in facts.items()),
        f"- Data: {sizes}",
        "",
        "| request | count | CPU ms p50 | CPU ms mean | queries | in Locust's mix |",
        "|---|--:|--:|--:|--:|--:|",
        *rows,
        "",
        f"- Weighted by the Locust scenario's mix: **{weighted / weights:.1f} ms** "
        "of CPU per request in the Django process.",
        f"- {per_kind} of each kind (officials: one course each), after one "
        "of each that warms the caches; production settings "
        "(benchmarks.locust_settings) over PostgreSQL, the cache and sessions "
        "in Redis, through Django's test client in one process: gunicorn, "
        "PostgreSQL's own work and the sharing of two cores are not in these "
        "figures, so the load benchmark's ms/request is higher.",
        "",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--per-kind", type=int, default=PER_KIND)
    parser.add_argument("--no-report", action="store_true")
    parser.add_argument(
        "--profile",
        action="append",
        default=[],
        metavar="KIND",
        help="profile the requests of this kind (a row's name; repeatable): "
        "the functions that took the most time are printed, the whole profile "
        f"written to {PROFILE_FILE}; implies --no-report",
    )
    args = parser.parse_args()
    started = time.perf_counter()
    maintenance_url, database_url, name = load.database_urls()
    try:
        load.create_database(maintenance_url, name)
    except load.Skip as reason:
        print(f"Request cost benchmark skipped: {reason}")
        return
    bench_dir = Path(tempfile.mkdtemp(prefix="portal-bench-cost-"))
    redis_url = os.environ.pop("REDIS_URL", "") or locust_run.DEFAULT_REDIS
    use_redis = locust_run.redis_usable(redis_url)
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "benchmarks.locust_settings",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "DATABASE_URL": database_url,
            "CONN_MAX_AGE": "60",
            "EMAIL_URL": "dummymail://",
            "PORTAL_VAR_DIR": str(bench_dir),
            "LOG_LEVEL": "WARNING",
        }
    )
    if use_redis:
        os.environ["BENCH_REDIS_URL"] = redis_url
        os.environ["BENCH_CACHE_PREFIX"] = name
    for unwanted in ("CELERY_BROKER_URL", "S3_BUCKET"):
        os.environ.pop(unwanted, None)
    print(f"Request cost benchmark: database {name}")
    try:
        import django

        django.setup()
        from django.core.management import call_command

        random.seed(426)
        data = locust_run.scenario(
            learners=args.per_kind + 1,
            enterprises=1,
            courses=locust_run.COURSES,
            enrolments=locust_run.ENROLMENTS,
        )
        step("collectstatic", call_command, "collectstatic", "--noinput", "-v", "0")
        step("VACUUM ANALYZE, CHECKPOINT", load.settle)
        from courses.models import CoursePage, Enrolment

        sizes = (
            f"{CoursePage.objects.live().count()} courses, "
            f"{Enrolment.objects.count():,} enrolments, "
            f"{len(data['experts'])} public experts"
            + ("" if use_redis else "; the cache in the database (no Redis)")
        )
        profile = tuple(args.profile)
        meter = cast(Meter, step("the requests", measure, data, args.per_kind, profile))
        lines = report(meter, sizes, args.per_kind)
        print("\n".join(lines))
        if profile:
            meter.profiler.dump_stats(PROFILE_FILE)
            stats = pstats.Stats(meter.profiler).sort_stats("cumulative")
            stats.print_stats(rf"^{BASE_DIR}/(?!\.venv)", 40)
            stats.sort_stats("tottime").print_stats(25)
        elif not args.no_report:
            replace_section(HEADING, lines)
    finally:
        if "django" in sys.modules:
            from django.db import connections

            connections.close_all()
        if use_redis:
            load.forget_redis_keys(redis_url, name)
        load.admin_sql(
            maintenance_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
        )
        shutil.rmtree(bench_dir, ignore_errors=True)
    print(f"Done in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()

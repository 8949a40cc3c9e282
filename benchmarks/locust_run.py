"""`make bench`: the portal under a Locust scenario at rising concurrency
(issue 16), on gunicorn + PostgreSQL + Redis on this machine.

Run as `.venv/bin/python -m benchmarks.locust_run [--steps 25,50,100,200,300]
[--step-seconds 60] [--quick]`. Set-up as benchmarks.load (whose functions
it uses): a throwaway PostgreSQL database on the server of DATABASE_URL, the
demo site (every app's demo: courses, campaigns and events, the talent pool's
300 experts), 500 generated courses and about 5,000 enrolments, and the
accounts the simulated users sign in with (benchmarks.data.add_accounts:
learners with a rendered certificate each, users of a verified enterprise).
The shared cache and sessions on Redis (REDIS_URL, default
redis://127.0.0.1:6379/0) under a key prefix of this run's own, deleted at
the end; Celery eager as in benchmarks.load: nothing the scenario does
queues a task (certificates are rendered in the set-up; a quiz passed does
not complete its course, whose other lessons are not done).

Then gunicorn (sync workers, 2 × cores + 1) with benchmarks.locust_settings,
and one headless Locust run per step (benchmarks/locustfile.py), each with
fresh accounts, users spawned over about 20 s and the statistics reset once
all are running (--reset-stats), so each step reports the steady state. It
stops after the step whose p95 passes 1 s, and writes its section of
docs/performance.md. `--quick` (steps 5,10 of 20 s) is a smoke run: it checks
that the scenario runs end to end without errors and writes no figures.
Everything started is stopped at the end, also on failure; the database
goes. Only 127.0.0.1 is ever sent a request.
"""

import argparse
import csv
import json
import os
import secrets
import shlex
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from benchmarks import load
from benchmarks.data import add_accounts, add_courses
from benchmarks.run import BASE_DIR, REPORT, machine, replace_section, step

HEADING = "## Load: Locust scenario, rising concurrency (gunicorn + PostgreSQL + Redis)"
HOST = load.HOST
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"
STEPS = (25, 50, 100, 200, 300)
QUICK_STEPS = (5, 10)
STEP_SECONDS = 60
QUICK_SECONDS = 20
STOP_P95_MS = 1000.0
TARGET_USERS, TARGET_P95_MS = 200, 300.0
RAMP_SECONDS = 20  # users are spawned over about this long
PASSWORD = "Load-test-2027-pass"
COURSES, ENROLMENTS = 500, 5000


@dataclass
class StepResult:
    users: int
    rows: list[dict[str, str]] = field(default_factory=list)
    total: dict[str, str] = field(default_factory=dict)
    failures: list[dict[str, str]] = field(default_factory=list)
    exceptions: list[dict[str, str]] = field(default_factory=list)
    load: float = 0.0
    cpu: dict[str, float] = field(default_factory=dict)

    def number(self, key: str, row: dict[str, str] | None = None) -> float:
        value = (row or self.total).get(key, "") or "0"
        return float(value) if value != "N/A" else 0.0

    @property
    def p95(self) -> float:
        return self.number("95%")

    @property
    def errors(self) -> int:
        return int(self.number("Failure Count")) + sum(
            int(e.get("Count") or 0) for e in self.exceptions
        )

    @property
    def requests(self) -> int:
        return int(self.number("Request Count"))


# --- Set-up ------------------------------------------------------------------------


def load_demos() -> None:
    """Every app's demo content, as `manage.py load_demo` (which refuses
    production settings: the accounts it makes here are this run's own)."""
    from importlib import import_module

    from django.apps import apps

    for config in apps.get_app_configs():
        try:
            module = import_module(f"{config.name}.demo")
        except ModuleNotFoundError as error:
            if error.name != f"{config.name}.demo":
                raise
            continue
        loader = getattr(module, "load_demo_content", None)
        if loader is not None:
            loader()


def scenario(learners: int, enterprises: int, courses: int, enrolments: int) -> dict:
    """Migrate, fill, make the accounts; the addresses and answers the
    locustfile needs (written to a JSON file for it)."""
    from django.core.management import call_command

    from courses.models import CoursePage, LessonPage
    from events.models import CampaignPage, EventIndexPage, EventPage
    from portal.models import NewsIndexPage, NewsPage, NoticeIndexPage, NoticePage
    from talentpool.models import Expert, TalentSearchPage

    step("migrate", lambda: call_command("migrate", verbosity=0))
    step("demo content (every app's demo)", load_demos)
    step(
        f"{courses} courses, {enrolments} enrolments (benchmarks.data)",
        add_courses,
        courses,
        enrolments,
    )
    demo_courses = list(
        CoursePage.objects.live().exclude(slug__startswith="bench-").order_by("pk")
    )
    certified = CoursePage.objects.filter(slug__startswith="bench-").earliest("pk")
    made = step(
        f"{learners} learners with a rendered certificate, {enterprises} "
        "enterprise users (benchmarks.data.add_accounts)",
        lambda: add_accounts(
            learners=learners,
            enterprises=enterprises,
            password=PASSWORD,
            courses=demo_courses,
            certified=certified,
        ),
    )
    accounts, buyers = cast(tuple[list[dict], list[str]], made)
    scenario_courses = []
    for course in demo_courses:
        lessons: dict[str, LessonPage] = {}
        for lesson in LessonPage.objects.child_of(course).live().order_by("path"):
            lessons.setdefault(lesson.kind, lesson)
        quiz = lessons.get("quiz")
        answers = {}
        if quiz is not None:
            for block in quiz.quiz_blocks():
                for item in block.value["questions"].bound_blocks:
                    question = item.value
                    if question["kind"] == "true_false":
                        answers[question["text"]] = [question["true_false_answer"]]
                    else:
                        answers[question["text"]] = [
                            o.value["text"]
                            for o in question["options"].bound_blocks
                            if o.value["correct"]
                        ]
        scenario_courses.append(
            {
                "url": course.url,
                "lessons": {kind: page.url for kind, page in lessons.items()},
                "answers": answers,
            }
        )

    step("reading lessons opened a day ago", opened_a_day_ago, demo_courses)

    def urls(model: Any, count: int = 10) -> list[str]:
        return [
            page.url for page in model.objects.live().public().order_by("-pk")[:count]
        ]

    talent = TalentSearchPage.objects.live().get()
    return {
        "password": PASSWORD,
        "learners": accounts,
        "enterprises": buyers,
        "courses": scenario_courses,
        "talent": talent.url,
        "experts": list(
            Expert.objects.filter(status=Expert.Status.PUBLIC).values_list(
                "pk", flat=True
            )[:300]
        ),
        "visitor": {
            "campaigns": urls(CampaignPage),
            "news_index": urls(NewsIndexPage, 1),
            "news": urls(NewsPage),
            "notice_index": urls(NoticeIndexPage, 1),
            "notices": urls(NoticePage),
            "event_index": urls(EventIndexPage, 1),
            "events": urls(EventPage),
        },
    }


def opened_a_day_ago(courses: list) -> None:
    """Each learner opened the first reading lesson of each course a day ago
    (as lesson_visit records it), so its minimum reading time is over and the
    page's script completes it when they read it again, as for a learner
    who comes back to a lesson. A course is never completed in the run (its
    handout, video and quiz lessons are not all done): no certificate is
    rendered in a request."""
    import datetime

    from django.utils import timezone

    from courses.models import Enrolment, LessonPage, LessonProgress

    day_ago = timezone.now() - datetime.timedelta(days=1)
    rows = []
    for course in courses:
        lesson = next(
            (
                page
                for page in LessonPage.objects.child_of(course).live().order_by("path")
                if page.kind == "reading"
            ),
            None,
        )
        if lesson is None:
            continue
        for enrolment in Enrolment.objects.filter(
            course_key=course.pk, user__email__endswith="@load.example.org"
        ):
            rows.append(
                LessonProgress(
                    enrolment=enrolment,
                    lesson=lesson,
                    lesson_key=lesson.pk,
                    lesson_title=lesson.title,
                    started_at=day_ago,
                )
            )
    LessonProgress.objects.bulk_create(rows, ignore_conflicts=True)


def redis_usable(url: str) -> bool:
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except Exception as error:  # noqa: BLE001 - reported, the run goes on
        print(
            f"Redis at {url} cannot be used ({error}); the cache stays in the database"
        )
        return False
    return True


# --- Locust ------------------------------------------------------------------------


def worker_pids(master: int) -> list[int]:
    """gunicorn's workers: the master's children."""
    try:
        children = Path(f"/proc/{master}/task/{master}/children").read_text()
    except OSError:
        return []
    return [int(pid) for pid in children.split()]


def run_step(
    users: int,
    seconds: int,
    port: int,
    offset: int,
    data: Path,
    out: Path,
    workers: list[int],
) -> StepResult:
    """One headless Locust run of `users` users; its statistics, and where
    the machine's CPU went meanwhile (gunicorn's workers, Locust)."""
    rate = max(1.0, users / RAMP_SECONDS)
    ramp = users / rate
    prefix = out / f"step-{users}"
    command = [
        str(Path(sys.executable).with_name("locust")),
        "-f",
        str(BASE_DIR / "benchmarks" / "locustfile.py"),
        "--headless",
        "--host",
        f"http://{HOST}:{port}",
        "-u",
        str(users),
        "-r",
        f"{rate:g}",
        "-t",
        f"{int(ramp + seconds + 1)}s",
        "--reset-stats",
        "--csv",
        str(prefix),
        "--only-summary",
        "--stop-timeout",
        "5",
        "--loglevel",
        "WARNING",
    ]
    env = {
        **os.environ,
        "LOCUST_SCENARIO": str(data),
        "LOCUST_ACCOUNT_OFFSET": str(offset),
    }
    load_at_start = os.getloadavg()[0]
    with (out / f"step-{users}.log").open("wb") as log:
        locust = subprocess.Popen(
            command,
            cwd=BASE_DIR,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
        )
        try:
            # CPU over the steady part only (as the statistics, reset once
            # every user runs): from just after the ramp to just before the end.
            time.sleep(ramp + 2)
            before = load.cpu_snapshot(workers)
            locust_before = load.cpu_snapshot([locust.pid]).get("server", 0.0)
            time.sleep(max(1, seconds - 4))
            after = load.cpu_snapshot(workers)
            locust_after = load.cpu_snapshot([locust.pid]).get("server", 0.0)
            returncode = locust.wait(timeout=seconds + 120)
        finally:
            if locust.poll() is None:
                locust.kill()
                locust.wait()
    cpu = load.cpu_use(before, after)
    wall = after.get("all", 0.0) - before.get("all", 0.0)
    if wall > 0:
        cpu["locust"] = 100 * (locust_after - locust_before) / wall
        # gunicorn's CPU seconds a second of the window (÷ req/s = per request).
        cpu["server_rate"] = (
            (after.get("server", 0.0) - before.get("server", 0.0))
            * (os.cpu_count() or 1)
            / wall
        )
    stats = prefix.with_name(prefix.name + "_stats.csv")
    if not stats.exists():
        tail = (out / f"step-{users}.log").read_text(errors="replace")[-3000:]
        raise SystemExit(f"Locust wrote no statistics (exit {returncode}):\n{tail}")
    result = StepResult(users=users, load=load_at_start, cpu=cpu)
    with stats.open(newline="") as handle:
        for row in csv.DictReader(handle):
            if row["Name"] == "Aggregated":
                result.total = row
            else:
                result.rows.append(row)
    failures = prefix.with_name(prefix.name + "_failures.csv")
    if failures.exists():
        with failures.open(newline="") as handle:
            result.failures = list(csv.DictReader(handle))
    # An exception in a simulated user's code (not a failed request) stops
    # that user: it is an error of the step, as a failed request is.
    exceptions = prefix.with_name(prefix.name + "_exceptions.csv")
    if exceptions.exists():
        with exceptions.open(newline="") as handle:
            result.exceptions = list(csv.DictReader(handle))
    return result


# --- Report ------------------------------------------------------------------------


def slowest(result: StepResult, count: int = 3) -> str:
    rows = sorted(result.rows, key=lambda r: -result.number("95%", r))[:count]
    return "; ".join(f"{r['Name']} {result.number('95%', r):.0f}" for r in rows)


def cpu_summary(result: StepResult) -> str:
    """Where the two cores went during the step (the whole machine = 100 %),
    and gunicorn's CPU time per request."""
    cpu = result.cpu
    if "busy" not in cpu:
        return "not measured"
    rate = result.number("Requests/s")
    per_request = (
        f", {1000 * cpu['server_rate'] / rate:.0f} ms/request"
        if rate and "server_rate" in cpu
        else ""
    )
    return (
        f"busy {cpu['busy']:.0f} %: gunicorn {cpu.get('server', 0):.0f} %"
        f"{per_request}, Locust {cpu.get('locust', 0):.0f} %"
    )


def table(results: list[StepResult]) -> list[str]:
    lines = [
        "| users | requests | req/s | p50 ms | p95 ms | p99 ms | errors "
        "| CPU (all cores = 100 %) | slowest (p95 ms) |",
        "|--:|--:|--:|--:|--:|--:|--:|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r.users} | {r.requests} | {r.number('Requests/s'):.1f} "
            f"| {r.number('50%'):.0f} | {r.p95:.0f} | {r.number('99%'):.0f} "
            f"| {r.errors} | {cpu_summary(r)} | {slowest(r)} |"
        )
    return lines


def rows_table(result: StepResult) -> list[str]:
    lines = [
        f"Each request at {result.users} users:",
        "",
        "| request | count | errors | p50 ms | p95 ms | p99 ms | max ms |",
        "|---|--:|--:|--:|--:|--:|--:|",
    ]
    for r in sorted(result.rows, key=lambda r: r["Name"]):
        lines.append(
            f"| {r['Type']} {r['Name']} | {r['Request Count']} | {r['Failure Count']} "
            f"| {result.number('50%', r):.0f} | {result.number('95%', r):.0f} "
            f"| {result.number('99%', r):.0f} "
            f"| {result.number('Max Response Time', r):.0f} |"
        )
    return lines


def how_lines(workers: int, shown: str, cache: str, sizes: str) -> list[str]:
    bullet = load.bullet
    return [
        *bullet(
            "Three kinds of user (benchmarks/locustfile.py), each pausing 1–3 s "
            "(uniform) between tasks: officials (weight 6) who sign in through "
            "the real login form and read My learning, a course, reading lessons "
            "(opened a day before in the set-up, so the page's JSON call "
            "completes them once), "
            "video lessons (the player's heartbeats), take a quiz (start, answer "
            "from the course's own questions, submit) and download their "
            "certificate PDF, and now and then sign out and in again; "
            "enterprise users (weight 1) searching the talent pool with the "
            "kinds of query tests/talentpool/relevance.py collects and opening "
            "profiles; visitors (weight 3) reading the home page, the 4·26 "
            "campaign, news, notices and events."
        ),
        *bullet(
            f"Server: `{shown}` ({workers} sync workers = 2 × cores + 1), "
            "`DJANGO_SETTINGS_MODULE=benchmarks.locust_settings`: production "
            "settings over plain HTTP, with allauth's per-address sign-in "
            "limits and the talent pool's per-user budget and daily profile "
            "cap raised (every simulated user comes from 127.0.0.1 and signs in "
            f"every few minutes); the cache and sessions in {cache}."
        ),
        *bullet(f"Data: {sizes}"),
        *bullet(
            "One Locust run per step, with accounts no earlier step used; the "
            f"users are spawned over about {RAMP_SECONDS} s and the statistics "
            "reset once all run (`--reset-stats`). *errors* are Locust's "
            "failures: a status other than the one expected, a sign-in that did "
            "not sign in, a quiz not accepted, a download that is not a PDF, "
            "and an exception in a simulated user's code. "
            "Locust (its FastHttpUser, the cheaper client), gunicorn, "
            "PostgreSQL and Redis share the two cores. *CPU* is measured over "
            "the same steady part as the figures: the machine's busy share "
            "(all cores = 100 %), gunicorn's workers' share and their CPU time "
            "per request, and Locust's share; the rest of the busy share is "
            "PostgreSQL, Redis and the system."
        ),
    ]


# --- main --------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--steps",
        default=",".join(map(str, STEPS)),
        help="users per step, comma-separated; stops after the step whose "
        f"p95 passes {STOP_P95_MS:.0f} ms",
    )
    parser.add_argument(
        "--step-seconds",
        type=int,
        help=f"default {STEP_SECONDS}, with --quick {QUICK_SECONDS}",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"smoke run: steps {QUICK_STEPS} of {QUICK_SECONDS} s on a tenth of the "
        "catalogue; no figures written",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=2 * (os.cpu_count() or 1) + 1,
        help="gunicorn sync workers (default 2 × cores + 1)",
    )
    parser.add_argument(
        "--no-report",
        action="store_true",
        help="print the figures, leave docs/performance.md alone",
    )
    args = parser.parse_args()
    steps = list(QUICK_STEPS) if args.quick else [int(s) for s in args.steps.split(",")]
    seconds = args.step_seconds or (QUICK_SECONDS if args.quick else STEP_SECONDS)

    started = time.perf_counter()
    maintenance_url, database_url, name = load.database_urls()
    try:
        load.create_database(maintenance_url, name)
    except load.Skip as reason:
        print(f"Locust benchmark skipped: {reason}")
        if not args.no_report:
            replace_section(HEADING, [f"Skipped: {reason}. Start PostgreSQL.", ""])
        return
    bench_dir = Path(tempfile.mkdtemp(prefix="portal-bench-locust-"))
    redis_url = os.environ.pop("REDIS_URL", "") or DEFAULT_REDIS
    use_redis = redis_usable(redis_url)
    print(f"Locust benchmark: database {name}; {bench_dir}")
    try:
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
        lines = run(args, steps, seconds, bench_dir, use_redis)
        if not args.no_report:
            replace_section(HEADING, lines)
            print(f"Wrote {REPORT.relative_to(BASE_DIR)}")
    finally:
        if "django" in sys.modules:
            from django.db import connections

            connections.close_all()
        if use_redis:
            load.forget_redis_keys(redis_url, name)
        try:
            load.admin_sql(
                maintenance_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
            )
        except Exception as error:  # noqa: BLE001 - reported
            print(f"Could not drop the database {name}: {error}")
        shutil.rmtree(bench_dir, ignore_errors=True)
    print(f"Done in {time.perf_counter() - started:.0f} s")


def run(
    args: argparse.Namespace,
    steps: list[int],
    seconds: int,
    bench_dir: Path,
    use_redis: bool,
) -> list[str]:
    logs = bench_dir / "logs"
    logs.mkdir()
    collect = load.spawn(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        logs / "collectstatic.out",
    )
    server = None
    results: list[StepResult] = []
    try:
        import django

        django.setup()
        from django.db import connection

        # Fresh accounts for every step: as many as all its users could need.
        total = sum(steps)
        # A smoke run needs no full catalogue: a tenth of it.
        scale = 10 if args.quick else 1
        data = scenario(
            learners=total,
            enterprises=total,
            courses=COURSES // scale,
            enrolments=ENROLMENTS // scale,
        )
        data_file = bench_dir / "scenario.json"
        data_file.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        from courses.models import CoursePage, Enrolment

        sizes = (
            f"{CoursePage.objects.live().count()} courses, "
            f"{Enrolment.objects.count():,} enrolments, {len(data['experts'])} "
            f"public experts; {total} learner and {total} enterprise accounts."
            + (" (A smoke run's tenth of the catalogue.)" if args.quick else "")
        )
        if collect.wait(timeout=300) != 0:
            raise SystemExit("collectstatic failed")
        step("VACUUM ANALYZE, CHECKPOINT", load.settle)
        connection.close()

        port = load.free_port()
        command = load.gunicorn_command(port, args.workers, 1, logs)
        server = load.spawn(command, logs / "gunicorn.out")
        load.wait_until_up(server, port, logs)
        print(f"gunicorn on {HOST}:{port}, {args.workers} sync workers")
        offset = 0
        for users in steps:
            print(f"  step: {users} users, {seconds} s …", end="", flush=True)
            workers = worker_pids(server.pid)
            result = run_step(users, seconds, port, offset, data_file, logs, workers)
            offset += users
            results.append(result)
            print(
                f" {result.requests} requests, {result.number('Requests/s'):.1f}/s, "
                f"p50 {result.number('50%'):.0f} ms, p95 {result.p95:.0f} ms, "
                f"{result.errors} errors; CPU {cpu_summary(result)}"
            )
            for row in sorted(result.rows, key=lambda r: r["Name"]):
                print(
                    f"    {row['Type']} {row['Name']}: {row['Request Count']} "
                    f"requests, {row['Failure Count']} failures, "
                    f"p95 {result.number('95%', row):.0f} ms"
                )
            for exception in result.exceptions[:5]:
                print(
                    f"    {exception.get('Count')} × exception "
                    f"{exception.get('Message')}\n{exception.get('Traceback')}"
                )
            for failure in result.failures[:10]:
                print(
                    f"    {failure.get('Occurrences')} × {failure.get('Method')} "
                    f"{failure.get('Name')}: {failure.get('Error')}"
                )
            # A smoke run goes through its steps whatever the times (on a
            # busy machine they mean nothing).
            if result.p95 > STOP_P95_MS and not args.quick:
                print(f"  p95 passed {STOP_P95_MS:.0f} ms: stopping")
                break
    finally:
        if server is not None:
            load.stop(server, "gunicorn")
        load.stop(collect, "collectstatic")

    facts = machine()
    facts.pop("SQLite", None)
    shown = shlex.join(["gunicorn", *command[3:]]).replace(str(logs), "$LOGS")
    cache = "Redis (this run's own key prefix)" if use_redis else "the database"
    how = how_lines(args.workers, shown, cache, sizes)
    errors = sum(r.errors for r in results)
    if args.quick:
        return [
            *textwrap.wrap(
                "Not measured yet — run `.venv/bin/python -m "
                "benchmarks.locust_run` on a quiet machine (it replaces this "
                "section).",
                width=76,
            ),
            "",
            *load.bullet(
                f"Smoke run only (`--quick`, {facts['Date']}, on a machine busy "
                f"with other work): steps {', '.join(map(str, steps))} users of "
                f"{seconds} s ran end to end, {sum(r.requests for r in results)} "
                f"requests, {errors} errors. Its times are not results."
            ),
            "",
            *how,
            "",
        ]
    target = next((r for r in results if r.users == TARGET_USERS), None)
    verdict = (
        f"not reached (no {TARGET_USERS}-user step ran)"
        if target is None
        else (
            f"p95 {target.p95:.0f} ms, {target.errors} errors — "
            + (
                "met"
                if target.p95 < TARGET_P95_MS and not target.errors
                else "**not met**"
            )
        )
    )
    return [
        f"From `.venv/bin/python -m benchmarks.locust_run` (`make bench`), which "
        "replaces this section. Target: "
        f"{TARGET_USERS} concurrent users with 1–3 s think time at p95 under "
        f"{TARGET_P95_MS:.0f} ms with no errors; the steps rise until p95 "
        f"passes {STOP_P95_MS / 1000:.0f} s.",
        "",
        *[f"- {key}: {value}" for key, value in facts.items()],
        "",
        *table(results),
        "",
        f"- Target at {TARGET_USERS} users: {verdict}.",
        "",
        *rows_table(results[-1]),
        "",
        *how,
        "",
    ]


if __name__ == "__main__":
    main()

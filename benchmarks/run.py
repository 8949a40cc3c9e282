"""`make bench`: time the portal's main pages and its e-mail outbox.

Run as `.venv/bin/python -m benchmarks.run`. It builds a throwaway SQLite
database in a temporary folder (benchmarks.settings, on top of the test
settings: Celery eager, e-mail delivered to locmem), fills it with the
project's own demo content and factories, measures, prints a table and writes
docs/performance.md. Nothing here asserts a time: the figures are for reading,
and only a broken set-up (a page that is not 200, a search with no results, an
e-mail left undelivered) stops the run.
"""

import datetime
import math
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.data import add_courses

BASE_DIR = Path(__file__).resolve().parent.parent
REPORT = BASE_DIR / "docs" / "performance.md"

REQUESTS = 30  # timed requests per page and size
WARMUP = 3  # untimed requests first: Wagtail and Django fill their caches
PROBES = 3  # extra requests to count queries and trace memory
SIZES = (10, 200)  # news items on the site
EMAILS = 500
SEARCH_QUERY = "知识产权"
COURSES = 500
ENROLMENTS = 5000


@dataclass
class Row:
    """One measured line of the table."""

    name: str
    size: str
    median_ms: float | None = None
    p95_ms: float | None = None
    queries: int | None = None
    peak_kib: float | None = None
    rate: str = ""
    notes: list[str] = field(default_factory=list)


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile: with 30 samples, p95 is the 29th smallest."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def measure_page(  # type: ignore[no-untyped-def]
    client, url: str, name: str, size: str, *, expect: str = ""
) -> Row:
    """Latency, SQL queries and peak memory of GET url.

    Three separate passes, so that one instrument does not slow the others:
    plain timed requests, then requests under CaptureQueriesContext, then
    requests under tracemalloc. `expect` must appear in the first response.
    """
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def get():  # type: ignore[no-untyped-def]
        response = client.get(url)
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code}; stopping.")
        return response

    if expect not in get().content.decode():
        raise SystemExit(f"{url} does not show {expect!r}; stopping.")
    for _ in range(WARMUP - 1):
        get()
    timings = []
    for _ in range(REQUESTS):
        start = time.perf_counter()
        get()
        timings.append(time.perf_counter() - start)

    counts = []
    for _ in range(PROBES):
        with CaptureQueriesContext(connection) as queries:
            get()
        counts.append(len(queries))

    peaks = []
    tracemalloc.start()
    for _ in range(PROBES):
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        get()
        peaks.append(tracemalloc.get_traced_memory()[1] - before)
    tracemalloc.stop()

    row = Row(
        name=name,
        size=size,
        median_ms=statistics.median(timings) * 1000,
        p95_ms=percentile(timings, 0.95) * 1000,
        queries=max(counts),
        peak_kib=max(peaks) / 1024,
    )
    if len(set(counts)) > 1:
        row.notes.append(f"query count varied between requests: {counts}")
    return row


def add_news(news_index, count: int) -> None:  # type: ignore[no-untyped-def]
    """Publish `count` more news items under the news index (testing.factories)."""
    from testing.factories import NewsPageFactory

    for _ in range(count):
        NewsPageFactory(
            parent=news_index,
            summary="全市知识产权工作动态：培训、宣传和人才库建设。",
            source="市知识产权局",
            body=[
                {
                    "type": "paragraph",
                    "value": "<p>围绕知识产权创造、运用、保护和管理，"
                    "面向企业管理人员和专业技术人员开展专题培训。</p>",
                }
            ],
        )


def measure_outbox(count: int) -> list[Row]:
    """send_mail `count` times outside a transaction, then `count` times inside
    one; each message becomes an OutgoingEmail row that the eager task delivers
    to locmem on commit. Timed first, then again under tracemalloc."""
    from django.core import mail
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from portal.models import OutgoingEmail

    def send_one(i: int) -> None:
        mail.send_mail(
            subject=f"培训报名确认 {i}",
            message="您已报名知识产权专题培训班。请按时参加。\n\n市知识产权局",
            from_email=None,
            recipient_list=[f"trainee{i}@example.org"],
        )

    def each_commits() -> None:
        for i in range(count):
            send_one(i)

    def one_transaction() -> None:
        with transaction.atomic():
            for i in range(count):
                send_one(i)

    rows = []
    for label, run in (
        ("autocommit, one send_mail each", each_commits),
        ("one transaction, delivered on commit", one_transaction),
    ):
        OutgoingEmail.objects.all().delete()
        mail.outbox = []
        with CaptureQueriesContext(connection) as queries:
            send_one(-1)
        per_email = len(queries)
        OutgoingEmail.objects.all().delete()
        mail.outbox = []

        start = time.perf_counter()
        run()
        elapsed = time.perf_counter() - start
        sent = OutgoingEmail.objects.filter(status=OutgoingEmail.Status.SENT).count()
        if sent != count or len(mail.outbox) != count:
            raise SystemExit(
                f"Outbox: {sent} rows sent and {len(mail.outbox)} delivered "
                f"of {count}; stopping."
            )

        OutgoingEmail.objects.all().delete()
        mail.outbox = []
        tracemalloc.start()
        run()
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()

        rows.append(
            Row(
                name=f"e-mail outbox: {label}",
                size=f"{count} e-mails",
                median_ms=elapsed / count * 1000,
                queries=per_email,
                peak_kib=peak / 1024,
                rate=f"{count / elapsed:,.0f} e-mails/s",
            )
        )
    OutgoingEmail.objects.all().delete()
    mail.outbox = []
    return rows


def machine() -> dict[str, str]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        nproc = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    except OSError:
        nproc = str(os.cpu_count())
    import django

    import wagtail

    return {
        "Date": datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "CPU": f"{cpu or platform.processor() or platform.machine()}, nproc = {nproc}",
        "OS": f"{platform.system()} {platform.release()}",
        "Python": platform.python_version(),
        "SQLite": sqlite3.sqlite_version,
        "Django / Wagtail": f"{django.get_version()} / {wagtail.__version__}",
    }


def format_table(rows: list[Row]) -> list[str]:
    def number(value: float | None, fmt: str) -> str:
        return "–" if value is None else format(value, fmt)

    lines = [
        "| measurement | data | median ms | p95 ms | SQL queries "
        "| peak memory KiB | throughput |",
        "|---|---|--:|--:|--:|--:|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row.name} | {row.size} | {number(row.median_ms, '.1f')} "
            f"| {number(row.p95_ms, '.1f')} | {number(row.queries, 'd')} "
            f"| {number(row.peak_kib, ',.0f')} | {row.rate or '–'} |"
        )
    return lines


def write_report(rows: list[Row], facts: dict[str, str], checks: list[str]) -> None:
    lines = [
        "# Performance",
        "",
        "Figures from `make bench`: `.venv/bin/python -m benchmarks.run` rewrites",
        "this page, then `.venv/bin/python -m benchmarks.load` appends the last",
        "section (load on gunicorn + PostgreSQL). Run it again after a change that",
        "touches a page's queries or the outbox, and compare.",
        "",
        "## Machine",
        "",
        *[f"- {key}: {value}" for key, value in facts.items()],
        "",
        "## Figures",
        "",
        *format_table(rows),
        "",
        "## Checks",
        "",
        *[f"- {check}" for check in checks],
        "",
        "## How to read them",
        "",
        "- The run uses the test settings on a throwaway SQLite file",
        "  (`benchmarks/settings.py`): the embedded default, one process, no",
        "  network. Requests go through `django.test.Client`, so they pass every",
        "  middleware and template but no web server, TLS or network: add",
        "  gunicorn's and the proxy's time for what a browser sees.",
        f"- Each page is requested {WARMUP} times untimed (caches warm), then",
        f"  {REQUESTS} times timed: *median* is the typical request, *p95* the",
        f"  slow tail (nearest rank: the {math.ceil(0.95 * REQUESTS)}th of "
        f"{REQUESTS}).",
        f"  With {REQUESTS} samples the p95 moves with a noisy neighbour; compare",
        "  medians.",
        f"- *SQL queries* are counted on {PROBES} further requests",
        "  (`CaptureQueriesContext`); *peak memory* is the most that Python",
        "  allocated above its level at the start of one request (`tracemalloc`,",
        "  in a separate pass because tracing slows everything down). It is not",
        "  the process's resident size.",
        "- A page's query count must not grow with the number of news items: the",
        f"  {SIZES[0]}-item and {SIZES[1]}-item rows of the same page should show the",
        "  same number. If they differ, something loads per item (an N+1). Most",
        "  of a page's queries are fixed costs of Wagtail: finding the site,",
        "  routing through the page tree, the view-restriction lookup that every",
        "  `.public()` listing makes first (the home page has three listings:",
        "  news, notices and policies). The cache is a database table here, so",
        "  each cache read is a query too: the session (cached_db), the page",
        "  frame (site settings, main menu and the admin link in one read,",
        "  `portal/frame.py`) and Wagtail's site root paths. With Redis these",
        "  three are not database queries.",
        "- Search runs Wagtail's database backend (SQLite FTS5) over Chinese",
        "  bigrams (`portal/search.py`); on PostgreSQL or OpenSearch the figures",
        "  differ.",
        "- For the outbox, *median ms* is the mean time per e-mail (total time",
        "  divided by the count) and *SQL queries* those of one e-mail (insert;",
        "  then begin, select, update, commit in the delivery). Each",
        "  e-mail is a row first, then the eager Celery task delivers it on commit",
        "  to Django's locmem backend: the figure is the portal's own cost (row,",
        "  task, row update), without SMTP. With a real worker the web request",
        "  pays only for the row and the enqueue. Peak memory covers the whole",
        "  batch, including the messages kept in locmem's outbox.",
        "- A load average near or above nproc at the start means that other work",
        "  shared the CPU: the times are then slower and noisier than the machine",
        "  can do; the query counts and memory are not affected.",
        "- SQLite's speed depends on the disk under the temporary folder",
        "  (`$TMPDIR`): every commit is a write to its WAL file.",
        "",
    ]
    REPORT.parent.mkdir(exist_ok=True)
    REPORT.write_text("\n".join(lines) + other_sections(lines), encoding="utf-8")


def other_sections(lines: list[str]) -> str:
    """The sections of docs/performance.md this run does not write (the other
    benchmarks' and the hand-written ones), as they are, in their order."""
    if not REPORT.exists():
        return ""
    own = {line for line in lines if line.startswith("## ")}
    kept, keeping = [], False
    for line in REPORT.read_text(encoding="utf-8").splitlines():
        if line.startswith("# "):
            keeping = False
        elif line.startswith("## "):
            keeping = line not in own
        if keeping:
            kept.append(line)
    return "\n" + "\n".join(kept).rstrip() + "\n" if kept else ""


def replace_section(heading: str, lines: list[str]) -> None:
    """Put `heading` and `lines` in docs/performance.md in place of the section
    an earlier run wrote under that heading, or at the end; the other
    benchmarks' sections stay where they are."""
    section = [heading, "", *lines]
    text = REPORT.read_text(encoding="utf-8") if REPORT.exists() else "# Performance\n"
    if heading in text:
        before, _, after = text.partition(heading)
        following = after.find("\n## ")
        rest = after[following + 1 :] if following >= 0 else ""
        text = (
            before.rstrip()
            + "\n\n"
            + "\n".join(section)
            + ("\n" + rest if rest else "")
        )
    else:
        text = text.rstrip() + "\n\n" + "\n".join(section)
    REPORT.write_text(text, encoding="utf-8")


def step(label: str, action: Callable[..., object], *args: object) -> object:
    print(f"  {label} …", end="", flush=True)
    start = time.perf_counter()
    result = action(*args)
    print(f" {time.perf_counter() - start:.1f} s", flush=True)
    return result


def main() -> None:
    started = time.perf_counter()
    bench_dir = tempfile.mkdtemp(prefix="portal-bench-")
    os.environ["PORTAL_BENCH_DIR"] = bench_dir
    # The test settings make temporary folders when imported; made here, they
    # go when the benchmark's own folder goes.
    tempfile.tempdir = bench_dir
    load = os.getloadavg()[0]
    # Not setdefault: a DJANGO_SETTINGS_MODULE left in the shell must not point
    # the benchmark at the real database in var/.
    os.environ["DJANGO_SETTINGS_MODULE"] = "benchmarks.settings"
    (Path(bench_dir) / "static").mkdir()
    try:
        run(bench_dir, load)
    finally:
        from django.db import connections

        connections.close_all()
        shutil.rmtree(bench_dir, ignore_errors=True)
    elapsed = time.perf_counter() - started
    print(f"Done in {elapsed:.0f} s; wrote {REPORT.relative_to(BASE_DIR)}")


def run(bench_dir: str, load: float) -> None:
    import django

    django.setup()

    from django.core.management import call_command
    from django.test import Client

    from wagtail.models import Site

    from portal import selectors
    from portal.demo.content import load_demo_content
    from portal.models import NewsIndexPage, NewsPage

    print(f"Setting up in {bench_dir}")
    step("migrate", lambda: call_command("migrate", verbosity=0))
    site = Site.objects.get(is_default_site=True)
    site.hostname, site.port = "testserver", 80
    site.save()
    step("demo content (portal.demo.content)", load_demo_content)
    from courses.demo import load_demo_content as load_demo_courses

    step("demo courses (courses.demo)", load_demo_courses)
    news_index = NewsIndexPage.objects.get()
    client = Client()
    rows: list[Row] = []
    checks: list[str] = []
    queries_at: dict[str, list[int | None]] = {"home": [], "news index": []}

    for size in SIZES:
        missing = size - NewsPage.objects.live().count()
        step(f"news up to {size} (testing.factories)", add_news, news_index, missing)
        label = f"{size} news items"
        print(f"Measuring with {label}")
        home = measure_page(client, "/", "home page `/`", label, expect="知识产权新闻")
        index = measure_page(
            client, "/news/", "news index `/news/`", label, expect="知识产权新闻"
        )
        rows += [home, index]
        queries_at["home"].append(home.queries)
        queries_at["news index"].append(index.queries)

    last = math.ceil(NewsPage.objects.live().count() / news_index.per_page)
    rows.append(
        measure_page(
            client,
            f"/news/?page={last}",
            f"news index, last page `/news/?page={last}`",
            f"{SIZES[-1]} news items",
            expect="知识产权新闻",
        )
    )
    found = selectors.site_search(query=SEARCH_QUERY).count()
    if not found:
        raise SystemExit(f"Search for {SEARCH_QUERY} found nothing; stopping.")
    search = measure_page(
        client,
        f"/search/?q={SEARCH_QUERY}",
        f"site search `/search/?q={SEARCH_QUERY}`",
        f"{SIZES[-1]} news items",
        expect='class="card__title"',
    )
    search.rate = f"{found} results"
    rows.append(search)
    checks.append(
        f"Search for {SEARCH_QUERY} found {found} live pages "
        f"({NewsPage.objects.live().count()} news items plus demo pages)."
    )

    from courses.models import Enrolment

    learner, course, lesson = step(
        f"{COURSES} courses and {ENROLMENTS} enrolments (testing.courses.factories)",
        add_courses,
        COURSES,
        ENROLMENTS,
    )
    learning = Client()
    learning.force_login(learner)
    label = f"{COURSES} courses, {Enrolment.objects.count()} enrolments"
    print(f"Measuring the learning pages with {label}")
    for url, name, expect in (
        ("/courses/", "course catalogue `/courses/`", "基准课程"),
        (course.url, "a course", "课时"),
        (lesson.url, "a lesson", "课时"),
        ("/learning/", "My learning `/learning/`", "学时"),
    ):
        rows.append(measure_page(learning, url, name, label, expect=expect))

    print(f"Measuring the e-mail outbox with {EMAILS} e-mails")
    rows += measure_outbox(EMAILS)
    checks.append(
        f"Every one of the {EMAILS} e-mails of each run was marked sent and "
        "delivered to locmem."
    )

    for page, counts in queries_at.items():
        same = len(set(counts)) == 1
        sizes = " and ".join(f"{n}" for n in SIZES)
        checks.append(
            f"{page.capitalize()}: {' and '.join(str(c) for c in counts)} queries at "
            f"{sizes} news items — "
            + ("the same." if same else "NOT the same: something loads per item.")
        )
    for row in rows:
        for note in row.notes:
            checks.append(f"{row.name}, {row.size}: {note}.")

    facts = machine()
    facts["Load average (1 min) at start"] = f"{load:.2f}"
    print()
    for key, value in facts.items():
        print(f"{key}: {value}")
    print()
    for line in format_table(rows):
        print(line)
    print()
    for check in checks:
        print(f"- {check}")
    write_report(rows, facts, checks)


if __name__ == "__main__":
    main()

"""`make bench`: certificate rendering, bulk issue and worker memory.

Run as `.venv/bin/python -m benchmarks.certificates` (after benchmarks.run,
which rewrites docs/performance.md; this appends its "Certificates" section
and updates the figures block of docs/certificates.md). `--quick` (or
PORTAL_BENCH_QUICK=1) leaves out the 5,000-certificate run.

On PostgreSQL (a throwaway database on the server of DATABASE_URL) when
DATABASE_URL names one, else on an SQLite file; on Redis when REDIS_URL is
set, else on the filesystem broker. It measures:

- one certificate rendered in the process: the median of 30, unsigned and
  signed (a throwaway self-signed key);
- a bulk run for a training class with a real `celery worker` (prefork, the
  default concurrency = nproc): the wall time from certificate_batch_create
  until the batch is finished, every PDF is stored and every e-mail is in the
  outbox, for 500 certificates unsigned and signed, and 5,000 unsigned;
- the worker's memory during each run: the most its processes used together
  (PSS, shared pages counted once) and the most any one of them used (RSS).

Nothing here asserts a time; a run that does not finish within its time
limit, or leaves a certificate without its PDF, stops with an error.
"""

import argparse
import datetime
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from benchmarks.run import replace_section

BASE_DIR = Path(__file__).resolve().parent.parent
REPORT = BASE_DIR / "docs" / "performance.md"
CERTIFICATES_DOC = BASE_DIR / "docs" / "certificates.md"
SECTION = "## Certificates"
MARK_START = "<!-- benchmarks.certificates: start -->"
MARK_END = "<!-- benchmarks.certificates: end -->"

SINGLE_RUNS = 30
WARMUP = 3
BULK = 500
LARGE = 5000
#: A bulk run that takes longer than this is reported as broken.
BULK_TIME_LIMIT = {BULK: 300, LARGE: 1800}
TARGET_MS, TARGET_BULK_S, TARGET_MEMORY_MB = 150, 20, 300


@dataclass
class Bulk:
    label: str
    count: int
    seconds: float
    pss_mb: float
    rss_mb: float
    processes: int
    load: float
    #: Until every e-mail of the run was delivered (after the clock stopped).
    delivered_seconds: float = 0.0
    #: The worker's PSS when started, before the run.
    idle_pss_mb: float = 0.0
    #: The most any one pool process held alone (USS: private pages).
    uss_mb: float = 0.0


# --- Set-up ------------------------------------------------------------------------


def choose_database(bench_dir: Path) -> tuple[str, str, str | None]:
    """(DATABASE_URL for the run, what to print, maintenance URL to drop the
    throwaway PostgreSQL database afterwards, or None for SQLite)."""
    url = os.environ.get("DATABASE_URL", "")
    if urllib.parse.urlsplit(url).scheme in ("postgres", "postgresql", "pgsql"):
        import psycopg

        parts = urllib.parse.urlsplit(url)._replace(scheme="postgres")
        name = f"portal_bench_certificates_{os.getpid()}"
        maintenance = parts._replace(path="/postgres").geturl()
        with psycopg.connect(maintenance, autocommit=True, connect_timeout=5) as db:
            db.execute(f'CREATE DATABASE "{name}"')
        where = f"PostgreSQL at {parts.hostname}:{parts.port or 5432}"
        return parts._replace(path=f"/{name}").geturl(), where, maintenance
    return f"sqlite:///{bench_dir / 'bench.sqlite3'}", "SQLite (WAL)", None


def drop_database(maintenance: str, url: str) -> None:
    import psycopg

    name = urllib.parse.urlsplit(url).path.lstrip("/")
    with psycopg.connect(maintenance, autocommit=True, connect_timeout=5) as db:
        db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def signing_files(bench_dir: Path) -> dict[str, str]:
    """A throwaway self-signed RSA-2048 key and certificate, as settings."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "portal benchmark")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    key_path, cert_path = bench_dir / "signing.key", bench_dir / "signing.crt"
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return {
        "PORTAL_CERTIFICATE_SIGNING_KEY": str(key_path),
        "PORTAL_CERTIFICATE_SIGNING_CERT": str(cert_path),
    }


def training_class(count: int, label: str):  # type: ignore[no-untyped-def]
    """A training class of `count` trainees who completed its course, each
    with a pending certificate request (bulk inserts: set-up, not measured)."""
    from courses.models import (
        CertificateRequest,
        CoursePage,
        TrainingClass,
        TrainingClassMember,
    )
    from portal.models import User

    course = CoursePage.objects.first()
    klass = TrainingClass.objects.create(
        name=f"知识产权专题培训班（{label}）",
        code=f"bench-{label}",
        starts_on=datetime.date(2027, 3, 1),
        ends_on=datetime.date(2027, 4, 30),
    )
    klass.courses.add(course)
    surnames, given = "王李张刘陈杨黄赵吴周", "喆堃玥珺昇燊龑伟芳娜"
    # One name in five ends with a character that only a fallback font of
    # the certificate draws (portal.fonts): HanaMinA (𪚥,
    # Extension B), HanaMinB (𬺰, Extension F), BabelStone Han (𰀀, G).
    rare = "\U0002a6a5\U0002ceb0\U00030000"
    users = User.objects.bulk_create(
        User(
            email=f"{label}-{n}@example.org",
            real_name=surnames[n % 10]
            + given[(n // 10) % 10]
            + (rare[(n // 5) % 3] if n % 5 == 4 else given[n % 7]),
            password="!",
        )
        for n in range(count)
    )
    TrainingClassMember.objects.bulk_create(
        TrainingClassMember(training_class=klass, user=user) for user in users
    )
    CertificateRequest.objects.bulk_create(
        CertificateRequest(
            user=user,
            source_type="course",
            source_key=course.pk,
            title=course.title,
            hours=course.credit_hours,
            achieved_on=datetime.date(2027, 4, 30),
        )
        for user in users
    )
    return klass


def make_course() -> None:
    from wagtail.models import Site

    from courses.models import CourseIndexPage, CoursePage
    from portal.models import HomePage

    site = Site.objects.get(is_default_site=True)
    site.hostname, site.port = "testserver", 80
    site.save()
    home = HomePage.objects.get()
    index = home.add_child(instance=CourseIndexPage(title="课程中心", slug="courses"))
    index.add_child(
        instance=CoursePage(
            title="知识产权基础",
            slug="ip-basics",
            summary="面向公务员的知识产权入门课程。",
            credit_hours="2.0",
            pass_mark=60,
        )
    )


# --- One certificate ---------------------------------------------------------------


def single(signed: bool) -> tuple[float, float, int]:
    """(median ms, p90 ms, PDF bytes) of rendering (and signing) one
    certificate in this process, over SINGLE_RUNS certificates."""
    from courses.certificates import rendering, services, signing
    from courses.models import CertificateRequest

    signer = signing.configured_signer() if signed else None
    klass = training_class(SINGLE_RUNS + WARMUP, "one-signed" if signed else "one")
    ids = CertificateRequest.objects.filter(
        user__in=klass.members.values("user")
    ).values_list("pk", flat=True)
    certificates = [
        services.certificate_issue(request_id=pk, render=False)[0] for pk in ids
    ]
    timings, size = [], 0
    for n, certificate in enumerate(certificates):
        start = time.perf_counter()
        pdf = rendering.render_pdf(certificate)
        if signer:
            pdf = signing.sign_pdf(pdf, signer=signer)
        if n >= WARMUP:
            timings.append(time.perf_counter() - start)
        size = len(pdf)
    timings.sort()
    return (
        statistics.median(timings) * 1000,
        timings[int(len(timings) * 0.9) - 1] * 1000,
        size,
    )


# --- A real worker -----------------------------------------------------------------


def worker_pids(parent: int) -> list[int]:
    pids = [parent]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(stat[1]) == parent:
                pids.append(int(entry.name))
    return pids


def memory_kb(pid: int) -> tuple[int, int, int]:
    """(PSS, RSS, USS) of one process in KiB; zeros when it is gone."""
    pss = rss = uss = 0
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                pss = int(line.split()[1])
            elif line.startswith("Rss:"):
                rss = int(line.split()[1])
            elif line.startswith(("Private_Clean:", "Private_Dirty:")):
                uss += int(line.split()[1])
    except (OSError, ValueError):
        pass
    return pss, rss, uss


class MemoryWatch(threading.Thread):
    """Samples the worker's processes every 0.2 s until stopped."""

    def __init__(self, parent: int) -> None:
        super().__init__(daemon=True)
        self.parent = parent
        self.peak_pss = self.peak_rss = self.peak_uss = 0
        self.idle_pss = 0
        self.processes = 0
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            pids = worker_pids(self.parent)
            samples = [memory_kb(pid) for pid in pids]
            total = sum(pss for pss, _, _ in samples)
            self.idle_pss = self.idle_pss or total
            self.peak_pss = max(self.peak_pss, total)
            self.peak_rss = max(self.peak_rss, *(rss for _, rss, _ in samples))
            # pool processes only: the main one holds what they copied from it
            self.peak_uss = max(self.peak_uss, 0, *(uss for _, _, uss in samples[1:]))
            self.processes = max(self.processes, len(pids))
            time.sleep(0.2)


def start_worker(bench_dir: Path, env: dict[str, str], name: str) -> subprocess.Popen:
    from django.conf import settings

    from portal import queues

    log_path = bench_dir / f"{name}.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "portal",
                "worker",
                # The default set-up: prefork, one process per core.
                "--queues",
                ",".join(queues.all_queues(settings.CELERY_TASK_DEFAULT_QUEUE)),
                "--without-mingle",
                "--without-gossip",
                "--loglevel",
                "WARNING",
            ],
            cwd=BASE_DIR,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    # Ready when its pool processes exist (at WARNING it logs no "ready.").
    deadline = time.monotonic() + 60
    nproc = os.cpu_count() or 1
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("The worker stopped:\n" + log_path.read_text()[-3000:])
        if len(worker_pids(process.pid)) > nproc:
            time.sleep(2.0)  # the pool's processes import their modules
            return process
        time.sleep(0.2)
    stop_worker(process)
    raise SystemExit("The worker did not start:\n" + log_path.read_text()[-3000:])


def stop_worker(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def bulk(bench_dir: Path, env: dict[str, str], count: int, label: str) -> Bulk:
    """Issue a training class's certificates with a fresh worker; time it."""
    from django.db import transaction

    from courses.certificates import services
    from courses.models import Certificate, CertificateBatch
    from portal.models import OutgoingEmail

    klass = training_class(count, label)
    worker = start_worker(bench_dir, env, f"worker-{label}")
    watch = MemoryWatch(worker.pid)
    watch.start()
    load = os.getloadavg()[0]
    try:
        start = time.perf_counter()
        with transaction.atomic():
            batch = services.certificate_batch_create(training_class=klass, by=None)
        deadline = time.monotonic() + BULK_TIME_LIMIT[count]
        mine = Certificate.objects.filter(user__in=klass.members.values("user"))
        while True:
            # emailed_at is set in the transaction that puts the e-mail (with
            # the PDF attached) in the outbox.
            if (
                CertificateBatch.objects.filter(pk=batch.pk, status="done").exists()
                and mine.filter(
                    rendered_at__isnull=False, emailed_at__isnull=False
                ).count()
                == count
            ):
                break
            if time.monotonic() > deadline or worker.poll() is not None:
                progress = services.batch_progress(batch=batch)
                raise SystemExit(
                    f"{label}: not finished ({progress}); worker log in "
                    f"{bench_dir}/worker-{label}.log"
                )
            time.sleep(0.1)
        seconds = time.perf_counter() - start
        # The target counts e-mails queued (in the outbox), not delivered;
        # delivery (a task per e-mail, reading the stored PDF) is reported.
        emails = OutgoingEmail.objects.filter(
            created_at__gte=batch.created_at, status=OutgoingEmail.Status.PENDING
        )
        while emails.exists():
            if time.monotonic() > deadline or worker.poll() is not None:
                raise SystemExit(f"{label}: e-mails not delivered in time")
            time.sleep(0.1)
        delivered = time.perf_counter() - start
    finally:
        watch.stopping.set()
        watch.join()
        stop_worker(worker)
    return Bulk(
        label=label,
        count=count,
        seconds=seconds,
        pss_mb=watch.peak_pss / 1024,
        rss_mb=watch.peak_rss / 1024,
        processes=watch.processes,
        load=load,
        delivered_seconds=delivered,
        idle_pss_mb=watch.idle_pss / 1024,
        uss_mb=watch.peak_uss / 1024,
    )


# --- Report ------------------------------------------------------------------------


def report(
    facts: dict[str, str],
    singles: dict[str, tuple[float, float, int]],
    runs: list[Bulk],
) -> list[str]:
    def ok(good: bool) -> str:
        return "yes" if good else "**no**"

    lines = [
        "| measurement | unsigned | signed | target | met |",
        "|---|--:|--:|---|---|",
    ]
    unsigned, signed = singles["unsigned"], singles["signed"]
    lines.append(
        f"| one certificate, median of {SINGLE_RUNS} (ms) | {unsigned[0]:.0f} "
        f"| {signed[0]:.0f} | ≤ {TARGET_MS} ms "
        f"| {ok(max(unsigned[0], signed[0]) <= TARGET_MS)} |"
    )
    lines.append(
        f"| one certificate, p90 (ms) | {unsigned[1]:.0f} | {signed[1]:.0f} | – | – |"
    )
    lines.append(
        f"| PDF size (KiB) | {unsigned[2] / 1024:.0f} | {signed[2] / 1024:.0f} "
        "| – | – |"
    )
    by = {run.label: run for run in runs}
    pair = by.get("bulk-500"), by.get("bulk-500-signed")
    if pair[0] and pair[1]:
        lines.append(
            f"| {BULK} certificates end to end (s) | {pair[0].seconds:.1f} "
            f"| {pair[1].seconds:.1f} | ≤ {TARGET_BULK_S} s "
            f"| {ok(max(pair[0].seconds, pair[1].seconds) <= TARGET_BULK_S)} |"
        )
    lines += [
        "",
        "| bulk run | certificates | wall time s | per certificate ms "
        "| worker memory, all processes (PSS) MiB | idle worker (PSS) MiB "
        "| largest process (RSS) MiB | largest pool process alone (USS) MiB "
        "| processes | load at start | all e-mails delivered s |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for run in runs:
        lines.append(
            f"| {run.label} | {run.count:,} | {run.seconds:.1f} "
            f"| {run.seconds / run.count * 1000:.1f} | {run.pss_mb:.0f} "
            f"| {run.idle_pss_mb:.0f} | {run.rss_mb:.0f} | {run.uss_mb:.0f} "
            f"| {run.processes} | {run.load:.2f} "
            f"| {run.delivered_seconds:.1f} |"
        )
    # The target is in MB (10^6 bytes); the figures are MiB.
    limit_mib = TARGET_MEMORY_MB * 1_000_000 / 2**20
    memory_ok = all(run.pss_mb < limit_mib for run in runs)
    process_ok = all(run.rss_mb < limit_mib for run in runs)
    lines += [
        "",
        f"Worker memory below {TARGET_MEMORY_MB} MB ({limit_mib:.0f} MiB) in every "
        f"run, judged on the whole worker (PSS of all its processes, shared "
        f"pages counted once): {ok(memory_ok)} (at most "
        f"{max(run.pss_mb for run in runs):.0f} MiB). Every single process "
        f"below it (RSS): {ok(process_ok)} (at most "
        f"{max(run.rss_mb for run in runs):.0f} MiB).",
    ]
    if "bulk-500" in by and f"bulk-{LARGE}" in by:
        small, large = by["bulk-500"], by[f"bulk-{LARGE}"]
        lines.append(
            f"Flat: {LARGE:,} certificates took {large.pss_mb:.0f} MiB against "
            f"{small.pss_mb:.0f} MiB for {BULK} ({large.pss_mb / small.pss_mb:.2f}×)."
        )
    lines += ["", *[f"- {key}: {value}" for key, value in facts.items()]]
    return lines


def write(lines: list[str]) -> None:
    """Append (or replace) the Certificates section of docs/performance.md and
    the figures block of docs/certificates.md."""
    section = [
        "From `DJANGO_SETTINGS_MODULE=portal.settings.dev .venv/bin/python -m",
        "benchmarks.certificates` (as `make bench` runs it; docs/certificates.md",
        "says what is measured, why, and what was changed to get here: CID-keyed",
        "CFF font subsets, no copy of the whole font file per PDF, a PNG QR code,",
        "one font family for the common text, one commit per chunk, e-mails",
        "attaching the stored PDF by reference, WeasyPrint preloaded and",
        "gc.freeze() in the worker's main process). One learner name in five",
        "ends with a character only a fallback font draws (HanaMinA, HanaMinB,",
        "BabelStone Han), embedded as a renumbered TrueType subset. The machine",
        "has two cores and was shared with other work: the load average at the",
        "start of each run is in the table.",
        "",
        "Worker memory is read from /proc/<pid>/smaps_rollup every 0.2 s: PSS",
        "summed over the main process and its pool (a page shared by three",
        "processes counts a third in each), so the total is what the worker",
        "costs the machine; USS is what a pool process holds alone. The main",
        "process loads everything before it forks (Django, Wagtail, WeasyPrint,",
        "the fonts), so the pool shares it: what a pool process adds is the pages",
        "it writes to (new objects, reference counts of shared ones). To keep",
        "that small: pypinyin's dictionaries (~55 MiB, only for indexing an",
        "expert's name) are no longer loaded at start-up; a bulk chunk is laid",
        "out in parts of courses.tasks.RENDER_PART certificates; after every",
        "part and task a pool process collects garbage and hands freed memory",
        "back (glibc malloc_trim).",
        "",
        *lines,
        "",
    ]
    replace_section(SECTION, section)
    if CERTIFICATES_DOC.exists():
        design = CERTIFICATES_DOC.read_text(encoding="utf-8")
        if MARK_START in design and MARK_END in design:
            head, _, tail = design.partition(MARK_START)
            _, _, tail = tail.partition(MARK_END)
            CERTIFICATES_DOC.write_text(
                head + MARK_START + "\n" + "\n".join(lines) + "\n" + MARK_END + tail,
                encoding="utf-8",
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        default=os.environ.get("PORTAL_BENCH_QUICK") == "1",
        help=f"leave out the {LARGE:,}-certificate run",
    )
    quick = parser.parse_args().quick
    started = time.perf_counter()
    bench_dir = Path(tempfile.mkdtemp(prefix="portal-bench-certificates-"))
    tempfile.tempdir = str(bench_dir)
    database_url, where, maintenance = choose_database(bench_dir)
    redis = os.environ.get("REDIS_URL", "")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "benchmarks.certificates_settings",
        "DATABASE_URL": database_url,
        "PORTAL_TEST_SHARED_DIR": str(bench_dir),
        "PORTAL_BENCH_QUEUE": f"portal-bench-certificates-{os.getpid()}",
        "CELERY_BROKER_URL": redis or "filesystem://",
    }
    for key in (
        "PORTAL_CERTIFICATE_SIGNING_KEY",
        "PORTAL_CERTIFICATE_SIGNING_CERT",
        "PORTAL_CERTIFICATE_SIGNING_PKCS12",
    ):
        env.pop(key, None)
    os.environ.update(env)
    finished = False
    try:
        run(bench_dir, env, where, quick)
        finished = True
    finally:
        from django.db import connections

        connections.close_all()
        if maintenance:
            drop_database(maintenance, database_url)
        if finished:
            shutil.rmtree(bench_dir, ignore_errors=True)
        else:  # the worker's log says what went wrong
            print(f"Kept {bench_dir} for its logs")
    print(
        f"Done in {time.perf_counter() - started:.0f} s; wrote "
        f"{REPORT.relative_to(BASE_DIR)} and {CERTIFICATES_DOC.relative_to(BASE_DIR)}"
    )


def run(bench_dir: Path, env: dict[str, str], where: str, quick: bool) -> None:
    import django

    django.setup()
    from weasyprint.text.ffi import harfbuzz_subset

    from django.conf import settings
    from django.core.management import call_command
    from django.test.utils import override_settings

    from courses.certificates import signing

    print(f"Setting up in {bench_dir} on {where}")
    call_command("migrate", verbosity=0)
    make_course()
    signed_env = {**env, **signing_files(bench_dir)}

    singles = {}
    print("One certificate, unsigned …", flush=True)
    singles["unsigned"] = single(signed=False)
    print("One certificate, signed …", flush=True)
    with override_settings(
        **{k: v for k, v in signed_env.items() if k.startswith("PORTAL_CERT")}
    ):
        signing.configured_signer.cache_clear()
        singles["signed"] = single(signed=True)
    signing.configured_signer.cache_clear()
    for key, (median, _, size) in singles.items():
        print(f"  {key}: median {median:.0f} ms, {size / 1024:.0f} KiB")

    runs = []
    plan = [(BULK, "bulk-500", env), (BULK, "bulk-500-signed", signed_env)]
    if not quick:
        plan.append((LARGE, f"bulk-{LARGE}", env))
    for count, label, worker_env in plan:
        print(f"{label}: {count} certificates with a real worker …", flush=True)
        result = bulk(bench_dir, worker_env, count, label)
        print(
            f"  {result.seconds:.1f} s, worker {result.pss_mb:.0f} MiB (PSS), "
            f"largest process {result.rss_mb:.0f} MiB",
            flush=True,
        )
        runs.append(result)

    facts = {
        "Date": datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "Database": where,
        "Broker": "Redis"
        if settings.CELERY_BROKER_URL.startswith("redis")
        else "filesystem",
        "Worker": f"celery prefork, concurrency = nproc = {os.cpu_count()}",
        "HarfBuzz-Subset": "loaded" if harfbuzz_subset else "**missing**",
        "Signature": "PAdES B-B, RSA-2048, SHA-256 (throwaway self-signed key)",
    }
    if quick:
        facts["Left out"] = f"the {LARGE:,}-certificate run (--quick)"
    lines = report(facts, singles, runs)
    print("\n".join(lines))
    write(lines)


if __name__ == "__main__":
    main()

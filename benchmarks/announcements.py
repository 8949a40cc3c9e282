"""`make bench`: sending an announcement to 10,000 subscribers.

Run as `.venv/bin/python -m benchmarks.announcements` (after benchmarks.run,
which rewrites docs/performance.md; this appends or replaces its
"Announcements" section). `--count N` changes the number of subscribers.

On an SQLite file in a temporary folder (a throwaway PostgreSQL database
when DATABASE_URL names one, as benchmarks.certificates does), with a real
`celery worker` in the default set-up: prefork, concurrency = nproc, the
filesystem broker (Redis when REDIS_URL is set). It measures:

- announcement_send itself: the transaction that writes one delivery row per
  recipient and enqueues the batch tasks (what the editor waits for);
- the wall time from that call until every delivery row is handed to the
  outbox (one OutgoingEmail row each) and the announcement is marked sent;
- until every e-mail is delivered (to Django's dummy backend: the portal's
  own cost, without an SMTP server);
- the worker's memory during the run, as benchmarks.certificates reads it.

Nothing here asserts a time; a run that does not finish within its time
limit, or that leaves a recipient without exactly one e-mail, stops with an
error.
"""

import argparse
import datetime
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.certificates import (
    MemoryWatch,
    choose_database,
    drop_database,
    start_worker,
    stop_worker,
)
from benchmarks.run import replace_section

BASE_DIR = Path(__file__).resolve().parent.parent
REPORT = BASE_DIR / "docs" / "performance.md"
SECTION = "## Announcements"
COUNT = 10_000
TIME_LIMIT = 1800
#: Share of subscribers who chose English (they receive the English version).
ENGLISH_EVERY = 5


@dataclass
class Run:
    count: int
    send_seconds: float
    outbox_seconds: float
    delivered_seconds: float
    batches: int
    pss_mb: float
    idle_pss_mb: float
    rss_mb: float
    uss_mb: float
    processes: int
    load: float
    english: int


def subscribers(count: int) -> int:
    """`count` users subscribed to notices (bulk inserts: set-up, not
    measured); every ENGLISH_EVERY-th prefers English. Returns how many do."""
    from django.utils import timezone

    from portal.models import Audience, User
    from subscriptions.models import Subscription, Topic

    notices = Topic.objects.get(code="notices")
    audiences = list(Audience.objects.values_list("pk", flat=True)[:3])
    users = User.objects.bulk_create(
        (
            User(
                email=f"subscriber-{n}@example.org",
                real_name=f"订阅者{n}",
                password="!",
                language="en" if n % ENGLISH_EVERY == 0 else "zh-hans",
            )
            for n in range(count)
        ),
        batch_size=2000,
    )
    now = timezone.now()
    subscriptions = Subscription.objects.bulk_create(
        (Subscription(user=user, consented_at=now) for user in users),
        batch_size=2000,
    )
    Subscription.topics.through.objects.bulk_create(
        (
            Subscription.topics.through(subscription=s, topic=notices)
            for s in subscriptions
        ),
        batch_size=2000,
    )
    # A third chose an audience group; the announcement is for all groups.
    Subscription.audiences.through.objects.bulk_create(
        (
            Subscription.audiences.through(
                subscription=s, audience_id=audiences[n % len(audiences)]
            )
            for n, s in enumerate(subscriptions)
            if n % 3 == 0
        ),
        batch_size=2000,
    )
    return len(range(0, count, ENGLISH_EVERY))


def announcement():  # type: ignore[no-untyped-def]
    from subscriptions.models import Announcement, Topic

    item = Announcement.objects.create(
        subject="关于开展2027年知识产权宣传周活动的通知",
        body=(
            "各位学员：\n\n2027年4月20日至26日举办知识产权宣传周活动，"
            "包括专题讲座、培训班和知识竞赛。欢迎报名参加。\n\n"
            "重庆市知识产权局"
        ),
        subject_en="IP Publicity Week 2027",
        body_en=(
            "Dear learners,\n\nThe IP publicity week runs from 20 to 26 April "
            "2027, with lectures, training classes and a quiz. Register now."
        ),
    )
    item.topics.set([Topic.objects.get(code="notices")])
    return item


def send(bench_dir: Path, env: dict[str, str], count: int) -> Run:
    """Send one announcement to `count` subscribers with a fresh worker."""
    from django.db import transaction

    from portal.models import OutgoingEmail
    from subscriptions import services
    from subscriptions.models import Announcement, AnnouncementDelivery

    english = subscribers(count)
    item = announcement()
    worker = start_worker(bench_dir, env, "worker-announcements")
    watch = MemoryWatch(worker.pid)
    watch.start()
    load = os.getloadavg()[0]
    deliveries = AnnouncementDelivery.objects.filter(announcement=item)
    try:
        start = time.perf_counter()
        with transaction.atomic():
            sent_to = services.announcement_send(announcement=item, by=None)
        send_seconds = time.perf_counter() - start
        assert sent_to == count, sent_to
        deadline = time.monotonic() + TIME_LIMIT
        while True:
            if (
                Announcement.objects.filter(pk=item.pk, status="sent").exists()
                and deliveries.filter(status="queued", email__isnull=False).count()
                == count
            ):
                break
            if time.monotonic() > deadline or worker.poll() is not None:
                progress = services.selectors.announcement_report(announcement=item)
                raise SystemExit(
                    f"not finished: {progress}; worker log in "
                    f"{bench_dir}/worker-announcements.log"
                )
            time.sleep(0.1)
        outbox_seconds = time.perf_counter() - start
        emails = OutgoingEmail.objects.filter(
            pk__in=deliveries.values("email_id"), status=OutgoingEmail.Status.PENDING
        )
        while emails.exists():
            if time.monotonic() > deadline or worker.poll() is not None:
                raise SystemExit("e-mails not delivered in time")
            time.sleep(0.2)
        delivered_seconds = time.perf_counter() - start
    finally:
        watch.stopping.set()
        watch.join()
        stop_worker(worker)
    # Exactly one e-mail per recipient, each with its own unsubscribe link.
    assert OutgoingEmail.objects.count() == count
    assert OutgoingEmail.objects.filter(status="sent").count() == count
    assert (
        OutgoingEmail.objects.filter(subject="IP Publicity Week 2027").count()
        == english
    )
    assert deliveries.values("user").distinct().count() == count
    return Run(
        count=count,
        send_seconds=send_seconds,
        outbox_seconds=outbox_seconds,
        delivered_seconds=delivered_seconds,
        batches=-(-count // services.BATCH_SIZE),
        pss_mb=watch.peak_pss / 1024,
        idle_pss_mb=watch.idle_pss / 1024,
        rss_mb=watch.peak_rss / 1024,
        uss_mb=watch.peak_uss / 1024,
        processes=watch.processes,
        load=load,
        english=english,
    )


def report(facts: dict[str, str], run: Run) -> list[str]:
    per_s = run.count / run.outbox_seconds
    return [
        "| measurement | value |",
        "|---|--:|",
        f"| subscribers (of whom in English) | {run.count:,} ({run.english:,}) |",
        f"| batch tasks ({run.batches} × up to 500 recipients) | {run.batches} |",
        f"| announcement_send: delivery rows written, tasks enqueued (s) "
        f"| {run.send_seconds:.2f} |",
        f"| until every recipient's e-mail is in the outbox, announcement sent (s) "
        f"| {run.outbox_seconds:.1f} |",
        f"| recipients per second into the outbox | {per_s:,.0f} |",
        f"| until every e-mail is delivered (dummy backend) (s) "
        f"| {run.delivered_seconds:.1f} |",
        f"| worker memory, all processes (PSS) MiB | {run.pss_mb:.0f} |",
        f"| idle worker (PSS) MiB | {run.idle_pss_mb:.0f} |",
        f"| largest process (RSS) MiB | {run.rss_mb:.0f} |",
        f"| largest pool process alone (USS) MiB | {run.uss_mb:.0f} |",
        f"| worker processes | {run.processes} |",
        f"| load average at start | {run.load:.2f} |",
        "",
        *[f"- {key}: {value}" for key, value in facts.items()],
    ]


def write(lines: list[str]) -> None:
    """Append (or replace) the Announcements section of docs/performance.md."""
    section = [
        "From `.venv/bin/python -m benchmarks.announcements`: one announcement",
        "to every subscriber of a topic, with a real worker in the default",
        "set-up. announcement_send writes a delivery row per recipient in one",
        "transaction; each batch task then renders the e-mail once per language,",
        "writes its up to 500 outbox rows with one insert and marks its rows",
        "with one update, and enqueues a delivery task per 100 e-mails (not one",
        "per e-mail). The clock stops when every recipient has exactly one",
        "e-mail in the outbox; delivery to Django's dummy backend is reported",
        "after it (an SMTP server adds its own time). Worker memory is read",
        "from /proc as in the Certificates section.",
        "",
        *lines,
        "",
    ]
    replace_section(SECTION, section)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=COUNT)
    count = parser.parse_args().count
    started = time.perf_counter()
    bench_dir = Path(tempfile.mkdtemp(prefix="portal-bench-announcements-"))
    tempfile.tempdir = str(bench_dir)
    database_url, where, maintenance = choose_database(bench_dir)
    redis = os.environ.get("REDIS_URL", "")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "benchmarks.certificates_settings",
        "DATABASE_URL": database_url,
        "PORTAL_TEST_SHARED_DIR": str(bench_dir),
        "PORTAL_BENCH_QUEUE": f"portal-bench-announcements-{os.getpid()}",
        "CELERY_BROKER_URL": redis or "filesystem://",
    }
    os.environ.update(env)
    try:
        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command

        print(f"Setting up {count:,} subscribers in {bench_dir} on {where}")
        call_command("migrate", verbosity=0)
        print("Sending one announcement with a real worker …", flush=True)
        run = send(bench_dir, env, count)
        facts = {
            "Date": datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
            "Database": where,
            "Broker": "Redis"
            if settings.CELERY_BROKER_URL.startswith("redis")
            else "filesystem",
            "Worker": f"celery prefork, concurrency = nproc = {os.cpu_count()}",
        }
        lines = report(facts, run)
        print("\n".join(lines))
        write(lines)
    finally:
        from django.db import connections

        connections.close_all()
        if maintenance:
            drop_database(maintenance, database_url)
        shutil.rmtree(bench_dir, ignore_errors=True)
    print(
        f"Done in {time.perf_counter() - started:.0f} s; wrote "
        f"{REPORT.relative_to(BASE_DIR)}"
    )


if __name__ == "__main__":
    main()

"""Expert search while a big expert import runs in the background.

Run as `.venv/bin/python -m benchmarks.import_search [--experts 20000]
[--rows 100000] [--baseline 20] [--pause 0.2]`. Not part of `make bench` and writes no
docs: it prints its figures.

On the embedded default (SQLite in WAL mode, the settings of
benchmarks.settings, one throwaway folder):

1. `--experts` listed experts are generated and indexed (as in
   benchmarks.talentpool), and a CSV of `--rows` new experts written as an
   administrator would upload it (benchmarks.talentpool.import_file);
2. an ImportJob is made for the file (portal.import_jobs.import_job_create,
   as the admin's upload does, its task not sent);
3. searches (talentpool.search.expert_search on the ten queries with facets
   of benchmarks.talentpool: a page of 20 and the facet counts) run one
   after another, `--pause` seconds apart, for `--baseline` seconds, then
   go on while a second process runs the job exactly as a Celery worker
   would (portal.tasks.import_job_check,
   then the confirmation, then portal.tasks.import_job_write), until the job
   is done, then `--baseline` seconds more.

Prints p50/p95/max of the searches before, during the check, during the
write and after, the job's phases' durations and the machine's load.
"""

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from unittest import mock

BASE_DIR = Path(__file__).resolve().parent.parent


def child_import(job_id: int) -> None:
    """What the worker runs for the job: the check, then (as the admin's
    confirmation does) the write."""
    from portal import tasks
    from portal.import_jobs import import_job_confirm
    from portal.models import ImportJob

    started = time.perf_counter()
    tasks.import_job_check.run(job_id)
    checked = time.perf_counter()
    job = ImportJob.objects.get(pk=job_id)
    if not import_job_confirm(job=job):
        raise SystemExit(f"job {job_id} not confirmable: {job.status} {job.errors[:3]}")
    # import_job_confirm sends the write on commit (eagerly in these settings,
    # in this process): run the task here if it has not run.
    job.refresh_from_db()
    if job.status == ImportJob.Status.WRITING:
        tasks.import_job_write.run(job_id)
    done = time.perf_counter()
    job.refresh_from_db()
    print(
        json.dumps(
            {
                "status": job.status,
                "check_s": checked - started,
                "write_s": done - checked,
                "result": {k: v for k, v in job.result.items() if k != "message"},
                "message": job.message,
            }
        ),
        flush=True,
    )


def setup(experts: int, rows: int) -> int:
    from django.core.files import File
    from django.core.management import call_command

    from benchmarks.talentpool import generate, import_file
    from portal.import_jobs import import_job_create
    from portal.models import ImportJob, User
    from talentpool.search import experts_reindex

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    generate(experts)
    experts_reindex(batch_size=1000)
    path = Path(tempfile.mkdtemp(prefix="portal-bench-import-")) / "experts.csv"
    try:
        import_file(path, rows)
        user = User.objects.create_user(
            email="bench-import@example.org", password=None, real_name="导入测试"
        )
        with path.open("rb") as raw:
            upload = File(raw, name="experts.csv")
            # The check is sent on commit (eagerly in these settings): it is
            # held back here and run by the child, as a worker would.
            with mock.patch("portal.tasks.import_job_check.delay_on_commit"):
                job = import_job_create(
                    kind=ImportJob.Kind.EXPERT,
                    upload=upload,
                    folder="private/expert-imports",
                    user=user,
                    options={"create_only": False},
                )
    finally:
        shutil.rmtree(path.parent, ignore_errors=True)
    return job.pk


def search_once(query: str, filters: dict) -> float:
    from talentpool.search import expert_search

    started = time.perf_counter()
    search = expert_search(query=query, filters=filters)
    search.page(1, 20)
    search.facets()
    return (time.perf_counter() - started) * 1000


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[index]


def measure(job_id: int, baseline: float, env: dict, pause: float) -> dict:
    from benchmarks.talentpool import SEARCHES
    from portal.models import ImportJob

    timings: dict[str, list[float]] = {
        "before": [],
        "checking": [],
        "writing": [],
        "after": [],
    }
    for query, filters in SEARCHES:  # warm up
        search_once(query, filters)
    loads = {"before": os.getloadavg()[0]}
    end = time.monotonic() + baseline
    n = 0
    while time.monotonic() < end:
        query, filters = SEARCHES[n % len(SEARCHES)]
        timings["before"].append(search_once(query, filters))
        n += 1
        time.sleep(pause)
    child = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.import_search", "--child", str(job_id)],
        env=env,
        cwd=BASE_DIR,
        stdout=subprocess.PIPE,
        text=True,
    )
    phase, checked_at = "checking", time.monotonic()
    while child.poll() is None:
        if time.monotonic() >= checked_at:
            status = ImportJob.objects.values_list("status", flat=True).get(pk=job_id)
            phase = "writing" if status in ("checked", "writing") else "checking"
            checked_at = time.monotonic() + 0.5
            loads.setdefault(phase, os.getloadavg()[0])
        query, filters = SEARCHES[n % len(SEARCHES)]
        timings[phase].append(search_once(query, filters))
        n += 1
        time.sleep(pause)
    output, _errors = child.communicate()
    outcome = json.loads(output.strip().splitlines()[-1])
    if child.returncode:
        raise SystemExit(f"the import failed: {outcome}")
    end = time.monotonic() + baseline
    while time.monotonic() < end:
        query, filters = SEARCHES[n % len(SEARCHES)]
        timings["after"].append(search_once(query, filters))
        n += 1
        time.sleep(pause)
    loads["after"] = os.getloadavg()[0]
    return {
        "import": outcome,
        "loads": loads,
        "phases": {
            phase: {
                "samples": len(values),
                "p50": statistics.median(values) if values else None,
                "p95": percentile(values, 0.95) if values else None,
                "max": max(values) if values else None,
            }
            for phase, values in timings.items()
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--experts", type=int, default=20_000)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--baseline", type=float, default=20.0)
    parser.add_argument(
        "--pause", type=float, default=0.2, help="seconds between two searches"
    )
    parser.add_argument("--child", type=int, help="(internal) run this job")
    args = parser.parse_args()
    if args.child:
        import django

        django.setup()
        child_import(args.child)
        return
    bench_dir = Path(tempfile.mkdtemp(prefix="portal-bench-import-search-"))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "benchmarks.settings",
        "PORTAL_BENCH_DIR": str(bench_dir),
    }
    os.environ.update(env)
    try:
        import django

        django.setup()
        started = time.perf_counter()
        job_id = setup(args.experts, args.rows)
        print(f"set up in {time.perf_counter() - started:.0f} s", flush=True)
        figures = measure(job_id, args.baseline, env, args.pause)
    finally:
        shutil.rmtree(bench_dir, ignore_errors=True)
    figures["machine"] = {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
    }
    figures["experts"], figures["rows"] = args.experts, args.rows
    print(json.dumps(figures, indent=1))
    print("\n| phase | searches | p50 ms | p95 ms | max ms |\n|---|--:|--:|--:|--:|")
    for phase, row in figures["phases"].items():
        if row["samples"]:
            print(
                f"| {phase} | {row['samples']} | {row['p50']:.1f} | "
                f"{row['p95']:.1f} | {row['max']:.1f} |"
            )
    print(
        f"\nimport of {args.rows:,} rows: check {figures['import']['check_s']:.0f} s, "
        f"write {figures['import']['write_s']:.0f} s "
        f"({figures['import']['status']})"
    )


if __name__ == "__main__":
    main()

"""`make bench`: the talent pool's search, its quality and its speed.

Run as `.venv/bin/python -m benchmarks.talentpool [--experts N]`. Each run
is a child process on a throwaway database:

1. quality: the relevance set of testing/talentpool/relevance.py on SQLite,
   nDCG@10 per kind of query and overall (targets 0.9 overall, 0.8 a kind);
2. speed on SQLite: N generated experts (100,000 by default) indexed, timed,
   then searches with text and two facets, facet counts included;
3. the same on PostgreSQL, when DATABASE_URL names a server (a throwaway
   database is created there and dropped);
4. the import of a CSV of N experts through experts_import (check, write,
   index), and of a tenth of that, each in a fresh process on SQLite: the
   time, and the peak RSS, which should be the same for both (memory flat).
   `--no-import` skips it.

Prints a table and appends (or replaces) the "Talent pool search" section of
docs/performance.md. Nothing asserts a time; a search that finds nothing
where it should stops the run.
"""

import argparse
import datetime
import json
import os
import platform
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

from benchmarks.run import replace_section

BASE_DIR = Path(__file__).resolve().parent.parent
REPORT = BASE_DIR / "docs" / "performance.md"
SECTION = "## Talent pool search"
EXPERTS = 100_000
REPEATS = 3  # timed rounds over SEARCHES
SEARCHES = [
    ("律师", {"ip_type": ["trademark"], "district": ["yuzhong"]}),
    ("专利代理师集成电路", {"ip_type": ["patent"], "language": ["en"]}),
    ("專利代理師 積體電路", {"ip_type": ["patent"], "service": ["agency"]}),
    ("知识产权", {"category": ["lawyer"], "industry": ["automotive"]}),
    ("zhangwei", {"category": ["patent_attorney", "lawyer"], "ip_type": ["patent"]}),
    ("trademark lawyer", {"industry": ["ecommerce"], "language": ["zh"]}),
    ("商标侵权诉讼", {"category": ["lawyer"], "district": ["jiangbei"]}),
    ("生物医药", {"ip_type": ["patent"], "service": ["agency", "litigation"]}),
    ("wang fang", {"category": ["lawyer"], "ip_type": ["trademark"]}),
    ("石墨烯 专利", {"industry": ["graphene"], "service": ["agency"]}),
    # as people type them (issue 15): compounds, synonyms, pinyin terms,
    # English words, a place glued to the need; no filters
    ("专利侵权诉讼", {}),
    ("芯片专利", {}),
    ("zhuanli daili", {}),
    ("patent litigation", {}),
    ("渝北专利律师", {}),
    ("知产 调解", {}),
]

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤单仇解区查朴"  # noqa: E501
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红鹏辉建国志海燕文斌宇浩凯晨"
)
ORG_KINDS = [
    "律师事务所",
    "专利代理事务所",
    "知识产权服务有限公司",
    "商标事务所",
    "大学",
    "公证处",
    "资产评估有限公司",
]  # noqa: E501
ORG_WORDS = "渝中南岸江北沙坪巴南北碚两江山城嘉陵长江科创智信恒达中天正和华信金诚"
BIO_PHRASES = [
    "执业{n}年，代理专利申请与复审。",
    "擅长商标侵权诉讼与不正当竞争纠纷。",
    "熟悉集成电路布图设计与半导体器件。",
    "长期为汽车零部件企业提供知识产权咨询。",
    "生物医药领域专利检索分析与专利导航。",
    "从事知识产权质押融资评估。",
    "担任多家科技企业法律顾问。",
    "参与石墨烯新材料专利布局。",
    "电子商务平台知识产权合规。",
    "涉外知识产权纠纷，英语工作语言。",
    "著作权与计算机软件许可。",
    "企业知识产权管理贯标辅导。",
]


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[index]


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- children ---------------------------------------------------------------------


def child_quality() -> dict:
    from django.core.management import call_command
    from django.utils import timezone

    from talentpool.search import expert_search
    from testing.talentpool.relevance import relevance_load, relevance_scores

    call_command("migrate", verbosity=0)
    keys = relevance_load(now=timezone.now())
    scores = relevance_scores(lambda q: expert_search(query=q).ids(1, 10), keys)
    return {
        "by_kind": {k: [statistics.mean(v), len(v)] for k, v in scores.items()},
        "overall": statistics.mean(v for vs in scores.values() for v in vs),
        "queries": sum(len(v) for v in scores.values()),
        "experts": len(keys),
    }


def generate(count: int) -> None:
    """`count` experts, nine in ten listed, with names, organisations,
    biographies and vocabularies drawn at random (seeded)."""
    from django.db import transaction
    from django.utils import timezone

    from portal.models import District, IPType
    from talentpool.models import (
        Expert,
        ExpertCategory,
        Industry,
        Language,
        Organisation,
        Service,
    )

    rng = random.Random(5)
    now = timezone.now()
    if not District.objects.exists():
        for code, zh in (
            ("yuzhong", "渝中区"),
            ("jiangbei", "江北区"),
            ("nanan", "南岸区"),
        ):
            District.objects.create(code=code, name_zh=zh, name_en=code.title())
    districts = list(District.objects.all())
    vocab = {
        "categories": list(ExpertCategory.objects.all()),
        "ip_types": list(IPType.objects.all()),
        "services": list(Service.objects.all()),
        "industries": list(Industry.objects.all()),
        "languages": list(Language.objects.all()),
    }
    organisations = Organisation.objects.bulk_create(
        Organisation(
            name=f"重庆{rng.choice(ORG_WORDS)}{rng.choice(ORG_WORDS)}{i}{rng.choice(ORG_KINDS)}"
        )
        for i in range(1000)
    )
    batch = 5000
    for start in range(0, count, batch):
        with transaction.atomic():
            experts = Expert.objects.bulk_create(
                Expert(
                    name=rng.choice(SURNAMES)
                    + "".join(rng.sample(GIVEN, rng.choice((1, 2)))),
                    external_id=f"B{start + i:07d}",
                    organisation=rng.choice(organisations),
                    district=rng.choice(districts),
                    biography="".join(rng.sample(BIO_PHRASES, 3)).format(
                        n=rng.randint(2, 30)
                    ),
                    email=f"b{start + i}@example.cn",
                    phone=f"139{start + i:08d}",
                    years_of_practice=rng.randint(1, 40),
                    verification_status="verified" if i % 10 else "unverified",
                    verified_at=now if i % 10 else None,
                    publication_consent_at=now,
                    last_confirmed_at=now
                    - datetime.timedelta(minutes=rng.randint(0, 500_000)),
                )
                for i in range(min(batch, count - start))
            )
            for relation, terms in vocab.items():
                through = getattr(Expert, relation).through
                field = getattr(Expert, relation).field.m2m_reverse_field_name()
                rows = []
                for expert in experts:
                    for term in rng.sample(terms, rng.choice((1, 1, 2))):
                        rows.append(
                            through(expert_id=expert.pk, **{f"{field}_id": term.pk})
                        )
                through.objects.bulk_create(rows)


def import_file(path: Path, count: int) -> None:
    """A CSV expert list of `count` rows, as an administrator would upload
    it: Chinese headers, vocabulary labels, organisations by name."""
    import csv

    from portal.models import District, IPType
    from talentpool.models import ExpertCategory, Industry, Language, Service

    rng = random.Random(7)
    if not District.objects.exists():
        for code, zh in (("yuzhong", "渝中区"), ("jiangbei", "江北区")):
            District.objects.create(code=code, name_zh=zh, name_en=code.title())
    labels = {
        column: list(model.objects.values_list("name_zh", flat=True))
        for column, model in (
            ("类别", ExpertCategory),
            ("知识产权类型", IPType),
            ("服务", Service),
            ("行业", Industry),
            ("语言", Language),
        )
    }
    districts = list(District.objects.values_list("name_zh", flat=True))
    organisations = [
        f"重庆{rng.choice(ORG_WORDS)}{rng.choice(ORG_WORDS)}{i}{rng.choice(ORG_KINDS)}"
        for i in range(1000)
    ]
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(
            ["外部编号", "姓名", *labels, "区县", "机构", "执业年限", "简介",
             "邮箱", "电话"]
        )  # fmt: skip
        for i in range(count):
            writer.writerow(
                [
                    f"I{i:07d}",
                    rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, 2)),
                    *(
                        "、".join(rng.sample(terms, rng.choice((1, 1, 2))))
                        for terms in labels.values()
                    ),
                    rng.choice(districts),
                    rng.choice(organisations),
                    rng.randint(1, 40),
                    "".join(rng.sample(BIO_PHRASES, 3)).format(n=rng.randint(2, 30)),
                    f"i{i}@example.cn",
                    f"139{i:08d}",
                ]
            )


def child_import(count: int) -> dict:
    """Import a CSV of `count` experts through the import service (check,
    write, index) in a fresh process: its time and the process's peak RSS."""
    from django.core.management import call_command

    from talentpool.models import Expert
    from talentpool.services import experts_import

    call_command("migrate", verbosity=0)
    path = Path(tempfile.mkdtemp(prefix="portal-bench-import-")) / "experts.csv"
    try:
        import_file(path, count)
        rss_before = rss_mib()
        load = os.getloadavg()[0]
        started = time.perf_counter()
        with path.open("rb") as file:
            result = experts_import(file=file, filename="experts.csv")
        seconds = time.perf_counter() - started
    finally:
        shutil.rmtree(path.parent, ignore_errors=True)
    if result.created != count or Expert.objects.count() != count:
        raise SystemExit(f"import created {result.created} of {count}")
    return {
        "rows": count,
        "seconds": seconds,
        "rss_before_mib": rss_before,
        "rss_peak_mib": rss_mib(),
        "load": load,
    }


def child_speed(count: int) -> dict:
    from django.core.management import call_command
    from django.db import connection

    from talentpool.models import ExpertToken
    from talentpool.search import expert_search, experts_reindex

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    generate(count)
    generated = time.perf_counter() - started
    rss_before = rss_mib()
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    experts_reindex(batch_size=1000)
    reindex = time.perf_counter() - started
    rss_after = rss_mib()
    tokens = ExpertToken.objects.count()
    with connection.cursor() as cursor:
        # What autovacuum (PostgreSQL) or `manage.py reindex_experts` followed
        # by ANALYZE would leave after a bulk load: statistics for the
        # planner, and on PostgreSQL the visibility map that lets the search
        # read the token index alone.
        cursor.execute(
            "VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE"
        )
    # Warm up, then time.
    for query, filters in SEARCHES:
        search = expert_search(query=query, filters=filters)
        search.page(1, 20)
        search.facets()
        if not expert_search(query=query).total and count >= 20_000:
            raise SystemExit(f"{query!r} found nothing")
    load_start = os.getloadavg()[0]
    timings: list[float] = []
    totals: list[int] = []
    for _ in range(REPEATS):
        for query, filters in SEARCHES:
            started = time.perf_counter()
            search = expert_search(query=query, filters=filters)
            search.page(1, 20)
            search.facets()
            timings.append((time.perf_counter() - started) * 1000)
            totals.append(search.total)
    # What the first search after any change to the index pays on top.
    from talentpool.search import facets

    rebuilds: list[float] = []
    for _ in range(3):
        facets._cached = None
        started = time.perf_counter()
        facets.facet_bitmaps()
        rebuilds.append((time.perf_counter() - started) * 1000)
    # What the first search after a change to a synonym, a term or an
    # organisation pays on top (talentpool.search.lexicon).
    from talentpool.search import lexicon

    lexicons: list[float] = []
    for _ in range(3):
        lexicon.lexicon_changed()
        lexicon._segmenter.cache_clear()
        started = time.perf_counter()
        lexicon.lexicon()
        lexicons.append((time.perf_counter() - started) * 1000)
    browse: list[float] = []
    for _ in range(10):
        started = time.perf_counter()
        search = expert_search(filters={"category": ["lawyer"], "ip_type": ["patent"]})
        search.page(1, 20)
        search.facets()
        browse.append((time.perf_counter() - started) * 1000)
    return {
        "experts": count,
        "generate_s": generated,
        "reindex_s": reindex,
        "tokens": tokens,
        "rss_before_mib": rss_before,
        "rss_after_mib": rss_after,
        "load_reindex": load_before,
        "load_search": load_start,
        "p50": statistics.median(timings),
        "p95": percentile(timings, 0.95),
        "max": max(timings),
        "samples": len(timings),
        "matches_median": statistics.median(totals),
        "browse_p50": statistics.median(browse),
        "browse_p95": percentile(browse, 0.95),
        "bitmaps_ms": statistics.median(rebuilds),
        "lexicon_ms": statistics.median(lexicons),
    }


# --- parent -----------------------------------------------------------------------


def run_child(kind: str, database_url: str, count: int, out: Path) -> dict:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings.test",
        "DATABASE_URL": database_url,
    }
    subprocess.run(
        [sys.executable, "-m", "benchmarks.talentpool", "--child", kind,
         "--experts", str(count), "--out", str(out)],
        check=True, env=env, cwd=BASE_DIR,
    )  # fmt: skip
    return json.loads(out.read_text())


def postgres_database(url: str) -> tuple[str, str] | None:
    if urllib.parse.urlsplit(url).scheme not in ("postgres", "postgresql", "pgsql"):
        return None
    import psycopg

    parts = urllib.parse.urlsplit(url)._replace(scheme="postgres")
    name = f"portal_bench_talentpool_{os.getpid()}"
    maintenance = parts._replace(path="/postgres").geturl()
    with psycopg.connect(maintenance, autocommit=True, connect_timeout=5) as db:
        db.execute(f'CREATE DATABASE "{name}"')
    return parts._replace(path=f"/{name}").geturl(), maintenance


def drop(maintenance: str, url: str) -> None:
    import psycopg

    name = urllib.parse.urlsplit(url).path.lstrip("/")
    with psycopg.connect(maintenance, autocommit=True, connect_timeout=5) as db:
        db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def report(
    quality: dict, speeds: dict[str, dict], count: int, imports: list[dict]
) -> list[str]:
    lines = [
        "| kind of query | queries | nDCG@10 | target |",
        "|---|--:|--:|---|",
    ]
    for kind, (score, n) in quality["by_kind"].items():
        met = "met" if score >= 0.8 else "**not met**"
        lines.append(f"| {kind} | {n} | {score:.3f} | ≥ 0.80: {met} |")
    met = "met" if quality["overall"] >= 0.9 else "**not met**"
    lines.append(
        f"| **overall** | {quality['queries']} | **{quality['overall']:.3f}** "
        f"| ≥ 0.90: {met} |"
    )
    lines += [
        "",
        f"Relevance set: {quality['experts']} judged experts among filler "
        "(testing/talentpool/relevance.py).",
        "",
        f"| {count:,} experts | SQLite | PostgreSQL |",
        "|---|--:|--:|",
    ]

    def cell(backend: str, key: str, fmt: str) -> str:
        value = speeds.get(backend, {}).get(key)
        return "–" if value is None else format(value, fmt)

    rows = [
        ("search with text and two facets, facets counted: p50 (ms)", "p50", ".0f"),
        ("the same, p95 (ms); target ≤ 200", "p95", ".0f"),
        ("the same, slowest (ms)", "max", ".0f"),
        ("searches timed", "samples", "d"),
        ("median results of those searches", "matches_median", ",.0f"),
        ("browse (no text) with two facets: p50 (ms)", "browse_p50", ".0f"),
        ("browse, p95 (ms)", "browse_p95", ".0f"),
        ("facet bitmaps rebuilt after an index change (ms)", "bitmaps_ms", ".0f"),
        ("query lexicon built after a synonym change (ms)", "lexicon_ms", ".0f"),
        ("reindexing every expert (s)", "reindex_s", ".0f"),
        ("tokens in the index", "tokens", ",d"),
        ("process peak RSS before → after reindexing (MiB)", None, ""),
        ("load average (1 min) at reindex / at search", None, ""),
    ]
    for label, key, fmt in rows:
        if key:
            sqlite, postgres = cell("sqlite", key, fmt), cell("postgres", key, fmt)
            lines.append(f"| {label} | {sqlite} | {postgres} |")
            continue
        values = []
        for backend in ("sqlite", "postgres"):
            s = speeds.get(backend)
            if not s:
                values.append("–")
            elif "RSS" in label:
                values.append(f"{s['rss_before_mib']:.0f} → {s['rss_after_mib']:.0f}")
            else:
                values.append(f"{s['load_reindex']:.2f} / {s['load_search']:.2f}")
        lines.append(f"| {label} | {values[0]} | {values[1]} |")
    if imports:
        lines += [
            "",
            "| import of a CSV (experts_import: check, write, index), SQLite "
            "| seconds | rows/s | peak RSS before → during (MiB) | load |",
            "|---|--:|--:|--:|--:|",
        ]
        for run in imports:
            lines.append(
                f"| {run['rows']:,} new experts | {run['seconds']:.0f} "
                f"| {run['rows'] / run['seconds']:,.0f} "
                f"| {run['rss_before_mib']:.0f} → {run['rss_peak_mib']:.0f} "
                f"| {run['load']:.2f} |"
            )
    lines += [
        "",
        f"- Date: {datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}",
        f"- Machine: {os.cpu_count()} cores, Python {platform.python_version()}",
        "- Searches: " + "; ".join(f"{q} + {', '.join(f)}" for q, f in SEARCHES),
        "- Nine in ten generated experts are listed; each has one or two terms "
        "of each vocabulary, one of 1,000 organisations and a three-sentence "
        "biography.",
    ]
    if "postgres" not in speeds:
        lines.append("- PostgreSQL: not measured (DATABASE_URL not set).")
    return lines


def write(lines: list[str]) -> None:
    section = [
        "From `.venv/bin/python -m benchmarks.talentpool` "
        "(docs/talentpool-search.md says how the search works).",
        "",
        *lines,
        "",
    ]
    replace_section(SECTION, section)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--experts", type=int, default=EXPERTS)
    parser.add_argument("--child", choices=["quality", "speed", "import"])
    parser.add_argument("--out")
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--no-import", action="store_true", help="skip run 4")
    parser.add_argument(
        "--imports",
        nargs="+",
        metavar="JSON",
        help="report these results of `--child import` runs instead of run 4",
    )
    args = parser.parse_args()
    if args.child:
        import django

        django.setup()
        children = {
            "quality": child_quality,
            "speed": lambda: child_speed(args.experts),
            "import": lambda: child_import(args.experts),
        }
        result = children[args.child]()
        Path(args.out).write_text(json.dumps(result))
        return
    started = time.perf_counter()
    bench_dir = Path(tempfile.mkdtemp(prefix="portal-bench-talentpool-"))
    try:
        quality = run_child(
            "quality",
            f"sqlite:///{bench_dir / 'quality.sqlite3'}",
            0,
            bench_dir / "q.json",
        )
        print(json.dumps(quality, indent=1))
        speeds = {
            "sqlite": run_child(
                "speed", f"sqlite:///{bench_dir / 'speed.sqlite3'}", args.experts,
                bench_dir / "s.json",
            )
        }  # fmt: skip
        print(json.dumps(speeds["sqlite"], indent=1))
        pg = postgres_database(os.environ.get("DATABASE_URL", ""))
        if pg:
            url, maintenance = pg
            try:
                speeds["postgres"] = run_child(
                    "speed", url, args.experts, bench_dir / "p.json"
                )
                print(json.dumps(speeds["postgres"], indent=1))
            finally:
                drop(maintenance, url)
        imports = [json.loads(Path(name).read_text()) for name in args.imports or []]
        if not args.no_import and not imports:
            for rows in sorted({max(1, args.experts // 10), args.experts}):
                imports.append(
                    run_child(
                        "import", f"sqlite:///{bench_dir / f'import{rows}.sqlite3'}",
                        rows, bench_dir / "i.json",
                    )
                )  # fmt: skip
                print(json.dumps(imports[-1], indent=1))
    finally:
        shutil.rmtree(bench_dir, ignore_errors=True)
    lines = report(quality, speeds, args.experts, imports)
    print("\n".join(lines))
    if not args.no_write:
        write(lines)
    print(f"Done in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()

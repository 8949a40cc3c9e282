"""SQLite and PostgreSQL rank the same experts in the same order.

CI runs the whole suite on both databases; this test compares what each
returns for every query of the relevance set (and a few filtered and sorted
searches, with facet counts) with one stored expectation,
tests/talentpool/data/search_expected.json. Regenerate it with
``SEARCH_EXPECTED_UPDATE=1`` after a deliberate change to the ranking, and
check the diff.
"""

import json
import os
from pathlib import Path

import pytest

from django.db import connection
from django.utils import timezone

from talentpool.search import expert_search
from tests.talentpool.relevance import QUERIES, relevance_load

pytestmark = pytest.mark.django_db

EXPECTED = Path(__file__).parent / "data" / "search_expected.json"
SEARCHES = [{"query": query} for _kind, query, _grades in QUERIES] + [
    {"query": "专利", "filters": {"industry": ["integrated_circuits", "automotive"]}},
    {"query": "律师", "filters": {"ip_type": ["trademark"]}, "sort": "years"},
    {"query": "", "filters": {"category": ["patent_attorney"]}, "sort": "confirmed"},
    {"query": "", "sort": "relevance"},
]


def test_both_databases_rank_alike():
    keys = relevance_load(now=timezone.now())
    names = dict(keys)

    def key(pk: int) -> str:
        return names.get(pk, "filler")

    results = []
    for search in SEARCHES:
        found = expert_search(**search)
        results.append(
            {
                "search": search,
                "total": found.total,
                "ranked": [key(pk) for pk in found.ids(1, 20)],
                "facets": {
                    facet: [[item["code"], item["count"]] for item in items]
                    for facet, items in found.facets().items()
                },
            }
        )
    if os.environ.get("SEARCH_EXPECTED_UPDATE"):
        lines = ",\n".join(json.dumps(r, ensure_ascii=False) for r in results)
        EXPECTED.write_text(f"[\n{lines}\n]\n", encoding="utf-8")
    expected = json.loads(EXPECTED.read_text(encoding="utf-8"))
    for got, want in zip(results, expected, strict=True):
        assert got == want, connection.vendor

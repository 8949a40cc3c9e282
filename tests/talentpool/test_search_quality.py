"""The search finds the right experts first: nDCG@10 on the relevance set
(tests/talentpool/relevance.py), per kind of query and overall."""

import statistics

import pytest

from django.utils import timezone

from talentpool.search import expert_search
from tests.talentpool.relevance import QUERIES, relevance_load, relevance_scores

pytestmark = pytest.mark.django_db


def _ranked(query: str) -> list[int]:
    return expert_search(query=query).ids(1, 10)


def test_relevance_targets_met():
    keys = relevance_load(now=timezone.now())
    scores = relevance_scores(_ranked, keys)
    by_kind = {kind: statistics.mean(values) for kind, values in scores.items()}
    overall = statistics.mean(v for values in scores.values() for v in values)
    assert set(by_kind) == {kind for kind, _query, _grades in QUERIES}
    assert overall >= 0.9, by_kind
    assert min(by_kind.values()) >= 0.8, by_kind


def test_a_search_that_matches_words_only_would_fail_the_targets():
    """The yardstick can fail: ranking every expert with any query token by
    id (what a LIKE per term gives) scores far below the target."""
    from talentpool.models import ExpertToken
    from talentpool.search.text import query_normalise, query_tokens

    keys = relevance_load(now=timezone.now())

    def any_token(query: str) -> list[int]:
        required, _ = query_tokens(query_normalise(query))
        ids = ExpertToken.objects.filter(token__in=required).values_list(
            "expert_id", flat=True
        )
        return sorted(set(ids))

    scores = relevance_scores(any_token, keys)
    overall = statistics.mean(v for values in scores.values() for v in values)
    assert overall < 0.8


def test_the_bitmap_ranking_agrees_with_the_rows():
    """Relevance and "last confirmed" are ranked from bitmaps
    (talentpool.search.bits); the admin's search and the years sort from the
    index's rows. Both must give the same experts in the same order, ties
    included: experts confirmed at the same moment, or never, and experts
    not listed."""
    from talentpool.models import Expert
    from talentpool.search.engine import _fetch, _rank
    from talentpool.search.text import query_normalise, query_tokens

    relevance_load(now=timezone.now())
    ids = list(Expert.objects.order_by("pk").values_list("pk", flat=True))
    same_moment = timezone.now() - timezone.timedelta(days=30)
    Expert.objects.filter(pk__in=ids[::5]).update(last_confirmed_at=same_moment)
    Expert.objects.filter(pk__in=ids[1::7]).update(last_confirmed_at=None)
    Expert.objects.filter(pk__in=ids[2::9]).update(status="withdrawn")
    queries = [query for _kind, query, _grades in QUERIES] + ["", "律师 no such"]
    compared = 0
    for query in queries:
        required, bonus = query_tokens(query_normalise(query))
        hits = _fetch(required, bonus, listed=True)
        for sort in ("relevance", "confirmed"):
            expected = [hit[0] for hit in _rank(hits, sort, bool(required), 1000)]
            search = expert_search(query=query, sort=sort)
            assert search.total == len(hits), (query, sort)
            assert search._ranked == expected, (query, sort)
            compared += len(expected)
    assert compared > 500  # a few hundred ranks, not a vacuous pass

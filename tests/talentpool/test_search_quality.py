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

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
    """The yardstick can fail: ranking every expert with any word of the
    query by id (what a LIKE per word gives) scores far below the target."""
    from talentpool.models import ExpertToken
    from talentpool.search.query import query_concepts

    keys = relevance_load(now=timezone.now())

    def any_token(query: str) -> list[int]:
        tokens = [
            tokens[0] for c in query_concepts(query) for tokens, _ in c.alternatives[:1]
        ]
        ids = ExpertToken.objects.filter(token__in=tokens).values_list(
            "expert_id", flat=True
        )
        return sorted(set(ids))

    scores = relevance_scores(any_token, keys)
    overall = statistics.mean(v for values in scores.values() for v in values)
    assert overall < 0.8


def _reference(query: str, sort: str) -> list[int]:
    """The ranking the bitmaps must give, computed expert by expert from the
    index's rows: each concept met by its best text match (the least weight
    of its tokens, times the factor; a term's word inside another label not
    counted) plus the best term the expert has; CONCEPT_WORTH a concept met;
    MIN_MATCH of the concepts, or the most anyone meets."""
    import math

    from talentpool.models import Expert, ExpertSearchDocument, ExpertToken
    from talentpool.search.engine import CONCEPT_WORTH, MIN_MATCH
    from talentpool.search.index import LABEL_WEIGHTS
    from talentpool.search.query import TERM, query_concepts

    concepts = query_concepts(query)
    tokens: dict[int, dict[str, int]] = {}
    for expert_id, token, weight in ExpertToken.objects.values_list(
        "expert_id", "token", "weight"
    ):
        tokens.setdefault(expert_id, {})[token] = weight
    facets = {
        expert_id: set(text.split())
        for expert_id, text in ExpertSearchDocument.objects.values_list(
            "expert_id", "facets"
        )
    }
    rows = []
    for pk, confirmed, years in Expert.objects.listed().values_list(
        "pk", "last_confirmed_at", "years_of_practice"
    ):
        count = score = 0
        for concept in concepts:
            names_term = any(worth == TERM for _f, worth in concept.facets)
            text = 0
            for alternative, factor in concept.alternatives:
                least = min(tokens.get(pk, {}).get(t, 0) for t in alternative)
                if least and not (names_term and least in LABEL_WEIGHTS):
                    text = max(text, least * factor)
            term = max(
                (w for f, w in concept.facets if f in facets.get(pk, set())), default=0
            )
            score += text + term
            if concept.count and (text or term):
                count += 1
                score += CONCEPT_WORTH
        rows.append((pk, count, score, confirmed, years))
    counted = sum(1 for c in concepts if c.count)
    if counted:
        rows = [row for row in rows if row[1]]
        best = max((row[1] for row in rows), default=0)
        needed = min(max(1, math.ceil(MIN_MATCH * counted)), best)
        rows = [row for row in rows if row[1] >= needed]

    def confirmed(row):
        return (row[3] is not None, row[3].timestamp() if row[3] else 0)

    def years(row):
        return (row[4] is not None, row[4] or 0)

    rows.sort(key=lambda row: row[0])
    if sort == "years":
        keys = [confirmed, lambda row: row[2], years]
    elif sort == "confirmed" and counted:
        keys = [lambda row: row[2], confirmed]
    else:
        keys = [confirmed, lambda row: row[2]]
    for key in keys:
        rows.sort(key=key, reverse=True)
    return [row[0] for row in rows]


def test_the_bitmap_ranking_agrees_with_a_plain_one():
    """The search counts and scores on bitmaps (bit-sliced counters and
    sums); computed expert by expert from the index's rows, the results and
    their order must be the same, ties included: experts confirmed at the
    same moment, or never, and experts not listed."""
    from talentpool.models import Expert

    relevance_load(now=timezone.now())
    ids = list(Expert.objects.order_by("pk").values_list("pk", flat=True))
    same_moment = timezone.now() - timezone.timedelta(days=30)
    Expert.objects.filter(pk__in=ids[::5]).update(last_confirmed_at=same_moment)
    Expert.objects.filter(pk__in=ids[1::7]).update(last_confirmed_at=None)
    Expert.objects.filter(pk__in=ids[2::9]).update(status="withdrawn")
    queries = [query for kind, query, _grades in QUERIES if kind != "misspelt"]
    queries += ["", "律师 no such"]
    compared = 0
    for query in queries:
        for sort in ("relevance", "confirmed", "years"):
            expected = _reference(query, sort)[:200]
            search = expert_search(query=query, sort=sort)
            assert search.total == len(_reference(query, sort)), (query, sort)
            assert search._ranked == expected, (query, sort)
            compared += len(expected)
    assert compared > 500  # a few hundred ranks, not a vacuous pass

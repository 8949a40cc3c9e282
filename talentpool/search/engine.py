"""Finding experts: a query becomes tokens, one SQL query finds the listed
experts that have most of them with their scores and facet codes, and the
filtering, facet counting and ranking happen here, in Python, on those rows.

Ranking in Python from plain rows is what makes SQLite and PostgreSQL give
the same order (tests/talentpool/test_search_backends.py checks it): the SQL
is a portable ``IN``/``GROUP BY``/``HAVING`` over an index, and no backend's
own text ranking is involved.
"""

import math
from collections import Counter
from itertools import chain
from operator import itemgetter
from typing import Any

from django.db import connection
from django.db.models import Case, IntegerField, QuerySet, When

from talentpool.models import (
    Expert,
    ExpertSearchDocument,
    ExpertStatus,
    ExpertToken,
    Verification,
)
from talentpool.search.index import FACETS
from talentpool.search.text import query_normalise, query_tokens

#: Share of a query's tokens (bigrams and words) an expert must have.
MIN_MATCH = 0.6
#: Largest page size; a larger one asked for is cut to this.
PAGE_SIZE_MAX = 50
#: Only this many results of a search can be paged through (scraping,
#: DESIGN decision 3); `total` still says how many matched.
RESULT_WINDOW = 1000
#: Most experts the admin's search lists, best first.
ADMIN_RESULTS_MAX = 500
SORTS = ("relevance", "years", "confirmed")


class PageOutOfRange(Exception):
    """The page asked for is past the last one (or past the result window)."""


# A hit is a row of _fetch: (expert id, score, " key=code … ", last confirmed,
# years). Tuples, not objects: a text common to most experts gives ~100,000.
_ID, _SCORE, _FACETS, _CONFIRMED, _YEARS = range(5)


def _quoted(model: type) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _fetch(
    required: list[str], bonus: list[str], *, listed: bool
) -> list[tuple[Any, ...]]:
    """Rows (expert id, score, facets, last confirmed, years) of experts that
    have at least MIN_MATCH of the required tokens, or of every expert when
    there are no tokens. Bonus tokens add to the score only. The facets come
    padded with spaces, so " key=code " finds a code exactly."""
    expert, document = _quoted(Expert), _quoted(ExpertSearchDocument)
    where: list[str] = []
    params: list[Any] = []
    if listed:
        where.append(
            "e.status = %s AND e.verification_status = %s"
            " AND e.publication_consent_at IS NOT NULL"
        )
        params += [ExpertStatus.PUBLIC, Verification.VERIFIED]
    columns = (
        "' ' || COALESCE(d.facets, '') || ' ', e.last_confirmed_at, e.years_of_practice"
    )
    if not required:
        sql = (
            f"SELECT e.id, 0, {columns} FROM {expert} e"
            f" LEFT JOIN {document} d ON d.expert_id = e.id"
        )
    else:
        tokens = required + bonus
        marks = ", ".join(["%s"] * len(tokens))
        required_marks = ", ".join(["%s"] * len(required))
        needed = max(1, math.ceil(MIN_MATCH * len(required)))
        sql = (
            f"SELECT m.expert_id, m.score, {columns} FROM ("
            f" SELECT t.expert_id, SUM(t.weight) AS score"
            f" FROM {_quoted(ExpertToken)} t WHERE t.token IN ({marks})"
            " GROUP BY t.expert_id"
            f" HAVING SUM(CASE WHEN t.token IN ({required_marks})"
            " THEN 1 ELSE 0 END) >= %s"
            f") m JOIN {expert} e ON e.id = m.expert_id"
            f" LEFT JOIN {document} d ON d.expert_id = m.expert_id"
        )
        params = [*tokens, *required, needed, *params]
    if where:
        sql += " WHERE " + " AND ".join(where)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _hits(query: str, *, listed: bool) -> list[tuple[Any, ...]]:
    required, bonus = query_tokens(query_normalise(query))
    return _fetch(required, bonus, listed=listed)


def _rank(hits: list[tuple[Any, ...]], sort: str, has_query: bool) -> list:
    """Best first. Ties (and an empty query's relevance) go to the most
    recently confirmed, then to the lower id, so the order is total.

    Stable sorts from the last key to the first: the dates are compared as
    the database returns them (a datetime from PostgreSQL, ISO text from
    SQLite, which sorts the same), never parsed."""

    def confirmed(hit: tuple[Any, ...]) -> tuple[bool, Any]:
        value = hit[_CONFIRMED]
        return (value is not None, value if value is not None else 0)

    def years(hit: tuple[Any, ...]) -> tuple[bool, int]:
        value = hit[_YEARS]
        return (value is not None, value or 0)

    ranked = sorted(hits, key=itemgetter(_ID))
    if sort == "years":
        keys = [confirmed, itemgetter(_SCORE), years]
    elif sort == "confirmed" or not has_query:
        keys = [itemgetter(_SCORE), confirmed]
    else:
        keys = [confirmed, itemgetter(_SCORE)]
    for key in keys:
        ranked.sort(key=key, reverse=True)
    return ranked


class ExpertSearch:
    """The result of expert_search: how many, a page of them, and facets."""

    def __init__(
        self,
        hits: list[tuple[Any, ...]],
        filters: dict[str, set[str]],
        sort: str,
        has_query: bool,
    ) -> None:
        wanted = [
            (key, [f" {key}={code} " for code in codes])
            for key, codes in filters.items()
        ]
        # For each hit, the filter keys it fails: a hit failing none is a
        # result; a hit failing only key K still counts in K's facet
        # (disjunctive faceting: a facet ignores its own filter).
        matched: list[tuple[Any, ...]] = []
        failing_one: list[tuple[str, str]] = []
        if not wanted:
            matched = hits
        else:
            for hit in hits:
                facets = hit[_FACETS]
                failing = None
                for key, codes in wanted:
                    if not any(code in facets for code in codes):
                        if failing is not None:
                            break
                        failing = key
                else:
                    if failing is None:
                        matched.append(hit)
                    else:
                        failing_one.append((failing, facets))
        self._matched = matched
        self._failing_one = failing_one
        self._ranked = _rank(matched, sort, has_query)
        self.total = len(matched)

    def ids(self, number: int = 1, size: int = 20) -> list[int]:
        """The expert ids on a page (1-based), best first."""
        size = max(1, min(int(size), PAGE_SIZE_MAX))
        number = int(number)
        start = (number - 1) * size
        reachable = min(self.total, RESULT_WINDOW)
        if number < 1 or (number > 1 and start >= reachable):
            raise PageOutOfRange(number)
        end = min(start + size, reachable)
        return [hit[_ID] for hit in self._ranked[start:end]]

    def page(self, number: int, size: int) -> list[Expert]:
        """The experts on a page, best first, with their organisation,
        district, tier, vocabularies and qualifications loaded. Page 1 of no
        results is empty; a page past the end (or past RESULT_WINDOW
        results) raises PageOutOfRange."""
        ids = self.ids(number, size)
        experts = {
            expert.pk: expert
            for expert in Expert.objects.filter(pk__in=ids)
            .select_related("organisation", "district", "talent_tier")
            .prefetch_related(
                "categories",
                "ip_types",
                "services",
                "industries",
                "languages",
                "qualifications__category",
            )
        }
        return [experts[pk] for pk in ids if pk in experts]

    def facets(self) -> dict[str, list[dict[str, Any]]]:
        """For each facet key, the terms found among the text's matches with
        the other keys' filters applied, with counts: most first, then in the
        vocabulary's order. Only terms with a count."""
        counted = Counter(
            chain.from_iterable(hit[_FACETS].split() for hit in self._matched)
        )
        for key, facets in self._failing_one:
            prefix = f"{key}="
            counted.update(f for f in facets.split() if f.startswith(prefix))
        counts: dict[str, dict[str, int]] = {key: {} for key in FACETS}
        for facet, count in counted.items():
            key, _, code = facet.partition("=")
            if key in counts:
                counts[key][code] = count
        result: dict[str, list[dict[str, Any]]] = {}
        for key, (_relation, model) in FACETS.items():
            found = counts[key]
            terms = (
                model.objects.filter(code__in=list(found)).order_by(
                    "sort_order", "code"
                )
                if found
                else []
            )
            items = [
                {
                    "code": term.code,
                    "label_zh": term.name_zh,
                    "label_en": term.name_en,
                    "count": found[term.code],
                }
                for term in terms
            ]
            items.sort(key=lambda item: -item["count"])  # stable: vocabulary order
            result[key] = items
        return result


def expert_search(
    *,
    query: str = "",
    filters: dict[str, list[str]] | None = None,
    sort: str = "relevance",
    language: str = "zh-hans",
) -> ExpertSearch:
    """Search the listed experts (public, verified, consented).

    `query` is free text in Simplified or Traditional Chinese, pinyin or
    English, cut to QUERY_MAX_CHARS; an empty one lists everyone. `filters`
    maps facet keys (category, ip_type, service, industry, district,
    language) to vocabulary codes: AND across keys, OR within a key; unknown
    codes match nothing, unknown keys raise ValueError. `sort` is relevance
    (most recently confirmed first for an empty query), years or confirmed.
    `language` is accepted for the interface: labels come in both languages.
    Reads only."""
    if sort not in SORTS:
        raise ValueError(f"Unknown sort {sort!r}")
    cleaned: dict[str, set[str]] = {}
    for key, codes in (filters or {}).items():
        if key not in FACETS:
            raise ValueError(f"Unknown filter {key!r}")
        codes = {code for code in codes if code}
        if codes:
            cleaned[key] = codes
    required, _bonus = query_tokens(query_normalise(query))
    hits = _hits(query, listed=True)
    return ExpertSearch(hits, cleaned, sort, has_query=bool(required))


def experts_matching(queryset: QuerySet[Expert], query: str) -> QuerySet[Expert]:
    """The admin's search: the experts of `queryset` (any status) matching
    `query` with the same Chinese, pinyin and English handling as the public
    search, best first, at most ADMIN_RESULTS_MAX. An empty query returns the
    queryset unchanged."""
    if not query_tokens(query_normalise(query))[0]:
        return queryset
    ranked = _rank(_hits(query, listed=False), "relevance", True)
    ids = [hit[_ID] for hit in ranked[:ADMIN_RESULTS_MAX]]
    order = Case(
        *(When(pk=pk, then=position) for position, pk in enumerate(ids)),
        output_field=IntegerField(),
    )
    return queryset.filter(pk__in=ids).order_by(order, "pk")

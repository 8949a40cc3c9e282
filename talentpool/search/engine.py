"""Finding experts: a query becomes tokens, one SQL query finds the listed
experts that have most of them with their scores, and the filtering, facet
counting and ranking happen here, in Python: filters and facet counts on
bitmaps (talentpool.search.facets), ranking on the rows.

Ranking in Python from plain rows is what makes SQLite and PostgreSQL give
the same order (tests/talentpool/test_search_backends.py checks it): the SQL
is a portable ``IN``/``GROUP BY``/``HAVING`` over an index, and no backend's
own text ranking is involved.
"""

import heapq
import math
import re
from collections.abc import Callable
from operator import itemgetter
from typing import Any

from django.db import connection
from django.db.models import Case, IntegerField, Model, QuerySet, When

from talentpool.models import LISTED, Expert, ExpertToken, Qualification
from talentpool.search.bits import bits_for_tokens, bits_to_ids, ids_to_bits
from talentpool.search.facets import facet_bitmaps
from talentpool.search.index import FACETS
from talentpool.search.text import (
    licence_number_forms,
    query_normalise,
    query_tokens,
)

#: Share of a query's tokens (bigrams and words) an expert must have.
MIN_MATCH = 0.6
#: Largest page size; a larger one asked for is cut to this.
PAGE_SIZE_MAX = 50
#: Only this many results of a search can be paged through (scraping,
#: docs/decisions.md, decision 3); `total` still says how many matched.
RESULT_WINDOW = 1000
#: Most experts the admin's search lists, best first.
ADMIN_RESULTS_MAX = 500
SORTS = ("relevance", "years", "confirmed")


class PageOutOfRange(Exception):
    """The page asked for is past the last one (or past the result window)."""


# A hit is a row of _fetch: (expert id, score, last confirmed, years). Tuples,
# not objects: a text common to most experts gives ~100,000.
_ID, _SCORE, _CONFIRMED, _YEARS = range(4)


def _quoted(model: type[Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def listed_where(alias: str = "", *, literal: bool = False) -> tuple[str, list[Any]]:
    """The listed rule (talentpool.models.LISTED, which ExpertQuerySet.listed
    filters on) as an SQL condition on the expert table, its columns
    prefixed with `alias` (``"e."``), and its parameters: the values as
    ``%s`` parameters, or, with `literal`, spelled out in the SQL (and no
    parameters)."""
    terms: list[str] = []
    params: list[Any] = []
    for lookup, value in LISTED.items():
        name, _, operator = lookup.partition("__")
        column = alias + Expert._meta.get_field(name).column
        if operator == "isnull":
            terms.append(f"{column} IS NULL" if value else f"{column} IS NOT NULL")
        elif operator:
            raise ValueError(f"The listed rule's {lookup!r} has no SQL here.")
        elif literal:
            text = str(getattr(value, "value", value))
            if not re.fullmatch(r"[a-z0-9_]+", text):
                raise ValueError(f"{text!r} cannot be spelled out in SQL here.")
            terms.append(f"{column} = '{text}'")
        else:
            terms.append(f"{column} = %s")
            params.append(value)
    return " AND ".join(terms), params


def _fetch(
    required: list[str], bonus: list[str], *, listed: bool
) -> list[tuple[Any, ...]]:
    """Rows (expert id, score, last confirmed, years) of experts that have at
    least MIN_MATCH of the required tokens, or of every expert when there are
    no tokens. Bonus tokens add to the score only."""
    expert = _quoted(Expert)
    where: list[str] = []
    params: list[Any] = []
    if listed:
        condition, condition_params = listed_where("e.")
        where.append(condition)
        params += condition_params
    # The date only orders the hits. PostgreSQL gives it as fixed-width UTC
    # text, which sorts as the date does and costs a fifth of building
    # 90,000 aware datetimes (most of a common word's time there); SQLite
    # already stores that text.
    confirmed = (
        "to_char(e.last_confirmed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')"
        if connection.vendor == "postgresql"
        else "e.last_confirmed_at"
    )
    columns = f"{confirmed}, e.years_of_practice"
    if not required:
        sql = f"SELECT e.id, 0, {columns} FROM {expert} e"
    else:
        tokens = required + bonus
        marks = ", ".join(["%s"] * len(tokens))
        needed = max(1, math.ceil(MIN_MATCH * len(required)))
        token_table = _quoted(ExpertToken)
        token_params: list[Any]
        if not bonus:
            # Every token is required: counting the rows is enough.
            matches = (
                f"SELECT t.expert_id, SUM(t.weight) AS score FROM {token_table} t"
                f" WHERE t.token IN ({marks}) GROUP BY t.expert_id"
                " HAVING COUNT(*) >= %s"
            )
            token_params = [*tokens, needed]
        else:
            required_marks = ", ".join(["%s"] * len(required))
            matches = (
                f"SELECT t.expert_id, SUM(t.weight) AS score FROM {token_table} t"
                f" WHERE t.token IN ({marks}) GROUP BY t.expert_id"
                f" HAVING SUM(CASE WHEN t.token IN ({required_marks})"
                " THEN 1 ELSE 0 END) >= %s"
            )
            token_params = [*tokens, *required, needed]
        sql = (
            f"SELECT m.expert_id, m.score, {columns} FROM ({matches}) m"
            f" JOIN {expert} e ON e.id = m.expert_id"
        )
        params = [*token_params, *params]
    if where:
        sql += " WHERE " + " AND ".join(where)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _hits(query: str, *, listed: bool) -> list[tuple[Any, ...]]:
    required, bonus = query_tokens(query_normalise(query))
    return _fetch(required, bonus, listed=listed)


def _confirmed(hit: tuple[Any, ...]) -> tuple[bool, Any]:
    value = hit[_CONFIRMED]
    return (value is not None, value if value is not None else 0)


def _years(hit: tuple[Any, ...]) -> tuple[bool, int]:
    value = hit[_YEARS]
    return (value is not None, value or 0)


def _rank(hits: list, sort: str, has_query: bool, limit: int) -> list:
    """The first `limit` hits, best first. Ties (and an empty query's
    relevance) go to the most recently confirmed, then to the lower id, so
    the order is total.

    Only the hits that can be among the first `limit` are sorted: those at
    least as good on the first key as the limit-th best. Then stable sorts
    from the last key to the first: the dates are compared as the text
    _fetch returns (UTC, fixed width on PostgreSQL, as stored on SQLite),
    which sorts as the dates do, never parsed."""
    keys: list[Callable[[tuple[Any, ...]], Any]]
    if sort == "years":
        keys = [_confirmed, itemgetter(_SCORE), _years]
    elif sort == "confirmed" or not has_query:
        keys = [itemgetter(_SCORE), _confirmed]
    else:
        keys = [_confirmed, itemgetter(_SCORE)]
    first = keys[-1]
    if len(hits) > limit:
        threshold = heapq.nlargest(limit, map(first, hits))[-1]
        hits = [hit for hit in hits if first(hit) >= threshold]
    ranked = sorted(hits, key=itemgetter(_ID))
    for key in keys:
        ranked.sort(key=key, reverse=True)
    return ranked[:limit]


def licence_holders(query: str) -> dict[int, str]:
    """The listed experts holding the licence number that `query` is, each
    with the number as stored; empty when the query is not a well-formed
    licence number (text.licence_number_forms) or no listed expert holds it.

    Exact only, never a prefix or a part (a part of a number would let a
    scraper walk the register). One query, and only for a query shaped like
    a licence number: the qualification's unique index on the number, the
    listed rule read from the expert table as every search does."""
    forms = licence_number_forms(query)
    if not forms:
        return {}
    rows = (
        # The listed rule on the joined expert row (not ``expert__in`` a
        # subquery, which SQLite would make a list of every listed expert).
        Qualification.objects.filter(
            licence_number__in=forms,
            **{f"expert__{lookup}": value for lookup, value in LISTED.items()},
        )
        # The unique index's own condition: SQLite uses a partial index only
        # for a query that repeats it.
        .exclude(licence_number="")
        .order_by("expert_id", "pk")
        .values_list("expert_id", "licence_number")
    )
    holders: dict[int, str] = {}
    for expert_id, number in rows:
        holders.setdefault(expert_id, number)
    return holders


class ExpertSearch:
    """The result of expert_search: how many, a page of them, and facets.

    Made from the text's matches as a bitmap and a ranker: given the matches
    left by the filters and a limit, the ranker returns that many ids, best
    first. The holders of a licence number typed as the query (expert id to
    the number) are matches too, and come first, whatever the sort."""

    def __init__(
        self,
        matches: int,
        filters: dict[str, set[str]],
        ranker: Callable[[int, int], list[int]],
        holders: dict[int, str] | None = None,
    ) -> None:
        bitmaps = facet_bitmaps()
        self._bits = bitmaps.bits
        holders = holders or {}
        first = ids_to_bits(holders)
        matches |= first
        self._matches = matches
        # For each filtered key the experts having one of its codes (OR
        # within a key; AND across keys).
        self._wanted: dict[str, int] = {}
        for key, codes in filters.items():
            wanted = 0
            for code in codes:
                wanted |= self._bits.get(f"{key}={code}", 0)
            self._wanted[key] = wanted
        results = self._matches
        for wanted in self._wanted.values():
            results &= wanted
        self.total = results.bit_count()
        #: The listed experts, among the results, holding the licence number
        #: the query is, with the number as stored; first in the results.
        self.licence_holders = {
            pk: number for pk, number in sorted(holders.items()) if results >> pk & 1
        }
        rest = results & ~first
        self._ranked = [*self.licence_holders] + (
            ranker(rest, RESULT_WINDOW - len(self.licence_holders)) if rest else []
        )

    def ids(self, number: int = 1, size: int = 20) -> list[int]:
        """The expert ids on a page (1-based), best first."""
        size = max(1, min(int(size), PAGE_SIZE_MAX))
        number = int(number)
        start = (number - 1) * size
        reachable = min(self.total, RESULT_WINDOW)
        if number < 1 or (number > 1 and start >= reachable):
            raise PageOutOfRange(number)
        end = min(start + size, reachable)
        return self._ranked[start:end]

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
        counts: dict[str, dict[str, int]] = {key: {} for key in FACETS}
        bases: dict[str, int] = {}
        for facet, bits in self._bits.items():
            key, _, code = facet.partition("=")
            if key not in counts:
                continue
            if key not in bases:
                # Disjunctive counting: a facet ignores its own filter.
                base = self._matches
                for other, wanted in self._wanted.items():
                    if other != key:
                        base &= wanted
                bases[key] = base
            count = (bases[key] & bits).bit_count()
            if count:
                counts[key][code] = count
        result: dict[str, list[dict[str, Any]]] = {}
        for key, (_relation, model) in FACETS.items():
            found = counts[key]
            terms = (
                model._default_manager.filter(code__in=list(found)).order_by(
                    "sort_order", "code"
                )
                if found
                else []
            )
            items: list[dict[str, Any]] = [
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


def _hits_ranker(
    hits: list[tuple[Any, ...]], sort: str, has_query: bool
) -> Callable[[int, int], list[int]]:
    """A ranker over rows of _fetch (the admin's search and the years sort)."""

    def rank(results: int, limit: int) -> list[int]:
        size = (results.bit_length() >> 3) + 1
        member = results.to_bytes(size, "little")
        kept = [
            hit
            for hit in hits
            if hit[_ID] >> 3 < size and member[hit[_ID] >> 3] >> (hit[_ID] & 7) & 1
        ]
        return [hit[_ID] for hit in _rank(kept, sort, has_query, limit)]

    return rank


# --- the bitmap search ---------------------------------------------------------------
# Relevance and "last confirmed" are ranked from bitmaps (talentpool.search.bits):
# the matches are the experts having at least MIN_MATCH of the required
# tokens, counted with a bit-sliced counter (one int per binary digit of the
# count); the scores are a bit-sliced sum of the tokens' weights; the best are
# taken a score at a time from the top. The listed experts come from the
# expert table in the order of their confirmation, which breaks the ties.
# Same results as _fetch and _rank (tests/talentpool/test_search.py compares
# both), without reading one row per match.


#: Listed: public, verified, consented, not lapsed (talentpool.models.LISTED).
#: Literal values, spelled as in the partial index of migration 0007, which
#: only then serves the query (a parameter could be anything when the query
#: is planned); tests/talentpool/test_listed_rule.py checks the two agree.
LISTED_SQL = listed_where(literal=True)[0]


def _listed_order(with_dates: bool) -> list[tuple[Any, ...]]:
    """The listed experts as (id,) or (id, confirmation) rows, the most
    recently confirmed first, never-confirmed last, then by id."""
    postgresql = connection.vendor == "postgresql"
    if not with_dates:
        column = ""
    elif postgresql:
        column = ", extract(epoch from last_confirmed_at)"
    else:
        column = ", last_confirmed_at"
    nulls = " NULLS LAST" if postgresql else ""  # SQLite's DESC puts them last
    sql = (
        f"SELECT id{column} FROM {_quoted(Expert)} WHERE {LISTED_SQL}"
        f" ORDER BY last_confirmed_at DESC{nulls}, id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchall()


def _at_least(sets: list[int], needed: int) -> int:
    """The members of at least `needed` of `sets`."""
    if needed <= 1:
        union = 0
        for members in sets:
            union |= members
        return union
    if needed > len(sets):
        return 0
    # A counter per member, one int per binary digit: adding a set is a
    # ripple of carries through the digits.
    digits: list[int] = []
    for members in sets:
        carry, place = members, 0
        while carry:
            if place == len(digits):
                digits.append(carry)
                break
            digits[place], carry = digits[place] ^ carry, digits[place] & carry
            place += 1
    # count >= needed, compared from the highest digit down.
    greater, equal = 0, -1
    for place in reversed(range(max(len(digits), needed.bit_length()))):
        digit = digits[place] if place < len(digits) else 0
        if needed >> place & 1:
            equal &= digit
        else:
            greater |= equal & digit
            equal &= ~digit
    return greater | equal


def _add_weight(digits: list[int], weight: int, members: int) -> None:
    """Add `weight` to the bit-sliced scores of `members`."""
    carry, place = 0, 0
    while weight >> place or carry:
        addend = members if weight >> place & 1 else 0
        if place == len(digits):
            digits.append(0)
        digit = digits[place]
        digits[place] = digit ^ addend ^ carry
        carry = (digit & addend) | (carry & (digit ^ addend))
        place += 1


def _score_of(digit_bytes: list[bytes], pk: int) -> int:
    index, bit = pk >> 3, pk & 7
    return sum(
        (data[index] >> bit & 1) << place
        for place, data in enumerate(digit_bytes)
        if index < len(data)
    )


def _in_order(members: int, order: list[int], limit: int, position: Any) -> list[int]:
    """Up to `limit` of `members` in the order of `order`."""
    count = members.bit_count()
    if count * 16 < len(order):
        # Few: take them out of the bitmap and sort them.
        positions = position()
        return sorted(bits_to_ids(members), key=positions.__getitem__)[:limit]
    size = (members.bit_length() >> 3) + 1
    data = members.to_bytes(size, "little")
    found: list[int] = []
    for pk in order:
        if pk >> 3 < size and data[pk >> 3] >> (pk & 7) & 1:
            found.append(pk)
            if len(found) == limit:
                break
    return found


def _bitmap_search(
    required: list[str], bonus: list[str], sort: str
) -> tuple[int, Callable[[int, int], list[int]]]:
    """(the listed experts matching, a ranker) for the relevance and
    "confirmed" sorts."""
    rows = _listed_order(with_dates=sort == "confirmed" and bool(required))
    order = [row[0] for row in rows]
    listed = ids_to_bits(order)
    digits: list[int] = []
    if required:
        found = bits_for_tokens(required + bonus)
        present = []
        for token in required:
            members = 0
            for bits in found.get(token, {}).values():
                members |= bits
            present.append(members)
        needed = max(1, math.ceil(MIN_MATCH * len(required)))
        matches = _at_least(present, needed) & listed
        for token in required + bonus:
            for weight, bits in found.get(token, {}).items():
                _add_weight(digits, weight, bits & matches)
    else:
        matches = listed
    positions: dict[int, int] = {}

    def position() -> dict[int, int]:
        if not positions:
            positions.update(zip(order, range(len(order)), strict=True))
        return positions

    def by_relevance(results: int, limit: int) -> list[int]:
        ranked: list[int] = []
        left = results
        while left and len(ranked) < limit:
            best = left
            for digit in reversed(digits):
                if best & digit:
                    best &= digit
            ranked += _in_order(best, order, limit - len(ranked), position)
            left ^= best
        return ranked

    def by_confirmation(results: int, limit: int) -> list[int]:
        # Walk the listed experts in order; experts confirmed at the same
        # moment (or never) go by score, then id.
        size = (results.bit_length() >> 3) + 1
        data = results.to_bytes(size, "little")
        digit_bytes = [
            digit.to_bytes((digit.bit_length() >> 3) + 1, "little") for digit in digits
        ]
        ranked: list[int] = []
        group: list[int] = []
        group_key: Any = object()
        for row in rows:
            pk = row[0]
            if pk >> 3 >= size or not data[pk >> 3] >> (pk & 7) & 1:
                continue
            key = row[1] if len(row) > 1 else None
            if group and key != group_key:
                group.sort(key=lambda pk: (-_score_of(digit_bytes, pk), pk))
                ranked += group
                group = []
                if len(ranked) >= limit:
                    break
            group.append(pk)
            group_key = key
        if len(ranked) < limit and group:
            group.sort(key=lambda pk: (-_score_of(digit_bytes, pk), pk))
            ranked += group
        return ranked[:limit]

    if sort == "confirmed" and required:
        return matches, by_confirmation
    return matches, by_relevance


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
    A query that is a licence number also finds, first, the listed expert
    holding exactly that number (licence_holders). Reads only."""
    if sort not in SORTS:
        raise ValueError(f"Unknown sort {sort!r}")
    cleaned: dict[str, set[str]] = {}
    for key, codes in (filters or {}).items():
        if key not in FACETS:
            raise ValueError(f"Unknown filter {key!r}")
        kept = {code for code in codes if code}
        if kept:
            cleaned[key] = kept
    required, bonus = query_tokens(query_normalise(query))
    if sort == "years":
        hits = _fetch(required, bonus, listed=True)
        matches = ids_to_bits([hit[_ID] for hit in hits])
        ranker = _hits_ranker(hits, sort, bool(required))
    else:
        matches, ranker = _bitmap_search(required, bonus, sort)
    return ExpertSearch(matches, cleaned, ranker, licence_holders(query))


def experts_matching(queryset: QuerySet[Expert], query: str) -> QuerySet[Expert]:
    """The admin's search: the experts of `queryset` (any status) matching
    `query` with the same Chinese, pinyin and English handling as the public
    search, best first, at most ADMIN_RESULTS_MAX. An empty query returns the
    queryset unchanged."""
    if not query_tokens(query_normalise(query))[0]:
        return queryset
    ranked = _rank(_hits(query, listed=False), "relevance", True, ADMIN_RESULTS_MAX)
    ids = [hit[_ID] for hit in ranked]
    order = Case(
        *(When(pk=pk, then=position) for position, pk in enumerate(ids)),
        output_field=IntegerField(),
    )
    return queryset.filter(pk__in=ids).order_by(order, "pk")

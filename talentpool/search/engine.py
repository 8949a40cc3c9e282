"""Finding experts: a query becomes concepts (talentpool.search.query),
the experts meeting them are found and scored on bitmaps
(talentpool.search.bits: one small query for the tokens' bitmaps, and the
facet bitmaps a process keeps), and filtering, facet counting and ranking
happen here, in Python.

An expert's score is, for each concept met, CONCEPT_WORTH plus how well it
was met (the best alternative's field weight times its factor, or the worth
of a term the expert has): experts meeting every concept come first, then
those meeting most. Ranking in Python from bitmaps is what makes SQLite and
PostgreSQL give the same order (tests/talentpool/test_search_backends.py
checks it): no backend's own text ranking is involved.
"""

import heapq
import math
import re
from collections.abc import Callable
from operator import itemgetter
from typing import Any

from django.db import connection
from django.db.models import Case, F, IntegerField, Model, QuerySet, When

from talentpool.contact_details import without_contact_details
from talentpool.models import LISTED, Expert, Qualification
from talentpool.search.bits import bits_for_tokens, bits_to_ids, ids_to_bits
from talentpool.search.facets import facet_bitmaps
from talentpool.search.index import FACETS, LABEL_WEIGHTS
from talentpool.search.query import FACTOR_SYNONYM, TERM, Concept, query_concepts
from talentpool.search.text import licence_number_forms, query_normalise

#: Share of a query's concepts an expert must meet when some expert meets
#: that many; otherwise the most any expert meets (the query is widened).
MIN_MATCH = 0.6
#: What meeting one concept adds to the score: more than the best match of
#: all the others together, so that experts meeting more concepts come first.
CONCEPT_WORTH = 1024
#: Largest page size; a larger one asked for is cut to this.
PAGE_SIZE_MAX = 50
#: Only this many results of a search can be paged through (scraping,
#: docs/decisions.md, decision 3); `total` still says how many matched.
RESULT_WINDOW = 200
#: Most experts the admin's search lists, best first.
ADMIN_RESULTS_MAX = 500
SORTS = ("relevance", "years", "confirmed")
#: Filters that are not vocabularies: a flag in the expert's index document
#: (talentpool.search.index.expert_document).
FLAGS = ("reachable",)


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


class Matching:
    """The experts a query's concepts find, as bitmaps: `members` meet at
    least one concept (every expert of the universe when there are none);
    `counts` is the bit-sliced count of concepts each meets, and `digits`
    the bit-sliced score."""

    def __init__(
        self, members: int, counts: list[int], concepts: int, digits: list[int]
    ) -> None:
        self.members = members
        self.counts = counts
        self.concepts = concepts
        self.digits = digits

    def most_met(self, experts: int) -> int:
        """The most concepts any of `experts` meets."""
        best, count = experts, 0
        for place in reversed(range(len(self.counts))):
            if best & self.counts[place]:
                best &= self.counts[place]
                count |= 1 << place
        return count

    def meeting(self, experts: int) -> tuple[int, bool]:
        """Of `experts`, those meeting enough concepts: MIN_MATCH of them,
        or the most any meets when nobody meets that many; and whether that
        widened the query (nobody meets every concept)."""
        experts &= self.members
        if not self.concepts or not experts:
            return experts, False
        best = self.most_met(experts)
        needed = min(max(1, math.ceil(MIN_MATCH * self.concepts)), best)
        return experts & _digits_at_least(self.counts, needed), best < self.concepts


class ExpertSearch:
    """The result of expert_search: how many, a page of them, and facets.

    Made from the query's Matching and a ranker: given the results left by
    the filters and a limit, the ranker returns that many ids, best first.
    The results are the experts meeting every concept, then those meeting
    most (`widened` says nobody met them all). The holders of a licence
    number typed as the query (expert id to the number) are results too, and
    come first, whatever the sort."""

    def __init__(
        self,
        matching: Matching,
        filters: dict[str, set[str]],
        ranker: Callable[[int, int], list[int]],
        holders: dict[int, str] | None = None,
    ) -> None:
        bitmaps = facet_bitmaps()
        self._bits = bitmaps.bits
        holders = holders or {}
        first = ids_to_bits(holders)
        # For each filtered key the experts having one of its codes (OR
        # within a key; AND across keys).
        self._wanted: dict[str, int] = {}
        for key, codes in filters.items():
            wanted = 0
            for code in codes:
                wanted |= self._bits.get(f"{key}={code}", 0)
            self._wanted[key] = wanted
        filtered = -1
        for wanted in self._wanted.values():
            filtered &= wanted
        # The facets count what the query finds with no filter; the results
        # are widened within the filters if need be.
        self._matches, _ = matching.meeting(matching.members)
        self._matches |= first
        results, self.widened = matching.meeting(matching.members & filtered)
        results |= first & filtered
        self.total = results.bit_count()
        #: The listed experts, among the results, holding the licence number
        #: the query is, with the number as stored; first in the results.
        self.licence_holders = {
            pk: number for pk, number in sorted(holders.items()) if results >> pk & 1
        }
        if self.licence_holders:
            self.widened = False
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
        """The experts on a page, best first, with what a result's card
        shows loaded (Expert.SUMMARY_FIELDS: organisation, district, tier,
        categories; the other terms and the qualifications are the
        profile's). Page 1 of no results is empty; a page past the end (or
        past RESULT_WINDOW results) raises PageOutOfRange."""
        ids = self.ids(number, size)
        experts = {
            expert.pk: expert
            for expert in Expert.objects.filter(pk__in=ids)
            .select_related("organisation", "district", "talent_tier")
            .prefetch_related("categories")
        }
        return [experts[pk] for pk in ids if pk in experts]

    def facets(self) -> dict[str, list[dict[str, Any]]]:
        """For each facet key, the terms found among the text's matches with
        the other keys' filters applied, with counts: most first, then in the
        vocabulary's order. Only terms with a count."""
        counts: dict[str, dict[str, int]] = {key: {} for key in (*FACETS, *FLAGS)}
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
        reachable = counts["reachable"].get("yes", 0)
        result["reachable"] = (
            [
                {
                    "code": "yes",
                    "label_zh": "可联系",
                    "label_en": "Can be contacted",
                    "count": reachable,
                }
            ]
            if reachable
            else []
        )
        return result


# --- the bitmap search ---------------------------------------------------------------
# Every sort works on bitmaps (talentpool.search.bits): each concept's
# alternatives give, per worth, the experts meeting it that well; an expert
# takes the best; the counts of concepts met are a bit-sliced counter (one
# int per binary digit of the count) and the scores a bit-sliced sum; the
# best are taken a score at a time from the top. The listed experts come
# from the expert table in the order of their confirmation, which breaks the
# ties.


#: Listed: public, verified, consented, not lapsed (talentpool.models.LISTED).
#: Literal values, spelled as in the partial index of migration 0007, which
#: only then serves the query (a parameter could be anything when the query
#: is planned); tests/talentpool/test_listed_rule.py checks the two agree.
LISTED_SQL = listed_where(literal=True)[0]


def _listed_order(with_dates: bool, with_years: bool = False) -> list[tuple[Any, ...]]:
    """The listed experts as (id,), (id, confirmation) or (id, confirmation,
    years) rows, the most recently confirmed first, never-confirmed last,
    then by id."""
    postgresql = connection.vendor == "postgresql"
    if not with_dates and not with_years:
        column = ""
    elif postgresql:
        column = ", extract(epoch from last_confirmed_at)"
    else:
        column = ", last_confirmed_at"
    if with_years:
        column += ", years_of_practice"
    nulls = " NULLS LAST" if postgresql else ""  # SQLite's DESC puts them last
    sql = (
        f"SELECT id{column} FROM {_quoted(Expert)} WHERE {LISTED_SQL}"
        f" ORDER BY last_confirmed_at DESC{nulls}, id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchall()


def _counter(sets: list[int]) -> list[int]:
    """For each member of any of `sets`, how many it is in, bit-sliced: one
    int per binary digit of the count, adding a set a ripple of carries."""
    digits: list[int] = []
    for members in sets:
        carry, place = members, 0
        while carry:
            if place == len(digits):
                digits.append(carry)
                break
            digits[place], carry = digits[place] ^ carry, digits[place] & carry
            place += 1
    return digits


def _digits_at_least(digits: list[int], needed: int) -> int:
    """The members whose bit-sliced count is at least `needed` (>= 1)."""
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


_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _one_letter_away(word: str) -> list[str]:
    """Words one letter from `word`: a letter missing, extra, swapped with
    the next or replaced (zhangwie, zhangwi, zhangwel → zhangwei)."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    edits = {a + b[1:] for a, b in splits if b}
    edits |= {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    edits |= {a + c + b[1:] for a, b in splits if b for c in _LETTERS}
    edits |= {a + c + b for a, b in splits for c in _LETTERS}
    edits.discard(word)
    return sorted(e for e in edits if len(e) > 3)


def _levels(
    concept: Concept, found: dict[str, dict[int, int]], facets: dict[str, int]
) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """(worth, experts) pairs of a concept, best first: for each alternative
    and field weight, the experts having every token of it at least that
    heavily; and for each term, the experts having it."""
    levels: list[tuple[int, int]] = []
    terms: list[tuple[int, int]] = []
    # A word naming a term (litigation, the service) is not met by the same
    # word inside another term's label ("litigation assistant" in a
    # category): only by the term, or by the name, organisation or
    # biography.
    names_term = any(worth == TERM for _facet, worth in concept.facets)
    for tokens, factor in concept.alternatives:
        weights = [found.get(token, {}) for token in tokens]
        if not all(weights):
            continue
        at_least = [0] * len(weights)
        # Experts whose least weight of the tokens is a label's, when the
        # word names a term: not met by this alternative at all.
        above = excluded = 0
        for weight in sorted({w for each in weights for w in each}, reverse=True):
            members = -1
            for i, each in enumerate(weights):
                at_least[i] |= each.get(weight, 0)
                members &= at_least[i]
            if names_term and weight in LABEL_WEIGHTS:
                excluded |= members & ~above
            elif members & ~excluded:
                levels.append((weight * factor, members & ~excluded))
            above = members
    for facet, worth in concept.facets:
        members = facets.get(facet, 0)
        if members:
            terms.append((worth, members))
    levels.sort(key=lambda level: -level[0])
    terms.sort(key=lambda level: -level[0])
    return levels, terms


def _match(concepts: list[Concept], universe: int) -> Matching:
    """The experts of `universe` the concepts find, counted and scored."""
    if not concepts:
        return Matching(universe, [], 0, [])
    found = bits_for_tokens(sorted({t for c in concepts for t in c.tokens()}))
    missing = [c for c in concepts if c.fuzzy and c.fuzzy not in found]
    if missing:
        # A Latin word nobody has as typed: a name mistyped by one letter.
        near = {c.fuzzy: _one_letter_away(c.fuzzy) for c in missing}
        close = bits_for_tokens(sorted({e for edits in near.values() for e in edits}))
        for concept in missing:
            for edit in near[concept.fuzzy]:
                if edit in close:
                    concept.add_tokens((edit,), FACTOR_SYNONYM)
                    found[edit] = close[edit]
    facets = facet_bitmaps().bits
    digits: list[int] = []
    met: list[int] = []
    for concept in concepts:
        # The best text match and the best term an expert has, added: a
        # notary whose profile says 存证 before one who only offers the
        # service the word stands for.
        assigned = 0
        for levels in _levels(concept, found, facets):
            done = 0
            for worth, members in levels:
                new = members & universe & ~done
                if new:
                    _add_weight(digits, worth, new)
                    done |= new
            assigned |= done
        if concept.count:
            if assigned:
                _add_weight(digits, CONCEPT_WORTH, assigned)
            met.append(assigned)
    members = 0
    for each in met:
        members |= each
    return Matching(members, _counter(met), len(met), digits)


def _relevance_ranker(
    digits: list[int], order: list[int]
) -> Callable[[int, int], list[int]]:
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

    return by_relevance


def _rows_ranker(
    digits: list[int], rows: list[tuple[Any, ...]], sort: str, has_query: bool
) -> Callable[[int, int], list[int]]:
    """The years sort: the result rows (id, confirmation, years) with their
    scores, ranked by _rank."""

    def rank(results: int, limit: int) -> list[int]:
        size = (results.bit_length() >> 3) + 1
        data = results.to_bytes(size, "little")
        digit_bytes = [
            digit.to_bytes((digit.bit_length() >> 3) + 1, "little") for digit in digits
        ]
        hits = [
            (row[0], _score_of(digit_bytes, row[0]), row[1], row[2])
            for row in rows
            if row[0] >> 3 < size and data[row[0] >> 3] >> (row[0] & 7) & 1
        ]
        return [hit[_ID] for hit in _rank(hits, sort, has_query, limit)]

    return rank


def _confirmation_ranker(
    digits: list[int], rows: list[tuple[Any, ...]]
) -> Callable[[int, int], list[int]]:
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

    return by_confirmation


def expert_search(
    *,
    query: str = "",
    filters: dict[str, list[str]] | None = None,
    sort: str = "relevance",
    language: str = "zh-hans",
) -> ExpertSearch:
    """Search the listed experts (public, verified, consented).

    `query` is free text in Simplified or Traditional Chinese, pinyin or
    English, cut to QUERY_MAX_CHARS, read as concepts (query_concepts); an
    empty one lists everyone. `filters` maps facet keys (category, ip_type,
    service, industry, district, language) and flags (reachable: ["yes"])
    to codes: AND across keys, OR within a key; unknown codes match
    nothing, unknown keys raise ValueError. `sort` is relevance (most
    recently confirmed first for an empty query), years or confirmed.
    `language` is accepted for the interface: labels come in both languages.
    A query that is a licence number also finds, first, the listed expert
    holding exactly that number (licence_holders). Reads only."""
    if sort not in SORTS:
        raise ValueError(f"Unknown sort {sort!r}")
    cleaned: dict[str, set[str]] = {}
    for key, codes in (filters or {}).items():
        if key not in FACETS and key not in FLAGS:
            raise ValueError(f"Unknown filter {key!r}")
        kept = {code for code in codes if code}
        if kept:
            cleaned[key] = kept
    # Contact details are never searchable (docs/decisions.md, decision 3):
    # a query made of them finds nobody, not everyone.
    text = without_contact_details(query, replacement=" ")
    holders = licence_holders(query)
    if holders:
        text = query
    elif text != query and not query_normalise(text):
        return ExpertSearch(Matching(0, [], 0, []), cleaned, lambda _r, _l: [])
    concepts = query_concepts(text)
    has_query = any(concept.count for concept in concepts)
    rows = _listed_order(
        with_dates=sort in ("confirmed", "years") and has_query,
        with_years=sort == "years",
    )
    order = [row[0] for row in rows]
    matching = _match(concepts, ids_to_bits(order))
    ranker: Callable[[int, int], list[int]]
    if sort == "years":
        ranker = _rows_ranker(matching.digits, rows, sort, has_query)
    elif sort == "confirmed" and has_query:
        ranker = _confirmation_ranker(matching.digits, rows)
    else:
        ranker = _relevance_ranker(matching.digits, order)
    return ExpertSearch(matching, cleaned, ranker, holders)


def experts_matching(queryset: QuerySet[Expert], query: str) -> QuerySet[Expert]:
    """The admin's search: the experts of `queryset` (any status) matching
    `query` with the same reading of the query as the public search, best
    first, at most ADMIN_RESULTS_MAX. An empty query returns the queryset
    unchanged."""
    concepts = query_concepts(query)
    if not any(concept.count for concept in concepts):
        return queryset
    order = list(
        queryset.order_by(
            F("last_confirmed_at").desc(nulls_last=True), "pk"
        ).values_list("pk", flat=True)
    )
    matching = _match(concepts, ids_to_bits(order))
    results, _ = matching.meeting(matching.members)
    ids = _relevance_ranker(matching.digits, order)(results, ADMIN_RESULTS_MAX)
    position = Case(
        *(When(pk=pk, then=rank) for rank, pk in enumerate(ids)),
        output_field=IntegerField(),
    )
    return queryset.filter(pk__in=ids).order_by(position, "pk")

"""The experts' facet codes as bitmaps, for filtering and counting matches.

A search that matches most of the pool (知识产权 is in 86 % of the generated
biographies) used to read every match's facet codes from the database and
count them in Python, which was most of its time. Here each facet code
(``category=lawyer``) is a Python int used as a set of bits, bit *n* standing
for the expert whose id is *n*; the matches of a text are one more such int.
Filtering is then an AND, and a facet's count the number of bits left
(``int.bit_count``), whatever the number of matches: microseconds for 100,000
experts.

The bitmaps are built from ExpertSearchDocument.facets and kept in the
process. They are not trusted blindly (docs/architecture.md: no in-memory state that two
workers would disagree on): every index write adds an ExpertSearchChange row
with a random stamp in its own transaction, and each search first reads the
count and the sum of the stamps (a table of a few hundred rows at most). When
they differ from those the bitmaps were built at, the bitmaps are built again.
A committed change is therefore seen by every process at its next search; an
uncommitted one only by the transaction that made it; a rolled-back one by
none. The stamps are read before the documents, so bitmaps are never labelled
newer than they are.
"""

import random
import threading
from dataclasses import dataclass

from django.db import connection, models

from talentpool.models import ExpertSearchChange, ExpertSearchDocument
from talentpool.search.bits import ids_to_bits

#: Change rows kept: older ones are deleted by a writer now and then.
CHANGES_KEPT = 256


def _quoted(model: type[models.Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


@dataclass(frozen=True)
class FacetBitmaps:
    """For each ``key=code`` facet, the set of expert ids that have it."""

    version: tuple[str, int, int]
    bits: dict[str, int]


_lock = threading.Lock()
_cached: FacetBitmaps | None = None


def index_changed() -> None:
    """Record, in the caller's transaction, that index documents changed.

    After: the change row is written; every process rebuilds its bitmaps at
    its next search once the transaction commits. Now and then the oldest rows
    are deleted (the count and sum change either way)."""
    change = ExpertSearchChange.objects.create(stamp=random.getrandbits(31))
    if change.pk % CHANGES_KEPT == 0:
        ExpertSearchChange.objects.filter(pk__lte=change.pk - CHANGES_KEPT).delete()


def _version() -> tuple[str, int, int]:
    with connection.cursor() as cursor:
        table = _quoted(ExpertSearchChange)
        cursor.execute(f"SELECT COUNT(*), COALESCE(SUM(stamp), 0) FROM {table}")
        count, total = cursor.fetchone()
    # The database's name too: tests and the benchmark switch databases in
    # one process.
    return (str(connection.settings_dict["NAME"]), int(count), int(total))


def _build(version: tuple[str, int, int]) -> FacetBitmaps:
    positions: dict[str, list[int]] = {}
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT expert_id, facets FROM {_quoted(ExpertSearchDocument)}"
            " WHERE facets <> ''"
        )
        for expert_id, facets in cursor.fetchall():
            for facet in facets.split():
                positions.setdefault(facet, []).append(expert_id)
    bits = {}
    for facet, ids in positions.items():
        bits[facet] = ids_to_bits(ids)
    return FacetBitmaps(version=version, bits=bits)


def facet_bitmaps() -> FacetBitmaps:
    """The facet bitmaps as the database says now (one small query when
    nothing changed since they were built in this process)."""
    global _cached
    version = _version()
    cached = _cached
    if cached is not None and cached.version == version:
        return cached
    with _lock:
        if _cached is not None and _cached.version == version:
            return _cached
        _cached = _build(version)
        return _cached

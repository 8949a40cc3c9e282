"""The search index read as bitmaps: for each token and weight, the set of
experts having it, as a Python int whose bit *n* stands for expert id *n*.

A word that most of the pool has (知识产权 in 86 % of the generated
biographies) is ~86,000 rows of ExpertToken, which the database had to read
and group for every search; here it is about a dozen rows of at most 1 KiB
(ExpertTokenBits, one per 8,192 expert ids), and matching, counting and
scoring are integer operations on 12 KiB ints (talentpool.search.engine).

The rows live in the database, written by the indexer in the same
transaction as the tokens (bits_update), so there is nothing to keep in step
between processes: a search reads what its transaction sees.
"""

import re
import sys
from array import array
from collections import deque
from collections.abc import Iterable
from itertools import repeat

from django.db import connection

from talentpool.models import ExpertTokenBits

#: Expert ids per row: 2 ** CHUNK_SHIFT (8,192, a row of at most 1 KiB).
CHUNK_SHIFT = 13
CHUNK_BYTES = (1 << CHUNK_SHIFT) >> 3
#: Tokens per IN (...) list (SQLite allows 32,766 parameters).
IN_BATCH = 500
# A lock number of the portal's own for pg_advisory_xact_lock(key, chunk).
_LOCK_KEY = 0x7A1E


def _table() -> str:
    return connection.ops.quote_name(ExpertTokenBits._meta.db_table)


def _to_bytes(value: int) -> bytes:
    return value.to_bytes((value.bit_length() + 7) >> 3, "little")


# A row's bits are stored in one of two forms, whichever is shorter, told
# apart by the first byte: the bitmap itself (trailing zero bytes left out),
# or the positions of its few set bits as 16-bit numbers. Most tokens (a
# name, a rare word) have a handful of experts in a chunk: a few bytes
# instead of up to 1 KiB each (167 MB against 9 MB for 100,000 generated
# experts).
_BITMAP, _POSITIONS = b"\0", b"\1"


def _encode(value: int) -> bytes:
    """A chunk's bits as stored."""
    bitmap = _to_bytes(value)
    if value.bit_count() * 2 < len(bitmap):
        positions = array("H", bits_to_ids(value))
        if sys.byteorder != "little":
            positions.byteswap()
        return _POSITIONS + positions.tobytes()
    return _BITMAP + bitmap


def _decode(data: bytes) -> int:
    """A chunk's bits from their stored form."""
    if data[:1] == _POSITIONS:
        positions = array("H")
        positions.frombytes(data[1:])
        if sys.byteorder != "little":
            positions.byteswap()
        return ids_to_bits(positions)
    return int.from_bytes(data[1:], "little")


def ids_to_bits(ids: Iterable[int]) -> int:
    """The set of these (non-negative) ids as an int's bits."""
    ids = list(ids)
    if not ids:
        return 0
    # One character per id, "1" where present, read as a binary number: the
    # loops run in C (map, bytes.translate, int), about ten times faster than
    # setting bits one by one in Python for the 90,000 listed experts.
    digits = bytearray(max(ids) + 1)
    deque(map(digits.__setitem__, ids, repeat(1)), maxlen=0)
    digits.reverse()
    return int(digits.translate(_BINARY_DIGITS), 2)


_BINARY_DIGITS = bytes.maketrans(b"\0\1", b"01")
_NONZERO = re.compile(rb"[^\0]")


def bits_to_ids(value: int) -> list[int]:
    """The ids whose bits are set, ascending."""
    ids: list[int] = []
    data = _to_bytes(value)
    # Only the non-zero bytes are looked at (found in C): a few experts in a
    # bitmap of 100,000 cost a few microseconds.
    for match in _NONZERO.finditer(data):
        index = match.start()
        byte, base = data[index], index << 3
        ids.extend(base + bit for bit in range(8) if byte >> bit & 1)
    return ids


def bits_update(
    *,
    ids: list[int],
    old: Iterable[tuple[int, str, int]],
    new: Iterable[tuple[int, str, int]],
) -> None:
    """Make the bitmaps of the experts `ids` say `new` instead of `old`.

    `old` and `new` are (expert id, token, weight) rows: what the index held
    for these experts before, and what it holds now. Runs inside the caller's
    transaction (the indexer's). Before: the bitmaps agree with `old`. After:
    each of these experts' bits is set where `new` has it and clear
    everywhere else; bitmaps left empty are deleted. Writers of the same
    chunk queue on a lock (PostgreSQL's advisory lock; SQLite has one writer
    at a time anyway), so two concurrent updates never overwrite each other.
    """
    clear: dict[int, int] = {}
    for pk in ids:
        chunk = pk >> CHUNK_SHIFT
        clear[chunk] = clear.get(chunk, 0) | 1 << (pk & ((1 << CHUNK_SHIFT) - 1))
    wanted: dict[tuple[str, int, int], int] = {}
    for pk, token, weight in new:
        key = (token, weight, pk >> CHUNK_SHIFT)
        wanted[key] = wanted.get(key, 0) | 1 << (pk & ((1 << CHUNK_SHIFT) - 1))
    touched_tokens: dict[int, set[str]] = {chunk: set() for chunk in clear}
    for pk, token, _weight in old:
        touched_tokens.setdefault(pk >> CHUNK_SHIFT, set()).add(token)
    for token, _weight, chunk in wanted:
        touched_tokens.setdefault(chunk, set()).add(token)
    table = _table()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for chunk in sorted(touched_tokens):
                cursor.execute(
                    "SELECT pg_advisory_xact_lock(%s, %s)", [_LOCK_KEY, chunk]
                )
        current: dict[tuple[str, int, int], int] = {}
        for chunk, tokens in sorted(touched_tokens.items()):
            listed = sorted(tokens)
            for start in range(0, len(listed), IN_BATCH):
                batch = listed[start : start + IN_BATCH]
                marks = ", ".join(["%s"] * len(batch))
                cursor.execute(
                    f"SELECT token, weight, bits FROM {table}"
                    f" WHERE chunk = %s AND token IN ({marks})",
                    [chunk, *batch],
                )
                for token, weight, data in cursor.fetchall():
                    current[(token, weight, chunk)] = _decode(bytes(data))
        gone: list[tuple[str, int, int]] = []
        kept: list[tuple[str, int, int, bytes]] = []
        for key in sorted(set(current) | set(wanted)):
            before = current.get(key, 0)
            after = (before & ~clear.get(key[2], 0)) | wanted.get(key, 0)
            if after == before:
                continue
            if after:
                kept.append((*key, _encode(after)))
            else:
                gone.append(key)
        if gone:
            cursor.executemany(
                f"DELETE FROM {table} WHERE token = %s AND weight = %s AND chunk = %s",
                gone,
            )
        if kept:
            cursor.executemany(
                f"INSERT INTO {table} (token, weight, chunk, bits)"
                " VALUES (%s, %s, %s, %s)"
                " ON CONFLICT (token, weight, chunk)"
                " DO UPDATE SET bits = excluded.bits",
                kept,
            )


def bits_for_tokens(tokens: list[str]) -> dict[str, dict[int, int]]:
    """For each token, {weight: bitmap of the experts having it with that
    weight} (tokens nobody has are left out)."""
    if not tokens:
        return {}
    parts: dict[tuple[str, int], dict[int, bytes]] = {}
    marks = ", ".join(["%s"] * len(tokens))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT token, weight, chunk, bits FROM {_table()}"
            f" WHERE token IN ({marks})",
            tokens,
        )
        for token, weight, chunk, data in cursor.fetchall():
            data = bytes(data)
            if data[:1] != _BITMAP:
                data = _BITMAP + _to_bytes(_decode(data))
            parts.setdefault((token, weight), {})[chunk] = data[1:]
    result: dict[str, dict[int, int]] = {}
    for (token, weight), chunks in parts.items():
        buffer = bytearray((max(chunks) + 1) * CHUNK_BYTES)
        for chunk, data in chunks.items():
            start = chunk * CHUNK_BYTES
            buffer[start : start + len(data)] = data
        result.setdefault(token, {})[weight] = int.from_bytes(buffer, "little")
    return result


def bits_rebuild() -> None:
    """Rebuild every bitmap from ExpertToken (the migration that adds the
    bitmaps runs it). Streams the tokens in order: one token's bitmaps in
    memory at a time."""
    from talentpool.models import ExpertToken

    token_table = connection.ops.quote_name(ExpertToken._meta.db_table)
    table = _table()
    insert = f"INSERT INTO {table} (token, weight, chunk, bits) VALUES (%s, %s, %s, %s)"
    rows: list[tuple[str, int, int, bytes]] = []
    current: tuple[str, int] | None = None
    chunks: dict[int, bytearray] = {}
    mask = (1 << CHUNK_SHIFT) - 1

    def flush() -> None:
        if current is not None:
            for chunk, data in chunks.items():
                value = int.from_bytes(data, "little")
                rows.append((current[0], current[1], chunk, _encode(value)))

    with connection.cursor() as writer:
        writer.execute(f"DELETE FROM {table}")
        # A server-side cursor on PostgreSQL: millions of rows, not in memory.
        reader = connection.chunked_cursor()
        try:
            reader.execute(
                f"SELECT token, weight, expert_id FROM {token_table}"
                " ORDER BY token, weight"
            )
            while batch := reader.fetchmany(10_000):
                for token, weight, pk in batch:
                    if (token, weight) != current:
                        flush()
                        current, chunks = (token, weight), {}
                    data = chunks.get(pk >> CHUNK_SHIFT)
                    if data is None:
                        data = chunks[pk >> CHUNK_SHIFT] = bytearray(CHUNK_BYTES)
                    data[(pk & mask) >> 3] |= 1 << (pk & 7)
                if len(rows) >= 5_000:
                    writer.executemany(insert, rows)
                    rows.clear()
        finally:
            reader.close()
        flush()
        if rows:
            writer.executemany(insert, rows)

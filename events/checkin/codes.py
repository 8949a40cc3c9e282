"""Check-in codes: 8 characters of Crockford's base32, read as people read.

A code is 8 characters from ``0-9 A-Z`` less I, L, O and U (40 bits, about
10^12 codes), stored upper case without separators and shown in two groups,
``K7QM-3XPA``. Reading is forgiving the way Crockford's alphabet intends:
case is ignored, ``i``/``l`` read as ``1`` and ``o`` as ``0``, hyphens and
spaces are dropped. A code that does not read as 8 such characters is not a
short code at all.

Registrations made before the short codes (20 URL-safe characters, case
sensitive) got a short code in events migration 0004; their old code was
kept in ``Registration.legacy_code`` and is still accepted, **exactly as
written** (no case folding: two old codes may differ only in case), so the
QR codes and e-mails already sent go on working.
"""

from __future__ import annotations

import re
import secrets

from django.db.models import Q

#: Crockford's base32 alphabet: no I, L, O, U.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 8
#: The stored form, as a database CHECK constraint and for validation.
CODE_PATTERN = r"^[0-9A-HJKMNP-TV-Z]{8}$"
_CODE = re.compile(CODE_PATTERN)
#: What reading maps: look-alikes to their digit; separators away.
_READ = str.maketrans({"I": "1", "L": "1", "O": "0", "-": None, " ": None})
_SPACES = re.compile(r"[\s\u2010-\u2015\u2212]+")


def code_new() -> str:
    """A random code in its stored form (``secrets``: unpredictable)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def code_normalise(text: str | None) -> str | None:
    """The stored form of a typed or scanned short code, or None when the
    text is no short code (wrong length, a U, other characters)."""
    if not text:
        return None
    # Any kind of space or dash a phone keyboard or a PDF may give.
    cleaned = _SPACES.sub("", text.strip()).upper().translate(_READ)
    return cleaned if _CODE.match(cleaned) else None


def code_display(code: str) -> str:
    """A code as people read it: ``K7QM-3XPA`` (a legacy code unchanged)."""
    if code and _CODE.match(code):
        return f"{code[:4]}-{code[4:]}"
    return code


def code_query(text: str | None) -> Q | None:
    """The filter for the registration that ``text`` names: its short code
    (read forgivingly), or else an old long code exactly as given; None for
    nothing usable."""
    text = (text or "").strip()
    if not text:
        return None
    short = code_normalise(text)
    if short is not None:
        return Q(code=short)
    if len(text) > 32:
        return None
    return Q(legacy_code=text)

"""The certificate's fonts: which families draw its text, and which
characters none of them can draw.

certificate.html names FAMILIES, in this order, for all of its text. Pango
draws each character with the first of them whose font has it: Noto Serif
CJK SC for Latin, Chinese in common use and a few thousand rarer
characters; HanaMinA and HanaMinB (Debian's fonts-hanazono) for the rest of
the CJK blocks up to Extension F (Unicode 10), HanaMinB holding Extensions
B to F; BabelStone Han (fonts-babelstone-han) for most of Extension G and
the handful of later additions. A character that none of them has would be
drawn by whatever font fontconfig finds, or as a box (.notdef), without a
word: the forms that take a name refuse it instead
(portal.validators.validate_printable), naming the characters.

The coverage is read once per process from the cmaps of the font files
fontconfig lists for each family (fc-list), so it is what this machine can
print; `manage.py check --deploy` warns when a family is missing
(portal.W004).
"""

from __future__ import annotations

import bisect
import functools
import logging
import os
import subprocess
import unicodedata
from array import array
from dataclasses import dataclass

logger = logging.getLogger(__name__)

#: The certificate's font families, in the order certificate.html names them.
FAMILIES = ("Noto Serif CJK SC", "HanaMinA", "HanaMinB", "BabelStone Han")

#: The Debian package of each family (scripts/system-deps.sh installs them).
PACKAGES = {
    "Noto Serif CJK SC": "fonts-noto-cjk",
    "HanaMinA": "fonts-hanazono",
    "HanaMinB": "fonts-hanazono",
    "BabelStone Han": "fonts-babelstone-han",
}

#: Selectors that only choose a variant of the character before them: a
#: font without that variant draws the plain character, never a box.
VARIATION_SELECTORS = ((0xFE00, 0xFE0F), (0xE0100, 0xE01EF))

#: Unicode categories refused whatever a font maps: control characters,
#: surrogates and private use (its glyph is whatever a font puts there, not
#: a character anyone else can read or search). Code points this Python
#: thinks unassigned are judged by the fonts: Python 3.11 knows Unicode 14,
#: BabelStone Han already has 2,271 characters of Extension H (Unicode 15).
REFUSED_CATEGORIES = {"Cc", "Cs", "Co"}


@dataclass(frozen=True)
class Face:
    """One font face of a family: its file and its index in a collection."""

    family: str
    path: str
    index: int


def family_faces(family: str) -> list[Face]:
    """The faces fontconfig has for `family` (every style), one per file
    and index; none when fontconfig or the family is missing."""
    try:
        listing = subprocess.run(
            ["fc-list", "--format", "%{file}\t%{index}\n", f":family={family}"],
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        ).stdout
    except (OSError, subprocess.SubprocessError) as error:
        logger.warning("fc-list failed for %s: %s", family, error)
        return []
    faces: dict[tuple[str, int], Face] = {}
    for line in listing.splitlines():
        path, _, index = line.partition("\t")
        if path:
            # A symlink (fonts-japanese-mincho.ttf -> HanaMinA.ttf) is the same face.
            key = (os.path.realpath(path), int(index or 0))
            faces.setdefault(key, Face(family, *key))
    return sorted(faces.values(), key=lambda face: (face.path, face.index))


def missing_families() -> list[str]:
    """The certificate's families that fontconfig cannot find here."""
    return [family for family in FAMILIES if not family_faces(family)]


def _face_cmap(face: Face) -> set[int]:
    from fontTools.ttLib import TTFont

    # lazy: only the cmap table is read, not the glyphs (HanaMinB is 30 MB).
    with TTFont(face.path, fontNumber=face.index, lazy=True) as font:
        return set(font.getBestCmap() or {})


@functools.cache
def coverage() -> tuple[array, array] | None:
    """The code points some family of the chain draws, as sorted inclusive
    ranges (starts, ends); None when no family is installed at all.

    A family draws a code point when every face of it (regular and bold)
    has it in its cmap: the name is bold, the rest of the text regular.
    Read once per process (~1 s for the four families); the ranges take a
    few KiB, not a set of 100,000 code points.
    """
    covered: set[int] = set()
    found = False
    for family in FAMILIES:
        faces = family_faces(family)
        cmaps = []
        for face in faces:
            try:
                cmaps.append(_face_cmap(face))
            except Exception as error:  # an unreadable file draws nothing
                logger.warning("Cannot read the font %s: %s", face.path, error)
        if cmaps:
            found = True
            covered |= set.intersection(*cmaps)
    if not found:
        logger.warning(
            "None of the certificate fonts (%s) is installed: names are not "
            "checked for characters a certificate cannot print.",
            ", ".join(FAMILIES),
        )
        return None
    starts, ends = array("L"), array("L")
    for code in sorted(covered):
        if ends and ends[-1] == code - 1:
            ends[-1] = code
        else:
            starts.append(code)
            ends.append(code)
    return starts, ends


def _covered(code: int, ranges: tuple[array, array]) -> bool:
    starts, ends = ranges
    at = bisect.bisect_right(starts, code) - 1
    return at >= 0 and code <= ends[at]


def unprintable_characters(text: str) -> list[str]:
    """The characters of `text` that no font of the certificate can draw,
    each once, in the order they first appear (empty: all printable).

    Variation selectors always pass; control and private-use code points
    never do. On a machine with none of the
    certificate's fonts nothing is refused (the deploy check warns): that
    machine cannot judge, and refusing every name would be worse.
    """
    ranges = coverage()
    found: list[str] = []
    for char in dict.fromkeys(text):
        code = ord(char)
        if any(low <= code <= high for low, high in VARIATION_SELECTORS):
            continue
        if unicodedata.category(char) in REFUSED_CATEGORIES or (
            ranges is not None and not _covered(code, ranges)
        ):
            found.append(char)
    return found

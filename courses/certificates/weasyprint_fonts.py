"""WeasyPrint's font embedding, patched for certificates: small CJK subsets.

WeasyPrint writes glyph ids as CIDs and subsets fonts keeping every glyph
id (HB_SUBSET_FLAGS_RETAIN_GIDS), and copies each whole font file out of
HarfBuzz for every PDF. ``install_cid_font_subsetting`` wraps its font
internals (``Font.__init__``, ``Font.clean``, ``Font.type`` and
``build_fonts_dictionary``) so that CID-keyed CFF fonts (Noto CJK) are
embedded as bare CFF subsets and TrueType fallback fonts as renumbered
subsets with a /CIDToGIDMap; any other font, or any failure, takes
WeasyPrint's own path.

These are WeasyPrint's private internals, so the patch holds only for the
WeasyPrint versions it was tested on: ``TESTED_WEASYPRINT_VERSIONS``, which
pyproject.toml's requirement repeats, and
tests/courses/test_certificate_font_subsets.py fails on any other version.
"""

from __future__ import annotations

import functools
import io
import threading

#: The WeasyPrint versions this patch was tested on (a PEP 440 specifier;
#: pyproject.toml requires the same). Before widening it, re-check the
#: patch against the new version's font internals and run
#: tests/courses/test_certificate_font_subsets.py.
TESTED_WEASYPRINT_VERSIONS = ">=70,<71"


class _BareCFF(bytes):
    """A CID-keyed CFF font program (PDF FontFile3 /CIDFontType0C)."""


def _sfnt_table(data: bytes, tag: bytes) -> bytes | None:
    """One table of an OpenType font file, or None."""
    count = int.from_bytes(data[4:6], "big")
    for record in range(count):
        at = 12 + 16 * record
        if data[at : at + 4] == tag:
            offset = int.from_bytes(data[at + 8 : at + 12], "big")
            length = int.from_bytes(data[at + 12 : at + 16], "big")
            return data[offset : offset + length]
    return None


def _cid_subset(font, to_unicode: dict, hinting: bool) -> bytes | None:
    """The used glyphs of a CID-keyed CFF font as a bare CFF program that
    keeps every glyph's CID, or None when the font is not one of those.

    WeasyPrint writes glyph ids as CIDs (Identity-H) and, to keep them valid,
    subsets with HB_SUBSET_FLAGS_RETAIN_GIDS: a Noto CJK subset then keeps
    ~65,000 empty glyph slots (hmtx, vmtx, the CFF CharStrings index), about
    100 KiB compressed per font face. In a CID-keyed CFF font the glyph of a
    CID is found through the font's charset, and HarfBuzz keeps each glyph's
    CID there when it renumbers glyphs; embedded as a bare CFF program
    (/CIDFontType0C, what Acrobat Distiller does for CJK fonts) the charset is
    what PDF readers use. Checked here for every subset: each glyph's CID in
    the subset must equal the glyph id WeasyPrint wrote, else None.
    """
    from fontTools.cffLib import CFFFontSet
    from weasyprint.text.ffi import ffi, harfbuzz, harfbuzz_subset
    from weasyprint.text.fonts import get_hb_object_data

    if not harfbuzz_subset or font.missing or "CFF " not in font.tables:
        return None
    if "fvar" in font.tables or font.png or font.svg or font.colr or font.bitmap:
        return None
    gids = sorted(set(to_unicode) | {0})
    subset_input = ffi.gc(
        harfbuzz_subset.hb_subset_input_create_or_fail(),
        harfbuzz_subset.hb_subset_input_destroy,
    )
    glyphs = harfbuzz_subset.hb_subset_input_glyph_set(subset_input)
    harfbuzz.hb_set_add_sorted_array(
        glyphs, ffi.new(f"hb_codepoint_t[{len(gids)}]", gids), len(gids)
    )
    flags = (
        harfbuzz_subset.HB_SUBSET_FLAGS_PASSTHROUGH_UNRECOGNIZED
        | harfbuzz_subset.HB_SUBSET_FLAGS_DESUBROUTINIZE
    )
    if not hinting:
        flags |= harfbuzz_subset.HB_SUBSET_FLAGS_NO_HINTING
    harfbuzz_subset.hb_subset_input_set_flags(subset_input, flags)
    # Only the CFF table is embedded; without the layout tables, HarfBuzz
    # adds no glyph through substitutions (closure) either.
    drop = sorted(
        harfbuzz.hb_tag_from_string(tag, -1)
        for tag in (b"BASE", b"GDEF", b"GPOS", b"GSUB", b"JSTF", b"VORG", b"cmap")
        + (b"vhea", b"vmtx", b"DSIG", b"LTSH", b"PCLT", b"SVG ")
    )
    harfbuzz.hb_set_add_sorted_array(
        harfbuzz_subset.hb_subset_input_set(
            subset_input, harfbuzz_subset.HB_SUBSET_SETS_DROP_TABLE_TAG
        ),
        ffi.new(f"hb_codepoint_t[{len(drop)}]", drop),
        len(drop),
    )
    face = harfbuzz_subset.hb_subset_or_fail(font.hb_face, subset_input)
    if face == ffi.NULL:
        return None
    try:
        data = get_hb_object_data(face)
    finally:
        harfbuzz.hb_face_destroy(face)
    cff = _sfnt_table(data or b"", b"CFF ") if data else None
    if not cff:
        return None
    fontset = CFFFontSet()
    fontset.decompile(io.BytesIO(cff), None)
    top = fontset[fontset.fontNames[0]]
    if not hasattr(top, "ROS"):
        return None
    # HarfBuzz keeps the glyphs' order when it renumbers them (and may add a
    # few, e.g. the variants of 。and ，): in a font whose CIDs are its glyph
    # ids, the subset's CIDs are then the kept glyph ids, in order, and each
    # glyph id WeasyPrint wrote as a CID finds its own glyph.
    cids = [
        0 if name == ".notdef" else int(name[3:]) if name.startswith("cid") else -1
        for name in top.charset
    ]
    if cids != sorted(set(cids)) or not set(cids).issuperset(gids):
        return None
    if not _cids_are_glyph_ids(font):
        return None
    return _BareCFF(cff)


class _TrueTypeSubset(bytes):
    """A TrueType font program of only the used glyphs, renumbered in order;
    `cid_to_gid` is its PDF /CIDToGIDMap (2 bytes per CID, big-endian)."""

    cid_to_gid: bytes


@functools.cache
def _subset_plan_api():
    """(ffi, libharfbuzz-subset, libharfbuzz) for HarfBuzz's subset plan
    (exported since HarfBuzz 6.0), which WeasyPrint's bindings do not
    declare; None without it."""
    import cffi

    ffi = cffi.FFI()
    ffi.cdef(
        """
        typedef struct hb_face_t hb_face_t;
        typedef struct hb_subset_input_t hb_subset_input_t;
        typedef struct hb_subset_plan_t hb_subset_plan_t;
        typedef struct hb_map_t hb_map_t;
        typedef uint32_t hb_codepoint_t;
        hb_subset_plan_t * hb_subset_plan_create_or_fail (
            hb_face_t *face, const hb_subset_input_t *input);
        const hb_map_t * hb_subset_plan_old_to_new_glyph_mapping (
            const hb_subset_plan_t *plan);
        hb_face_t * hb_subset_plan_execute_or_fail (hb_subset_plan_t *plan);
        void hb_subset_plan_destroy (hb_subset_plan_t *plan);
        hb_codepoint_t hb_map_get (const hb_map_t *map, hb_codepoint_t key);
        """
    )
    try:
        subset = ffi.dlopen("libharfbuzz-subset.so.0")
        core = ffi.dlopen("libharfbuzz.so.0")
        for name in (
            "hb_subset_plan_create_or_fail",
            "hb_subset_plan_old_to_new_glyph_mapping",
            "hb_subset_plan_execute_or_fail",
            "hb_subset_plan_destroy",
        ):
            getattr(subset, name)
        core.hb_map_get  # noqa: B018 (resolves the symbol or raises)
    except (OSError, AttributeError):
        return None
    return ffi, subset, core


def _truetype_subset(font, to_unicode: dict, hinting: bool) -> bytes | None:
    """The used glyphs of a TrueType (glyf) font, renumbered, with the map
    that finds each CID (the glyph id WeasyPrint wrote) among them; None
    when the font is not one of those.

    The fallback fonts of certificate.html (HanaMinA, HanaMinB, BabelStone
    Han; portal.fonts) are TrueType fonts of 50,000-65,000
    glyphs. WeasyPrint's own path copies the whole file out of HarfBuzz
    (23-51 MB) and subsets it twice with HB_SUBSET_FLAGS_RETAIN_GIDS, which
    keeps every glyph slot below the last one used: 50-130 ms for one rare
    character, when the rest of the certificate takes ~35 ms. Here one
    subset without retained ids, and a /CIDToGIDMap stream (a few hundred
    bytes compressed) in place of /Identity, from HarfBuzz's own map of old
    to new glyph ids (it may add glyphs, e.g. HanaMinA a variant of the
    character through its cmap's variation sequences).
    """
    from weasyprint.text.ffi import ffi, harfbuzz, harfbuzz_subset
    from weasyprint.text.fonts import get_hb_object_data

    if not harfbuzz_subset or font.missing or "glyf" not in font.tables:
        return None
    if "fvar" in font.tables or font.png or font.svg or font.colr or font.bitmap:
        return None
    plan_api = _subset_plan_api()
    if plan_api is None:
        return None
    plan_ffi, plan_subset, plan_core = plan_api
    gids = sorted(set(to_unicode) | {0})
    if gids[-1] >= font.glyph_count:
        return None
    subset_input = ffi.gc(
        harfbuzz_subset.hb_subset_input_create_or_fail(),
        harfbuzz_subset.hb_subset_input_destroy,
    )
    harfbuzz.hb_set_add_sorted_array(
        harfbuzz_subset.hb_subset_input_glyph_set(subset_input),
        ffi.new(f"hb_codepoint_t[{len(gids)}]", gids),
        len(gids),
    )
    # Not PASSTHROUGH_UNRECOGNIZED: a PDF reads glyf, loca, hmtx and their
    # headers; tables HarfBuzz does not know (FFTM, prop, meta) are dropped.
    flags = harfbuzz_subset.HB_SUBSET_FLAGS_NO_LAYOUT_CLOSURE
    if not hinting:
        flags |= harfbuzz_subset.HB_SUBSET_FLAGS_NO_HINTING
    harfbuzz_subset.hb_subset_input_set_flags(subset_input, flags)
    drop = sorted(
        harfbuzz.hb_tag_from_string(tag, -1)
        for tag in (b"BASE", b"DSIG", b"EBDT", b"EBLC", b"EBSC", b"GDEF", b"GPOS")
        + (b"GSUB", b"JSTF", b"LTSH", b"PCLT", b"SVG ", b"VORG", b"vhea", b"vmtx")
    )
    harfbuzz.hb_set_add_sorted_array(
        harfbuzz_subset.hb_subset_input_set(
            subset_input, harfbuzz_subset.HB_SUBSET_SETS_DROP_TABLE_TAG
        ),
        ffi.new(f"hb_codepoint_t[{len(drop)}]", drop),
        len(drop),
    )

    def cast(pointer, kind, source, target):
        return target.cast(kind, int(source.cast("uintptr_t", pointer)))

    plan = plan_subset.hb_subset_plan_create_or_fail(
        cast(font.hb_face, "hb_face_t *", ffi, plan_ffi),
        cast(subset_input, "hb_subset_input_t *", ffi, plan_ffi),
    )
    if plan == plan_ffi.NULL:
        return None
    try:
        old_to_new = plan_subset.hb_subset_plan_old_to_new_glyph_mapping(plan)
        new_ids = [plan_core.hb_map_get(old_to_new, gid) for gid in gids]
        face = plan_subset.hb_subset_plan_execute_or_fail(plan)
    finally:
        plan_subset.hb_subset_plan_destroy(plan)
    if face == plan_ffi.NULL:
        return None
    face = cast(face, "hb_face_t *", plan_ffi, ffi)
    try:
        count = harfbuzz.hb_face_get_glyph_count(face)
        data = get_hb_object_data(face)
    finally:
        harfbuzz.hb_face_destroy(face)
    if not data or not all(0 <= new < count for new in new_ids):
        return None  # HB_MAP_VALUE_INVALID: a glyph was not kept
    cid_to_gid = bytearray(2 * (gids[-1] + 1))
    for old, new in zip(gids, new_ids, strict=True):
        cid_to_gid[2 * old : 2 * old + 2] = new.to_bytes(2, "big")
    subset = _TrueTypeSubset(data)
    subset.cid_to_gid = bytes(cid_to_gid)
    return subset


#: Font (WeasyPrint's hash of its description) -> whether its CIDs are its
#: glyph ids. Decided once per font and process.
_identity_cids: dict[str, bool] = {}


def _cids_are_glyph_ids(font) -> bool:
    """Whether every glyph of the font has its glyph id as its CID (true of
    Noto CJK and Source Han: ROS Adobe-Identity-0). Read once per font from
    the CFF table's charset, in place (no copy of the font)."""
    from weasyprint.text.ffi import ffi, harfbuzz

    known = _identity_cids.get(font.hash)
    if known is None:
        blob = harfbuzz.hb_face_reference_table(
            font.hb_face, harfbuzz.hb_tag_from_string(b"CFF ", -1)
        )
        try:
            length = ffi.new("unsigned int *")
            data = harfbuzz.hb_blob_get_data(blob, length)
            known = data != ffi.NULL and _cff_charset_is_identity(
                memoryview(ffi.buffer(data, length[0]))
            )
        except Exception:  # anything unexpected: not known to be identity
            known = False
        finally:
            harfbuzz.hb_blob_destroy(blob)
        _identity_cids[font.hash] = known
    return known


def _cff_charset_is_identity(cff) -> bool:
    """A CID-keyed CFF font whose charset gives glyph i the CID i."""

    def card(at: int, size: int) -> int:
        return int.from_bytes(cff[at : at + size], "big")

    def index_end(at: int) -> tuple[int, int]:  # (data start, end) of an INDEX
        count = card(at, 2)
        if count == 0:
            return at + 2, at + 2
        size = cff[at + 2]
        offsets = at + 3
        data = offsets + (count + 1) * size - 1
        return data, data + card(offsets + count * size, size)

    _, names_end = index_end(cff[2])  # the header's size, then the Name INDEX
    top_start, _ = index_end(names_end)
    top_start += card(names_end + 3, cff[names_end + 2]) - 1  # first Top DICT
    operands: list[int] = []
    charset = charstrings = None
    ros = False
    at = top_start
    top_end = top_start + (
        card(names_end + 3 + cff[names_end + 2], cff[names_end + 2])
        - card(names_end + 3, cff[names_end + 2])
    )
    while at < top_end:
        b0 = cff[at]
        if b0 == 12:
            ros = ros or cff[at + 1] == 30
            operands, at = [], at + 2
        elif b0 <= 21:
            if b0 == 15:
                charset = operands[-1]
            elif b0 == 17:
                charstrings = operands[-1]
            operands, at = [], at + 1
        elif b0 == 28:
            operands.append(int.from_bytes(cff[at + 1 : at + 3], "big", signed=True))
            at += 3
        elif b0 == 29:
            operands.append(int.from_bytes(cff[at + 1 : at + 5], "big", signed=True))
            at += 5
        elif b0 == 30:  # a real number: skip its nibbles
            at += 1
            while cff[at] & 0x0F != 0x0F and cff[at] >> 4 != 0x0F:
                at += 1
            operands.append(0)
            at += 1
        elif b0 <= 246:
            operands.append(b0 - 139)
            at += 1
        elif b0 <= 250:
            operands.append((b0 - 247) * 256 + cff[at + 1] + 108)
            at += 2
        else:
            operands.append(-(b0 - 251) * 256 - cff[at + 1] - 108)
            at += 2
    if not ros or not charset or not charstrings:
        return False
    glyphs = card(charstrings, 2)
    kind, at, expected = cff[charset], charset + 1, 1
    while expected < glyphs:
        if kind == 0:
            if card(at, 2) != expected:
                return False
            at, expected = at + 2, expected + 1
        elif kind in (1, 2):
            left = card(at + 2, kind)
            if card(at, 2) != expected:
                return False
            at, expected = at + 2 + kind, expected + left + 1
        else:
            return False
    return expected == glyphs


class _DeferredFace(bytes):
    """Stands for a font file WeasyPrint has not needed yet (empty)."""


_font_init = threading.local()


@functools.cache
def install_cid_font_subsetting() -> None:
    """Make WeasyPrint embed CJK fonts as CID-keyed CFF subsets (see
    _cid_subset): a certificate's PDF ~16 KiB instead of ~320 KiB, each
    subset made in a few milliseconds instead of ~20 ms.

    Also, WeasyPrint copies the whole font file out of HarfBuzz for every
    font of every PDF it writes (26 MiB for Noto Serif CJK, three fonts: about
    35 ms and 70 MiB of short-lived memory per certificate) although only its
    own fallback paths read that copy. The copy is deferred until one of them
    needs it; the CID path never does.

    The fallback fonts for rare characters (HanaMin, BabelStone Han) are
    TrueType fonts: embedded as renumbered subsets with a /CIDToGIDMap (see
    _truetype_subset) instead of WeasyPrint's retained glyph ids.

    WeasyPrint 70 has no option for any of this: Font.__init__, Font.clean,
    Font.type and build_fonts_dictionary are wrapped once per process. A font
    that is neither a CID-keyed CFF font whose CIDs are its glyph ids nor a
    TrueType font, or any failure, takes WeasyPrint's own path unchanged.
    Between calls only whether a font's CIDs are its glyph ids is kept
    (_identity_cids): no glyphs, no subsets.
    tests/courses/test_certificate_font_subsets.py renders pages both ways
    and compares the pixels.
    """
    import weasyprint.pdf
    from weasyprint.pdf import fonts

    original_get_data = fonts.get_hb_object_data
    original_init = fonts.Font.__init__
    original_clean = fonts.Font.clean
    original_type = fonts.Font.type
    original_build = weasyprint.pdf.build_fonts_dictionary

    def get_hb_object_data(hb_object, ot_color=None, glyph=None):
        if ot_color is None and getattr(_font_init, "deferring", False):
            return _DeferredFace()
        return original_get_data(hb_object, ot_color, glyph)

    def materialise(font) -> None:
        if isinstance(font.file_content, _DeferredFace):
            font.file_content = original_get_data(font.hb_face)

    def init(font, *args, **kwargs):
        _font_init.deferring = True
        try:
            original_init(font, *args, **kwargs)
        finally:
            _font_init.deferring = False

    def clean(font, to_unicode, hinting):
        if to_unicode:
            for subsetter in (_cid_subset, _truetype_subset):
                try:
                    subset = subsetter(font, to_unicode, hinting)
                except Exception:  # anything unexpected: WeasyPrint's own path
                    subset = None
                if subset is not None:
                    font.file_content = subset
                    # Fonts of one file share its stream (build_fonts_dictionary).
                    getattr(_font_init, "subsets", {})[font.hash] = subset
                    return None
        materialise(font)
        return original_clean(font, to_unicode, hinting)

    def font_type(font):
        if isinstance(font.file_content, _DeferredFace):
            shared = getattr(_font_init, "subsets", {}).get(font.hash)
            if shared is not None:
                font.file_content = shared
        if isinstance(font.file_content, _BareCFF):
            return "otf"  # FontFile3 and CIDFontType0, as for OpenType CFF
        if isinstance(font.file_content, _TrueTypeSubset):
            return "ttf"
        materialise(font)
        return original_type.fget(font)

    def build_fonts_dictionary(pdf, fonts_, *args, **kwargs):
        import pydyf

        for font in fonts_.values():
            if font.bitmap:  # written from its file, without clean()
                materialise(font)
        _font_init.subsets = {}
        try:
            result = original_build(pdf, fonts_, *args, **kwargs)
        finally:
            subsets, _font_init.subsets = _font_init.subsets, {}
        compress = args[0] if args else kwargs.get("compress", True)
        cid_maps = {}
        for font in fonts_.values():
            subset = subsets.get(font.hash)
            if isinstance(subset, _TrueTypeSubset) and font.name not in cid_maps:
                cid_maps[font.name] = pydyf.Stream(
                    [subset.cid_to_gid], compress=compress
                )
                pdf.add_object(cid_maps[font.name])
        for item in list(pdf.objects):
            stream = getattr(item, "stream", None)
            if (
                isinstance(stream, list)
                and len(stream) == 1
                and isinstance(stream[0], _BareCFF)
            ):
                item.extra["Subtype"] = "/CIDFontType0C"
            elif (
                isinstance(item, dict)
                and item.get("Subtype") == "/CIDFontType2"
                and item.get("BaseFont") in cid_maps
            ):
                item["CIDToGIDMap"] = cid_maps[item["BaseFont"]].reference
        return result

    fonts.get_hb_object_data = get_hb_object_data
    fonts.Font.__init__ = init
    fonts.Font.clean = clean
    fonts.Font.type = property(font_type)
    weasyprint.pdf.build_fonts_dictionary = build_fonts_dictionary

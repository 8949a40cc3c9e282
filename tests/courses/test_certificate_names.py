"""Every name prints: a certificate draws each character of the learner's
name, the course title and the organisation with a real glyph, never the
box (.notdef) a font draws for a character it lacks.

Checked in the PDF itself, not in its pixels: for each font the page uses,
the ToUnicode map gives the character of every glyph code shown; the code
is followed to the glyph of the embedded font program (Identity-H or the
encoding WeasyPrint writes when it has a missing glyph, then the CID font's
/CIDToGIDMap or the CID-keyed CFF charset), which must not be glyph 0 and
must have an outline. pdftotext must give the name back.
"""

import io
import re
import subprocess
import unicodedata

import pytest
from fontTools.cffLib import CFFFontSet
from fontTools.ttLib import TTFont
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import PdfFileReader

from courses.certificates import rendering, services
from portal import fonts
from tests.courses.factories import CertificateRequestFactory
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

#: (name, the family of the chain expected to draw its rare character)
NAMES = [
    ("王喆堃", "Noto Serif CJK SC"),
    ("陈\U0002003e", "Noto Serif CJK SC"),  # 陈𠀾: Extension B, in Noto CJK
    ("赵\U0002a6a5", "HanaMinA"),  # 赵𪚥: Extension B
    ("李\U0002a700", "HanaMinB"),  # Extension C (U+2A700-2B73F)
    ("王\U0002b740", "HanaMinB"),  # Extension D (U+2B740-2B81F)
    ("张\U0002b820", "HanaMinB"),  # Extension E (U+2B820-2CEAF)
    ("刘\U0002ceb0", "HanaMinB"),  # Extension F (U+2CEB0-2EBEF)
    ("周\U00030000", "BabelStone Han"),  # Extension G (U+30000-3134F)
]


def resolve(value):  # type: ignore[no-untyped-def]
    return value.get_object() if isinstance(value, generic.IndirectObject) else value


def hex_pairs(cmap: bytes, section: str) -> dict[int, str]:
    """<code> <value> lines of the bfchar or cidchar sections of a CMap."""
    found = {}
    for block in re.findall(
        rf"begin{section}(.*?)end{section}".encode(), cmap, flags=re.DOTALL
    ):
        for code, value in re.findall(
            rb"<([0-9a-fA-F]+)>\s+(<[0-9a-fA-F]+>|\d+)", block
        ):
            found[int(code, 16)] = value.decode()
    return found


def glyph_of_cid(descendant, cid: int) -> tuple[int, bool]:  # type: ignore[no-untyped-def]
    """(glyph id, has an outline) of a CID in the embedded font program."""
    descriptor = resolve(descendant["/FontDescriptor"])
    if "/FontFile2" in descriptor:  # TrueType
        program = resolve(descriptor["/FontFile2"]).data
        mapping = resolve(descendant.get("/CIDToGIDMap", "/Identity"))
        if isinstance(mapping, generic.StreamObject):
            data = mapping.data
            gid = int.from_bytes(data[2 * cid : 2 * cid + 2], "big")
        else:
            gid = cid
        font = TTFont(io.BytesIO(program))
        if gid == 0 or gid >= font["maxp"].numGlyphs:
            return gid, False
        glyph = font["glyf"][font.getGlyphName(gid)]
        return gid, glyph.numberOfContours != 0
    stream = resolve(descriptor["/FontFile3"])
    program = stream.data
    if stream.get("/Subtype") == "/OpenType":
        font = TTFont(io.BytesIO(program))
        top = font["CFF "].cff.topDictIndex[0]
        gid = cid  # WeasyPrint's own path: glyph ids kept (CIDToGIDMap Identity)
    else:  # a bare CID-keyed CFF program: the charset finds the CID
        fontset = CFFFontSet()
        fontset.decompile(io.BytesIO(program), None)
        top = fontset[fontset.fontNames[0]]
        names = list(top.charset)
        name = f"cid{cid:05d}"
        gid = names.index(name) if cid and name in names else 0
    if gid == 0:
        return 0, False
    charstring = top.CharStrings[top.charset[gid]]
    charstring.decompile()
    drawn = any(
        isinstance(op, str) and op.endswith(("lineto", "curveto", "moveto"))
        for op in charstring.program
    )
    return gid, drawn


def shown_characters(pdf: bytes) -> dict[str, list[tuple[str, int, bool]]]:
    """Each character the PDF shows -> [(font, glyph id, has an outline)]."""
    reader = PdfFileReader(io.BytesIO(pdf))
    shown: dict[str, list[tuple[str, int, bool]]] = {}
    for page in reader.root["/Pages"]["/Kids"]:
        page_fonts = resolve(resolve(page)["/Resources"])["/Font"]
        for value in page_fonts.values():
            font = resolve(value)
            descendant = resolve(font["/DescendantFonts"][0])
            encoding = resolve(font["/Encoding"])
            code_to_cid = (
                {
                    code: int(cid)
                    for code, cid in hex_pairs(encoding.data, "cidchar").items()
                }
                if isinstance(encoding, generic.StreamObject)
                else None  # /Identity-H
            )
            to_unicode = hex_pairs(resolve(font["/ToUnicode"]).data, "bfchar")
            for code, utf16 in to_unicode.items():
                text = bytes.fromhex(utf16.strip("<>")).decode("utf-16-be")
                cid = code if code_to_cid is None else code_to_cid.get(code, 0)
                gid, drawn = glyph_of_cid(descendant, cid)
                for char in text:
                    shown.setdefault(char, []).append(
                        (str(font["/BaseFont"]), gid, drawn)
                    )
    return shown


def notdef_characters(pdf: bytes) -> list[str]:
    """The characters that some font of the PDF draws as .notdef or empty."""
    return sorted(
        char
        for char, glyphs in shown_characters(pdf).items()
        if not char.isspace() and not all(gid and drawn for _, gid, drawn in glyphs)
    )


def pdf_text(pdf: bytes) -> str:
    text = subprocess.run(
        ["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()
    return unicodedata.normalize("NFC", text)


def certificate_pdf(name: str, language: str = "zh-hans", **request) -> bytes:  # type: ignore[no-untyped-def]
    request = CertificateRequestFactory(
        user=UserFactory(real_name=name, language=language), **request
    )
    certificate, _ = services.certificate_issue(request_id=request.pk, render=False)
    return rendering.render_pdf(certificate)


def test_the_chosen_characters_are_drawn_by_the_family_named():
    """The test names really exercise each font of the chain."""
    coverage = {}
    for family in fonts.FAMILIES:
        [face, *_] = fonts.family_faces(family)
        coverage[family] = fonts._face_cmap(face)
    for name, family in NAMES:
        rare = name[-1]
        first = next(f for f in fonts.FAMILIES if ord(rare) in coverage[f])
        assert first == family, (name, first)


@pytest.mark.parametrize(("name", "family"), NAMES, ids=[n for n, _ in NAMES])
def test_every_character_of_a_rare_name_has_a_real_glyph(name, family):
    pdf = certificate_pdf(name, language="en")

    shown = shown_characters(pdf)
    for char in name:
        assert char in shown, f"{char!r} (U+{ord(char):04X}) not in any font"
        assert all(gid and drawn for _, gid, drawn in shown[char]), shown[char]
    assert any(family.replace(" ", "-") in font for font, _, _ in shown[name[-1]])
    assert notdef_characters(pdf) == []
    assert name in pdf_text(pdf)


def test_the_check_finds_a_box_when_a_character_has_no_font():
    """The .notdef check is not blind: a character no font has (U+10FFFD,
    which the forms refuse) is found as one."""
    pdf = certificate_pdf("钱\U0010fffd")
    assert notdef_characters(pdf) == ["\U0010fffd"]


def test_the_title_and_organisation_use_the_chain_too():
    from wagtail.models import Site

    from portal.models import SiteSettings

    site_settings = SiteSettings.for_site(Site.objects.get(is_default_site=True))
    site_settings.organisation = "\U0002ceb0州知识产权局"
    site_settings.save()
    title = "\U0002a6a5\U0002b740\U00030000专利检索"
    pdf = certificate_pdf("王芳", language="en", title=title)
    assert notdef_characters(pdf) == []
    text = pdf_text(pdf)
    assert title in text and "\U0002ceb0州知识产权局" in text

"""The certificate PDF's fonts: CID-keyed CFF subsets that draw exactly what
WeasyPrint's own (much larger) subsets draw (weasyprint_fonts._cid_subset),
and a WeasyPrint of the versions that patch was tested on."""

import io
import subprocess
import tomllib
from pathlib import Path

import pytest
import weasyprint
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version
from PIL import Image, ImageChops
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import PdfFileReader

from courses.certificates import rendering, services, weasyprint_fonts
from tests.courses.factories import CertificateRequestFactory
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

RANGE = weasyprint_fonts.TESTED_WEASYPRINT_VERSIONS
TESTED = SpecifierSet(RANGE)


def test_weasyprint_is_a_version_the_font_patch_was_tested_on():
    """courses/certificates/weasyprint_fonts.py wraps WeasyPrint's private
    font internals: another WeasyPrint may change them under the patch."""
    installed = weasyprint.__version__
    assert Version(installed) in TESTED, (
        f"WeasyPrint {installed} is installed, but the font patch in "
        "courses/certificates/weasyprint_fonts.py was tested on WeasyPrint"
        f"{RANGE} only. Re-check the patch against this version (Font.__init__, "
        "Font.clean, Font.type, build_fonts_dictionary and get_hb_object_data "
        "in weasyprint/pdf/fonts.py and weasyprint/pdf/__init__.py), run the "
        "pixel comparisons in this file, then widen TESTED_WEASYPRINT_VERSIONS "
        "and the weasyprint requirement in pyproject.toml together."
    )


def test_pyproject_requires_the_tested_weasyprint_versions():
    pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
    dependencies = tomllib.loads(pyproject.read_text())["project"]["dependencies"]
    [requirement] = [
        Requirement(line)
        for line in dependencies
        if Requirement(line).name.lower() == "weasyprint"
    ]
    assert requirement.specifier == TESTED, (
        f"pyproject.toml requires weasyprint{requirement.specifier}, but the font "
        "patch in courses/certificates/weasyprint_fonts.py was tested on "
        f"WeasyPrint{RANGE} (TESTED_WEASYPRINT_VERSIONS): keep the two the "
        "same, and re-check the patch before widening either."
    )


def raster(data: bytes, tmp_path) -> Image.Image:  # type: ignore[no-untyped-def]
    (tmp_path / "r.pdf").write_bytes(data)
    subprocess.run(
        ["pdftoppm", "-r", "72", "-png", "-singlefile", "r.pdf", "r"],
        cwd=tmp_path,
        capture_output=True,
        check=True,
    )
    return Image.open(io.BytesIO((tmp_path / "r.png").read_bytes())).convert("RGB")


def fonts(data: bytes, tmp_path) -> list[str]:  # type: ignore[no-untyped-def]
    path = tmp_path / "c.pdf"
    path.write_bytes(data)
    listing = subprocess.run(
        ["pdffonts", str(path)], capture_output=True, check=True, text=True
    ).stdout
    return listing.splitlines()[2:]


def truetype_font(data: bytes, family: str):  # type: ignore[no-untyped-def]
    """(embedded font program, /CIDToGIDMap) of the CID TrueType font whose
    name holds `family`."""
    reader = PdfFileReader(io.BytesIO(data))
    page = reader.root["/Pages"]["/Kids"][0].get_object()
    for value in page["/Resources"]["/Font"].values():
        descendant = value.get_object()["/DescendantFonts"][0].get_object()
        if family in str(descendant["/BaseFont"]):
            descriptor = descendant["/FontDescriptor"].get_object()
            cid_map = descendant["/CIDToGIDMap"]
            if isinstance(cid_map, generic.IndirectObject):
                cid_map = cid_map.get_object()
            return descriptor["/FontFile2"].get_object().data, cid_map
    raise AssertionError(f"no {family} font")


def test_small_subsets_draw_every_glyph_as_weasyprint_does(tmp_path, monkeypatch):
    names = ["赵龑", "黄燊"]
    certificates = [
        services.certificate_issue(
            request_id=CertificateRequestFactory(
                user=UserFactory(real_name=name, language=language)
            ).pk,
            render=False,
        )[0]
        for name, language in zip(names, ["en", "zh-hans"], strict=True)
    ]
    pages = [(c, c.template_version.content) for c in certificates]
    small = rendering.render_pdfs(pages)
    monkeypatch.setattr(weasyprint_fonts, "_cid_subset", lambda *args: None)
    stock = rendering.render_pdfs(pages)
    for name, mine, theirs in zip(names, small, stock, strict=True):
        listed = fonts(mine, tmp_path)
        # Noto Serif CJK SC regular and bold (also for the English text), each
        # a bare CID-keyed CFF program.
        assert len(listed) == 2, listed
        assert all(" CID Type 0C " in line and "(OT)" not in line for line in listed)
        assert all("(OT)" in line for line in fonts(theirs, tmp_path))
        assert len(mine) * 5 < len(theirs)
        # The same pixels: every glyph is found by its CID in the subset.
        difference = ImageChops.difference(
            raster(mine, tmp_path), raster(theirs, tmp_path)
        )
        assert difference.getbbox() is None, name


def test_fallback_fonts_are_small_renumbered_truetype_subsets(tmp_path, monkeypatch):
    """HanaMinA, HanaMinB and BabelStone Han (rare characters of names) are
    TrueType fonts: embedded as subsets of the used glyphs only, renumbered,
    with a /CIDToGIDMap (weasyprint_fonts._truetype_subset), and drawing exactly
    what WeasyPrint's own subsets (every glyph id kept) draw."""
    names = ["赵\U0002a6a5", "张\U0002b820\U0002ceb0", "周\U00030000"]
    certificates = [
        services.certificate_issue(
            request_id=CertificateRequestFactory(user=UserFactory(real_name=name)).pk,
            render=False,
        )[0]
        for name in names
    ]
    pages = [(c, c.template_version.content) for c in certificates]
    small = rendering.render_pdfs(pages)
    monkeypatch.setattr(weasyprint_fonts, "_truetype_subset", lambda *args: None)
    stock = rendering.render_pdfs(pages)
    for name, family, mine, theirs in zip(
        names, ["HanaMinA", "HanaMinB", "BabelStone-Han"], small, stock, strict=True
    ):
        [listed] = [line for line in fonts(mine, tmp_path) if family in line]
        assert " CID TrueType " in listed, listed
        program, cid_map = truetype_font(mine, family)
        assert isinstance(cid_map, generic.StreamObject)  # not /Identity
        stock_program, stock_map = truetype_font(theirs, family)
        assert stock_map == "/Identity"
        assert len(program) * 20 < len(stock_program)
        difference = ImageChops.difference(
            raster(mine, tmp_path), raster(theirs, tmp_path)
        )
        assert difference.getbbox() is None, name

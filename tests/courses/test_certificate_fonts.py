"""The machine can render certificates fast and with every Chinese glyph.

Without HarfBuzz-Subset (libharfbuzz-subset0, HarfBuzz >= 4.1) WeasyPrint
subsets the Noto CJK fonts with fontTools: about 10-13 s per certificate
instead of about 0.1 s (issue 4). Without the certificate's font families
(Noto Serif CJK SC, HanaMinA, HanaMinB, BabelStone Han) rare names print as
boxes, or are refused when entered. Either is a broken set-up, so the suite
fails on it instead of the benchmark quietly getting a hundred times slower.
"""

import logging
import re
import subprocess

import pytest

from courses.certificates import rendering, services
from portal import fonts
from tests.courses.factories import CertificateRequestFactory
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

TEMPLATE = "courses/certificates/certificate.html"


def template_families() -> list[str]:
    """The font families the certificate template's CSS asks for by name,
    in order."""
    from django.template.loader import get_template

    source = get_template(TEMPLATE).template.source
    families: list[str] = []
    for declaration in re.findall(r"font-family:\s*([^;}]+)", source):
        for name in declaration.split(","):
            name = name.strip().strip("\"'")
            if name not in families and name not in {"serif", "sans-serif"}:
                families.append(name)
    return families


def test_weasyprint_subsets_fonts_with_harfbuzz():
    from weasyprint.text.ffi import harfbuzz, harfbuzz_subset

    assert harfbuzz_subset is not None, "install libharfbuzz-subset0"
    assert harfbuzz.hb_version_atleast(4, 1, 0), "HarfBuzz >= 4.1 is needed"


def test_fontconfig_finds_the_fonts_the_template_names():
    # The chain whose coverage the name forms check (fonts.FAMILIES) is the
    # one the CSS names, in the same order.
    assert template_families() == list(fonts.FAMILIES)
    installed = subprocess.run(
        ["fc-list", ":", "family"], capture_output=True, text=True, check=True
    ).stdout
    names = {name for line in installed.splitlines() for name in line.split(",")}
    assert set(fonts.FAMILIES) <= names, f"missing: {set(fonts.FAMILIES) - names}"
    assert fonts.missing_families() == []


@pytest.mark.parametrize("name", ["赵龑", "赵\U0002a6a5", "周\U00030000"])
def test_rendering_a_certificate_never_falls_back_to_fonttools(caplog, name):
    # Noto Serif CJK SC alone; with HanaMinA; with BabelStone Han.
    request = CertificateRequestFactory(user=UserFactory(real_name=name))
    certificate, _ = services.certificate_issue(request_id=request.pk, render=False)
    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        pdf = rendering.render_pdf(certificate)
    assert pdf.startswith(b"%PDF")
    fallbacks = [r for r in caplog.records if "fontTools" in r.getMessage()]
    assert not fallbacks, fallbacks[0].getMessage()

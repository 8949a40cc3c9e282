"""The machine can render certificates fast and with every Chinese glyph.

Without HarfBuzz-Subset (libharfbuzz-subset0, HarfBuzz >= 4.1) WeasyPrint
subsets the Noto CJK fonts with fontTools: about 10-13 s per certificate
instead of about 0.1 s (issue 4). Without the Noto CJK families a fallback
font draws boxes for rare names. Either is a broken set-up, so the suite
fails on it instead of the benchmark quietly getting a hundred times slower.
"""

import logging
import re
import subprocess

import pytest

from courses.certificates import rendering, services
from tests.courses.factories import CertificateRequestFactory
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

TEMPLATE = "courses/certificates/certificate.html"


def template_families() -> set[str]:
    """The font families the certificate template's CSS asks for by name."""
    from django.template.loader import get_template

    source = get_template(TEMPLATE).template.source
    families = set()
    for declaration in re.findall(r"font-family:\s*([^;}]+)", source):
        families |= {name.strip().strip("\"'") for name in declaration.split(",")} - {
            "serif",
            "sans-serif",
        }
    return families


def test_weasyprint_subsets_fonts_with_harfbuzz():
    from weasyprint.text.ffi import harfbuzz, harfbuzz_subset

    assert harfbuzz_subset is not None, "install libharfbuzz-subset0"
    assert harfbuzz.hb_version_atleast(4, 1, 0), "HarfBuzz >= 4.1 is needed"


def test_fontconfig_finds_the_fonts_the_template_names():
    families = template_families()
    assert "Noto Serif CJK SC" in families
    installed = subprocess.run(
        ["fc-list", ":lang=zh-cn", "family"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    names = {name for line in installed.splitlines() for name in line.split(",")}
    assert families <= names, f"missing: {families - names}"


def test_rendering_a_certificate_never_falls_back_to_fonttools(caplog):
    request = CertificateRequestFactory(user=UserFactory(real_name="赵龑"))
    certificate, _ = services.certificate_issue(request_id=request.pk, render=False)
    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        pdf = rendering.render_pdf(certificate)
    assert pdf.startswith(b"%PDF")
    fallbacks = [r for r in caplog.records if "fontTools" in r.getMessage()]
    assert not fallbacks, fallbacks[0].getMessage()

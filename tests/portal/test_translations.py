"""Every string the portal defines has its Simplified Chinese translation."""

import subprocess
from pathlib import Path

CATALOGUE = (
    Path(__file__).resolve().parents[2] / "portal/locale/zh_Hans/LC_MESSAGES/django.po"
)


def test_the_chinese_catalogue_is_complete_and_valid():
    result = subprocess.run(
        ["msgfmt", "--check", "--statistics", "-o", "/dev/null", str(CATALOGUE)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    statistics = result.stderr.strip()
    assert "untranslated" not in statistics and "fuzzy" not in statistics, statistics

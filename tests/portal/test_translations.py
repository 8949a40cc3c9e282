"""Every string the portal defines has its Simplified Chinese translation."""

import os
import shutil
import subprocess
import sys
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


def test_every_string_of_the_code_is_in_the_catalogue(tmp_path):
    # As `make makemessages` extracts them today, from a copy of the source:
    # a string the code gained without its catalogue entry (or whose entry
    # is only a fuzzy guess) would show in English to a Chinese reader.
    root = CATALOGUE.parents[4]
    source = tmp_path / "source"
    shutil.copytree(
        root,
        source,
        ignore=shutil.ignore_patterns(
            ".venv", ".git", "var", "node_modules", "__pycache__", "*.mo"
        ),
    )
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "zh_Hans"]
        + ["--no-obsolete", "--ignore=.venv", "--ignore=var", "-v", "0"],
        cwd=source,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings.test"},
        check=True,
    )
    extracted = source / CATALOGUE.relative_to(root)
    result = subprocess.run(
        ["msgcmp", str(CATALOGUE), str(extracted)],
        capture_output=True,
        text=True,
        check=False,
    )
    missing = [line for line in result.stderr.splitlines() if "error" in line]
    assert result.returncode == 0 and not missing, result.stderr[-3000:]

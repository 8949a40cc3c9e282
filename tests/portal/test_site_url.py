"""One source for absolute URLs (issue 16, part 2): the public address is
one setting (BASE_URL), required in production, and every absolute link the
portal writes — e-mails, QR codes, feeds, the sitemap, share tags,
robots.txt, the API — is on it, whatever host a request came in by. In
development it follows `make run PORT=…`."""

import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from django.core.management import call_command

from wagtail.models import Site

from courses.certificates.rendering import verify_url
from portal import checks, site_url
from tests.factories import NewsIndexPageFactory, NewsPageFactory
from tests.portal.test_operations import production_check
from tests.talentpool.helpers import pool, talent_page

ROOT = Path(__file__).resolve().parents[2]
PUBLIC = "https://ip.example.gov.cn"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def public_address(settings, home):  # type: ignore[no-untyped-def]
    """The portal's public address is PUBLIC, synced to the default site as
    `migrate` does; requests still come in as http://testserver (a proxy,
    an internal name)."""
    settings.PORTAL_BASE_URL = settings.WAGTAILADMIN_BASE_URL = PUBLIC
    site_url.site_sync()
    return home


@pytest.mark.django_db
def test_every_absolute_link_is_on_the_public_address(client, public_address):
    home = public_address
    index = NewsIndexPageFactory(parent=home, slug="news")
    NewsPageFactory(parent=index, slug="world-ip-day", title="4·26 知识产权宣传周")
    talent_page(home)
    pool()

    robots = client.get("/robots.txt").content.decode()
    assert f"Sitemap: {PUBLIC}/sitemap.xml" in robots.splitlines()

    sitemap = ET.fromstring(client.get("/sitemap.xml").content)
    locations = [url.findtext(f"{SITEMAP}loc") for url in sitemap]
    assert f"{PUBLIC}/news/world-ip-day/" in locations
    assert f"{PUBLIC}/en/news/world-ip-day/" in locations
    assert all(location.startswith(PUBLIC + "/") for location in locations)

    rss = ET.fromstring(client.get("/feeds/news.rss").content).find("channel")
    assert rss.findtext("link").startswith(PUBLIC + "/")
    assert rss.find("item").findtext("link") == f"{PUBLIC}/news/world-ip-day/"
    atom = ET.fromstring(client.get("/feeds/news.atom").content)
    links = {link.get("rel"): link.get("href") for link in atom.findall(f"{ATOM}link")}
    assert links["self"] == f"{PUBLIC}/feeds/news.atom"
    assert links["alternate"].startswith(PUBLIC + "/")

    page = client.get("/news/world-ip-day/").content.decode()
    share = re.search(r'<meta property="og:url" content="([^"]+)"', page)
    assert share and share.group(1) == f"{PUBLIC}/news/world-ip-day/"

    api = client.get("/api/v1/experts/", {"page_size": 1}).json()
    assert api["next"].startswith(f"{PUBLIC}/api/v1/experts/?")
    assert api["results"][0]["url"].startswith(f"{PUBLIC}/talent/experts/")

    assert verify_url("ABC123", "zh-hans") == f"{PUBLIC}/certificates/verify/ABC123/"
    assert "testserver" not in robots + page


@pytest.mark.django_db
def test_migrate_makes_the_default_site_the_public_address(settings, home):
    settings.PORTAL_BASE_URL = "https://ip.example.gov.cn:8443"
    call_command("migrate", verbosity=0)
    site = Site.objects.get(is_default_site=True)
    assert (site.hostname, site.port) == ("ip.example.gov.cn", 8443)
    settings.PORTAL_BASE_URL = "http://127.0.0.1:8001"
    site_url.site_sync()
    site.refresh_from_db()
    assert (site.hostname, site.port) == ("127.0.0.1", 8001)
    assert site.root_url == "http://127.0.0.1:8001"


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("", ["portal.E010"]),
        ("portal.example.org", ["portal.E010"]),
        ("http://127.0.0.1:8000", ["portal.E010"]),
        ("https://localhost", ["portal.E010"]),
        ("https://ip.example.gov.cn/portal", ["portal.E010"]),
        ("http://ip.example.gov.cn", ["portal.W010"]),
        ("https://ip.example.gov.cn", []),
    ],
)
def test_the_deploy_check_wants_a_public_https_address(settings, address, expected):
    settings.PORTAL_BASE_URL = address
    assert [message.id for message in checks.check_base_url(None)] == expected


def test_production_without_base_url_fails_the_deploy_check():
    result = production_check()
    assert result.returncode != 0
    assert "portal.E010" in result.stdout + result.stderr


def test_in_development_the_address_follows_the_port():
    env = {name: value for name, value in os.environ.items() if name != "BASE_URL"}
    env.update(DJANGO_SETTINGS_MODULE="portal.settings.dev", PORTAL_PORT="8001")
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; "
            "print(settings.PORTAL_BASE_URL, settings.WAGTAILADMIN_BASE_URL)",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.split() == ["http://127.0.0.1:8001"] * 2, result.stderr

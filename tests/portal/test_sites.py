"""Each process answers "which site is this request for?" from the rows it
read in the last few seconds (portal/sites.py), and never with anything a
request left behind."""

import pytest

from django.db import connection
from django.test.utils import CaptureQueriesContext

from wagtail.models import Site

from portal import sites
from tests.factories import StandardPageFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def kept(settings):
    settings.PORTAL_SITE_CACHE_SECONDS = 10
    sites.forget()
    yield
    sites.forget()


def site_queries(client, url):
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200
    return [q for q in context.captured_queries if "wagtailcore_site" in q["sql"]]


def test_the_second_request_asks_no_query_for_its_site(kept, home, client):
    StandardPageFactory(parent=home, slug="about")
    assert site_queries(client, "/about/")
    assert site_queries(client, "/about/") == []
    assert site_queries(client, "/") == []


def test_a_site_edited_in_this_process_is_seen_at_once(kept, home, client):
    page = StandardPageFactory(parent=home, slug="about", title="关于我们")
    client.get("/about/")
    site = Site.objects.get(is_default_site=True)
    site.site_name = "新名称"
    site.save()
    assert sites.site_for_request(client.get("/").wsgi_request).site_name == "新名称"
    # The root page's rows too: a page saved empties the copy.
    home.refresh_from_db()
    home.title = "新首页"
    home.save_revision().publish()
    assert "关于我们" in client.get(page.url).content.decode()
    assert client.get("/").wsgi_request._wagtail_site.root_page.title == "新首页"


def test_an_edit_made_elsewhere_is_seen_after_the_period(
    kept, home, client, monkeypatch
):
    client.get("/")
    # Another process's edit: no signal here.
    Site.objects.filter(is_default_site=True).update(site_name="别处改的")
    request = client.get("/").wsgi_request
    assert sites.site_for_request(request).site_name != "别处改的"
    now = sites.time.monotonic()
    monkeypatch.setattr(sites.time, "monotonic", lambda: now + 11)
    assert sites.site_for_request(request).site_name == "别处改的"


def test_what_a_request_sets_on_its_site_does_not_reach_the_next(kept, home, client):
    first = client.get("/").wsgi_request._wagtail_site
    first.site_name = "改了"
    first.root_page.title = "改了"
    second = client.get("/").wsgi_request._wagtail_site
    assert second is not first and second.root_page is not first.root_page
    assert second.site_name != "改了" and second.root_page.title != "改了"


def test_an_unknown_host_without_a_default_site_finds_none(kept, home, rf):
    Site.objects.update(is_default_site=False)
    sites.forget()
    request = rf.get("/", HTTP_HOST="elsewhere.example.org")
    assert sites.site_for_request(request) is None
    assert sites.site_for_request(request) is None  # and the answer is kept

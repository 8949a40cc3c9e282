"""Fixtures shared by the whole suite."""

import pytest
from django.core.cache import cache

from wagtail.models import Site

from portal.models import HomePage
from tests import factories


@pytest.fixture(autouse=True)
def _clear_cache():
    """Rate-limit counters live in the cache; each test starts from zero."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def home(db) -> HomePage:
    """The home page the migrations create, as the default site's root."""
    page = HomePage.objects.get()
    site = Site.objects.get(is_default_site=True)
    site.hostname, site.port = "testserver", 80
    site.save()
    return page


@pytest.fixture
def site_pages(home):
    """One page of every type, published, under the home page."""
    news_index = factories.NewsIndexPageFactory(parent=home, show_in_menus=True)
    notices = factories.NoticeIndexPageFactory(parent=home, show_in_menus=True)
    policies = factories.PolicyIndexPageFactory(parent=home, show_in_menus=True)
    return {
        "home": home,
        "standard": factories.StandardPageFactory(parent=home, slug="about", show_in_menus=True),
        "news_index": news_index,
        "news": factories.NewsPageFactory(parent=news_index, slug="first-news"),
        "notice_index": notices,
        "notice": factories.NoticePageFactory(parent=notices, slug="first-notice"),
        "policy_index": policies,
        "policy": factories.PolicyDocumentPageFactory(parent=policies, slug="opinions"),
    }

"""The home page and the news list run the same number of queries whatever the
number of items."""

import pytest

from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import (
    NewsIndexPageFactory,
    NewsPageFactory,
    NoticeIndexPageFactory,
    NoticePageFactory,
    PolicyDocumentPageFactory,
    PolicyIndexPageFactory,
)

pytestmark = pytest.mark.django_db

HOME_QUERIES = 11
NEWS_QUERIES = 10


def queries_for(client, url) -> int:
    """Database queries of a second request to `url`, not counting the cache's
    (a database table without Redis, none with it: the counts hold for both)."""
    client.get(url)  # warm caches (content types, site root paths, the frame)
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200
    return len([q for q in context.captured_queries if "portal_cache" not in q["sql"]])


def grow(home, news_index, count):
    notices = NoticeIndexPageFactory(parent=home, slug=f"notices-{count}")
    policies = PolicyIndexPageFactory(parent=home, slug=f"policies-{count}")
    for _ in range(count):
        NewsPageFactory(parent=news_index)
        NoticePageFactory(parent=notices)
        PolicyDocumentPageFactory(parent=policies)


def test_home_page_query_count_does_not_grow_with_content(client, home):
    news_index = NewsIndexPageFactory(parent=home, show_in_menus=True)
    grow(home, news_index, 2)
    small = queries_for(client, "/")
    grow(home, news_index, 12)
    large = queries_for(client, "/")
    assert small == large
    # Exact, so that a new per-request query is noticed; the settings, menu
    # and admin-link queries come from the shared cache (portal.frame).
    assert large == HOME_QUERIES


def test_news_list_query_count_does_not_grow_with_content(client, home):
    news_index = NewsIndexPageFactory(parent=home)
    for _ in range(2):
        NewsPageFactory(parent=news_index)
    small = queries_for(client, "/news/")
    for _ in range(25):
        NewsPageFactory(parent=news_index)
    large = queries_for(client, "/news/")
    assert small == large
    assert large == NEWS_QUERIES

"""Pages are found by address in two queries, and exactly where Wagtail's own
walk down the tree would find them (portal.routing)."""

import pytest

from django.db import connection
from django.http import Http404
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from wagtail.models import Page

from portal.models import HomePage
from portal.routing import path_route
from tests.events.factories import EventIndexPageFactory, EventPageFactory
from tests.factories import NewsIndexPageFactory, NewsPageFactory, StandardPageFactory

pytestmark = pytest.mark.django_db


def described(result):
    """What a route found: the page, and the routable page's view (as the
    function, not bound to the instance found) and its arguments."""
    args = tuple(getattr(arg, "__func__", arg) for arg in result.args)
    return (result.page.pk, type(result.page), args, result.kwargs)


def walk(root, parts):
    """Wagtail's own answer, or "404"."""
    try:
        result = Page.route(root, RequestFactory().get("/"), parts)
    except Http404:
        return "404"
    return described(result)


def shortcut(root, parts):
    try:
        result = path_route(root, RequestFactory().get("/"), parts)
    except Http404:
        return "404"
    return described(result)


@pytest.fixture
def tree(home):
    about = StandardPageFactory(parent=home, slug="about")
    team = StandardPageFactory(parent=about, slug="team")
    history = StandardPageFactory(parent=team, slug="history")
    draft_parent = StandardPageFactory(parent=home, slug="drafts")
    draft_parent.unpublish()
    under_draft = StandardPageFactory(parent=draft_parent, slug="kept")
    hidden = StandardPageFactory(parent=about, slug="hidden")
    hidden.unpublish()
    news = NewsIndexPageFactory(parent=home, slug="news")
    NewsPageFactory(parent=news, slug="item")
    events = EventIndexPageFactory(parent=home, slug="events")
    event = EventPageFactory(parent=events, slug="forum")
    return {
        "history": history,
        "under_draft": under_draft,
        "event": event,
        "events": events,
    }


ADDRESSES = [
    ["about"],
    ["about", "team"],
    ["about", "team", "history"],
    ["about", "hidden"],  # a draft: 404
    ["about", "nobody"],  # no such page: 404
    ["about", "team", "history", "more"],  # below a leaf: 404
    ["drafts", "kept"],  # a live page under a draft one is served
    ["drafts"],  # the draft itself: 404
    ["news", "item"],
    ["events"],
    ["events", "calendar"],  # a routable page's own sub-address
    ["events", "ical"],
    ["events", "forum"],
    ["events", "forum", "ical"],
    ["events", "forum", "nothing"],  # a sub-address the event lacks: 404
    ["team"],  # a slug from deeper down, at the top: 404
    ["about", "history"],  # skips a level: 404
]


@pytest.mark.parametrize("parts", ADDRESSES, ids="/".join)
def test_the_shortcut_finds_what_wagtail_finds(tree, parts):
    home = HomePage.objects.get()
    assert shortcut(home, parts) == walk(home, parts)


def test_a_page_moved_or_renamed_is_found_at_its_new_address(tree, client):
    """The old address leads to the new one through the redirect Wagtail
    makes, never to the page itself."""
    home = HomePage.objects.get()
    history = tree["history"]
    history.move(home, pos="last-child")
    assert client.get("/history/").status_code == 200
    old = client.get("/about/team/history/")
    assert (old.status_code, old["Location"]) == (301, "/history/")
    team = Page.objects.get(slug="team").specific
    team.slug = "people"
    team.save_revision().publish()
    assert client.get("/about/people/").status_code == 200
    assert walk(home, ["about", "team"]) == "404"
    assert shortcut(home, ["about", "team"]) == "404"


def test_a_deep_page_costs_two_routing_queries(tree, client):
    client.get("/about/team/history/")  # warm: site, content types
    address = ["about", "team", "history"]
    with CaptureQueriesContext(connection) as deep:
        result = path_route(HomePage.objects.get(), RequestFactory().get("/"), address)
    # One query reads the home page (the test's own); then the pages along
    # the address, then the answering page's specific row.
    assert len(deep.captured_queries) == 3
    # The parent is known without another query, as after Wagtail's walk.
    with CaptureQueriesContext(connection) as parent:
        assert result.page.get_parent().slug == "team"
    assert parent.captured_queries == []

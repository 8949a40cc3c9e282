"""The proxy's cache (portal/frontend_cache.py, docs/deploy.md): the shipped
nginx site in front of a real gunicorn keeps a news item for visitors with no
cookie, never for anyone with one, never the home page; publishing the item
again purges it in both languages through Wagtail's frontend-cache backend,
so the next visitor reads the edit at once.

Runs in both CI runs (the server shares the test database either way).
"""

import pytest

from django.conf import settings
from django.test import override_settings
from django.utils import translation

from wagtail.models import Site

from tests.factories import NewsIndexPageFactory, NewsPageFactory, UserFactory
from tests.portal.servers import HOST, Nginx, Web, free_port, get, server_env
from tests.portal.test_worker import wait_for

pytestmark = [
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.timeout(180),
]


@pytest.fixture
def proxy(tmp_path):
    """nginx (the shipped site) in front of one gunicorn told to mark pages
    for it; the purge address the portal is given (FRONTEND_CACHE_URL)."""
    web_port, purge_port = free_port(), free_port()
    purge_url = f"http://127.0.0.1:{purge_port}"
    web = Web(tmp_path, {**server_env(), "FRONTEND_CACHE_URL": purge_url}, web_port)
    nginx = None
    try:
        assert wait_for(web.ready, timeout=60), web.log()
        nginx = Nginx(tmp_path / "nginx", [web_port], purge_port)
        yield nginx, purge_url
    finally:
        if nginx:
            nginx.stop()
        web.stop()


def fetch(nginx: Nginx, path: str, cookie: str = "") -> tuple[str, str, dict]:
    status, body, headers = get(nginx.port, path, tls=True, cookie=cookie)
    assert status == 200, body[:500]
    return headers.get("X-Cache-Status", ""), body.decode(), headers


def test_a_published_edit_reaches_the_next_visitor_in_both_languages(proxy, home):
    nginx, purge_url = proxy
    # The site's address is the public one (BASE_URL; migrate sets it): the
    # purge names the page by it, as visitors' requests do.
    Site.objects.filter(is_default_site=True).update(hostname=HOST, port=443)
    news = NewsPageFactory(
        parent=NewsIndexPageFactory(parent=home), title="旧标题", slug="ip-day"
    )
    path = news.get_url()
    with translation.override("en"):
        english = news.get_url()
    assert english.startswith("/en/")

    for address in (path, english):
        assert fetch(nginx, address)[0] == "MISS"
        state, body, headers = fetch(nginx, address)
        assert state == "HIT" and "旧标题" in body
        assert "X-Accel-Expires" not in headers  # nginx's alone
    # Any cookie (signed in, a CSRF token, a message): never the cache's copy.
    assert fetch(nginx, path, cookie="sessionid=abc")[0] == "BYPASS"

    news.title = "新标题"
    cache = {
        "nginx": {
            "BACKEND": "wagtail.contrib.frontend_cache.backends.HTTPBackend",
            "LOCATION": purge_url,
        }
    }
    with override_settings(WAGTAILFRONTENDCACHE=cache):
        news.save_revision().publish()

    for address in (path, english):
        state, body, _ = fetch(nginx, address)
        assert state == "MISS" and "新标题" in body and "旧标题" not in body


def test_the_home_page_is_never_kept(proxy, home):
    """It changes at the minute a 4·26 campaign opens, with no publish."""
    nginx, _ = proxy
    assert fetch(nginx, "/")[0] == "MISS"
    assert fetch(nginx, "/")[0] == "MISS"


def test_a_signed_in_page_is_never_served_to_the_next_visitor(proxy, home, client):
    """The first request for a news item comes from a signed-in user, whose
    page names them. nginx neither stores it nor answers a cookieless
    visitor from it: the visitor gets a fresh page without the name."""
    nginx, _ = proxy
    news = NewsPageFactory(parent=NewsIndexPageFactory(parent=home), title="通知")
    path = news.get_url()
    user = UserFactory(real_name="赵签到")
    client.force_login(user)
    name = settings.SESSION_COOKIE_NAME
    cookie = f"{name}={client.cookies[name].value}"

    state, body, _ = fetch(nginx, path, cookie=cookie)
    assert state == "BYPASS" and "赵签到" in body  # the user's own page

    state, body, _ = fetch(nginx, path)
    assert state == "MISS" and "赵签到" not in body
    state, body, _ = fetch(nginx, path)
    assert state == "HIT" and "赵签到" not in body

"""Fixtures shared by the whole suite."""

import time

import pytest

from django.conf import settings
from django.core.cache import cache
from django.utils import translation

from wagtail.models import Site

from portal.models import HomePage
from tests import factories


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the default language: a request to /en/ leaves
    English active in the thread, which would change what reverse() returns."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _mail_through_the_outbox(settings):
    """Django's test set-up swaps EMAIL_BACKEND for locmem; put the portal's
    outbox back in front of it, so tests see the real path: an OutgoingEmail
    row, a task on commit, then delivery (to locmem, mail.outbox)."""
    settings.EMAIL_BACKEND = "portal.mail.OutboxEmailBackend"


@pytest.fixture(autouse=True)
def _clear_cache(request):
    """Rate-limit counters live in the cache; each test starts from zero.
    (With no Redis the cache is a database table: only tests with database
    access can, and need to, clear it.)"""
    uses_db = request.node.get_closest_marker("django_db") or {
        "db",
        "transactional_db",
        "live_server",
    } & set(request.fixturenames)
    if uses_db:
        cache.clear()
    yield
    if uses_db:
        cache.clear()


@pytest.fixture(autouse=True)
def _fresh_search_lexicon():
    """The search's lexicon (synonyms, terms, organisations) is kept by the
    process for minutes; a test's rows are rolled back without a signal, so
    each test starts with none and builds its own."""
    from talentpool.search.lexicon import lexicon_changed

    lexicon_changed()
    yield
    lexicon_changed()


@pytest.fixture(autouse=True)
def _rate_windows_hold_still(monkeypatch):
    """django-ratelimit counts in fixed windows (a minute, offset per key):
    a test that sends 31 requests would see its count restart if a window
    ended in the middle, more likely the slower the machine. Its clock is
    held at the test's start, so "the 31st request in a minute" is exactly
    that; each test starts from an empty cache (_clear_cache)."""
    import types

    from django_ratelimit import core

    start = time.time()
    monkeypatch.setattr(core, "time", types.SimpleNamespace(time=lambda: start))


@pytest.fixture(autouse=True)
def _force_login_passes_mfa(monkeypatch):
    """`client.force_login(user)` stands for a completed sign-in. For a user
    with an authenticator, a real sign-in passes allauth's MFA stage, which
    records it in the session (portal.staff reads that record); so here too.
    A user without one gets a session without MFA, as in life. Tests of the
    MFA rules themselves sign in through the real forms."""
    from allauth.account.authentication import AUTHENTICATION_METHODS_SESSION_KEY
    from allauth.mfa.utils import is_mfa_enabled

    from django.test import Client

    original = Client.force_login

    def force_login(self, user, backend=None):  # type: ignore[no-untyped-def]
        original(self, user, backend)
        if user.pk is not None and is_mfa_enabled(user):
            session = self.session
            session["account_authentication_methods_user"] = str(user.pk)
            session[AUTHENTICATION_METHODS_SESSION_KEY] = [
                {"method": "password", "at": time.time()},
                {"method": "mfa", "at": time.time(), "type": "totp"},
            ]
            session.save()

    monkeypatch.setattr(Client, "force_login", force_login)


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
        "standard": factories.StandardPageFactory(
            parent=home, slug="about", show_in_menus=True
        ),
        "news_index": news_index,
        "news": factories.NewsPageFactory(parent=news_index, slug="first-news"),
        "notice_index": notices,
        "notice": factories.NoticePageFactory(parent=notices, slug="first-notice"),
        "policy_index": policies,
        "policy": factories.PolicyDocumentPageFactory(parent=policies, slug="opinions"),
    }

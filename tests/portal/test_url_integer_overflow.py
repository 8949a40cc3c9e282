"""An id past what the database can hold is "not found", never a server error.

Every URL the portal answers that takes an integer (the project's own, Wagtail's
admin, Wagtail's documents, Django's admin) is requested with values just past
the 32-bit and 64-bit ranges and past any 64-bit number, by an anonymous
visitor and by a superuser whose session proved its second factor, with GET and
POST. The URLs are found by walking the resolver, so a URL added later is tried
too.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from allauth.mfa.utils import is_mfa_enabled

from django.conf import settings
from django.db import connection
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.converters import IntConverter
from django.urls.resolvers import LocalePrefixPattern, RegexPattern, RoutePattern
from django.utils import translation
from django.utils.regex_helper import normalize

from wagtail.contrib.routable_page.models import RoutablePageMixin
from wagtail.models import get_page_models

from portal.converters import IdConverter
from talentpool.models import TalentSearchPage
from tests.factories import StaffFactory
from tests.talentpool.helpers import talent_page

pytestmark = pytest.mark.django_db

# Just past a signed 64-bit column (the project's ids), and a number past any
# 64-bit one (2**64 fails the same way: SQLite refuses both, psycopg sends
# both as numeric). Just past a signed 32-bit column (Wagtail's page ids on
# PostgreSQL) only where such columns exist: on SQLite every integer is 64-bit.
HUGE_VALUES = [str(2**63), "99999999999999999999"]
if connection.vendor == "postgresql":
    HUGE_VALUES.insert(0, str(2**31))
INTEGER_CONVERTERS = (IntConverter, IdConverter)
# Plausible values for the other arguments; what matters is the integer one.
OTHER_VALUES = {
    "slug": "x",
    "str": "x",
    "path": "x",
    "uuid": "0" * 8 + "-0000" * 3 + "-" + "0" * 12,
}
ID_NAME = re.compile(r"(^|_)(id|pk)$")
ROUTE_PARAMETER = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")


@dataclass(frozen=True)
class IntegerURL:
    """One URL pattern that takes an integer, as a template for its address."""

    template: str  # "/events/check-in/{n}/"
    view: str  # the dotted path of the view, for the report
    accepts_post: bool

    def url(self, value: str) -> str:
        return self.template.replace("{n}", value)


def _route_template(pattern: RoutePattern) -> tuple[str, bool]:
    """The route with integer parameters as {n} and the others filled in."""
    has_integer = False

    def fill(match: re.Match) -> str:
        nonlocal has_integer
        converter = pattern.converters[match["name"]]
        # Django's admin takes `<path:object_id>`, some of Wagtail's views
        # `<str:pk>`: ids too, whatever the converter.
        if isinstance(converter, INTEGER_CONVERTERS) or ID_NAME.search(match["name"]):
            has_integer = True
            return "{n}"
        return OTHER_VALUES.get(match["converter"] or "str", "x")

    return ROUTE_PARAMETER.sub(fill, str(pattern._route)), has_integer


def _regex_template(pattern: RegexPattern) -> tuple[str, bool]:
    """A regex as an address: every group that may be digits gets {n}, the
    others a word (Django's reverse() does the same with normalize())."""
    regex = pattern._regex
    if not re.search(r"\\d|\[0-9\]", regex):
        (template, _params), *_ = normalize(regex)
        return template, False
    (template, params), *_ = normalize(regex)
    return template % dict.fromkeys(params, "{n}"), True


def _segment(pattern, language: str) -> tuple[str, bool]:  # type: ignore[no-untyped-def]
    if isinstance(pattern, LocalePrefixPattern):
        with translation.override(language):
            return pattern.language_prefix, False
    if isinstance(pattern, RoutePattern):
        return _route_template(pattern)
    return _regex_template(pattern)


def _accepts_post(view) -> bool:  # type: ignore[no-untyped-def]
    """Whether POST reaches the view's code: a class-based view says so; a
    function view is tried (halves the requests to Wagtail's many read-only
    admin views)."""
    view_class = getattr(view, "view_class", None)
    if view_class is None:
        return True
    return "post" in view_class.http_method_names and hasattr(view_class, "post")


def _walk(
    patterns: list, prefix: str, has_integer: bool, language: str
) -> Iterator[IntegerURL]:
    for entry in patterns:
        segment, integer_here = _segment(entry.pattern, language)
        found = has_integer or integer_here
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + segment, found, language)
        elif isinstance(entry, URLPattern) and found:
            yield IntegerURL(
                template=prefix + segment,
                view=entry.lookup_str,
                accepts_post=_accepts_post(entry.callback),
            )


def integer_urls() -> list[IntegerURL]:
    """Every address that takes an integer, in each language's URL space
    (Chinese without a prefix, English under /en/); each once."""
    found: dict[str, IntegerURL] = {}
    for language, _name in settings.LANGUAGES:
        for url in _walk(get_resolver().url_patterns, "/", False, language):
            found.setdefault(url.template, url)
    return list(found.values())


def mfa_superuser_client() -> Client:
    """A superuser's client whose session has proved its second factor
    (force_login of a user with TOTP counts as the MFA stage: tests/conftest.py)."""
    user = StaffFactory()
    if not is_mfa_enabled(user):
        TOTP.activate(user, generate_totp_secret())
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def test_the_walk_finds_every_kind_of_integer_url():
    """The walk is only worth its silence if it finds the URLs: the project's
    own, Wagtail's admin and documents (a regex), and the English ones."""
    templates = {url.template for url in integer_urls()}
    assert "/events/check-in/{n}/" in templates
    assert "/en/events/check-in/{n}/" in templates
    assert "/learning/lessons/{n}/complete/" in templates
    assert "/api/v1/experts/{n}/" in templates
    assert "/admin/pages/{n}/edit/" in templates
    assert "/documents/{n}/{n}" in templates
    assert "/admin/pages/{n}/revisions/compare/{n}...{n}/" in templates


def test_every_integer_url_resolves_with_a_small_id():
    """Each built address is one the site answers (with id 1), so a 404 for
    the huge values means "no such id", not "the test built a wrong URL"."""
    unresolved = []
    for url in integer_urls():
        try:
            resolve(url.url("1"))
        except Exception:  # noqa: BLE001 - collected and reported below
            unresolved.append(url.template)
    assert not unresolved, "\n".join(unresolved)


@pytest.mark.parametrize("role", ["anonymous", "superuser with MFA"])
def test_an_id_past_the_database_range_is_never_a_server_error(home, role):
    if role == "anonymous":
        client = Client(raise_request_exception=False)
    else:
        client = mfa_superuser_client()
        assert client.get("/admin/").status_code == 200
    errors = []
    for url in integer_urls():
        for value in HUGE_VALUES:
            address = url.url(value)
            methods = [client.get, client.post] if url.accepts_post else [client.get]
            for method in methods:
                status = method(address).status_code
                if status >= 500:
                    errors.append(
                        f"{method.__name__.upper()} {address} {status} ({url.view})"
                    )
    assert not errors, "\n".join(errors)


# A published page of each page type whose routes take an integer.
ROUTABLE_PAGES = {TalentSearchPage: talent_page}


def routable_integer_routes() -> list[tuple[type, str]]:
    """(page type, route template) for each route of a routable page type
    that takes an integer: Wagtail resolves these below the page, outside
    the URLconf."""
    found = []
    for model in get_page_models():
        if issubclass(model, RoutablePageMixin):
            for route in model.get_subpage_urls():
                template, has_integer = _segment(route.pattern, "zh-hans")
                if has_integer:
                    found.append((model, template))
    return found


def test_an_id_past_the_database_range_in_a_page_route_is_not_found(home):
    routes = routable_integer_routes()
    assert (TalentSearchPage, "experts/{n}/") in routes
    client = mfa_superuser_client()
    errors = []
    for model, template in routes:
        page = ROUTABLE_PAGES[model](home)  # a new routable page type: add it
        for value in HUGE_VALUES:
            address = page.url + template.replace("{n}", value)
            for method in (client.get, client.post):
                status = method(address).status_code
                if status >= 500:
                    errors.append(f"{method.__name__} {address} {status}")
    assert not errors, "\n".join(errors)

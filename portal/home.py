"""What the apps add to the home page, without the portal knowing them.

The home page (portal.models.HomePage) shows the latest news, notices and
policies. An app that has more to show registers a function here from its
AppConfig.ready(); the home page asks each one, per request, for a
`HomeSection`: context for the template (portal/home_page.html) and whether
it takes the page for itself, leaving the usual lists out. Events use it
for the 4·26 campaign (events.campaigns.home_section).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from django.http import HttpRequest

    from wagtail.models import Page


@dataclass(frozen=True)
class HomeSection:
    """Template context an app adds to the home page; `takes_over`: the
    usual lists (news, notices, policies) are left out, and the section shows
    what it keeps of them itself (a campaign keeps the notices marked
    important: events.campaigns.home_section)."""

    context: dict[str, Any] = field(default_factory=dict)
    takes_over: bool = False


HomeProvider = Callable[..., "HomeSection | None"]

_providers: list[HomeProvider] = []


def register_home_section(provider: HomeProvider) -> HomeProvider:
    """Add `provider(site_root=..., request=...)` to what the home page asks
    (once: registering it again changes nothing)."""
    if provider not in _providers:
        _providers.append(provider)
    return provider


def home_sections(*, site_root: Page, request: HttpRequest) -> list[HomeSection]:
    """Each registered provider's section for this request, in the order they
    were registered (that of INSTALLED_APPS); providers with nothing to add
    are left out."""
    sections = (
        provider(site_root=site_root, request=request) for provider in _providers
    )
    return [section for section in sections if section is not None]

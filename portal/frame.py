"""The frame around every page (site settings, main menu, the admin link),
kept in the shared cache.

Without it each request asks the database for the site settings, the main
menu (two queries) and the user's permissions (two queries), although they
change a few times a month. Here one `get_many` answers all three: one round
trip to Redis, or one query on the cache table when there is no Redis.

What is cached under a shared key is the same for every visitor: the settings
and the menu, per site and language (menu URLs carry the /en/ prefix). The
admin link is per user, under the user's own key. Entries are deleted when
what they show changes (portal.signal_handlers: at once and again on
commit); the timeouts only bound the life of an entry that a missed signal
left behind.
"""

import logging
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings as django_settings
from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import get_language

from wagtail.models import Site

from portal.cache import CacheUnavailable

if TYPE_CHECKING:
    from portal.models import SiteSettings

FRAME_TIMEOUT = 24 * 60 * 60
ACCESS_TIMEOUT = 60 * 60
PERMISSIONS_VERSION_KEY = "portal:permissions-version"

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class MenuItem:
    """A main-menu entry: what the header needs, without the page object."""

    pk: int
    path: str
    title: str
    url: str


@dataclass(frozen=True)
class Frame:
    settings: "SiteSettings"
    menu: list[MenuItem]


@dataclass(frozen=True)
class RequestFrame:
    frame: Frame | None
    may_use_admin: bool


def frame_key(site_id: int, language: str) -> str:
    return f"portal:frame:{site_id}:{language}"


def admin_access_key(user_id: int) -> str:
    return f"portal:admin-access:{user_id}"


def _language() -> str:
    return get_language() or django_settings.LANGUAGE_CODE


def _build_frame(request: HttpRequest, site: Site) -> Frame:
    from portal import selectors
    from portal.models import SiteSettings

    site_settings = SiteSettings.for_site(site)
    site_settings.logo  # noqa: B018 - loaded now, so that it is cached with them
    menu = [
        MenuItem(
            pk=page.pk,
            path=page.path,
            title=page.title,
            url=page.get_url(request=request) or "",
        )
        for page in selectors.menu_pages(site_root=site.root_page)
    ]
    return Frame(settings=site_settings, menu=menu)


def for_request(request: HttpRequest) -> RequestFrame:
    """The frame of this request's site and language, and whether its user may
    use the admin. Read once per request (kept on the request), from the
    shared cache in one round trip; what is missing is built and stored."""
    cached = getattr(request, "_portal_frame", None)
    if cached is not None:
        return cached
    site = Site.find_for_request(request)
    user = getattr(request, "user", None)
    if user is not None and not user.is_authenticated:
        user = None  # from here on, the signed-in user or None
    keys = []
    if site is not None:
        keys.append(frame_key(site.pk, _language()))
    if user is not None:
        keys += [admin_access_key(user.pk), PERMISSIONS_VERSION_KEY]
    found = cache.get_many(keys) if keys else {}
    to_store = {}

    frame = None
    if site is not None:
        frame = found.get(keys[0])
        if frame is None:
            frame = to_store[keys[0]] = _build_frame(request, site)

    may_use_admin = False
    if user is not None:
        version = found.get(PERMISSIONS_VERSION_KEY)
        if version is None:
            version = uuid.uuid4().hex
            try:
                cache.add(PERMISSIONS_VERSION_KEY, version, timeout=None)
            except CacheUnavailable:
                # No cache (Redis stopped): nothing is kept, the answer below
                # is worked out afresh, and the page still answers.
                logger.warning("Admin-link cache unavailable", exc_info=True)
        entry = found.get(admin_access_key(user.pk))
        if entry is not None and entry[0] == version:
            may_use_admin = entry[1]
        else:
            # Held, not usable: the link is shown to staff who have not yet
            # proved MFA in this session too; the admin asks for it.
            may_use_admin = user.holds_perm("wagtailadmin.access_admin")
            cache.set(
                admin_access_key(user.pk),
                (version, may_use_admin),
                timeout=ACCESS_TIMEOUT,
            )
    if to_store:
        cache.set_many(to_store, timeout=FRAME_TIMEOUT)

    if frame is not None:
        # Wagtail's own SiteSettings.for_request finds them on the request.
        from portal.models import SiteSettings

        frame.settings._request = request
        setattr(request, SiteSettings.get_cache_attr_name(), frame.settings)
    result = RequestFrame(frame=frame, may_use_admin=may_use_admin)
    request._portal_frame = result  # type: ignore[attr-defined]  # cache attribute of our own on the request
    return result


# --- invalidation ----------------------------------------------------------------


def _now_and_on_commit(function) -> None:
    """Run `function` now and again when the current transaction commits.

    Now, so that this transaction's own later reads (and tests, which never
    commit) see the change; on commit, because another request may have cached
    the old state in between. The on-commit call is queued once however many
    changes in the transaction ask for it.
    """
    function()
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        return
    if any(queued is function for _sids, queued, _robust in connection.run_on_commit):
        return
    transaction.on_commit(function)


def _delete_frames() -> None:
    languages = [code for code, _name in django_settings.LANGUAGES]
    cache.delete_many(
        [
            frame_key(site_id, language)
            for site_id in Site.objects.values_list("pk", flat=True)
            for language in languages
        ]
    )


def _new_permissions_version() -> None:
    cache.set(PERMISSIONS_VERSION_KEY, uuid.uuid4().hex, timeout=None)


def frames_invalidate() -> None:
    """Forget every site's cached settings and menu, now and when the
    transaction commits. May run twice: the second time there is nothing to
    forget."""
    _now_and_on_commit(_delete_frames)


def permissions_invalidate() -> None:
    """Make every cached admin-link answer stale, now and when the transaction
    commits (group or permission changes reach many users at once)."""
    _now_and_on_commit(_new_permissions_version)


def admin_access_invalidate(*, user_id: int) -> None:
    """Forget one user's cached admin-link answer, now and on commit."""
    key = admin_access_key(user_id)
    cache.delete(key)
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(lambda: cache.delete(key))

"""Finding the page for an address in two queries instead of two a level.

Wagtail's Page.route walks the address a level at a time: the child with
the next slug, then that child's specific row, and so on down. A lesson at
/courses/<course>/<lesson>/ costs six queries before its view starts, on
every request. path_route does the same walk from what one query returns:
every page along the address by its url_path (which Wagtail keeps in step
with the slugs: it is rewritten for a page and its descendants when a slug
changes or a page moves), then the specific row of the page that answers.

What Wagtail's walk would do is kept:

- the pages must form an unbroken chain of children from the site's root,
  or the walk stops where it breaks and Wagtail's own route carries on
  from there (and answers 404 where it would);
- a page on the way whose type routes its own sub-addresses (a
  RoutablePageMixin page, or any page that overrides route) gets the rest of
  the address, as the walk would have handed it over;
- the page that answers, and every page on the way, knows its parent without
  another query (Wagtail's walk sets the same cache);
- whether the page is live, its view restrictions and its serve are
  Wagtail's own, unchanged.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from wagtail.models import Page


def routes_itself(page: Page) -> bool:
    """Whether the page's type replaces Wagtail's walk for what lies below it."""
    cls = page.specific_class  # None for a type whose model was removed
    return cls is not None and cls.route is not Page.route


def path_route(root: Page, request: HttpRequest, path_components: list[str]) -> Any:
    """Page.route for `root` (the site's root page, specific) and the address's
    components; see the module docstring."""
    prefixes = [
        root.url_path + "".join(f"{part}/" for part in path_components[:level])
        for level in range(1, len(path_components) + 1)
    ]
    found = {
        page.url_path: page
        for page in Page.objects.filter(
            url_path__in=prefixes,
            path__startswith=root.path,
            depth__gt=root.depth,
            depth__lte=root.depth + len(path_components),
        )
    }
    parent: Page = root
    for level, prefix in enumerate(prefixes):
        page = found.get(prefix)
        if (
            page is None
            or page.depth != parent.depth + 1
            or not page.path.startswith(parent.path)
        ):
            # The chain breaks here: Wagtail's walk goes on from the last
            # page found (and answers 404 where the address leads nowhere).
            return Page.route(parent, request, path_components[level:])
        page._cached_parent_obj = parent  # treebeard's cache of get_parent
        rest = path_components[level + 1 :]
        if not rest or routes_itself(page):
            specific = page.specific
            specific._cached_parent_obj = parent  # as above
            return specific.route(request, rest)
        parent = page
    raise AssertionError("unreachable: the last prefix has no rest")

"""Error pages in the visitor's language, inside the site's layout where safe."""

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template import loader
from django.utils import translation


def bad_request(
    request: HttpRequest, exception: Exception | None = None
) -> HttpResponse:
    if isinstance(exception, DisallowedHost):
        return bad_host(request)
    return render(request, "400.html", status=400)


def bad_host(request: HttpRequest) -> HttpResponse:
    """The 400 page for a Host header outside ALLOWED_HOSTS.

    Rendered without the request: everything in the site's frame that would
    use it (absolute URLs for Open Graph, finding the Wagtail site and its
    settings, the menu's page URLs) asks it for its host, which raises
    DisallowedHost again and turns the 400 into a 500. So no context
    processors and no site-specific frame: the default name and an empty
    menu. The language is the address's (Chinese unless it starts with
    /en/): the middleware that picks it may not have run (the SSL redirect
    asks for the host before it).
    """
    language = (
        translation.get_language_from_path(request.path_info) or settings.LANGUAGE_CODE
    )
    with translation.override(language):
        html = loader.render_to_string("400.html")
    return HttpResponse(html, status=400)


def permission_denied(
    request: HttpRequest, exception: Exception | None = None
) -> HttpResponse:
    return render(request, "403.html", status=403)


def page_not_found(
    request: HttpRequest, exception: Exception | None = None
) -> HttpResponse:
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    # No context processors: the failure may lie in them or the database.
    return HttpResponse(loader.get_template("500.html").render(), status=500)

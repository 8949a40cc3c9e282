"""Error pages in the visitor's language, inside the site's layout where safe."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template import loader


def bad_request(
    request: HttpRequest, exception: Exception | None = None
) -> HttpResponse:
    return render(request, "400.html", status=400)


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

"""Placeholder until the check-in part lands (replaced by its owner)."""

from django.http import Http404, HttpRequest, HttpResponse


def checkin(request: HttpRequest) -> HttpResponse:
    raise Http404

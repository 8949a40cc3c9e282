"""The talent pool's JSON API: /api/v1/experts/ (search, with the listing's
parameters plus page_size) and /api/v1/experts/<id>/ (one listed expert).

A search result is `Expert.summary_dict()` (what the listing's card
shows) and one expert `Expert.public_dict()`, each with the address of the
public profile: never the e-mail or the phone. A query that is a licence number
puts the listed expert holding it first and names it in `licence_holders`.
Bad input is a 400 with the parameter and the reason, never a 500;
page_size over 50 is taken as 50; no client sees past the first
RESULT_WINDOW results of a query (talentpool.search.engine): a page past
them is a 400 `result_window_exceeded`. Every call spends the client's one
talent-pool budget, shared with the pages, and /experts/<id>/, the only
way to the whole profile, counts towards the client's daily cap of
distinct profiles, shared with the profile pages
(talentpool.views.rate_limit, profile_refusal).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _

from portal import http
from portal.site_url import absolute_url
from talentpool import views
from talentpool.models import Expert, TalentSearchPage

API_PAGE_SIZE = 20


def _json(data: dict[str, Any], status: int = 200) -> JsonResponse:
    return JsonResponse(data, status=status, json_dumps_params={"ensure_ascii": False})


def _error(code: str, detail: str, *, parameter: str = "", status: int = 400) -> Any:
    body = {"error": code, "detail": detail}
    if parameter:
        body["parameter"] = parameter
    return _json(body, status=status)


def _profile_url(request: HttpRequest) -> Any:
    """A function giving each expert's profile address, absolute, or None
    for all when no search page is published."""
    page = TalentSearchPage.objects.live().first()
    if page is None:
        return lambda expert_id: None
    base = page.get_full_url(request)
    if base.startswith("/"):
        base = absolute_url(base)
    return lambda expert_id: base + page.reverse_subpage("expert", args=(expert_id,))


def _expert(expert: Expert, profile_url: Any) -> dict[str, Any]:
    return expert.public_dict() | {"url": profile_url(expert.pk)}


def _result(expert: Expert, profile_url: Any) -> dict[str, Any]:
    return expert.summary_dict() | {"url": profile_url(expert.pk)}


def _page_url(request: HttpRequest, number: int) -> str:
    query = request.GET.copy()
    query["page"] = str(number)
    return absolute_url(f"{request.path}?{query.urlencode()}")


@http.public_api
@views.rate_limit("api", api=True)
def expert_list(request: HttpRequest) -> HttpResponse:
    """One page of search results with facet counts and next/previous links."""
    params = views.search_params(
        request.GET, page_size=API_PAGE_SIZE, allow_page_size=True
    )
    if params.problems:
        parameter, message = params.problems[0]
        return _error("invalid_parameter", message, parameter=parameter)
    if params.page * params.page_size > views.MAX_WINDOW:
        return _error(
            "result_window_exceeded",
            _(
                "Only the first %(max)d results of a search can be read: narrow "
                "the search with a query or filters."
            )
            % {"max": views.MAX_WINDOW},
            parameter="page",
        )
    outcome = views.run_search(params)
    if outcome.page_problem:
        return _error(
            "page_out_of_range",
            _("There is no page %(page)d: the search has %(pages)d.")
            % {"page": params.page, "pages": outcome.pages},
            parameter="page",
        )
    profile_url = _profile_url(request)
    return _json(
        {
            "total": outcome.total,
            "widened": outcome.widened,
            "page": params.page,
            "page_size": params.page_size,
            "pages": outcome.pages,
            "next": (
                _page_url(request, params.page + 1)
                if params.page < outcome.last_page
                else None
            ),
            "previous": (
                _page_url(request, params.page - 1) if params.page > 1 else None
            ),
            "results": [_result(expert, profile_url) for expert in outcome.experts],
            # The results holding the licence number the query is: first.
            "licence_holders": [
                {"id": expert_id, "licence_number": number}
                for expert_id, number in outcome.licence_holders.items()
            ],
            "facets": outcome.facets,
        }
    )


@http.public_api
@views.rate_limit("api", api=True)
def expert_detail(request: HttpRequest, expert_id: int) -> HttpResponse:
    """One listed expert; anyone else is the same 404."""
    expert = views.listed_expert(expert_id)
    if expert is None:
        return _error("not_found", _("No listed expert has this id."), status=404)
    if refused := views.profile_refusal(request, expert.pk, api=True):
        return refused
    return _json(_expert(expert, _profile_url(request)))

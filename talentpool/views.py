"""The public talent search: the listing with facets on the TalentSearchPage,
and an expert's public profile (its route). The JSON API (talentpool.api)
reads its parameters with the same function.

Only listed experts (public, verified, consented) are shown, and only their
public fields: the templates never touch the e-mail or the phone. The pool
is a list of people that must not be scraped wholesale: every view here and
in the API spends one budget per client (rate_limit), a client opens at most
so many distinct profiles a day (profile_refusal), and no query is paged
past RESULT_WINDOW results (docs/security.md, "Scraping the talent pool").
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db.models import prefetch_related_objects
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from courses import selectors as training_record
from courses.models import Certificate, Enrolment
from portal import http
from portal.clientip import client_key
from portal.models import District, IPType
from talentpool.models import (
    Enterprise,
    EnterpriseMember,
    Expert,
    ExpertCategory,
    Industry,
    Language,
    Service,
)
from talentpool.search import (
    PAGE_SIZE_MAX,
    QUERY_MAX_CHARS,
    RESULT_WINDOW,
    PageOutOfRange,
    expert_search,
)

if TYPE_CHECKING:
    from talentpool.models import TalentSearchPage

View = Callable[..., HttpResponse]

#: URL parameter -> the vocabulary its codes come from, in the order the
#: facets are shown.
FACETS = {
    "category": ExpertCategory,
    "ip_type": IPType,
    "service": Service,
    "industry": Industry,
    "district": District,
    "language": Language,
}
FACET_LEGENDS = {
    "category": gettext_lazy("Expert category"),
    "ip_type": gettext_lazy("IP type"),
    "service": gettext_lazy("Service"),
    "industry": gettext_lazy("Industry"),
    "district": gettext_lazy("District"),
    "language": gettext_lazy("Working language"),
}
SORTS = {
    "relevance": gettext_lazy("Relevance"),
    "years": gettext_lazy("Years of practice"),
    "confirmed": gettext_lazy("Last confirmed"),
}
MAX_QUERY_LENGTH = QUERY_MAX_CHARS
#: More codes than any facet has terms: a longer list is not a person's choice.
MAX_CODES_PER_FACET = 40
MAX_CODE_LENGTH = 64
PAGE_SIZE = 20
MAX_PAGE_SIZE = PAGE_SIZE_MAX
#: No client sees past the first MAX_WINDOW results of a query: narrowing it
#: is the way on, so walking the whole pool page by page is not.
MAX_WINDOW = RESULT_WINDOW

#: One budget per client (the signed-in user, else the client address)
#: across the search page, profiles and the API;
#: settings.PORTAL_TALENT_RATE_LIMITS overrides it and may add a cap of one
#: kind ("search", "profile", "api") inside it.
DEFAULT_RATES = {"budget": "60/m,1000/d"}
#: Distinct expert profiles a client may open a day; a user of a verified
#: enterprise gets MEMBER (settings.PORTAL_TALENT_DAILY_PROFILES[_MEMBER]).
DAILY_PROFILES = 100
DAILY_PROFILES_MEMBER = 1000


def _rate(name: str) -> str | None:
    rates = getattr(settings, "PORTAL_TALENT_RATE_LIMITS", {})
    return rates.get(name, DEFAULT_RATES.get(name))


def rate_limit(name: str, *, api: bool = False) -> Callable[[View], View]:
    """The shared budget, then `name`'s own cap if one is set. Both count
    per client (portal.clientip.client_key): a scraper alternating the page,
    the profiles and the API spends one budget. A limiter that cannot count
    lets the request through and logs it (portal.http.rate_limit)."""
    budget = http.rate_limit(
        "talentpool.budget", rate=lambda: _rate("budget"), per_client=True, api=api
    )
    own = http.rate_limit(
        f"talentpool.{name}", rate=lambda: _rate(name), per_client=True, api=api
    )

    def decorator(view: View) -> View:
        return budget(own(view))

    return decorator


def daily_profile_cap(request: HttpRequest) -> int:
    """How many distinct profiles this client may open today."""
    user = getattr(request, "user", None)
    if (
        user is not None
        and user.is_authenticated
        and EnterpriseMember.objects.filter(
            user=user, enterprise__status=Enterprise.Status.VERIFIED
        ).exists()
    ):
        return getattr(
            settings, "PORTAL_TALENT_DAILY_PROFILES_MEMBER", DAILY_PROFILES_MEMBER
        )
    return getattr(settings, "PORTAL_TALENT_DAILY_PROFILES", DAILY_PROFILES)


def profile_refusal(
    request: HttpRequest, expert_id: int, *, api: bool
) -> HttpResponse | None:
    """None when this client may open this profile today (a profile it has
    opened today always; a new one while under its daily cap), else the 429
    that says so, with Retry-After until midnight."""
    cap = daily_profile_cap(request)
    wait = http.daily_distinct(
        request,
        group="talentpool.profiles",
        client=client_key(request),
        item=expert_id,
        cap=cap,
    )
    if wait is None:
        return None
    message = _(
        "You have opened %(cap)d different expert profiles today, the most "
        "allowed in one day. The profiles you opened today stay open to you; "
        "others can be opened again tomorrow."
    ) % {"cap": cap}
    return http.refusal(
        request, api=api, code="daily_profile_limit", message=message, retry_after=wait
    )


# --- Parameters ----------------------------------------------------------------


@dataclass
class SearchParams:
    """A search as the URL asks for it, with anything invalid left out."""

    query: str = ""
    filters: dict[str, list[str]] = field(default_factory=dict)
    sort: str = "relevance"
    page: int = 1
    page_size: int = PAGE_SIZE
    #: (parameter, message) for each value that was invalid and left out.
    problems: list[tuple[str, str]] = field(default_factory=list)


def _positive_int(value: str) -> int | None:
    value = value.strip()
    if not value.isascii() or not value.isdigit() or len(value) > 9:
        return None
    number = int(value)
    return number if number >= 1 else None


def search_params(
    data: QueryDict, *, page_size: int = PAGE_SIZE, allow_page_size: bool = False
) -> SearchParams:
    """Read q, the facet codes, sort, page and (for the API) page_size.

    Never raises: a bad value is left out (or clamped: page_size over 50
    becomes 50) and described in `problems`. Codes are checked against the
    vocabularies, one query per facet that has any.
    """
    params = SearchParams(page_size=page_size)
    query = " ".join(data.get("q", "").split())
    if len(query) > MAX_QUERY_LENGTH:
        params.problems.append(
            (
                "q",
                _("Search for at most %(max)d characters.") % {"max": MAX_QUERY_LENGTH},
            )
        )
        query = query[:MAX_QUERY_LENGTH]
    params.query = query

    for key, vocabulary in FACETS.items():
        codes = list(dict.fromkeys(c.strip() for c in data.getlist(key) if c.strip()))
        if not codes:
            continue
        if len(codes) > MAX_CODES_PER_FACET or any(
            len(c) > MAX_CODE_LENGTH for c in codes
        ):
            params.problems.append((key, _("Too many or too long codes.")))
            continue
        known = set(
            vocabulary._default_manager.filter(code__in=codes).values_list(
                "code", flat=True
            )
        )
        unknown = [c for c in codes if c not in known]
        if unknown:
            params.problems.append(
                (
                    key,
                    _("Unknown code for %(facet)s: %(codes)s")
                    % {"facet": FACET_LEGENDS[key], "codes": ", ".join(unknown)},
                )
            )
        if known:
            params.filters[key] = [c for c in codes if c in known]

    reachable = data.get("reachable", "").strip()
    if reachable in ("yes", "1", "true", "on"):
        params.filters["reachable"] = ["yes"]
    elif reachable:
        params.problems.append(
            (
                "reachable",
                _("To see only experts who can be contacted, use reachable=yes."),
            )
        )

    sort = data.get("sort", "relevance") or "relevance"
    if sort in SORTS:
        params.sort = sort
    else:
        params.problems.append(
            ("sort", _("Sort by one of: %(sorts)s.") % {"sorts": ", ".join(SORTS)})
        )

    if "page" in data:
        page = _positive_int(data.get("page", ""))
        if page is None:
            params.problems.append(("page", _("The page must be a whole number.")))
        else:
            params.page = page

    if allow_page_size and "page_size" in data:
        size = _positive_int(data.get("page_size", ""))
        if size is None:
            params.problems.append(
                ("page_size", _("The page size must be a whole number."))
            )
        else:
            params.page_size = min(size, MAX_PAGE_SIZE)
    return params


@dataclass
class SearchOutcome:
    total: int
    pages: int
    #: The last page any client may see (MAX_WINDOW).
    last_page: int
    experts: list[Expert]
    facets: dict[str, list[dict[str, Any]]]
    #: "past_end" or "past_window" when the page asked for cannot be shown.
    page_problem: str = ""
    #: The listed experts among the results holding the licence number the
    #: query is (expert id to the number as stored); they come first.
    licence_holders: dict[int, str] = field(default_factory=dict)
    #: Nobody meets every part of the query: the results meet most of it.
    widened: bool = False


def run_search(params: SearchParams) -> SearchOutcome:
    """The page of experts, the counts and the facets for the parameters."""
    search = expert_search(
        query=params.query,
        filters=params.filters,
        sort=params.sort,
        language=get_language() or settings.LANGUAGE_CODE,
    )
    total = search.total
    pages = math.ceil(total / params.page_size) if total else 0
    last_page = min(pages, MAX_WINDOW // params.page_size)
    experts: list[Expert] = []
    problem = ""
    if params.page > last_page and params.page <= pages:
        problem = "past_window"
    elif params.page > max(pages, 1):
        problem = "past_end"
    elif total:
        try:
            experts = search.page(params.page, params.page_size)
        except PageOutOfRange:
            # The pool shrank between the count and the page.
            problem = "past_end"
    return SearchOutcome(
        total=total,
        pages=pages,
        last_page=last_page,
        experts=experts,
        facets=search.facets(),
        page_problem=problem,
        licence_holders=search.licence_holders,
        widened=search.widened and bool(total),
    )


# --- The listing ---------------------------------------------------------------


def _english() -> bool:
    return (get_language() or "").startswith("en")


def _facet_groups(
    params: SearchParams, facets: dict[str, list[dict[str, Any]]]
) -> list[dict[str, Any]]:
    """Each facet as a fieldset: its terms with counts, the chosen ones
    ticked; a chosen term the current results no longer have stays, with 0,
    so that it can be unticked."""
    english = _english()
    groups = []
    for key, vocabulary in FACETS.items():
        chosen = params.filters.get(key, [])
        options = [
            {
                "code": item["code"],
                "label": item["label_en"] if english else item["label_zh"],
                "count": item["count"],
                "checked": item["code"] in chosen,
            }
            for item in facets.get(key, [])
        ]
        shown = {option["code"] for option in options}
        missing = [code for code in chosen if code not in shown]
        for term in vocabulary._default_manager.filter(code__in=missing):
            options.append(
                {"code": term.code, "label": term.label, "count": 0, "checked": True}
            )
        if options:
            groups.append(
                {"key": key, "legend": FACET_LEGENDS[key], "options": options}
            )
    # Who can be reached through the portal (talentpool.models.reachable_q).
    reachable_chosen = bool(params.filters.get("reachable"))
    count = sum(item["count"] for item in facets.get("reachable", []))
    if count or reachable_chosen:
        groups.insert(
            0,
            {
                "key": "reachable",
                "legend": _("Contact"),
                "options": [
                    {
                        "code": "yes",
                        "label": _("Can be contacted through the portal"),
                        "count": count,
                        "checked": reachable_chosen,
                    }
                ],
            },
        )
    return groups


def _page_links(request: HttpRequest, current: int, last: int) -> list[dict]:
    """Links to the first and last pages and those near the current one;
    None marks a gap."""
    numbers = sorted({1, last, *range(max(1, current - 2), min(last, current + 2) + 1)})
    links: list[dict] = []
    previous = 0
    for number in numbers:
        if number - previous > 1:
            links.append({"gap": True})
        links.append(
            {
                "number": number,
                "url": _with_page(request, number),
                "current": number == current,
            }
        )
        previous = number
    return links


def _with_page(request: HttpRequest, number: int) -> str:
    query = request.GET.copy()
    query["page"] = str(number)
    return "?" + query.urlencode()


@never_cache
@rate_limit("search")
def talent_search(request: HttpRequest, *, page: TalentSearchPage) -> HttpResponse:
    """The listing: every listed expert with an empty query (browse), the
    matches otherwise, twenty to a page, with facets and page links."""
    params = search_params(request.GET)
    outcome = run_search(params)
    # Photos and their thumbnails for the whole page in two queries.
    prefetch_related_objects(outcome.experts, "photo__renditions")
    cards = [
        {
            "expert": expert,
            "url": page.expert_url(expert.pk, request),
            "licence_number": outcome.licence_holders.get(expert.pk, ""),
        }
        for expert in outcome.experts
    ]
    context = page.get_context(request)
    context.update(
        query=params.query,
        sort=params.sort,
        sorts=list(SORTS.items()),
        filters=params.filters,
        problems=[message for _parameter, message in params.problems],
        total=outcome.total,
        cards=cards,
        licence_cards=[card for card in cards if card["licence_number"]],
        widened=outcome.widened,
        facet_groups=_facet_groups(params, outcome.facets),
        page_number=params.page,
        last_page=outcome.last_page,
        page_problem=outcome.page_problem,
        first_page_url=_with_page(request, 1),
        page_links=(
            _page_links(request, params.page, outcome.last_page)
            if outcome.last_page > 1 and not outcome.page_problem
            else []
        ),
        previous_url=(
            _with_page(request, params.page - 1)
            if 1 < params.page <= outcome.last_page
            else ""
        ),
        next_url=(
            _with_page(request, params.page + 1)
            if params.page < outcome.last_page
            else ""
        ),
        filtered=bool(params.query or params.filters),
        max_window=MAX_WINDOW,
        max_query_length=MAX_QUERY_LENGTH,
    )
    return render(request, "talentpool/talent_search_page.html", context)


# --- The profile ---------------------------------------------------------------


@dataclass(frozen=True)
class VerifiedTraining:
    certificates: list[Certificate]
    courses: list[Enrolment]

    def __bool__(self) -> bool:
        return bool(self.certificates or self.courses)


def verified_training(expert: Expert) -> VerifiedTraining:
    """What the portal itself can vouch for: the valid, unexpired
    certificates and the completed courses of the expert's account (none
    without one), read through courses.selectors."""
    if expert.user_id is None:
        return VerifiedTraining(certificates=[], courses=[])
    certificates = training_record.valid_certificates(user_id=expert.user_id)
    courses = training_record.completed_enrolments(user_id=expert.user_id)
    return VerifiedTraining(certificates=list(certificates), courses=list(courses))


def listed_expert(expert_id: int) -> Expert | None:
    """A listed expert with what the profile shows, or None."""
    return (
        Expert.objects.listed()
        .select_related("district", "organisation", "talent_tier", "photo")
        .prefetch_related(
            "categories",
            "ip_types",
            "services",
            "industries",
            "languages",
            "qualifications__category",
        )
        .filter(pk=expert_id)
        .first()
    )


@never_cache
@rate_limit("profile")
def expert_profile(
    request: HttpRequest, *, page: TalentSearchPage, expert_id: int
) -> HttpResponse:
    """A listed expert's public profile; anyone else (withdrawn, suspended,
    unverified, unknown) is the same 404."""
    expert = listed_expert(expert_id)
    if expert is not None and (
        refused := profile_refusal(request, expert.pk, api=False)
    ):
        return refused
    context = page.get_context(request)
    context["search_url"] = page.get_url(request)
    if expert is None:
        return render(request, "talentpool/expert_not_found.html", context, status=404)
    context.update(expert=expert, training=verified_training(expert))
    return render(request, "talentpool/expert_profile.html", context)

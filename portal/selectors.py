"""Reads: the querysets behind pages, menus and search. No writes here."""

from datetime import date
from typing import Any

from django.core.paginator import Page as PaginatorPage
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.db.models.functions import ExtractYear
from django.http import HttpRequest

from wagtail.models import Page
from wagtail.query import PageQuerySet

from portal.models import NewsPage, NoticePage, PolicyDocumentPage, PolicyIndexPage
from portal.search import cjk_query


def _published(queryset: PageQuerySet) -> PageQuerySet:
    return queryset.live().public()


def news_under(parent: Page) -> QuerySet[NewsPage]:
    """News items below a page, newest first."""
    return _published(NewsPage.objects.descendant_of(parent)).order_by(
        "-date", "-first_published_at"
    )


def news_latest(*, site_root: Page, limit: int) -> list[NewsPage]:
    return list(news_under(site_root)[:limit])


def notices_under(parent: Page) -> QuerySet[NoticePage]:
    """Notices below a page: important ones first, then newest first."""
    return _published(NoticePage.objects.descendant_of(parent)).order_by(
        "-is_important", "-date", "-first_published_at"
    )


def notices_latest(*, site_root: Page, limit: int) -> list[NoticePage]:
    return list(notices_under(site_root)[:limit])


def policies_latest(*, site_root: Page, limit: int) -> list[PolicyDocumentPage]:
    return list(
        _published(PolicyDocumentPage.objects.descendant_of(site_root)).order_by(
            "-issued_date"
        )[:limit]
    )


def policy_facets(*, library: PolicyIndexPage) -> tuple[list[str], list[int]]:
    """The issuing authorities and years that the library's documents have."""
    documents = _published(PolicyDocumentPage.objects.child_of(library))
    issuers = sorted(set(documents.values_list("issuer", flat=True)))
    years = sorted(
        set(
            documents.annotate(year=ExtractYear("issued_date")).values_list(
                "year", flat=True
            )
        ),
        reverse=True,
    )
    return issuers, years


def policies_filtered(
    *,
    library: PolicyIndexPage,
    q: str = "",
    issuer: str = "",
    year: int | None = None,
) -> Any:
    """The library's documents matching the filters: by relevance when there are
    keywords, newest first otherwise."""
    documents = _published(PolicyDocumentPage.objects.child_of(library))
    if issuer:
        documents = documents.filter(issuer=issuer)
    if year:
        documents = documents.filter(
            issued_date__gte=date(year, 1, 1), issued_date__lte=date(year, 12, 31)
        )
    terms = cjk_query(q)
    if terms:
        return documents.search(terms, operator="and", order_by_relevance=True)
    return documents.order_by("-issued_date", "-first_published_at")


def site_search(*, query: str) -> Any:
    """Every live, public page matching the query, most relevant first."""
    terms = cjk_query(query)
    if not terms:
        return Page.objects.none()
    return (
        Page.objects.live()
        .public()
        .specific()
        .search(terms, operator="and", order_by_relevance=True)
    )


def paginate(items: Any, request: HttpRequest, *, per_page: int) -> PaginatorPage:
    """One page of items; a missing, malformed or out-of-range ?page= gives the
    nearest valid page instead of an error."""
    return Paginator(items, per_page).get_page(request.GET.get("page"))


def menu_pages(*, site_root: Page) -> list[Page]:
    """The pages shown in the main navigation: live children of the site root
    marked 'show in menus'."""
    return list(site_root.get_children().live().public().in_menu())


# --- Personal data (portal.privacy) ---------------------------------------------


def privacy_consent_current(*, user: Any) -> Any:
    """The user's consent to the privacy notice in force, or None (signed up
    before it, or never agreed)."""
    from portal.models import PrivacyConsent
    from portal.privacy import PRIVACY_NOTICE_VERSION

    return PrivacyConsent.objects.filter(
        user=user, notice_version=PRIVACY_NOTICE_VERSION
    ).first()


def personal_data(user: Any) -> dict[str, Any]:
    """What the portal app itself holds about `user`: the account and its
    profile, e-mail addresses, consents to the privacy notice and the kinds of
    second factor set up (never their secrets). Five queries, whatever the
    data."""
    from allauth.account.models import EmailAddress
    from allauth.mfa.models import Authenticator

    from portal.models import PrivacyConsent, User

    account = (
        User.objects.filter(pk=user.pk)
        .values(
            "email",
            "real_name",
            "organisation",
            "job_title",
            "language",
            "date_joined",
            "last_login",
            "audience__name_zh",
            "district__name_zh",
        )
        .get()
    )
    account["audience"] = account.pop("audience__name_zh")
    account["district"] = account.pop("district__name_zh")
    return {
        "account": account,
        "email_addresses": list(
            EmailAddress.objects.filter(user=user)
            .order_by("pk")
            .values("email", "verified", "primary")
        ),
        "privacy_consents": list(
            PrivacyConsent.objects.filter(user=user)
            .order_by("given_at", "pk")
            .values("notice_version", "source", "given_at")
        ),
        "second_factors": list(
            Authenticator.objects.filter(user=user)
            .order_by("pk")
            .values("type", "created_at", "last_used_at")
        ),
    }

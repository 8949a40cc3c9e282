"""The admin's "Background work" page (Settings › Background work): for each
kind of work (portal.background_work) that the user may retry, its counts,
its latest waiting, stuck and failed rows, and retry buttons (all of a kind,
or one row). Nothing is written by a GET; a retry is a POST (with Django's
CSRF check) that the service validates again."""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import TemplateView

from wagtail.admin import messages
from wagtail.admin.menu import MenuItem
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.models import Site

from portal.background_work import (
    ROWS_SHOWN,
    background_work_retry,
    work_kind,
    work_kinds_for,
)
from portal.http import signed_in_user

INDEX_URL_NAME = "portal_background_work"
RETRY_URL_NAME = "portal_background_work_retry"


def may_see_background_work(user: Any) -> bool:
    """Whoever may retry at least one kind of work (superusers: all)."""
    return bool(work_kinds_for(user))


class BackgroundWorkView(WagtailAdminTemplateMixin, TemplateView):
    """Every kind the user may retry, with its counts and latest rows; 403
    for a user who may retry none."""

    template_name = "portal/admin_background_work/index.html"
    page_title = gettext_lazy("Background work")
    header_icon = "cogs"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        self.kinds = work_kinds_for(request.user)
        if not self.kinds:
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_breadcrumbs_items(self) -> list[dict[str, Any]]:
        return [*self.breadcrumbs_items, {"url": "", "label": _("Background work")}]

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        user = self.request.user
        sections = [
            {
                "kind": kind,
                "summary": kind.summary(user),
                "retry_url": reverse(RETRY_URL_NAME, args=[kind.name]),
            }
            for kind in self.kinds
        ]
        return super().get_context_data(
            sections=sections, rows_shown=ROWS_SHOWN, **kwargs
        )


class BackgroundWorkRetryView(View):
    """POST only (a GET is refused: 405): re-queue one row (`id`) or all
    stuck and failed rows (no `id`) of the kind in the URL, then back to the
    page with a message saying how many."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest, kind: str) -> HttpResponse:
        try:
            work = work_kind(kind)
        except KeyError:
            raise Http404 from None
        ids = _ids(request.POST.getlist("id"))
        count = background_work_retry(
            kind=work,
            ids=ids,
            user=request.user,
            logged_on=Site.find_for_request(request) or signed_in_user(request),
        )
        if count:
            messages.success(request, work.retried(count))
        else:
            messages.warning(
                request,
                _(
                    "Nothing was re-queued: the work was done, or retried, in "
                    "the meantime."
                ),
            )
        return redirect(f"{reverse(INDEX_URL_NAME)}#work-{work.name}")


def _ids(values: list[str]) -> list[int] | None:
    """The row ids posted: None (all) when none; a value that is not a
    row id is a forged request."""
    if not values:
        return None
    try:
        ids = [int(value) for value in values]
    except ValueError:
        raise Http404 from None
    if any(pk <= 0 or pk > 2**63 - 1 for pk in ids):
        raise Http404
    return ids


class BackgroundWorkMenuItem(MenuItem):
    """Shown only to a user who may retry some kind of work."""

    def is_shown(self, request: HttpRequest) -> bool:
        return may_see_background_work(request.user)

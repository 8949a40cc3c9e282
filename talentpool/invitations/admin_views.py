"""Staff screens of invitations: the confirmation and sending at
/admin/talent-pool/invite/ (registered in talentpool/wagtail_hooks.py), which
takes expert ids (`id`, repeated) by GET (confirmation only) or POST (so an
import's report can link to it with a form), and the expert listing's bulk
action that opens it."""

import re
from typing import Any
from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.functional import classproperty
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy, ngettext
from django.views.generic import TemplateView

from wagtail.admin import messages
from wagtail.admin.views.generic import WagtailAdminTemplateMixin
from wagtail.snippets.bulk_actions.snippet_bulk_action import SnippetBulkAction

from portal.http import signed_in_user
from talentpool.invitations.links import CLAIM_MAX_AGE
from talentpool.invitations.services import invitation_plan, invite_experts
from talentpool.models import Expert

#: The URL name of the staff view (wagtail_hooks registers it).
INVITE_URL_NAME = "talentpool_invite"
#: The permission that invites (as for editing an expert).
PERMISSION = "talentpool.change_expert"


def _listing_url() -> str:
    return reverse(Expert.snippet_viewset.get_url_name("list"))


class InviteExpertsView(WagtailAdminTemplateMixin, TemplateView):
    """How many of the experts asked for would be invited and how many are
    skipped, then (POST with confirm=1) invite them."""

    page_title = gettext_lazy("Invite to claim the profile")
    header_icon = "mail"
    template_name = "talentpool/invitations/admin/invite.html"
    http_method_names = ["get", "post"]

    def dispatch(
        self, request: HttpRequest, *args: Any, **kwargs: Any
    ) -> HttpResponseBase:
        if not request.user.has_perm(PERMISSION):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_breadcrumbs_items(self) -> list[dict[str, Any]]:
        return [
            *self.breadcrumbs_items,
            {
                "url": _listing_url(),
                "label": capfirst(Expert._meta.verbose_name_plural),
            },
            {"url": "", "label": self.get_page_title()},
        ]

    def _next_url(self, data: Any) -> str:
        candidate = data.get("next", "")
        if candidate and url_has_allowed_host_and_scheme(
            candidate,
            allowed_hosts={self.request.get_host()},
            require_https=self.request.is_secure(),
        ):
            return candidate
        return _listing_url()

    def _ids(self, data: Any) -> list[str]:
        if data.get("all") == "1":
            return [
                str(pk)
                for pk in Expert.objects.filter(user__isnull=True)
                .exclude(email="")
                .values_list("pk", flat=True)
            ]
        # Many ids (an import's unlisted experts) come as one field: a form
        # field each would pass DATA_UPLOAD_MAX_NUMBER_FIELDS.
        joined = [pk for pk in re.split(r"[\s,]+", data.get("ids", "")) if pk]
        return [*data.getlist("id"), *joined]

    def _confirmation(self, data: Any) -> HttpResponse:
        ids = self._ids(data)
        plan = invitation_plan(ids)
        return self.render_to_response(
            self.get_context_data(
                plan=plan,
                ids=[expert.pk for expert in plan.invite],
                days=CLAIM_MAX_AGE.days,
                next_url=self._next_url(data),
                action_url=reverse(INVITE_URL_NAME),
            )
        )

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self._confirmation(request.GET)

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.POST.get("confirm") != "1":
            return self._confirmation(request.POST)
        plan = invite_experts(
            expert_ids=self._ids(request.POST), by=signed_in_user(request)
        )
        message = ngettext(
            "%(count)s expert was invited to claim the profile.",
            "%(count)s experts were invited to claim the profile.",
            len(plan.invite),
        ) % {"count": len(plan.invite)}
        if plan.skipped:
            message += " " + ngettext(
                "%(count)s was skipped (already claimed, or no e-mail address).",
                "%(count)s were skipped (already claimed, or no e-mail address).",
                plan.skipped,
            ) % {"count": plan.skipped}
        messages.success(request, message)
        return redirect(self._next_url(request.POST))


class InviteBulkAction(SnippetBulkAction):
    """ "Invite to claim the profile" on the expert listing: opens the
    confirmation above with the selected experts."""

    display_name = gettext_lazy("Invite to claim the profile")
    action_type = "invite"
    aria_label = gettext_lazy("Invite the selected experts to claim their profile")
    action_priority = 50

    @classproperty
    def models(cls) -> list:
        return [Expert]

    def check_perm(self, obj: Expert) -> bool:
        return self.request.user.has_perm(PERMISSION)

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.has_perm(PERMISSION):
            raise PermissionDenied
        ids = request.GET.getlist("id")
        query: list[tuple[str, str]] = (
            [("all", "1")] if "all" in ids else [("id", pk) for pk in ids]
        )
        query.append(("next", self.next_url))
        return redirect(f"{reverse(INVITE_URL_NAME)}?{urlencode(query)}")

"""The screens of a class's progress: the classes, one class member by
member with its download, the grant of quiz attempts, the class's history
and the menu item; who may see them and who may grant. The figures come
from courses.admin_class_progress.figures, the download's workbook from
courses.admin_class_progress.export; the one write goes through
`courses.services.quiz_attempts_grant`."""

from typing import Any, cast

from django import forms
from django.contrib.admin.utils import quote
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseForbidden,
    QueryDict,
)
from django.shortcuts import get_object_or_404, redirect
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop, ngettext
from django.views import View
from django.views.generic import TemplateView

from wagtail.admin import messages
from wagtail.admin.menu import MenuItem
from wagtail.admin.ui.tables import Column
from wagtail.admin.views.generic import history
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.views.generic.permissions import PermissionCheckedMixin
from wagtail.permission_policies import ModelPermissionPolicy

import portal.converters  # noqa: F401 - registers <id:…>
from courses import services
from courses.admin_class_progress.export import progress_workbook
from courses.admin_class_progress.figures import (
    INACTIVE_DAYS,
    SHOW_CHOICES,
    MemberRow,
    ProgressFilterForm,
    class_changes,
    class_progress,
    filtered,
)
from courses.models import (
    CoursePage,
    Enrolment,
    LessonPage,
    QuizAttempt,
    QuizAttemptGrant,
    TrainingClass,
    TrainingClassMember,
)
from portal.converters import MAX_ID
from portal.exports import export_log, xlsx_response
from portal.http import signed_in_user

view_policy = ModelPermissionPolicy(Enrolment)
grant_policy = ModelPermissionPolicy(QuizAttemptGrant)

MEMBERS_PER_PAGE = 50


def can_view_progress(user) -> bool:
    return view_policy.user_has_permission(user, "view")


def can_grant_attempts(user) -> bool:
    return grant_policy.user_has_permission(user, "add")


# --- links to the screens where records are corrected -------------------------


def optional_url(name: str, **kwargs: Any) -> str | None:
    """The address of a screen other work provides, or None while it does not
    exist: the link is left out rather than broken."""
    try:
        return reverse(name, kwargs=kwargs)
    except NoReverseMatch:
        return None


# --- the screens --------------------------------------------------------------


class ClassProgressMixin(PermissionCheckedMixin, WagtailAdminTemplateMixin):
    permission_policy = view_policy
    permission_required = "view"
    header_icon = "group"


class ClassProgressIndexView(ClassProgressMixin, TemplateView):
    """The classes, to choose one."""

    template_name = "courses/admin/class_progress_index.html"
    page_title = gettext_lazy("Class progress")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        classes = TrainingClass.objects.annotate(
            member_count=Count("members")
        ).order_by("-starts_on", "name", "pk")
        page = Paginator(classes, 50).get_page(self.request.GET.get("p"))
        return super().get_context_data(classes_page=page, **kwargs)


class ClassProgressView(ClassProgressMixin, TemplateView):
    """One class, member by member; `?export=xlsx` downloads the same rows."""

    template_name = "courses/admin/class_progress.html"
    page_title = gettext_lazy("Class progress")

    def setup(self, request: HttpRequest, *args: Any, **kwargs: Any) -> None:
        super().setup(request, *args, **kwargs)
        self.training_class = get_object_or_404(TrainingClass, pk=kwargs["pk"])

    def get_page_subtitle(self) -> str:
        return str(self.training_class)

    def get_breadcrumbs_items(self) -> list:
        return [
            *self.breadcrumbs_items,
            {
                "url": reverse("courses_class_progress_index"),
                "label": _("Class progress"),
            },
            {"url": "", "label": str(self.training_class)},
        ]

    @cached_property
    def filter_form(self) -> ProgressFilterForm:
        return ProgressFilterForm(self.request.GET)

    @cached_property
    def rows(self) -> list[MemberRow]:
        show, sort = self.filter_form.choices()
        return filtered(
            class_progress(training_class=self.training_class), show=show, sort=sort
        )

    def get(  # type: ignore[override]  # the download is a FileResponse
        self, request: HttpRequest, *args: Any, **kwargs: Any
    ) -> HttpResponseBase:
        if request.GET.get("export") == "xlsx":
            return self.xlsx_response()
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        user = self.request.user
        page = Paginator(self.rows, MEMBERS_PER_PAGE).get_page(
            self.request.GET.get("p")
        )
        query = self.request.GET.copy()
        query.pop("p", None)
        query.pop("export", None)
        # Each parameter's last value: a string, as each came from the URL.
        last_values = cast(dict[str, str], query.dict())
        may_see_certificates = user.has_perm("courses.view_certificate")
        for row in page.object_list:
            row.ledger_url = optional_url("courses_ledger:learner", user_id=row.user.pk)
            for course in row.courses:
                course.evidence_url = (
                    optional_url(
                        "courses_evidence:enrolment", enrolment_id=course.enrolment.pk
                    )
                    if course.enrolment
                    else None
                )
                course.certificate_url = (
                    reverse("certificate_admin:inspect", args=(course.certificate.pk,))
                    if course.certificate and may_see_certificates
                    else None
                )
        class_admin = None
        if user.has_perm("courses.view_trainingclass") or user.has_perm(
            "courses.change_trainingclass"
        ):
            class_admin = reverse(
                "training_classes:inspect", args=(quote(self.training_class.pk),)
            )
        return super().get_context_data(
            training_class=self.training_class,
            form=self.filter_form,
            members_page=page,
            member_count=TrainingClassMember.objects.filter(
                training_class=self.training_class
            ).count(),
            shown_count=len(self.rows),
            query=query.urlencode(),
            export_url="?" + urlencode({**last_values, "export": "xlsx"}),
            may_grant=can_grant_attempts(user),
            grant_url=reverse(
                "courses_class_progress_grant", args=(self.training_class.pk,)
            ),
            class_admin_url=class_admin,
            changes=class_changes(self.training_class)[:10],
            inactive_days=INACTIVE_DAYS,
            **kwargs,
        )

    # --- the download ---------------------------------------------------------

    def xlsx_response(self) -> FileResponse:
        workbook, count = progress_workbook(self.rows)
        show, sort = self.filter_form.choices()
        # In the class's history and Reports › Site history.
        export_log(
            request=self.request,
            instance=self.training_class,
            what=gettext_noop("Class progress"),
            file_format="xlsx",
            rows=count,
            filters=str(dict(SHOW_CHOICES)[show]) if show else "",
        )
        day = timezone.localdate().isoformat()
        filename = f"class-progress-{self.training_class.code}-{day}.xlsx"
        return xlsx_response(workbook, filename=filename)


class GrantAttemptsForm(forms.Form):
    enrolment = forms.IntegerField(min_value=1, max_value=MAX_ID)
    lesson_key = forms.IntegerField(min_value=1, max_value=MAX_ID)
    quiz_key = forms.CharField(max_length=64)
    extra = forms.IntegerField(
        label=gettext_lazy("Extra attempts"), min_value=1, max_value=10, initial=1
    )
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=1000)
    # The filter the manager was looking at, to go back to it.
    back = forms.CharField(required=False, max_length=200)


class GrantAttemptsView(View):
    """POST only: more attempts at one quiz for one member of the class.

    Refused (403, nothing written) without `courses.add_quizattemptgrant`;
    the enrolment must be a member's, in a course of this class, and the quiz
    one of that course's lessons' (a forged id finds nothing: 404)."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not can_grant_attempts(request.user):
            return HttpResponseForbidden(
                _("You may not grant quiz attempts."), content_type="text/plain"
            )
        training_class = get_object_or_404(TrainingClass, pk=pk)
        target = reverse("courses_class_progress", args=(training_class.pk,))
        form = GrantAttemptsForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Give a reason and between 1 and 10 attempts."))
            return redirect(target)
        data = form.cleaned_data
        back = _safe_query(data["back"])
        if back:
            target += "?" + back
        enrolment = (
            Enrolment.objects.filter(
                pk=data["enrolment"],
                course_key__in=training_class.courses.values("pk"),
                user_id__in=TrainingClassMember.objects.filter(
                    training_class=training_class
                ).values("user_id"),
            )
            .select_related("user")
            .first()
        )
        lesson = (
            LessonPage.objects.filter(pk=data["lesson_key"]).first()
            if enrolment
            else None
        )
        if (
            enrolment is None
            or lesson is None
            or lesson.path[: -LessonPage.steplen]
            != CoursePage.objects.filter(pk=enrolment.course_key)
            .values_list("path", flat=True)
            .first()
        ):
            raise Http404
        if QuizAttempt.objects.filter(
            enrolment=enrolment,
            lesson_key=lesson.pk,
            quiz_key=data["quiz_key"],
            passed=True,
        ).exists():
            messages.error(request, _("The learner has already passed this quiz."))
            return redirect(target)
        try:
            services.quiz_attempts_grant(
                enrolment=enrolment,
                lesson_key=lesson.pk,
                quiz_key=data["quiz_key"],
                extra=data["extra"],
                reason=data["reason"],
                # Allowed to grant (checked above), so a signed-in user.
                by=signed_in_user(request),
            )
        except services.CourseError as error:
            messages.error(request, str(error))
            return redirect(target)
        messages.success(
            request,
            ngettext(
                "%(name)s has %(count)s more attempt at %(lesson)s.",
                "%(name)s has %(count)s more attempts at %(lesson)s.",
                data["extra"],
            )
            % {
                "name": enrolment.user.real_name or enrolment.user.email,
                "count": data["extra"],
                "lesson": lesson.title,
            },
        )
        return redirect(target)


def _safe_query(value: str) -> str:
    """Only the filter's own parameters, re-encoded: nothing else travels
    through the form into the address."""
    given = QueryDict(value)
    kept = {k: given[k] for k in ("show", "sort", "p") if given.get(k)}
    return urlencode(kept)


class ClassHistoryView(history.HistoryView):
    """The class's history in the admin, with its enrolments' entries: a
    quiz attempt granted to a trainee is a change to the class's records."""

    @cached_property
    def columns(self):
        return [
            *super().columns[:1],
            Column("label", label=gettext_lazy("Record"), width="25%"),
            *super().columns[1:],
        ]

    def get_base_queryset(self):
        return self._annotate_queryset(class_changes(self.object))


# --- the menu item ------------------------------------------------------------


class ClassProgressMenuItem(MenuItem):
    def is_shown(self, request) -> bool:
        return can_view_progress(request.user)


def class_progress_url(user, training_class) -> str | None:
    """For the class's screens: a link here, for those who may follow it."""
    if not can_view_progress(user):
        return None
    return reverse("courses_class_progress", args=(training_class.pk,))

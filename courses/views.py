"""Learner actions: enrol, complete, heartbeat, quiz, and My learning.
Views translate HTTP into service calls and service errors into messages."""

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from courses import selectors, services
from courses.models import CoursePage, LessonPage, QuizAttempt
from courses.permissions import can_view_lesson
from portal import http
from portal.http import signed_in_user


def _next_lesson_url(lesson: LessonPage) -> str:
    following = selectors.lesson_after(lesson)
    return following.url if following else lesson.get_parent().url


@login_required
@require_POST
def enrol(request: HttpRequest, course_id: int) -> HttpResponse:
    course = get_object_or_404(CoursePage.objects.live(), pk=course_id)
    try:
        services.enrolment_self(user=signed_in_user(request), course=course)
    except services.CourseError as error:
        messages.error(request, str(error))
        return redirect(course.url)
    messages.success(request, _("You are enrolled. Start with the first lesson."))
    first = selectors.first_lesson(course)
    return redirect(first.url if first else course.url)


def _lesson_for(request: HttpRequest, lesson_id: int) -> LessonPage:
    lesson = get_object_or_404(LessonPage.objects.live(), pk=lesson_id)
    if not can_view_lesson(user=request.user, lesson=lesson):
        raise services.CourseError(_("Enrol in the course first."))
    return lesson


@login_required
@require_POST
def complete(request: HttpRequest, lesson_id: int) -> HttpResponse:
    wants_json = request.headers.get("Accept", "").startswith("application/json")
    try:
        lesson = _lesson_for(request, lesson_id)
        services.lesson_mark_complete(user=signed_in_user(request), lesson=lesson)
    except services.CourseError as error:
        if wants_json:
            answer = {"ok": False, "error": str(error)}
            if isinstance(error, services.ReadingTimeNotReached):
                # The page's script waits this long, then tries again.
                answer["seconds_left"] = error.wait.seconds_left
            return JsonResponse(answer, status=400)
        messages.error(request, str(error))
        return redirect(http.safe_next(request, reverse("courses:my_learning")))
    if wants_json:
        return JsonResponse({"ok": True, "completed": True})
    messages.success(request, _("Lesson completed."))
    return redirect(_next_lesson_url(lesson))


@login_required
@require_POST
def heartbeat(request: HttpRequest, lesson_id: int) -> JsonResponse:
    try:
        data = json.loads(request.body or b"{}")
        # A "duration" the player may still send is not read: the video's
        # length is the one the server measured (courses.media).
        beat = services.Heartbeat(
            video_key=str(data["video"]),
            played_from=float(data["from"]),
            position=float(data["to"]),
        )
    except (ValueError, KeyError, TypeError):
        return JsonResponse(
            {"ok": False, "error": _("The request was not understood.")}, status=400
        )
    try:
        lesson = _lesson_for(request, lesson_id)
        progress = services.video_heartbeat(
            user=signed_in_user(request), lesson=lesson, beat=beat
        )
    except services.CourseError as error:
        return JsonResponse({"ok": False, "error": str(error)}, status=400)
    return JsonResponse(
        {
            "ok": True,
            "watched_seconds": round(progress.watched_seconds, 1),
            "completed": progress.status == progress.Status.COMPLETED,
        }
    )


@login_required
@require_POST
def quiz_start(request: HttpRequest, lesson_id: int, quiz_key: str) -> HttpResponse:
    try:
        lesson = _lesson_for(request, lesson_id)
    except services.CourseError as error:
        messages.error(request, str(error))
        return redirect("courses:my_learning")
    try:
        services.quiz_attempt_start(
            user=signed_in_user(request), lesson=lesson, quiz_key=quiz_key
        )
    except services.CourseError as error:
        # Back to the quiz, which says why (attempts used up, the wait, passed).
        messages.error(request, str(error))
    return redirect(f"{lesson.url}#quiz-{quiz_key}")


@login_required
@require_POST
def quiz_submit(request: HttpRequest, attempt_id: int) -> HttpResponse:
    attempt = selectors.learner_attempt(
        user=signed_in_user(request), attempt_id=attempt_id
    )
    if attempt is None:
        messages.error(request, _("This attempt does not exist."))
        return redirect("courses:my_learning")
    # An empty value is no answer (the service counts it as unanswered).
    answers = {
        key[2:]: chosen
        for key in request.POST
        if key.startswith("q-")
        and (chosen := [v for v in request.POST.getlist(key) if v])
    }
    lesson = selectors.attempt_lesson(attempt)
    try:
        attempt = services.quiz_attempt_submit(
            user=signed_in_user(request), attempt_id=attempt.pk, answers=answers
        )
    except services.CourseError as error:
        if attempt.status == QuizAttempt.Status.OPEN:
            # The form comes back with the message and the answers given so
            # far (only ids of this attempt's own options are kept).
            known = {
                q["id"]: {o["id"] for o in q["options"]}
                for q in attempt.layout["questions"]
            }
            request.session[selectors.QUIZ_DRAFT_SESSION_KEY] = {
                "attempt": attempt.pk,
                "error": str(error),
                "answers": {
                    key: [v for v in chosen if v in known[key]]
                    for key, chosen in answers.items()
                    if key in known
                },
            }
        else:
            messages.error(request, str(error))
    else:
        if attempt.passed:
            messages.success(
                request, _("Passed with %(score)s%%.") % {"score": attempt.score}
            )
        else:
            messages.warning(
                request, _("Not passed: %(score)s%%.") % {"score": attempt.score}
            )
    if lesson is None:
        return redirect("courses:my_learning")
    return redirect(f"{lesson.url}#quiz-{attempt.quiz_key}")


@login_required
@require_GET
def my_learning(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "courses/my_learning.html",
        {"learning": selectors.my_learning(user=request.user)},
    )

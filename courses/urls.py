from django.urls import path

import portal.converters  # noqa: F401 - registers <id:…>
from courses import views

app_name = "courses"

urlpatterns = [
    path("", views.my_learning, name="my_learning"),
    path("courses/<id:course_id>/enrol/", views.enrol, name="enrol"),
    path("lessons/<id:lesson_id>/complete/", views.complete, name="complete"),
    path("lessons/<id:lesson_id>/heartbeat/", views.heartbeat, name="heartbeat"),
    path(
        "lessons/<id:lesson_id>/quiz/<str:quiz_key>/start/",
        views.quiz_start,
        name="quiz_start",
    ),
    path("attempts/<id:attempt_id>/submit/", views.quiz_submit, name="quiz_submit"),
]

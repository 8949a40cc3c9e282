from django.urls import path

from courses import views

app_name = "courses"

urlpatterns = [
    path("", views.my_learning, name="my_learning"),
    path("courses/<int:course_id>/enrol/", views.enrol, name="enrol"),
    path("lessons/<int:lesson_id>/complete/", views.complete, name="complete"),
    path("lessons/<int:lesson_id>/heartbeat/", views.heartbeat, name="heartbeat"),
    path(
        "lessons/<int:lesson_id>/quiz/<str:quiz_key>/start/",
        views.quiz_start,
        name="quiz_start",
    ),
    path("attempts/<int:attempt_id>/submit/", views.quiz_submit, name="quiz_submit"),
]

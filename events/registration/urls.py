"""Registration's URLs, included by events/urls.py (namespace
"events", under /events/ and /en/events/)."""

from django.urls import path

import portal.converters  # noqa: F401 - registers <id:…>
from events.registration import views

urlpatterns = [
    path("register/<id:event_id>/", views.register, name="register"),
    path("registrations/", views.my_registrations, name="my_registrations"),
    path(
        "registrations/<id:registration_id>/cancel/",
        views.cancel,
        name="registration_cancel",
    ),
    path(
        "registrations/<str:code>/",
        views.registration_detail,
        name="registration_detail",
    ),
    path(
        "registrations/<str:code>/qr.png",
        views.registration_qr,
        name="registration_qr",
    ),
]

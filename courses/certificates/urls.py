"""Public certificate pages (under the language prefix) and the JSON API."""

from django.urls import path

import portal.converters  # noqa: F401 - registers <id:…>
from courses.certificates import views

app_name = "certificates"

urlpatterns = [
    path("verify/", views.lookup, name="lookup"),
    path("verify/<str:code>/", views.verify, name="verify"),
    path("<id:certificate_id>/download/", views.download, name="download"),
]

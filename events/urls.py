"""The events app's URLs, under /events/ (each part adds its own include)."""

from django.urls import include, path

app_name = "events"

urlpatterns = [
    path("", include("events.checkin.urls")),
    path("", include("events.registration.urls")),
]

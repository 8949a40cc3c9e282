"""Check-in: staff record attendance from a registration's code."""

from django.urls import path

import portal.converters  # noqa: F401 - registers <id:…>
from portal.events.checkin import views

urlpatterns = [
    # The QR code on a registration opens this with ?code=…
    path("check-in/", views.checkin, name="checkin"),
    path("check-in/<id:event_id>/", views.checkin, name="checkin_event"),
]

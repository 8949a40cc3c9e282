"""Check-in: staff record attendance from a registration's code."""

from django.urls import path

import portal.converters  # noqa: F401 - registers <id:…>
from events.checkin import views
from portal.security_headers import permissions_policy

# The only pages allowed the camera (Permissions-Policy): the scanner reads QR
# codes with BarcodeDetector from the phone's camera.
checkin = permissions_policy(camera=["self"])(views.checkin)

urlpatterns = [
    # The QR code on a registration opens this with ?code=…
    path("check-in/", checkin, name="checkin"),
    path("check-in/<id:event_id>/", checkin, name="checkin_event"),
    path("check-in/<id:event_id>/walk-in/", views.walkin, name="checkin_walkin"),
    path(
        "check-in/reverse/<id:registration_id>/",
        views.checkin_reverse,
        name="checkin_reverse",
    ),
]

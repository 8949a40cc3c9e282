"""The signed-in pages of contact requests, under /contacts/ (and /en/contacts/)."""

from django.urls import include, path

import portal.converters  # noqa: F401 - registers <id:…>
from talentpool.contacts import views

app_name = "contacts"

urlpatterns = [
    path("enterprise/", views.enterprise, name="enterprise"),
    path("experts/<id:expert_id>/request/", views.request_new, name="request_new"),
    path("sent/", views.sent, name="sent"),
    path("sent/<id:request_id>/withdraw/", views.withdraw, name="withdraw"),
    path("received/", views.received, name="received"),
    path("received/<id:request_id>/accept/", views.accept, name="accept"),
    path("received/<id:request_id>/decline/", views.decline, name="decline"),
    path("received/pause/", views.pause, name="pause"),
    # Signed links e-mailed to experts without an account (no sign-in).
    path(
        "requests/<id:request_id>/answer/<str:token>/",
        views.answer_by_link,
        name="answer",
    ),
    path("invitations/", include("talentpool.invitations.urls")),
]

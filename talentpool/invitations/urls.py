"""The claim page, opened from an invitation's signed link: included by
talentpool/contacts/urls.py under /contacts/invitations/ (and
/en/contacts/invitations/), names "contacts:invitations:…"."""

from django.urls import path

from talentpool.invitations import views

app_name = "invitations"

urlpatterns = [
    path("claim/<str:token>/", views.claim, name="claim"),
]

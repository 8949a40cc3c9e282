"""The applicant's and the expert's own pages, under /expert/ (portal/urls.py,
inside i18n_patterns: /en/expert/ in English)."""

from django.urls import path

from talentpool.applications import views

app_name = "expert_applications"

urlpatterns = [
    path("", views.start, name="start"),
    path("apply/", views.apply, name="apply"),
    path("application/", views.status, name="status"),
    path("application/edit/", views.edit, name="edit"),
    path("application/withdraw/", views.withdraw, name="withdraw"),
    path("profile/", views.profile, name="profile"),
    path("profile/consent/", views.consent, name="consent"),
    path("profile/confirm/", views.confirm, name="confirm"),
]

"""The certificate JSON API (outside the language prefix)."""

from django.urls import path

from courses.certificates import views

app_name = "certificates_api"

urlpatterns = [
    path("<str:code>/", views.api_detail, name="detail"),
    path("<str:code>/credential.json", views.api_credential, name="credential"),
]

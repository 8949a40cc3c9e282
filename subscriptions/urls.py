"""Subscription pages, under /subscriptions/ (and /en/subscriptions/)."""

from django.urls import path

from subscriptions import views

app_name = "subscriptions"

urlpatterns = [
    path("", views.subscription_settings, name="settings"),
    path("sent/", views.signup_sent, name="signup_sent"),
    path("confirm/<str:token>/", views.confirm, name="confirm"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("data/<str:token>/", views.subscriber_data, name="data"),
]

"""The talent pool's JSON API, included without a language prefix at
/api/v1/experts/ (portal/urls.py). The search page and profiles are routes of
the TalentSearchPage in the page tree."""

from django.urls import path

from talentpool import api

app_name = "experts_api"

urlpatterns = [
    path("", api.expert_list, name="list"),
    path("<int:expert_id>/", api.expert_detail, name="detail"),
]

"""The talent pool's JSON API, included without a language prefix at
/api/v1/experts/ (portal/urls.py). The search page and profiles are routes of
the TalentSearchPage in the page tree."""

from django.urls import path

import portal.converters  # noqa: F401 - registers <id:…>
from talentpool import api

app_name = "experts_api"

urlpatterns = [
    path("", api.expert_list, name="list"),
    path("<id:expert_id>/", api.expert_detail, name="detail"),
]

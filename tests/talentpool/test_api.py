"""The talent pool's JSON API (/api/v1/experts/): results with the public
fields only, facets, pages with next/previous links, clear 400s for bad
input, one expert by id, and rate limits."""

import json

import pytest

from talentpool.search import experts_reindex
from tests.factories import UserFactory
from tests.talentpool.factories import QualificationFactory
from tests.talentpool.helpers import PRIVATE_VALUES, listed_expert, pool, talent_page

pytestmark = pytest.mark.django_db

URL = "/api/v1/experts/"


@pytest.fixture
def experts(home):
    talent_page(home)
    return pool()


def get(client, params=None, **extra):  # type: ignore[no-untyped-def]
    response = client.get(URL, params or {}, **extra)
    return response, response.json()


class TestResults:
    def test_a_search_returns_public_fields_and_never_contact_details(
        self, client, experts
    ):
        QualificationFactory(
            expert=experts["zeng"],
            title="专利代理师资格证",
            licence_number="ZL-2020-0001",
        )
        response, data = get(client, {"q": "專利代理師 積體電路"})
        assert response.status_code == 200
        assert response["Access-Control-Allow-Origin"] == "*"
        first = data["results"][0]
        assert first["id"] == experts["zeng"].pk
        assert first["name"] == "曾伟"
        assert first["organisation"] == "重庆某某专利代理事务所"
        assert first["categories"] == [
            {"code": "patent_attorney", "zh": "专利代理师", "en": "Patent attorney"}
        ]
        assert first["district"]["code"] == "yuzhong"
        assert first["url"] == f"http://testserver/talent/experts/{first['id']}/"
        assert "email" not in first and "phone" not in first
        body = response.content.decode()
        for value in PRIVATE_VALUES:
            assert value not in body
        # The whole profile (qualifications, biography) is the expert's own
        # address, which counts towards the daily cap of profiles.
        assert "qualifications" not in first and "biography" not in first
        whole = client.get(f"{URL}{first['id']}/").json()
        assert whole["external_id"] == experts["zeng"].external_id
        assert whole["qualifications"][0]["licence_number"] == "ZL-2020-0001"

    def test_a_result_carries_the_start_of_the_biography_as_the_card_does(
        self, client, experts
    ):
        biography = "长期从事集成电路布图设计与专利代理工作。" * 12
        type(experts["zeng"]).objects.filter(pk=experts["zeng"].pk).update(
            biography=biography
        )
        experts_reindex()
        first = get(client, {"q": "曾伟"})[1]["results"][0]
        excerpt = first["biography_excerpt"]
        assert len(excerpt) == 120 and excerpt.endswith("…")
        assert biography.startswith(excerpt[:-1])
        assert biography not in json.dumps(first, ensure_ascii=False)

    def test_an_empty_query_lists_every_listed_expert(self, client, experts):
        _response, data = get(client)
        assert data["total"] == 3
        assert [r["name"] for r in data["results"]] == ["仇磊", "单敏", "曾伟"]
        assert (data["page"], data["page_size"], data["pages"]) == (1, 20, 1)
        assert data["next"] is None and data["previous"] is None

    def test_facets_with_counts_and_filters(self, client, experts):
        _response, data = get(client, {"category": "lawyer", "sort": "years"})
        assert [r["name"] for r in data["results"]] == ["单敏", "仇磊"]
        categories = {f["code"]: f["count"] for f in data["facets"]["category"]}
        assert categories == {"lawyer": 2, "patent_attorney": 1, "mediator": 1}
        districts = {f["code"]: f["count"] for f in data["facets"]["district"]}
        assert districts == {"yuzhong": 1, "jiangbei": 1}
        label = data["facets"]["category"][0]
        assert set(label) == {"code", "label_zh", "label_en", "count"}

    def test_one_expert_by_id(self, client, experts):
        response = client.get(f"{URL}{experts['shan'].pk}/")
        assert response.status_code == 200
        data = response.json()
        assert data["name"] == "单敏"
        assert "email" not in data and "shanmin@example.cn" not in json.dumps(data)

    def test_an_unlisted_or_unknown_expert_is_a_404(self, client, experts):
        for pk in [experts["hidden"].pk, 999_999]:
            response = client.get(f"{URL}{pk}/")
            assert response.status_code == 404
            assert response.json()["error"] == "not_found"


class TestPages:
    @pytest.fixture
    def many(self, home):
        talent_page(home)
        for n in range(45):
            listed_expert(name=f"专家{n:02d}", confirmed_days_ago=n)
        experts_reindex()

    def test_next_and_previous_links_keep_the_search(self, client, many):
        _response, data = get(client, {"q": "专家", "page_size": "20", "page": "2"})
        assert (data["total"], data["pages"], len(data["results"])) == (45, 3, 20)
        assert data["next"] == (
            "http://testserver/api/v1/experts/?q=%E4%B8%93%E5%AE%B6&page_size=20&page=3"
        )
        assert data["previous"].endswith("page=1")
        _response, last = get(client, {"q": "专家", "page": "3"})
        assert len(last["results"]) == 5 and last["next"] is None

    def test_page_size_over_fifty_is_taken_as_fifty(self, client, many):
        _response, data = get(client, {"page_size": "1000"})
        assert data["page_size"] == 50 and len(data["results"]) == 45

    @pytest.mark.parametrize(
        ("params", "parameter"),
        [
            ({"page": "abc"}, "page"),
            ({"page": "0"}, "page"),
            ({"page": "-2"}, "page"),
            ({"page_size": "0"}, "page_size"),
            ({"page_size": "ten"}, "page_size"),
            ({"category": "astronaut"}, "category"),
            ({"district": "x" * 500}, "district"),
            ({"sort": "salary"}, "sort"),
            ({"q": "专利" * 3000}, "q"),
        ],
    )
    def test_bad_input_is_a_clear_400(self, client, many, params, parameter):
        response, data = get(client, params)
        assert response.status_code == 400
        assert data["error"] == "invalid_parameter"
        assert data["parameter"] == parameter
        assert data["detail"]

    def test_a_page_past_the_end_is_a_400_that_says_how_many(self, client, many):
        response, data = get(client, {"page": "4"})
        assert response.status_code == 400
        assert data["error"] == "page_out_of_range"
        assert "3" in data["detail"]

    def test_no_client_reads_past_the_result_window(self, client, many):
        response, data = get(client, {"page": "21", "page_size": "50"})
        assert response.status_code == 400
        assert data["error"] == "result_window_exceeded"
        response, _data = get(client, {"page": "20", "page_size": "50"})
        # Within the window but past these 45 results.
        assert response.status_code == 400


class TestRateLimit:
    def test_the_api_answers_429_as_json_per_address_and_per_user(
        self, client, experts, settings
    ):
        settings.PORTAL_TALENT_RATE_LIMITS = {"api": "2/m"}
        for _ in range(2):
            assert client.get(URL).status_code == 200
        response = client.get(f"{URL}{experts['zeng'].pk}/")
        assert response.status_code == 429
        assert response.json()["error"] == "rate_limited"

        client.force_login(UserFactory())
        for n in range(2):
            address = f"198.51.100.{n + 1}"
            assert client.get(URL, REMOTE_ADDR=address).status_code == 200
        assert client.get(URL, REMOTE_ADDR="198.51.100.9").status_code == 429

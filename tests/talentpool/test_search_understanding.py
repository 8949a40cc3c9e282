"""The search reads a query the way people ask: words, not character pairs;
synonyms staff edit; pinyin and English words for the vocabulary; places;
and a query nobody meets in full widens, and says so."""

import pytest

from talentpool.models import SearchSynonym
from talentpool.search import expert_search, experts_reindex
from tests.talentpool.helpers import listed_expert, talent_page

pytestmark = pytest.mark.django_db

WIDENED = "没有同时符合全部条件的专家"


@pytest.fixture
def page(home):
    return talent_page(home)


@pytest.fixture
def experts(page):
    experts = {
        "litigator": listed_expert(
            name="邓辉",
            categories=["lawyer"],
            ip_types=["patent"],
            services=["litigation"],
            district="yubei",
            organisation="重庆某某律师事务所",
            biography="代理专利纠纷案件。",
        ),
        "technical": listed_expert(
            name="罗刚",
            categories=["technical_expert"],
            ip_types=["patent"],
            services=["search_analysis"],
            district="yubei",
            biography="专利技术鉴定。",
        ),
        "agent": listed_expert(
            name="刘洋",
            categories=["patent_attorney"],
            ip_types=["patent"],
            services=["agency"],
            district="yuzhong",
            biography="专利申请。",
        ),
        "robotics": listed_expert(
            name="尉迟恭",
            categories=["patent_attorney"],
            ip_types=["patent"],
            services=["agency"],
            industries=["robotics"],
            district="jiangbei",
            biography="工业领域专利代理。",
        ),
    }
    experts_reindex()
    return experts


def _first(query: str, **search) -> list[str]:
    from talentpool.models import Expert

    ids = expert_search(query=query, **search).ids(1, 10)
    names = dict(Expert.objects.filter(pk__in=ids).values_list("pk", "name"))
    return [names[pk] for pk in ids]


def test_a_compound_typed_without_spaces_finds_the_litigator(experts):
    # 专利侵权诉讼 used to be cut into five pairs (权诉 and 侵权 matched
    # nobody's profile) and found nobody.
    assert _first("专利侵权诉讼")[0] == "邓辉"
    assert _first("專利侵權訴訟")[0] == "邓辉"


def test_english_and_pinyin_name_the_service_not_a_word_in_a_label(experts):
    # The technical expert's category label says "litigation assistant":
    # the service named outranks it, and only the litigator offers it.
    assert _first("patent litigation") == ["邓辉"]
    assert _first("zhuanli daili")[:2] == ["刘洋", "尉迟恭"] or _first("zhuanli daili")[
        :2
    ] == ["尉迟恭", "刘洋"]


def test_a_district_glued_to_the_need_is_read_as_a_place(experts):
    assert _first("渝北专利律师")[0] == "邓辉"
    assert _first("两江新区 专利代理")[0] == "尉迟恭"
    assert "刘洋" not in _first("两江新区 专利代理")  # in 渝中, not 两江新区


def test_a_synonym_staff_add_applies_at_the_next_search(experts):
    assert _first("专精特新机器人")  # 机器人 alone meets part of it
    assert expert_search(query="专精特新").total == 0
    SearchSynonym.objects.create(phrase="专精特新", alternatives="机器人")
    assert _first("专精特新") == ["尉迟恭"]
    SearchSynonym.objects.filter(phrase="专精特新").delete()
    assert expert_search(query="专精特新").total == 0


def test_a_synonym_without_words_is_refused_with_a_message():
    from django.core.exceptions import ValidationError

    synonym = SearchSynonym(phrase="知产", alternatives=" ，、 ")
    with pytest.raises(ValidationError) as raised:
        synonym.full_clean()
    assert "alternatives" in raised.value.message_dict


def test_a_name_mistyped_by_one_letter_is_found(experts):
    assert _first("yuchigogn") == ["尉迟恭"]
    assert _first("liuyagn") == ["刘洋"]


def test_a_query_nobody_meets_in_full_widens_and_the_page_says_so(client, experts):
    search = expert_search(query="机器人 诉讼")
    assert search.widened and search.total
    response = client.get("/talent/", {"q": "机器人 诉讼"})
    assert WIDENED in response.content.decode()
    # Met in full: no such message.
    response = client.get("/talent/", {"q": "专利 诉讼"})
    assert WIDENED not in response.content.decode()
    assert not expert_search(query="专利 诉讼").widened


def test_the_api_says_when_the_query_was_widened(client, experts):
    data = client.get("/api/v1/experts/", {"q": "机器人 诉讼"}).json()
    assert data["widened"] is True and data["total"] >= 1
    data = client.get("/api/v1/experts/", {"q": "专利 诉讼"}).json()
    assert data["widened"] is False


def test_words_that_only_say_who_asks_are_not_needs(experts):
    # 找, 一个, 的 and 专家 are not things an expert offers.
    assert _first("找一个做专利诉讼的专家")[0] == "邓辉"
    assert not expert_search(query="找一个做专利诉讼的专家").widened


def test_the_reachable_filter_keeps_only_experts_who_can_be_contacted(client, experts):
    unreachable = experts["agent"]
    unreachable.email = ""
    unreachable.save()
    experts_reindex(expert_ids=[unreachable.pk])
    found = expert_search(query="专利", filters={"reachable": ["yes"]})
    assert unreachable.pk not in found.ids(1, 50)
    assert found.total == 3
    response = client.get("/talent/", {"q": "专利", "reachable": "yes"})
    assert "刘洋" not in response.content.decode()
    assert "邓辉" in response.content.decode()

"""The expert search as a visitor, an importer and an administrator see it."""

import csv
import datetime
import io
import time

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

from django.core.management import call_command
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from portal.models import IPType
from talentpool.models import (
    Expert,
    ExpertCategory,
    ExpertSearchDocument,
    ExpertToken,
    ExpertTokenBits,
    Industry,
    Language,
)
from talentpool.search import (
    PAGE_SIZE_MAX,
    PageOutOfRange,
    expert_search,
    experts_reindex,
    query_normalise,
)
from talentpool.services import expert_status_change, experts_import
from tests.factories import StaffFactory
from tests.talentpool.factories import ExpertFactory, OrganisationFactory

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def listed(**kwargs) -> Expert:
    kwargs.setdefault("verification_status", Expert.Verification.VERIFIED)
    kwargs.setdefault("verified_at", NOW)
    kwargs.setdefault("publication_consent_at", NOW)
    kwargs.setdefault("last_confirmed_at", NOW)
    terms = {
        relation: kwargs.pop(relation, [])
        for relation in ("categories", "ip_types", "industries", "languages")
    }
    expert = ExpertFactory(**kwargs)
    models = {
        "categories": ExpertCategory,
        "ip_types": IPType,
        "industries": Industry,
        "languages": Language,
    }
    for relation, codes in terms.items():
        getattr(expert, relation).set(models[relation].objects.filter(code__in=codes))
    return expert


def names(search) -> list[str]:
    return [expert.name for expert in search.page(1, 50)]


@pytest.fixture
def pool():
    firm = OrganisationFactory(name="重庆某某知识产权律师事务所")
    agency = OrganisationFactory(name="重庆某某专利代理事务所")
    experts = {
        "zeng": listed(
            name="曾丽",
            organisation=agency,
            categories=["patent_attorney"],
            ip_types=["patent"],
            industries=["integrated_circuits"],
            languages=["en"],
            years_of_practice=15,
            last_confirmed_at=NOW - datetime.timedelta(days=30),
        ),
        "liu": listed(
            name="刘洋",
            organisation=agency,
            categories=["patent_attorney"],
            ip_types=["patent"],
            industries=["automotive"],
            years_of_practice=3,
            last_confirmed_at=NOW - datetime.timedelta(days=1),
        ),
        "zhang": listed(
            name="张伟",
            organisation=firm,
            biography="代理商标侵权诉讼。",
            categories=["technical_expert"],
            ip_types=["trademark"],
            industries=["integrated_circuits"],
            years_of_practice=8,
            last_confirmed_at=NOW - datetime.timedelta(days=10),
        ),
    }
    experts_reindex()
    return experts


# --- finding ---------------------------------------------------------------------


def test_a_word_inside_an_organisation_name_is_found(pool):
    assert names(expert_search(query="律师")) == ["张伟"]


def test_words_typed_without_a_space_find_who_has_both(pool):
    assert names(expert_search(query="专利代理师集成电路")) == ["曾丽"]


def test_traditional_and_taiwan_terms_find_simplified_entries(pool):
    assert query_normalise("專利代理師 積體電路") == "专利代理师 集成电路"
    assert query_normalise("智慧財產權") == "知识产权"
    assert names(expert_search(query="專利代理師 積體電路")) == ["曾丽"]
    assert names(expert_search(query="智慧財產權律師")) == ["张伟"]


@pytest.mark.parametrize("query", ["zengli", "Zeng Li", "ZENGLI", "lizeng", "曾丽"])
def test_a_name_is_found_by_its_pinyin_with_the_surname_reading(pool, query):
    assert names(expert_search(query=query))[0] == "曾丽"


@pytest.mark.parametrize(
    "name, query",
    [
        ("单雄", "shanxiong"),
        ("仇英", "qiuying"),
        ("解缙", "xiejin"),
        ("区明", "ouming"),
        ("查良", "zha liang"),
        ("朴正", "piaozheng"),
        ("尉迟恭", "yuchigong"),
        ("吕新", "lvxin"),
        ("吕新", "luxin"),
    ],
)
def test_surnames_with_special_readings(name, query):
    listed(name=name)
    experts_reindex()
    assert names(expert_search(query=query)) == [name]


def test_english_queries_go_through_the_vocabulary_labels(pool):
    assert names(expert_search(query="patent attorney integrated circuits")) == ["曾丽"]
    assert names(expert_search(query="Patent attorneys"))[:2] == ["刘洋", "曾丽"]
    assert names(expert_search(query="trademarks")) == ["张伟"]


def test_only_listed_experts_are_found_and_a_status_change_counts_at_once(pool):
    ExpertFactory(name="曾丽丽", organisation=pool["zeng"].organisation)
    listed(name="曾立", publication_consent_at=None)
    experts_reindex()
    assert names(expert_search(query="曾")) == ["曾丽"]
    expert_status_change(expert=pool["zeng"], status="withdrawn", user=None)
    assert names(expert_search(query="zengli")) == []
    assert expert_search().total == 2


# --- filters, facets, sorting, pages --------------------------------------------


def test_filters_are_and_across_keys_and_or_within_a_key(pool):
    search = expert_search(filters={"industry": ["integrated_circuits"]})
    assert sorted(names(search)) == ["张伟", "曾丽"]
    search = expert_search(
        filters={
            "industry": ["integrated_circuits", "automotive"],
            "ip_type": ["patent"],
        }
    )
    assert sorted(names(search)) == ["刘洋", "曾丽"]
    assert expert_search(filters={"category": ["no_such_code"]}).total == 0
    with pytest.raises(ValueError):
        expert_search(filters={"colour": ["red"]})


def test_facets_count_the_text_matches_with_the_other_filters(pool):
    search = expert_search(query="专利", filters={"industry": ["automotive"]})
    assert names(search) == ["刘洋"]
    facets = search.facets()
    # Its own filter is ignored for the industry facet: both patent attorneys.
    assert {(f["code"], f["count"]) for f in facets["industry"]} == {
        ("automotive", 1),
        ("integrated_circuits", 1),
    }
    assert facets["category"] == [
        {
            "code": "patent_attorney",
            "label_zh": "专利代理师",
            "label_en": "Patent attorney",
            "count": 1,
        }
    ]
    assert facets["language"] == []  # 曾丽's English is filtered out
    assert set(facets) == {
        "category",
        "ip_type",
        "service",
        "industry",
        "district",
        "language",
        "reachable",
    }


def test_sorting(pool):
    assert names(expert_search()) == ["刘洋", "张伟", "曾丽"]  # last confirmed
    assert names(expert_search(sort="years")) == ["曾丽", "张伟", "刘洋"]
    assert names(expert_search(query="专利", sort="confirmed")) == ["刘洋", "曾丽"]
    with pytest.raises(ValueError):
        expert_search(sort="name")


def test_pages_are_capped_and_the_end_is_an_error(pool):
    search = expert_search()
    assert search.total == 3
    assert [e.name for e in search.page(2, 2)] == ["曾丽"]
    with pytest.raises(PageOutOfRange):
        search.page(3, 2)
    with pytest.raises(PageOutOfRange):
        search.page(0, 2)
    assert len(expert_search(query="no such thing").page(1, 20)) == 0
    assert PAGE_SIZE_MAX == 50


def test_an_enormous_query_is_cut_and_answered_quickly(pool):
    query = "专利代理师集成电路" * 2000 + " zhang" * 5000
    started = time.monotonic()
    search = expert_search(query=query)
    search.facets()
    assert time.monotonic() - started < 2
    assert len(query_normalise(query)) <= 100


def test_punctuation_only_is_browsing(pool):
    assert expert_search(query=" ！？ ").total == 3


# --- privacy -------------------------------------------------------------------


def test_the_index_never_holds_an_email_or_phone(pool):
    expert = listed(
        name="王芳",
        email="wangfang@example.cn",
        phone="023-6123 4567",
        biography="联系 wangfang@example.cn 或 023-6123 4567，手机 13912345678。",
    )
    experts_reindex(expert_ids=[expert.pk])
    document = ExpertSearchDocument.objects.get(expert=expert)
    tokens = set(
        ExpertToken.objects.filter(expert=expert).values_list("token", flat=True)
    )
    for private in ("wangfang@example.cn", "example", "6123", "4567", "13912345678"):
        assert private not in document.text
        assert private not in tokens
    for query in ("wangfang@example.cn", "13912345678", "023-6123 4567"):
        assert expert_search(query=query).total == 0


# --- keeping the index current ----------------------------------------------


def test_an_edit_is_searchable_after_the_commit(
    pool, django_capture_on_commit_callbacks
):
    expert = pool["liu"]
    with django_capture_on_commit_callbacks(execute=True):
        expert.name = "刘海洋"
        expert.save()
        expert.industries.add(Industry.objects.get(code="graphene"))
    assert names(expert_search(query="liuhaiyang")) == ["刘海洋"]
    assert names(expert_search(query="石墨烯")) == ["刘海洋"]


def test_facets_follow_a_committed_change_and_forget_a_rolled_back_one(
    pool, django_capture_on_commit_callbacks
):
    graphene = Industry.objects.get(code="graphene")

    def industries(search) -> dict[str, int]:
        return {f["code"]: f["count"] for f in search.facets()["industry"]}

    # The facet bitmaps are built here and kept in the process...
    assert expert_search(filters={"industry": ["graphene"]}).total == 0
    with django_capture_on_commit_callbacks(execute=True):
        pool["liu"].industries.add(graphene)
    # ...and rebuilt once the index changed.
    search = expert_search(query="专利", filters={"industry": ["graphene"]})
    assert names(search) == ["刘洋"]
    assert industries(search) == {
        "automotive": 1,
        "graphene": 1,
        "integrated_circuits": 1,
    }

    class Undo(Exception):
        pass

    with pytest.raises(Undo), transaction.atomic():
        pool["zeng"].industries.add(graphene)
        experts_reindex(expert_ids=[pool["zeng"].pk])
        # Inside the transaction, its own change is seen...
        assert expert_search(filters={"industry": ["graphene"]}).total == 2
        raise Undo
    # ...and after the rollback, no longer.
    assert names(expert_search(filters={"industry": ["graphene"]})) == ["刘洋"]


def test_a_renamed_organisation_is_reindexed(pool, django_capture_on_commit_callbacks):
    organisation = pool["zhang"].organisation
    with django_capture_on_commit_callbacks(execute=True):
        organisation.name = "重庆某某商标事务所"
        organisation.save()
    assert expert_search(query="律师事务所").total == 0
    assert names(expert_search(query="商标事务所")) == ["张伟"]


def test_imported_experts_are_found_at_once():
    text = io.StringIO()
    csv.writer(text).writerows(
        [
            ["外部编号", "姓名", "类别", "机构"],
            ["T1", "仇英", "律师", "重庆某某知识产权律师事务所"],
        ]
    )
    experts_import(file=io.BytesIO(text.getvalue().encode()), filename="t.csv")
    expert = Expert.objects.get(external_id="T1")
    expert.verification_status = Expert.Verification.VERIFIED
    expert.verified_at = expert.publication_consent_at = NOW
    Expert.objects.bulk_update(
        [expert], ["verification_status", "verified_at", "publication_consent_at"]
    )
    assert names(expert_search(query="qiuying 律师")) == ["仇英"]


def test_the_reindex_command(pool, capsys):
    ExpertToken.objects.all().delete()
    ExpertTokenBits.objects.all().delete()
    assert expert_search(query="zengli").total == 0
    call_command("reindex_experts")
    assert "3" in capsys.readouterr().out
    assert names(expert_search(query="zengli")) == ["曾丽"]


# --- the admin -----------------------------------------------------------------


@pytest.fixture
def staff_client(client, home):
    staff = StaffFactory(mfa=False)
    TOTP.activate(staff, generate_totp_secret())
    client.force_login(staff)
    return client


def test_the_admin_listing_searches_like_the_site(pool, staff_client):
    hidden = ExpertFactory(name="曾凡", organisation=pool["zeng"].organisation)
    experts_reindex(expert_ids=[hidden.pk])
    url = reverse("wagtailsnippets_talentpool_expert:list")
    response = staff_client.get(url, {"q": "專利代理師 積體電路"})
    assert response.status_code == 200
    content = response.content.decode()
    assert "曾丽" in content and "刘洋" not in content
    # Staff find experts that are not listed too.
    assert "曾凡" in staff_client.get(url, {"q": "zengfan"}).content.decode()


def test_the_admin_chooser_searches_like_the_site(pool, staff_client):
    url = reverse("wagtailsnippetchoosers_talentpool_expert:choose_results")
    response = staff_client.get(url, {"q": "zhangwei"})
    assert response.status_code == 200
    content = response.content.decode()
    assert "张伟" in content and "曾丽" not in content

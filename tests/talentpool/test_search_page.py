"""The talent search page (/talent/) and the expert profile, as a visitor
sees them: results, facets with counts, sorting, pages, bad input, privacy,
verified training and rate limits."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest

from django.utils import timezone

from courses.certificates import services as certificate_services
from courses.models import Enrolment
from talentpool.search import experts_reindex
from tests.courses.factories import CertificateRequestFactory
from tests.factories import UserFactory
from tests.talentpool.helpers import PRIVATE_VALUES, listed_expert, pool, talent_page

pytestmark = pytest.mark.django_db


@pytest.fixture
def page(home):
    return talent_page(home)


@pytest.fixture
def experts(page):
    return pool()


def names_in_order(html: str, names: list[str]) -> list[str]:
    """The given names in the order their result cards appear."""
    found = [(html.find(f">{name}</a></h3>"), name) for name in names]
    return [name for position, name in sorted(found) if position >= 0]


ALL_NAMES = ["曾伟", "单敏", "仇磊", "解静"]


class TestListing:
    def test_an_empty_query_lists_every_listed_expert_and_nobody_else(
        self, client, experts
    ):
        response = client.get("/talent/")
        assert response.status_code == 200
        html = response.content.decode()
        # Browse: most recently confirmed first.
        assert names_in_order(html, ALL_NAMES) == ["仇磊", "单敏", "曾伟"]
        assert "3 位专家" in html

    def test_traditional_characters_find_the_patent_attorney_first(
        self, client, experts
    ):
        response = client.get("/talent/", {"q": "專利代理師 積體電路"})
        html = response.content.decode()
        assert names_in_order(html, ALL_NAMES)[0] == "曾伟"
        assert 'value="專利代理師 積體電路"' in html

    def test_a_card_shows_the_public_fields(self, client, experts):
        html = client.get("/talent/", {"q": "曾伟"}).content.decode()
        card = html[
            html.index(">曾伟</a>") : html.index("</li>", html.index(">曾伟</a>"))
        ]
        for text in [
            "专利代理师",
            "骨干人才",
            "重庆某某专利代理事务所",
            "渝中区",
            "12",
            "从事集成电路领域专利代理十二年",
            "可联系",
        ]:
            assert text in card, text
        profile = f'href="/talent/experts/{experts["zeng"].pk}/"'
        assert profile in html

    def test_no_email_or_phone_anywhere_on_the_page(self, client, experts):
        for query in [{}, {"q": "曾伟"}, {"q": "example"}, {"q": "13900001111"}]:
            html = client.get("/talent/", query).content.decode()
            # Except where the page repeats what the visitor typed.
            html = html.replace(query.get("q", "\0"), "")
            for value in PRIVATE_VALUES:
                assert value not in html, (query, value)

    def test_the_phone_number_is_not_searchable(self, client, experts):
        html = client.get("/talent/", {"q": "13900001111"}).content.decode()
        assert names_in_order(html, ALL_NAMES) == []
        assert "没有符合条件的专家" in html

    def test_sorting_by_years_of_practice(self, client, experts):
        html = client.get("/talent/", {"sort": "years"}).content.decode()
        assert names_in_order(html, ALL_NAMES) == ["单敏", "曾伟", "仇磊"]
        assert re.search(r'<option value="years" selected>', html)

    def test_english_labels_in_english(self, client, experts):
        html = client.get("/en/talent/", {"q": "patent attorney"}).content.decode()
        assert names_in_order(html, ALL_NAMES)[0] == "曾伟"
        assert "<legend>Expert category</legend>" in html
        assert "Patent attorney" in html
        assert 'href="/en/talent/experts/' in html
        profile = client.get(f"/en/talent/experts/{experts['zeng'].pk}/")
        html = profile.content.decode()
        assert "Integrated circuits" in html and "Years of practice" in html
        assert '<a href="/en/">Home</a>' in html


def facet_count(html: str, key: str, code: str) -> tuple[int, bool] | None:
    """(count, ticked) of a facet checkbox, or None when it is not offered."""
    match = re.search(
        rf'<input type="checkbox" name="{key}" value="{code}" id="[^"]+"( checked)?>'
        rf"\s*<label[^>]*>[^<]*<span[^>]*>\((\d+)\)</span>",
        html,
    )
    if match is None:
        return None
    return int(match.group(2)), bool(match.group(1))


class TestFacets:
    def test_counts_over_all_listed_experts(self, client, experts):
        html = client.get("/talent/").content.decode()
        assert facet_count(html, "category", "lawyer") == (2, False)
        assert facet_count(html, "category", "patent_attorney") == (1, False)
        assert facet_count(html, "district", "yuzhong") == (2, False)
        assert facet_count(html, "industry", "integrated_circuits") == (2, False)
        # A term nobody listed has is not offered.
        assert facet_count(html, "category", "notary") is None
        assert "<legend>专家类别</legend>" in html

    def test_a_ticked_filter_narrows_the_results_and_the_other_facets(
        self, client, experts
    ):
        html = client.get("/talent/", {"category": "lawyer"}).content.decode()
        assert names_in_order(html, ALL_NAMES) == ["仇磊", "单敏"]
        # Its own facet still offers the alternatives (OR within a facet).
        assert facet_count(html, "category", "lawyer") == (2, True)
        assert facet_count(html, "category", "patent_attorney") == (1, False)
        # The others count within the lawyers only.
        assert facet_count(html, "district", "yuzhong") == (1, False)
        assert facet_count(html, "industry", "automotive") == (1, False)

    def test_filters_across_facets_combine(self, client, experts):
        html = client.get(
            "/talent/",
            {"category": ["lawyer", "patent_attorney"], "district": "yuzhong"},
        ).content.decode()
        assert names_in_order(html, ALL_NAMES) == ["仇磊", "曾伟"]
        # Submitting the search box again keeps the ticked filters.
        assert '<input type="hidden" name="district" value="yuzhong">' in html

    def test_an_unknown_code_is_left_out_with_a_message(self, client, experts):
        response = client.get("/talent/", {"category": ["lawyer", "astronaut"]})
        assert response.status_code == 200
        html = response.content.decode()
        assert "astronaut" in html and 'role="alert"' in html
        assert names_in_order(html, ALL_NAMES) == ["仇磊", "单敏"]


class TestPages:
    @pytest.fixture
    def many(self, page):
        for n in range(45):
            listed_expert(
                name=f"专家{n:02d}",
                categories=["lawyer"],
                confirmed_days_ago=n,
            )
        experts_reindex()

    def test_twenty_to_a_page_with_page_links(self, client, many):
        html = client.get("/talent/").content.decode()
        assert "45 位专家" in html
        assert html.count('class="card talent-card"') == 20
        assert 'href="?page=2"' in html and 'href="?page=3"' in html
        assert 'aria-current="page"' in html
        html = client.get("/talent/", {"page": "3"}).content.decode()
        assert html.count('class="card talent-card"') == 5
        assert "专家44" in html

    def test_page_links_keep_the_search(self, client, many):
        html = client.get("/talent/", {"q": "专家", "category": "lawyer"}).content
        assert "?q=%E4%B8%93%E5%AE%B6&amp;category=lawyer&amp;page=2" in html.decode()

    def test_a_page_past_the_end_says_so(self, client, many):
        response = client.get("/talent/", {"page": "99"})
        assert response.status_code == 200
        html = response.content.decode()
        assert "没有第 99 页" in html
        assert 'href="?page=1"' in html

    @pytest.mark.parametrize("value", ["abc", "0", "-1", "１", "9" * 30])
    def test_a_malformed_page_number_shows_the_first_page(self, client, many, value):
        response = client.get("/talent/", {"page": value})
        assert response.status_code == 200
        html = response.content.decode()
        assert html.count('class="card talent-card"') == 20
        assert "页码必须是整数" in html

    def test_an_enormous_query_is_cut_with_a_message(self, client, many):
        response = client.get("/talent/", {"q": "专利" * 3000})
        assert response.status_code == 200
        assert "最多搜索 100 个字符" in response.content.decode()

    def test_a_page_past_the_result_window_says_so(self, client, many, monkeypatch):
        monkeypatch.setattr("talentpool.views.MAX_WINDOW", 40)
        html = client.get("/talent/", {"page": "3"}).content.decode()
        assert "只显示搜索结果的前 40 条" in html
        html = client.get("/talent/").content.decode()
        assert 'href="?page=2"' in html and 'href="?page=3"' not in html


class TestProfile:
    def test_the_profile_shows_public_fields_only(self, client, experts):
        expert = experts["zeng"]
        response = client.get(f"/talent/experts/{expert.pk}/")
        assert response.status_code == 200
        html = response.content.decode()
        for text in ["曾伟", "重庆某某专利代理事务所", "集成电路", "英语", "申请代理"]:
            assert text in html
        for value in PRIVATE_VALUES:
            assert value not in html
        assert "经本平台核验的培训" not in html

    def test_an_unlisted_or_unknown_expert_is_a_404(self, client, experts):
        for pk in [experts["hidden"].pk, 999_999]:
            response = client.get(f"/talent/experts/{pk}/")
            assert response.status_code == 404
            assert "未找到该专家" in response.content.decode()

    def test_verified_training_from_this_portal(self, client, experts):
        user = UserFactory(real_name="曾伟")
        expert = experts["zeng"]
        expert.user = user
        expert.save()
        valid = certificate_services.certificate_issue(
            request_id=CertificateRequestFactory(
                user=user, title="专利信息检索与利用", hours=Decimal("6.0")
            ).pk,
            render=False,
        )[0]
        revoked = certificate_services.certificate_issue(
            request_id=CertificateRequestFactory(user=user, title="被撤销的课程").pk,
            render=False,
        )[0]
        certificate_services.certificate_revoke(
            certificate_id=revoked.pk, reason="学时有误", by=None
        )
        Enrolment.objects.create(
            user=user,
            course_key=1,
            course_title="集成电路布图设计保护",
            credit_hours=Decimal("4.0"),
            completed_at=timezone.now() - timedelta(days=3),
        )
        Enrolment.objects.create(
            user=user,
            course_key=2,
            course_title="尚未学完的课程",
            credit_hours=Decimal("2.0"),
        )
        html = client.get(f"/talent/experts/{expert.pk}/").content.decode()
        section = html[html.index("经本平台核验的培训") :]
        assert "专利信息检索与利用" in section and valid.serial in section
        assert "6 学时" in section
        assert "集成电路布图设计保护" in section
        assert "被撤销的课程" not in html and "尚未学完的课程" not in html
        # The secret verification code is not published; the serial is.
        assert valid.code not in html


class TestRateLimits:
    @pytest.fixture(autouse=True)
    def low_limits(self, settings):
        settings.PORTAL_TALENT_RATE_LIMITS = {
            "search": "3/m",
            "profile": "3/m",
            "api": "3/m",
        }

    def test_the_listing_answers_429_per_address(self, client, experts):
        for _ in range(3):
            assert client.get("/talent/").status_code == 200
        response = client.get("/talent/", {"q": "律师"})
        assert response.status_code == 429
        assert "请求过于频繁" in response.content.decode()
        assert response["Retry-After"] == "60"
        assert client.get("/talent/", REMOTE_ADDR="203.0.113.9").status_code == 200

    def test_the_profile_is_limited_too(self, client, experts):
        for expert in ["zeng", "shan", "qiu"]:
            url = f"/talent/experts/{experts[expert].pk}/"
            assert client.get(url).status_code == 200
        assert client.get(url).status_code == 429

    def test_a_signed_in_user_is_limited_whatever_the_address(self, client, experts):
        client.force_login(UserFactory())
        for n in range(3):
            address = f"203.0.113.{n + 1}"
            assert client.get("/talent/", REMOTE_ADDR=address).status_code == 200
        assert client.get("/talent/", REMOTE_ADDR="203.0.113.50").status_code == 429


def test_a_page_of_results_costs_the_same_queries_however_many_experts(
    client, page, django_assert_max_num_queries
):
    for n in range(30):
        listed_expert(
            name=f"专家{n:02d}",
            categories=["lawyer", "mediator"],
            industries=["automotive"],
            organisation=f"重庆某某律师事务所{n}",
            district="yuzhong",
            tier="backbone",
        )
    experts_reindex()
    client.get("/talent/")  # the frame's cache
    # About half are the page tree, the frame and the rate-limit counters (on
    # the cache table without Redis); one query per expert would add 20.
    with django_assert_max_num_queries(36):
        response = client.get("/talent/", {"category": "lawyer"})
    assert response.content.decode().count('class="card talent-card"') == 20


def test_the_demo_gives_a_search_page_and_a_few_hundred_listed_experts_once(
    client, home
):
    from talentpool.demo import EXPERT_COUNT, load_demo_content

    created = load_demo_content()
    assert created and load_demo_content() == []
    html = client.get("/talent/", {"q": "zeng"}).content.decode()
    assert f"{EXPERT_COUNT} 位专家" in client.get("/talent/").content.decode()
    names = re.findall(r'<a href="/talent/experts/\d+/">([^<]+)</a></h3>', html)
    assert names and all(name.startswith("曾") for name in names)
    # The menu offers the page; the demo's private details stay private.
    assert 'href="/talent/"' in html and "@example.cn" not in html


def test_the_site_search_box_keeps_its_own_query(client, page):
    from django.urls import reverse

    box = 'id="site-search-q" type="search" name="q" maxlength="100" value="{}"'
    talent = client.get(page.url + "?q=律师").content.decode()
    assert box.format("") in talent and 'value="律师"' in talent
    search = client.get(reverse("search") + "?q=专利").content.decode()
    assert box.format("专利") in search

"""Scraping the talent pool, as an attacker would try it (issue 15, part 8):
one budget per client across the search page, the profiles and the API; a
daily cap on distinct profiles; no query paged past the result window; and
none of it reset by a new User-Agent or a forged X-Forwarded-For."""

from datetime import date, timedelta

import pytest

from django.conf import settings as django_settings
from django.utils import timezone

from talentpool import views
from talentpool.search import engine
from tests.factories import UserFactory
from tests.talentpool.factories import EnterpriseFactory
from tests.talentpool.helpers import listed_expert, pool, talent_page

pytestmark = pytest.mark.django_db

API = "/api/v1/experts/"
PROXY = "127.0.0.1"
ATTACKER = "203.0.113.7"


@pytest.fixture
def experts(home):
    talent_page(home)
    return pool()


def profile(expert_id: int, prefix: str = "") -> str:
    return f"{prefix}/talent/experts/{expert_id}/"


class TestOneBudget:
    def test_alternating_page_profile_and_api_spends_one_budget(
        self, client, experts, settings
    ):
        # Separate limits of 6 each would let 18 requests through; one
        # budget of 6 stops the seventh, whichever door it knocks on.
        settings.PORTAL_TALENT_RATE_LIMITS = {"budget": "6/m"}
        zeng = experts["zeng"].pk
        doors = [
            "/talent/",
            profile(zeng),
            API,
            f"{API}{zeng}/",
            "/talent/?q=律师",
            profile(experts["shan"].pk),
        ]
        for url in doors:
            assert client.get(url).status_code == 200, url
        for url in ["/talent/", profile(zeng), API, f"{API}{zeng}/"]:
            response = client.get(url)
            assert response.status_code == 429, url
            assert response["Retry-After"] == "60"
        assert client.get(API).json()["error"] == "rate_limited"
        # Another client has its own budget.
        assert client.get("/talent/", REMOTE_ADDR="198.51.100.3").status_code == 200

    def test_the_budget_has_a_daily_part_that_says_when_to_come_back(
        self, client, experts, settings
    ):
        settings.PORTAL_TALENT_RATE_LIMITS = {"budget": "100/m,3/d"}
        for _ in range(3):
            assert client.get(API).status_code == 200
        response = client.get("/en/talent/")
        assert response.status_code == 429
        assert int(response["Retry-After"]) > 60
        assert "Try again in" in response.content.decode()

    def test_a_signed_in_user_has_one_budget_whatever_the_address(
        self, client, experts, settings
    ):
        settings.PORTAL_TALENT_RATE_LIMITS = {"budget": "3/m"}
        client.force_login(UserFactory())
        for n, url in enumerate(["/talent/", API, profile(experts["qiu"].pk)]):
            assert client.get(url, REMOTE_ADDR=f"192.0.2.{n}").status_code == 200
        assert client.get(API, REMOTE_ADDR="192.0.2.99").status_code == 429

    def test_a_new_user_agent_is_not_a_new_client(self, client, experts, settings):
        settings.PORTAL_TALENT_RATE_LIMITS = {"budget": "3/m"}
        for n in range(3):
            agent = {"User-Agent": f"Mozilla/5.0 scraper/{n}"}
            assert client.get(API, headers=agent).status_code == 200
        response = client.get(API, headers={"User-Agent": "curl/8.0"})
        assert response.status_code == 429

    def test_a_forged_forwarded_entry_is_not_a_new_client(
        self, client, experts, settings
    ):
        # Behind the documented nginx the right-most entry is the address
        # nginx saw; what the client wrote to its left is never read.
        settings.PORTAL_TRUSTED_PROXY_COUNT = 1
        settings.PORTAL_TALENT_RATE_LIMITS = {"budget": "3/m"}
        for n in range(3):
            forged = {"X-Forwarded-For": f"192.0.2.{n}, {ATTACKER}"}
            response = client.get(API, headers=forged, REMOTE_ADDR=PROXY)
            assert response.status_code == 200
        forged = {"X-Forwarded-For": f"192.0.2.77, {ATTACKER}"}
        assert client.get(API, headers=forged, REMOTE_ADDR=PROXY).status_code == 429

    def test_without_a_proxy_the_header_is_no_new_client_either(
        self, client, experts, settings
    ):
        settings.PORTAL_TALENT_RATE_LIMITS = {"budget": "2/m"}
        for n in range(2):
            headers = {"X-Forwarded-For": f"192.0.2.{n}"}
            assert client.get(API, headers=headers).status_code == 200
        assert (
            client.get(API, headers={"X-Forwarded-For": "192.0.2.9"}).status_code == 429
        )

    def test_an_ipv6_client_cannot_hop_addresses_within_its_64(
        self, client, experts, settings
    ):
        settings.PORTAL_TALENT_RATE_LIMITS = {"budget": "2/m"}
        for n in range(2):
            response = client.get(API, REMOTE_ADDR=f"2001:db8:1:2::{n + 1}")
            assert response.status_code == 200
        assert client.get(API, REMOTE_ADDR="2001:db8:1:2::ff").status_code == 429
        assert client.get(API, REMOTE_ADDR="2001:db8:1:3::1").status_code == 200

    def test_a_kind_may_have_its_own_cap_inside_the_budget(
        self, client, experts, settings
    ):
        settings.PORTAL_TALENT_RATE_LIMITS = {"budget": "10/m", "api": "2/m"}
        for _ in range(2):
            assert client.get(API).status_code == 200
        assert client.get(API).status_code == 429
        assert client.get("/talent/").status_code == 200


@pytest.fixture
def many_experts(home, settings):
    """101 listed experts; a budget large enough to open them all."""
    talent_page(home)
    settings.PORTAL_TALENT_RATE_LIMITS = {"budget": "1000/m"}
    return [listed_expert(name=f"专家{n:03d}") for n in range(101)]


class TestDistinctProfiles:
    def test_the_101st_profile_of_the_day_is_refused_and_the_first_still_served(
        self, client, many_experts
    ):
        assert django_settings.PORTAL_TALENT_DAILY_PROFILES == 100
        first, *middle, last = many_experts
        for expert in [first, *middle]:
            assert client.get(profile(expert.pk)).status_code == 200
        response = client.get(profile(last.pk, "/en"))
        assert response.status_code == 429
        assert 0 < int(response["Retry-After"]) <= 86400
        html = response.content.decode()
        assert "100 different expert profiles today" in html
        assert last.name not in html
        # The API's profile is the same cap, in JSON.
        response = client.get(f"{API}{last.pk}/")
        assert response.status_code == 429
        assert response.json()["error"] == "daily_profile_limit"
        assert last.name not in response.content.decode()
        # What was opened today stays open, by page and by API.
        assert client.get(profile(first.pk)).status_code == 200
        assert client.get(f"{API}{middle[5].pk}/").status_code == 200
        # Another address has its own day.
        other = client.get(profile(last.pk), REMOTE_ADDR="198.51.100.8")
        assert other.status_code == 200

    def test_search_results_are_no_way_around_the_cap(self, client, experts, settings):
        """A scraper that stops at the cap cannot read the profiles from the
        API's search results instead: they carry the card, not the
        qualifications, licence numbers or whole biography."""
        settings.PORTAL_TALENT_DAILY_PROFILES = 1
        assert client.get(f"{API}{experts['zeng'].pk}/").status_code == 200
        assert client.get(f"{API}{experts['shan'].pk}/").status_code == 429
        results = client.get(API, {"page_size": 50}).json()["results"]
        assert {item["id"] for item in results} >= {experts["shan"].pk}
        for item in results:
            assert not {"qualifications", "biography", "external_id"} & set(item)

    def test_opening_the_same_profile_again_does_not_count(
        self, client, experts, settings
    ):
        settings.PORTAL_TALENT_DAILY_PROFILES = 2
        zeng, shan, qiu = (experts[name].pk for name in ("zeng", "shan", "qiu"))
        for _ in range(5):
            assert client.get(profile(zeng)).status_code == 200
            assert client.get(f"{API}{zeng}/").status_code == 200
        assert client.get(profile(shan)).status_code == 200
        assert client.get(profile(qiu)).status_code == 429

    def test_page_and_api_count_towards_one_cap(self, client, experts, settings):
        settings.PORTAL_TALENT_DAILY_PROFILES = 2
        assert client.get(profile(experts["zeng"].pk)).status_code == 200
        assert client.get(f"{API}{experts['shan'].pk}/").status_code == 200
        assert client.get(f"{API}{experts['qiu'].pk}/").status_code == 429
        assert client.get(profile(experts["qiu"].pk)).status_code == 429

    def test_unknown_ids_do_not_spend_the_cap(self, client, experts, settings):
        settings.PORTAL_TALENT_DAILY_PROFILES = 1
        for n in range(3):
            assert client.get(profile(999_000 + n)).status_code == 404
        assert client.get(profile(experts["zeng"].pk)).status_code == 200

    def test_a_forged_forwarded_entry_or_user_agent_does_not_reset_the_cap(
        self, client, experts, settings
    ):
        settings.PORTAL_TRUSTED_PROXY_COUNT = 1
        settings.PORTAL_TALENT_DAILY_PROFILES = 1
        first = {"X-Forwarded-For": f"192.0.2.1, {ATTACKER}", "User-Agent": "a"}
        assert (
            client.get(profile(experts["zeng"].pk), headers=first, REMOTE_ADDR=PROXY)
        ).status_code == 200
        again = {"X-Forwarded-For": f"192.0.2.2, {ATTACKER}", "User-Agent": "b"}
        response = client.get(
            profile(experts["shan"].pk), headers=again, REMOTE_ADDR=PROXY
        )
        assert response.status_code == 429

    def test_the_cap_starts_again_the_next_day(
        self, client, experts, settings, monkeypatch
    ):
        settings.PORTAL_TALENT_DAILY_PROFILES = 1
        assert client.get(profile(experts["zeng"].pk)).status_code == 200
        assert client.get(profile(experts["shan"].pk)).status_code == 429
        tomorrow: date = timezone.localdate() + timedelta(days=1)
        monkeypatch.setattr(timezone, "localdate", lambda *args: tomorrow)
        assert client.get(profile(experts["shan"].pk)).status_code == 200

    def test_a_verified_enterprise_member_has_the_higher_cap(
        self, client, experts, settings
    ):
        settings.PORTAL_TALENT_DAILY_PROFILES = 1
        settings.PORTAL_TALENT_DAILY_PROFILES_MEMBER = 2
        ids = [experts[name].pk for name in ("zeng", "shan", "qiu")]

        client.force_login(UserFactory())  # signed in, no enterprise
        assert client.get(profile(ids[0])).status_code == 200
        assert client.get(profile(ids[1])).status_code == 429

        member = EnterpriseFactory().registered_by
        client.force_login(member)
        assert client.get(profile(ids[0])).status_code == 200
        assert client.get(profile(ids[1])).status_code == 200
        assert client.get(f"{API}{ids[2]}/").status_code == 429

    def test_a_pending_enterprise_gets_the_ordinary_cap(
        self, client, experts, settings
    ):
        settings.PORTAL_TALENT_DAILY_PROFILES = 1
        settings.PORTAL_TALENT_DAILY_PROFILES_MEMBER = 5
        client.force_login(EnterpriseFactory(status="pending").registered_by)
        assert client.get(profile(experts["zeng"].pk)).status_code == 200
        assert client.get(profile(experts["shan"].pk)).status_code == 429


class TestResultWindow:
    def test_the_window_is_the_engines(self):
        assert views.MAX_WINDOW == engine.RESULT_WINDOW

    @pytest.mark.parametrize("page_size", [50, 20, 7])
    def test_paging_the_api_past_the_window_is_an_error_not_data(
        self, client, experts, page_size
    ):
        past = engine.RESULT_WINDOW // page_size + 1
        response = client.get(API, {"page": past, "page_size": page_size})
        assert response.status_code == 400
        data = response.json()
        assert data["error"] == "result_window_exceeded"
        assert data["parameter"] == "page"
        assert str(engine.RESULT_WINDOW) in data["detail"]
        assert "results" not in data
        assert "曾伟" not in response.content.decode()

    def test_a_page_size_over_the_largest_is_cut_and_stays_in_the_window(
        self, client, experts
    ):
        response = client.get(API, {"page_size": 10_000})
        assert response.status_code == 200
        assert response.json()["page_size"] == engine.PAGE_SIZE_MAX
        past = engine.RESULT_WINDOW // engine.PAGE_SIZE_MAX + 1
        response = client.get(API, {"page": past, "page_size": 10_000})
        assert response.json()["error"] == "result_window_exceeded"

    def test_the_listing_past_the_window_says_so_and_shows_nobody(
        self, client, home, monkeypatch
    ):
        from talentpool.search import experts_reindex

        talent_page(home)
        for n in range(41):
            listed_expert(name=f"专家{n:02d}", categories=["lawyer"])
        experts_reindex()
        monkeypatch.setattr(views, "MAX_WINDOW", 20)
        response = client.get("/en/talent/", {"page": 2})
        html = response.content.decode()
        assert "Only the first 20 results of a search are shown" in html
        assert 'class="card talent-card"' not in html
        assert not any(f"专家{n:02d}" in html for n in range(41))

"""Looking up a licence number in the talent search, as a visitor verifying
one does: the number typed as it comes (spaces, dashes, full-width digits,
lower-case letters) finds the listed expert holding it, first, on the page
(which says so) and in the API; an unlisted holder is found by nobody, and
a part of a number finds nobody by licence."""

import pytest

from django.db import connection
from django.test.utils import CaptureQueriesContext

from talentpool.models import Expert
from talentpool.search import experts_reindex
from tests.talentpool.factories import QualificationFactory
from tests.talentpool.helpers import listed_expert, pool, talent_page

pytestmark = pytest.mark.django_db

API = "/api/v1/experts/"
NAMES = ["曾伟", "单敏", "仇磊", "解静"]


@pytest.fixture
def experts(home):
    talent_page(home)
    experts = pool()
    QualificationFactory(
        expert=experts["zeng"], title="专利代理师执业证", licence_number="500120190001"
    )
    QualificationFactory(
        expert=experts["shan"], title="律师执业证", licence_number="ZL-2020-0001"
    )
    # 解静 is withdrawn: her number is public nowhere, so it finds nobody.
    QualificationFactory(expert=experts["hidden"], licence_number="500120190002")
    lapsed = listed_expert(name="黎明", lapsed_at=experts["zeng"].verified_at)
    QualificationFactory(expert=lapsed, licence_number="500120190003")
    return experts


def names_in_order(html: str) -> list[str]:
    """The names of the result cards, in order."""
    found = [(html.find(f">{name}</a></h3>"), name) for name in [*NAMES, "黎明"]]
    return [name for position, name in sorted(found) if position >= 0]


def page(client, query: str, **params) -> str:  # type: ignore[no-untyped-def]
    response = client.get("/talent/", {"q": query, **params})
    assert response.status_code == 200
    return response.content.decode()


def api(client, query: str, **params) -> dict:  # type: ignore[no-untyped-def]
    response = client.get(API, {"q": query, **params})
    assert response.status_code == 200
    return response.json()


TYPED_ZENG = [
    "500120190001",
    "5001 2019 0001",
    "5001-2019-0001",
    "５００１２０１９ ０００１",
    "５００１－２０１９－０００１",
    " 5001—2019—0001 ",
]
TYPED_SHAN = [
    "ZL-2020-0001",
    "zl-2020-0001",
    "zl 2020 0001",
    "ＺＬ－２０２０－０００１",
]


@pytest.mark.parametrize("typed", TYPED_ZENG)
def test_the_page_finds_the_holder_however_the_number_is_typed(client, experts, typed):
    html = page(client, typed)
    assert names_in_order(html) == ["曾伟"]
    assert "执业证号 500120190001 的持有人是 曾伟，列在第一位。" in html
    assert "<dt>执业证号</dt><dd>500120190001</dd>" in html


@pytest.mark.parametrize("typed", TYPED_SHAN)
def test_a_number_stored_with_hyphens_is_found_typed_with_them_or_spaces(
    client, experts, typed
):
    html = page(client, typed)
    assert names_in_order(html)[0] == "单敏"
    assert "执业证号 ZL-2020-0001 的持有人是 单敏，列在第一位。" in html


def test_the_message_in_english(client, experts):
    html = client.get("/en/talent/", {"q": "5001 2019 0001"}).content.decode()
    assert "The holder of licence number 500120190001 is 曾伟, shown first." in html


@pytest.mark.parametrize("typed", [*TYPED_ZENG, "zl 2020 0001"])
def test_the_api_gives_the_holder_first_and_names_it(client, experts, typed):
    data = api(client, typed)
    holder = experts["shan"] if typed.startswith("zl") else experts["zeng"]
    assert data["results"][0]["id"] == holder.pk
    assert data["licence_holders"] == [
        {
            "id": holder.pk,
            "licence_number": holder.qualifications.get().licence_number,
        }
    ]


def test_the_holder_comes_before_the_text_matches_whatever_the_sort(client, experts):
    # 仇磊's external ID is the same characters: a text match, found too, but
    # after the holder of the number.
    Expert.objects.filter(pk=experts["qiu"].pk).update(external_id="A1B2C3D4")
    experts_reindex()
    QualificationFactory(expert=experts["zeng"], licence_number="A1B2C3D4")
    for sort in ("relevance", "years", "confirmed"):
        assert names_in_order(page(client, "a1b2c3d4", sort=sort)) == [
            "曾伟",
            "仇磊",
        ]
        results = api(client, "A1B2C3D4", sort=sort)["results"]
        assert [r["id"] for r in results] == [experts["zeng"].pk, experts["qiu"].pk]
    # A part of it is neither the number nor the word.
    assert names_in_order(page(client, "A1B2C3")) == []


@pytest.mark.parametrize("number", ["500120190002", "500120190003"])
def test_an_unlisted_holder_is_found_by_nobody(client, experts, number):
    html = page(client, number)
    assert names_in_order(html) == []
    assert "持有人" not in html
    assert "没有符合条件的专家" in html
    data = api(client, number)
    assert data["total"] == 0
    assert data["results"] == []
    assert data["licence_holders"] == []


@pytest.mark.parametrize(
    "part", ["50012019000", "5001201900", "50012", "0120190001", "5001 2019", "ZL-2020"]
)
def test_a_part_of_a_number_finds_nobody_by_licence(client, experts, part):
    html = page(client, part)
    assert "曾伟" not in names_in_order(html) and "单敏" not in names_in_order(html)
    assert "持有人" not in html
    data = api(client, part)
    assert data["licence_holders"] == []
    assert experts["zeng"].pk not in [r["id"] for r in data["results"]]


def test_filters_still_apply_to_the_holder(client, experts):
    assert names_in_order(page(client, "500120190001", category="lawyer")) == []
    html = page(client, "500120190001", category="patent_attorney")
    assert names_in_order(html) == ["曾伟"]


def test_a_number_costs_one_query_more_than_a_word_however_many_experts(
    client, experts
):
    for n in range(30):
        expert = listed_expert(name=f"专家{n:02d}", categories=["lawyer"])
        QualificationFactory(expert=expert, licence_number=f"60012019{n:04d}")
    experts_reindex()
    client.get("/talent/", {"q": "专家"})  # the frame's cache, the query lexicon

    def queries(query: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/talent/", {"q": query}).status_code == 200
        return len(captured)

    # Found by a number rather than a word: one lookup more, however many.
    assert queries("600120190007") <= queries("专家") + 1
    assert queries("500120190001") <= queries("曾伟") + 1

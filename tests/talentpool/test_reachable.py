"""Reachable means reachable (issue 15, part 3): the profile and the search
results say an expert can be contacted only when an enterprise can actually
reach them (talentpool.models.reachable_q: accepting requests, and an
account or an e-mail address); otherwise they say plainly that contact
through the portal is not available, and the request form is refused before
the enterprise types anything."""

import pytest

from django.db import connection
from django.test.utils import CaptureQueriesContext

from talentpool.contacts.selectors import is_reachable
from talentpool.models import ContactRequest, Expert
from talentpool.search import experts_reindex
from tests.factories import UserFactory
from tests.talentpool.factories import EnterpriseFactory
from tests.talentpool.helpers import listed_expert, talent_page

pytestmark = pytest.mark.django_db

CAN = "Can be contacted through the portal"
CANNOT = "Contact through the portal is not available"
PAUSED = "Not accepting contact requests at present"


@pytest.fixture
def page(home):
    return talent_page(home)


@pytest.fixture
def experts(page) -> dict[str, Expert]:
    experts = {
        "account": listed_expert(name="有账号", user=UserFactory(), email=""),
        "email": listed_expert(name="有邮箱", email="only.mail@example.cn"),
        "nothing": listed_expert(name="无法联系", email=""),
        "paused": listed_expert(
            name="暂停", email="paused@example.cn", accepting_requests=False
        ),
    }
    experts_reindex()
    return experts


def profile(client, expert: Expert) -> str:
    response = client.get(f"/en/talent/experts/{expert.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def test_the_selector_is_the_rule(experts):
    """is_reachable (used on a loaded expert) selects exactly reachable_q."""
    reachable = set(Expert.objects.reachable().values_list("pk", flat=True))
    assert reachable == {experts["account"].pk, experts["email"].pk}
    for expert in Expert.objects.all():
        assert is_reachable(expert) == (expert.pk in reachable)


@pytest.mark.parametrize(
    ("key", "badge", "button"),
    [
        ("account", CAN, True),
        ("email", CAN, True),
        ("nothing", CANNOT, False),
        ("paused", PAUSED, False),
    ],
)
def test_the_profile_says_whether_the_expert_can_be_contacted(
    client, experts, key, badge, button
):
    html = profile(client, experts[key])
    assert badge in html
    for other in {CAN, CANNOT, PAUSED} - {badge}:
        assert other not in html
    request_url = f"/en/contacts/experts/{experts[key].pk}/request/"
    assert (request_url in html) is button


def test_the_search_results_say_the_same(client, experts):
    html = client.get("/en/talent/").content.decode()
    cards = {
        key: html.split(f'href="/en/talent/experts/{expert.pk}/"')[1].split("</li>")[0]
        for key, expert in experts.items()
    }
    assert CAN in cards["account"] and CAN in cards["email"]
    assert CANNOT in cards["nothing"] and CAN not in cards["nothing"]
    assert PAUSED in cards["paused"] and CAN not in cards["paused"]


def test_the_badge_costs_no_query_per_result(client, experts):
    """The badge reads the loaded expert: the page's queries do not grow
    with the number of results."""

    def queries() -> list[str]:
        with CaptureQueriesContext(connection) as context:
            assert client.get("/en/talent/").status_code == 200
        return [
            q["sql"] for q in context.captured_queries if "portal_cache" not in q["sql"]
        ]

    client.get("/en/talent/")  # warm the page frame and the facet cache
    few = queries()
    for n in range(6):
        listed_expert(name=f"新专家{n}", email=f"new{n}@example.cn")
        listed_expert(name=f"无邮箱{n}", email="")
    experts_reindex()
    client.get("/en/talent/")  # the search's facet cache fills again
    more = queries()
    assert len(more) == len(few)


def test_the_form_is_refused_before_anything_is_typed(client, experts):
    """An enterprise opening the form of an unreachable expert is told at
    once, and gets no form to fill in; a forged POST is refused too."""
    enterprise = EnterpriseFactory()
    client.force_login(enterprise.registered_by)
    url = f"/en/contacts/experts/{experts['nothing'].pk}/request/"
    response = client.get(url)
    html = response.content.decode()
    assert CANNOT in html
    assert 'name="need"' not in html
    response = client.post(url, {"need": "需要专利咨询"})
    assert response.status_code == 400
    assert not ContactRequest.objects.exists()


def test_an_expert_with_only_an_email_gets_the_form(client, experts):
    enterprise = EnterpriseFactory()
    client.force_login(enterprise.registered_by)
    html = client.get(
        f"/en/contacts/experts/{experts['email'].pk}/request/"
    ).content.decode()
    assert 'name="need"' in html
    assert CANNOT not in html

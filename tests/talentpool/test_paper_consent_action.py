"""The admin's bulk action "Record paper consent" on the expert listing:
the date and the forms' references (one for the batch or one per expert),
everything checked before anything is written, one transaction, the
audit log; only staff who may change experts, and never without CSRF."""

from datetime import date, datetime, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest

from django.contrib.auth.models import Group, Permission
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from wagtail.models import ModelLogEntry
from wagtail.users.models import UserProfile

from talentpool.models import Expert, ExpertConsent
from talentpool.services import LOG_CONSENT_ON_PAPER
from tests.factories import StaffFactory, UserFactory, activate_totp
from tests.talentpool.factories import ExpertFactory

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(autouse=True)
def _english():
    translation.activate("en")


@pytest.fixture
def staff():
    staff = StaffFactory()
    # The admin speaks its user's language: English, as the assertions.
    profile = UserProfile.get_for_user(staff)
    profile.preferred_language = "en"
    profile.save()
    return staff


@pytest.fixture
def experts():
    verified = {
        "verification_status": Expert.Verification.VERIFIED,
        "verified_at": timezone.now() - timedelta(days=30),
    }
    return [
        ExpertFactory(name="欧阳锋", **verified),
        ExpertFactory(name="黄药师", **verified),
    ]


def action_url(experts) -> str:
    url = reverse(
        "wagtail_bulk_action", args=("talentpool", "expert", "record_paper_consent")
    )
    query = [("id", expert.pk) for expert in experts]
    query.append(("next", reverse("wagtailsnippets_talentpool_expert:list")))
    return f"{url}?{urlencode(query)}"


def test_the_listing_offers_the_action(client, home, staff, experts):
    client.force_login(staff)
    page = client.get(reverse("wagtailsnippets_talentpool_expert:list"))
    assert "record_paper_consent" in page.content.decode()


def test_one_reference_for_the_batch_lists_them_at_once(client, home, staff, experts):
    client.force_login(staff)
    form = client.get(action_url(experts))
    assert form.status_code == 200
    assert "欧阳锋" in form.content.decode()

    response = client.post(
        action_url(experts), {"on": "2025-03-01", "reference": "TY-2025-B"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("wagtailsnippets_talentpool_expert:list")
    page = client.get(response["Location"]).content.decode()
    assert "2 experts&#x27; consent recorded." in page or "2 experts' consent" in page

    assert set(Expert.objects.listed()) == set(experts)
    for consent in ExpertConsent.objects.all():
        assert consent.method == ExpertConsent.Method.PAPER
        assert consent.reference == "TY-2025-B"
        assert consent.recorded_by == staff
        assert consent.recorded_at == datetime(2025, 3, 1, 12, tzinfo=SHANGHAI)
    entries = ModelLogEntry.objects.filter(action=LOG_CONSENT_ON_PAPER)
    assert entries.count() == 2
    assert {entry.user_id for entry in entries} == {staff.pk}

    # Again: the same forms are already recorded; nothing new.
    client.post(action_url(experts), {"on": "2025-03-01", "reference": "TY-2025-B"})
    assert ExpertConsent.objects.count() == 2


def test_a_reference_per_expert(client, home, staff, experts):
    client.force_login(staff)
    first, second = experts
    client.post(
        action_url(experts),
        {
            "on": "2025-03-01",
            "reference": "TY-ALL",
            f"reference_{first.pk}": "TY-OWN",
        },
    )
    references = dict(ExpertConsent.objects.values_list("expert_id", "reference"))
    assert references == {first.pk: "TY-OWN", second.pk: "TY-ALL"}


def test_everything_is_checked_before_anything_is_written(client, home, staff, experts):
    client.force_login(staff)
    first, second = experts
    # A reference missing for one expert.
    response = client.post(
        action_url(experts), {"on": "2025-03-01", f"reference_{first.pk}": "TY-1"}
    )
    assert response.status_code == 200
    assert (
        "Give the reference of the consent form of 黄药师." in response.content.decode()
    )
    # A date in the future.
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    response = client.post(action_url(experts), {"on": tomorrow, "reference": "TY"})
    assert "is in the future" in response.content.decode()
    # One expert withdrew online after the date: the whole batch is refused.
    account = UserFactory()
    second.user = account
    second.save()
    ExpertConsent.objects.create(
        expert=second,
        given=False,
        wording="…",
        user=account,
        recorded_at=datetime(2025, 6, 1, 9, tzinfo=SHANGHAI),
    )
    response = client.post(action_url(experts), {"on": "2025-03-01", "reference": "TY"})
    assert response.status_code == 200
    assert "黄药师 withdrew consent to publication online" in response.content.decode()

    assert not ExpertConsent.objects.filter(method=ExpertConsent.Method.PAPER).exists()
    assert not Expert.objects.listed().exists()
    assert not ModelLogEntry.objects.filter(action=LOG_CONSENT_ON_PAPER).exists()


def test_staff_who_may_not_change_experts_cannot_record(client, home, experts):
    """A hostile staff session: admin access and the right to look at
    experts, not to change them."""
    user = UserFactory(is_staff=True)
    group = Group.objects.create(name="只读")
    group.permissions.add(
        Permission.objects.get(codename="access_admin"),
        Permission.objects.get(codename="view_expert"),
    )
    user.groups.add(group)
    activate_totp(user)
    client.force_login(user)
    assert client.get(action_url(experts)).status_code == 403
    response = client.post(action_url(experts), {"on": "2025-03-01", "reference": "X"})
    assert response.status_code == 403
    assert not ExpertConsent.objects.exists()


def test_a_forged_post_without_csrf_fails(home, staff, experts):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(staff)
    response = browser.post(action_url(experts), {"on": "2025-03-01", "reference": "X"})
    assert response.status_code == 403
    assert not ExpertConsent.objects.exists()


def test_the_service_refuses_a_user_without_the_permission(experts):
    from talentpool.applications.services import ApplicationError
    from talentpool.applications.services.consent import paper_consents_record

    with pytest.raises(ApplicationError):
        paper_consents_record(
            experts=experts,
            references={expert.pk: "X" for expert in experts},
            on=date(2025, 3, 1),
            by=UserFactory(),
        )
    assert not ExpertConsent.objects.exists()

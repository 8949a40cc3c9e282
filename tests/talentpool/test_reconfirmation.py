"""The yearly reconfirmation: experts are asked after 11 months, hidden
after 12 (with at least a month's notice) and listed again once they
confirm; the sweep is a beat task that may run twice."""

from datetime import timedelta

import pytest

from django.conf import settings
from django.utils import timezone, translation

from portal.models import OutgoingEmail
from talentpool.applications import services, tasks
from talentpool.models import Expert
from talentpool.search import experts_reindex
from tests.factories import UserFactory
from tests.talentpool.factories import ExpertFactory
from tests.talentpool.helpers import listed_expert, talent_page

pytestmark = pytest.mark.django_db

MONTH = timedelta(days=31)


@pytest.fixture(autouse=True)
def _english():
    translation.activate("en")


def emails_to(address: str) -> list[OutgoingEmail]:
    return list(OutgoingEmail.objects.filter(to=[address]).order_by("pk"))


def test_the_sweep_is_on_the_beat_schedule():
    entry = settings.CELERY_BEAT_SCHEDULE["talentpool-reconfirmation"]
    assert entry["task"] == tasks.reconfirmation_sweep.name


def test_recently_confirmed_experts_are_left_alone():
    expert = listed_expert(confirmed_days_ago=300)
    assert services.reconfirmation_sweep() == (0, 0)
    expert.refresh_from_db()
    assert expert.reconfirmation_requested_at is None
    assert not OutgoingEmail.objects.exists()


def test_asked_after_eleven_months_once_only():
    user = UserFactory(email="expert.user@example.org", language="en")
    expert = listed_expert(confirmed_days_ago=340, user=user, email="own@example.cn")
    assert tasks.reconfirmation_sweep.delay().get() == [1, 0]
    expert.refresh_from_db()
    assert expert.reconfirmation_requested_at is not None
    assert expert.lapsed_at is None
    # The account's address and language; the link to the profile page.
    (email,) = emails_to("expert.user@example.org")
    assert email.subject == "Please confirm your talent pool profile is current"
    assert "/en/expert/profile/" in email.body
    assert not emails_to("own@example.cn")
    # Run twice: nobody is asked again.
    assert services.reconfirmation_sweep() == (0, 0)
    assert OutgoingEmail.objects.count() == 1


def test_e_mail_in_chinese_for_a_chinese_speaker():
    user = UserFactory(email="zh@example.org", language="zh-hans")
    listed_expert(confirmed_days_ago=340, user=user)
    services.reconfirmation_sweep()
    (email,) = emails_to("zh@example.org")
    assert "/expert/profile/" in email.body
    assert "/en/" not in email.body


def test_never_confirmed_counts_from_verification():
    expert = listed_expert(confirmed_days_ago=0)
    Expert.objects.filter(pk=expert.pk).update(
        last_confirmed_at=None, verified_at=timezone.now() - timedelta(days=400)
    )
    assert services.reconfirmation_sweep() == (1, 0)


def test_imported_expert_is_asked_at_its_own_address():
    listed_expert(confirmed_days_ago=340, email="imported@example.cn")
    no_address = listed_expert(confirmed_days_ago=340, email="")
    assert services.reconfirmation_sweep() == (2, 0)
    (email,) = emails_to("imported@example.cn")
    # No account, so no language of its own: the portal's, Chinese; and no
    # link to a profile page the expert cannot sign in to.
    assert "联系人才库工作人员" in email.body
    assert "/expert/profile/" not in email.body
    # Asked (so that the lapse follows the same rule), though nothing was sent.
    no_address.refresh_from_db()
    assert no_address.reconfirmation_requested_at is not None
    assert OutgoingEmail.objects.count() == 1


def test_unverified_and_withdrawn_experts_are_not_asked():
    ExpertFactory(last_confirmed_at=timezone.now() - timedelta(days=400))
    listed_expert(confirmed_days_ago=400, status=Expert.Status.WITHDRAWN)
    assert services.reconfirmation_sweep() == (0, 0)


def test_no_lapse_without_a_months_notice():
    expert = listed_expert(confirmed_days_ago=500)
    # Over a year, but never asked: asked now, not hidden yet.
    assert services.reconfirmation_sweep() == (1, 0)
    assert services.reconfirmation_sweep(now=timezone.now() + timedelta(days=10)) == (
        0,
        0,
    )
    expert.refresh_from_db()
    assert expert.lapsed_at is None


class TestLapse:
    @pytest.fixture
    def expert(self, home):  # type: ignore[no-untyped-def]
        talent_page(home)
        user = UserFactory(email="lapsing@example.org", language="en")
        expert = listed_expert(name="冉静怡", confirmed_days_ago=350, user=user)
        experts_reindex()
        services.reconfirmation_sweep()
        return expert

    def test_listed_before_the_lapse(self, client, expert):
        link = f"/talent/experts/{expert.pk}/"
        assert link in client.get("/talent/", {"q": "冉静怡"}).content.decode()

    def test_lapsed_expert_is_hidden_and_back_after_confirming(self, client, expert):
        later = timezone.now() + MONTH
        assert services.reconfirmation_sweep(now=later) == (0, 1)
        assert services.reconfirmation_sweep(now=later) == (0, 0)
        expert.refresh_from_db()
        assert expert.lapsed_at is not None
        lapse = emails_to("lapsing@example.org")[-1]
        assert (
            lapse.subject == "Your talent pool profile is hidden until you confirm it"
        )
        # Hidden from the search, the profile page and the API.
        link = f"/talent/experts/{expert.pk}/"
        assert link not in client.get("/talent/").content.decode()
        assert link not in client.get("/talent/", {"q": "冉静怡"}).content.decode()
        assert client.get(f"/talent/experts/{expert.pk}/").status_code == 404
        api = client.get("/api/v1/experts/").json()
        assert expert.pk not in [item["id"] for item in api["results"]]
        assert client.get(f"/api/v1/experts/{expert.pk}/").status_code == 404
        # The expert sees why and confirms.
        client.force_login(expert.user)
        page = client.get("/en/expert/profile/").content.decode()
        assert "not confirmed within a year" in page
        response = client.post("/en/expert/profile/confirm/")
        assert response.status_code == 302
        client.logout()
        expert.refresh_from_db()
        assert expert.lapsed_at is None
        assert expert.reconfirmation_requested_at is None
        assert expert.last_confirmed_at > timezone.now() - timedelta(minutes=1)
        assert link in client.get("/talent/", {"q": "冉静怡"}).content.decode()
        assert client.get(f"/api/v1/experts/{expert.pk}/").status_code == 200
        # Confirmed now: the next sweeps leave it alone.
        assert services.reconfirmation_sweep(now=later) == (0, 0)

    def test_someone_else_cannot_confirm(self, expert):
        with pytest.raises(services.ApplicationError):
            services.expert_reconfirm(expert=expert, user=UserFactory())


def test_staff_record_the_confirmation_of_an_imported_expert(client, home):
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    from django.urls import reverse

    from tests.factories import StaffFactory

    expert = listed_expert(confirmed_days_ago=500, email="imported@example.cn")
    services.reconfirmation_sweep()
    services.reconfirmation_sweep(now=timezone.now() + MONTH)
    expert.refresh_from_db()
    assert expert.lapsed_at is not None
    staff = StaffFactory(mfa=False)
    TOTP.activate(staff, generate_totp_secret())
    client.force_login(staff)
    listing = client.get(reverse("wagtailsnippets_talentpool_expert:list"))
    confirm_url = reverse("talentpool_applications:confirm", args=(expert.pk,))
    assert confirm_url in listing.content.decode()
    assert client.get(confirm_url).status_code == 200
    response = client.post(confirm_url)
    assert response.status_code == 302
    expert.refresh_from_db()
    assert expert.lapsed_at is None
    assert Expert.objects.listed().filter(pk=expert.pk).exists()

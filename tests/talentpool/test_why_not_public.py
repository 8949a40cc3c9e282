"""An expert whose profile is not public sees why on "my expert profile",
one plain reason for each condition of the listed rule not met, with the
next step: not verified, no consent, lapsed, hidden by staff (with their
reason)."""

from datetime import timedelta

import pytest

from django.urls import reverse
from django.utils import timezone, translation

from talentpool.models import Expert, ExpertApplication
from tests.factories import UserFactory
from tests.talentpool.helpers import listed_expert, talent_page

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    translation.activate("en")


def profile_page(client, expert) -> str:
    client.force_login(expert.user)
    response = client.get(reverse("expert_applications:profile"))
    assert response.status_code == 200
    return response.content.decode()


def expert_with(**changes) -> Expert:
    """A listed expert with an account, then changed by `changes`."""
    expert = listed_expert(user=UserFactory())
    Expert.objects.filter(pk=expert.pk).update(**changes)
    expert.refresh_from_db()
    return expert


@pytest.fixture
def page(home):
    return talent_page(home)


def test_a_listed_expert_sees_the_public_profile(client, page):
    expert = expert_with()
    html = profile_page(client, expert)
    assert "Your profile is published." in html
    assert "not-public-reasons" not in html


def test_every_reason_is_named_with_its_next_step(client, page):
    expert = expert_with(
        verification_status="unverified",
        verified_at=None,
        publication_consent_at=None,
        lapsed_at=timezone.now() - timedelta(days=3),
        status="suspended",
        status_reason="执业证书已过期",
    )
    html = profile_page(client, expert)
    assert "Your profile is not published now, because:" in html
    for code in ("suspended", "unverified", "no_consent", "lapsed"):
        assert f'data-reason="{code}"' in html
    assert "执业证书已过期" in html  # the reason staff gave
    assert "A reviewer has not verified your profile yet." in html
    assert "You have not given your consent to publication" in html
    assert 'href="#consent"' in html and 'id="consent"' in html
    assert "was not confirmed within a year" in html
    assert 'href="#confirm"' in html and 'id="confirm"' in html
    assert "您的资料目前未公开" not in html


def test_only_the_missing_condition_is_named(client, page):
    expert = expert_with(publication_consent_at=None)
    html = profile_page(client, expert)
    assert 'data-reason="no_consent"' in html
    for code in ("unverified", "lapsed", "suspended", "withdrawn", "review_pending"):
        assert f'data-reason="{code}"' not in html


def test_a_pending_application_and_changes_requested(client, page):
    expert = expert_with(verification_status="unverified", verified_at=None)
    application = ExpertApplication.objects.create(
        applicant=expert.user,
        expert=expert,
        kind=ExpertApplication.Kind.CHANGE,
        data={},
        submitted_at=timezone.now(),
    )
    html = profile_page(client, expert)
    assert 'data-reason="review_pending"' in html
    assert "is waiting for a reviewer" in html

    application.status = ExpertApplication.Status.CHANGES_REQUESTED
    application.reason = "请补充执业证书"
    application.save()
    html = profile_page(client, expert)
    assert 'data-reason="changes_requested"' in html
    assert "请补充执业证书" in html
    assert reverse("expert_applications:status") in html


def test_in_chinese_by_default(client, page):
    expert = expert_with(status="withdrawn")
    translation.activate("zh-hans")
    html = profile_page(client, expert)
    assert 'data-reason="withdrawn"' in html

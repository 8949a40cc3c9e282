"""Subscriptions: a signed-in user opts in to topics (and audience groups)
with an explicit, unticked consent, changes them, and withdraws; the time of
consent is kept. Unsubscribing from an e-mail's link works without signing
in, and a mail client's one-click POST works without a CSRF token."""

import pytest

from django.test import Client
from django.urls import reverse
from django.utils import translation

from portal.models import Audience
from subscriptions import services
from subscriptions.models import AnnouncementDelivery, Subscription
from tests.factories import UserFactory
from tests.subscriptions.factories import (
    AnnouncementFactory,
    SubscriptionFactory,
    topic,
)

pytestmark = pytest.mark.django_db

URL = "/subscriptions/"


def test_the_settings_page_asks_a_visitor_for_an_address_or_to_sign_in(client):
    # Without an account: the sign-up by e-mail address (test_email_signup.py),
    # with a link to sign in; a visitor never sees anyone's choices.
    response = client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="email"' in html
    assert "/accounts/login/?next=/subscriptions/" in html


def test_nothing_is_ticked_for_a_new_user(client):
    client.force_login(UserFactory())
    response = client.get(URL)
    html = response.content.decode()
    assert response.status_code == 200
    assert "通知公告" in html and "政策文件" in html
    assert "checked" not in html
    assert '<label for="id_consent">' in html
    assert "<legend>" in html  # each group of boxes is a fieldset with a name


def test_subscribing_needs_the_consent_box(client):
    user = UserFactory()
    client.force_login(user)
    notices = topic("notices")
    response = client.post(URL, {"topics": [notices.pk]})
    assert response.status_code == 400
    assert "Tick this box" in response.content.decode() or "勾选" in (
        response.content.decode()
    )
    assert not Subscription.objects.exists()


def test_a_user_opts_in_and_the_time_of_consent_is_kept(client):
    user = UserFactory()
    client.force_login(user)
    civil = Audience.objects.first()
    response = client.post(
        URL,
        {
            "topics": [topic("notices").pk, topic("events").pk],
            "audiences": [civil.pk],
            "consent": "on",
        },
        follow=True,
    )
    assert response.status_code == 200
    subscription = Subscription.objects.get(user=user)
    assert subscription.is_active
    assert {t.code for t in subscription.topics.all()} == {"notices", "events"}
    assert list(subscription.audiences.all()) == [civil]
    consented = subscription.consented_at
    assert consented is not None

    # Changing the topics keeps the original consent; no new box to tick.
    page = client.get(URL).content.decode()
    assert 'name="consent"' not in page
    client.post(URL, {"topics": [topic("policies").pk]})
    subscription.refresh_from_db()
    assert [t.code for t in subscription.topics.all()] == ["policies"]
    assert list(subscription.audiences.all()) == []
    assert subscription.consented_at == consented


def test_withdrawing_and_subscribing_again(client):
    subscription = SubscriptionFactory()
    client.force_login(subscription.user)
    first_consent = subscription.consented_at
    client.post(URL, {"withdraw": "1"})
    subscription.refresh_from_db()
    assert not subscription.is_active
    assert subscription.withdrawn_at is not None
    assert not subscription.topics.exists()

    page = client.get(URL).content.decode()
    assert "checked" not in page  # nothing ticked again after withdrawing
    client.post(URL, {"topics": [topic("courses").pk], "consent": "on"})
    subscription.refresh_from_db()
    assert subscription.is_active
    assert subscription.consented_at > first_consent


def test_unticking_every_topic_withdraws(client):
    subscription = SubscriptionFactory()
    client.force_login(subscription.user)
    client.post(URL, {})
    subscription.refresh_from_db()
    assert not subscription.is_active


def test_the_page_in_english(client):
    client.force_login(UserFactory())
    html = client.get("/en/subscriptions/").content.decode()
    assert '<html lang="en"' in html
    assert "Announcements by e-mail" in html
    assert "Policy documents" in html and "Events and training" in html


def test_the_profile_page_links_to_the_settings(client):
    client.force_login(UserFactory())
    assert URL in client.get(reverse("account_profile")).content.decode()


# --- unsubscribing from an e-mail ---------------------------------------------------


def delivery_for(subscription):  # type: ignore[no-untyped-def]
    announcement = AnnouncementFactory()
    return AnnouncementDelivery.objects.create(
        announcement=announcement, user=subscription.user
    )


def test_the_link_asks_before_unsubscribing(client):
    subscription = SubscriptionFactory()
    token = services.unsubscribe_token(user_id=subscription.user.pk)
    response = client.get(reverse("subscriptions:unsubscribe", args=[token]))
    assert response.status_code == 200
    assert subscription.user.email in response.content.decode()
    assert '<button type="submit"' in response.content.decode()
    subscription.refresh_from_db()
    assert subscription.is_active  # a link checker's GET changes nothing


def test_one_click_post_without_csrf_unsubscribes(home):
    subscription = SubscriptionFactory()
    delivery = delivery_for(subscription)
    token = services.unsubscribe_token(
        user_id=subscription.user.pk, delivery_id=delivery.pk
    )
    mail_client = Client(enforce_csrf_checks=True)
    response = mail_client.post(
        reverse("subscriptions:unsubscribe", args=[token]),
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    subscription.refresh_from_db()
    assert not subscription.is_active
    delivery.refresh_from_db()
    assert delivery.unsubscribed_at is not None
    # Again: still unsubscribed, nothing else happens.
    again = mail_client.post(reverse("subscriptions:unsubscribe", args=[token]))
    assert again.status_code == 200


def test_csrf_stays_on_for_the_settings_page():
    user = UserFactory()
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    response = browser.post(URL, {"topics": [topic("notices").pk], "consent": "on"})
    assert response.status_code == 403
    assert not Subscription.objects.exists()


@pytest.mark.parametrize(
    "token",
    ["nonsense", "WzEsbnVsbF0:forged:signature"],
)
def test_a_forged_token_is_refused_and_changes_nothing(client, token):
    subscription = SubscriptionFactory()
    for method in (client.get, client.post):
        response = method(reverse("subscriptions:unsubscribe", args=[token]))
        assert response.status_code == 400
        assert "链接无效" in response.content.decode() or "not valid" in (
            response.content.decode()
        )
    subscription.refresh_from_db()
    assert subscription.is_active


def test_a_token_signed_for_something_else_is_refused(client):
    from django.core import signing

    subscription = SubscriptionFactory()
    token = signing.dumps([subscription.user.pk, None])  # another salt
    response = client.post(reverse("subscriptions:unsubscribe", args=[token]))
    assert response.status_code == 400
    subscription.refresh_from_db()
    assert subscription.is_active


def test_the_unsubscribe_page_in_english(client):
    subscription = SubscriptionFactory()
    token = services.unsubscribe_token(user_id=subscription.user.pk)
    with translation.override("en"):
        url = reverse("subscriptions:unsubscribe", args=[token])
    assert url.startswith("/en/")
    response = client.post(url)
    assert "will receive no more announcements" in response.content.decode()

"""Subscribing without an account (issue 17, part 7): a visitor gives an
e-mail address and chooses topics as signed-in users do; a confirmation
e-mail with a signed, expiring link goes to the address, and nothing else
does until it is followed. Confirming is repeatable; every announcement's
unsubscribe link works for these subscribers too.

The attacker's side: signing up someone else's address sends that address
one confirmation e-mail (at most one an hour, however often it is asked),
changes nothing for an existing subscriber, and the answer does not say
whether the address was subscribed; a forged or expired link is refused
with a clear page; an unconfirmed address never receives an announcement.
"""

import re
import time
from datetime import timedelta
from unittest import mock

import pytest

from django.core import mail, signing
from django.test import Client, TestCase
from django.utils import timezone

from portal.models import Audience, OutgoingEmail
from subscriptions import selectors, services, tasks
from subscriptions.models import (
    Announcement,
    AnnouncementDelivery,
    EmailSubscriber,
    Subscription,
)
from tests.factories import UserFactory
from tests.subscriptions.factories import (
    AnnouncementFactory,
    SubscriptionFactory,
    topic,
)

pytestmark = pytest.mark.django_db

URL = "/subscriptions/"
ADDRESS = "zhang.wei@example.cn"


def sign_up(client, email=ADDRESS, topics=("notices",), consent=True, **extra):  # type: ignore[no-untyped-def]
    """Post the form; the confirmation e-mail is delivered (mail.outbox)."""
    data = {"email": email, "topics": [topic(code).pk for code in topics], **extra}
    if consent:
        data["consent"] = "on"
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(URL, data)


def confirmations(email=ADDRESS):  # type: ignore[no-untyped-def]
    return OutgoingEmail.objects.filter(to=[email]).order_by("pk")


def confirm_path(email=ADDRESS) -> str:
    """The path of the link in the latest confirmation e-mail to `email`."""
    [*_, message] = [m for m in mail.outbox if m.to == [email]]
    match = re.search(
        r"http://testserver(/\S*subscriptions/confirm/\S+/)", message.body
    )
    assert match, message.body
    return match.group(1)


def send(announcement, capture):  # type: ignore[no-untyped-def]
    with capture(execute=True):
        return services.announcement_send(announcement=announcement, by=None)


@pytest.fixture
def visitor():  # type: ignore[no-untyped-def]
    return Client()


# --- the form ----------------------------------------------------------------------


def test_a_visitor_gets_the_sign_up_form_with_the_same_choices(visitor):
    page = visitor.get(URL)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="email"' in html and 'name="consent"' in html
    assert "活动与培训" in html  # a topic
    assert Audience.objects.filter(is_active=True).first().name_zh in html
    assert "/accounts/login/?next=/subscriptions/" in html


@pytest.mark.parametrize(
    "data",
    [
        {"email": "not-an-address", "topics": ["notices"]},
        {"email": ADDRESS, "topics": []},
        {"email": ADDRESS, "topics": ["notices"], "consent": False},
    ],
)
def test_an_incomplete_sign_up_is_refused_and_sends_nothing(visitor, data):
    response = sign_up(visitor, **data)
    assert response.status_code == 400
    assert not OutgoingEmail.objects.exists()
    assert not EmailSubscriber.objects.exists()


def test_garbage_input_is_a_400_not_a_500(visitor):
    response = visitor.post(
        URL, {"email": "a@b.cn", "topics": ["x", "999999"], "audiences": "?"}
    )
    assert response.status_code == 400


# --- double opt-in -----------------------------------------------------------------


def test_sign_up_sends_one_confirmation_and_nothing_else(
    visitor, home, django_capture_on_commit_callbacks
):
    response = sign_up(visitor, email="  Zhang.Wei@Example.CN ", topics=["notices"])
    assert response.status_code == 302
    assert response["Location"] == "/subscriptions/sent/"
    assert visitor.get(response["Location"]).status_code == 200

    subscriber = EmailSubscriber.objects.get()
    assert subscriber.email == ADDRESS  # one spelling per address
    assert subscriber.confirmed_at is None and not subscriber.is_active
    assert not subscriber.topics.exists()  # the choices wait in the link
    [email] = confirmations()
    assert email.sensitive  # the link is a secret: the outbox admin hides it
    path = confirm_path()
    assert "/subscriptions/confirm/" in path
    # The link (a path the request log records) does not carry the address.
    token = path.rstrip("/").rsplit("/", 1)[1]
    value = signing.loads(token, salt=services.CONFIRM_SALT)
    assert ADDRESS not in str(value) and "zhang" not in token.lower()

    # Unconfirmed: an announcement on the topic does not go to it.
    SubscriptionFactory()
    announcement = AnnouncementFactory(topics=[topic("notices")])
    assert send(announcement, django_capture_on_commit_callbacks) == 1
    assert not AnnouncementDelivery.objects.filter(subscriber__isnull=False).exists()
    assert all(m.to != [ADDRESS] for m in mail.outbox if "宣传周" in m.subject)


def test_following_the_link_asks_then_confirms_once(visitor, home):
    civil = Audience.objects.filter(is_active=True).first()
    sign_up(visitor, topics=["notices", "events"], audiences=[civil.pk])
    path = confirm_path()

    # A mail scanner's GET confirms nothing.
    page = visitor.get(path)
    assert page.status_code == 200
    assert ADDRESS in page.content.decode() and "通知公告" in page.content.decode()
    assert not EmailSubscriber.objects.get().is_active

    done = Client().post(path)  # no session needed: the link is the key
    assert done.status_code == 200
    subscriber = EmailSubscriber.objects.get()
    assert subscriber.is_active
    assert {t.code for t in subscriber.topics.all()} == {"notices", "events"}
    assert list(subscriber.audiences.all()) == [civil]
    confirmed_at = subscriber.confirmed_at

    again = Client().post(path)  # repeatable: nothing more happens
    assert again.status_code == 200
    subscriber.refresh_from_db()
    assert subscriber.confirmed_at == confirmed_at
    assert EmailSubscriber.objects.count() == 1
    assert confirmations().count() == 1


def test_a_confirmed_subscriber_receives_announcements_and_unsubscribes(
    visitor, home, django_capture_on_commit_callbacks
):
    sign_up(visitor)
    Client().post(confirm_path())
    user = SubscriptionFactory().user
    announcement = AnnouncementFactory(topics=[topic("notices")])
    assert send(announcement, django_capture_on_commit_callbacks) == 2

    message = next(
        m for m in mail.outbox if m.to == [ADDRESS] and "宣传周" in m.subject
    )
    link = message.extra_headers["List-Unsubscribe"][1:-1]
    assert link in message.body
    path = link.removeprefix("http://testserver")
    asks = Client().get(path)
    assert asks.status_code == 200 and ADDRESS in asks.content.decode()
    # The mail client's one-click POST, without a CSRF token (RFC 8058).
    done = Client(enforce_csrf_checks=True).post(
        path,
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert done.status_code == 200
    subscriber = EmailSubscriber.objects.get()
    assert subscriber.withdrawn_at is not None and not subscriber.topics.exists()
    assert selectors.announcement_report(announcement=announcement).unsubscribed == 1
    assert Client().post(path).status_code == 200  # repeatable

    mail.outbox.clear()
    second = AnnouncementFactory(topics=[topic("notices")])
    assert send(second, django_capture_on_commit_callbacks) == 1
    assert [m.to for m in mail.outbox] == [[user.email]]


def test_the_csv_and_the_failures_name_the_subscribers_address(
    visitor, home, django_capture_on_commit_callbacks
):
    sign_up(visitor)
    Client().post(confirm_path())
    announcement = AnnouncementFactory(topics=[topic("notices")])
    send(announcement, django_capture_on_commit_callbacks)
    delivery = AnnouncementDelivery.objects.get(announcement=announcement)
    assert delivery.address == ADDRESS and delivery.user is None


# --- the attacker ------------------------------------------------------------------


def test_signing_up_someone_else_sends_at_most_one_email_an_hour(visitor, settings):
    settings.PORTAL_SUBSCRIBE_RATE = ""  # the per-address limit alone
    for _ in range(5):
        assert sign_up(Client()).status_code == 302
    assert confirmations().count() == 1

    later = timezone.now() + services.CONFIRM_RESEND_AFTER + timedelta(seconds=1)
    with mock.patch("django.utils.timezone.now", return_value=later):
        sign_up(Client())
        sign_up(Client())
    assert confirmations().count() == 2


def test_the_answer_does_not_say_whether_the_address_is_subscribed(settings, home):
    settings.PORTAL_SUBSCRIBE_RATE = ""
    sign_up(Client(), email="known@example.cn")
    Client().post(confirm_path("known@example.cn"))
    member = UserFactory(email="member@example.cn")
    answers = []
    for email in ["known@example.cn", "member@example.cn", "new@example.cn"]:
        response = sign_up(Client(), email=email)
        page = Client().get(response["Location"])
        answers.append((response.status_code, response["Location"], page.content))
    assert answers[0] == answers[1] == answers[2]
    assert member.email  # (the account exists)


def test_signing_up_a_subscriber_again_changes_nothing_until_confirmed(settings, home):
    settings.PORTAL_SUBSCRIBE_RATE = ""
    sign_up(Client(), topics=["notices", "events"])
    Client().post(confirm_path())
    subscriber = EmailSubscriber.objects.get()
    # Past the per-address limit, the attacker asks for one topic only.
    later = timezone.now() + services.CONFIRM_RESEND_AFTER + timedelta(minutes=1)
    with mock.patch("django.utils.timezone.now", return_value=later):
        sign_up(Client(), topics=["courses"])
    subscriber.refresh_from_db()
    assert subscriber.is_active
    assert {t.code for t in subscriber.topics.all()} == {"notices", "events"}
    # The owner follows the new link: then, and only then, the choice changes.
    Client().post(confirm_path())
    assert {t.code for t in subscriber.topics.all()} == {"courses"}


def test_the_sign_up_is_rate_limited_per_client(settings):
    settings.PORTAL_SUBSCRIBE_RATE = "3/m"
    codes = [
        sign_up(Client(), email=f"victim{n}@example.cn").status_code for n in range(5)
    ]
    assert codes[:3] == [302, 302, 302]
    assert codes[3:] == [429, 429]
    assert OutgoingEmail.objects.count() == 3


@pytest.mark.parametrize(
    "token",
    [
        "nonsense",
        signing.dumps({"s": 1, "c": 0, "t": [1], "a": [], "l": "zh-hans"}),
        signing.dumps(
            {"s": 1, "c": 0, "t": [1], "a": [], "l": "zh-hans"},
            salt=services.UNSUBSCRIBE_SALT,
        ),
    ],
    ids=["damaged", "unsalted", "another-purpose"],
)
def test_a_forged_link_is_refused_and_changes_nothing(visitor, token):
    sign_up(visitor)
    for method in (visitor.get, visitor.post):
        response = method(f"/subscriptions/confirm/{token}/")
        assert response.status_code == 400
        assert "链接无效" in response.content.decode() or "not valid" in (
            response.content.decode()
        )
    assert not EmailSubscriber.objects.get().is_active


def test_an_expired_link_is_refused_with_a_clear_message(visitor):
    past = time.time() - services.CONFIRM_MAX_AGE.total_seconds() - 60
    with mock.patch("time.time", return_value=past):
        sign_up(visitor)
    path = confirm_path()
    response = Client().post(path)
    assert response.status_code == 400
    text = response.content.decode()
    assert "过期" in text or "expired" in text
    assert not EmailSubscriber.objects.get().is_active


def test_a_link_for_a_purged_sign_up_is_refused(visitor):
    sign_up(visitor)
    path = confirm_path()
    EmailSubscriber.objects.all().delete()
    assert Client().post(path).status_code == 400
    assert not EmailSubscriber.objects.exists()


# --- accounts with the same address --------------------------------------------------


def test_confirming_an_accounts_address_sets_the_accounts_subscription(
    visitor, home, django_capture_on_commit_callbacks
):
    user = UserFactory(email="Li.Na@example.cn")
    sign_up(visitor, email="li.na@example.cn", topics=["events"])
    response = Client().post(confirm_path("li.na@example.cn"))
    assert response.status_code == 200
    subscription = Subscription.objects.get(user=user)
    assert subscription.is_active
    assert [t.code for t in subscription.topics.all()] == ["events"]
    # One subscription per address: the row without an account is withdrawn.
    assert not EmailSubscriber.objects.get().is_active
    assert Client().post(confirm_path("li.na@example.cn")).status_code == 200
    assert Subscription.objects.get(user=user).is_active  # repeatable

    announcement = AnnouncementFactory(topics=[topic("events")])
    assert send(announcement, django_capture_on_commit_callbacks) == 1


def test_an_address_that_later_has_an_account_gets_one_email(
    visitor, home, django_capture_on_commit_callbacks
):
    sign_up(visitor)
    Client().post(confirm_path())
    SubscriptionFactory(user=UserFactory(email=ADDRESS.upper()))
    announcement = AnnouncementFactory(topics=[topic("notices")])
    assert send(announcement, django_capture_on_commit_callbacks) == 1
    assert AnnouncementDelivery.objects.get().user is not None


def test_a_signed_in_user_still_gets_the_settings_page(client):
    client.force_login(UserFactory())
    html = client.get(URL).content.decode()
    assert 'name="email"' not in html and 'name="topics"' in html


# --- retention ---------------------------------------------------------------------


def test_unconfirmed_and_withdrawn_subscribers_are_purged_after_a_week(
    home, django_capture_on_commit_callbacks, settings
):
    settings.PORTAL_SUBSCRIBE_RATE = ""
    for email in ["stays@example.cn", "left@example.cn"]:
        sign_up(Client(), email=email)
        Client().post(confirm_path(email))
    sign_up(Client(), email="never@example.cn")
    announcement = AnnouncementFactory(topics=[topic("notices")])
    send(announcement, django_capture_on_commit_callbacks)
    left = EmailSubscriber.objects.get(email="left@example.cn")
    services.email_subscriber_withdraw(subscriber=left)

    assert tasks.purge_email_subscribers() == 0  # not a week yet
    week = timezone.now() + services.EMAIL_SUBSCRIBER_PURGE_AFTER + timedelta(hours=1)
    assert services.email_subscribers_purge(now=week) == 2
    assert list(EmailSubscriber.objects.values_list("email", flat=True)) == [
        "stays@example.cn"
    ]
    # The announcement's record keeps its rows, without the address.
    assert AnnouncementDelivery.objects.filter(announcement=announcement).count() == 2
    assert Announcement.objects.get().recipient_count == 2


def test_the_purge_runs_daily_from_beat(settings):
    tasks_scheduled = {
        entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()
    }
    assert "subscriptions.tasks.purge_email_subscribers" in tasks_scheduled

"""A subscriber's data (PIPL): subscribers without an account are listed in
the admin (address, topics, confirmed or pending, since when; search and
filter); one downloads their record as JSON from the page their e-mail's
signed link opens, and only from it; a signed-in user's "Download my data"
includes the subscriptions made without an account with their verified
address."""

import json

import pytest
from allauth.account.models import EmailAddress

from django.core import mail, signing
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from portal.models import Audience
from subscriptions import services
from subscriptions.models import Announcement, AnnouncementDelivery, EmailSubscriber
from tests.factories import StaffFactory, UserFactory
from tests.subscriptions.factories import AnnouncementFactory, topic

pytestmark = pytest.mark.django_db

ADDRESS = "zhang.wei@example.cn"


def subscriber(
    email: str = ADDRESS,
    *,
    confirmed: bool = True,
    topics: tuple[str, ...] = ("notices", "events"),
) -> EmailSubscriber:
    """A subscriber without an account, as a confirmed (or pending) sign-up
    leaves it."""
    row = EmailSubscriber.objects.create(
        email=email,
        language="zh-hans",
        confirmation_sent_at=timezone.now(),
        confirmed_at=timezone.now() if confirmed else None,
    )
    if confirmed:
        row.topics.set([topic(code) for code in topics])
        row.audiences.set(Audience.objects.filter(is_active=True)[:1])
    return row


def announce(home, capture) -> str:
    """Send an announcement of the notices; the path of the unsubscribe link
    in the e-mail to ADDRESS."""
    announcement = Announcement.objects.get(
        pk=AnnouncementFactory(topics=[topic("notices")]).pk  # type: ignore[attr-defined]
    )
    with capture(execute=True):
        services.announcement_send(announcement=announcement, by=None)
    message = next(m for m in mail.outbox if m.to == [ADDRESS])
    return message.extra_headers["List-Unsubscribe"][1:-1].removeprefix(
        "http://testserver"
    )


def data_path(unsubscribe_path: str) -> str:
    token = unsubscribe_path.rstrip("/").rsplit("/", 1)[1]
    return reverse("subscriptions:data", args=[token])


# --- the subscriber's download ------------------------------------------------------


def test_the_unsubscribe_page_links_the_subscribers_data_as_json(
    home, django_capture_on_commit_callbacks
):
    subscriber()
    path = announce(home, django_capture_on_commit_callbacks)
    page = Client().get(path).content.decode()
    link = data_path(path)
    assert f'href="{link}"' in page
    assert "下载我的数据" in page

    response = Client().get(link)  # no session: the signed link is the key
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert "attachment" in response["Content-Disposition"]
    assert "no-store" in response["Cache-Control"]
    record = json.loads(response.content)["subscriber_without_account"]
    assert record["email"] == ADDRESS
    assert record["state"] == "confirmed"
    assert set(record["topics"]) == {"notices", "events"}
    assert len(record["audiences"]) == 1
    assert record["confirmed_at"]
    (received,) = record["announcements_received"]
    assert "宣传周" in received["announcement__subject"]


def test_after_unsubscribing_the_record_still_downloads_until_purged(
    home, django_capture_on_commit_callbacks
):
    subscriber()
    path = announce(home, django_capture_on_commit_callbacks)
    done = Client().post(path).content.decode()
    assert f'href="{data_path(path)}"' in done
    record = json.loads(Client().get(data_path(path)).content)[
        "subscriber_without_account"
    ]
    assert record["state"] == "withdrawn" and record["topics"] == []
    # Purged: the file says nothing is held any more.
    EmailSubscriber.objects.update(
        withdrawn_at=timezone.now() - services.EMAIL_SUBSCRIBER_PURGE_AFTER * 2
    )
    services.email_subscribers_purge()
    gone = Client().get(data_path(path))
    assert gone.status_code == 200
    assert json.loads(gone.content)["subscriber_without_account"] is None


def test_a_forged_or_guessed_link_gets_nothing(home):
    """Attack: a number or an address in the link, or a token signed for
    another purpose, opens no one's record."""
    mine = subscriber()
    other_delivery = AnnouncementDelivery.objects.create(
        announcement=AnnouncementFactory(), subscriber=mine
    )
    for token in (
        str(mine.pk),
        ADDRESS,
        signing.dumps(["s", mine.pk, other_delivery.pk], salt="other.purpose"),
        signing.dumps(["s", mine.pk, other_delivery.pk], salt="x") + "x",
    ):
        response = Client().get(reverse("subscriptions:data", args=[token]))
        assert response.status_code == 400
        assert not response["Content-Type"].startswith("application/json")
        assert "此退订链接无效" in response.content.decode()
    # Validly signed, but the delivery is not this subscriber's (a number
    # used again after a purge): nothing.
    stranger = subscriber("li@example.cn")
    token = services.unsubscribe_token(
        subscriber_id=stranger.pk, delivery_id=other_delivery.pk
    )
    data = json.loads(Client().get(reverse("subscriptions:data", args=[token])).content)
    assert data["subscriber_without_account"] is None


def test_a_users_link_leads_to_the_accounts_own_download(home):
    user = UserFactory()
    token = services.unsubscribe_token(user_id=user.pk, delivery_id=None)
    page = Client().get(reverse("subscriptions:unsubscribe", args=[token]))
    assert f'href="{reverse("personal_data")}"' in page.content.decode()
    response = Client().get(reverse("subscriptions:data", args=[token]))
    assert response.status_code == 302
    assert response["Location"] == reverse("personal_data")
    # Signed out, that download asks to sign in first.
    assert (
        Client()
        .get(reverse("personal_data"))["Location"]
        .startswith(reverse("account_login"))
    )


def test_the_download_is_rate_limited_per_client(
    home, settings, django_capture_on_commit_callbacks
):
    settings.PORTAL_PERSONAL_DATA_RATE = "2/h"
    subscriber()
    link = data_path(announce(home, django_capture_on_commit_callbacks))
    client = Client()
    for _ in range(2):
        assert client.get(link).status_code == 200
    assert client.get(link).status_code == 429


# --- "Download my data" of a signed-in user -----------------------------------------


def test_a_users_download_includes_subscriptions_made_with_their_verified_address(
    client, home
):
    user = UserFactory(email="Zhang.Wei@example.cn")
    subscriber()
    subscriber("someone.else@example.cn")
    # An address added but not verified proves nothing: not included.
    EmailAddress.objects.create(user=user, email="unverified@example.cn")
    subscriber("unverified@example.cn")
    client.force_login(user)
    data = json.loads(client.get(reverse("personal_data")).content)
    (record,) = data["subscriptions"]["subscriptions_without_account"]
    assert record["email"] == ADDRESS
    assert record["state"] == "confirmed"
    text = json.dumps(data, ensure_ascii=False)
    assert "someone.else@example.cn" not in text
    assert "unverified@example.cn" not in [
        r["email"] for r in data["subscriptions"]["subscriptions_without_account"]
    ]


# --- the admin listing ----------------------------------------------------------------


def test_the_admin_lists_subscribers_without_an_account(client, home):
    subscriber()
    subscriber("pending@example.cn", confirmed=False)
    client.force_login(StaffFactory(is_superuser=True))
    index = reverse("email_subscribers:index")
    html = client.get(index).content.decode()
    assert ADDRESS in html and "pending@example.cn" in html
    assert "通知公告" in html  # the topics, by name
    assert "已确认" in html and "待确认" in html

    found = client.get(index, {"q": "zhang"}).content.decode()
    assert ADDRESS in found and "pending@example.cn" not in found
    pending = client.get(index, {"state": "pending"}).content.decode()
    assert "pending@example.cn" in pending and ADDRESS not in pending
    confirmed = client.get(index, {"state": "confirmed"}).content.decode()
    assert ADDRESS in confirmed and "pending@example.cn" not in confirmed
    inspect = client.get(
        reverse(
            "email_subscribers:inspect",
            args=[EmailSubscriber.objects.get(email=ADDRESS).pk],
        )
    )
    assert inspect.status_code == 200 and ADDRESS in inspect.content.decode()


def test_the_listing_is_read_only_and_needs_the_view_permission(client, home):
    from django.contrib.auth.models import Group, Permission

    row = subscriber()
    staff = StaffFactory(is_superuser=False)
    group = Group.objects.create(name="公告管理")
    group.permissions.add(
        Permission.objects.get(codename="access_admin"),
        Permission.objects.get(codename="view_emailsubscriber"),
    )
    client.force_login(staff)
    index = reverse("email_subscribers:index")
    assert client.get(index).status_code == 302  # no permission yet
    staff.groups.add(group)
    assert ADDRESS in client.get(index).content.decode()
    # Even with every permission given, nothing is written from the admin.
    group.permissions.add(
        Permission.objects.get(codename="change_emailsubscriber"),
        Permission.objects.get(codename="delete_emailsubscriber"),
    )
    edit = client.post(
        reverse("email_subscribers:edit", args=[row.pk]), {"email": "x@example.cn"}
    )
    assert edit.status_code in (302, 403)
    delete = client.post(reverse("email_subscribers:delete", args=[row.pk]))
    assert delete.status_code in (302, 403)
    row.refresh_from_db()
    assert row.email == ADDRESS

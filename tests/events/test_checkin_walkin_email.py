# ruff: noqa: F811 - the fixtures imported from test_checkin are arguments here
"""A walk-in who gives an e-mail address unknown to the portal gets an
account (events.checkin.services.walkin_register) and is told so by e-mail,
once the walk-in is committed: registered and checked in at the event, and
how to set a password to claim the account. In the station's language,
Chinese by default. Nobody else is mailed."""

import pytest

from django.core import mail
from django.db import transaction
from django.urls import reverse
from django.utils import translation

from events.checkin import services
from events.models import Registration
from portal.models import OutgoingEmail, User
from tests.events.test_checkin import (  # noqa: F401 - fixtures
    _during_the_event,
    _english,
    event,
    index,
    organiser,
    register,
    trainee,
)

pytestmark = pytest.mark.django_db

JSON = {"X-Requested-With": "checkin"}


def walkin_post(client, event, **data) -> dict:
    return client.post(
        reverse("events:checkin_walkin", args=[event.pk]), data, headers=JSON
    ).json()


def mails_to(address: str) -> list:
    """The e-mails delivered to `address` (through the outbox, which keeps
    no body once delivered)."""
    assert all(
        e.status == OutgoingEmail.Status.SENT
        for e in OutgoingEmail.objects.all()
        if address in e.to
    )
    return [m for m in mail.outbox if address in m.to]


def test_a_new_walk_in_is_told_in_the_stations_language_how_to_claim_the_account(
    client, home, event, organiser, django_capture_on_commit_callbacks
):
    client.force_login(organiser)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        answer = walkin_post(
            client, event, name="钱七", phone="13800002222", email="QIAN@example.cn"
        )
        # Written only once the walk-in has committed.
        assert not OutgoingEmail.objects.exists()
        assert not mail.outbox
    assert answer["ok"]
    assert len(callbacks) >= 1
    (email,) = mails_to("qian@example.cn")
    assert email.to == ["qian@example.cn"]
    assert "registered and checked in" in email.subject
    assert event.title in email.subject
    assert "钱七" in email.body
    assert event.title in email.body
    assert "qian@example.cn" in email.body
    assert "3.5 training hours" in email.body
    # The station was in English: so is the link to set a password.
    assert "http://testserver" + reverse("account_reset_password") in email.body
    assert reverse("account_reset_password").startswith("/en/")


def test_the_e_mail_is_in_chinese_by_default(
    home, event, organiser, django_capture_on_commit_callbacks
):
    translation.activate("zh-hans")
    with django_capture_on_commit_callbacks(execute=True):
        services.walkin_register(
            event_id=event.pk,
            name="钱七",
            phone="13800002222",
            email="qian@example.cn",
            by=organiser,
        )
    (email,) = mails_to("qian@example.cn")
    assert "已完成现场报名和签到" in email.subject
    assert "设置密码" in email.body
    assert "/en/" not in email.body
    assert User.objects.get(email="qian@example.cn").language == "zh-hans"


def test_a_language_the_site_does_not_have_falls_back_to_chinese(
    home, event, organiser, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.walkin_register(
            event_id=event.pk,
            name="钱七",
            phone="13800002222",
            email="qian@example.cn",
            by=organiser,
            language="fr",
        )
    (email,) = mails_to("qian@example.cn")
    assert "已完成现场报名和签到" in email.subject


def test_an_existing_account_that_walks_in_gets_no_new_account_e_mail(
    home, event, organiser, trainee, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.walkin_register(
            event_id=event.pk,
            name="李堃",
            phone="13800001111",
            email=trainee.email.upper(),
            by=organiser,
        )
    assert Registration.objects.get(walk_in=True).user == trainee
    assert not OutgoingEmail.objects.exists()


def test_a_walk_in_without_an_address_gets_nothing(
    home, event, organiser, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        registration = services.walkin_register(
            event_id=event.pk, name="赵六", phone="13800001111", by=organiser
        )
    assert registration.user.email.endswith("@" + services.WALKIN_DOMAIN)
    assert not OutgoingEmail.objects.exists()


def test_a_refused_or_rolled_back_walk_in_mails_nobody(
    home, event, organiser, trainee, django_capture_on_commit_callbacks
):
    """Attack: a full event, then a walk-in whose transaction is rolled
    back: no account, so no "your account" e-mail."""
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        services.walkin_register(
            event_id=event.pk,
            name="孙八",
            phone="13800003333",
            email="sun@example.cn",
            by=organiser,
        )
        raise RuntimeError("rolled back")
    assert callbacks == []
    assert not User.objects.filter(email="sun@example.cn").exists()
    event.capacity = 1
    event.save()
    register(event, trainee)
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(services.AttendanceRefused),
    ):
        services.walkin_register(
            event_id=event.pk,
            name="孙八",
            phone="13800003333",
            email="sun@example.cn",
            by=organiser,
        )
    assert callbacks == []
    assert not OutgoingEmail.objects.exists()


def test_the_walk_in_can_claim_the_account_by_setting_a_password(
    client, home, event, organiser, django_capture_on_commit_callbacks
):
    """What the e-mail says works: the password-reset page sends the new
    account its link, and the password set there signs in."""
    with django_capture_on_commit_callbacks(execute=True):
        services.walkin_register(
            event_id=event.pk,
            name="钱七",
            phone="13800002222",
            email="qian@example.cn",
            by=organiser,
        )
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("account_reset_password"), {"email": "qian@example.cn"}
        )
    assert response.status_code == 302
    reset = [m for m in mail.outbox if m.to == ["qian@example.cn"]]
    assert len(reset) == 1
    link = next(
        line.strip()
        for line in reset[0].body.splitlines()
        if "/accounts/password/reset/key/" in line
    )
    path = link[link.index("/", len("http://")) :]
    page = client.get(path, follow=True)
    assert page.status_code == 200
    form_path = page.redirect_chain[-1][0] if page.redirect_chain else path
    done = client.post(
        form_path,
        {"password1": "Walk-In-Pass-2027!", "password2": "Walk-In-Pass-2027!"},
    )
    assert done.status_code == 302
    user = User.objects.get(email="qian@example.cn")
    assert user.check_password("Walk-In-Pass-2027!")

"""A hostile learner (or a careless member of staff) and attendance: the
cheapest forged requests that would earn hours or a certificate without
attending, or rewrite the hours ledger. Each must fail and write nothing."""

# ruff: noqa: F811 - the fixtures are imported by name

from decimal import Decimal
from unittest import mock

import pytest

from django.db import transaction
from django.urls import reverse

from wagtail.models import ModelLogEntry

from courses import ledger
from courses.models import CertificateRequest, HoursLedgerEntry
from courses.models.records import LedgerIsAppendOnly
from events.checkin import services
from tests.events.factories import shanghai
from tests.events.test_checkin import register
from tests.events.test_checkin_reversal import (  # noqa: F401 - fixtures
    _during_the_event,
    _english,
    event,
    index,
    organiser,
    trainee,
)
from tests.factories import StaffFactory, UserFactory

pytestmark = pytest.mark.django_db


def nothing_credited() -> bool:
    return (
        not HoursLedgerEntry.objects.exists()
        and not CertificateRequest.objects.exists()
    )


def test_a_learner_posting_their_own_code_checks_nobody_in(client, event, trainee):
    registration = register(event, trainee)
    client.force_login(trainee)
    for url in (
        reverse("events:checkin"),
        reverse("events:checkin_event", args=[event.pk]),
    ):
        response = client.post(url, {"code": registration.code})
        assert response.status_code == 403
        scripted = client.post(
            url, {"code": registration.code}, headers={"X-Requested-With": "checkin"}
        )
        assert scripted.status_code == 403
    registration.refresh_from_db()
    assert registration.checked_in_at is None and nothing_credited()


def test_staff_without_a_second_factor_check_nobody_in(client, event, trainee):
    registration = register(event, trainee)
    client.force_login(StaffFactory(mfa=False))
    response = client.post(
        reverse("events:checkin_event", args=[event.pk]), {"code": registration.code}
    )
    assert response.status_code == 302 and "2fa" in response["Location"]
    registration.refresh_from_db()
    assert registration.checked_in_at is None and nothing_credited()


def test_a_code_scanned_a_week_before_the_event_earns_nothing(
    client, event, organiser, trainee
):
    registration = register(event, trainee)
    client.force_login(organiser)
    with mock.patch(
        "django.utils.timezone.now", return_value=shanghai(2027, 4, 19, 9, 0)
    ):
        answer = client.post(
            reverse("events:checkin_event", args=[event.pk]),
            {"code": registration.code},
            headers={"X-Requested-With": "checkin"},
        ).json()
    assert not answer["ok"] and "opens at" in answer["message"]
    registration.refresh_from_db()
    assert registration.checked_in_at is None and nothing_credited()


def test_a_double_check_in_credits_once(client, event, organiser, trainee):
    registration = register(event, trainee)
    client.force_login(organiser)
    station = reverse("events:checkin_event", args=[event.pk])
    for _attempt in range(3):
        client.post(station, {"code": registration.code})
    assert HoursLedgerEntry.objects.count() == 1
    assert CertificateRequest.objects.count() == 1
    assert ledger.hours_total(trainee) == Decimal("3.5")


def test_a_learner_cannot_reverse_a_check_in(client, event, organiser, trainee):
    """Not even their own (to check in again later, say): "not found"."""
    registration = register(event, trainee)
    services.attendance_record(code=registration.code, event_id=None, by=organiser)
    url = reverse("events:checkin_reverse", args=[registration.pk])
    for who in (trainee, UserFactory()):
        client.force_login(who)
        assert client.get(url).status_code == 404
        assert client.post(url, {"reason": "mine"}).status_code == 404
    client.force_login(StaffFactory(mfa=False))
    response = client.post(url, {"reason": "no second factor"})
    assert response.status_code == 302 and "2fa" in response["Location"]
    registration.refresh_from_db()
    assert registration.checkin_reversed_at is None
    assert ledger.hours_total(trainee) == Decimal("3.5")
    assert not HoursLedgerEntry.objects.filter(kind="reversal").exists()


def test_a_learner_cannot_adjust_their_own_hours(client, trainee):
    client.force_login(trainee)
    response = client.post(
        reverse("courses_ledger:adjust", args=[trainee.pk]),
        {"hours": "100", "reason": "I studied a lot"},
    )
    assert response.status_code == 302
    assert (
        "/accounts/login/" in response["Location"] or "/admin/" in response["Location"]
    )
    assert not HoursLedgerEntry.objects.exists()


def test_an_adjustment_without_a_reason_is_refused(client, trainee):
    client.force_login(StaffFactory())
    url = reverse("courses_ledger:adjust", args=[trainee.pk])
    for reason in ("", "   "):
        response = client.post(url, {"hours": "5", "reason": reason})
        assert response.status_code == 200  # the form again, with the error
    assert not HoursLedgerEntry.objects.exists()
    assert not ModelLogEntry.objects.filter(action=ledger.LOG_ADJUSTED).exists()


def test_a_ledger_row_cannot_be_edited_or_deleted_through_an_admin_or_the_orm(
    client, event, organiser, trainee
):
    registration = register(event, trainee)
    services.attendance_record(code=registration.code, event_id=None, by=organiser)
    entry = HoursLedgerEntry.objects.get()
    client.force_login(StaffFactory())  # a superuser with MFA
    for path in (
        f"/django-admin/courses/hoursledgerentry/{entry.pk}/change/",
        f"/django-admin/courses/hoursledgerentry/{entry.pk}/delete/",
        f"/admin/snippets/courses/hoursledgerentry/edit/{entry.pk}/",
        f"/admin/snippets/courses/hoursledgerentry/delete/{entry.pk}/",
        f"/admin/hours-ledger/entry/{entry.pk}/edit/",
        f"/admin/hours-ledger/entry/{entry.pk}/delete/",
    ):
        response = client.post(path, {"hours": "99", "post": "yes"})
        assert response.status_code == 404, path
    with pytest.raises(LedgerIsAppendOnly):
        HoursLedgerEntry.objects.filter(pk=entry.pk).update(hours=Decimal("99"))
    with pytest.raises(LedgerIsAppendOnly), transaction.atomic():
        HoursLedgerEntry.objects.filter(pk=entry.pk).delete()
    entry.hours = Decimal("99")
    with pytest.raises(LedgerIsAppendOnly):
        entry.save()
    with pytest.raises(LedgerIsAppendOnly):
        entry.delete()
    assert HoursLedgerEntry.objects.get().hours == Decimal("3.5")

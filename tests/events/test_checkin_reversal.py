"""Reversing a check-in scanned by mistake: the registration keeps who, when
and why; the hours get a reversing ledger entry; the certificate is revoked
with the same reason (the learner is e-mailed) or, not issued yet, never
will be; the person may be checked in again."""

from decimal import Decimal
from unittest import mock

import pytest

from django.contrib.auth.models import Group, Permission
from django.urls import reverse
from django.utils import timezone, translation

from wagtail.models import GroupPagePermission, ModelLogEntry

from courses import ledger
from courses.certificates import services as certificate_services
from courses.models import Certificate, CertificateRequest, HoursLedgerEntry
from events.checkin import services
from events.models import Registration
from portal.models import OutgoingEmail
from tests.events.factories import EventIndexPageFactory, EventPageFactory, shanghai
from tests.events.test_checkin import register
from tests.factories import StaffFactory, UserFactory, activate_totp

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(_default_language):  # type: ignore[no-untyped-def]
    translation.activate("en")


@pytest.fixture(autouse=True)
def _during_the_event():  # type: ignore[no-untyped-def]
    """Half an hour into the ``event`` (check-in is open); the clock runs on."""
    real_now = timezone.now
    offset = shanghai(2027, 4, 26, 1, 0) - real_now()
    with mock.patch("django.utils.timezone.now", lambda: real_now() + offset):
        yield


@pytest.fixture
def index(home):  # type: ignore[no-untyped-def]
    return EventIndexPageFactory(parent=home)


@pytest.fixture
def event(index):  # type: ignore[no-untyped-def]
    return EventPageFactory(
        parent=index,
        title="4·26 专利检索实务讲座",
        starts_at=shanghai(2027, 4, 26, 0, 30),
        ends_at=shanghai(2027, 4, 26, 3, 0),
        training_hours=Decimal("3.5"),
        issues_certificate=True,
    )


@pytest.fixture
def organiser(index):  # type: ignore[no-untyped-def]
    """May edit the event pages (what check-in and its reversal ask)."""
    user = UserFactory(real_name="组织者王")
    group = Group.objects.create(name="活动组织者")
    GroupPagePermission.objects.create(
        group=group,
        page=index,
        permission=Permission.objects.get(
            content_type__app_label="wagtailcore", codename="change_page"
        ),
    )
    user.groups.add(group)
    activate_totp(user)
    return user


@pytest.fixture
def trainee():  # type: ignore[no-untyped-def]
    return UserFactory(real_name="李堃", language="zh-hans")


REASON = "扫错了二维码 (wrong code scanned)"


def checked_in(event, trainee, organiser):  # type: ignore[no-untyped-def]
    registration = register(event, trainee)
    services.attendance_record(code=registration.code, event_id=event.pk, by=organiser)
    return registration


def emails_to(user) -> list[OutgoingEmail]:  # type: ignore[no-untyped-def]
    return [e for e in OutgoingEmail.objects.all() if user.email in e.to]


class TestCheckinReverse:
    def test_a_pending_certificate_request_is_cancelled_and_the_hours_reversed(
        self, event, organiser, trainee
    ):
        registration = checked_in(event, trainee, organiser)
        result = services.checkin_reverse(
            registration_id=registration.pk, reason=REASON, by=organiser
        )
        registration.refresh_from_db()
        assert registration.checked_in_at is not None  # what happened stays
        assert registration.checkin_reversed_by == organiser
        assert registration.checkin_reversal_reason == REASON
        assert result.hours_reversed == Decimal("3.5")
        earned = HoursLedgerEntry.objects.get(kind="earned")
        reversal = HoursLedgerEntry.objects.get(kind="reversal")
        assert reversal.reverses == earned and reversal.hours == Decimal("-3.5")
        assert reversal.reason == REASON and reversal.created_by == organiser
        assert reversal.earned_on == earned.earned_on
        assert ledger.hours_total(trainee) == 0
        request = CertificateRequest.objects.get()
        assert request.status == CertificateRequest.Status.CANCELLED
        # Nothing will ever be issued for it: not by a task, nor a bulk run.
        with pytest.raises(certificate_services.CertificateRequestCancelled):
            certificate_services.certificate_issue(request_id=request.pk, render=False)
        assert not certificate_services.source_requests(
            source_type="event", source_key=event.pk
        ).exists()
        assert not Certificate.objects.exists()
        log = ModelLogEntry.objects.get(action=services.LOG_CHECKIN_REVERSED)
        assert log.user_id == organiser.pk and log.object_id == str(registration.pk)
        assert log.message == f"Check-in at {event.title} reversed: {REASON}"
        assert ModelLogEntry.objects.filter(action=ledger.LOG_REVERSED).count() == 1

    def test_an_issued_certificate_is_revoked_with_the_reason_and_the_learner_told(
        self, event, organiser, trainee
    ):
        registration = checked_in(event, trainee, organiser)
        certificate, _ = certificate_services.certificate_issue(
            request_id=CertificateRequest.objects.get().pk, render=False
        )
        before = len(emails_to(trainee))
        result = services.checkin_reverse(
            registration_id=registration.pk, reason=REASON, by=organiser
        )
        certificate.refresh_from_db()
        assert certificate.status == Certificate.Status.REVOKED
        assert certificate.revoked_reason == REASON
        assert result.certificates_revoked == [certificate.serial]
        sent = emails_to(trainee)
        assert len(sent) == before + 1
        assert REASON in sent[-1].body
        assert CertificateRequest.objects.get().status == "issued"

    def test_a_second_reversal_is_refused_saying_when_by_whom_and_why(
        self, event, organiser, trainee
    ):
        registration = checked_in(event, trainee, organiser)
        services.checkin_reverse(
            registration_id=registration.pk, reason=REASON, by=organiser
        )
        with pytest.raises(services.AttendanceRefused) as refused:
            services.checkin_reverse(
                registration_id=registration.pk, reason="again", by=organiser
            )
        assert "already reversed" in refused.value.message
        assert "组织者王" in refused.value.message and REASON in refused.value.message
        assert HoursLedgerEntry.objects.filter(kind="reversal").count() == 1
        assert (
            ModelLogEntry.objects.filter(action=services.LOG_CHECKIN_REVERSED).count()
            == 1
        )

    @pytest.mark.parametrize("reason", ["", "   "])
    def test_a_reason_is_required(self, event, organiser, trainee, reason):
        registration = checked_in(event, trainee, organiser)
        with pytest.raises(services.AttendanceRefused) as refused:
            services.checkin_reverse(
                registration_id=registration.pk, reason=reason, by=organiser
            )
        assert refused.value.message == "Say why the check-in is reversed."
        registration.refresh_from_db()
        assert registration.checkin_reversed_at is None
        assert ledger.hours_total(trainee) == Decimal("3.5")

    def test_a_registration_not_checked_in_has_nothing_to_reverse(
        self, event, organiser, trainee
    ):
        registration = register(event, trainee)
        with pytest.raises(services.AttendanceRefused) as refused:
            services.checkin_reverse(
                registration_id=registration.pk, reason=REASON, by=organiser
            )
        assert "nothing to reverse" in refused.value.message

    def test_checking_in_again_credits_the_next_sequence_and_owes_the_certificate(
        self, event, organiser, trainee
    ):
        registration = checked_in(event, trainee, organiser)
        services.checkin_reverse(
            registration_id=registration.pk, reason=REASON, by=organiser
        )
        again = services.attendance_record(
            code=registration.code, event_id=event.pk, by=organiser
        )
        registration.refresh_from_db()
        assert registration.checkin_reversed_at is None
        assert registration.checkin_reversal_reason == ""
        assert not again.earlier_certificate_revoked
        earned = HoursLedgerEntry.objects.filter(kind="earned").order_by("sequence")
        assert [e.sequence for e in earned] == [1, 2]
        assert ledger.hours_total(trainee) == Decimal("3.5")
        assert CertificateRequest.objects.get().status == "pending"
        # And a third scan is refused as before: one credit at a time.
        with pytest.raises(services.AttendanceRefused):
            services.attendance_record(
                code=registration.code, event_id=event.pk, by=organiser
            )
        assert HoursLedgerEntry.objects.count() == 3
        log = ModelLogEntry.objects.filter(action=services.LOG_CHECKED_IN).latest("pk")
        assert log.message == f"Checked in again at {event.title}"

    def test_checking_in_again_after_a_revoked_certificate_says_it_stays_revoked(
        self, client, event, organiser, trainee
    ):
        registration = checked_in(event, trainee, organiser)
        certificate_services.certificate_issue(
            request_id=CertificateRequest.objects.get().pk, render=False
        )
        services.checkin_reverse(
            registration_id=registration.pk, reason=REASON, by=organiser
        )
        client.force_login(organiser)
        answer = client.post(
            reverse("events:checkin_event", args=[event.pk]),
            {"code": registration.code},
            headers={"X-Requested-With": "checkin"},
        ).json()
        assert answer["ok"]
        assert "stays revoked" in answer["message"]
        assert Certificate.objects.get().status == Certificate.Status.REVOKED

    def test_someone_who_may_not_check_in_may_not_reverse(
        self, event, organiser, trainee
    ):
        registration = checked_in(event, trainee, organiser)
        with pytest.raises(services.AttendanceRefused) as refused:
            services.checkin_reverse(
                registration_id=registration.pk, reason=REASON, by=UserFactory()
            )
        assert "may not reverse" in refused.value.message
        registration.refresh_from_db()
        assert registration.checkin_reversed_at is None
        assert ledger.hours_total(trainee) == Decimal("3.5")


class TestReversalPages:
    def test_the_station_lists_the_check_in_and_the_form_reverses_it(
        self, client, event, organiser, trainee
    ):
        registration = checked_in(event, trainee, organiser)
        client.force_login(organiser)
        station = reverse("events:checkin_event", args=[event.pk])
        url = reverse("events:checkin_reverse", args=[registration.pk])
        page = client.get(station).content.decode()
        assert "Latest check-ins" in page and url in page
        assert "1 of 1 checked in" in page

        form = client.get(url)
        assert form.status_code == 200
        assert (
            "李堃" in form.content.decode() and 'name="reason"' in form.content.decode()
        )
        registration.refresh_from_db()
        assert registration.checkin_reversed_at is None  # never on GET

        empty = client.post(url, {"reason": "  "})
        assert empty.status_code == 200
        assert "Say why the check-in is reversed." in empty.content.decode()

        done = client.post(url, {"reason": REASON})
        assert done.status_code == 302 and done["Location"] == station
        page = client.get(station).content.decode()
        assert (
            f"The check-in of 李堃 at {event.title} is reversed. 3.5 hours taken back. "
            "The certificate will not be issued." in page
        )
        assert "0 of 1 checked in" in page
        registration.refresh_from_db()
        assert registration.checkin_reversal_reason == REASON

        twice = client.post(url, {"reason": "again"})
        assert twice.status_code == 200
        assert "already reversed" in twice.content.decode()
        assert HoursLedgerEntry.objects.filter(kind="reversal").count() == 1

    def test_the_admin_registration_list_shows_the_reversed_state_and_the_action(
        self, client, event, organiser, trainee
    ):
        registration = checked_in(event, trainee, organiser)
        other = checked_in(event, UserFactory(real_name="张三"), organiser)
        services.checkin_reverse(
            registration_id=registration.pk, reason=REASON, by=organiser
        )
        client.force_login(StaffFactory())
        attendees = reverse("events_registration_attendees", args=[event.pk])
        html = client.get(attendees).content.decode()
        assert "签到已于" in html and REASON in html  # "Check-in reversed …: reason"
        back = reverse("events:checkin_reverse", args=[other.pk])
        assert back in html
        assert reverse("events:checkin_reverse", args=[registration.pk]) not in html
        response = client.post(back, {"reason": REASON, "next": attendees})
        assert response["Location"] == attendees
        assert (
            Registration.objects.filter(checkin_reversed_at__isnull=False).count() == 2
        )

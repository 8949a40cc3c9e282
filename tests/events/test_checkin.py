"""Check-in (issue 6, point 3): staff record attendance once, from the code
typed or scanned; attendance becomes hours and a certificate request."""

import datetime
from decimal import Decimal
from unittest import mock

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from wagtail.models import GroupPagePermission, ModelLogEntry

from courses.models import Certificate, CertificateRequest, HoursLedgerEntry
from events.checkin import services
from events.checkin.selectors import code_from_input
from events.models import EventPage, Registration
from tests.events.factories import EventIndexPageFactory, EventPageFactory, shanghai
from tests.factories import StaffFactory, UserFactory, activate_totp

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(_default_language):  # type: ignore[no-untyped-def]
    """The messages are asserted in English (their source text), so these
    tests stay true once the Chinese translations are merged: reverse()
    gives /en/ URLs, and services speak English. The Chinese page is tested
    on its own below."""
    translation.activate("en")


@pytest.fixture(autouse=True)
def _during_the_event():  # type: ignore[no-untyped-def]
    """The server's clock reads half an hour into the ``event`` fixture's
    event (and runs on from there), so its check-ins fall inside the
    check-in window; the window's own tests move the clock themselves."""
    real_now = timezone.now
    offset = shanghai(2027, 4, 26, 1, 0) - real_now()
    with mock.patch("django.utils.timezone.now", lambda: real_now() + offset):
        yield


def register(event, user=None, status=Registration.Status.CONFIRMED):  # type: ignore[no-untyped-def]
    """A registration as the registration part writes it (title and start
    copied in)."""
    return Registration.objects.create(
        event=event,
        event_title=event.title,
        event_starts_at=event.starts_at,
        user=user or UserFactory(),
        status=status,
        confirmed_at=timezone.now() if status == "confirmed" else None,
        waiting_since=timezone.now() if status == "waiting" else None,
        cancelled_at=timezone.now() if status == "cancelled" else None,
    )


def staff_with_mfa(**kwargs):  # type: ignore[no-untyped-def]
    staff = StaffFactory(**kwargs, mfa=False)
    TOTP.activate(staff, generate_totp_secret())
    return staff


@pytest.fixture
def index(home):  # type: ignore[no-untyped-def]
    return EventIndexPageFactory(parent=home)


@pytest.fixture
def event(index):  # type: ignore[no-untyped-def]
    # Half past midnight in Shanghai is still the day before in UTC: the
    # hours must be dated the Shanghai day.
    return EventPageFactory(
        parent=index,
        title="4·26 专利检索实务讲座",
        starts_at=shanghai(2027, 4, 26, 0, 30),
        ends_at=shanghai(2027, 4, 26, 3, 0),
        training_hours=Decimal("3.5"),
        issues_certificate=True,
    )


@pytest.fixture
def other_event(index):  # type: ignore[no-untyped-def]
    return EventPageFactory(parent=index, title="商标保护讲座")


@pytest.fixture
def organiser(index):  # type: ignore[no-untyped-def]
    """Not staff: may edit the event pages (Wagtail page permission), which
    is what lets one check in."""
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


def nothing_recorded(registration):  # type: ignore[no-untyped-def]
    registration.refresh_from_db()
    return (
        registration.checked_in_at is None
        and registration.checked_in_by is None
        and not HoursLedgerEntry.objects.exists()
        and not CertificateRequest.objects.exists()
        and not ModelLogEntry.objects.filter(action=services.LOG_CHECKED_IN).exists()
    )


class TestAttendanceRecord:
    def test_check_in_writes_the_hours_and_a_pending_certificate_request(
        self, event, organiser, trainee
    ):
        registration = register(event, trainee)
        result = services.attendance_record(
            code=registration.code, event_id=event.pk, by=organiser
        )
        registration.refresh_from_db()
        assert result == registration
        assert registration.checked_in_at is not None
        assert registration.checked_in_by == organiser
        entry = HoursLedgerEntry.objects.get()
        assert (entry.user, entry.source_type, entry.source_key) == (
            trainee,
            "event",
            event.pk,
        )
        assert (entry.title, entry.hours) == ("4·26 专利检索实务讲座", Decimal("3.5"))
        assert entry.earned_on == datetime.date(2027, 4, 26)  # Shanghai's day
        request = CertificateRequest.objects.get()
        assert request.status == CertificateRequest.Status.PENDING
        assert (request.user, request.source_type, request.source_key) == (
            trainee,
            "event",
            event.pk,
        )
        assert (request.title, request.hours) == (event.title, Decimal("3.5"))
        assert request.achieved_on == datetime.date(2027, 4, 26)
        log = ModelLogEntry.objects.get(action=services.LOG_CHECKED_IN)
        assert log.user_id == organiser.pk and log.object_id == str(registration.pk)

    def test_a_second_check_in_changes_nothing_and_says_when_and_by_whom(
        self, event, organiser, trainee
    ):
        registration = register(event, trainee)
        services.attendance_record(
            code=registration.code, event_id=event.pk, by=organiser
        )
        registration.refresh_from_db()
        first = registration.checked_in_at
        other_staff = StaffFactory(real_name="另一位工作人员")
        with pytest.raises(services.AttendanceRefused) as refused:
            services.attendance_record(
                code=registration.code, event_id=None, by=other_staff
            )
        when = timezone.localtime(first).strftime("%H:%M")
        assert refused.value.message == (
            f"李堃 was already checked in at {when} by 组织者王."
        )
        registration.refresh_from_db()
        assert registration.checked_in_at == first
        assert registration.checked_in_by == organiser
        assert HoursLedgerEntry.objects.count() == 1
        assert CertificateRequest.objects.count() == 1
        assert ModelLogEntry.objects.filter(action=services.LOG_CHECKED_IN).count() == 1

    @pytest.mark.parametrize(
        ("case", "message"),
        [
            ("wrong", "No registration has this code. Check it and try again."),
            ("empty", "Enter or scan a check-in code."),
            (
                "cancelled",
                "李堃 cancelled this registration for 4·26 专利检索实务讲座.",
            ),
            (
                "waiting",
                "李堃 is on the waiting list for 4·26 专利检索实务讲座 and has no "
                "confirmed place.",
            ),
            (
                "other event",
                "This code is for another event: 4·26 专利检索实务讲座. Check that "
                "you chose the right event.",
            ),
        ],
    )
    def test_a_refused_check_in_says_why_and_records_nothing(
        self, event, other_event, organiser, trainee, case, message
    ):
        status = case if case in ("cancelled", "waiting") else "confirmed"
        registration = register(event, trainee, status=status)
        code = {"wrong": "not-a-code", "empty": "  "}.get(case, registration.code)
        event_id = other_event.pk if case == "other event" else event.pk
        with pytest.raises(services.AttendanceRefused) as refused:
            services.attendance_record(code=code, event_id=event_id, by=organiser)
        assert refused.value.message == message
        assert nothing_recorded(registration)

    def test_the_messages_are_in_the_staff_members_language(
        self, event, organiser, trainee
    ):
        registration = register(event, trainee, status="waiting")
        with (
            translation.override("zh-hans"),
            pytest.raises(services.AttendanceRefused) as refused,
        ):
            services.attendance_record(code="nope", event_id=None, by=organiser)
        assert refused.value.message  # a msgid translated once merged
        assert nothing_recorded(registration)

    def test_someone_who_may_not_edit_the_event_cannot_check_in(self, event, trainee):
        registration = register(event, trainee)
        stranger = UserFactory()
        with pytest.raises(services.AttendanceRefused) as refused:
            services.attendance_record(
                code=registration.code, event_id=None, by=stranger
            )
        assert refused.value.message == (
            "You may not check in the participants of 4·26 专利检索实务讲座."
        )
        assert nothing_recorded(registration)

    def test_an_event_without_hours_or_certificate_records_attendance_only(
        self, index, organiser, trainee
    ):
        talk = EventPageFactory(
            parent=index,
            starts_at=timezone.now(),
            training_hours=0,
            issues_certificate=False,
        )
        registration = register(talk, trainee)
        services.attendance_record(code=registration.code, event_id=None, by=organiser)
        registration.refresh_from_db()
        assert registration.checked_in_at is not None
        assert not HoursLedgerEntry.objects.exists()
        assert not CertificateRequest.objects.exists()

    def test_a_deleted_event_cannot_be_checked_in(self, event, organiser, trainee):
        registration = register(event, trainee)
        Registration.objects.filter(pk=registration.pk).update(event=None)
        with pytest.raises(services.AttendanceRefused) as refused:
            services.attendance_record(
                code=registration.code, event_id=None, by=StaffFactory()
            )
        assert "no longer exists" in refused.value.message
        assert nothing_recorded(registration)


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("AbC-123_xyz", "AbC-123_xyz"),
        ("  AbC-123_xyz\n", "AbC-123_xyz"),
        ("https://ip.example.org/events/check-in/?code=AbC-123_xyz", "AbC-123_xyz"),
        ("/en/events/check-in/?lang=en&code=AbC-123_xyz", "AbC-123_xyz"),
    ],
)
def test_the_code_is_taken_from_a_scanned_link_or_typed(typed, code):
    assert code_from_input(typed) == code


class TestCheckInPage:
    def test_a_scanned_link_fills_in_the_code_and_asks_to_confirm(
        self, client, event, organiser, trainee
    ):
        registration = register(event, trainee)
        client.force_login(organiser)
        url = reverse("events:checkin") + f"?code={registration.code}"
        page = client.get(url)
        html = page.content.decode()
        assert page.status_code == 200
        assert f'value="{registration.code}"' in html
        assert "李堃" in html and "Confirm check-in" in html
        assert nothing_recorded(registration)  # never on GET

        response = client.post(reverse("events:checkin"), {"code": registration.code})
        station = reverse("events:checkin_event", args=[event.pk])
        assert response.status_code == 302 and response["Location"] == station
        page = client.get(station).content.decode()
        assert 'role="status"' in page and 'aria-live="polite"' in page
        assert (
            "李堃 is checked in for 4·26 专利检索实务讲座: 3.5 hours credited." in page
        )
        assert "1 of 1 checked in" in page
        registration.refresh_from_db()
        assert registration.checked_in_by == organiser

    def test_the_station_counts_and_refuses_another_events_code(
        self, client, event, other_event, organiser, trainee
    ):
        register(event)
        register(event, status="waiting")  # not counted: no place
        elsewhere = register(other_event, trainee)
        client.force_login(organiser)
        station = reverse("events:checkin_event", args=[event.pk])
        assert "0 of 1 checked in" in client.get(station).content.decode()
        client.post(station, {"code": elsewhere.code})
        page = client.get(station).content.decode()
        assert "This code is for another event: 商标保护讲座." in page
        assert "checkin__result--refused" in page
        assert nothing_recorded(elsewhere)

    def test_the_scripted_form_gets_the_result_as_json(
        self, client, event, organiser, trainee
    ):
        registration = register(event, trainee)
        client.force_login(organiser)
        station = reverse("events:checkin_event", args=[event.pk])
        scanned = f"http://testserver/events/check-in/?code={registration.code}"
        answer = client.post(
            station, {"code": scanned}, headers={"X-Requested-With": "checkin"}
        ).json()
        assert answer["ok"] and answer["name"] == "李堃" and answer["hours"] == "3.5"
        assert answer["count"]["text"] == "1 of 1 checked in"
        again = client.post(
            station,
            {"code": registration.code},
            headers={"X-Requested-With": "checkin"},
        ).json()
        assert not again["ok"] and "already checked in" in again["message"]
        assert HoursLedgerEntry.objects.count() == 1
        empty = client.post(
            station, {"code": ""}, headers={"X-Requested-With": "checkin"}
        )
        assert empty.status_code == 400
        assert empty.json()["message"] == "Enter or scan a check-in code."

    def test_an_empty_code_is_shown_as_a_field_error(self, client, event, organiser):
        client.force_login(organiser)
        station = reverse("events:checkin_event", args=[event.pk])
        page = client.post(station, {"code": "   "})
        assert page.status_code == 200
        assert "Enter or scan a check-in code." in page.content.decode()

    def test_the_page_works_in_english_and_chinese(
        self, client, event, organiser, trainee
    ):
        registration = register(event, trainee)
        client.force_login(organiser)
        with translation.override("zh-hans"):
            chinese_station = reverse("events:checkin_event", args=[event.pk])
        assert not chinese_station.startswith("/en/")
        chinese = client.get(chinese_station).content.decode()
        assert '<html lang="zh-Hans">' in chinese
        assert "跳到主要内容" in chinese  # the site's chrome, in Chinese
        response = client.post(chinese_station, {"code": registration.code})
        assert response["Location"] == chinese_station
        assert "4·26 专利检索实务讲座" in client.get(chinese_station).content.decode()

        with translation.override("en"):
            english_station = reverse("events:checkin_event", args=[event.pk])
        assert english_station.startswith("/en/")
        english = client.get(english_station).content.decode()
        assert '<html lang="en">' in english and "Check-in" in english
        assert "1 of 1 checked in" in english

    def test_the_event_list_offers_the_organisers_events_in_a_fixed_number_of_queries(
        self, client, index, organiser
    ):
        client.force_login(organiser)
        url = reverse("events:checkin")
        EventPageFactory(parent=index)
        client.get(url)  # caches warmed

        def queries() -> int:
            with CaptureQueriesContext(connection) as context:
                page = client.get(url)
            assert page.status_code == 200
            return len(context)

        one = queries()
        soon = [EventPageFactory(parent=index) for _n in range(5)]
        client.get(url)  # the site's menu cache, renewed after publishing
        assert queries() == one  # not one more per event
        page = client.get(url).content.decode()
        for item in soon:
            assert reverse("events:checkin_event", args=[item.pk]) in page


class TestPermission:
    def test_anonymous_visitors_are_sent_to_sign_in(self, client, event, trainee):
        registration = register(event, trainee)
        response = client.get(reverse("events:checkin") + f"?code={registration.code}")
        assert response.status_code == 302
        assert "/accounts/login/" in response["Location"]
        posted = client.post(reverse("events:checkin"), {"code": registration.code})
        assert posted.status_code == 302
        assert nothing_recorded(registration)

    def test_a_user_who_may_not_edit_events_is_refused_and_records_nothing(
        self, client, event, trainee
    ):
        registration = register(event, trainee)
        client.force_login(trainee)  # even one's own code
        assert client.get(reverse("events:checkin")).status_code == 403
        station = reverse("events:checkin_event", args=[event.pk])
        assert client.get(station).status_code == 403
        for url in (reverse("events:checkin"), station):
            assert client.post(url, {"code": registration.code}).status_code == 403
        assert nothing_recorded(registration)

    def test_staff_without_a_second_factor_set_it_up_first(
        self, client, event, trainee
    ):
        registration = register(event, trainee)
        client.force_login(StaffFactory(mfa=False))
        response = client.post(reverse("events:checkin"), {"code": registration.code})
        assert response.status_code == 302 and "2fa" in response["Location"]
        assert nothing_recorded(registration)

    def test_a_superuser_with_mfa_checks_in_anywhere(self, client, event, trainee):
        registration = register(event, trainee)
        client.force_login(staff_with_mfa())
        response = client.post(reverse("events:checkin"), {"code": registration.code})
        assert response.status_code == 302
        registration.refresh_from_db()
        assert registration.checked_in_at is not None


def test_the_hours_appear_on_my_learning_with_the_event_title(
    client, event, organiser, trainee
):
    registration = register(event, trainee)
    services.attendance_record(code=registration.code, event_id=None, by=organiser)
    client.force_login(trainee)
    page = client.get(reverse("courses:my_learning"))
    html = page.content.decode()
    learning = page.context["learning"]
    assert learning.hours_total == Decimal("3.5")
    assert [(e.title, e.hours) for e in learning.ledger] == [
        ("4·26 专利检索实务讲座", Decimal("3.5"))
    ]
    assert "3.5" in html
    assert "4·26 专利检索实务讲座" in html  # the certificate on its way


class TestAttendanceCertificates:
    def test_the_events_bulk_run_certifies_the_attendees_only(
        self, client, event, organiser, django_capture_on_commit_callbacks
    ):
        came = [register(event, UserFactory(real_name=n)) for n in ("张喆", "王玥")]
        stayed_away = register(event, UserFactory(real_name="赵龑"))
        for registration in came:
            services.attendance_record(
                code=registration.code, event_id=event.pk, by=organiser
            )
        manager = staff_with_mfa()
        client.force_login(manager)
        # The event's page in the admin links to its check-in and its run.
        edit = client.get(reverse("wagtailadmin_pages:edit", args=[event.pk]))
        html = edit.content.decode()
        assert reverse("events:checkin_event", args=[event.pk]) in html
        run = reverse("certificate_batches:add") + f"?source=event%3A{event.pk}"
        assert run in html.replace("&amp;", "&")

        confirm = client.get(run)
        assert confirm.context["to_issue"] == 2
        with django_capture_on_commit_callbacks(execute=True):
            client.post(
                reverse("certificate_batches:add"),
                {"source": f"event:{event.pk}", "confirm": "1"},
            )
        certificates = Certificate.objects.order_by("learner_name")
        assert [(c.learner_name, c.title, c.hours) for c in certificates] == [
            ("张喆", event.title, Decimal("3.5")),
            ("王玥", event.title, Decimal("3.5")),
        ]
        assert not Certificate.objects.filter(user=stayed_away.user).exists()
        with django_capture_on_commit_callbacks(execute=True):
            client.post(
                reverse("certificate_batches:add"),
                {"source": f"event:{event.pk}", "confirm": "1"},
            )
        assert Certificate.objects.count() == 2  # run again: nothing twice

    def test_a_check_in_is_in_the_registrations_history(
        self, event, organiser, trainee
    ):
        registration = register(event, trainee)
        services.attendance_record(code=registration.code, event_id=None, by=organiser)
        entry = ModelLogEntry.objects.get(action=services.LOG_CHECKED_IN)
        assert entry.message == "Checked in at 4·26 专利检索实务讲座"


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="Only PostgreSQL runs the two check-ins side by side with row locks.",
)
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_staff_scanning_the_same_code_at_once_record_it_once(
    event, organiser, trainee
):
    import threading

    registration = register(event, trainee)
    second = StaffFactory(real_name="另一位工作人员")
    start = threading.Barrier(8)
    outcomes: list[str] = []

    def scan(by) -> None:  # type: ignore[no-untyped-def]
        translation.activate("en")  # each thread has its own language
        try:
            start.wait(timeout=30)
            services.attendance_record(code=registration.code, event_id=None, by=by)
            outcomes.append("recorded")
        except services.AttendanceRefused as refused:
            outcomes.append(refused.message)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=scan, args=(organiser if n % 2 else second,))
        for n in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert outcomes.count("recorded") == 1
    assert all("already checked in" in o for o in outcomes if o != "recorded")
    assert HoursLedgerEntry.objects.count() == 1
    assert CertificateRequest.objects.count() == 1
    assert ModelLogEntry.objects.filter(action=services.LOG_CHECKED_IN).count() == 1


class TestCheckInWindow:
    """Attendance is accepted only from ``checkin_opens_before`` minutes
    before the start to the end (both included): a code scanned days early
    or after the event earns nothing."""

    @pytest.fixture
    def seminar(self, index):  # type: ignore[no-untyped-def]
        return EventPageFactory(
            parent=index,
            title="专利运营研修班",
            starts_at=shanghai(2027, 5, 10, 9, 0),
            ends_at=shanghai(2027, 5, 10, 11, 0),
            training_hours=Decimal("2.0"),
            issues_certificate=True,
        )

    @staticmethod
    def at(moment: datetime.datetime):  # type: ignore[no-untyped-def]
        return mock.patch("django.utils.timezone.now", return_value=moment)

    def check_in(self, registration, by):  # type: ignore[no-untyped-def]
        return services.attendance_record(
            code=registration.code, event_id=registration.event_id, by=by
        )

    def test_ten_days_early_is_refused_saying_when_it_opens(
        self, seminar, organiser, trainee
    ):
        registration = register(seminar, trainee)
        with (
            self.at(shanghai(2027, 4, 30, 9, 0)),
            pytest.raises(services.AttendanceRefused) as refused,
        ):
            self.check_in(registration, organiser)
        assert refused.value.message == (
            "Check-in for 专利运营研修班 opens at 10 May 2027 08:00."
        )
        assert nothing_recorded(registration)
        assert registration.status == Registration.Status.CONFIRMED

    def test_the_refusal_is_in_the_staff_members_language(
        self, seminar, organiser, trainee
    ):
        registration = register(seminar, trainee)
        with (
            self.at(shanghai(2027, 4, 30, 9, 0)),
            translation.override("zh-hans"),
            pytest.raises(services.AttendanceRefused) as refused,
        ):
            self.check_in(registration, organiser)
        assert refused.value.message == (
            "专利运营研修班 的签到将于 2027年5月10日 08:00 开始。"
        )
        assert nothing_recorded(registration)

    def test_an_hour_after_the_end_is_refused_saying_it_has_ended(
        self, seminar, organiser, trainee
    ):
        registration = register(seminar, trainee)
        with (
            self.at(shanghai(2027, 5, 10, 12, 0)),
            pytest.raises(services.AttendanceRefused) as refused,
        ):
            self.check_in(registration, organiser)
        assert refused.value.message == (
            "专利运营研修班 ended at 10 May 2027 11:00: check-in is closed."
        )
        assert nothing_recorded(registration)

    @pytest.mark.parametrize(
        "moment",
        [
            shanghai(2027, 5, 10, 8, 0),  # the start less 60 minutes
            shanghai(2027, 5, 10, 11, 0),  # the end
        ],
        ids=["opening", "end"],
    )
    def test_just_inside_both_bounds_is_accepted(
        self, seminar, organiser, trainee, moment
    ):
        registration = register(seminar, trainee)
        with self.at(moment):
            self.check_in(registration, organiser)
        registration.refresh_from_db()
        assert registration.checked_in_at == moment
        assert HoursLedgerEntry.objects.get().hours == Decimal("2.0")
        assert CertificateRequest.objects.count() == 1

    @pytest.mark.parametrize(
        "moment",
        [
            shanghai(2027, 5, 10, 7, 59, 59),
            shanghai(2027, 5, 10, 11, 0, 1),
        ],
        ids=["a second early", "a second late"],
    )
    def test_just_outside_both_bounds_is_refused(
        self, seminar, organiser, trainee, moment
    ):
        registration = register(seminar, trainee)
        with self.at(moment), pytest.raises(services.AttendanceRefused):
            self.check_in(registration, organiser)
        assert nothing_recorded(registration)

    def test_the_window_follows_the_events_own_setting(
        self, seminar, organiser, trainee
    ):
        seminar.checkin_opens_before = 0
        seminar.save()
        registration = register(seminar, trainee)
        with (
            self.at(shanghai(2027, 5, 10, 8, 59)),
            pytest.raises(services.AttendanceRefused) as refused,
        ):
            self.check_in(registration, organiser)
        assert "opens at 10 May 2027 09:00" in refused.value.message
        assert nothing_recorded(registration)

        seminar.checkin_opens_before = 180
        seminar.save()
        with self.at(shanghai(2027, 5, 10, 6, 0)):
            self.check_in(registration, organiser)
        registration.refresh_from_db()
        assert registration.checked_in_at is not None

    @pytest.mark.parametrize(
        ("moment", "message"),
        [
            (
                shanghai(2027, 4, 30, 9, 0),
                "Check-in for 专利运营研修班 opens at 10 May 2027 08:00.",
            ),
            (
                shanghai(2027, 5, 10, 12, 0),
                "专利运营研修班 ended at 10 May 2027 11:00: check-in is closed.",
            ),
        ],
        ids=["ten days early", "an hour late"],
    )
    def test_the_page_refuses_outside_the_window_and_records_nothing(
        self, client, seminar, organiser, trainee, moment, message
    ):
        registration = register(seminar, trainee)
        client.force_login(organiser)
        station = reverse("events:checkin_event", args=[seminar.pk])
        with self.at(moment):
            # The scripted form (JSON) and the plain form (post/redirect/get).
            answer = client.post(
                station,
                {"code": registration.code},
                headers={"X-Requested-With": "checkin"},
            ).json()
            assert answer == {
                "ok": False,
                "message": message,
                "count": {
                    "checked_in": 0,
                    "confirmed": 1,
                    "text": "0 of 1 checked in",
                },
            }
            # At the station, and from a scanned link on the general page.
            for url in (station, reverse("events:checkin")):
                response = client.post(url, {"code": registration.code})
                assert response["Location"] == url
                page = client.get(url).content.decode()
                assert message in page and "checkin__result--refused" in page
        assert nothing_recorded(registration)

    @pytest.mark.parametrize(
        ("moment", "state"),
        [
            (
                shanghai(2027, 4, 30, 9, 0),
                "Check-in is not open yet: it opens at 10 May 2027 08:00.",
            ),
            (shanghai(2027, 5, 10, 8, 0), "Check-in is open until 10 May 2027 11:00."),
            (
                shanghai(2027, 5, 10, 12, 0),
                "Check-in closed at 10 May 2027 11:00, when the event ended.",
            ),
        ],
        ids=["before", "open", "ended"],
    )
    def test_the_station_says_whether_check_in_is_open(
        self, client, seminar, organiser, moment, state
    ):
        client.force_login(organiser)
        with self.at(moment):
            page = client.get(reverse("events:checkin_event", args=[seminar.pk]))
        assert state in page.content.decode()

    def test_the_station_says_it_in_chinese(self, client, seminar, organiser):
        client.force_login(organiser)
        with translation.override("zh-hans"):
            station = reverse("events:checkin_event", args=[seminar.pk])
        with self.at(shanghai(2027, 4, 30, 9, 0)):
            page = client.get(station).content.decode()
        assert "签到尚未开始，将于 2027年5月10日 08:00 开始。" in page

    def test_the_setting_is_edited_next_to_the_times_and_bounded(self, client, seminar):
        client.force_login(staff_with_mfa())
        edit = client.get(reverse("wagtailadmin_pages:edit", args=[seminar.pk]))
        html = edit.content.decode()
        assert 'name="checkin_opens_before"' in html
        assert html.index('name="ends_at"') < html.index('name="checkin_opens_before"')
        assert html.index('name="checkin_opens_before"') < html.index('name="venue"')
        assert seminar.checkin_opens_before == 60  # by default, an hour
        for minutes in (-1, 24 * 60 + 1):
            seminar.checkin_opens_before = minutes
            with pytest.raises(ValidationError) as invalid:
                seminar.full_clean()
            assert "checkin_opens_before" in invalid.value.message_dict
            with transaction.atomic(), pytest.raises(IntegrityError):
                EventPage.objects.filter(pk=seminar.pk).update(
                    checkin_opens_before=minutes
                )
        seminar.checkin_opens_before = 24 * 60
        seminar.full_clean()

# ruff: noqa: F811 - the fixtures imported from test_checkin are arguments here
"""Check-in at the door (issue 17, part 1): short codes read forgivingly,
old codes still accepted, a queued scan counted once at its scan time, the
search by name or phone, walk-ins within the places, and the attacks on
each."""

import datetime
from decimal import Decimal

import pytest

from django.contrib.auth.models import Group, Permission
from django.db import IntegrityError, connection, transaction
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from wagtail.models import GroupPagePermission, ModelLogEntry

from courses.models import CertificateRequest, HoursLedgerEntry
from events.checkin import services
from events.checkin.codes import (
    ALPHABET,
    code_display,
    code_new,
    code_normalise,
)
from events.models import EventPage, Registration
from portal.models import User
from tests.events.factories import EventIndexPageFactory, EventPageFactory
from tests.events.test_checkin import (  # noqa: F401 - fixtures
    _during_the_event,
    _english,
    event,
    index,
    organiser,
    other_event,
    register,
    trainee,
)
from tests.factories import UserFactory, activate_totp

pytestmark = pytest.mark.django_db

JSON = {"X-Requested-With": "checkin"}


def station(event):  # type: ignore[no-untyped-def]
    return reverse("events:checkin_event", args=[event.pk])


def registered(event, user=None, *, code="K1QM0XPA", phone=""):  # type: ignore[no-untyped-def]
    registration = register(event, user)
    Registration.objects.filter(pk=registration.pk).update(code=code, phone=phone)
    registration.refresh_from_db()
    return registration


def with_legacy(registration, legacy):  # type: ignore[no-untyped-def]
    Registration.objects.filter(pk=registration.pk).update(legacy_code=legacy)
    registration.refresh_from_db()
    return registration


def attendances():  # type: ignore[no-untyped-def]
    return (
        Registration.objects.filter(checked_in_at__isnull=False).count(),
        HoursLedgerEntry.objects.count(),
        ModelLogEntry.objects.filter(action=services.LOG_CHECKED_IN).count(),
    )


# --- codes ------------------------------------------------------------------------


class TestCodes:
    def test_new_codes_are_eight_crockford_characters_shown_in_two_groups(self):
        codes = {code_new() for _ in range(200)}
        assert len(codes) == 200
        for code in codes:
            assert len(code) == 8 and set(code) <= set(ALPHABET)
            assert not set(code) & set("ILOU")
        assert code_display("K7QM3XPA") == "K7QM-3XPA"

    @pytest.mark.parametrize(
        "typed",
        ["K1QM0XPA", "k1qm0xpa", "K1QM-0XPA", "k-lqm oxpa", "KIQM-OXPA", " k1qm 0xpa "],
    )
    def test_reading_folds_case_look_alikes_and_separators(self, typed):
        assert code_normalise(typed) == "K1QM0XPA"

    @pytest.mark.parametrize("typed", ["K1QM0XP", "K1QM0XPAA", "K1QM0XPU", "K1QM*XPA"])
    def test_anything_else_is_no_short_code(self, typed):
        assert code_normalise(typed) is None

    def test_the_database_keeps_codes_in_their_stored_form(self, event, trainee):
        registration = register(event, trainee)
        assert len(registration.code) == 8
        with pytest.raises(IntegrityError), transaction.atomic():
            Registration.objects.filter(pk=registration.pk).update(code="k1qm0xpa")
        other = register(event)
        with pytest.raises(IntegrityError), transaction.atomic():
            Registration.objects.filter(pk=other.pk).update(code=registration.code)

    def test_a_code_read_aloud_in_lower_case_checks_the_person_in(
        self, event, organiser, trainee
    ):
        registration = registered(event, trainee, code="K1QM0XPA")
        services.attendance_record(code="k-lqm oxpa", event_id=event.pk, by=organiser)
        registration.refresh_from_db()
        assert registration.checked_in_by == organiser

    def test_the_registrants_page_email_and_qr_show_the_grouped_code(
        self, client, event, trainee
    ):
        from events.registration.qr import registration_checkin_url

        registration = registered(event, trainee, code="K7QM3XPA")
        client.force_login(trainee)
        page = client.get(
            reverse("events:registration_detail", args=[registration.code])
        ).content.decode()
        assert "K7QM-3XPA" in page
        text = render_to_string(
            "events/registration/email/_checkin.txt",
            {"registration": registration, "registration_url": "x"},
        )
        assert "K7QM-3XPA" in text  # the part of every e-mail with a place
        assert registration_checkin_url(registration).endswith("?code=K7QM-3XPA")
        # The grouped, lower-case form opens the page too.
        assert (
            client.get(
                reverse("events:registration_detail", args=["k7qm-3xpa"])
            ).status_code
            == 200
        )


class TestOldCodes:
    LEGACY = "AbCdEfGhIjKlMnOpQrSt"

    def test_an_old_long_code_is_still_accepted_exactly(
        self, client, event, organiser, trainee
    ):
        registration = with_legacy(registered(event, trainee), self.LEGACY)
        client.force_login(trainee)
        page = client.get(reverse("events:registration_detail", args=[self.LEGACY]))
        assert page.status_code == 200  # the link in an earlier e-mail
        services.attendance_record(code=self.LEGACY, event_id=event.pk, by=organiser)
        registration.refresh_from_db()
        assert registration.checked_in_at is not None

    def test_another_persons_old_code_in_other_case_is_not_this_person(
        self, event, organiser, trainee
    ):
        """Attack: two old codes that differ only in case belong to two
        people; the lower-case one must never check in the other."""
        first = with_legacy(registered(event, trainee, code="AAAA1111"), self.LEGACY)
        second = with_legacy(registered(event, code="BBBB2222"), self.LEGACY.lower())
        services.attendance_record(
            code=self.LEGACY.lower(), event_id=event.pk, by=organiser
        )
        first.refresh_from_db()
        second.refresh_from_db()
        assert second.checked_in_at is not None
        assert first.checked_in_at is None

    def test_an_old_code_in_another_case_alone_is_refused(
        self, event, organiser, trainee
    ):
        registration = with_legacy(registered(event, trainee), self.LEGACY)
        with pytest.raises(services.AttendanceRefused):
            services.attendance_record(
                code=self.LEGACY.upper(), event_id=event.pk, by=organiser
            )
        registration.refresh_from_db()
        assert registration.checked_in_at is None


# --- attacks on who may check in ----------------------------------------------------


@pytest.fixture
def other_organiser(home):  # type: ignore[no-untyped-def]
    """May edit the events of another index only."""
    other_index = EventIndexPageFactory(parent=home, title="别的活动", slug="elsewhere")
    user = UserFactory(real_name="别处组织者")
    group = Group.objects.create(name="别处组织者")
    GroupPagePermission.objects.create(
        group=group,
        page=other_index,
        permission=Permission.objects.get(
            content_type__app_label="wagtailcore", codename="change_page"
        ),
    )
    user.groups.add(group)
    activate_totp(user)
    user.own_event = EventPageFactory(parent=other_index, title="别处讲座")
    return user


class TestAttacks:
    def test_a_non_staff_user_guessing_codes_gets_nothing(self, client, event, trainee):
        target = registered(event, code="K1QM0XPA")
        client.force_login(trainee)
        for url in (reverse("events:checkin"), station(event)):
            for guess in ("K1QM0XPA", "k1qm-0xpa", "K1QM0XPB"):
                response = client.post(url, {"code": guess}, headers=JSON)
                assert response.status_code == 403
                assert "K1QM" not in response.content.decode()
        shown = client.get(reverse("events:checkin") + "?code=K1QM0XPA")
        assert shown.status_code == 403
        walkin = client.post(
            reverse("events:checkin_walkin", args=[event.pk]),
            {"name": "假冒", "phone": "13800000000"},
        )
        assert walkin.status_code == 403
        search = client.get(station(event) + "?q=a", headers=JSON)
        assert search.status_code == 403
        target.refresh_from_db()
        assert target.checked_in_at is None
        assert attendances() == (0, 0, 0)

    def test_the_registration_page_of_another_code_is_not_found(
        self, client, event, trainee
    ):
        registered(event, code="K1QM0XPA")  # someone else's
        client.force_login(trainee)
        url = reverse("events:registration_detail", args=["K1QM0XPA"])
        assert client.get(url).status_code == 404

    def test_staff_of_another_event_cannot_check_in_here(
        self, client, event, trainee, other_organiser
    ):
        registration = registered(event, trainee, code="K1QM0XPA", phone="13812345678")
        client.force_login(other_organiser)
        # At their own station: the code reads as unknown (not even the event).
        own = station(other_organiser.own_event)
        answer = client.post(own, {"code": "K1QM0XPA"}, headers=JSON).json()
        assert not answer["ok"]
        assert answer["message"] == (
            "No registration has this code. Check it and try again."
        )
        assert event.title not in answer["message"]
        # By the registration's id, picked "by name" at their own station.
        answer = client.post(own, {"registration": registration.pk}, headers=JSON)
        assert not answer.json()["ok"]
        # Without an event: refused.
        with pytest.raises(services.AttendanceRefused):
            services.attendance_record(
                code="K1QM0XPA", event_id=None, by=other_organiser
            )
        # This event's station, search and walk-in: forbidden.
        assert client.post(station(event), {"code": "K1QM0XPA"}).status_code == 403
        assert client.get(station(event) + "?q=138", headers=JSON).status_code == 403
        assert (
            client.post(
                reverse("events:checkin_walkin", args=[event.pk]),
                {"name": "张三", "phone": "13800000000"},
            ).status_code
            == 403
        )
        with pytest.raises(services.AttendanceRefused):
            services.walkin_register(
                event_id=event.pk, name="张三", phone="13800000000", by=other_organiser
            )
        registration.refresh_from_db()
        assert registration.checked_in_at is None
        assert attendances() == (0, 0, 0)
        assert Registration.objects.filter(walk_in=True).count() == 0


# --- the queue: a scan made offline, sent later, counted once ----------------------


class TestQueuedScans:
    def test_a_queued_scan_counts_at_its_scan_time_and_once_when_replayed(
        self, client, event, organiser, trainee
    ):
        registration = registered(event, trainee, code="K1QM0XPA")
        client.force_login(organiser)
        scanned = (timezone.now() - datetime.timedelta(minutes=1)).replace(
            microsecond=0
        )
        first = client.post(
            station(event),
            {"code": "K1QM-0XPA", "scanned_at": scanned.isoformat()},
            headers=JSON,
        ).json()
        assert first["ok"]
        registration.refresh_from_db()
        assert registration.checked_in_at == scanned
        # The phone did not hear the answer and sends the same scan again.
        for _ in range(3):
            again = client.post(
                station(event),
                {"code": "k1qm0xpa", "scanned_at": scanned.isoformat()},
                headers=JSON,
            ).json()
            assert not again["ok"] and again["already"] is True
            assert "already checked in" in again["message"]
        assert attendances() == (1, 1, 1)
        assert CertificateRequest.objects.count() == 1

    def test_a_phone_with_a_wrong_clock_dates_its_queued_scan_by_the_wait(
        self, client, event, organiser, trainee
    ):
        registration = registered(event, trainee, code="K1QM0XPA")
        client.force_login(organiser)
        phone_clock = datetime.datetime(2020, 1, 1, 8, 50, tzinfo=datetime.UTC)
        answer = client.post(
            station(event),
            {
                "code": "K1QM0XPA",
                "scanned_at": phone_clock.isoformat(),
                "sent_at": (phone_clock + datetime.timedelta(seconds=90)).isoformat(),
            },
            headers=JSON,
        ).json()
        assert answer["ok"]
        registration.refresh_from_db()
        waited = timezone.now() - registration.checked_in_at
        assert datetime.timedelta(seconds=89) < waited < datetime.timedelta(seconds=95)

    def test_a_scan_time_in_the_future_or_long_ago_is_refused(
        self, event, organiser, trainee
    ):
        registered(event, trainee, code="K1QM0XPA")
        for when in (
            timezone.now() + datetime.timedelta(hours=1),
            timezone.now() - datetime.timedelta(days=1),
        ):
            with pytest.raises(services.AttendanceRefused):
                services.attendance_record(
                    code="K1QM0XPA", event_id=event.pk, by=organiser, scanned_at=when
                )
        assert attendances() == (0, 0, 0)

    def test_a_scan_queued_before_the_window_opened_is_refused(
        self, event, organiser, trainee
    ):
        registered(event, trainee, code="K1QM0XPA")
        before = event.starts_at - datetime.timedelta(
            minutes=event.checkin_opens_before + 1
        )
        # The clock (_during_the_event) is half an hour into the event: a
        # scan from before the window is not yet too old to be accepted.
        assert before > timezone.now() - services.QUEUED_SCAN_MAX_AGE
        with pytest.raises(services.AttendanceRefused) as refused:
            services.attendance_record(
                code="K1QM0XPA", event_id=event.pk, by=organiser, scanned_at=before
            )
        assert "opens at" in refused.value.message
        assert attendances() == (0, 0, 0)


# --- search by name or phone, then pick and confirm -------------------------------


class TestSearch:
    def test_staff_find_a_registrant_by_name_or_phone_and_confirm(
        self, client, event, other_event, organiser, trainee
    ):
        mine = registered(event, trainee, code="K1QM0XPA", phone="13812345678")
        registered(event, UserFactory(real_name="王五"), code="K1QM0XPB")
        registered(other_event, UserFactory(real_name="李堃二"), code="K1QM0XPC")
        client.force_login(organiser)
        by_name = client.get(station(event) + "?q=李", headers=JSON).json()["results"]
        assert [r["name"] for r in by_name] == ["李堃"]  # not the other event's
        assert by_name[0]["phone"].endswith("5678")
        assert "13812345678" not in str(by_name)
        by_phone = client.get(station(event) + "?q=5678", headers=JSON).json()
        assert [r["id"] for r in by_phone["results"]] == [mine.pk]
        # Without script: the results, then the chosen one to confirm.
        page = client.get(station(event) + "?q=李").content.decode()
        assert f"?pick={mine.pk}" in page
        confirm = client.get(station(event) + f"?pick={mine.pk}").content.decode()
        assert "Confirm check-in" in confirm and "李堃" in confirm
        assert attendances() == (0, 0, 0)  # nothing on GET
        response = client.post(station(event), {"registration": mine.pk})
        assert response.status_code == 302
        mine.refresh_from_db()
        assert mine.checked_in_by == organiser
        assert attendances() == (1, 1, 1)

    def test_the_search_costs_the_same_queries_for_many_registrants(
        self, client, event, organiser
    ):
        client.force_login(organiser)
        for n in range(3):
            registered(event, UserFactory(real_name=f"张{n}"), code=f"K1QM0X{n}A")
        client.get(station(event) + "?q=张", headers=JSON)  # warm the session
        with CaptureQueriesContext(connection) as few:
            client.get(station(event) + "?q=张", headers=JSON)
        for n in range(3, 15):
            registered(event, UserFactory(real_name=f"张{n}"), code=f"K1QM{n:02d}XA")
        with CaptureQueriesContext(connection) as many:
            results = client.get(station(event) + "?q=张", headers=JSON).json()
        assert len(results["results"]) == 15
        assert len(many) == len(few)


# --- walk-ins ---------------------------------------------------------------------


class TestWalkIns:
    def walkin(self, client, event, **data):  # type: ignore[no-untyped-def]
        return client.post(
            reverse("events:checkin_walkin", args=[event.pk]), data, headers=JSON
        ).json()

    def test_a_walk_in_without_email_is_registered_and_checked_in_at_once(
        self, client, event, organiser
    ):
        client.force_login(organiser)
        answer = self.walkin(client, event, name=" 赵 六 ", phone="138-0000-1111")
        assert answer["ok"] and answer["walk_in"]
        registration = Registration.objects.get(walk_in=True)
        assert registration.status == "confirmed"
        assert registration.checked_in_by == organiser
        assert registration.phone == "13800001111"
        user = registration.user
        assert user.real_name == "赵 六"
        assert not user.is_active and not user.has_usable_password()
        assert user.email.endswith("@" + services.WALKIN_DOMAIN)
        entry = HoursLedgerEntry.objects.get()
        assert (entry.user, entry.hours) == (user, Decimal("3.5"))
        assert answer["count"]["text"] == "1 of 1 checked in"

    def test_a_walk_in_with_a_known_email_joins_that_account(
        self, client, event, organiser, trainee
    ):
        client.force_login(organiser)
        answer = self.walkin(
            client, event, name="李堃", phone="13800001111", email=trainee.email.upper()
        )
        assert answer["ok"]
        registration = Registration.objects.get(walk_in=True)
        assert registration.user == trainee
        assert HoursLedgerEntry.objects.get().user == trainee
        # Twice: already checked in, nothing more.
        again = self.walkin(
            client, event, name="李堃", phone="13800001111", email=trainee.email
        )
        assert not again["ok"] and "already checked in" in again["message"]
        assert attendances() == (1, 1, 1)

    def test_a_walk_in_with_a_new_email_gets_an_account_to_claim(
        self, client, event, organiser
    ):
        client.force_login(organiser)
        users = User.objects.count()
        answer = self.walkin(
            client, event, name="钱七", phone="13800002222", email="QIAN@example.cn"
        )
        assert answer["ok"]
        assert User.objects.count() == users + 1
        user = User.objects.get(email="qian@example.cn")
        assert user.is_active and not user.has_usable_password()
        assert user.real_name == "钱七"
        assert HoursLedgerEntry.objects.get().user == user

    def test_a_registered_person_checked_in_as_a_walk_in_keeps_one_registration(
        self, client, event, organiser, trainee
    ):
        registration = registered(event, trainee, code="K1QM0XPA")
        client.force_login(organiser)
        answer = self.walkin(
            client, event, name="李堃", phone="13800001111", email=trainee.email
        )
        assert answer["ok"]
        assert Registration.objects.filter(user=trainee).count() == 1
        registration.refresh_from_db()
        assert registration.checked_in_at is not None

    def test_a_walk_in_beyond_the_places_is_refused_and_writes_nothing(
        self, client, event, organiser, trainee
    ):
        """Attack: registering people at the door past the capacity."""
        event.capacity = 1
        event.save()
        registered(event, trainee, code="K1QM0XPA")
        client.force_login(organiser)
        users = User.objects.count()
        answer = self.walkin(client, event, name="孙八", phone="13800003333")
        assert not answer["ok"]
        assert "full" in answer["message"]
        answer = self.walkin(
            client, event, name="孙八", phone="13800003333", email="sun@example.cn"
        )
        assert not answer["ok"]
        assert Registration.objects.filter(event=event).count() == 1
        assert User.objects.count() == users
        assert attendances() == (0, 0, 0)

    def test_a_walk_in_needs_a_name_and_a_phone(self, client, event, organiser):
        client.force_login(organiser)
        response = client.post(
            reverse("events:checkin_walkin", args=[event.pk]),
            {"name": "", "phone": "12"},
            headers=JSON,
        )
        assert response.status_code == 400
        message = response.json()["message"]
        assert "Enter the person's name." in message
        assert "Enter a mobile phone number." in message
        assert not Registration.objects.exists()


# --- the page ---------------------------------------------------------------------


class TestPage:
    def test_no_userbar_and_the_scan_button_at_hand(self, client, event, organiser):
        from tests.factories import StaffFactory

        admin = StaffFactory(is_superuser=True)
        client.force_login(admin)
        page = client.get(station(event)).content.decode()
        assert "wagtail-userbar" not in page and "w-userbar" not in page
        assert "data-checkin-bar" in page and "data-checkin-scan" in page
        assert "vendor/jsqr/jsQR" in page
        assert "Register and check in" in page
        assert "Name, e-mail or mobile phone" in page

    def test_a_registrant_may_give_a_phone_when_registering(
        self, client, event, trainee
    ):
        event.registration_closes_at = None
        event.starts_at = timezone.now() + datetime.timedelta(days=2)
        event.ends_at = event.starts_at + datetime.timedelta(hours=2)
        event.save()
        client.force_login(trainee)
        client.post(
            reverse("events:register", args=[event.pk]), {"phone": "+86 138 1234 5678"}
        )
        assert Registration.objects.get(user=trainee).phone == "+8613812345678"


def test_deleting_an_account_forgets_the_phones_given_and_keeps_attendance(
    event, organiser, trainee
):
    from portal.services import user_delete

    registration = registered(event, trainee, code="K1QM0XPA", phone="13812345678")
    services.attendance_record(code="K1QM0XPA", event_id=event.pk, by=organiser)
    user_delete(user=trainee)
    registration.refresh_from_db()
    assert registration.phone == ""
    assert registration.checked_in_at is not None


def test_a_walk_in_without_email_is_never_mailed(event, organiser):
    from django.core.mail import EmailMessage

    from portal.models import OutgoingEmail
    from portal.services import email_enqueue

    registration = services.walkin_register(
        event_id=event.pk, name="赵六", phone="13800001111", by=organiser
    )
    email_enqueue(message=EmailMessage("证书", "…", to=[registration.user.email]))
    assert OutgoingEmail.objects.get().status == OutgoingEmail.Status.FAILED


class TestCancelledEvent:
    def test_nobody_is_checked_in_at_a_cancelled_event(
        self, client, event, organiser, trainee
    ):
        """A code scanned or a walk-in at the door of an event that was
        cancelled earns nothing: it is refused, and nothing is written."""
        registration = registered(event, trainee, code="K1QM0XPA")
        EventPage.objects.filter(pk=event.pk).update(
            cancelled_at=timezone.now(), cancellation_reason="场地不可用"
        )
        with pytest.raises(services.AttendanceRefused, match="cancelled"):
            services.attendance_record(code="K1QM0XPA", event_id=event.pk, by=organiser)
        client.force_login(organiser)
        answer = client.post(
            reverse("events:checkin_walkin", args=[event.pk]),
            {"name": "赵六", "phone": "13800001111"},
            headers=JSON,
        ).json()
        assert not answer["ok"] and "cancelled" in answer["message"]
        registration.refresh_from_db()
        assert registration.checked_in_at is None
        assert not Registration.objects.filter(walk_in=True).exists()
        assert not HoursLedgerEntry.objects.exists()

"""The hours ledger: append-only, one door (courses.ledger), corrections
with reasons in the audit log, and its admin screen with exports."""

import datetime
import io
from decimal import Decimal

import openpyxl
import pytest

from django.contrib.auth.models import Group, Permission
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import translation

from wagtail.models import ModelLogEntry
from wagtail.users.models import UserProfile

from courses import ledger
from courses.models import HoursLedgerEntry
from courses.models.records import LedgerIsAppendOnly
from portal.exports import LOG_EXPORTED
from tests.factories import StaffFactory, UserFactory, activate_totp

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(_default_language):  # type: ignore[no-untyped-def]
    """Services' messages are asserted in their source text."""
    translation.activate("en")


DAY = datetime.date(2027, 4, 26)


def earn(user, key=1, hours="3.5", day=DAY):  # type: ignore[no-untyped-def]
    return ledger.hours_earn(
        user=user,
        source_type="event",
        source_key=key,
        title="专利检索实务讲座",
        hours=Decimal(hours),
        earned_on=day,
    )


@pytest.fixture
def learner():  # type: ignore[no-untyped-def]
    return UserFactory(
        real_name="李堃", email="likun@example.org", organisation="重庆大学"
    )


@pytest.fixture
def manager():  # type: ignore[no-untyped-def]
    user = UserFactory(real_name="培训管理员")
    group = Group.objects.create(name="Ledger keepers")
    group.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="courses",
            codename__in=["view_hoursledgerentry", "add_hoursledgerentry"],
        ),
        Permission.objects.get(codename="access_admin"),
    )
    user.groups.add(group)
    activate_totp(user)
    english(user)
    return user


def english(user):  # type: ignore[no-untyped-def]
    """The admin in English for this user: messages and headings are
    asserted in their source text."""
    profile = UserProfile.get_for_user(user)
    profile.preferred_language = "en"
    profile.save()


@pytest.fixture
def viewer():  # type: ignore[no-untyped-def]
    user = UserFactory(real_name="只读")
    group = Group.objects.create(name="Ledger readers")
    group.permissions.add(
        Permission.objects.get(codename="view_hoursledgerentry"),
        Permission.objects.get(codename="access_admin"),
    )
    user.groups.add(group)
    activate_totp(user)
    return user


class TestAppendOnly:
    def test_a_row_cannot_be_saved_again_or_deleted(self, learner):
        entry = earn(learner)
        entry.hours = Decimal("30.0")
        with pytest.raises(LedgerIsAppendOnly):
            entry.save()
        with pytest.raises(LedgerIsAppendOnly):
            entry.save(update_fields=["hours"])
        with pytest.raises(LedgerIsAppendOnly):
            entry.delete()
        entry.refresh_from_db()
        assert entry.hours == Decimal("3.5")

    def test_the_queryset_refuses_update_delete_and_bulk_update(self, learner):
        entry = earn(learner)
        rows = HoursLedgerEntry.objects.filter(pk=entry.pk)
        with pytest.raises(LedgerIsAppendOnly):
            rows.update(hours=Decimal("99.0"))
        with pytest.raises(LedgerIsAppendOnly):
            rows.delete()
        with pytest.raises(LedgerIsAppendOnly):
            HoursLedgerEntry.objects.all().delete()
        entry.hours = Decimal("99.0")
        with pytest.raises(LedgerIsAppendOnly):
            HoursLedgerEntry.objects.bulk_update([entry], ["hours"])
        assert HoursLedgerEntry.objects.get().hours == Decimal("3.5")

    def test_a_copy_with_an_existing_id_is_inserted_or_refused_never_updates(
        self, learner
    ):
        entry = earn(learner)
        forged = HoursLedgerEntry(
            pk=entry.pk,
            user=learner,
            source_type="event",
            source_key=1,
            title="x",
            hours=Decimal("99.0"),
            earned_on=DAY,
        )
        with pytest.raises(IntegrityError), transaction.atomic():
            forged.save()  # an INSERT, refused for its primary key
        entry.refresh_from_db()
        assert entry.hours == Decimal("3.5")


class TestEarn:
    def test_earning_twice_returns_the_same_entry(self, learner):
        first = earn(learner)
        assert earn(learner) == first
        assert HoursLedgerEntry.objects.count() == 1
        assert first.sequence == 1 and first.kind == "earned"

    def test_after_a_reversal_the_source_is_earned_again_with_the_next_sequence(
        self, learner
    ):
        first = earn(learner)
        ledger.hours_reverse(entry=first, reason="扫错码", by=None)
        second = earn(learner)
        assert second != first and second.sequence == 2
        assert ledger.hours_total(learner) == Decimal("3.5")

    def test_course_completion_credits_through_the_ledger(self, learner):
        # (tests/courses/test_learning.py completes real courses; here the
        # unique constraint still holds for a direct second insert.)
        earn(learner, key=7)
        with pytest.raises(IntegrityError), transaction.atomic():
            HoursLedgerEntry.objects.create(
                user=learner,
                source_type="event",
                source_key=7,
                title="again",
                hours=Decimal("1.0"),
                earned_on=DAY,
            )


class TestReverse:
    def test_a_reversal_undoes_the_entry_with_a_reason_and_a_log_entry(
        self, learner, manager
    ):
        entry = earn(learner)
        reversal = ledger.hours_reverse(entry=entry, reason="误签到", by=manager)
        assert reversal.kind == "reversal" and reversal.reverses == entry
        assert reversal.hours == Decimal("-3.5") and reversal.earned_on == DAY
        assert (reversal.source_type, reversal.source_key) == ("event", 1)
        assert ledger.hours_total(learner) == 0
        assert ledger.hours_total(learner, year=2027) == 0
        log = ModelLogEntry.objects.get(action=ledger.LOG_REVERSED)
        assert log.user_id == manager.pk and log.data["reason"] == "误签到"
        assert "误签到" in log.message

    def test_a_reversal_needs_a_reason_and_happens_once(self, learner, manager):
        entry = earn(learner)
        with pytest.raises(ledger.LedgerError):
            ledger.hours_reverse(entry=entry, reason="  ", by=manager)
        ledger.hours_reverse(entry=entry, reason="误签到", by=manager)
        with pytest.raises(ledger.LedgerError) as refused:
            ledger.hours_reverse(entry=entry, reason="again", by=manager)
        assert "already reversed" in refused.value.message
        reversal = HoursLedgerEntry.objects.get(kind="reversal")
        with pytest.raises(ledger.LedgerError):
            ledger.hours_reverse(entry=reversal, reason="undo the undo", by=manager)
        assert HoursLedgerEntry.objects.count() == 2


class TestAdjust:
    @pytest.mark.parametrize("reason", ["", "   "])
    def test_an_adjustment_needs_a_reason(self, learner, manager, reason):
        with pytest.raises(ledger.LedgerError) as refused:
            ledger.hours_adjust(user=learner, hours="2", reason=reason, by=manager)
        assert refused.value.message == "Say why the hours are adjusted."
        assert not HoursLedgerEntry.objects.exists()

    @pytest.mark.parametrize("hours", ["0", "1.25", "abc", "10000", "NaN"])
    def test_malformed_hours_are_refused(self, learner, manager, hours):
        with pytest.raises(ledger.LedgerError):
            ledger.hours_adjust(user=learner, hours=hours, reason="补录", by=manager)
        assert not HoursLedgerEntry.objects.exists()

    def test_adjustments_add_and_remove_but_never_below_zero(self, learner, manager):
        earn(learner)
        plus = ledger.hours_adjust(
            user=learner, hours="2.0", reason="线下补课", by=manager
        )
        assert plus.kind == "adjustment" and plus.source_type == "manual"
        assert plus.title == "Manual adjustment" and plus.created_by == manager
        ledger.hours_adjust(user=learner, hours="-1.5", reason="早退", by=manager)
        assert ledger.hours_total(learner) == Decimal("4.0")
        with pytest.raises(ledger.LedgerError) as refused:
            ledger.hours_adjust(user=learner, hours="-5", reason="错误", by=manager)
        assert "fewer than none" in refused.value.message
        assert ModelLogEntry.objects.filter(action=ledger.LOG_ADJUSTED).count() == 2


def test_every_reader_sums_reversals_and_adjustments(client, learner, manager):
    """My learning and the per-year totals count the net hours. (The
    training report and the dashboard count course hours of enrolments,
    courses.reports.hours_credited: these event hours are not theirs.)"""
    earn(learner, key=1)
    second = earn(learner, key=2, hours="2.0")
    ledger.hours_reverse(entry=second, reason="误签到", by=manager)
    ledger.hours_adjust(
        user=learner, hours="1.0", reason="补录", by=manager, earned_on=DAY
    )
    assert ledger.hours_by_year(learner) == {2027: Decimal("4.5")}
    client.force_login(learner)
    learning = client.get(reverse("courses:my_learning")).context["learning"]
    assert learning.hours_total == Decimal("4.5")
    assert len(learning.ledger) == 4


# --- the admin screen ----------------------------------------------------------


def learner_url(user) -> str:  # type: ignore[no-untyped-def]
    return reverse("courses_ledger:learner", args=[user.pk])


class TestLedgerAdmin:
    def test_find_a_learner_and_see_every_entry_with_the_running_total(
        self, client, learner, manager
    ):
        entry = earn(learner)
        ledger.hours_reverse(entry=entry, reason="误签到", by=manager)
        earn(learner)
        client.force_login(manager)
        found = client.get(reverse("courses_ledger:index"), {"q": "likun"})
        assert found.status_code == 200
        assert learner_url(learner) in found.content.decode()
        page = client.get(learner_url(learner))
        html = page.content.decode()
        assert page.status_code == 200
        assert "误签到" in html and "培训管理员" in html
        running = [line["running"] for line in page.context["lines"]]
        assert running == [Decimal("3.5"), Decimal("0.0"), Decimal("3.5")]
        # The reversed entry offers no second reversal; the new one does.
        urls = [line["reverse_url"] for line in page.context["lines"]]
        assert urls[0] == "" and urls[1] == "" and urls[2]

    def test_a_manager_adjusts_with_a_reason(self, client, learner, manager):
        client.force_login(manager)
        url = reverse("courses_ledger:adjust", args=[learner.pk])
        refused = client.post(url, {"hours": "2.0", "reason": ""})
        assert refused.status_code == 200
        assert "Say why the hours are adjusted." in refused.content.decode()
        assert not HoursLedgerEntry.objects.exists()
        done = client.post(url, {"hours": "2.0", "reason": "线下补课", "title": ""})
        assert done.status_code == 302 and done["Location"] == learner_url(learner)
        entry = HoursLedgerEntry.objects.get()
        assert (entry.kind, entry.hours, entry.reason) == (
            "adjustment",
            Decimal("2.0"),
            "线下补课",
        )
        assert ModelLogEntry.objects.get(action=ledger.LOG_ADJUSTED).user == manager

    def test_a_manager_reverses_an_earned_entry_with_a_reason(
        self, client, learner, manager
    ):
        entry = earn(learner)
        client.force_login(manager)
        url = reverse("courses_ledger:reverse", args=[entry.pk])
        assert client.get(url).status_code == 200
        assert client.post(url, {"reason": ""}).status_code == 200
        assert not HoursLedgerEntry.objects.filter(kind="reversal").exists()
        response = client.post(url, {"reason": "误签到"})
        assert response["Location"] == learner_url(learner)
        assert ledger.hours_total(learner) == 0

    def test_viewing_needs_the_view_permission_and_correcting_the_add_one(
        self, client, learner, viewer
    ):
        entry = earn(learner)
        client.force_login(viewer)
        page = client.get(learner_url(learner))
        assert page.status_code == 200
        assert 'name="reason"' not in page.content.decode()  # no forms
        adjust = client.post(
            reverse("courses_ledger:adjust", args=[learner.pk]),
            {"hours": "9", "reason": "x"},
        )
        assert adjust.status_code == 302 and adjust["Location"] != learner_url(learner)
        reverse_page = reverse("courses_ledger:reverse", args=[entry.pk])
        assert client.post(reverse_page, {"reason": "x"}).status_code == 302
        assert HoursLedgerEntry.objects.count() == 1

        client.force_login(UserFactory())  # a learner
        assert client.get(learner_url(learner)).status_code == 302
        assert client.get(reverse("courses_ledger:index")).status_code == 302

    def test_staff_without_mfa_are_sent_to_set_it_up(self, client, learner):
        earn(learner)
        client.force_login(StaffFactory(mfa=False))
        response = client.post(
            reverse("courses_ledger:adjust", args=[learner.pk]),
            {"hours": "9", "reason": "x"},
        )
        assert response.status_code == 302 and "2fa" in response["Location"]
        assert HoursLedgerEntry.objects.count() == 1

    def test_the_permissions_are_offered_in_the_group_editor(self, client):
        client.force_login(StaffFactory())
        page = client.get(reverse("wagtailusers_groups:add")).content.decode()
        view = Permission.objects.get(codename="view_hoursledgerentry")
        add = Permission.objects.get(codename="add_hoursledgerentry")
        assert f'value="{view.pk}"' in page and f'value="{add.pk}"' in page


class TestExports:
    def test_a_learners_ledger_as_xlsx_logged_as_an_export(
        self, client, learner, manager
    ):
        entry = earn(learner)
        ledger.hours_reverse(entry=entry, reason="=HYPERLINK(1)", by=manager)
        client.force_login(manager)
        response = client.get(
            reverse("courses_ledger:learner_export", args=[learner.pk])
        )
        assert response.status_code == 200
        rows = list(
            openpyxl.load_workbook(
                io.BytesIO(b"".join(response.streaming_content))
            ).active.iter_rows(values_only=True)
        )
        assert rows[0][:3] == ("Entry", "Learner", "E-mail")
        assert "Running total" in rows[0]
        assert len(rows) == 3
        assert rows[1][1:3] == ("李堃", "likun@example.org")
        assert rows[2][5] == "Reversal" and rows[2][9] == -3.5 and rows[2][10] == 0
        assert rows[2][12] == "=HYPERLINK(1)"  # text, never a formula
        log = ModelLogEntry.objects.get(action=LOG_EXPORTED)
        assert log.user == manager and log.data["rows"] == 2

    def test_the_whole_ledger_for_a_date_range(self, client, learner, manager):
        earn(learner, key=1, day=datetime.date(2027, 1, 5))
        earn(learner, key=2, day=datetime.date(2027, 6, 5))
        earn(UserFactory(), key=3, day=datetime.date(2027, 3, 1))
        client.force_login(manager)
        response = client.get(
            reverse("courses_ledger:export"),
            {"date_from": "2027-01-01", "date_to": "2027-03-31"},
        )
        rows = list(
            openpyxl.load_workbook(
                io.BytesIO(b"".join(response.streaming_content))
            ).active.iter_rows(values_only=True)
        )
        assert len(rows) == 3
        assert sorted(r[7] for r in rows[1:]) == [1, 3]
        log = ModelLogEntry.objects.get(action=LOG_EXPORTED)
        assert log.data["filters"] == "2027-01-01 – 2027-03-31"
        wrong = client.get(
            reverse("courses_ledger:export"),
            {"date_from": "2027-04-01", "date_to": "2027-03-31"},
        )
        assert wrong.status_code == 302
        assert ModelLogEntry.objects.filter(action=LOG_EXPORTED).count() == 1

    def test_exports_need_the_view_permission(self, client, learner):
        earn(learner)
        client.force_login(UserFactory())
        for url in (
            reverse("courses_ledger:learner_export", args=[learner.pk]),
            reverse("courses_ledger:export"),
        ):
            assert client.get(url).status_code == 302
        assert not ModelLogEntry.objects.filter(action=LOG_EXPORTED).exists()

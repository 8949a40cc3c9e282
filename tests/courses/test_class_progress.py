"""A training class's progress for training managers: each member's lessons
(with dates), time spent, quiz attempts and scores, hours from the ledger
(after a reversal), certificate; who is stuck, filtered; the XLSX download;
granting quiz attempts from the screen; a fixed number of queries."""

import datetime
import io
from decimal import Decimal

import openpyxl
import pytest

from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from wagtail.models import ModelLogEntry

from courses import admin_class_progress, services
from courses.certificates import services as certificate_services
from courses.models import (
    HoursLedgerEntry,
    LessonProgress,
    QuizAttempt,
    QuizAttemptGrant,
    TrainingClass,
)
from portal.exports import LOG_EXPORTED
from tests.courses.factories import (
    CertificateRequestFactory,
    CourseIndexPageFactory,
    CoursePageFactory,
    LessonPageFactory,
    paragraph,
    quiz,
)
from tests.factories import UserFactory, activate_totp

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def ago(**kwargs: float) -> datetime.datetime:
    return NOW - datetime.timedelta(**kwargs)


def manager(*, grant: bool = True, mfa: bool = True):  # type: ignore[no-untyped-def]
    """A training manager as the role is set up: the report's permission,
    and (grant) the right to grant quiz attempts."""
    names = ["access_admin", "view_enrolment", "view_certificate"]
    if grant:
        names.append("add_quizattemptgrant")
    group, _ = Group.objects.get_or_create(name=f"培训管理员 {grant}")
    group.permissions.set(Permission.objects.filter(codename__in=names))
    user = UserFactory(real_name="陈敏")
    user.groups.add(group)
    if mfa:
        activate_totp(user)
    return user


def progress(enrolment, lesson, *, started, completed=None, watched=0.0):  # type: ignore[no-untyped-def]
    row = LessonProgress.objects.create(
        enrolment=enrolment,
        lesson=lesson,
        lesson_key=lesson.pk,
        lesson_title=lesson.title,
        status="completed" if completed else "started",
        started_at=started,
        completed_at=completed,
        watched_seconds=watched,
    )
    # updated_at is auto_now: the moment under test afterwards.
    LessonProgress.objects.filter(pk=row.pk).update(updated_at=completed or started)
    return row


def attempt(enrolment, lesson, quiz_key, number, score, *, at):  # type: ignore[no-untyped-def]
    row = QuizAttempt.objects.create(
        enrolment=enrolment,
        lesson=lesson,
        lesson_key=lesson.pk,
        lesson_title=lesson.title,
        quiz_key=quiz_key,
        number=number,
        layout={"questions": []},
        score=Decimal(score),
        passed=Decimal(score) >= 60,
        status=QuizAttempt.Status.SUBMITTED,
        submitted_at=at,
    )
    QuizAttempt.objects.filter(pk=row.pk).update(
        started_at=at - datetime.timedelta(minutes=7)
    )
    return row


@pytest.fixture
def world(home):  # type: ignore[no-untyped-def]
    """A class of two courses and four trainees.

    专利基础 (2 h, 2 attempts): 阅读 (reading, 10 min), 测验 (a quiz).
    商标实务 (3 h): one reading lesson.
    张伟: read, passed the quiz at the 2nd attempt (40, 80), completed the
      patent course (2 h earned, reversed, then 1.5 h adjusted), certificate.
    李娜: read 20 days ago, failed the quiz twice (30, 50): attempts used up,
      and no activity for 14 days.
    王芳: nothing at all: not started.
    赵磊: opened the trademark lesson yesterday: active.
    """
    catalogue = CourseIndexPageFactory(parent=home)
    patent = CoursePageFactory(
        parent=catalogue, title="专利基础", credit_hours=Decimal("2.0"), max_attempts=2
    )
    trademark = CoursePageFactory(
        parent=catalogue, title="商标实务", credit_hours=Decimal("3.0")
    )
    reading = LessonPageFactory(
        parent=patent, title="阅读", duration_minutes=10, body=[paragraph()]
    )
    quiz_block = quiz(title="专利测验")
    test = LessonPageFactory(parent=patent, title="测验", body=[quiz_block])
    marks = LessonPageFactory(parent=trademark, title="商标概述", body=[paragraph()])
    spring = TrainingClass.objects.create(
        name="2027春季班",
        code="2027-spring",
        starts_on=datetime.date(2027, 3, 1),
        ends_on=datetime.date(2027, 6, 30),
    )
    spring.courses.set([patent, trademark])
    people = {}
    for name, email in (
        ("张伟", "zhang.wei@example.cn"),
        ("李娜", "li.na@example.cn"),
        ("王芳", "wang.fang@example.cn"),
        ("赵磊", "zhao.lei@example.cn"),
    ):
        people[name] = UserFactory(real_name=name, email=email, organisation="重庆大学")
        services.training_class_add_member(training_class=spring, user=people[name])

    def enrolment(name, course):  # type: ignore[no-untyped-def]
        return people[name].enrolments.get(course_key=course.pk)

    key = quiz_block["id"]
    zhang = enrolment("张伟", patent)
    progress(
        zhang,
        reading,
        started=ago(days=3, hours=1),
        completed=ago(days=3, minutes=52),  # 8 minutes of reading
    )
    progress(zhang, test, started=ago(days=2), completed=ago(days=2, minutes=-20))
    attempt(zhang, test, key, 1, "40", at=ago(days=2, minutes=-10))
    attempt(zhang, test, key, 2, "80", at=ago(days=2, minutes=-20))
    zhang.completed_at = ago(days=2, minutes=-20)
    zhang.save(update_fields=["completed_at"])
    earned = HoursLedgerEntry.objects.create(
        user=people["张伟"],
        source_type="course",
        source_key=patent.pk,
        title=patent.title,
        hours=Decimal("2.0"),
        earned_on=timezone.localdate(),
    )
    HoursLedgerEntry.objects.create(
        user=people["张伟"],
        kind="reversal",
        reverses=earned,
        source_type="course",
        source_key=patent.pk,
        title=patent.title,
        hours=Decimal("-2.0"),
        earned_on=timezone.localdate(),
        reason="重复计入",
    )
    HoursLedgerEntry.objects.create(
        user=people["张伟"],
        kind="adjustment",
        source_type="course",
        source_key=patent.pk,
        title=patent.title,
        hours=Decimal("1.5"),
        earned_on=timezone.localdate(),
        reason="按实际学时核定",
    )
    certificate = certificate_services.certificate_issue(
        request_id=CertificateRequestFactory(
            user=people["张伟"], source_key=patent.pk, title=patent.title
        ).pk,
        render=False,
    )[0]

    li = enrolment("李娜", patent)
    progress(li, reading, started=ago(days=21), completed=ago(days=20))
    progress(li, test, started=ago(days=20))
    attempt(li, test, key, 1, "30", at=ago(days=20, minutes=-10))
    attempt(li, test, key, 2, "50", at=ago(days=20, minutes=-20))

    progress(enrolment("赵磊", trademark), marks, started=ago(days=1))
    return {
        "class": spring,
        "patent": patent,
        "trademark": trademark,
        "reading": reading,
        "test": test,
        "quiz_key": key,
        "people": people,
        "li_enrolment": li,
        "certificate": certificate,
    }


def url(world) -> str:  # type: ignore[no-untyped-def]
    return reverse("courses_class_progress", args=(world["class"].pk,))


def rows_by_name(rows):  # type: ignore[no-untyped-def]
    return {row.name: row for row in rows}


# --- what the figures say --------------------------------------------------------


def test_each_member_has_lessons_attempts_hours_and_certificate(world):
    rows = rows_by_name(
        admin_class_progress.class_progress(training_class=world["class"])
    )
    zhang = rows["张伟"]
    patent, trademark = zhang.courses
    assert patent.course == world["patent"] and trademark.course == world["trademark"]
    assert [(lesson.lesson.title, lesson.done) for lesson in patent.lessons] == [
        ("阅读", True),
        ("测验", True),
    ]
    assert patent.lessons[0].progress.completed_at == ago(days=3, minutes=52)
    # 8 minutes of reading; two quiz attempts of 7 minutes each.
    assert patent.lessons[0].seconds == 8 * 60
    assert patent.lessons[1].seconds == 14 * 60
    (quiz_row,) = patent.quizzes
    assert (quiz_row.used, quiz_row.allowed) == (2, 2)
    assert (quiz_row.best, quiz_row.last, quiz_row.passed) == (80, 80, True)
    # Earned 2, reversed, adjusted to 1.5: the ledger's sum.
    assert patent.hours == Decimal("1.5")
    assert zhang.hours == Decimal("1.5")
    assert patent.certificate == world["certificate"]
    assert patent.certificate_status == world["certificate"].state_label
    assert zhang.flags == []

    li = rows["李娜"]
    (li_quiz,) = li.courses[0].quizzes
    assert (li_quiz.used, li_quiz.allowed, li_quiz.best, li_quiz.last) == (
        2,
        2,
        50,
        50,
    )
    assert li_quiz.used_up
    assert li.flags == ["attempts", "inactive"]
    assert rows["王芳"].flags == ["not_started"]
    assert rows["赵磊"].flags == []


def test_reading_time_is_capped_at_twice_the_estimate(world):
    zhang = world["people"]["张伟"].enrolments.get(course_key=world["trademark"].pk)
    lesson = LessonPageFactory(
        parent=world["trademark"], duration_minutes=5, body=[paragraph()]
    )
    # Opened, left overnight, completed the next morning: 10 minutes count.
    progress(zhang, lesson, started=ago(hours=14), completed=ago(hours=1))
    rows = rows_by_name(
        admin_class_progress.class_progress(training_class=world["class"])
    )
    seconds = [row.seconds for row in rows["张伟"].courses[1].lessons]
    assert seconds == [0, 10 * 60]


def test_the_page_shows_each_member_with_the_figures(client, world):
    client.force_login(manager())
    response = client.get(url(world))
    assert response.status_code == 200
    page = response.content.decode()
    for name in ("张伟", "李娜", "王芳", "赵磊"):
        assert name in page
    # Attempts used of allowed, best and last score (Chinese once compiled).
    assert "已用 2 / 2 次" in page or "2 of 2 attempts" in page
    assert "最高 80.0 分，最近 80.0 分" in page or "best 80.0, last 80.0" in page
    assert "最高 50.0 分，最近 50.0 分" in page or "best 50.0, last 50.0" in page
    assert world["certificate"].serial in page
    assert reverse("certificate_admin:inspect", args=(world["certificate"].pk,)) in page
    assert "1.5" in page
    # The explanation of time spent, one line.
    assert "视频" in page or "video" in page


def test_stuck_filter_and_sorting(client, world):
    client.force_login(manager())

    def names(**query):  # type: ignore[no-untyped-def]
        response = client.get(url(world), query)
        return [row.name for row in response.context["members_page"].object_list]

    assert names(show="stuck") == ["李娜", "王芳"]
    assert names(show="attempts") == ["李娜"]
    assert names(show="inactive") == ["李娜"]
    assert names(show="not_started") == ["王芳"]
    # By default who needs attention comes first.
    assert names()[:2] == ["李娜", "王芳"]
    assert names(sort="activity")[0] == "王芳"  # never active
    assert set(names(show="nonsense")) == {"张伟", "李娜", "王芳", "赵磊"}


def test_xlsx_has_the_figures_and_is_logged(client, world):
    staff = manager()
    client.force_login(staff)
    response = client.get(url(world), {"export": "xlsx", "show": "stuck"})
    assert response.status_code == 200
    assert "class-progress-2027-spring-" in response["Content-Disposition"]
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    summary, lessons, quizzes = book.worksheets
    rows = list(summary.iter_rows(values_only=True))
    assert rows[0][:4] == ("姓名", "电子邮箱", "工作单位", "课程")
    # Stuck only: 李娜 and 王芳, a row per course each.
    assert [(r[0], r[3]) for r in rows[1:]] == [
        ("李娜", "专利基础"),
        ("李娜", "商标实务"),
        ("王芳", "专利基础"),
        ("王芳", "商标实务"),
    ]
    quiz_rows = list(quizzes.iter_rows(values_only=True))[1:]
    assert quiz_rows[0][:5] == (
        "李娜",
        "li.na@example.cn",
        "重庆大学",
        "专利基础",
        "测验",
    )
    assert quiz_rows[0][5:] == ("专利测验", 2, 2, 0, 50, 50, "否")
    lesson_rows = list(lessons.iter_rows(values_only=True))[1:]
    assert lesson_rows[0][4] == "阅读" and lesson_rows[0][5] == "已完成"
    entry = ModelLogEntry.objects.get(action=LOG_EXPORTED)
    assert entry.user == staff
    assert entry.object_id == str(world["class"].pk)
    assert entry.data["rows"] == 4


def test_xlsx_defuses_formulas(client, world):
    world["people"]["王芳"].organisation = '=HYPERLINK("http://evil")'
    world["people"]["王芳"].save()
    client.force_login(manager())
    response = client.get(url(world), {"export": "xlsx", "show": "not_started"})
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    cell = book.worksheets[0].cell(row=2, column=3)
    assert cell.data_type == "s" and cell.value.startswith("'=")


def test_hours_after_a_reversal_on_the_page(client, world):
    # 李娜 completes: earned and then reversed: 0 hours.
    li = world["people"]["李娜"]
    earned = HoursLedgerEntry.objects.create(
        user=li,
        source_type="course",
        source_key=world["patent"].pk,
        title="专利基础",
        hours=Decimal("2.0"),
        earned_on=timezone.localdate(),
    )
    HoursLedgerEntry.objects.create(
        user=li,
        kind="reversal",
        reverses=earned,
        source_type="course",
        source_key=world["patent"].pk,
        title="专利基础",
        hours=Decimal("-2.0"),
        earned_on=timezone.localdate(),
        reason="误记",
    )
    client.force_login(manager())
    response = client.get(url(world))
    rows = rows_by_name(response.context["members_page"].object_list)
    assert rows["李娜"].courses[0].hours == 0


# --- granting attempts ----------------------------------------------------------


def grant_form(world, **overrides):  # type: ignore[no-untyped-def]
    return {
        "enrolment": world["li_enrolment"].pk,
        "lesson_key": world["test"].pk,
        "quiz_key": world["quiz_key"],
        "extra": 1,
        "reason": "因病缺考，补考一次",
        "back": "show=stuck",
        **overrides,
    }


def grant_url(world) -> str:  # type: ignore[no-untyped-def]
    return reverse("courses_class_progress_grant", args=(world["class"].pk,))


def test_the_stuck_quiz_has_a_grant_form(client, world):
    client.force_login(manager())
    page = client.get(url(world)).content.decode()
    assert page.count('name="reason"') == 1  # 李娜's quiz only
    assert grant_url(world) in page


def test_granting_an_attempt_lets_the_learner_try_again(client, world):
    li = world["people"]["李娜"]
    with pytest.raises(services.CourseError):
        services.quiz_attempt_start(
            user=li, lesson=world["test"], quiz_key=world["quiz_key"]
        )
    staff = manager()
    client.force_login(staff)
    response = client.post(grant_url(world), grant_form(world))
    assert response.status_code == 302
    assert response["Location"] == url(world) + "?show=stuck"
    grant = QuizAttemptGrant.objects.get()
    assert (grant.extra, grant.reason, grant.granted_by) == (
        1,
        "因病缺考，补考一次",
        staff,
    )
    new = services.quiz_attempt_start(
        user=li, lesson=world["test"], quiz_key=world["quiz_key"]
    )
    assert new.number == 3
    # No longer stuck for attempts: 2 used of 3, one open.
    rows = rows_by_name(
        admin_class_progress.class_progress(training_class=world["class"])
    )
    (quiz_row,) = rows["李娜"].courses[0].quizzes
    assert (quiz_row.used, quiz_row.allowed, quiz_row.granted) == (2, 3, 1)
    assert "attempts" not in rows["李娜"].flags
    # In Wagtail's audit log, on the enrolment; the class's history and the
    # progress page list it.
    entry = ModelLogEntry.objects.get(action="courses.quiz.attempts_granted")
    assert entry.object_id == str(world["li_enrolment"].pk)
    assert entry.user == staff
    changes = admin_class_progress.class_changes(world["class"])
    assert entry in changes
    page = client.get(url(world)).content.decode()
    assert "因病缺考，补考一次" in page


def test_the_class_history_shows_the_grant(admin_client, world):
    admin_client.post(grant_url(world), grant_form(world))
    response = admin_client.get(
        reverse("training_classes:history", args=(world["class"].pk,))
    )
    assert response.status_code == 200
    assert "因病缺考，补考一次" in response.content.decode()


@pytest.fixture
def admin_client(client):  # type: ignore[no-untyped-def]
    from tests.factories import StaffFactory

    client.force_login(StaffFactory())
    return client


@pytest.mark.parametrize(
    "overrides",
    [{"reason": ""}, {"reason": "   "}, {"extra": 0}, {"extra": 11}, {"extra": "x"}],
)
def test_a_grant_needs_a_reason_and_1_to_10_attempts(client, world, overrides):
    client.force_login(manager())
    response = client.post(grant_url(world), grant_form(world, **overrides))
    assert response.status_code == 302
    assert not QuizAttemptGrant.objects.exists()
    assert not ModelLogEntry.objects.filter(
        action="courses.quiz.attempts_granted"
    ).exists()


def test_a_passed_quiz_gets_no_grant(client, world):
    client.force_login(manager())
    zhang = world["people"]["张伟"].enrolments.get(course_key=world["patent"].pk)
    client.post(grant_url(world), grant_form(world, enrolment=zhang.pk))
    assert not QuizAttemptGrant.objects.exists()


def test_the_grant_permission_is_offered_in_group_settings(admin_client):
    response = admin_client.get(reverse("wagtailusers_groups:add"))
    perm = Permission.objects.get(
        content_type__app_label="courses", codename="add_quizattemptgrant"
    )
    assert f'value="{perm.pk}"' in response.content.decode()


def test_managers_without_the_grant_permission_see_no_form(client, world):
    client.force_login(manager(grant=False))
    page = client.get(url(world)).content.decode()
    assert "李娜" in page
    assert 'name="reason"' not in page


# --- links and navigation ----------------------------------------------------------


def test_the_reports_menu_and_the_class_list_lead_here(client, world):
    client.force_login(manager())
    index = reverse("courses_class_progress_index")
    assert index in client.get("/admin/").content.decode()
    listing = client.get(index).content.decode()
    assert url(world) in listing and "2027春季班" in listing


def test_links_to_the_ledger_and_evidence_screens_when_they_exist(client, world):
    client.force_login(manager())
    response = client.get(url(world))
    page = response.content.decode()
    ledger = admin_class_progress.optional_url(
        "courses_ledger:learner", user_id=world["people"]["张伟"].pk
    )
    evidence = admin_class_progress.optional_url(
        "courses_evidence:enrolment", enrolment_id=world["li_enrolment"].pk
    )
    if ledger:
        assert ledger in page
    if evidence:
        assert evidence in page
    assert admin_class_progress.optional_url("no_such_screen", user_id=1) is None


# --- cost ----------------------------------------------------------------------


def test_query_count_does_not_grow_with_members(client, world):
    client.force_login(manager())

    def queries() -> int:
        client.get(url(world))  # warm the caches
        with CaptureQueriesContext(connection) as context:
            assert client.get(url(world)).status_code == 200
        return len(context.captured_queries)

    def add_members(n: int) -> None:
        for _ in range(n):
            user = UserFactory()
            services.training_class_add_member(training_class=world["class"], user=user)
            enrolment = user.enrolments.get(course_key=world["patent"].pk)
            progress(enrolment, world["reading"], started=ago(days=1))
            attempt(
                enrolment, world["test"], world["quiz_key"], 1, "30", at=ago(days=1)
            )

    add_members(1)  # 5 members
    five = queries()
    add_members(15)  # 20 members
    assert queries() == five

"""Training evidence (courses.admin_evidence): for a certificate or an
enrolment, staff see the records it rests on — lessons with their times,
seconds of video played, quiz attempts with scores, the check-in with who
scanned it — and download the same as CSV or XLSX, each download logged.
Learners, staff without the permission and staff without proven MFA get
nothing, and a refused download leaves no trace in the log."""

import csv
import datetime
import io
from decimal import Decimal

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from openpyxl import load_workbook

from django.contrib.auth.models import Group, Permission
from django.core.files.base import ContentFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from wagtail.documents import get_document_model
from wagtail.models import ModelLogEntry
from wagtail.users.models import UserProfile

from courses.certificates import services as certificate_services
from courses.models import (
    CertificateRequest,
    Enrolment,
    HoursLedgerEntry,
    LessonProgress,
    MediaFacts,
    QuizAttempt,
    QuizAttemptGrant,
)
from events.models import Registration
from portal.exports import LOG_EXPORTED
from tests.courses.factories import (
    CourseIndexPageFactory,
    CoursePageFactory,
    LessonPageFactory,
    paragraph,
    quiz,
    video,
)
from tests.events.factories import (
    EventIndexPageFactory,
    EventPageFactory,
    shanghai,
)
from tests.factories import StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

MANAGER_PERMISSIONS = ("access_admin", "view_certificate", "view_enrolment")


def staff(*codenames: str, mfa: bool = True, **kwargs):  # type: ignore[no-untyped-def]
    """A staff member (not a superuser) whose group has `codenames`."""
    user = StaffFactory(is_superuser=False, is_staff=False, mfa=mfa, **kwargs)
    group = Group.objects.create(name=f"group of {user.email}")
    group.permissions.add(*Permission.objects.filter(codename__in=codenames))
    user.groups.add(group)
    return user


def layout(title: str, questions: int = 3) -> dict:
    return {
        "title": title,
        "questions": [
            {"id": f"q{n}", "kind": "single", "text": f"第{n}题", "options": []}
            for n in range(questions)
        ],
    }


def add_lesson(course, enrolment, *, number: int, video_document):  # type: ignore[no-untyped-def]
    """A lesson with a video and a quiz, opened, watched, tried twice."""
    video_block = video(video_document)
    quiz_block = quiz(title=f"测验{number}")
    lesson = LessonPageFactory(
        parent=course,
        title=f"附加课{number}",
        slug=f"extra-{number}",
        body=[video_block, quiz_block],
    )
    LessonProgress.objects.create(
        enrolment=enrolment,
        lesson=lesson,
        lesson_key=lesson.pk,
        lesson_title=lesson.title,
        watched={video_block["id"]: {"duration": 600, "intervals": [[0, 100]]}},
        watched_seconds=100,
    )
    for attempt in (1, 2):
        QuizAttempt.objects.create(
            enrolment=enrolment,
            lesson=lesson,
            lesson_key=lesson.pk,
            lesson_title=lesson.title,
            quiz_key=quiz_block["id"],
            number=attempt,
            layout=layout(f"测验{number}"),
            score=Decimal("50.0"),
            status=QuizAttempt.Status.SUBMITTED,
            submitted_at=shanghai(2027, 4, 20, 10, 0),
        )
    return lesson


@pytest.fixture
def completion(home):  # type: ignore[no-untyped-def]
    """A learner who completed a course of three lessons (reading, video,
    quiz), with an extra attempt granted, hours earned and a certificate that
    was reissued and then revoked."""
    document = get_document_model().objects.create(
        title="专利导航.mp4", file=ContentFile(b"\x00" * 16, name="navigation.mp4")
    )
    # Measured on upload (on commit, where a test commits): the length is ours.
    MediaFacts.objects.update_or_create(
        document=document, defaults={"duration_seconds": 600.4}
    )
    course = CoursePageFactory(
        parent=CourseIndexPageFactory(parent=home), title="专利信息检索"
    )
    reading = LessonPageFactory(
        parent=course, title="第一课 检索基础", slug="l1", body=[paragraph()]
    )
    video_block = video(document)
    watching = LessonPageFactory(
        parent=course, title="第二课 专利导航", slug="l2", body=[video_block]
    )
    quiz_block = quiz()
    testing = LessonPageFactory(
        parent=course, title="第三课 随堂测验", slug="l3", body=[quiz_block]
    )
    manager = staff(*MANAGER_PERMISSIONS, real_name="周培训", email="zhou@example.org")
    learner = UserFactory(
        real_name="张晓明", email="zhang@example.org", organisation="渝北区市场监管局"
    )
    enrolment = Enrolment.objects.create(
        user=learner,
        course=course,
        course_key=course.pk,
        course_title=course.title,
        credit_hours=Decimal("2.0"),
        completed_at=shanghai(2027, 4, 21, 16, 45, 0),
    )
    LessonProgress.objects.create(
        enrolment=enrolment,
        lesson=reading,
        lesson_key=reading.pk,
        lesson_title=reading.title,
        status=LessonProgress.Status.COMPLETED,
        position=1,
        started_at=shanghai(2027, 4, 20, 9, 0, 5),
        completed_at=shanghai(2027, 4, 20, 9, 12, 30),
    )
    LessonProgress.objects.create(
        enrolment=enrolment,
        lesson=watching,
        lesson_key=watching.pk,
        lesson_title=watching.title,
        status=LessonProgress.Status.COMPLETED,
        position=560,
        video_duration=598,
        watched={
            video_block["id"]: {"duration": 598, "intervals": [[0, 300], [310, 560]]}
        },
        watched_seconds=550,
        started_at=shanghai(2027, 4, 20, 14, 0, 0),
        completed_at=shanghai(2027, 4, 20, 14, 11, 7),
    )
    LessonProgress.objects.create(
        enrolment=enrolment,
        lesson=testing,
        lesson_key=testing.pk,
        lesson_title=testing.title,
        status=LessonProgress.Status.COMPLETED,
        started_at=shanghai(2027, 4, 21, 16, 30, 0),
        completed_at=shanghai(2027, 4, 21, 16, 44, 59),
    )
    for number, score, passed in ((1, "33.3", False), (2, "100.0", True)):
        QuizAttempt.objects.create(
            enrolment=enrolment,
            lesson=testing,
            lesson_key=testing.pk,
            lesson_title=testing.title,
            quiz_key=quiz_block["id"],
            number=number,
            layout=layout("随堂测验"),
            score=Decimal(score),
            passed=passed,
            status=QuizAttempt.Status.SUBMITTED,
            submitted_at=shanghai(2027, 4, 21, 16, 35 + 9 * (number - 1), 0),
        )
    QuizAttemptGrant.objects.create(
        enrolment=enrolment,
        lesson_key=testing.pk,
        quiz_key=quiz_block["id"],
        extra=1,
        reason="考试时停电，补一次机会",
        granted_by=manager,
    )
    HoursLedgerEntry.objects.create(
        user=learner,
        source_type="course",
        source_key=course.pk,
        title=course.title,
        hours=Decimal("2.0"),
        earned_on=datetime.date(2027, 4, 21),
    )
    request = CertificateRequest.objects.create(
        user=learner,
        source_type="course",
        source_key=course.pk,
        title=course.title,
        hours=Decimal("2.0"),
        achieved_on=datetime.date(2027, 4, 21),
    )
    first = certificate_services.certificate_issue(request_id=request.pk, render=False)[
        0
    ]
    second = certificate_services.certificate_reissue(
        certificate_id=first.pk, by=manager, note="姓名更正"
    )
    certificate_services.certificate_revoke(
        certificate_id=second.pk, reason="学时记录有误", by=manager
    )
    return {
        "course": course,
        "enrolment": enrolment,
        "learner": learner,
        "manager": manager,
        "first": first,
        "certificate": second,
        "lessons": (reading, watching, testing),
        "document": document,
    }


@pytest.fixture
def attendance(home):  # type: ignore[no-untyped-def]
    """A learner checked in at a lecture by mistake, the check-in reversed."""
    event = EventPageFactory(
        parent=EventIndexPageFactory(parent=home),
        title="商标保护讲座",
        starts_at=shanghai(2027, 4, 26, 9, 0),
        ends_at=shanghai(2027, 4, 26, 11, 0),
    )
    learner = UserFactory(real_name="李雨桐", organisation="两江新区管委会")
    door = staff("access_admin", real_name="王检票", email="door@example.org")
    checker = staff("access_admin", real_name="赵核查", email="check@example.org")
    Registration.objects.create(
        event=event,
        event_title=event.title,
        event_starts_at=event.starts_at,
        user=learner,
        status=Registration.Status.CONFIRMED,
        checked_in_at=shanghai(2027, 4, 26, 8, 47, 12),
        checked_in_by=door,
        checkin_reversed_at=shanghai(2027, 4, 26, 9, 30, 0),
        checkin_reversed_by=checker,
        checkin_reversal_reason="扫错了人：本人未到场",
    )
    earned = HoursLedgerEntry.objects.create(
        user=learner,
        source_type="event",
        source_key=event.pk,
        title=event.title,
        hours=Decimal("2.0"),
        earned_on=datetime.date(2027, 4, 26),
    )
    HoursLedgerEntry.objects.create(
        user=learner,
        kind=HoursLedgerEntry.Kind.REVERSAL,
        reverses=earned,
        source_type="event",
        source_key=event.pk,
        title=event.title,
        hours=Decimal("-2.0"),
        earned_on=datetime.date(2027, 4, 26),
        reason="扫错了人：本人未到场",
        created_by=checker,
    )
    request = CertificateRequest.objects.create(
        user=learner,
        source_type="event",
        source_key=event.pk,
        title=event.title,
        hours=Decimal("2.0"),
        achieved_on=datetime.date(2027, 4, 26),
    )
    certificate = certificate_services.certificate_issue(
        request_id=request.pk, render=False
    )[0]
    return {"event": event, "learner": learner, "certificate": certificate}


def certificate_url(certificate, **query) -> str:  # type: ignore[no-untyped-def]
    url = reverse("courses_evidence:certificate", args=(certificate.pk,))
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def enrolment_url(enrolment, **query) -> str:  # type: ignore[no-untyped-def]
    url = reverse("courses_evidence:enrolment", args=(enrolment.pk,))
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def exports() -> list[ModelLogEntry]:
    return list(ModelLogEntry.objects.filter(action=LOG_EXPORTED))


def rows_of(html: str, caption_start: str) -> str:
    """The part of the page from a heading on (enough to find a row in)."""
    return html[html.index(caption_start) :]


# --- what the evidence shows --------------------------------------------------


def test_a_course_certificate_shows_lessons_videos_and_attempts(client, completion):
    client.force_login(completion["manager"])
    response = client.get(certificate_url(completion["certificate"]))
    assert response.status_code == 200
    html = response.content.decode()
    # The learner and the achievement.
    for text in ("张晓明", "zhang@example.org", "渝北区市场监管局", "专利信息检索"):
        assert text in html
    assert completion["certificate"].serial in html
    # Each lesson with first opened and completed, Shanghai time to the second,
    # in Chinese words (the admin's active language).
    for when in (
        "2027年4月20日 09:00:05",
        "2027年4月20日 09:12:30",
        "2027年4月20日 14:11:07",
        "2027年4月21日 16:44:59",
    ):
        assert when in html, when
    assert 'datetime="2027-04-20T09:00:05+08:00"' in html
    for title in ("第一课 检索基础", "第二课 专利导航", "第三课 随堂测验"):
        assert title in html
    # 550 distinct seconds played of the 600 the server measured (the player
    # said 598), and the stretches played.
    videos = rows_of(html, 'id="evidence-videos-heading"')
    assert '<td class="evidence__number">550</td>' in videos
    assert '<td class="evidence__number">600</td>' in videos
    assert '<td class="evidence__number">598</td>' in videos
    assert "0–300, 310–560" in videos
    # Both attempts with their scores and times; the grant with its reason.
    attempts = rows_of(html, 'id="evidence-attempts-heading"')
    assert "33.3" in attempts and "100.0" in attempts
    assert "2027年4月21日 16:44:00" in attempts
    assert "考试时停电，补一次机会" in html
    assert "周培训 &lt;zhou@example.org&gt;" in html
    # The history: issued, superseded, issued again, revoked with the reason.
    history = rows_of(html, 'id="evidence-history-heading"')
    assert completion["first"].serial in history
    assert "学时记录有误" in history
    assert "姓名更正" in history


def test_the_times_are_shanghai_time_whatever_the_staff_members_zone(
    client, completion
):
    manager = completion["manager"]
    profile = UserProfile.get_for_user(manager)
    profile.current_time_zone = "Europe/London"
    profile.preferred_language = "en"
    profile.save()
    client.force_login(manager)
    html = client.get(enrolment_url(completion["enrolment"])).content.decode()
    # In English words, still the Shanghai clock.
    assert "20 April 2027 09:00:05" in html
    assert "21 April 2027 16:44:59" in html
    assert "Seconds of video played" in html


def test_an_event_certificate_shows_who_scanned_and_the_reversal(client, attendance):
    client.force_login(staff(*MANAGER_PERMISSIONS))
    response = client.get(certificate_url(attendance["certificate"]))
    assert response.status_code == 200
    html = response.content.decode()
    checkin = rows_of(html, 'id="evidence-checkin-heading"')
    assert "商标保护讲座" in checkin
    assert "王检票 &lt;door@example.org&gt;" in checkin
    assert "2027年4月26日 08:47:12" in checkin
    assert "赵核查 &lt;check@example.org&gt;" in checkin
    assert "2027年4月26日 09:30:00" in checkin
    assert "扫错了人：本人未到场" in checkin
    # The ledger: earned, then reversed (entry 2 reverses entry 1).
    ledger = rows_of(html, 'id="evidence-ledger-heading"')
    assert "-2.0" in ledger and "2.0" in ledger
    # No course records for an event.
    assert 'id="evidence-lessons-heading"' not in html


def test_the_enrolment_page_links_to_the_certificate(client, completion):
    client.force_login(completion["manager"])
    html = client.get(enrolment_url(completion["enrolment"])).content.decode()
    certificate = completion["certificate"]
    assert reverse("courses_evidence:certificate", args=(certificate.pk,)) in html
    assert reverse("certificate_admin:inspect", args=(certificate.pk,)) in html
    # And back, for staff who may see enrolments.
    html = client.get(certificate_url(certificate)).content.decode()
    assert enrolment_url(completion["enrolment"]) in html


def test_the_certificate_admin_links_to_the_evidence(client, completion):
    client.force_login(completion["manager"])
    certificate = completion["certificate"]
    url = reverse("courses_evidence:certificate", args=(certificate.pk,))
    inspect = client.get(reverse("certificate_admin:inspect", args=(certificate.pk,)))
    assert url in inspect.content.decode()
    listing = client.get(reverse("certificate_admin:index"))
    assert url in listing.content.decode()


# --- the download -------------------------------------------------------------


def test_the_csv_holds_the_same_evidence_and_is_logged(client, completion):
    manager = completion["manager"]
    client.force_login(manager)
    certificate = completion["certificate"]
    response = client.get(certificate_url(certificate, export="csv"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert f"evidence-{certificate.serial}.csv" in response["Content-Disposition"]
    content = response.content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(content)))
    flat = [cell for row in rows for cell in row]
    assert "张晓明" in flat and "zhang@example.org" in flat
    # Lessons with times to the second (Shanghai), seconds played and length.
    reading = next(row for row in rows if row and row[0] == "第一课 检索基础")
    assert "2027-04-20 09:00:05" in reading and "2027-04-20 09:12:30" in reading
    video_row = next(
        row for row in rows if row[:2] == ["第二课 专利导航", "专利导航概述"]
    )
    assert video_row[2:6] == ["550", "600", "598", "92"]
    attempts = [row for row in rows if row and row[0] == "第三课 随堂测验"]
    assert any("33.3" in row for row in attempts)
    assert any("100.0" in row for row in attempts)
    assert "考试时停电，补一次机会" in flat
    assert "学时记录有误" in " ".join(flat)

    (entry,) = exports()
    assert entry.user_id == manager.pk
    assert entry.object_id == str(certificate.pk)
    assert entry.data["format"] == "csv"
    assert entry.data["rows"] > 10


def test_an_enrolments_download_is_in_the_site_history(client, completion):
    manager = completion["manager"]
    client.force_login(manager)
    enrolment = completion["enrolment"]
    response = client.get(enrolment_url(enrolment, export="csv"))
    assert response.status_code == 200
    name = f"evidence-enrolment-{enrolment.pk}.csv"
    assert name in response["Content-Disposition"]
    (entry,) = exports()
    assert entry.object_id == str(enrolment.pk) and entry.user_id == manager.pk
    history = client.get(reverse("wagtailadmin_reports:site_history"))
    assert history.status_code == 200
    assert "CSV" in history.content.decode()


def test_the_xlsx_has_a_sheet_per_table(client, attendance):
    client.force_login(staff(*MANAGER_PERMISSIONS))
    certificate = attendance["certificate"]
    response = client.get(certificate_url(certificate, export="xlsx"))
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert len(workbook.sheetnames) == 6  # learner, achievement, check-in, ledger…
    values = [
        cell
        for sheet in workbook.worksheets
        for row in sheet.iter_rows(values_only=True)
        for cell in row
    ]
    assert "王检票 <door@example.org>" in values
    assert "扫错了人：本人未到场" in values
    assert datetime.datetime(2027, 4, 26, 8, 47, 12) in values  # Shanghai time
    assert [entry.data["format"] for entry in exports()] == ["xlsx"]


# --- who may see it -----------------------------------------------------------


def test_a_learner_gets_no_evidence_not_even_their_own(client, completion):
    """The cheapest forgery: the learner asks for their own certificate's
    evidence and its download by id."""
    client.force_login(completion["learner"])
    for url in (
        certificate_url(completion["certificate"]),
        certificate_url(completion["certificate"], export="csv"),
        enrolment_url(completion["enrolment"], export="xlsx"),
    ):
        response = client.get(url)
        assert response.status_code == 302, url
        assert "张晓明" not in response.content.decode()
    assert exports() == []


def test_staff_need_the_permission_of_each_kind_of_evidence(client, completion):
    # Admin access, no record permissions: sent away, nothing logged.
    client.force_login(staff("access_admin"))
    for url in (
        certificate_url(completion["certificate"], export="csv"),
        enrolment_url(completion["enrolment"], export="csv"),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"] == reverse("wagtailadmin_home")
    # Certificates only: a certificate's evidence, not an enrolment's.
    client.force_login(staff("access_admin", "view_certificate"))
    assert client.get(certificate_url(completion["certificate"])).status_code == 200
    assert client.get(enrolment_url(completion["enrolment"])).status_code == 302
    # Enrolments only: the other way round.
    client.force_login(staff("access_admin", "view_enrolment"))
    assert client.get(enrolment_url(completion["enrolment"])).status_code == 200
    assert client.get(certificate_url(completion["certificate"])).status_code == 302
    assert exports() == []


def test_staff_without_proven_mfa_are_sent_to_prove_it(client, completion):
    # No authenticator at all: set one up first.
    client.force_login(staff(*MANAGER_PERMISSIONS, mfa=False))
    response = client.get(certificate_url(completion["certificate"], export="csv"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("mfa_activate_totp"))
    # An authenticator, but this session never entered a code.
    unproven = staff(*MANAGER_PERMISSIONS, mfa=False)
    client.force_login(unproven)
    TOTP.activate(unproven, generate_totp_secret())
    response = client.get(enrolment_url(completion["enrolment"], export="csv"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("mfa_reauthenticate"))
    assert exports() == []


def test_an_unknown_id_is_not_found_for_staff_only(client, completion):
    client.force_login(completion["manager"])
    missing = reverse("courses_evidence:certificate", args=(999_999,))
    assert client.get(missing).status_code == 404
    client.force_login(staff("access_admin"))
    # Without the permission the answer does not say whether it exists.
    assert client.get(missing).status_code == 302


# --- cost ---------------------------------------------------------------------


def test_the_query_count_does_not_grow_with_lessons_and_attempts(client, completion):
    client.force_login(completion["manager"])
    course, enrolment = completion["course"], completion["enrolment"]
    url = certificate_url(completion["certificate"])
    client.get(url)  # caches warmed (content types, site settings)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    before = queries()
    other = get_document_model().objects.create(
        title="另一个视频.mp4", file=ContentFile(b"\x00" * 16, name="other.mp4")
    )
    MediaFacts.objects.update_or_create(
        document=other, defaults={"duration_seconds": 300}
    )
    for number in range(4):
        add_lesson(
            course,
            enrolment,
            number=number,
            video_document=other if number % 2 else completion["document"],
        )
    html = client.get(url).content.decode()
    assert "附加课3" in html and "测验3" in html
    assert queries() == before

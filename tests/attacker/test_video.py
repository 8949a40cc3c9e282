"""A hostile learner and a video lesson: the cheapest forged requests that
would complete it without watching. The server knows the video's length from
the file (courses.media) and counts only what its own clock allows, at no
more than settings.PORTAL_VIDEO_MAX_PLAYBACK_RATE (courses.services.
video_heartbeat); whatever length the request states is not read.

Plus the measuring itself: a real video and a real PDF uploaded through the
admin's screens get their length and pages, a file that cannot be measured
is kept with the reason, and a lesson cannot use a video without a length."""

import subprocess
from datetime import timedelta

import pytest

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from wagtail.documents import get_document_model

from courses import media
from courses.blocks import VideoBlock
from courses.models import (
    CertificateRequest,
    HoursLedgerEntry,
    LessonProgress,
    MediaFacts,
)
from tests.courses.factories import (
    CourseIndexPageFactory,
    CoursePageFactory,
    LessonPageFactory,
    measured,
    paragraph,
    video,
)
from tests.factories import StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

LENGTH = 100.0  # seconds: the length the server measured
NOT_MEASURED = "时长尚未测定"  # in the learner's message, in Chinese
STAFF_REASON = "服务器无法读取该视频文件"  # "the server could not read the file"


class Clock:
    """The server's clock, stopped and moved on by the test (django.utils.
    timezone.now, which the services read; no freezegun in
    requirements-dev.lock)."""

    def __init__(self, monkeypatch) -> None:  # type: ignore[no-untyped-def]
        start = timezone.now()
        self.offset = timedelta(0)
        # Stopped between moves, so that a slow test machine adds nothing.
        monkeypatch.setattr("django.utils.timezone.now", lambda: start + self.offset)

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    return Clock(monkeypatch)


def fake_video(title: str):  # type: ignore[no-untyped-def]
    document = get_document_model().objects.create(title=title)
    document.file.save(
        f"{title}.webm", ContentFile(b"\x1aE\xdf\xa3 " + title.encode()), save=True
    )
    return document


@pytest.fixture
def course(home):
    catalogue = CourseIndexPageFactory(parent=home)
    course = CoursePageFactory(parent=catalogue, slug="patents", title="专利基础")
    lecture = fake_video("lecture")
    measured(lecture, LENGTH)
    LessonPageFactory(
        parent=course, slug="video", title="第一课 专利导航", body=[video(lecture)]
    )
    LessonPageFactory(
        parent=course,
        slug="unmeasured",
        title="第二课 未测定的视频",
        body=[paragraph(), video(fake_video("unmeasured"))],
    )
    return course


def lesson(course, slug):  # type: ignore[no-untyped-def]
    return course.get_children().get(slug=slug).specific


@pytest.fixture
def learner(client, course):  # type: ignore[no-untyped-def]
    from courses import services

    user = UserFactory()
    services.enrolment_self(user=user, course=course)
    client.force_login(user)
    return user


class Player:
    """Sends heartbeats as a browser would, or as an attacker would."""

    def __init__(self, client, lesson_page) -> None:  # type: ignore[no-untyped-def]
        self.client = client
        self.lesson = lesson_page
        self.url = reverse("courses:heartbeat", args=[lesson_page.pk])
        self.key = lesson_page.tracked_videos()[0].id

    def beat(self, start: float, end: float, **extra):  # type: ignore[no-untyped-def]
        return self.client.post(
            self.url,
            {"video": self.key, "from": start, "to": end, **extra},
            content_type="application/json",
        )

    def progress(self) -> LessonProgress:
        return LessonProgress.objects.get(lesson_key=self.lesson.pk)


@pytest.fixture
def player(client, course, learner) -> Player:
    return Player(client, lesson(course, "video"))


def assert_nothing_of_value(player: Player) -> None:
    progress = player.progress()
    assert progress.status == "started"
    assert not HoursLedgerEntry.objects.exists()
    assert not CertificateRequest.objects.exists()


# --- forged heartbeats ----------------------------------------------------------


def test_the_forged_one_second_video_completes_nothing(player, clock):
    """The request of the issue: a one-second "video" played in full."""
    response = player.beat(0, 1, duration=1)
    assert response.status_code == 200
    assert response.json() == {"ok": True, "watched_seconds": 0.0, "completed": False}
    clock.advance(10)
    response = player.beat(0, 1, duration=1)
    assert response.json()["completed"] is False
    assert response.json()["watched_seconds"] == 1.0  # of 100 s, not of 1 s
    assert player.progress().video_duration == LENGTH
    assert_nothing_of_value(player)


def test_a_stated_length_is_not_read(player, clock):
    """An honest play-through completes whatever "duration" the player states."""
    player.beat(0, 0, duration=1)
    position = 0.0
    while position < 90:
        clock.advance(10)
        player.beat(position, position + 10, duration=99999)
        position += 10
    assert player.progress().status == "completed"
    assert player.progress().watched_seconds == 90.0


def test_replayed_heartbeats_count_once(player, clock):
    player.beat(0, 0)
    for _ in range(20):
        clock.advance(10)
        response = player.beat(0, 10)
    assert response.json()["watched_seconds"] == 10.0
    assert_nothing_of_value(player)


def test_a_heartbeat_claiming_double_speed_counts_the_allowed_speed(
    player, clock, settings
):
    assert settings.PORTAL_VIDEO_MAX_PLAYBACK_RATE == 1.5
    player.beat(0, 0)
    # A "2x" player reaches the end in 50 s: 20 s of video every 10 s.
    for position in range(0, 100, 20):
        clock.advance(10)
        player.beat(position, position + 20)
    progress = player.progress()
    assert progress.watched_seconds == 5 * 15.0  # 1.5 x 10 s per heartbeat
    assert_nothing_of_value(player)


def test_the_allowed_speed_is_a_setting(player, clock, settings):
    settings.PORTAL_VIDEO_MAX_PLAYBACK_RATE = 1.0
    player.beat(0, 0)
    clock.advance(10)
    assert player.beat(0, 20).json()["watched_seconds"] == 10.0


def test_a_seek_to_the_end_counts_only_what_was_played(player, clock):
    player.beat(0, 0)
    clock.advance(10)
    player.beat(0, 10)  # ten seconds really played
    clock.advance(1)
    player.beat(10, LENGTH)  # then the slider is dragged to the end
    clock.advance(1)
    response = player.beat(LENGTH, LENGTH)  # and the video "ends"
    assert response.json()["watched_seconds"] == 10 + 1.5  # 1 s at 1.5x
    assert_nothing_of_value(player)


def test_playing_the_last_tenth_after_a_seek_does_not_complete(player, clock):
    player.beat(90, 90)
    clock.advance(10)
    response = player.beat(90, LENGTH)
    assert response.json() == {"ok": True, "watched_seconds": 10.0, "completed": False}
    assert_nothing_of_value(player)


def test_many_fast_heartbeats_gain_no_more_than_their_time(player, clock):
    player.beat(0, 0)
    position = 0.0
    for _ in range(200):  # ten seconds of heartbeats, one every 50 ms
        clock.advance(0.05)
        player.beat(position, position + 10)
        position = min(position + 10, LENGTH - 10)
    assert player.progress().watched_seconds <= 1.5 * 10
    assert_nothing_of_value(player)


def test_a_claim_saved_up_by_waiting_counts_as_one_late_heartbeat(player, clock):
    player.beat(0, 0)
    clock.advance(3600)
    response = player.beat(0, LENGTH)
    assert response.json()["watched_seconds"] == 20 * 1.5
    assert_nothing_of_value(player)


def test_positions_that_are_not_numbers_are_refused(player, clock):
    player.beat(0, 0)
    clock.advance(10)
    for start, end in [(-5, 10), (20, 10), ("NaN", 10), (0, "Infinity")]:
        response = player.beat(start, end)
        assert response.status_code == 400
    assert player.progress().watched_seconds == 0


def test_a_video_without_a_measured_length_cannot_be_completed(
    client, course, learner, clock
):
    player = Player(client, lesson(course, "unmeasured"))
    player.beat(0, 0, duration=10)
    for _ in range(12):
        clock.advance(10)
        response = player.beat(0, 10, duration=10)
        assert response.status_code == 400
        assert NOT_MEASURED in response.json()["error"]
    progress = LessonProgress.objects.filter(lesson_key=player.lesson.pk).first()
    assert progress is None or progress.status == "started"
    assert not HoursLedgerEntry.objects.exists()
    # The learner reads why on the page; the player does not report at all.
    html = client.get(player.lesson.url).content.decode()
    assert NOT_MEASURED in html
    assert "data-heartbeat" not in html and STAFF_REASON not in html


def test_staff_see_why_a_video_is_not_tracked(client, course):
    document = get_document_model().objects.get(title="unmeasured")
    media.media_facts_measure(document_id=document.pk)
    client.force_login(StaffFactory())
    html = client.get(lesson(course, "unmeasured").url).content.decode()
    assert NOT_MEASURED in html
    assert STAFF_REASON in html


def test_a_measured_video_is_tracked_on_the_page(client, course, learner):
    html = client.get(lesson(course, "video").url).content.decode()
    assert 'data-max-rate="1.5"' in html and "data-heartbeat" in html
    assert NOT_MEASURED not in html


# --- measuring uploads -------------------------------------------------------------


@pytest.fixture(scope="module")
def real_webm(tmp_path_factory) -> bytes:
    """Six seconds of a test picture, encoded by ffmpeg as VP8 WebM."""
    path = tmp_path_factory.mktemp("media") / "six.webm"
    picture = ["-f", "lavfi", "-i", "testsrc=duration=6:size=160x120:rate=10"]
    subprocess.run(
        ["ffmpeg", "-v", "error", *picture, "-c:v", "libvpx", str(path)],
        check=True,
        timeout=120,
    )
    return path.read_bytes()


@pytest.fixture(scope="module")
def real_pdf() -> bytes:
    """Three A4 pages, rendered by WeasyPrint."""
    from weasyprint import HTML

    pages = "".join(f'<p style="page-break-after: always">第{n}页</p>' for n in (1, 2))
    return HTML(string=f"<html><body>{pages}<p>第3页</p></body></html>").write_pdf()


@pytest.fixture
def staff_client(client, home):
    client.force_login(StaffFactory())
    return client


def facts_of(title: str) -> MediaFacts:
    return MediaFacts.objects.get(document__title=title)


def test_a_video_from_multiple_upload_is_measured(
    staff_client, real_webm, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            reverse("wagtaildocs:add_multiple"),
            {"files[]": SimpleUploadedFile("讲座.webm", real_webm)},
        )
    assert response.status_code == 200 and response.json()["success"]
    facts = facts_of("讲座.webm")
    assert facts.duration_seconds == pytest.approx(6.0, abs=0.2)
    assert facts.error == "" and facts.page_count is None
    assert facts.file_hash == facts.document.file_hash


def test_a_pdf_from_the_chooser_modal_gets_its_pages(
    staff_client, real_pdf, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            reverse("wagtaildocs_chooser:create"),
            {
                "document-chooser-upload-title": "讲义",
                "document-chooser-upload-file": SimpleUploadedFile(
                    "handout.pdf", real_pdf
                ),
            },
        )
    assert response.status_code == 200, response.content[:500]
    facts = facts_of("讲义")
    assert facts.page_count == 3 and facts.duration_seconds is None


def test_a_file_that_cannot_be_measured_is_uploaded_with_the_reason(
    staff_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            reverse("wagtaildocs:add_multiple"),
            {"files[]": SimpleUploadedFile("broken.webm", b"not a video at all")},
        )
    assert response.status_code == 200 and response.json()["success"]
    facts = facts_of("broken.webm")
    assert facts.duration_seconds is None and facts.error
    # A lesson cannot use it: the editor is told why.
    block = VideoBlock()
    with pytest.raises(ValidationError) as raised:
        block.clean(block.to_python({"video": facts.document.pk}))
    assert "无法读取这个视频的时长" in str(raised.value.block_errors)


def test_a_video_is_measured_again_only_when_its_file_changes(
    real_webm, monkeypatch, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        document = get_document_model().objects.create(title="lecture")
        document.file.save("lecture.webm", ContentFile(real_webm), save=True)
    first = facts_of("lecture")
    assert first.duration_seconds == pytest.approx(6.0, abs=0.2)

    def must_not_read(path):  # type: ignore[no-untyped-def]
        raise AssertionError("measured again")

    monkeypatch.setattr(media, "video_duration", must_not_read)
    with django_capture_on_commit_callbacks(execute=True):
        document.title = "lecture, renamed"
        document.save()
    assert MediaFacts.objects.get().file_hash == first.file_hash

    monkeypatch.setattr(media, "video_duration", lambda path: 42.0)
    with django_capture_on_commit_callbacks(execute=True):
        document.file.save("lecture2.webm", ContentFile(real_webm + b"\0"), save=True)
    assert MediaFacts.objects.get().duration_seconds == 42.0


def test_files_on_remote_storage_are_measured_from_a_temporary_copy(
    real_webm, monkeypatch
):
    document = get_document_model().objects.create(title="remote")
    document.file.save("remote.webm", ContentFile(real_webm), save=True)
    # As with S3: no path on this machine, only storage.open().
    monkeypatch.setattr(media, "_local_path", lambda storage, name: None)
    facts = media.media_facts_measure(document_id=document.pk)
    assert facts.duration_seconds == pytest.approx(6.0, abs=0.2)


def test_a_lesson_can_use_a_measured_video(real_webm):
    document = get_document_model().objects.create(title="ok")
    document.file.save("ok.webm", ContentFile(real_webm), save=True)
    block = VideoBlock()
    # Not measured yet (no worker ran): the block measures it itself.
    cleaned = block.clean(block.to_python({"video": document.pk}))
    assert cleaned["video"].pk == document.pk
    assert MediaFacts.objects.get(document=document).duration_seconds > 5

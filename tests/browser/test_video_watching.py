"""A video lesson in a real browser: a learner who plays the video to the end
completes the lesson; one who jumps to the end with the developer tools
(`video.currentTime = video.duration`) does not. The video is a real 8-second
WebM made by ffmpeg, its length measured by the server when it was saved."""

import re
import subprocess

import pytest
from playwright.sync_api import expect

from django.core.files.base import ContentFile

from wagtail.documents import get_document_model

from courses import services
from courses.models import LessonProgress, MediaFacts
from tests.browser.helpers import assert_no_serious_axe_violations, sign_in
from tests.courses.factories import (
    CourseIndexPageFactory,
    CoursePageFactory,
    LessonPageFactory,
    video,
)
from tests.factories import UserFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

SECONDS = 8


@pytest.fixture(scope="module")
def webm(tmp_path_factory) -> bytes:
    path = tmp_path_factory.mktemp("video") / "eight.webm"
    picture = ["-f", "lavfi", "-i", f"testsrc=duration={SECONDS}:size=160x120:rate=10"]
    subprocess.run(
        ["ffmpeg", "-v", "error", *picture, "-c:v", "libvpx", "-g", "10", str(path)],
        check=True,
        timeout=120,
    )
    return path.read_bytes()


@pytest.fixture
def learner(home, webm):  # type: ignore[no-untyped-def]
    catalogue = CourseIndexPageFactory(parent=home)
    course = CoursePageFactory(parent=catalogue, slug="ip-basics", title="知识产权基础")
    document = get_document_model().objects.create(title="导航视频")
    # Saved outside a transaction: measured on commit, as after an upload.
    document.file.save("eight.webm", ContentFile(webm), save=True)
    assert MediaFacts.objects.get(document=document).duration_seconds == (
        pytest.approx(SECONDS, abs=0.2)
    )
    LessonPageFactory(
        parent=course, slug="video", title="第一课 专利导航", body=[video(document)]
    )
    user = UserFactory(email="wang.fang@example.org")
    services.enrolment_self(user=user, course=course)
    return user


def serve_with_ranges(tab) -> None:  # type: ignore[no-untyped-def]
    """Answer the video's range requests as a web server or S3 in front of
    the files would. Django's document view sends the whole file, in which
    Chromium cannot seek (a seek lands at 0), so the attack could not even
    be tried."""

    def answer(route) -> None:  # type: ignore[no-untyped-def]
        response = route.fetch()
        body = response.body()
        asked = re.match(r"bytes=(\d+)-(\d*)", route.request.headers.get("range", ""))
        if not asked:
            route.fulfill(response=response)
            return
        start = int(asked[1])
        end = int(asked[2]) if asked[2] else len(body) - 1
        route.fulfill(
            status=206,
            body=body[start : end + 1],
            headers={
                "Content-Type": response.headers["content-type"],
                "Accept-Ranges": "bytes",
                "Content-Range": f"bytes {start}-{end}/{len(body)}",
            },
        )

    tab.route("**/documents/**", answer)


def progress() -> LessonProgress:
    return LessonProgress.objects.get()


def test_playing_the_video_to_the_end_completes_the_lesson(page, learner):
    sign_in(page, learner.email)
    page.goto("/courses/ip-basics/video/")
    assert_no_serious_axe_violations(page)
    player = page.locator("video")
    player.evaluate("v => { v.muted = true; v.playbackRate = 4; return v.play(); }")
    # The player holds the speed to what the server counts (1.5 by default).
    page.wait_for_function("() => document.querySelector('video').playbackRate === 1.5")
    page.wait_for_function(
        "() => document.querySelector('video').ended", timeout=30_000
    )
    expect(page.locator("[data-video-status]")).to_have_text("✓")
    page.reload()
    expect(page.get_by_text("您已完成本课时")).to_be_visible()
    assert progress().watched_seconds >= 0.9 * SECONDS


def test_jumping_to_the_end_with_the_developer_tools_completes_nothing(page, learner):
    sign_in(page, learner.email)
    serve_with_ranges(page)
    page.goto("/courses/ip-basics/video/")
    player = page.locator("video")
    player.evaluate("v => { v.muted = true; return v.play(); }")
    page.wait_for_function("() => document.querySelector('video').currentTime > 1")
    # What a learner types into the console.
    with page.expect_response(lambda response: "heartbeat" in response.url):
        player.evaluate("v => { v.currentTime = v.duration; }")
    # It ends at once: it is not played to the end.
    page.wait_for_function("() => document.querySelector('video').ended", timeout=3_000)
    page.wait_for_timeout(1000)  # any last heartbeat has been answered
    page.reload()
    expect(page.get_by_text("观看视频达到 90%")).to_be_visible()
    expect(page.get_by_text("您已完成本课时")).to_have_count(0)
    recorded = progress()
    assert recorded.status == "started"
    # What was played before the jump counts; the jump does not.
    assert 0 < recorded.watched_seconds < 0.5 * SECONDS

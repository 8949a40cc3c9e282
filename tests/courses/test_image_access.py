"""Images in lessons are for enrolled learners and staff, by their direct file
URLs too; images shown on public pages stay public."""

import importlib
import io
import re
import uuid
from pathlib import Path

import pytest
from PIL import Image as PILImage

from django.conf import settings as django_settings
from django.core.files.base import ContentFile
from django.core.files.images import ImageFile
from django.core.files.storage import default_storage
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import clear_url_caches

from wagtail.documents import get_document_model
from wagtail.images.models import Image

from courses import services
from courses.models import SharedContent
from tests.courses.factories import (
    CourseIndexPageFactory,
    CoursePageFactory,
    LessonPageFactory,
    paragraph,
)
from tests.factories import (
    NewsIndexPageFactory,
    NewsPageFactory,
    StaffFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

IMG_SRC = re.compile(r'<img[^>]+src="([^"]+)"')
# Images only lessons use: in an image block, in rich text, in shared content.
LESSON_ONLY = ("diagram", "inline", "shared")


def picture(name: str, colour: str) -> Image:
    buffer = io.BytesIO()
    PILImage.new("RGB", (64, 48), colour).save(buffer, "PNG")
    return Image.objects.create(title=name, file=ImageFile(buffer, name=f"{name}.png"))


def image_block(image: Image) -> dict:
    return {
        "type": "image",
        "id": str(uuid.uuid4()),
        "value": {
            "image": {"image": image.pk, "alt_text": "示意图", "decorative": False},
            "caption": "专利申请流程",
        },
    }


def rich_text_image(image: Image) -> dict:
    """A paragraph with an image inside the rich text."""
    return paragraph(
        f'专利流程如下：</p><embed embedtype="image" id="{image.pk}" '
        f'format="fullwidth" alt="流程图"/><p>'
    )


def shared_block(shared: SharedContent) -> dict:
    return {"type": "shared", "id": str(uuid.uuid4()), "value": shared.pk}


@pytest.fixture
def images(db) -> dict[str, Image]:
    return {
        name: picture(name, colour)
        for name, colour in [
            ("diagram", "navy"),
            ("inline", "olive"),
            ("shared", "teal"),
            ("cover", "maroon"),
            ("cover-and-lesson", "purple"),
            ("news", "orange"),
            ("news-and-lesson", "green"),
        ]
    }


@pytest.fixture
def course(home, images, django_capture_on_commit_callbacks):
    # Reference-index updates run on commit, as the worker would run them.
    with django_capture_on_commit_callbacks(execute=True):
        catalogue = CourseIndexPageFactory(parent=home)
        course = CoursePageFactory(
            parent=catalogue,
            slug="patents",
            title="专利实务",
            cover_image=images["cover"],
        )
        CoursePageFactory(
            parent=catalogue, slug="trademarks", cover_image=images["cover-and-lesson"]
        )
        shared = SharedContent.objects.create(
            title="申请流程", body=[image_block(images["shared"])]
        )
        LessonPageFactory(
            parent=course,
            slug="diagrams",
            title="第一课 专利申请",
            body=[
                image_block(images["diagram"]),
                rich_text_image(images["inline"]),
                shared_block(shared),
                image_block(images["cover-and-lesson"]),
                image_block(images["news-and-lesson"]),
            ],
        )
        news_index = NewsIndexPageFactory(parent=home)
        NewsPageFactory(
            parent=news_index,
            slug="world-ip-day",
            body=[image_block(images["news"]), image_block(images["news-and-lesson"])],
        )
        other = CoursePageFactory(parent=catalogue, slug="copyright")
        LessonPageFactory(parent=other, slug="intro")
    course.other = other
    return course


@pytest.fixture
def learner(course):
    user = UserFactory()
    services.enrolment_self(user=user, course=course)
    return user


@pytest.fixture(params=["anonymous", "signed in", "enrolled elsewhere"])
def outsider(request, course):
    if request.param == "anonymous":
        return None
    user = UserFactory()
    if request.param == "enrolled elsewhere":
        services.enrolment_self(user=user, course=course.other)
    return user


def media_urls(html: str) -> list[str]:
    return [url for url in IMG_SRC.findall(html) if url.startswith("/media/")]


def lesson_image_urls(client, user) -> list[str]:
    client.force_login(user)
    page = client.get("/courses/patents/diagrams/")
    assert page.status_code == 200
    return media_urls(page.content.decode())


def page_of(response, path: str) -> str:
    """The error page, less what differs between any two of them."""
    text = response.text.replace(path, "<path>")
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", text)


def body(response) -> bytes:
    return b"".join(response.streaming_content)


# --- a learner's view ------------------------------------------------------


def test_an_enrolled_learner_sees_the_lesson_images(client, course, learner, images):
    urls = lesson_image_urls(client, learner)
    assert len(urls) == 5 and all(url.startswith("/media/images/") for url in urls)
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200
        assert response["Content-Type"] == "image/png"
        assert "private" in response["Cache-Control"]
        assert PILImage.open(io.BytesIO(body(response))).format == "PNG"
    original = client.get(images["diagram"].file.url)
    assert original.status_code == 200
    assert body(original) == Path(images["diagram"].file.path).read_bytes()


def test_no_one_else_gets_a_lesson_image(client, course, learner, images, outsider):
    urls = lesson_image_urls(client, learner)
    client.logout()
    if outsider:
        client.force_login(outsider)
    lesson_only = [url for url in urls if Path(url).name.startswith(LESSON_ONLY)]
    assert len(lesson_only) == len(LESSON_ONLY)
    nowhere = "/media/images/no-such-picture.width-960.png"
    missing = client.get(nowhere)
    assert missing.status_code == 404
    for url in lesson_only + [images[name].file.url for name in LESSON_ONLY]:
        response = client.get(url)
        assert response.status_code == 404
        # Nothing tells a lesson image from no image at all.
        assert page_of(response, url) == page_of(missing, nowhere)
    # The lesson's two other images are on public pages as well.
    for url in set(urls) - set(lesson_only):
        assert client.get(url).status_code == 200


def test_staff_see_lesson_images(client, course, learner, images):
    urls = lesson_image_urls(client, learner)
    client.force_login(StaffFactory())
    for url in [*urls, images["diagram"].file.url]:
        assert client.get(url).status_code == 200


def test_a_course_cover_is_public(client, course, images):
    covers = media_urls(client.get("/courses/").content.decode())
    assert covers
    for url in [*covers, images["cover"].file.url]:
        response = client.get(url)
        assert response.status_code == 200
        assert "public" in response["Cache-Control"]
        assert PILImage.open(io.BytesIO(body(response))).size


def test_images_on_public_pages_stay_public_when_a_lesson_uses_them(
    client, course, images
):
    for name in ("cover-and-lesson", "news-and-lesson", "news"):
        assert client.get(images[name].file.url).status_code == 200
    assert client.get(images["diagram"].file.url).status_code == 404


def test_an_image_used_nowhere_is_public(client, db):
    # Like any Wagtail file before lessons existed (courses.permissions).
    assert client.get(picture("unused", "black").file.url).status_code == 200


def test_an_unchanged_image_is_not_sent_again(client, course, learner):
    url = lesson_image_urls(client, learner)[0]
    first = client.get(url)
    again = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    assert "private" in again["Cache-Control"]
    # The check comes first: a stale copy's ETag tells an outsider nothing.
    client.logout()
    assert client.get(url, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 404


def test_serving_a_lesson_image_takes_a_few_queries(client, course, learner):
    url = lesson_image_urls(client, learner)[0]
    client.get(url)
    with CaptureQueriesContext(connection) as context:
        assert client.get(url).status_code == 200
    # The image, its uses, the session, the user, the enrolment.
    assert len(context.captured_queries) <= 5


def test_test_files_stay_in_the_test_media_root(images):
    root = Path(django_settings.MEDIA_ROOT).resolve()
    assert Path(images["diagram"].file.path).resolve().is_relative_to(root)


# --- development and production set-ups -----------------------------------


@pytest.fixture
def debug_urls(settings):
    """The URLconf as `manage.py runserver` builds it, with DEBUG on."""
    import portal.urls

    settings.DEBUG = True
    importlib.reload(portal.urls)
    clear_url_caches()
    yield
    settings.DEBUG = False
    importlib.reload(portal.urls)
    clear_url_caches()


def test_lesson_images_stay_private_in_development(client, course, images, debug_urls):
    assert client.get(images["diagram"].file.url).status_code == 404
    assert client.get(images["cover"].file.url).status_code == 200


def test_no_other_media_file_has_an_address(client, debug_urls):
    document = get_document_model().objects.create(title="讲义")
    document.file.save("handout.pdf", ContentFile(b"%PDF-1.7 handout"), save=True)
    pdf = default_storage.save("certificates/2026/CQIP-1.pdf", ContentFile(b"%PDF"))
    try:
        assert client.get(f"/media/{document.file.name}").status_code == 404
        assert client.get(f"/media/{pdf}").status_code == 404
        assert client.get(document.url).status_code == 200  # the document view
    finally:
        default_storage.delete(pdf)


def test_with_s3_images_are_addressed_through_the_portal(settings):
    from portal.storage import S3MediaStorage

    storage = S3MediaStorage(
        bucket_name="ip-portal-media",
        access_key="AKIAEXAMPLE",
        secret_key="example",
        region_name="cn-southwest-2",
    )
    assert storage.url("images/流程.width-960.png") == (
        "/media/images/%E6%B5%81%E7%A8%8B.width-960.png"
    )
    assert storage.url("original_images/a.png") == "/media/original_images/a.png"
    assert "Signature=" in storage.url("certificates/a.pdf")
    assert storage.file_overwrite is False


def test_the_seal_and_signatures_are_for_staff_only(client, learner):
    from wagtail.models import ReferenceIndex

    from courses.models import CertificateSettings, CertificateTemplate

    seal, signature = picture("seal", "red"), picture("signature", "blue")
    settings = CertificateSettings.load()
    settings.seal = seal
    settings.save()
    template = CertificateTemplate.objects.get()
    template.signatories = [
        ("signatory", {"name": "王明远", "role": "主任", "signature": signature})
    ]
    template.save()
    ReferenceIndex.create_or_update_for_object(settings)
    ReferenceIndex.create_or_update_for_object(template)
    for user in (None, learner):
        client.logout()
        if user:
            client.force_login(user)
        for image in (seal, signature):
            assert client.get(image.file.url).status_code == 404
    client.force_login(StaffFactory())
    for image in (seal, signature):
        assert client.get(image.file.url).status_code == 200

"""A `next` address from the client never sends a visitor to another site.

Each redirect to a client-given address goes through portal.http.safe_next;
the attacker's cheapest link is `…?next=https://evil.example/` or `//evil…`.
"""

from urllib.parse import parse_qs, urlsplit

import pytest

from django.test import Client
from django.urls import reverse

from events.registration import services as registration_services
from tests.courses.factories import (
    CourseIndexPageFactory,
    CoursePageFactory,
    LessonPageFactory,
    paragraph,
)
from tests.events.factories import EventIndexPageFactory, EventPageFactory
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

OFF_SITE = [
    "https://evil.example/",
    "//evil.example",
    "///evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "https:evil.example",
    "javascript:alert(1)",
    " https://evil.example/",
    "http://testserver.evil.example/",
]
# Django refuses a Location header with a line break as a server error.
HEADER_BREAKING = ["/learning/\r\nSet-Cookie: a=b", "/learning/\nx"]


def stays_here(location: str) -> bool:
    parts = urlsplit(location)
    return (
        parts.scheme in ("", "http", "https")
        and parts.netloc in ("", "testserver")
        and not location.lstrip().startswith(("//", "\\"))
        and "\\" not in location
    )


@pytest.fixture
def lesson(home):
    catalogue = CourseIndexPageFactory(parent=home)
    course = CoursePageFactory(parent=catalogue, slug="ip-basics")
    return LessonPageFactory(parent=course, slug="reading", body=[paragraph()])


@pytest.fixture
def learner() -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(UserFactory())
    return client


@pytest.mark.parametrize("next_url", OFF_SITE + HEADER_BREAKING)
def test_the_lesson_complete_error_path_stays_on_the_site(lesson, learner, next_url):
    # Not enrolled: the view answers "enrol first" and goes back to `next`.
    url = reverse("courses:complete", args=[lesson.pk])
    response = learner.post(url, {"next": next_url})
    assert response.status_code == 302
    assert response["Location"] == reverse("courses:my_learning")


def test_the_lesson_complete_error_path_keeps_a_next_on_the_site(lesson, learner):
    url = reverse("courses:complete", args=[lesson.pk])
    response = learner.post(url, {"next": lesson.url})
    assert response["Location"] == lesson.url


@pytest.mark.parametrize("next_url", OFF_SITE + HEADER_BREAKING)
def test_cancelling_a_registration_stays_on_the_site(home, next_url):
    event = EventPageFactory(parent=EventIndexPageFactory(parent=home))
    user = UserFactory()
    registration = registration_services.registration_create(user=user, event=event)
    client = Client(raise_request_exception=False)
    client.force_login(user)
    response = client.post(
        reverse("events:registration_cancel", args=[registration.pk]),
        {"next": next_url},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("events:my_registrations")


@pytest.mark.parametrize("next_url", OFF_SITE + HEADER_BREAKING)
def test_the_language_switch_stays_on_the_site(next_url):
    client = Client(raise_request_exception=False)
    response = client.post(
        reverse("set_language"), {"language": "en", "next": next_url}
    )
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_the_language_switch_keeps_a_next_on_the_site(home):
    response = Client().post(
        reverse("set_language"), {"language": "en", "next": "/en/learning/"}
    )
    assert response["Location"] == "/en/learning/"


@pytest.mark.parametrize("path", ["/admin/login/", "/django-admin/login/"])
@pytest.mark.parametrize("next_url", OFF_SITE + HEADER_BREAKING)
def test_the_admin_login_pages_pass_on_only_a_next_on_the_site(home, path, next_url):
    client = Client(raise_request_exception=False)
    response = client.get(path, {"next": next_url})
    assert response.status_code == 302
    passed_on = parse_qs(urlsplit(response["Location"]).query)["next"]
    assert passed_on == ["/admin/"]


@pytest.mark.parametrize("next_url", OFF_SITE)
def test_signing_in_stays_on_the_site(home, next_url):
    """allauth's own `next` after a sign-in, checked the same way."""
    user = UserFactory()
    client = Client(raise_request_exception=False)
    response = client.post(
        f"{reverse('account_login')}?next={next_url}",
        {"login": user.email, "password": "correct horse battery staple"},
    )
    assert response.status_code == 302
    assert stays_here(response["Location"]), response["Location"]

"""Redis stopped while trainees learn (issue 16, part 4): the portal's cache
and broker are private redis-servers (tests/portal/private_redis.py) that the
tests stop in the middle and start again; the views are the real ones,
through Django's test client, the worker a real prefork worker.

- The broker's Redis stopped (the cache's up): trainees signed in before
  enrol in a course and complete it; every page answers, the records are
  saved and the certificates wait as pending requests (the enqueue after
  commit fails quietly: portal.celery.PortalTask). With the broker back, a
  worker and beat's sweeps issue each certificate once, with its PDF, and
  deliver each e-mail once.
- The one Redis (cache and broker, as production with REDIS_URL) stopped:
  a sign-in fails closed with 503 (docs/security.md, "Limits that fail"), and
  so does every page, a signed-in trainee's too (cached_db sessions re-cache
  what they read from the database and fail; the frame and Wagtail's site
  paths are read from the cache): a 503 with Retry-After, never a 500, and
  nothing half-done. Sessions live in the database: with Redis back, the
  same trainees go on without signing in again.

Runs in both CI runs wherever `redis-server` is installed (the CI has it for
both): the database is the run's (SQLite or PostgreSQL), cache and broker are
the private Redis. Skipped only on a machine without `redis-server` and no
REDIS_URL (tests/portal/private_redis.py, requires_redis_server).
"""

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import cast

import pytest

from django.conf import settings
from django.contrib.sessions.models import Session
from django.db.models import F
from django.test import Client, override_settings
from django.urls import reverse

from courses.models import Certificate, CertificateRequest, CoursePage, Enrolment
from courses.tasks import sweep_certificates
from portal.models import OutgoingEmail, User
from portal.tasks import sweep_outgoing_email
from tests.courses.factories import (
    CourseIndexPageFactory,
    CoursePageFactory,
    LessonPageFactory,
)
from tests.courses.test_certificate_worker import (
    Worker,
    all_certified,
    assert_each_request_certified_once,
)
from tests.factories import UserFactory
from tests.portal.private_redis import (
    PrivateWorker,
    RedisServer,
    celery_broker,
    redis_servers,
    requires_redis_server,
)
from tests.portal.test_worker import wait_for

pytestmark = [
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    requires_redis_server,
]

PASSWORD = "correct horse battery staple"
TRAINEES = 3
#: How long Redis is down, as the sweeps see it: longer than their cut-offs
#: (certificates_sweep's `older_than`, PORTAL_EMAIL_SWEEP_AFTER: 2 minutes).
OUTAGE = timedelta(minutes=5)


def redis_cache(redis: RedisServer) -> dict:
    """CACHES as settings.test makes them from REDIS_URL: database 15."""
    return {
        "default": {
            "BACKEND": "portal.cache.RedisCache",
            "LOCATION": redis.url(15),
            "KEY_PREFIX": "portal-test",
        }
    }


@pytest.fixture
def start_redis(tmp_path):
    """Starts a private redis-server; all are stopped at the end."""
    with redis_servers(tmp_path) as start:
        yield start


@contextmanager
def portal_on(*, cache: RedisServer, broker: RedisServer) -> Iterator[None]:
    """This process (the web side: views, sessions, limits, enqueues) uses
    the private servers as cache and broker, as production with REDIS_URL
    (one server for both) or with CELERY_BROKER_URL apart."""
    with override_settings(CACHES=redis_cache(cache)), celery_broker(broker.url(0)):
        yield


@pytest.fixture
def course(home):
    catalogue = CourseIndexPageFactory(parent=home)
    course = CoursePageFactory(parent=catalogue, slug="ip-basics", title="知识产权基础")
    # No minimum reading time: the lesson may be completed as soon as opened.
    LessonPageFactory(
        parent=course, slug="reading", title="第一课 什么是知识产权", minimum_minutes=0
    )
    return course


def sign_in(client: Client, user: User) -> int:
    """The real sign-in form; returns its status."""
    response = client.post(
        reverse("account_login"), {"login": user.email, "password": PASSWORD}
    )
    return response.status_code


def signed_in_user_ids() -> set[str | None]:
    """Whose sessions the database holds (read without the cache)."""
    return {s.get_decoded().get("_auth_user_id") for s in Session.objects.all()}


def signed_in_trainees(count: int) -> list[tuple[Client, User]]:
    trainees = []
    for _ in range(count):
        client, trainee = Client(), cast(User, UserFactory())
        assert sign_in(client, trainee) == 302
        assert client.get(reverse("courses:my_learning")).status_code == 200
        trainees.append((client, trainee))
    return trainees


@dataclass(frozen=True)
class Addresses:
    """A course's addresses, taken while the cache is up: Wagtail keeps its
    site paths there, and reads them to make a page's URL."""

    course: str
    enrol: str
    lesson: str
    complete: str

    @classmethod
    def of(cls, course: CoursePage) -> "Addresses":
        lesson = course.get_children().get(slug="reading")
        return cls(
            course=course.url,
            enrol=reverse("courses:enrol", args=[course.pk]),
            lesson=lesson.url,
            complete=reverse("courses:complete", args=[lesson.pk]),
        )


def enrol_and_complete(client: Client, urls: Addresses) -> None:
    """What a trainee does, through the real views; never a server error."""
    assert client.get(urls.course).status_code == 200
    response = client.post(urls.enrol)
    assert response.status_code == 302
    assert response["Location"] == urls.lesson
    assert client.get(urls.lesson).status_code == 200
    response = client.post(urls.complete)
    assert response.status_code == 302
    assert client.get(reverse("courses:my_learning")).status_code == 200


def sweep_after_the_outage() -> None:
    """The outage lasted longer than the sweeps' cut-offs; beat's sweeps run
    (in this process, sending to the broker the portal uses)."""
    assert settings.PORTAL_EMAIL_SWEEP_AFTER < OUTAGE
    CertificateRequest.objects.update(requested_at=F("requested_at") - OUTAGE)
    OutgoingEmail.objects.update(created_at=F("created_at") - OUTAGE)
    sweep_certificates()
    sweep_outgoing_email()


def assert_certified_once_and_mailed_once(
    worker: Worker, requests: list[CertificateRequest]
) -> None:
    assert wait_for(lambda: all_certified(len(requests)), timeout=90), worker.log()
    assert wait_for(
        lambda: not OutgoingEmail.objects.exclude(status="sent").exists(),
        timeout=30,
    ), worker.log()
    assert_each_request_certified_once(requests)
    # What reached the mail server: each e-mail of the outbox, once.
    assert delivered_to(worker.mail_dir) == Counter(
        address
        for to in OutgoingEmail.objects.values_list("to", flat=True)
        for address in to
    )


def delivered_to(mail_dir: Path) -> Counter:
    """The recipients of the messages the file backend wrote (several
    messages may share a file)."""
    return Counter(
        line.removeprefix("To: ")
        for path in mail_dir.iterdir()
        for line in path.read_text(errors="replace").splitlines()
        if line.startswith("To: ")
    )


def test_the_broker_is_down_while_trainees_enrol_and_complete_a_course(
    start_redis, course, tmp_path
):
    """The broker's Redis stopped, the cache's up (CELERY_BROKER_URL on a
    server of its own): the trainees' pages answer, their records are saved,
    and their certificates are issued once the broker is back."""
    cache, broker = start_redis(), start_redis()
    urls = Addresses.of(course)
    with portal_on(cache=cache, broker=broker):
        trainees = signed_in_trainees(TRAINEES)
        broker.stop()
        for client, _ in trainees:
            enrol_and_complete(client, urls)

        # Everything was saved; the certificates wait, none issued yet.
        for _, trainee in trainees:
            enrolment = Enrolment.objects.get(user=trainee, course_key=course.pk)
            assert enrolment.completed_at is not None
        requests = list(CertificateRequest.objects.order_by("pk"))
        assert [r.user for r in requests] == [trainee for _, trainee in trainees]
        assert {r.status for r in requests} == {"pending"}
        assert not Certificate.objects.exists()

        # The broker comes back empty (no disk), then a worker and the sweeps.
        broker.start()
        worker = PrivateWorker(tmp_path, cache=cache, broker=broker)
        worker.start()
        try:
            sweep_after_the_outage()
            assert_certified_once_and_mailed_once(worker, requests)
        finally:
            worker.stop()


def test_redis_down_while_trainees_enrol_and_complete_a_course(
    start_redis, course, tmp_path
):
    """Production's one Redis (cache and broker) stopped. The signed-in
    trainees' pages answer and their work is saved: the cache
    (portal.cache.RedisCache) reads a miss, the session comes from the
    database, the certificate's enqueue is logged and left to the sweep.
    A new sign-in fails closed, with Retry-After (docs/security.md, "Limits
    that fail"). With Redis back, every certificate is issued once, with its
    PDF, and every e-mail delivered once."""
    redis = start_redis()
    urls = Addresses.of(course)
    with portal_on(cache=redis, broker=redis):
        trainees = signed_in_trainees(TRAINEES)
        latecomer = UserFactory()
        redis.stop()

        late = Client()
        response = late.post(
            reverse("account_login"),
            {"login": latecomer.email, "password": PASSWORD},
        )
        assert response.status_code == 503
        assert response["Retry-After"]
        assert str(latecomer.pk) not in signed_in_user_ids()

        assert Client().get("/").status_code == 200
        for client, _ in trainees:
            enrol_and_complete(client, urls)
        for _, trainee in trainees:
            enrolment = Enrolment.objects.get(user=trainee, course_key=course.pk)
            assert enrolment.completed_at is not None
        requests = list(CertificateRequest.objects.order_by("pk"))
        assert [r.user for r in requests] == [trainee for _, trainee in trainees]
        assert {r.status for r in requests} == {"pending"}
        assert not Certificate.objects.exists()

        redis.start()  # empty: Redis keeps nothing on disk here
        worker = PrivateWorker(tmp_path, cache=redis, broker=redis)
        worker.start()
        try:
            sweep_after_the_outage()
            assert_certified_once_and_mailed_once(worker, requests)
        finally:
            worker.stop()

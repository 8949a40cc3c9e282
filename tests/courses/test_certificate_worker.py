"""Certificates with real Celery workers: exactly once whatever goes wrong.

The worker runs as the default set-up does (prefork, two processes) on the
test database and broker: the filesystem broker on SQLite, Redis on the
PostgreSQL run. It is killed with SIGKILL in the middle of a bulk run, the
broker is unreachable when a course is completed, two completions race, and
many issues take serial numbers at once. After the beat sweep every
achievement has one certificate, one PDF and one e-mail, and the serial
numbers run 1..N without a gap.
"""

import os
import signal
import subprocess
import sys
import textwrap
import threading
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import pytest

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.utils import timezone

from courses import services as course_services
from courses.certificates import services
from courses.models import (
    Certificate,
    CertificateBatch,
    CertificateBatchItem,
    CertificateRequest,
    TrainingClass,
    TrainingClassMember,
)
from portal import queues
from portal.celery import app as celery_app
from portal.models import OutgoingEmail
from tests.courses.factories import (
    CertificateRequestFactory,
    CourseIndexPageFactory,
    CoursePageFactory,
    LessonPageFactory,
)
from tests.courses.reading import read_for_the_minimum_time
from tests.factories import UserFactory
from tests.portal.test_worker import FILE_BACKEND, ROOT, database_url, wait_for

pytestmark = [
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    # A hung worker fails the test instead of hanging CI.
    pytest.mark.timeout(240),
]

LEARNERS = 80
#: Nothing listens here: a broker that is down.
DEAD_BROKER = "redis://127.0.0.1:1/0"


class Worker:
    """`celery worker --pool prefork --concurrency 2` in its own process group,
    so that SIGKILL takes the parent and its pool processes at once."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.mail_dir = tmp_path / "mail"
        self.mail_dir.mkdir(exist_ok=True)
        self.started = 0
        self.process: subprocess.Popen | None = None

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "portal.settings.test",
            "DATABASE_URL": database_url(),
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "PORTAL_EMAIL_DELIVERY_BACKEND": FILE_BACKEND,
            "EMAIL_FILE_PATH": str(self.mail_dir),
        }

    def start(self) -> None:
        self.started += 1
        self.log_path = self.tmp_path / f"worker-{self.started}.log"
        with self.log_path.open("w") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "portal",
                    "worker",
                    "--pool",
                    "prefork",
                    "--concurrency",
                    "2",
                    "--queues",
                    ",".join(queues.all_queues(settings.CELERY_TASK_DEFAULT_QUEUE)),
                    "--without-mingle",
                    "--without-gossip",
                    "--without-heartbeat",
                    "--loglevel",
                    "INFO",
                ],
                cwd=ROOT,
                env=self.env(),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        if not wait_for(lambda: "ready." in self.log(), timeout=60):
            self.kill()
            pytest.fail("The worker did not start:\n" + self.log())

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL to the whole group: no task is finished, nothing acked."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=20)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def worker(tmp_path, monkeypatch):
    if settings.CELERY_BROKER_URL != "filesystem://":
        celery_app.control.purge()  # nothing left over from an earlier run
    monkeypatch.setitem(celery_app.conf, "task_always_eager", False)
    worker = Worker(tmp_path)
    worker.start()
    yield worker
    worker.stop()


@pytest.fixture
def course(home):
    """A published course of one reading lesson: marking it read (once its
    minimum time has passed: read_for_the_minimum_time) completes it."""
    catalogue = CourseIndexPageFactory(parent=home)
    course = CoursePageFactory(parent=catalogue, slug="ip-basics", title="知识产权基础")
    LessonPageFactory(parent=course, slug="reading", title="第一课 什么是知识产权")
    return course


def reading_lesson(course):
    return course.get_children().get(slug="reading").specific


def year_serials() -> list[int]:
    year = timezone.localdate().year
    serials = Certificate.objects.values_list("serial", flat=True)
    assert all(s.startswith(f"CQIP-{year}-") for s in serials)
    return sorted(int(s.rsplit("-", 1)[1]) for s in serials)


def assert_each_request_certified_once(requests: list[CertificateRequest]) -> None:
    """One certificate per request, its PDF stored, one e-mail per learner,
    and serial numbers 1..N for the year."""
    for request in requests:
        (certificate,) = Certificate.objects.filter(request=request)
        assert certificate.rendered_at is not None
        assert default_storage.exists(certificate.pdf.name)
        with certificate.pdf.open("rb") as handle:
            assert handle.read(5) == b"%PDF-"
    assert year_serials() == list(range(1, len(requests) + 1))
    sent_to = Counter(
        address
        for to in OutgoingEmail.objects.values_list("to", flat=True)
        for address in to
    )
    assert sent_to == Counter(r.user.email for r in requests)


def all_certified(count: int) -> bool:
    return (
        Certificate.objects.filter(rendered_at__isnull=False).count() >= count
        and OutgoingEmail.objects.count() >= count
    )


def test_a_worker_killed_in_the_middle_of_a_bulk_run(worker, course):
    training_class = TrainingClass.objects.create(
        name="2027年春季知识产权培训班",
        code="2027-spring",
        starts_on=date(2027, 3, 1),
        ends_on=date(2027, 4, 30),
    )
    training_class.courses.add(course)
    requests = []
    for _ in range(LEARNERS):
        user = UserFactory()
        TrainingClassMember.objects.create(training_class=training_class, user=user)
        requests.append(CertificateRequestFactory(user=user, source_key=course.pk))

    with transaction.atomic():
        batch = services.certificate_batch_create(
            training_class=training_class, by=None
        )
    assert wait_for(lambda: Certificate.objects.count() >= 5, timeout=60, interval=0.05)
    worker.kill()
    # Killed mid-run: some achievements are still waiting for their certificate.
    assert Certificate.objects.filter(rendered_at__isnull=False).count() < LEARNERS
    assert CertificateBatch.objects.get(pk=batch.pk).status == "running"

    worker.start()
    services.certificates_sweep(older_than=timedelta(0))
    assert wait_for(lambda: all_certified(LEARNERS), timeout=150), worker.log()
    assert wait_for(
        lambda: CertificateBatch.objects.get(pk=batch.pk).status == "done", timeout=30
    )
    assert not CertificateBatchItem.objects.filter(status="pending").exists()
    assert not CertificateBatchItem.objects.filter(status="failed").exists()
    assert_each_request_certified_once(requests)


COMPLETE_LESSON = textwrap.dedent(
    """
    import django
    django.setup()
    from courses import services
    from courses.models import LessonPage
    from portal.models import User
    services.lesson_mark_complete(
        user=User.objects.get(pk={user}), lesson=LessonPage.objects.get(pk={lesson})
    )
    print("completed")
    """
)


def test_the_broker_is_down_when_a_course_is_completed(worker, course):
    user = UserFactory(real_name="李堃")
    course_services.enrolment_self(user=user, course=course)
    read_for_the_minimum_time(user, reading_lesson(course))
    # The web process whose broker is down: its enqueue after commit fails.
    completion = subprocess.run(
        [
            sys.executable,
            "-c",
            COMPLETE_LESSON.format(user=user.pk, lesson=reading_lesson(course).pk),
        ],
        cwd=ROOT,
        env={**worker.env(), "CELERY_BROKER_URL": DEAD_BROKER},
        capture_output=True,
        text=True,
        timeout=120,
    )
    # The learner's request is not broken by it …
    assert completion.returncode == 0, completion.stderr
    assert "completed" in completion.stdout
    request = CertificateRequest.objects.get(user=user)
    assert request.status == "pending"
    assert not Certificate.objects.exists()
    # … and with the broker back, the beat sweep issues the certificate.
    services.certificates_sweep(older_than=timedelta(0))
    assert wait_for(lambda: all_certified(1), timeout=60), worker.log()
    assert_each_request_certified_once([request])
    assert Certificate.objects.get().learner_name == "李堃"


def in_threads(count: int, action) -> list:
    """Run action(i) in `count` threads released together, each on its own
    database connection; return the results (re-raise the first failure)."""
    barrier = threading.Barrier(count)
    results: list = [None] * count
    errors: list[BaseException] = []

    def target(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[i] = action(i)
        except BaseException as error:  # noqa: BLE001 - re-raised below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    if errors:
        raise errors[0]
    return results


def test_two_concurrent_completions_give_one_certificate(worker, course):
    user = UserFactory()
    course_services.enrolment_self(user=user, course=course)
    lesson = reading_lesson(course)
    read_for_the_minimum_time(user, lesson)
    in_threads(
        2, lambda i: course_services.lesson_mark_complete(user=user, lesson=lesson)
    )
    (request,) = CertificateRequest.objects.filter(user=user)
    # The same achievement issued twice at once, as a sweep racing the task.
    results = in_threads(
        2, lambda i: services.certificate_issue(request_id=request.pk)[1]
    )
    assert wait_for(lambda: all_certified(1), timeout=60), worker.log()
    assert wait_for(
        lambda: not CertificateRequest.objects.filter(status="pending").exists()
    )
    assert results.count(True) <= 1  # the worker's task may have been first
    assert_each_request_certified_once([request])


def test_serial_numbers_under_concurrency_have_no_gaps_or_duplicates():
    count = 12
    requests = [CertificateRequestFactory() for _ in range(count)]
    results = in_threads(
        count,
        lambda i: services.certificate_issue(request_id=requests[i].pk, render=False)[
            1
        ],
    )
    assert results == [True] * count
    assert year_serials() == list(range(1, count + 1))
    assert Certificate.objects.values("code").distinct().count() == count

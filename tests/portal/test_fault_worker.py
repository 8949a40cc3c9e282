"""A worker killed in the middle of a bulk run of certificates (issue 16,
part 4), on a private Redis broker (tests/portal/private_redis.py): a killed
worker's unacknowledged messages stay in that Redis, never in the shared one.

- One pool process killed (SIGKILL) while it renders: the worker's main
  process starts another, and the chunk it held, rejected
  (CELERY_TASK_REJECT_ON_WORKER_LOST with acks-late), is delivered again at
  once. No new worker, no sweep.
- The worker's main process killed: its message stays unacknowledged in
  Redis until the visibility timeout (CELERY_BROKER_TRANSPORT_OPTIONS); a new
  worker and the beat sweep finish the run without waiting for it, and when
  the message comes back it finds the work done.

Either way every certificate exists once, with one complete PDF and no file
left over, and each e-mail is delivered once. (tests/courses/
test_certificate_worker.py kills the whole process group, on the run's own
broker.)

Runs in both CI runs wherever `redis-server` is installed (the CI has it for
both); skipped only on a machine without it and no REDIS_URL.
"""

import os
import signal
import time
from datetime import date, timedelta

import psutil
import pytest
import redis as redis_client
from kombu import Connection

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction

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
from portal.models import OutgoingEmail
from tests.courses.factories import (
    CertificateRequestFactory,
    CourseIndexPageFactory,
    CoursePageFactory,
)
from tests.courses.test_certificate_worker import (
    all_certified,
    assert_each_request_certified_once,
)
from tests.factories import UserFactory
from tests.portal.private_redis import (
    PrivateWorker,
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

LEARNERS = 40


@pytest.fixture
def redis(tmp_path):
    """A private redis-server: the broker of this test's workers."""
    with redis_servers(tmp_path) as start:
        yield start()


@pytest.fixture
def training_class(home):
    """A class of LEARNERS who completed its course, awaiting certificates."""
    catalogue = CourseIndexPageFactory(parent=home)
    course = CoursePageFactory(parent=catalogue, slug="ip-basics", title="知识产权基础")
    training_class = TrainingClass.objects.create(
        name="2027年春季知识产权培训班",
        code="2027-spring",
        starts_on=date(2027, 3, 1),
        ends_on=date(2027, 4, 30),
    )
    training_class.courses.add(course)
    for _ in range(LEARNERS):
        user = UserFactory()
        TrainingClassMember.objects.create(training_class=training_class, user=user)
        CertificateRequestFactory(user=user, source_key=course.pk)
    return training_class


def certificate_files() -> set[str]:
    """Every file in the certificates' folder of the storage."""
    found: set[str] = set()

    def walk(folder: str) -> None:
        folders, files = default_storage.listdir(folder)
        found.update(f"{folder}/{name}" for name in files)
        for name in folders:
            walk(f"{folder}/{name}")

    if default_storage.exists("certificates"):
        walk("certificates")
    return found


def assert_one_whole_pdf_each(files_before: set[str]) -> None:
    """Each certificate's PDF is whole (a render killed in the middle left no
    half-written file behind it), and no other file was left."""
    names = set(Certificate.objects.values_list("pdf", flat=True))
    assert certificate_files() - files_before == names
    for name in names:
        with default_storage.open(name, "rb") as handle:
            pdf = handle.read()
        assert pdf.startswith(b"%PDF-") and b"%%EOF" in pdf[-64:]


def rendered() -> int:
    return Certificate.objects.filter(rendered_at__isnull=False).count()


def start_bulk_run(training_class: TrainingClass) -> CertificateBatch:
    """What the training manager's button does: the batch and its task,
    enqueued on commit."""
    with transaction.atomic():
        return services.certificate_batch_create(training_class=training_class, by=None)


def assert_run_complete(batch: CertificateBatch, worker: PrivateWorker) -> None:
    """The run ends; beat's sweep renders what a killed render left issued
    but without its PDF; then every certificate is there and mailed."""
    assert wait_for(
        lambda: CertificateBatch.objects.get(pk=batch.pk).status == "done",
        timeout=120,
    ), worker.log()
    assert not CertificateBatchItem.objects.exclude(
        status__in=["issued", "already"]
    ).exists()
    services.certificates_sweep(older_than=timedelta(0))
    assert wait_for(lambda: all_certified(LEARNERS), timeout=60), worker.log()


def busiest_pool_process(worker: PrivateWorker) -> psutil.Process:
    """The pool process that is rendering: of the two, the one using the
    processor (measured over a short while)."""
    assert worker.process is not None
    children = psutil.Process(worker.process.pid).children()
    assert len(children) == 2
    before = {child.pid: sum(child.cpu_times()[:2]) for child in children}
    time.sleep(0.3)
    return max(children, key=lambda c: sum(c.cpu_times()[:2]) - before[c.pid])


def unacknowledged(url: str) -> int:
    """Messages delivered to a worker and not acknowledged (kombu's Redis
    transport keeps them in the hash "unacked")."""
    return redis_client.Redis.from_url(url).hlen("unacked")


def queued(url: str) -> int:
    client = redis_client.Redis.from_url(url)
    return sum(
        client.llen(name)
        for name in queues.all_queues(settings.CELERY_TASK_DEFAULT_QUEUE)
    )


def restore_unacknowledged(url: str) -> int:
    """What the visibility timeout does when it has passed: every message
    not acknowledged goes back to its queue. Returns how many."""
    count = unacknowledged(url)
    with Connection(url, transport_options={"visibility_timeout": 0}) as connection:
        connection.default_channel.qos.restore_visible(num=1000)
    return count


def test_a_pool_process_killed_while_rendering(redis, tmp_path, training_class):
    requests = list(CertificateRequest.objects.order_by("pk"))
    files_before = certificate_files()
    worker = PrivateWorker(tmp_path, broker=redis)
    worker.start()
    try:
        with celery_broker(redis.url(0)):
            batch = start_bulk_run(training_class)
        assert wait_for(lambda: rendered() >= 5, timeout=60, interval=0.05)
        victim = busiest_pool_process(worker)
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=10)
        # Killed in the middle: some certificates are still to come.
        assert rendered() < LEARNERS
        # The chunk comes back at once to the same worker: no new worker.
        with celery_broker(redis.url(0)):
            assert_run_complete(batch, worker)
        assert "WorkerLostError" in worker.log()
    finally:
        worker.stop()
    assert_each_request_certified_once(requests)
    assert_one_whole_pdf_each(files_before)


def test_the_worker_main_process_killed_in_a_bulk_run(redis, tmp_path, training_class):
    requests = list(CertificateRequest.objects.order_by("pk"))
    files_before = certificate_files()
    worker = PrivateWorker(tmp_path, broker=redis)
    worker.start()
    try:
        with celery_broker(redis.url(0)):
            batch = start_bulk_run(training_class)
            assert wait_for(lambda: rendered() >= 5, timeout=60, interval=0.05)
            assert worker.process is not None
            pool = psutil.Process(worker.process.pid).children()
            os.kill(worker.process.pid, signal.SIGKILL)
            worker.process.wait(timeout=10)
            # Its pool processes, orphaned, end (at most after their task).
            _, alive = psutil.wait_procs(pool, timeout=60)
            for process in alive:  # pragma: no cover - reported by the assert
                process.kill()
            assert not alive, "pool processes outlived their worker"
            # The run's chunk is held, unacknowledged, by the dead worker.
            assert unacknowledged(redis.url(0)) >= 1

            worker.start()
            # Beat's sweep, once the batch is older than its cut-off.
            services.certificates_sweep(older_than=timedelta(0))
            assert_run_complete(batch, worker)

            # The visibility timeout passes: the dead worker's message comes
            # back, and the worker finds nothing left to do.
            mails = OutgoingEmail.objects.count()
            assert restore_unacknowledged(redis.url(0)) >= 1
            assert wait_for(lambda: unacknowledged(redis.url(0)) == 0, timeout=30)
            assert wait_for(lambda: queued(redis.url(0)) == 0, timeout=30)
            assert OutgoingEmail.objects.count() == mails
    finally:
        worker.stop()
    assert_each_request_certified_once(requests)
    assert_one_whole_pdf_each(files_before)

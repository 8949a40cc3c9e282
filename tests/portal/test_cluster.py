"""Past one machine (docs/deploy.md, step 10): two gunicorn instances behind
the shipped nginx site, a Celery worker, one database and one broker, media
on S3-compatible storage. A certificate rendered by the worker is served by
either web instance, and nginx spreads the downloads over both.

The S3 server is moto's (`ThreadedMotoServer`): an HTTP server speaking the
S3 API, the only S3-compatible server installable here (no MinIO binary can
be fetched); django-storages talks to it over HTTP as it would to MinIO.
Runs in both CI runs (SQLite with the filesystem broker, PostgreSQL with
Redis): the processes share the test database either way.
"""

from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer

from django.conf import settings
from django.db import transaction

from courses.certificates import services
from courses.models import Certificate
from tests.courses.factories import (
    CertificateRequestFactory,
    CourseIndexPageFactory,
    CoursePageFactory,
    LessonPageFactory,
)
from tests.courses.test_certificate_worker import Worker
from tests.factories import UserFactory
from tests.portal.servers import Nginx, Web, free_port, get
from tests.portal.test_worker import wait_for

pytestmark = [
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.timeout(240),
]

BUCKET = "ip-portal-media"


@pytest.fixture
def s3():
    """An S3-compatible server with the portal's bucket; the environment a
    process needs to keep its media there (docs/configuration.md)."""
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    env = {
        "S3_BUCKET": BUCKET,
        "S3_ENDPOINT_URL": f"http://127.0.0.1:{port}",
        "S3_REGION": "us-east-1",
        "S3_ACCESS_KEY_ID": "cluster-test",
        "S3_SECRET_ACCESS_KEY": "cluster-test-secret",
    }
    client = boto3.client(
        "s3",
        endpoint_url=env["S3_ENDPOINT_URL"],
        region_name=env["S3_REGION"],
        aws_access_key_id=env["S3_ACCESS_KEY_ID"],
        aws_secret_access_key=env["S3_SECRET_ACCESS_KEY"],
    )
    client.create_bucket(Bucket=BUCKET)
    yield env, client
    server.stop()


class S3Worker(Worker):
    """The certificate tests' worker, keeping its media in the bucket."""

    def __init__(self, tmp_path: Path, s3_env: dict[str, str]) -> None:
        super().__init__(tmp_path)
        self.s3_env = s3_env

    def env(self) -> dict[str, str]:
        return {**super().env(), **self.s3_env}


@pytest.fixture
def cluster(tmp_path, s3, worker_env_ready):
    s3_env, bucket = s3
    worker = S3Worker(tmp_path, s3_env)
    worker.start()
    web_env = {**worker.env()}
    webs = [Web(tmp_path, web_env), Web(tmp_path, web_env)]
    nginx = None
    try:
        for web in webs:
            assert wait_for(web.ready, timeout=60), web.log()
        nginx = Nginx(tmp_path / "nginx", [web.port for web in webs])
        yield webs, nginx, bucket
    finally:
        if nginx:
            nginx.stop()
        for web in webs:
            web.stop()
        worker.stop()


@pytest.fixture
def worker_env_ready(monkeypatch):
    """Tasks go to the real worker, not into the test process."""
    from portal.celery import app as celery_app

    monkeypatch.setitem(celery_app.conf, "task_always_eager", False)


def test_a_certificate_rendered_by_the_worker_is_served_by_either_instance(
    cluster, home, client
):
    webs, nginx, bucket = cluster
    catalogue = CourseIndexPageFactory(parent=home)
    course = CoursePageFactory(parent=catalogue, slug="ip-basics", title="知识产权基础")
    LessonPageFactory(parent=course, slug="reading")
    learner = UserFactory()
    request = CertificateRequestFactory(user=learner, source_key=course.pk)
    with transaction.atomic():
        certificate, _ = services.certificate_issue(request_id=request.pk)

    assert wait_for(
        lambda: Certificate.objects.get(pk=certificate.pk).rendered_at is not None,
        timeout=90,
    ), "not rendered"
    certificate.refresh_from_db()
    # In the bucket, not on a local disk: no other machine could read that.
    stored = bucket.get_object(Bucket=BUCKET, Key=certificate.pdf.name)["Body"].read()
    assert stored.startswith(b"%PDF-")
    assert not (Path(settings.MEDIA_ROOT) / certificate.pdf.name).exists()

    client.force_login(learner)
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    path = f"/certificates/{certificate.pk}/download/"
    for web in webs:
        status, body, headers = get(web.port, path, tls=False, cookie=cookie)
        assert status == 200, web.log()
        assert headers["Content-Type"] == "application/pdf"
        assert body == stored

    # Through nginx over TLS: every download succeeds, and both instances answered.
    before = [web.log().count(path) for web in webs]
    for _ in range(6):
        status, body, _ = get(nginx.port, path, tls=True, cookie=cookie)
        assert status == 200
        assert body == stored
    served = [
        web.log().count(path) - was for web, was in zip(webs, before, strict=True)
    ]
    assert sum(served) == 6 and all(served), served

    # Someone else's session gets nothing from either instance.
    client.force_login(UserFactory())
    other = f"sessionid={client.cookies['sessionid'].value}"
    for web in webs:
        assert get(web.port, path, tls=False, cookie=other)[0] == 404

"""Trainee imports run in the background too (portal.import_jobs,
courses.import_jobs): the upload only queues a job for the class; a task
checks the file; confirming queues the write; the bad rows download as CSV;
a task that raises leaves the job failed; only managers see a class's job."""

import pytest

from django.core import mail
from django.urls import reverse

from courses import import_jobs as trainee_jobs
from courses.models import TrainingClassMember
from portal.models import ImportJob, User
from tests.courses.test_import import ENGLISH_HEADER, GOOD_ROWS, csv_file, upload
from tests.courses.test_import import manager_client as _manager_client
from tests.courses.test_import import training_class as _training_class

pytestmark = pytest.mark.django_db
# The fixtures of the synchronous import's tests, under their own names.
manager_client = _manager_client
training_class = _training_class


def job_url(job: ImportJob, name: str = "portal_import_job") -> str:
    return reverse(name, args=(job.pk,))


def test_an_upload_queues_a_job_for_the_class_and_writes_nothing(
    manager_client, training_class, django_capture_on_commit_callbacks
):
    content = csv_file([ENGLISH_HEADER, *GOOD_ROWS])
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = upload(manager_client, training_class, content, "a.csv")

    job = ImportJob.objects.get()
    assert response["Location"] == job_url(job) and len(queued) == 1
    assert (job.kind, job.target_id, job.status) == (
        "trainee",
        training_class.pk,
        ImportJob.Status.QUEUED,
    )
    assert not User.objects.filter(email="zhang.wei@example.cn").exists()


def test_the_worker_checks_and_after_the_confirmation_imports(
    manager_client, training_class, django_capture_on_commit_callbacks
):
    content = csv_file([ENGLISH_HEADER, *GOOD_ROWS])
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(manager_client, training_class, content, "a.csv")
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.CHECKED and job.rows_total == 3
    page = manager_client.get(response["Location"]).content.decode()
    assert "zhang.wei@example.cn" in page and 'name="confirm"' in page
    assert "New account" in page or "新账号" in page or "新帐号" in page

    with django_capture_on_commit_callbacks(execute=True):
        manager_client.post(job_url(job), {"confirm": ""})

    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE
    assert job.result["members_added"] == 3 and job.result["users_created"] == 3
    assert (
        TrainingClassMember.objects.filter(training_class=training_class).count() == 3
    )
    assert len(mail.outbox) == 3
    assert job.unlisted_expert_ids == []


def test_bad_rows_download_as_csv_and_nothing_is_imported(
    manager_client, training_class, django_capture_on_commit_callbacks
):
    rows = [ENGLISH_HEADER, GOOD_ROWS[0], ["not-an-email", "刘洋", "", "", ""]]
    with django_capture_on_commit_callbacks(execute=True):
        upload(manager_client, training_class, csv_file(rows), "a.csv")
    job = ImportJob.objects.get()

    content = b"".join(
        manager_client.get(job_url(job, "portal_import_job_report")).streaming_content
    )

    assert content.startswith(b"\xef\xbb\xbf")
    lines = content.decode("utf-8-sig").splitlines()
    assert len(lines) == 2 and lines[1].startswith("3,") and "not-an-email" in lines[1]
    with django_capture_on_commit_callbacks(execute=True) as queued:
        manager_client.post(job_url(job), {"confirm": ""})
    assert not queued and not TrainingClassMember.objects.exists()


def test_a_write_that_raises_fails_the_job_and_writes_nothing(
    manager_client, training_class, django_capture_on_commit_callbacks, monkeypatch
):
    content = csv_file([ENGLISH_HEADER, *GOOD_ROWS])
    with django_capture_on_commit_callbacks(execute=True):
        upload(manager_client, training_class, content, "a.csv")
    job = ImportJob.objects.get()

    def broken(**kwargs):
        raise RuntimeError("mail server on fire")

    monkeypatch.setattr(trainee_jobs, "training_class_import", broken)
    with django_capture_on_commit_callbacks(execute=True):
        manager_client.post(job_url(job), {"confirm": ""})

    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED and job.message
    assert "mail server" not in job.message
    assert not TrainingClassMember.objects.exists() and not mail.outbox

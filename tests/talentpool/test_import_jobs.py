"""Expert imports run in the background (portal.import_jobs,
talentpool.import_jobs): the request stores the upload and queues a job;
a task checks the file, with progress on the job; the job's page shows the
preview, and confirming queues the write; a CSV lists every bad row; only
those who may import see a job; a task that raises leaves the job failed,
with a message in the uploader's language."""

import csv
import io
import time
from datetime import timedelta

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

from django.contrib.auth.models import Permission
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape

from portal import import_jobs
from portal.models import ImportJob
from talentpool.models import Expert
from tests.factories import StaffFactory
from tests.talentpool.test_import import (
    CHINESE_HEADER,
    GOOD_ROWS,
    HEADER,
    assert_good_rows_imported,
    csv_file,
    xlsx_file,
)

pytestmark = pytest.mark.django_db

IMPORT_URL = "wagtailsnippets_talentpool_expert:import"


def _staff(**kwargs):
    staff = StaffFactory(mfa=False, **kwargs)
    TOTP.activate(staff, generate_totp_secret())
    return staff


@pytest.fixture
def staff_client(client, home):
    client.force_login(_staff())
    return client


def upload(client, file: io.BytesIO, filename: str, **data):
    file.name = filename
    return client.post(reverse(IMPORT_URL), {"file": file, **data})


def job_url(job: ImportJob, name: str = "portal_import_job") -> str:
    return reverse(name, args=(job.pk,))


def many_rows(count: int) -> list[list[str]]:
    return [
        [f"BULK-{n:06d}", f"专家{n}", "lawyer", "", "", "", "", "", "", "", "", "",
         "", "", ""]
        for n in range(count)
    ]  # fmt: skip


def test_an_upload_only_queues_a_job_and_reads_and_writes_nothing(
    staff_client, django_capture_on_commit_callbacks
):
    rows = [HEADER, *many_rows(3000)]
    with django_capture_on_commit_callbacks(execute=False) as queued:
        started = time.monotonic()
        response = upload(staff_client, csv_file(rows), "big.csv")
        elapsed = time.monotonic() - started

    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == job_url(job)
    assert len(queued) == 1  # the check, sent once the job's row is committed
    assert job.status == ImportJob.Status.QUEUED and job.rows_total == 0
    assert job.kind == "expert" and job.filename == "big.csv"
    assert default_storage.exists(job.stored_name)
    assert "private/expert-imports/" in job.stored_name
    assert not Expert.objects.exists()
    assert elapsed < 5  # the request stores the file; the check of 3,000 rows waits
    # While it waits, the page says so and reloads itself.
    page = staff_client.get(job_url(job)).content.decode()
    assert 'http-equiv="refresh"' in page and 'name="confirm"' not in page


def test_the_worker_checks_then_writes_after_the_confirmation(
    staff_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(
            staff_client, xlsx_file([CHINESE_HEADER, *GOOD_ROWS]), "专家.xlsx"
        )
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.CHECKED
    assert (job.rows_total, job.rows_done, job.error_count) == (3, 3, 0)
    preview = staff_client.get(response["Location"]).content.decode()
    assert "张伟" in preview and 'name="confirm"' in preview
    assert 'http-equiv="refresh"' not in preview
    assert not Expert.objects.exists()  # the check writes nothing

    with django_capture_on_commit_callbacks(execute=True):
        done = staff_client.post(job_url(job), {"confirm": ""})

    assert done["Location"] == job_url(job)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE and job.finished_at
    assert job.result["created"] == 3 and "expert_ids" not in job.result
    assert_good_rows_imported()
    assert not default_storage.exists(job.stored_name)  # deleted once written
    # Imported experts are not listed: the job names them for an invitation.
    assert sorted(job.unlisted_expert_ids) == sorted(
        Expert.objects.values_list("pk", flat=True)
    )
    page = staff_client.get(job_url(job)).content.decode()
    assert "3" in page and job.result["message"] in page
    # A second click queues nothing and changes nothing.
    with django_capture_on_commit_callbacks(execute=True) as queued:
        staff_client.post(job_url(job), {"confirm": ""})
    assert not queued and Expert.objects.count() == 3


def test_progress_is_reported_batch_by_batch(
    staff_client, django_capture_on_commit_callbacks, monkeypatch
):
    seen: list[tuple[int, int]] = []
    original = import_jobs._progress_direct

    def recording(job_id):
        record = original(job_id)

        def progress(rows):
            record(rows)
            job = ImportJob.objects.get(pk=job_id)
            seen.append((job.rows_done, job.rows_total))

        return progress

    monkeypatch.setattr(import_jobs, "_progress_direct", recording)
    with django_capture_on_commit_callbacks(execute=True):
        upload(staff_client, csv_file([HEADER, *many_rows(2500)]), "big.csv")

    assert seen == [(1000, 2500), (2000, 2500), (2500, 2500)]
    job = ImportJob.objects.get()
    status = staff_client.get(job_url(job, "portal_import_job_status")).json()
    assert status["status"] == "checked" and not status["running"]
    assert (status["rows_done"], status["rows_total"], status["percent"]) == (
        2500,
        2500,
        100,
    )

    # Halfway through, as a page polling the endpoint sees it.
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.CHECKING, rows_done=1000
    )
    status = staff_client.get(job_url(job, "portal_import_job_status")).json()
    assert status["running"] and status["percent"] == 40
    page = staff_client.get(job_url(job)).content.decode()
    assert "1000" in page and "2500" in page and "<progress" in page


def test_the_write_shows_its_progress_before_it_commits(
    staff_client, django_capture_on_commit_callbacks, monkeypatch
):
    """The write's rows are in one transaction no other connection sees
    into (on SQLite, the one writer): its progress is in the cache, and the
    job page and its status show it while the write runs."""
    with django_capture_on_commit_callbacks(execute=True):
        upload(staff_client, csv_file([HEADER, *many_rows(2500)]), "big.csv")
    job = ImportJob.objects.get()
    seen: list[tuple[str, int, int]] = []
    original = import_jobs._progress_cached

    def watched(job_id):
        record = original(job_id)

        def progress(rows):
            record(rows)
            status = staff_client.get(job_url(job, "portal_import_job_status")).json()
            seen.append((status["status"], status["rows_done"], status["percent"]))

        return progress

    monkeypatch.setattr(import_jobs, "_progress_cached", watched)
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(job_url(job), {"confirm": ""})
    assert seen[0] == ("writing", 1000, 40), seen
    assert [rows for _status, rows, _percent in seen] == sorted(
        rows for _status, rows, _percent in seen
    )
    assert ImportJob.objects.get().status == ImportJob.Status.DONE
    assert Expert.objects.count() == 2500


def test_every_bad_row_is_in_a_csv_that_excel_opens(
    staff_client, django_capture_on_commit_callbacks
):
    rows = [HEADER, GOOD_ROWS[0], ["X9", "刘洋", "火星律师"], ["X10", "", "lawyer"]]
    with django_capture_on_commit_callbacks(execute=True):
        upload(staff_client, csv_file(rows), "bad.csv")
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.CHECKED and job.error_count == 2
    page = staff_client.get(job_url(job)).content.decode()
    assert (
        'name="confirm"' not in page
        and job_url(job, "portal_import_job_report") in page
    )

    response = staff_client.get(job_url(job, "portal_import_job_report"))

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    content = b"".join(response.streaming_content)
    assert content.startswith(b"\xef\xbb\xbf")  # UTF-8 with a BOM
    lines = list(csv.reader(content.decode("utf-8-sig").splitlines()))
    assert lines[0] == ["行号", "列", "问题"]
    # Each problem with its line and its column as the spreadsheet names it.
    assert lines[1][:2] == ["3", "C 类别"] and "火星律师" in lines[1][2]
    assert lines[2][:2] == ["4", "B 姓名"]
    assert len(lines) == 3
    # The page's table names the column too.
    assert "C 类别" in page and "B 姓名" in page
    # Confirming a file with problems queues nothing.
    with django_capture_on_commit_callbacks(execute=True) as queued:
        staff_client.post(job_url(job), {"confirm": ""})
    assert not queued and not Expert.objects.exists()


def test_only_staff_who_may_import_experts_see_a_job(
    client, home, django_capture_on_commit_callbacks
):
    importer = _staff()
    client.force_login(importer)
    with django_capture_on_commit_callbacks(execute=True):
        upload(client, csv_file([HEADER, *GOOD_ROWS]), "a.csv")
    job = ImportJob.objects.get()

    other = _staff(is_superuser=False)
    other.user_permissions.add(
        Permission.objects.get(
            codename="access_admin", content_type__app_label="wagtailadmin"
        )
    )
    client.force_login(other)
    urls = [
        job_url(job, name)
        for name in (
            "portal_import_job",
            "portal_import_job_status",
            "portal_import_job_report",
        )
    ]
    for url in urls:
        assert client.get(url).status_code == 404
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(urls[0], {"confirm": ""}).status_code == 404
    assert not Expert.objects.exists()
    job.refresh_from_db()
    assert job.status == ImportJob.Status.CHECKED

    # The import's own permissions (add and change experts) let them in.
    for codename in ("add_expert", "change_expert"):
        other.user_permissions.add(Permission.objects.get(codename=codename))
    other = type(other).objects.get(pk=other.pk)  # no cached permissions
    client.force_login(other)
    assert all(client.get(url).status_code == 200 for url in urls)


def test_a_check_that_raises_leaves_the_job_failed_in_the_uploaders_language(
    staff_client, django_capture_on_commit_callbacks, monkeypatch
):
    from talentpool import import_jobs as expert_jobs

    def broken(**kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(expert_jobs, "_expert_file_check", broken)
    with django_capture_on_commit_callbacks(execute=True):
        upload(staff_client, csv_file([HEADER, *GOOD_ROWS]), "a.csv")

    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.FAILED and job.finished_at
    # Said in the uploader's language (the admin's Chinese here; the
    # translation itself comes with the catalogue).
    assert job.language == "zh-hans"
    with translation.override("zh-hans"):
        assert job.message == import_jobs._failed_message()
    assert "disk on fire" not in job.message
    page = staff_client.get(job_url(job)).content.decode()
    assert escape(job.message) in page and 'http-equiv="refresh"' not in page


def test_a_write_that_raises_leaves_the_job_failed_and_writes_nothing(
    staff_client, django_capture_on_commit_callbacks, monkeypatch
):
    import talentpool.services

    with django_capture_on_commit_callbacks(execute=True):
        upload(staff_client, csv_file([HEADER, *GOOD_ROWS]), "a.csv")
    job = ImportJob.objects.get()
    ImportJob.objects.filter(pk=job.pk).update(language="en")

    def broken(**kwargs):
        raise RuntimeError("database gone")

    monkeypatch.setattr(talentpool.services, "experts_import", broken)
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(job_url(job), {"confirm": ""})

    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED
    assert job.message.startswith("The import stopped because of an unexpected error")
    assert not Expert.objects.exists()
    assert not default_storage.exists(job.stored_name)


def test_a_job_whose_worker_died_is_failed_not_running_forever(staff_client):
    job = ImportJob.objects.create(
        kind="expert", filename="a.csv", status=ImportJob.Status.WRITING, language="en"
    )
    ImportJob.objects.filter(pk=job.pk).update(
        updated_at=timezone.now() - import_jobs.STALE_AFTER - timedelta(minutes=1)
    )

    status = staff_client.get(job_url(job, "portal_import_job_status")).json()

    assert status["status"] == "failed" and not status["running"]
    assert "interrupted" in status["message"]


def test_a_file_refused_at_the_write_fails_the_job_with_its_problems(
    staff_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        upload(staff_client, csv_file([HEADER, *GOOD_ROWS]), "a.csv")
    job = ImportJob.objects.get()
    # Between the check and the write, an editor takes CQ-003's licence number.
    from tests.talentpool.factories import QualificationFactory

    QualificationFactory(licence_number="P2019-00123")
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(job_url(job), {"confirm": ""})

    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED and job.error_count == 1
    assert job.errors[0][0] == 4
    assert not Expert.objects.filter(external_id__startswith="CQ-").exists()

"""A full disk when a certificate's PDF is written (issue 16, part 4).

The disk is a real one where the test may mount a filesystem: MEDIA_ROOT on a
small tmpfs filled until less room is left than the PDF needs, so the kernel
stops the write part-way (ENOSPC), as on a server whose disk filled up.
Without the right to mount (an unprivileged container), storage writes the
PDF's first bytes and then raises the same error, which leaves the same part
of a file behind (tests/courses/full_disk.py); the assertions are the same.

What a learner and an operator must see: the certificate stays "being
prepared", with no half-written PDF anywhere and the reason kept for the
administrator; once there is room again, the sweep issues it once, whole.
"""

import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from celery.exceptions import Retry

from django.urls import reverse

from courses.certificates import services
from courses.models import Certificate
from courses.tasks import render_certificate
from portal.models import OutgoingEmail
from tests.courses.factories import CertificateRequestFactory
from tests.courses.full_disk import NearlyFullDisk

pytestmark = pytest.mark.django_db


@pytest.fixture
def disk(tmp_path, settings):
    full = NearlyFullDisk(tmp_path / "media", settings)
    yield full
    full.close()


def pdf_pages(data: bytes, tmp_path: Path) -> int:
    path = tmp_path / "check.pdf"
    path.write_bytes(data)
    info = subprocess.run(
        ["pdfinfo", str(path)], capture_output=True, text=True, check=True
    ).stdout
    return int(
        next(line for line in info.splitlines() if line.startswith("Pages:")).split()[1]
    )


def test_a_full_disk_leaves_the_certificate_pending_then_the_sweep_issues_it_whole(
    disk, client, tmp_path, django_capture_on_commit_callbacks
):
    request = CertificateRequestFactory()
    certificate = services.certificate_issue(request_id=request.pk, render=False)[0]
    download = reverse("certificates:download", args=[certificate.pk])
    client.force_login(certificate.user)

    # The task renders, storage refuses the PDF: the task schedules a retry
    # (in a worker, seconds later; after its retries, the sweep's minute).
    with pytest.raises(Retry) as retry:
        render_certificate.delay(certificate.pk)
    assert isinstance(retry.value.exc, services.PdfNotStored)

    certificate.refresh_from_db()
    assert certificate.rendered_at is None and not certificate.pdf.name
    assert disk.files() == []  # not even part of a PDF
    assert "No space left on device" in certificate.last_error  # for the admin
    # The disk's fault, not the certificate's: no attempt counted, so the
    # sweep does not give up on it however long the disk stays full.
    assert certificate.render_attempts == 0
    assert not OutgoingEmail.objects.exists()  # no e-mail without its PDF
    assert client.get(download).status_code == 202  # "being prepared"

    disk.free()
    with django_capture_on_commit_callbacks(execute=True):
        swept = services.certificates_sweep(older_than=timedelta(0))
    assert swept["renders"] == 1

    certificate.refresh_from_db()
    assert certificate.rendered_at is not None
    assert certificate.last_error == ""
    assert disk.files() == [certificate.pdf.name]
    pdf = certificate.pdf.read()
    assert pdf.startswith(b"%PDF-")
    assert pdf.rstrip().endswith(b"%%EOF")
    assert pdf_pages(pdf, tmp_path) == 1
    assert OutgoingEmail.objects.count() == 1
    response = client.get(download)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == pdf
    # Issued once: another sweep finds nothing to do.
    assert services.certificates_sweep(older_than=timedelta(0))["renders"] == 0
    assert Certificate.objects.count() == 1

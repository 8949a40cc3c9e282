"""An expert import through a real Celery worker process (tests marked
`worker`): the upload's request returns with the job queued, the worker
checks the file, and after the confirmation writes it."""

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

from django.urls import reverse

from portal.models import ImportJob
from talentpool.models import Expert
from tests.factories import StaffFactory
from tests.portal.test_worker import wait_for
from tests.portal.test_worker import worker as _worker
from tests.talentpool.test_import import (
    GOOD_ROWS,
    HEADER,
    assert_good_rows_imported,
    csv_file,
)

pytestmark = [
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
worker = _worker  # the real worker process of tests/portal/test_worker.py


def status(job: ImportJob) -> str:
    return ImportJob.objects.get(pk=job.pk).status


def test_the_worker_checks_and_writes_an_expert_import(worker, client, home):
    staff = StaffFactory(mfa=False)
    TOTP.activate(staff, generate_totp_secret())
    client.force_login(staff)
    file = csv_file([HEADER, *GOOD_ROWS])
    file.name = "experts.csv"

    response = client.post(
        reverse("wagtailsnippets_talentpool_expert:import"), {"file": file}
    )

    job = ImportJob.objects.get()
    assert response["Location"] == reverse("portal_import_job", args=(job.pk,))
    assert wait_for(lambda: status(job) == "checked", timeout=60), status(job)
    assert not Expert.objects.exists()
    client.post(response["Location"], {"confirm": ""})
    assert wait_for(lambda: status(job) == "done", timeout=60), status(job)
    assert_good_rows_imported()
    job.refresh_from_db()
    assert job.unlisted_expert_count == 3

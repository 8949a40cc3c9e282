"""Bulk runs for one source's achievements (an event's attendance), besides
training classes: courses is given the requests and knows nothing more of
where they come from."""

import datetime

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from courses.certificates import services
from courses.certificates.admin_forms import SourceBatchStartForm
from courses.models import (
    Certificate,
    CertificateBatch,
    CertificateRequest,
    TrainingClass,
)
from tests.courses.factories import CertificateRequestFactory
from tests.factories import StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

EVENT = 77
TITLE = "4·26 专利检索实务讲座"


@pytest.fixture
def attendance(home):  # type: ignore[no-untyped-def]
    """Three attendees of one event; one of them also completed a course; a
    fourth person attended another event."""
    attendees = [UserFactory(real_name=name) for name in ("张喆", "李堃", "王玥")]
    requests = [
        CertificateRequestFactory(
            user=user, source_type="event", source_key=EVENT, title=TITLE
        )
        for user in attendees
    ]
    CertificateRequestFactory(user=attendees[0], source_type="course")
    CertificateRequestFactory(source_type="event", source_key=EVENT + 1, title="别的")
    return requests


def start(**kwargs):  # type: ignore[no-untyped-def]
    return services.certificate_batch_create(
        requests=services.source_requests(source_type="event", source_key=EVENT),
        title=TITLE,
        source_type="event",
        source_key=EVENT,
        by=None,
        **kwargs,
    )


def test_a_source_run_certifies_its_requests_only_and_once(
    attendance, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        batch = start()
    batch.refresh_from_db()
    assert (batch.source_type, batch.source_key, batch.title) == ("event", EVENT, TITLE)
    progress = services.batch_progress(batch=batch)
    assert (progress["issued"], progress["total"], progress["finished"]) == (3, 3, True)
    assert set(Certificate.objects.values_list("learner_name", flat=True)) == {
        "张喆",
        "李堃",
        "王玥",
    }
    assert set(Certificate.objects.values_list("title", flat=True)) == {TITLE}
    # The other event's and the course's requests are not this run's.
    assert CertificateRequest.objects.filter(status="pending").count() == 2

    with django_capture_on_commit_callbacks(execute=True):
        again = start()
    again.refresh_from_db()
    progress = services.batch_progress(batch=again)
    assert (progress["issued"], progress["already"]) == (0, 3)
    assert Certificate.objects.count() == 3


def test_a_run_is_for_a_class_or_for_requests(attendance):
    with pytest.raises(ValueError):
        services.certificate_batch_create(by=None)
    klass = TrainingClass.objects.create(
        name="班",
        code="c",
        starts_on=datetime.date(2027, 3, 1),
        ends_on=datetime.date(2027, 3, 2),
    )
    with pytest.raises(ValueError):
        services.certificate_batch_create(
            training_class=klass, requests=CertificateRequest.objects.all(), by=None
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        CertificateBatch.objects.create(
            training_class=klass, source_type="event", source_key=1, title="x"
        )


def test_the_sweep_leaves_event_requests_for_their_bulk_run(
    attendance, django_capture_on_commit_callbacks
):
    old = timezone.now() - datetime.timedelta(minutes=10)
    CertificateRequest.objects.update(requested_at=old)
    with django_capture_on_commit_callbacks(execute=True):
        counts = services.certificates_sweep()
    assert counts["requests"] == 1  # the course completion only
    assert not Certificate.objects.filter(request__source_type="event").exists()
    assert Certificate.objects.filter(request__source_type="course").count() == 1


class TestAdmin:
    @pytest.fixture
    def admin(self, client, home):  # type: ignore[no-untyped-def]
        staff = StaffFactory(mfa=False)
        TOTP.activate(staff, generate_totp_secret())
        client.force_login(staff)
        return client

    def test_a_manager_starts_an_events_run_and_runs_it_again(
        self, admin, attendance, django_capture_on_commit_callbacks
    ):
        url = reverse("certificate_batches:add")
        choose = admin.get(url).content.decode()
        assert f"?source=event%3A{EVENT}" in choose and TITLE in choose

        confirm = admin.get(url, {"source": f"event:{EVENT}"})
        assert confirm.status_code == 200
        assert (confirm.context["completions"], confirm.context["to_issue"]) == (3, 3)
        assert 'name="confirm"' in confirm.content.decode()
        assert not Certificate.objects.exists()  # nothing before confirming

        with django_capture_on_commit_callbacks(execute=True):
            response = admin.post(url, {"source": f"event:{EVENT}", "confirm": "1"})
        batch = CertificateBatch.objects.get()
        assert response["Location"] == reverse(
            "certificate_batches:inspect", args=[batch.pk]
        )
        status = admin.get(
            reverse("certificate_batches:progress", args=[batch.pk])
        ).json()
        assert (status["done"], status["total"], status["issued"]) == (3, 3, 3)
        page = admin.get(response["Location"]).content.decode()
        assert "已完成 3 / 3" in page
        assert f"{url}?source=event:{EVENT}" in page  # run again

        confirm = admin.get(url, {"source": f"event:{EVENT}"})
        assert (confirm.context["already"], confirm.context["to_issue"]) == (3, 0)
        with django_capture_on_commit_callbacks(execute=True):
            admin.post(url, {"source": f"event:{EVENT}", "confirm": "1"})
        assert Certificate.objects.count() == 3

    def test_an_unknown_source_is_refused(self, admin, attendance):
        url = reverse("certificate_batches:add")
        page = admin.get(url, {"source": "event:999"})
        assert page.status_code == 200
        field = SourceBatchStartForm.base_fields["source"]
        assert page.context["form"].errors["source"] == [
            str(field.error_messages["invalid_choice"])
        ]
        refused = admin.post(url, {"source": "event:999", "confirm": "1"})
        assert refused.status_code == 200
        assert not CertificateBatch.objects.exists()

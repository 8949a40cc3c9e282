"""What the worker does to keep its memory small must not change what a
learner gets: a bulk chunk rendered in parts still gives every learner their
own certificate, and the worker's preload needs no database (the worker
starts even before the database answers). The memory itself is a benchmark
figure (benchmarks/certificates.py, docs/performance.md), not asserted here.
"""

import datetime

import pytest

from courses import tasks
from courses.certificates import rendering, services
from courses.models import Certificate, TrainingClass, TrainingClassMember
from tests.courses.factories import (
    CertificateRequestFactory,
    CourseIndexPageFactory,
    CoursePageFactory,
)
from tests.courses.test_certificates import RARE_NAMES, pdf_text
from tests.factories import UserFactory


@pytest.mark.django_db
def test_a_chunk_rendered_in_parts_gives_every_learner_their_own_certificate(
    home, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(tasks, "RENDER_PART", 2)
    course = CoursePageFactory(parent=CourseIndexPageFactory(parent=home))
    training_class = TrainingClass.objects.create(
        name="2027年秋季知识产权培训班",
        code="2027-autumn",
        starts_on=datetime.date(2027, 9, 1),
        ends_on=datetime.date(2027, 10, 31),
    )
    training_class.courses.add(course)
    names = RARE_NAMES[:5]
    for name in names:
        user = UserFactory(real_name=name)
        TrainingClassMember.objects.create(training_class=training_class, user=user)
        CertificateRequestFactory(user=user, source_key=course.pk)

    with django_capture_on_commit_callbacks(execute=True):
        batch = services.certificate_batch_create(
            training_class=training_class, by=None
        )

    batch.refresh_from_db()
    assert services.batch_progress(batch=batch)["issued"] == 5
    assert batch.status == "done"
    certificates = Certificate.objects.select_related("user")
    assert certificates.filter(rendered_at__isnull=False).count() == 5
    for certificate in certificates:
        with certificate.pdf.open("rb") as handle:
            text = pdf_text(handle.read())
        own = certificate.user.real_name
        assert own in text
        assert [name for name in names if name != own and name in text] == []


def test_the_worker_preload_needs_no_database():
    # No django_db mark: any query here would fail the test.
    rendering.preload()

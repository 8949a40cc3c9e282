# ruff: noqa: F811 - the fixtures imported from test_applications are arguments here
"""Expert applications and the applicant's personal data (PIPL): they are
in the applicant's "Download my data"; deleting the account withdraws an
open application and keeps of each application only what the office's
record needs (docs/privacy.md): the bare decision of a rejected or
withdrawn one, the verified fields and the consent of an approved one."""

import json

import pytest

from django.urls import reverse

from wagtail.models import ModelLogEntry

from portal.models import User
from portal.services import user_delete
from talentpool.applications import services
from talentpool.models import Expert, ExpertApplication, ExpertConsent
from tests.factories import UserFactory
from tests.talentpool.test_applications import (  # noqa: F401 - fixtures
    PROFILE,
    _english,
    applicant,
    reviewer,
    reviewer_client,
)

pytestmark = pytest.mark.django_db

CONTACT = ("ouyang@example.cn", "13900009999", "集成电路专利代理。")


def log_labels(application: ExpertApplication) -> list[str]:
    return list(
        ModelLogEntry.objects.filter(
            content_type__model="expertapplication", object_id=str(application.pk)
        ).values_list("label", flat=True)
    )


def test_the_applicants_download_holds_their_applications_and_no_one_elses(
    client, home, applicant
):
    mine = services.application_submit(user=applicant, data=PROFILE, consent=True)
    other = UserFactory(email="other@example.org")
    services.application_submit(
        user=other,
        data={
            **PROFILE,
            "name": "王另一",
            "email": "wang@example.cn",
            "qualifications": [],
        },
        consent=False,
    )
    client.force_login(applicant)
    data = json.loads(client.get(reverse("personal_data")).content)
    (application,) = data["talent_pool"]["expert_applications"]
    assert application["status"] == "submitted"
    assert application["kind"] == "new"
    assert application["data"]["name"] == "欧阳娜"
    assert application["data"]["email"] == "ouyang@example.cn"
    assert application["data"]["publication_consent"] is True
    assert application["submitted_at"]
    text = json.dumps(data, ensure_ascii=False)
    assert "王另一" not in text and "wang@example.cn" not in text
    assert mine.pk  # the one of the file


def test_deleting_the_account_withdraws_an_open_application_and_erases_it(
    applicant,
):
    application = services.application_submit(
        user=applicant, data=PROFILE, consent=True
    )
    assert any("欧阳娜" in label for label in log_labels(application))
    user_delete(user=applicant)

    application.refresh_from_db()
    assert application.status == ExpertApplication.Status.WITHDRAWN
    assert application.data == {}
    assert not any("欧阳娜" in label for label in log_labels(application))
    withdrawn = ModelLogEntry.objects.get(
        object_id=str(application.pk), action=services.LOG_WITHDRAWN
    )
    assert withdrawn.data["account_deleted"] is True
    # The account stays as a nameless placeholder: the record refers to it.
    placeholder = User.objects.get(pk=applicant.pk)
    assert placeholder.email.endswith("@deleted.invalid")
    assert application.applicant_id == placeholder.pk
    assert not Expert.objects.exists()


def test_deletion_keeps_the_decisions_and_what_was_verified(applicant, reviewer):
    rejected = services.application_submit(user=applicant, data=PROFILE, consent=True)
    services.application_reject(
        application=rejected, reviewer=reviewer, reason="执业证号无法核实。"
    )
    approved = services.application_submit(user=applicant, data=PROFILE, consent=True)
    expert = services.application_approve(
        application=approved, reviewer=reviewer
    ).expert
    user_delete(user=applicant)

    rejected.refresh_from_db()
    assert rejected.status == ExpertApplication.Status.REJECTED
    assert rejected.data == {}
    assert rejected.reason == "执业证号无法核实。"  # the office's decision
    assert rejected.decided_by == reviewer and rejected.decided_at is not None

    approved.refresh_from_db()
    assert approved.status == ExpertApplication.Status.APPROVED
    kept = approved.data
    assert kept["name"] == "欧阳娜"
    assert kept["categories"] == ["patent_attorney"]
    assert kept["qualifications"][0]["licence_number"] == "500120190001"
    assert kept["publication_consent"] is True
    assert kept["consent_wording"] and kept["consent_at"]
    text = json.dumps(kept, ensure_ascii=False)
    for erased in CONTACT:
        assert erased not in text, erased
    assert not {"email", "phone", "biography", "district", "languages"} & set(kept)

    # The expert profile: consent withdrawn, unlinked (as before).
    expert = Expert.objects.get(pk=expert.pk)
    assert expert.user_id is None and expert.publication_consent_at is None
    assert ExpertConsent.objects.filter(expert=expert, given=False).exists()


def test_erasing_twice_changes_nothing_more(applicant):
    application = services.application_submit(
        user=applicant, data=PROFILE, consent=True
    )
    assert services.applications_erase_on_account_deletion(user=applicant) == 1
    assert services.applications_erase_on_account_deletion(user=applicant) == 0
    application.refresh_from_db()
    assert application.status == ExpertApplication.Status.WITHDRAWN
    assert (
        ModelLogEntry.objects.filter(
            object_id=str(application.pk), action=services.LOG_WITHDRAWN
        ).count()
        == 1
    )


def test_reviewers_still_open_an_erased_application(reviewer_client, applicant):
    application = services.application_submit(
        user=applicant, data=PROFILE, consent=True
    )
    user_delete(user=applicant)
    page = reviewer_client.get(
        reverse("talentpool_applications:review", args=[application.pk])
    )
    assert page.status_code == 200
    html = page.content.decode()
    assert "欧阳娜" not in html and "ouyang@example.cn" not in html
    index = reviewer_client.get(reverse("talentpool_applications:index"))
    assert index.status_code == 200

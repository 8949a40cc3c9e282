"""Applying to the talent pool, the review, the e-mails at each step, the
expert's own profile with changes to verified fields, and consent to
publication."""

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from wagtail.models import ModelLogEntry
from wagtail.users.models import UserProfile

from portal.models import OutgoingEmail
from talentpool.applications import services
from talentpool.applications.services import ApplicationError
from talentpool.models import (
    Expert,
    ExpertApplication,
    ExpertConsent,
    Qualification,
)
from tests.factories import StaffFactory, UserFactory
from tests.talentpool.factories import QualificationFactory
from tests.talentpool.helpers import talent_page

pytestmark = pytest.mark.django_db

PROFILE = {
    "name": "欧阳娜",
    "categories": ["patent_attorney"],
    "ip_types": ["patent"],
    "services": ["agency"],
    "industries": ["integrated_circuits"],
    "languages": ["zh", "en"],
    "district": "yuzhong",
    "organisation": "重庆某某专利代理事务所",
    "years_of_practice": 8,
    "talent_tier": "",
    "qualifications": [
        {
            "category": "patent_attorney",
            "title": "专利代理师资格证",
            "licence_number": "５００１２０１９ ０００１",
            "issued_by": "国家知识产权局",
        }
    ],
    "biography": "集成电路专利代理。",
    "email": "ouyang@example.cn",
    "phone": "13900009999",
}


def form_post(**changes):  # type: ignore[no-untyped-def]
    """The apply form's POST for PROFILE with `changes`."""
    profile = {**PROFILE, **changes}
    data = {
        key: value
        for key, value in profile.items()
        if key != "qualifications" and value is not None
    }
    rows = profile["qualifications"]
    data.update(
        {
            "qualifications-TOTAL_FORMS": str(len(rows)),
            "qualifications-INITIAL_FORMS": "0",
            "qualifications-MIN_NUM_FORMS": "0",
            "qualifications-MAX_NUM_FORMS": "5",
        }
    )
    for index, row in enumerate(rows):
        for key, value in row.items():
            data[f"qualifications-{index}-{key}"] = value
    return data


@pytest.fixture(autouse=True)
def _english():
    """Messages read in English (the services speak the active language)."""
    translation.activate("en")


def sent_to(address: str) -> list[OutgoingEmail]:
    return [
        email for email in OutgoingEmail.objects.order_by("pk") if email.to == [address]
    ]


@pytest.fixture
def applicant():  # type: ignore[no-untyped-def]
    return UserFactory(email="ouyang@example.org", real_name="申请人")


@pytest.fixture
def reviewer():  # type: ignore[no-untyped-def]
    return StaffFactory(email="reviewer@example.org", mfa=False)


@pytest.fixture
def reviewer_client(client, home, reviewer):  # type: ignore[no-untyped-def]
    TOTP.activate(reviewer, generate_totp_secret())
    # The admin in English: the assertions read English labels.
    profile = UserProfile.get_for_user(reviewer)
    profile.preferred_language = "en"
    profile.save()
    client.force_login(reviewer)
    return client


# --- services ------------------------------------------------------------------


class TestSubmit:
    def test_submission_is_checked_normalised_and_e_mailed(self, applicant):
        application = services.application_submit(
            user=applicant, data=PROFILE, consent=True
        )
        assert application.status == ExpertApplication.Status.SUBMITTED
        assert application.kind == ExpertApplication.Kind.NEW
        # Full-width digits and the space are gone from the licence number.
        assert application.data["qualifications"][0]["licence_number"] == (
            "500120190001"
        )
        assert application.data["publication_consent"] is True
        assert "published" in application.data["consent_wording"]
        (email,) = sent_to(applicant.email)
        assert "收到" in email.subject or "received" in email.subject
        assert "/expert/application/" in email.body
        # Nothing is in the pool yet.
        assert not Expert.objects.exists()

    def test_e_mail_is_in_the_applicants_language(self, applicant):
        applicant.language = "en"
        applicant.save()
        services.application_submit(user=applicant, data=PROFILE, consent=False)
        (email,) = sent_to(applicant.email)
        assert email.subject == "We received your application to the talent pool"
        assert "/en/expert/application/" in email.body

    def test_one_open_application_per_user(self, applicant):
        services.application_submit(user=applicant, data=PROFILE, consent=False)
        with pytest.raises(ApplicationError, match="already have an application"):
            services.application_submit(user=applicant, data=PROFILE, consent=False)
        assert ExpertApplication.objects.count() == 1

    @pytest.mark.parametrize(
        ("changes", "message"),
        [
            ({"categories": ["astrologer"]}, "astrologer"),
            ({"district": "atlantis"}, "atlantis"),
            ({"email": "not-an-address"}, "not-an-address"),
            ({"phone": "call me"}, "call me"),
            ({"name": "  "}, "name"),
            ({"categories": []}, "category"),
            ({"years_of_practice": 200}, "0 to 80"),
            (
                {"qualifications": [{"title": "律师执业证", "licence_number": "12"}]},
                "not a licence number",
            ),
        ],
    )
    def test_bad_input_is_refused_and_nothing_written(
        self, applicant, changes, message
    ):
        with pytest.raises(ApplicationError, match=message):
            services.application_submit(
                user=applicant, data={**PROFILE, **changes}, consent=True
            )
        assert not ExpertApplication.objects.exists()
        assert not OutgoingEmail.objects.exists()

    def test_licence_number_of_another_expert_is_refused(self, applicant):
        QualificationFactory(licence_number="500120190001")
        with pytest.raises(ApplicationError, match="already registered"):
            services.application_submit(user=applicant, data=PROFILE, consent=True)
        assert not ExpertApplication.objects.exists()

    def test_same_licence_number_twice_is_refused(self, applicant):
        row = PROFILE["qualifications"][0]
        with pytest.raises(ApplicationError, match="given twice"):
            services.application_submit(
                user=applicant,
                data={**PROFILE, "qualifications": [row, {**row, "title": "另一个"}]},
                consent=True,
            )


class TestReview:
    def test_approval_creates_the_verified_listed_expert(self, applicant, reviewer):
        application = services.application_submit(
            user=applicant, data=PROFILE, consent=True
        )
        application = services.application_approve(
            application=application, reviewer=reviewer
        )
        expert = application.expert
        assert application.status == ExpertApplication.Status.APPROVED
        assert application.decided_by == reviewer
        assert expert.user == applicant
        assert expert.verification_status == Expert.Verification.VERIFIED
        assert expert.verified_by == reviewer
        assert expert.last_confirmed_at is not None
        assert expert.organisation.name == "重庆某某专利代理事务所"
        assert sorted(expert.languages.values_list("code", flat=True)) == ["en", "zh"]
        assert expert.district.code == "yuzhong"
        (qualification,) = expert.qualifications.all()
        assert qualification.licence_number == "500120190001"
        consent = ExpertConsent.objects.get(expert=expert)
        assert consent.given and consent.user == applicant
        assert "published" in consent.wording
        assert Expert.objects.listed().filter(pk=expert.pk).exists()
        actions = set(
            ModelLogEntry.objects.filter(object_id=str(expert.pk)).values_list(
                "action", flat=True
            )
        )
        assert {services.LOG_APPROVED, services.LOG_CONSENT_GIVEN} <= actions
        assert [email.subject for email in sent_to(applicant.email)][-1].startswith(
            ("欢迎", "Welcome")
        )

    def test_approval_without_consent_is_verified_but_not_listed(
        self, applicant, reviewer
    ):
        application = services.application_submit(
            user=applicant, data=PROFILE, consent=False
        )
        expert = services.application_approve(
            application=application, reviewer=reviewer
        ).expert
        assert expert.verification_status == Expert.Verification.VERIFIED
        assert not Expert.objects.listed().filter(pk=expert.pk).exists()
        assert not ExpertConsent.objects.exists()

    def test_approval_refused_when_the_licence_was_taken_meanwhile(
        self, applicant, reviewer
    ):
        application = services.application_submit(
            user=applicant, data=PROFILE, consent=True
        )
        QualificationFactory(licence_number="500120190001")
        with pytest.raises(ApplicationError, match="already registered"):
            services.application_approve(application=application, reviewer=reviewer)
        application.refresh_from_db()
        assert application.status == ExpertApplication.Status.SUBMITTED
        assert not Expert.objects.filter(user=applicant).exists()

    def test_request_changes_resubmit_approve(self, applicant, reviewer):
        application = services.application_submit(
            user=applicant, data=PROFILE, consent=True
        )
        with pytest.raises(ApplicationError, match="Say why"):
            services.application_request_changes(
                application=application, reviewer=reviewer, reason=" "
            )
        services.application_request_changes(
            application=application,
            reviewer=reviewer,
            reason="请补充执业证号的发证机关。",
        )
        application.refresh_from_db()
        assert application.status == ExpertApplication.Status.CHANGES_REQUESTED
        email = sent_to(applicant.email)[-1]
        assert "请补充执业证号的发证机关。" in email.body
        # A reviewer cannot approve while the applicant is correcting it.
        with pytest.raises(ApplicationError):
            services.application_approve(application=application, reviewer=reviewer)
        services.application_resubmit(
            application=application,
            user=applicant,
            data={**PROFILE, "biography": "改过的简介"},
            consent=True,
        )
        application.refresh_from_db()
        assert application.status == ExpertApplication.Status.SUBMITTED
        assert application.reason == ""
        expert = services.application_approve(
            application=application, reviewer=reviewer
        ).expert
        assert expert.biography == "改过的简介"
        assert len(sent_to(applicant.email)) == 4  # sent, changes, sent again, approved

    def test_rejection_needs_a_reason_and_is_e_mailed(self, applicant, reviewer):
        application = services.application_submit(
            user=applicant, data=PROFILE, consent=True
        )
        services.application_reject(
            application=application, reviewer=reviewer, reason="执业证号无法核实。"
        )
        application.refresh_from_db()
        assert application.status == ExpertApplication.Status.REJECTED
        assert "执业证号无法核实。" in sent_to(applicant.email)[-1].body
        assert not Expert.objects.exists()
        with pytest.raises(ApplicationError):
            services.application_approve(application=application, reviewer=reviewer)
        # A closed application leaves room for a new one.
        services.application_submit(user=applicant, data=PROFILE, consent=True)

    def test_withdraw(self, applicant):
        application = services.application_submit(
            user=applicant, data=PROFILE, consent=True
        )
        services.application_withdraw(application=application, user=applicant)
        services.application_withdraw(application=application, user=applicant)
        application.refresh_from_db()
        assert application.status == ExpertApplication.Status.WITHDRAWN
        other = UserFactory()
        with pytest.raises(ApplicationError):
            services.application_withdraw(application=application, user=other)


@pytest.fixture
def expert(applicant, reviewer):  # type: ignore[no-untyped-def]
    application = services.application_submit(
        user=applicant, data=PROFILE, consent=True
    )
    return services.application_approve(
        application=application, reviewer=reviewer
    ).expert


class TestProfileUpdate:
    def test_unverified_fields_change_at_once(self, expert, applicant):
        change = services.expert_profile_update(
            expert=expert,
            user=applicant,
            data={**PROFILE, "biography": "新简介", "phone": "023-6000 1234"},
        )
        assert change is None
        expert.refresh_from_db()
        assert expert.biography == "新简介"
        assert expert.phone == "023-6000 1234"
        assert not ExpertApplication.objects.filter(kind="change").exists()

    def test_verified_fields_wait_for_review(self, expert, applicant, reviewer):
        change = services.expert_profile_update(
            expert=expert,
            user=applicant,
            data={**PROFILE, "name": "欧阳丽娜", "categories": ["lawyer"]},
        )
        assert change.kind == ExpertApplication.Kind.CHANGE
        assert change.data["name"] == "欧阳丽娜"
        expert.refresh_from_db()
        # The public profile keeps the verified values until approval.
        assert expert.name == "欧阳娜"
        assert list(expert.categories.values_list("code", flat=True)) == [
            "patent_attorney"
        ]
        services.application_approve(application=change, reviewer=reviewer)
        expert.refresh_from_db()
        assert expert.name == "欧阳丽娜"
        assert list(expert.categories.values_list("code", flat=True)) == ["lawyer"]
        assert expert.qualifications.get().licence_number == "500120190001"

    def test_a_second_edit_replaces_the_pending_change(self, expert, applicant):
        services.expert_profile_update(
            expert=expert, user=applicant, data={**PROFILE, "name": "甲"}
        )
        services.expert_profile_update(
            expert=expert, user=applicant, data={**PROFILE, "name": "乙"}
        )
        (change,) = ExpertApplication.objects.filter(kind="change")
        assert change.data["name"] == "乙"

    def test_rejected_change_keeps_the_profile(self, expert, applicant, reviewer):
        change = services.expert_profile_update(
            expert=expert, user=applicant, data={**PROFILE, "years_of_practice": 30}
        )
        services.application_reject(
            application=change, reviewer=reviewer, reason="年限与执业证不符。"
        )
        expert.refresh_from_db()
        assert expert.years_of_practice == 8

    def test_someone_else_cannot_edit(self, expert):
        with pytest.raises(ApplicationError):
            services.expert_profile_update(
                expert=expert, user=UserFactory(), data=PROFILE
            )


class TestConsent:
    def test_withdrawal_unlists_at_once_and_is_recorded(self, expert, applicant):
        services.consent_withdraw(expert=expert, user=applicant)
        expert.refresh_from_db()
        assert expert.publication_consent_at is None
        assert not Expert.objects.listed().filter(pk=expert.pk).exists()
        latest = ExpertConsent.objects.filter(expert=expert).first()
        assert latest.given is False
        services.consent_give(expert=expert, user=applicant)
        expert.refresh_from_db()
        assert Expert.objects.listed().filter(pk=expert.pk).exists()
        assert ExpertConsent.objects.filter(expert=expert).count() == 3


# --- views -------------------------------------------------------------------------


class TestApplyPage:
    def test_needs_sign_in(self, client, home):
        response = client.get("/expert/apply/")
        assert response.status_code == 302
        assert "/accounts/login/" in response["Location"]

    def test_form_shows_fields_and_an_unticked_consent(self, client, home, applicant):
        client.force_login(applicant)
        html = client.get("/en/expert/apply/").content.decode()
        assert 'name="publication_consent"' in html
        assert (
            'name="publication_consent" id="id_publication_consent" checked' not in html
        )
        assert "My e-mail and phone are never published" in html
        assert 'name="qualifications-0-licence_number"' in html
        assert 'value="patent_attorney"' in html

    def test_apply_and_see_the_status(self, client, home, applicant):
        client.force_login(applicant)
        response = client.post("/en/expert/apply/", form_post(publication_consent="on"))
        assert response.status_code == 302
        application = ExpertApplication.objects.get()
        assert application.data["publication_consent"] is True
        html = client.get(response["Location"]).content.decode()
        assert "Waiting for review" in html
        assert "500120190001" in html

    @pytest.mark.parametrize(
        ("changes", "message"),
        [
            ({"email": "ouyang@"}, "Enter a valid email address."),
            ({"categories": ["astrologer"]}, "Select a valid choice."),
            (
                {"qualifications": [{"title": "x", "licence_number": "ABC"}]},
                "is not a licence number",
            ),
        ],
    )
    def test_bad_input_is_a_clear_message_and_nothing_saved(
        self, client, home, applicant, changes, message
    ):
        client.force_login(applicant)
        response = client.post("/en/expert/apply/", form_post(**changes))
        assert response.status_code == 400
        assert message in response.content.decode()
        assert "nothing was saved" in response.content.decode()
        assert not ExpertApplication.objects.exists()

    def test_duplicate_licence_number(self, client, home, applicant):
        QualificationFactory(licence_number="500120190001")
        client.force_login(applicant)
        response = client.post("/en/expert/apply/", form_post())
        assert response.status_code == 400
        assert "500120190001 is already registered" in response.content.decode()
        assert not ExpertApplication.objects.exists()

    def test_garbage_management_form_is_not_a_500(self, client, home, applicant):
        client.force_login(applicant)
        data = form_post()
        data["qualifications-TOTAL_FORMS"] = "many"
        response = client.post("/en/expert/apply/", data)
        assert response.status_code == 400
        assert not ExpertApplication.objects.exists()

    def test_edit_after_changes_requested_and_withdraw(
        self, client, home, applicant, reviewer
    ):
        application = services.application_submit(
            user=applicant, data=PROFILE, consent=True
        )
        services.application_request_changes(
            application=application, reviewer=reviewer, reason="请写明发证机关"
        )
        client.force_login(applicant)
        html = client.get("/en/expert/application/").content.decode()
        assert "请写明发证机关" in html
        assert "Correct and send again" in html
        html = client.get("/en/expert/application/edit/").content.decode()
        assert "请写明发证机关" in html
        assert "国家知识产权局" in html
        response = client.post(
            "/en/expert/application/edit/",
            form_post(biography="补充后的简介", publication_consent="on"),
        )
        assert response.status_code == 302
        application.refresh_from_db()
        assert application.status == ExpertApplication.Status.SUBMITTED
        assert application.data["biography"] == "补充后的简介"
        client.post("/en/expert/application/withdraw/")
        application.refresh_from_db()
        assert application.status == ExpertApplication.Status.WITHDRAWN


class TestExpertProfilePage:
    def test_edit_shows_the_pending_change(self, client, expert, applicant, home):
        client.force_login(applicant)
        response = client.post(
            "/en/expert/profile/", form_post(name="欧阳丽娜", biography="新的")
        )
        assert response.status_code == 302
        html = client.get("/en/expert/profile/").content.decode()
        assert "Change waiting for review" in html
        assert "欧阳丽娜" in html
        expert.refresh_from_db()
        assert expert.name == "欧阳娜"
        assert expert.biography == "新的"

    def test_consent_withdraw_from_the_page_hides_the_profile(
        self, client, expert, applicant, home
    ):
        talent_page(home)
        from talentpool.search import experts_reindex

        experts_reindex()
        assert "欧阳娜" in client.get("/talent/").content.decode()
        client.force_login(applicant)
        client.post("/expert/profile/consent/", {"action": "withdraw"})
        assert "欧阳娜" not in client.get("/talent/").content.decode()
        assert client.get(f"/api/v1/experts/{expert.pk}/").status_code == 404
        client.post("/expert/profile/consent/", {"action": "give"})
        assert client.get(f"/api/v1/experts/{expert.pk}/").status_code == 200


# --- admin -------------------------------------------------------------------------


class TestReviewAdmin:
    def test_queue_lists_open_applications_oldest_first(
        self, reviewer_client, django_assert_num_queries
    ):
        first = services.application_submit(
            user=UserFactory(), data={**PROFILE, "name": "先到"}, consent=True
        )
        services.application_submit(
            user=UserFactory(),
            data={**PROFILE, "name": "后到", "qualifications": []},
            consent=True,
        )
        services.application_withdraw(
            application=services.application_submit(
                user=UserFactory(),
                data={**PROFILE, "name": "撤回了", "qualifications": []},
                consent=True,
            ),
            user=ExpertApplication.objects.get(data__name="撤回了").applicant,
        )
        url = reverse("talentpool_applications:index")
        reviewer_client.get(url)  # warm up the session and the menu
        html = reviewer_client.get(url).content.decode()
        assert html.index("先到") < html.index("后到")
        assert "撤回了" not in html
        assert reverse("talentpool_applications:review", args=(first.pk,)) in html
        # The list costs the same number of queries whatever its length.
        with CaptureQueriesContext(connection) as before:
            reviewer_client.get(url)
        services.application_submit(
            user=UserFactory(),
            data={**PROFILE, "name": "第三", "qualifications": []},
            consent=True,
        )
        with django_assert_num_queries(len(before.captured_queries)):
            reviewer_client.get(url)

    def test_review_page_shows_old_and_new_for_a_change(
        self, reviewer_client, expert, applicant
    ):
        change = services.expert_profile_update(
            expert=expert, user=applicant, data={**PROFILE, "name": "欧阳丽娜"}
        )
        html = reviewer_client.get(
            reverse("talentpool_applications:review", args=(change.pk,))
        ).content.decode()
        assert "欧阳娜" in html and "欧阳丽娜" in html

    def test_reviewer_requests_changes_then_approves(self, reviewer_client, applicant):
        application = services.application_submit(
            user=applicant, data=PROFILE, consent=True
        )
        url = reverse("talentpool_applications:review", args=(application.pk,))
        response = reviewer_client.post(
            url, {"decision": "request_changes", "reason": ""}
        )
        assert response.status_code == 200
        application.refresh_from_db()
        assert application.status == ExpertApplication.Status.SUBMITTED
        reviewer_client.post(url, {"decision": "request_changes", "reason": "补充"})
        application.refresh_from_db()
        assert application.status == ExpertApplication.Status.CHANGES_REQUESTED
        services.application_resubmit(
            application=application, user=applicant, data=PROFILE, consent=True
        )
        response = reviewer_client.post(url, {"decision": "approve"})
        assert response.status_code == 302
        application.refresh_from_db()
        assert application.status == ExpertApplication.Status.APPROVED
        assert Qualification.objects.filter(expert=application.expert).count() == 1
        history = reviewer_client.get(
            reverse(
                "wagtailsnippets_talentpool_expert:history",
                args=(application.expert_id,),
            )
        ).content.decode()
        assert "Application approved: the expert is verified." in history
        assert "Changes requested. Reason: 补充" in history

    def test_trainee_cannot_review(self, client, home, applicant):
        application = services.application_submit(
            user=applicant, data=PROFILE, consent=True
        )
        client.force_login(applicant)
        response = client.post(
            reverse("talentpool_applications:review", args=(application.pk,)),
            {"decision": "approve"},
        )
        assert response.status_code in (302, 403)
        application.refresh_from_db()
        assert application.status == ExpertApplication.Status.SUBMITTED

    def test_dashboard_counts_waiting_applications(self, reviewer_client, applicant):
        services.application_submit(user=applicant, data=PROFILE, consent=True)
        html = reviewer_client.get(reverse("wagtailadmin_home")).content.decode()
        assert "1 expert application waiting for review" in html


class TestReviewAdminBadInput:
    def test_conflict_on_approval_is_a_message_not_a_500(
        self, reviewer_client, applicant
    ):
        application = services.application_submit(
            user=applicant, data=PROFILE, consent=True
        )
        QualificationFactory(licence_number="500120190001")
        url = reverse("talentpool_applications:review", args=(application.pk,))
        response = reviewer_client.post(url, {"decision": "approve"})
        assert response.status_code == 200
        assert "500120190001 is already registered" in response.content.decode()
        application.refresh_from_db()
        assert application.status == ExpertApplication.Status.SUBMITTED
        assert not Expert.objects.filter(user=applicant).exists()

    def test_unknown_decision_is_refused(self, reviewer_client, applicant):
        application = services.application_submit(
            user=applicant, data=PROFILE, consent=True
        )
        url = reverse("talentpool_applications:review", args=(application.pk,))
        response = reviewer_client.post(url, {"decision": "delete", "reason": "x"})
        assert response.status_code == 200
        assert "Select a valid choice" in response.content.decode()
        application.refresh_from_db()
        assert application.status == ExpertApplication.Status.SUBMITTED


def test_the_talent_page_and_account_menu_lead_to_the_application(client, home):
    talent_page(home)
    assert "/en/expert/" in client.get("/en/talent/").content.decode()
    client.force_login(UserFactory())
    html = client.get("/en/accounts/profile/").content.decode()
    assert "Apply to join the talent pool" in html

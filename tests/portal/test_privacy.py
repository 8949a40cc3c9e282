"""Personal data under PIPL: the notice in both languages, consent at sign-up,
"Download my data", what account deletion removes and keeps, and the
retention of contact requests."""

import datetime
import json
from decimal import Decimal

import pytest
from allauth.account.models import EmailAddress

from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from courses.certificates import services as certificate_services
from courses.models import Certificate, Enrolment
from courses.services import enrolment_self
from events.models import Registration
from events.registration import services as registration_services
from portal.models import Audience, OutgoingEmail, PrivacyConsent, User
from portal.privacy import PRIVACY_NOTICE_VERSION
from talentpool.contacts import services as contact_services
from talentpool.models import ContactRequest, Expert
from talentpool.tasks import contact_requests_purge
from tests.courses.factories import (
    CertificateRequestFactory,
    CourseIndexPageFactory,
    CoursePageFactory,
)
from tests.events.factories import EventIndexPageFactory, EventPageFactory
from tests.factories import UserFactory
from tests.talentpool.factories import ContactRequestFactory, ExpertFactory

pytestmark = pytest.mark.django_db

PASSWORD = "Zhishi-Chanquan-2027"


def signup_data(email: str, **extra) -> dict:
    data = {
        "email": email,
        "password1": PASSWORD,
        "password2": PASSWORD,
        "real_name": "张伟",
        "audience": Audience.objects.get(code="civil_servant").pk,
    }
    data.update(extra)
    return data


def issue(user: User, title: str = "专利信息检索与利用") -> Certificate:
    request = CertificateRequestFactory(
        user=user, title=title, hours=Decimal("3.5"), achieved_on=timezone.localdate()
    )
    return certificate_services.certificate_issue(request_id=request.pk, render=False)[
        0
    ]


@pytest.fixture
def course(home):
    catalogue = CourseIndexPageFactory(parent=home)
    return CoursePageFactory(parent=catalogue, slug="ip-basics", title="知识产权基础")


@pytest.fixture
def event(home):
    index = EventIndexPageFactory(parent=home)
    return EventPageFactory(parent=index, slug="lecture", title="专利检索讲座")


def learner_with_records(course, event, *, name: str, email: str) -> User:
    user = UserFactory(real_name=name, email=email)
    enrolment_self(user=user, course=course)
    issue(user)
    registration_services.registration_create(user=user, event=event)
    return user


def download(client, user: User) -> dict:
    client.force_login(user)
    response = client.get(reverse("personal_data"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert "attachment" in response["Content-Disposition"]
    return json.loads(response.content)


# --- consent at sign-up ------------------------------------------------------------


class TestConsentAtSignup:
    def test_a_signup_without_the_box_is_refused_and_writes_no_account(
        self, client, home
    ):
        # An attacker's POST simply leaves the field out.
        response = client.post(
            reverse("account_signup"), signup_data("nobox@example.org")
        )
        assert response.status_code == 200
        assert "privacy_consent" in response.context["form"].errors
        assert 'aria-invalid="true"' in response.content.decode()
        assert not User.objects.filter(email="nobox@example.org").exists()
        assert not EmailAddress.objects.filter(email="nobox@example.org").exists()
        assert not PrivacyConsent.objects.exists()

    def test_ticking_the_box_records_consent_to_the_notice_in_force(self, client, home):
        response = client.post(
            reverse("account_signup"),
            signup_data("agreed@example.org", privacy_consent="on"),
        )
        assert response.status_code == 302
        user = User.objects.get(email="agreed@example.org")
        (consent,) = PrivacyConsent.objects.filter(user=user)
        assert consent.notice_version == PRIVACY_NOTICE_VERSION
        assert consent.source == PrivacyConsent.Source.SIGNUP
        # Data minimisation: nothing about the browser or its address.
        names = {field.name for field in PrivacyConsent._meta.get_fields()}
        assert names == {"id", "user", "notice_version", "source", "given_at"}

    def test_the_signup_form_links_the_notice_from_the_box(self, client, home):
        html = client.get(reverse("account_signup")).content.decode()
        assert 'name="privacy_consent"' in html
        assert f'href="{reverse("privacy_notice")}"' in html


class TestConsentOnTheProfile:
    def test_an_earlier_user_is_not_blocked_and_may_agree_from_the_profile(
        self, client, home
    ):
        user = UserFactory()  # signed up before the notice: no consent row
        client.force_login(user)
        html = client.get(reverse("account_profile")).content.decode()
        assert reverse("privacy_consent_give") in html
        response = client.post(reverse("privacy_consent_give"))
        assert response.status_code == 302
        consent = PrivacyConsent.objects.get(user=user)
        assert consent.source == PrivacyConsent.Source.PROFILE
        assert consent.notice_version == PRIVACY_NOTICE_VERSION
        html = client.get(reverse("account_profile")).content.decode()
        assert reverse("privacy_consent_give") not in html
        # Agreeing twice keeps one row per version.
        client.post(reverse("privacy_consent_give"))
        assert PrivacyConsent.objects.filter(user=user).count() == 1


# --- the notice --------------------------------------------------------------------


class TestNotice:
    def test_the_notice_renders_in_chinese_with_the_periods_from_settings(
        self, client, home, settings
    ):
        settings.CONTACT_REQUEST_RETENTION_DAYS = 223
        settings.PORTAL_EMAIL_RETENTION_DAYS = 91
        settings.PORTAL_LOG_RETENTION_DAYS = 181
        response = client.get("/privacy/")
        assert response.status_code == 200
        html = response.content.decode()
        assert '<html lang="zh-Hans"' in html
        assert "个人信息处理者" in html
        assert "223天后删除请求内容" in html
        assert "91天后删除全部记录" in html
        assert "保存181天" in html
        assert PRIVACY_NOTICE_VERSION in html

    def test_the_notice_renders_in_english_under_en(self, client, home, settings):
        settings.CONTACT_REQUEST_RETENTION_DAYS = 223
        response = client.get("/en/privacy/")
        assert response.status_code == 200
        html = response.content.decode()
        assert "Who is responsible" in html
        assert "223 days after sending" in html
        assert "个人信息处理者" not in html

    def test_the_notice_says_certificates_stay_after_deletion(self, client, home):
        html = client.get("/en/privacy/").content.decode()
        assert "Certificates already issued stay as the legal training record" in html

    def test_every_page_links_the_notice_from_the_footer(self, client, home):
        html = client.get("/").content.decode()
        footer = html[html.index("<footer") :]
        assert f'href="{reverse("privacy_notice")}"' in footer


# --- download my data --------------------------------------------------------------


class TestDownload:
    def test_signed_out_visitors_are_sent_to_sign_in(self, client, home):
        response = client.get(reverse("personal_data"))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))

    def test_the_file_holds_the_users_records_and_no_one_elses(
        self, client, course, event
    ):
        mine = learner_with_records(course, event, name="李堃", email="li@example.org")
        other = learner_with_records(
            course, event, name="王芳", email="wang@example.org"
        )
        PrivacyConsent.objects.create(user=mine, notice_version=PRIVACY_NOTICE_VERSION)
        data = download(client, mine)

        assert data["privacy_notice_version"] == PRIVACY_NOTICE_VERSION
        assert data["portal"]["account"]["email"] == "li@example.org"
        assert data["portal"]["account"]["real_name"] == "李堃"
        assert [e["email"] for e in data["portal"]["email_addresses"]] == [
            "li@example.org"
        ]
        assert data["portal"]["privacy_consents"][0]["notice_version"] == (
            PRIVACY_NOTICE_VERSION
        )
        (enrolment,) = data["courses"]["enrolments"]
        assert enrolment["course_title"] == "知识产权基础"
        (certificate,) = data["courses"]["certificates"]
        mine_certificate = Certificate.objects.get(user=mine)
        assert certificate["serial"] == mine_certificate.serial
        assert certificate["learner_name"] == "李堃"
        (registration,) = data["events"]["registrations"]
        assert registration["event_title"] == "专利检索讲座"

        text = json.dumps(data, ensure_ascii=False)
        other_certificate = Certificate.objects.get(user=other)
        for theirs in (
            "王芳",
            "wang@example.org",
            other_certificate.serial,
            other_certificate.code,
            Registration.objects.get(user=other).code,
        ):
            assert theirs not in text, theirs

    def test_a_received_contact_request_leaves_out_who_sent_it(self, client, home):
        expert_user = UserFactory(email="expert@example.org")
        expert = ExpertFactory(user=expert_user, name="赵专家")
        request = ContactRequestFactory(expert=expert, need="需要专利布局咨询。")
        sender = request.sender
        data = download(client, expert_user)
        (received,) = data["contact_requests"]["contact_requests_received"]
        assert received["need"] == "需要专利布局咨询。"
        assert received["enterprise__name"] == request.enterprise.name
        text = json.dumps(data, ensure_ascii=False)
        assert sender.email not in text
        assert request.enterprise.contact_phone not in text
        assert data["talent_pool"]["expert_profile"]["name"] == "赵专家"

    def test_the_number_of_queries_does_not_grow_with_the_records(
        self, client, home, course, event
    ):
        few = learner_with_records(course, event, name="甲", email="a@example.org")
        many = learner_with_records(course, event, name="乙", email="b@example.org")
        for n in range(3):
            extra = CoursePageFactory(parent=course.get_parent(), slug=f"more-{n}")
            enrolment_self(user=many, course=extra)
            issue(many, title=f"课程{n}")
        counts = []
        for user in (few, many):
            client.force_login(user)
            with CaptureQueriesContext(connection) as queries:
                assert client.get(reverse("personal_data")).status_code == 200
            counts.append(len(queries))
        assert Enrolment.objects.filter(user=many).count() == 4
        assert counts[0] == counts[1]

    def test_downloads_are_limited_per_user(self, client, home, settings):
        settings.PORTAL_PERSONAL_DATA_RATE = "2/h"
        user = UserFactory()
        client.force_login(user)
        for _ in range(2):
            assert client.get(reverse("personal_data")).status_code == 200
        response = client.get(reverse("personal_data"))
        assert response.status_code == 302
        assert response["Location"] == reverse("account_profile")
        assert int(response["Retry-After"]) > 0


# --- deleting the account -----------------------------------------------------------


def delete_account(client, user: User):
    client.force_login(user)
    return client.post(
        reverse("account_delete"),
        {"password": "correct horse battery staple", "confirm": "on"},
    )


class TestDeletion:
    def test_the_certificate_still_verifies_and_the_account_is_gone(
        self, client, course, event
    ):
        user = learner_with_records(course, event, name="李堃", email="li@example.org")
        PrivacyConsent.objects.create(user=user, notice_version=PRIVACY_NOTICE_VERSION)
        certificate = Certificate.objects.get(user=user)

        response = delete_account(client, user)
        assert response.status_code == 302
        assert "_auth_user_id" not in client.session

        # The account, its profile and e-mail addresses are gone.
        assert not User.objects.filter(email="li@example.org").exists()
        assert not EmailAddress.objects.filter(email="li@example.org").exists()
        assert not User.objects.filter(real_name="李堃").exists()
        assert not PrivacyConsent.objects.filter(user_id=user.pk).exists()
        placeholder = User.objects.get(pk=user.pk)  # the training record's anchor
        assert not placeholder.is_active
        assert not placeholder.has_usable_password()
        assert placeholder.email.endswith("@deleted.invalid")
        assert (placeholder.organisation, placeholder.audience) == ("", None)
        # Nobody signs in with the old address.
        assert not client.login(
            username="li@example.org", password="correct horse battery staple"
        )

        # The certificate is the legal record: it verifies, with its name.
        client.logout()
        translation.activate("zh-hans")
        html = client.get(
            reverse("certificates:verify", args=[certificate.code])
        ).content.decode()
        assert "状态：有效" in html
        assert "李堃" in html and certificate.serial in html

    def test_an_upcoming_registration_is_cancelled(self, client, course, event):
        user = learner_with_records(course, event, name="李堃", email="li@example.org")
        delete_account(client, user)
        registration = Registration.objects.get(user_id=user.pk)
        assert registration.status == Registration.Status.CANCELLED

    def test_an_expert_profile_leaves_publication_and_the_account(self, client, home):
        user = UserFactory()
        expert = ExpertFactory(user=user, publication_consent_at=timezone.now())
        assert delete_account(client, user).status_code == 302
        expert = Expert.objects.get(pk=expert.pk)
        assert expert.user_id is None
        assert expert.publication_consent_at is None

    def test_a_pending_certificate_is_issued_under_the_name_first(
        self, client, home, django_capture_on_commit_callbacks
    ):
        user = UserFactory(real_name="李堃", email="li@example.org")
        request = CertificateRequestFactory(user=user, title="商标实务")
        with django_capture_on_commit_callbacks(execute=True):
            assert delete_account(client, user).status_code == 302
        certificate = Certificate.objects.get(request=request)
        assert certificate.learner_name == "李堃"
        # Its PDF was rendered after the deletion: nothing was e-mailed to
        # the placeholder address, and the outbox keeps no content for it.
        assert not [m for m in mail.outbox if "deleted.invalid" in str(m.to)]
        (unsent,) = OutgoingEmail.objects.filter(to__icontains="deleted.invalid")
        assert unsent.status == OutgoingEmail.Status.FAILED
        assert (unsent.body, unsent.html_body) == ("", "")

    def test_an_account_without_records_is_deleted_outright(self, client, home):
        user = UserFactory()
        delete_account(client, user)
        assert not User.objects.filter(pk=user.pk).exists()


# --- retention ----------------------------------------------------------------------


class TestContactRequestRetention:
    def test_old_requests_lose_their_content_and_recent_ones_keep_it(self, settings):
        settings.CONTACT_REQUEST_RETENTION_DAYS = 365
        old = ContactRequestFactory(
            status=ContactRequest.Status.DECLINED,
            need="旧的需求",
            response_note="不便联系",
        )
        stale = ContactRequestFactory(need="无人答复的旧需求")
        recent = ContactRequestFactory(need="新的需求")
        long_ago = timezone.now() - datetime.timedelta(days=366)
        ContactRequest.objects.filter(pk__in=[old.pk, stale.pk]).update(
            created_at=long_ago
        )

        assert contact_requests_purge() == 2
        old.refresh_from_db()
        stale.refresh_from_db()
        recent.refresh_from_db()
        assert (old.need, old.response_note) == ("", "")
        assert old.status == ContactRequest.Status.DECLINED
        assert stale.need == ""
        assert stale.status == ContactRequest.Status.EXPIRED
        assert recent.need == "新的需求"
        assert recent.status == ContactRequest.Status.PENDING
        # A second run finds nothing.
        assert contact_services.contact_requests_purge() == 0

    def test_the_period_comes_from_the_setting(self, settings):
        request = ContactRequestFactory(status=ContactRequest.Status.DECLINED)
        ContactRequest.objects.filter(pk=request.pk).update(
            created_at=timezone.now() - datetime.timedelta(days=40)
        )
        settings.CONTACT_REQUEST_RETENTION_DAYS = 60
        assert contact_requests_purge() == 0
        settings.CONTACT_REQUEST_RETENTION_DAYS = 30
        assert contact_requests_purge() == 1

    def test_the_purge_runs_daily_from_beat(self, settings):
        tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
        assert "talentpool.tasks.contact_requests_purge" in tasks
        assert "portal.tasks.purge_sent_email" in tasks


class TestLogRetention:
    def test_the_stated_log_period_is_the_one_logrotate_keeps(self, settings):
        from pathlib import Path

        config = Path(settings.BASE_DIR) / "deploy" / "logrotate" / "ip-portal"
        text = config.read_text()
        days = settings.PORTAL_LOG_RETENTION_DAYS
        assert f"maxage {days}" in text and f"rotate {days}" in text

"""Verification by anyone: the public page in each state, the look-up form, rate
limits, the JSON API, the Open Badges credential and the owner's download."""

import datetime
import json
from decimal import Decimal

import pytest

from django.urls import reverse
from django.utils import timezone

from courses.certificates import services
from courses.models import Certificate
from tests.courses.factories import CertificateRequestFactory
from tests.factories import StaffFactory, UserFactory

pytestmark = pytest.mark.django_db


def issue(**request_fields) -> Certificate:
    request = CertificateRequestFactory(**request_fields)
    return services.certificate_issue(request_id=request.pk, render=False)[0]


def verify_path(certificate: Certificate, prefix: str = "") -> str:
    return f"{prefix}/certificates/verify/{certificate.code}/"


def api_path(certificate: Certificate) -> str:
    return f"/api/v1/certificates/{certificate.code}/"


def chinese_date(day: datetime.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


@pytest.fixture
def learner():
    return UserFactory(real_name="李堃", email="likun@example.org")


@pytest.fixture
def certificate(home, learner) -> Certificate:
    return issue(
        user=learner,
        title="专利信息检索与利用",
        hours=Decimal("3.5"),
        achieved_on=datetime.date(2027, 4, 26),
    )


class TestVerifyPage:
    def test_a_valid_certificate_says_valid_with_what_it_states(
        self, client, certificate
    ):
        response = client.get(verify_path(certificate))
        assert response.status_code == 200
        html = response.content.decode()
        assert "状态：有效" in html
        for text in (
            "李堃",
            "专利信息检索与利用",
            "3.5",
            "2027年4月26日",
            chinese_date(timezone.localdate(certificate.issued_at)),
            certificate.serial,
            "重庆市知识产权局",
        ):
            assert text in html, text
        assert '<meta name="robots" content="noindex">' in html
        assert "no-store" in response["Cache-Control"]

    def test_the_page_is_in_english_under_en(self, client, certificate):
        response = client.get(verify_path(certificate, "/en"))
        html = response.content.decode()
        assert "Status: Valid" in html
        assert "Chongqing Intellectual Property Office" in html
        assert "26 April 2027" in html

    def test_an_expired_certificate_says_expired_with_the_date(
        self, client, certificate
    ):
        certificate.expires_on = timezone.localdate() - datetime.timedelta(days=3)
        certificate.save(update_fields=["expires_on"])
        html = client.get(verify_path(certificate)).content.decode()
        assert "状态：已过期" in html
        assert f"已于 {chinese_date(certificate.expires_on)} 过期" in html
        assert "状态：有效" not in html

    def test_a_revoked_certificate_says_revoked_with_date_and_reason(
        self, client, certificate
    ):
        services.certificate_revoke(
            certificate_id=certificate.pk, reason="学时记录有误", by=StaffFactory()
        )
        html = client.get(verify_path(certificate)).content.decode()
        assert "状态：已撤销" in html
        assert "学时记录有误" in html
        assert f"于 {chinese_date(timezone.localdate())} 撤销" in html
        assert "状态：有效" not in html

    def test_a_superseded_certificate_links_to_its_replacement(
        self, client, certificate
    ):
        new = services.certificate_reissue(
            certificate_id=certificate.pk, by=StaffFactory(), note="更正"
        )
        html = client.get(verify_path(certificate)).content.decode()
        assert "状态：已被取代" in html
        assert f'href="{verify_path(new)}"' in html
        assert new.serial in html
        new_html = client.get(verify_path(new)).content.decode()
        assert "状态：有效" in new_html
        assert certificate.serial in new_html  # "replaces"

    def test_an_unknown_code_is_a_404_that_names_nothing_else(
        self, client, certificate
    ):
        response = client.get("/certificates/verify/not-a-real-code-123456/")
        assert response.status_code == 404
        html = response.content.decode()
        assert "未找到证书" in html
        assert certificate.serial not in html and "李堃" not in html

    def test_a_very_long_code_is_not_found_rather_than_an_error(self, client, home):
        response = client.get(f"/certificates/verify/{'x' * 5000}/")
        assert response.status_code == 404


class TestLookupForm:
    def test_the_form_has_labelled_fields(self, client, home):
        html = client.get("/certificates/verify/").content.decode()
        assert '<label for="id_serial">证书编号' in html
        assert '<label for="id_name">证书上的姓名' in html

    def test_serial_in_any_case_and_a_trimmed_name_find_the_certificate(
        self, client, certificate
    ):
        response = client.post(
            "/certificates/verify/",
            {"serial": certificate.serial.lower(), "name": "  李堃 "},
        )
        assert response.status_code == 302
        assert response["Location"] == verify_path(certificate)

    def test_the_english_form_redirects_to_the_english_page(self, client, certificate):
        response = client.post(
            "/en/certificates/verify/",
            {"serial": certificate.serial, "name": "李堃"},
        )
        assert response["Location"] == verify_path(certificate, "/en")

    def test_a_wrong_name_and_an_unknown_serial_get_the_same_answer(
        self, client, certificate
    ):
        wrong_name = client.post(
            "/certificates/verify/", {"serial": certificate.serial, "name": "李昆"}
        )
        unknown = client.post(
            "/certificates/verify/", {"serial": "CQIP-1999-999999", "name": "李堃"}
        )
        assert wrong_name.status_code == unknown.status_code == 200
        message = "没有与该证书编号和姓名相符的证书"
        assert message in wrong_name.content.decode()
        assert message in unknown.content.decode()
        assert certificate.code not in wrong_name.content.decode()

    def test_the_message_is_in_english_on_the_english_form(self, client, certificate):
        response = client.post(
            "/en/certificates/verify/", {"serial": certificate.serial, "name": "x"}
        )
        assert "No certificate matches this serial number and name" in (
            response.content.decode()
        )

    def test_empty_fields_are_reported_next_to_each_field(self, client, home):
        html = client.post(
            "/certificates/verify/", {"serial": " ", "name": ""}
        ).content.decode()
        assert "请输入证书编号。" in html
        assert "请输入证书上的姓名。" in html
        assert 'aria-describedby="id_serial_helptext id_serial_error"' in html
        assert 'aria-invalid="true"' in html

    def test_overlong_or_odd_input_is_an_error_not_a_crash(self, client, home):
        response = client.post(
            "/certificates/verify/", {"serial": "C" * 500, "name": "名\x00字"}
        )
        assert response.status_code == 200
        html = response.content.decode()
        assert "证书编号最多 30 个字符" in html
        assert 'id="id_name_error"' in html


class TestRateLimits:
    def test_the_31st_page_view_in_a_minute_gets_a_friendly_429(
        self, client, certificate
    ):
        for _ in range(30):
            assert client.get(verify_path(certificate)).status_code == 200
        response = client.get(verify_path(certificate))
        assert response.status_code == 429
        assert "请求过于频繁" in response.content.decode()
        assert response["Retry-After"] == "60"
        # Counted per client address: another visitor is not affected.
        other = client.get(verify_path(certificate), REMOTE_ADDR="203.0.113.9")
        assert other.status_code == 200

    def test_guessing_codes_is_limited_too(self, client, home):
        for n in range(30):
            assert client.get(f"/certificates/verify/guess-{n}/").status_code == 404
        assert client.get("/certificates/verify/guess-x/").status_code == 429

    def test_the_11th_look_up_in_a_minute_gets_429(self, client, certificate):
        for _ in range(10):
            response = client.post(
                "/certificates/verify/", {"serial": certificate.serial, "name": "错"}
            )
            assert response.status_code == 200
        response = client.post(
            "/certificates/verify/", {"serial": certificate.serial, "name": "李堃"}
        )
        assert response.status_code == 429
        assert "请求过于频繁" in response.content.decode()

    def test_the_api_answers_429_as_json(self, client, certificate):
        for _ in range(30):
            assert client.get(api_path(certificate)).status_code == 200
        response = client.get(api_path(certificate))
        assert response.status_code == 429
        assert response.json()["error"] == "rate_limited"


class TestJsonApi:
    def test_the_record_has_every_field_and_nothing_private(self, client, certificate):
        response = client.get(api_path(certificate))
        assert response.status_code == 200
        assert response["Access-Control-Allow-Origin"] == "*"
        assert "no-store" in response["Cache-Control"]
        data = response.json()
        assert data["serial"] == certificate.serial
        assert data["code"] == certificate.code
        assert data["status"] == "valid"
        assert data["name"] == "李堃"
        assert data["title"] == "专利信息检索与利用"
        assert data["hours"] == "3.5"
        assert data["achieved_on"] == "2027-04-26"
        assert data["issued_at"].endswith("+08:00")
        assert datetime.datetime.fromisoformat(data["issued_at"]) == (
            certificate.issued_at.replace(microsecond=0)
        )
        assert data["expires_on"] is None
        assert data["revoked_at"] is None and data["revoked_reason"] is None
        assert data["superseded_by"] is None
        assert data["issuer"] == {
            "name": "重庆市知识产权局",
            "name_en": "Chongqing Intellectual Property Office",
        }
        assert data["verify_url"] == "http://testserver" + verify_path(certificate)
        body = response.content.decode()
        assert "likun@example.org" not in body
        assert "phone" not in body and "email" not in body

    def test_each_state_is_reported(self, client, home):
        expired = issue()
        expired.expires_on = timezone.localdate() - datetime.timedelta(days=1)
        expired.save(update_fields=["expires_on"])
        assert client.get(api_path(expired)).json()["status"] == "expired"

        revoked = issue()
        services.certificate_revoke(
            certificate_id=revoked.pk, reason="重复发放", by=None
        )
        data = client.get(api_path(revoked)).json()
        assert data["status"] == "revoked"
        assert data["revoked_reason"] == "重复发放"
        assert data["revoked_at"].endswith("+08:00")

        old = issue()
        new = services.certificate_reissue(certificate_id=old.pk, by=None)
        data = client.get(api_path(old)).json()
        assert data["status"] == "superseded"
        assert data["superseded_by"] == {
            "serial": new.serial,
            "verify_url": "http://testserver" + verify_path(new),
        }

    def test_an_unknown_code_is_a_json_404(self, client, home):
        response = client.get("/api/v1/certificates/nope/")
        assert response.status_code == 404
        assert response.json()["error"] == "not_found"
        assert response["Access-Control-Allow-Origin"] == "*"


class TestOpenBadgeCredential:
    def test_the_credential_is_an_open_badges_3_document(self, client, certificate):
        path = f"/api/v1/certificates/{certificate.code}/credential.json"
        response = client.get(path)
        assert response.status_code == 200
        assert response["Content-Type"].startswith("application/ld+json")
        vc = json.loads(response.content)
        assert vc["@context"] == [
            "https://www.w3.org/ns/credentials/v2",
            "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
        ]
        assert vc["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
        assert vc["id"] == "http://testserver" + path
        assert vc["issuer"]["type"] == ["Profile"]
        assert vc["issuer"]["name"] == "重庆市知识产权局"
        assert vc["validFrom"].endswith("+08:00")
        assert "validUntil" not in vc
        subject = vc["credentialSubject"]
        assert subject["type"] == ["AchievementSubject"]
        assert subject["identifier"][0]["identityHash"] == "李堃"
        achievement = subject["achievement"]
        assert achievement["type"] == ["Achievement"]
        assert achievement["name"] == "专利信息检索与利用"
        assert achievement["achievementType"] == "Certificate"
        assert achievement["id"].startswith("urn:uuid:")
        assert "专利信息检索与利用" in achievement["criteria"]["narrative"]
        assert achievement["description"]
        assert "3.5" in vc["evidence"][0]["narrative"]
        assert "likun@example.org" not in response.content.decode()

    def test_the_same_course_is_the_same_achievement(self, home):
        from courses.certificates import badges

        first = issue(source_key=42)
        second = issue(source_key=42)
        other = issue(source_key=43)
        ids = [
            badges.open_badge_credential(c)["credentialSubject"]["achievement"]["id"]
            for c in (first, second, other)
        ]
        assert ids[0] == ids[1] != ids[2]

    def test_an_expiring_certificate_has_valid_until(self, client, certificate):
        certificate.expires_on = datetime.date(2030, 6, 30)
        certificate.save(update_fields=["expires_on"])
        vc = client.get(
            f"/api/v1/certificates/{certificate.code}/credential.json"
        ).json()
        assert vc["validUntil"] == "2030-06-30T23:59:59+08:00"

    def test_a_revoked_certificate_has_no_credential_any_more(
        self, client, certificate
    ):
        services.certificate_revoke(
            certificate_id=certificate.pk, reason="作废", by=None
        )
        response = client.get(
            f"/api/v1/certificates/{certificate.code}/credential.json"
        )
        assert response.status_code == 410
        assert response.json()["certificate"]["status"] == "revoked"


class TestDownload:
    def url(self, certificate: Certificate) -> str:
        return reverse("certificates:download", args=[certificate.pk])

    def test_the_owner_downloads_the_pdf(self, client, certificate, learner):
        services.certificate_render(certificate_id=certificate.pk)
        client.force_login(learner)
        response = client.get(self.url(certificate))
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"] == (
            f'attachment; filename="{certificate.serial}.pdf"'
        )
        assert b"".join(response.streaming_content).startswith(b"%PDF")

    def test_an_administrator_may_download_it(self, client, certificate):
        services.certificate_render(certificate_id=certificate.pk)
        client.force_login(StaffFactory())
        assert client.get(self.url(certificate)).status_code == 200

    def test_anyone_else_gets_404(self, client, certificate):
        services.certificate_render(certificate_id=certificate.pk)
        client.force_login(UserFactory())
        assert client.get(self.url(certificate)).status_code == 404
        assert (
            client.get(reverse("certificates:download", args=[999999])).status_code
            == 404
        )

    def test_a_visitor_is_sent_to_sign_in(self, client, certificate):
        response = client.get(self.url(certificate))
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")

    def test_a_pdf_not_yet_rendered_is_being_prepared(
        self, client, certificate, learner
    ):
        client.force_login(learner)
        response = client.get(self.url(certificate))
        assert response.status_code == 202
        assert "正在准备" in response.content.decode()

    def test_the_learner_cannot_download_a_revoked_certificate(
        self, client, certificate, learner
    ):
        services.certificate_render(certificate_id=certificate.pk)
        services.certificate_revoke(
            certificate_id=certificate.pk, reason="作废", by=None
        )
        client.force_login(learner)
        response = client.get(self.url(certificate))
        assert response.status_code == 410
        assert "已被撤销" in response.content.decode()

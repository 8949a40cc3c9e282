"""Enterprises: a user registers their organisation with a valid unified
social credit code; a reviewer verifies it or rejects it with a reason in the
admin; the user is e-mailed; the history has the review."""

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

from django.urls import reverse

from wagtail.models import ModelLogEntry

from portal.models import District, OutgoingEmail
from talentpool.contacts import services
from talentpool.models import Enterprise, EnterpriseMember, Industry
from tests.factories import StaffFactory, UserFactory
from tests.talentpool.factories import EnterpriseFactory, credit_code

pytestmark = pytest.mark.django_db

FORM = {
    "name": "重庆山城科技有限公司",
    "credit_code": "",
    "district": "",
    "industry": "",
    "address": "重庆市渝北区某路1号",
    "contact_name": "王经理",
    "contact_email": "wang@shancheng.example",
    "contact_phone": "023-6700 8888",
}


def form(**changes: str) -> dict:
    return FORM | {"credit_code": credit_code(4242)} | changes


def wrong_check_character(code: str) -> str:
    last = "0" if code[-1] != "0" else "1"
    return code[:17] + last


# --- registering ------------------------------------------------------------------


def test_a_user_registers_an_enterprise_for_verification(client):
    user = UserFactory()
    client.force_login(user)
    district = District.objects.get(code="yubei")
    industry = Industry.objects.filter(is_active=True).first()
    # Typed with a full-width input method and spaces: normalised.
    typed = " ".join(credit_code(4242)).replace("9", "９")
    response = client.post(
        reverse("contacts:enterprise"),
        form(credit_code=typed, district=str(district.pk), industry=str(industry.pk)),
        follow=True,
    )
    assert response.status_code == 200
    enterprise = Enterprise.objects.get()
    assert enterprise.credit_code == credit_code(4242)
    assert enterprise.status == Enterprise.Status.PENDING
    assert enterprise.registered_by == user
    assert EnterpriseMember.objects.get().user == user
    content = response.content.decode()
    assert "重庆山城科技有限公司" in content
    assert enterprise.get_status_display() in content
    # The page now shows the enterprise instead of the form.
    assert 'name="credit_code"' not in content


def test_the_page_is_in_english_too(client):
    client.force_login(UserFactory())
    response = client.get("/en/contacts/enterprise/")
    assert response.status_code == 200
    assert "Unified social credit code" in response.content.decode()


def test_a_wrong_check_character_is_refused_with_a_clear_message(client):
    client.force_login(UserFactory())
    response = client.post(
        "/en/contacts/enterprise/",
        form(credit_code=wrong_check_character(credit_code(4242))),
    )
    assert response.status_code == 400
    assert "should be" in response.content.decode()
    assert "GB 32100-2015" in response.content.decode()
    assert not Enterprise.objects.exists()


@pytest.mark.parametrize("code", ["9150000012345", "91500000IOSVZ00000", "我是代码"])
def test_a_malformed_credit_code_is_refused(client, code):
    client.force_login(UserFactory())
    response = client.post("/en/contacts/enterprise/", form(credit_code=code))
    assert response.status_code == 400
    assert "unified social credit code" in response.content.decode()
    assert not Enterprise.objects.exists()


def test_a_duplicate_credit_code_is_refused(client):
    EnterpriseFactory(credit_code=credit_code(4242))
    client.force_login(UserFactory())
    response = client.post("/en/contacts/enterprise/", form())
    assert response.status_code == 400
    assert "already registered" in response.content.decode()
    assert Enterprise.objects.count() == 1


def test_the_service_refuses_a_duplicate_even_past_the_form():
    EnterpriseFactory(credit_code=credit_code(7))
    with pytest.raises(services.ContactError):
        services.enterprise_register(
            user=UserFactory(),
            name="另一家",
            credit_code=credit_code(7).lower(),
            contact_name="李",
            contact_email="li@example.org",
        )
    assert Enterprise.objects.count() == 1


def test_a_user_acts_for_one_enterprise_only():
    enterprise = EnterpriseFactory()
    with pytest.raises(services.ContactError):
        services.enterprise_register(
            user=enterprise.registered_by,
            name="第二家",
            credit_code=credit_code(8),
            contact_name="李",
            contact_email="li@example.org",
        )
    assert Enterprise.objects.count() == 1


def test_a_bad_phone_is_refused(client):
    client.force_login(UserFactory())
    response = client.post("/en/contacts/enterprise/", form(contact_phone="call me"))
    assert response.status_code == 400
    assert "not a telephone number" in response.content.decode()
    assert not Enterprise.objects.exists()


def test_signing_in_is_required(client):
    response = client.get(reverse("contacts:enterprise"))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


# --- review in the admin ------------------------------------------------------------


@pytest.fixture
def reviewer(client, home):  # type: ignore[no-untyped-def]
    staff = StaffFactory(mfa=False)
    TOTP.activate(staff, generate_totp_secret())
    assert Authenticator.objects.filter(user=staff).exists()
    client.force_login(staff)
    return staff


def review_url(enterprise: Enterprise) -> str:
    return reverse(
        "wagtailsnippets_talentpool_enterprise:review", args=(enterprise.pk,)
    )


def test_a_reviewer_sees_pending_enterprises_and_verifies_one(client, reviewer):
    pending = EnterpriseFactory(status="pending", name="待审核企业")
    EnterpriseFactory(status="verified", name="已认证企业")
    index = reverse("wagtailsnippets_talentpool_enterprise:list")
    listing = client.get(index, {"status": "pending"}).content.decode()
    assert "待审核企业" in listing
    assert "已认证企业" not in listing

    edit = client.get(
        reverse("wagtailsnippets_talentpool_enterprise:edit", args=(pending.pk,))
    )
    assert review_url(pending) in edit.content.decode()
    assert client.get(review_url(pending)).status_code == 200
    response = client.post(review_url(pending), {"decision": "verify", "reason": ""})
    assert response.status_code == 302
    pending.refresh_from_db()
    assert pending.status == Enterprise.Status.VERIFIED
    assert pending.reviewed_by == reviewer
    assert pending.reviewed_at is not None
    email = OutgoingEmail.objects.get(to=[pending.registered_by.email])
    assert "待审核企业" in email.subject
    entry = ModelLogEntry.objects.get(action=services.LOG_ENTERPRISE_VERIFIED)
    assert entry.user == reviewer
    assert int(entry.object_id) == pending.pk
    # The enterprise's history in the admin shows it.
    history = client.get(
        reverse("wagtailsnippets_talentpool_enterprise:history", args=(pending.pk,))
    )
    assert history.status_code == 200


def test_a_rejection_needs_a_reason_and_tells_the_user(client, reviewer):
    enterprise = EnterpriseFactory(status="pending")
    enterprise.registered_by.language = "en"
    enterprise.registered_by.save()
    response = client.post(review_url(enterprise), {"decision": "reject", "reason": ""})
    assert response.status_code == 200
    enterprise.refresh_from_db()
    assert enterprise.status == Enterprise.Status.PENDING
    assert not OutgoingEmail.objects.exists()

    client.post(
        review_url(enterprise),
        {"decision": "reject", "reason": "营业执照名称与信用代码不符"},
    )
    enterprise.refresh_from_db()
    assert enterprise.status == Enterprise.Status.REJECTED
    assert enterprise.status_reason == "营业执照名称与信用代码不符"
    email = OutgoingEmail.objects.get()
    # In the registering user's language, with the reason.
    assert "could not be verified" in email.subject
    assert "营业执照名称与信用代码不符" in email.body
    entry = ModelLogEntry.objects.get(action=services.LOG_ENTERPRISE_REJECTED)
    assert entry.data["reason"] == "营业执照名称与信用代码不符"


def test_verifying_twice_is_refused_and_changes_nothing(reviewer):
    enterprise = EnterpriseFactory(status="pending")
    services.enterprise_verify(enterprise=enterprise, user=reviewer)
    with pytest.raises(services.ContactError):
        services.enterprise_verify(enterprise=enterprise, user=reviewer)
    assert OutgoingEmail.objects.count() == 1


def test_the_rejected_user_sees_why(client):
    enterprise = EnterpriseFactory(status="rejected", status_reason="名称不符")
    client.force_login(enterprise.registered_by)
    content = client.get(reverse("contacts:enterprise")).content.decode()
    assert "名称不符" in content


def test_enterprises_cannot_be_deleted_or_added_in_the_admin(client, reviewer):
    enterprise = EnterpriseFactory()
    delete = client.get(
        reverse("wagtailsnippets_talentpool_enterprise:delete", args=(enterprise.pk,))
    )
    assert delete.status_code in (302, 403)
    add = client.get(reverse("wagtailsnippets_talentpool_enterprise:add"))
    assert add.status_code in (302, 403)
    assert Enterprise.objects.filter(pk=enterprise.pk).exists()

"""Oversized requests and uploads get a clear message, never a 500."""

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

from django.core.files.uploadedfile import SimpleUploadedFile

from wagtail.documents import get_document_model

from tests.factories import StaffFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_an_oversized_form_post_is_a_translated_400(client, home, settings):
    client.force_login(UserFactory())
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    response = client.post("/accounts/profile/", {"real_name": "张" * 20_000})
    assert response.status_code == 400
    assert "无法处理此请求" in response.content.decode()


def test_an_oversized_document_upload_is_refused_with_a_message(client, home, settings):
    settings.WAGTAILDOCS_MAX_UPLOAD_SIZE = 1024
    staff = StaffFactory(mfa=False)
    TOTP.activate(staff, generate_totp_secret())
    client.force_login(staff)
    upload = SimpleUploadedFile(
        "big.pdf", b"%PDF-1.4\n" + b"0" * 4096, content_type="application/pdf"
    )
    response = client.post(
        "/admin/documents/add/",
        {"title": "太大的文件", "file": upload, "collection": 1},
    )
    assert response.status_code == 200
    assert "文件过大" in response.content.decode()
    assert not get_document_model().objects.filter(title="太大的文件").exists()

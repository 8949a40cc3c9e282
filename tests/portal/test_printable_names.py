"""A name goes on certificates, so every way a name comes in refuses a
character that no font of the certificate can draw, naming it in the
user's language: sign-up, the profile, the admin's user forms and the
trainee import. Rare names that the fonts do draw are accepted.

The refused character is U+10FFFD (private use: no character anyone can
read) and U+0645 (Arabic: not in the certificate's fonts, which would leave
it to whatever font fontconfig finds last).
"""

import csv
import io

import pytest

from django.core import checks
from django.urls import reverse
from django.utils import translation

from courses.imports import trainee_file_read
from portal import fonts
from portal.checks import check_certificate_fonts
from portal.models import Audience, User
from portal.validators import validate_printable
from tests.factories import StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "Zhishi-Chanquan-2027"
PRIVATE = "\U0010fffd"
RARE = "赵\U0002a6a5"  # 赵𪚥: U+2A6A5 is in CJK Extension B
REFUSED_ZH = "无法打印在证书上"
REFUSED_EN = "cannot be printed on a certificate"


def test_the_font_chain_draws_rare_names_and_refuses_the_rest():
    assert fonts.missing_families() == []
    for name in (
        "王喆堃",
        "李龑",
        "陈\U0002003e",  # 𠀾, Extension B
        RARE,
        "王\U0002b740",  # Extension D
        "李\U0002b820",  # Extension E
        "张\U0002ceb0",  # Extension F
        "刘\U00030000",  # Extension G (BabelStone Han)
        "Nguyễn Văn Đức",
        "买买提·艾力",
        "Zhang Wei",
    ):
        assert fonts.unprintable_characters(name) == [], name
    assert fonts.unprintable_characters(f"张{PRIVATE}伟{PRIVATE}") == [PRIVATE]
    assert fonts.unprintable_characters("\u0645\u062d\u0645\u062f") == [
        "\u0645",
        "\u062d",
        "\u062f",
    ]
    assert fonts.unprintable_characters("李\x07") == ["\x07"]


def test_the_message_names_each_character_and_its_code_point():
    with translation.override("zh-hans"), pytest.raises(Exception) as caught:
        validate_printable(f"张{PRIVATE}")
    assert REFUSED_ZH in str(caught.value) and "U+10FFFD" in str(caught.value)
    with translation.override("en"), pytest.raises(Exception) as caught:
        validate_printable(f"张{PRIVATE}\u0645")
    assert "These characters cannot be printed" in str(caught.value)
    assert "U+10FFFD" in str(caught.value) and "U+0645" in str(caught.value)


def signup(client, real_name: str, email: str, url: str | None = None):
    return client.post(
        url or reverse("account_signup"),
        {
            "email": email,
            "password1": PASSWORD,
            "password2": PASSWORD,
            "real_name": real_name,
            "audience": Audience.objects.get(code="civil_servant").pk,
            "privacy_consent": "on",
        },
    )


def test_signup_refuses_an_unprintable_name_in_chinese_and_creates_nothing(
    client, home
):
    response = signup(client, f"张{PRIVATE}", "zhang@example.org")
    assert response.status_code == 200
    page = response.content.decode()
    assert REFUSED_ZH in page and "U+10FFFD" in page
    assert not User.objects.filter(email="zhang@example.org").exists()


def test_signup_in_english_refuses_in_english(client, home):
    with translation.override("en"):
        url = reverse("account_signup")
    response = signup(client, "\u0645", "m@example.org", url)
    assert response.status_code == 200
    page = response.content.decode()
    assert REFUSED_EN in page and "U+0645" in page
    assert not User.objects.filter(email="m@example.org").exists()


def test_signup_accepts_a_rare_name_the_certificate_prints(client, home):
    response = signup(client, RARE, "zhao@example.org")
    assert response.status_code == 302
    assert User.objects.get(email="zhao@example.org").real_name == RARE


def profile_data(real_name: str) -> dict:
    return {"real_name": real_name, "language": "zh-hans"}


def test_profile_refuses_an_unprintable_name_and_keeps_the_old_one(client, home):
    # A forged POST, not only what the browser's form would send.
    user = UserFactory(real_name="王芳")
    client.force_login(user)
    response = client.post(reverse("account_profile"), profile_data(f"王{PRIVATE}"))
    assert response.status_code == 200
    page = response.content.decode()
    assert REFUSED_ZH in page and "U+10FFFD" in page
    user.refresh_from_db()
    assert user.real_name == "王芳"

    response = client.post(reverse("account_profile"), profile_data(RARE))
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.real_name == RARE


def test_the_admin_user_forms_refuse_an_unprintable_name(client, home):
    client.force_login(StaffFactory())
    user = UserFactory(real_name="王芳")
    edit = reverse("wagtailusers_users:edit", args=[user.pk])
    # Wagtail's template shows first and last name, which the portal's user
    # has not: its own (templates/wagtailusers/users/) shows the real name.
    page = client.get(edit).content.decode()
    assert 'name="real_name"' in page and 'value="王芳"' in page
    assert (
        'name="real_name"'
        in client.get(reverse("wagtailusers_users:add")).content.decode()
    )
    data = {"email": user.email, "real_name": f"王{PRIVATE}", "is_active": "on"}
    response = client.post(edit, data)
    assert response.status_code == 200
    assert "U+10FFFD" in response.content.decode()
    user.refresh_from_db()
    assert user.real_name == "王芳"
    assert client.post(edit, {**data, "real_name": RARE}).status_code == 302
    user.refresh_from_db()
    assert user.real_name == RARE

    add = reverse("wagtailusers_users:add")
    new = {
        "email": "new@example.org",
        "real_name": f"李{PRIVATE}",
        "password1": PASSWORD,
        "password2": PASSWORD,
    }
    response = client.post(add, new)
    assert response.status_code == 200
    assert "U+10FFFD" in response.content.decode()
    assert not User.objects.filter(email="new@example.org").exists()
    assert client.post(add, {**new, "real_name": RARE}).status_code == 302
    assert User.objects.get(email="new@example.org").real_name == RARE


def test_the_trainee_import_names_the_line_and_the_characters():
    text = io.StringIO()
    csv.writer(text).writerows(
        [
            ["Email", "Name"],
            ["zhao@example.cn", RARE],
            ["bad@example.cn", f"钱{PRIVATE}"],
        ]
    )
    with translation.override("zh-hans"):
        preview = trainee_file_read(
            content=text.getvalue().encode(), filename="list.csv"
        )
    assert [row.name for row in preview.rows] == [RARE]
    assert len(preview.errors) == 1
    line, message = preview.errors[0]
    assert line == 3 and REFUSED_ZH in message and "U+10FFFD" in message
    assert not preview.is_valid


def test_a_missing_certificate_font_is_a_deploy_warning(monkeypatch):
    assert check_certificate_fonts(None) == []
    real = fonts.family_faces
    monkeypatch.setattr(
        fonts,
        "family_faces",
        lambda family: [] if family == "BabelStone Han" else real(family),
    )
    [warning] = check_certificate_fonts(None)
    assert warning.id == "portal.W004" and "BabelStone Han" in warning.msg
    assert "fonts-babelstone-han" in warning.hint
    found = checks.run_checks(include_deployment_checks=True)
    assert "portal.W004" in {message.id for message in found}

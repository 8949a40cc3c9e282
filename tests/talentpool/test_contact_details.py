"""Contact details written into free text never reach the public.

The cheapest way round the contact request is to put one's phone, e-mail,
WeChat or web address in the biography or the organisation's name. Public
pages, the API and the search index must not carry them; the reviewer sees
them marked and the importer is told."""

import json

import pytest

from django.urls import reverse
from django.utils import translation

from talentpool.applications import services as application_services
from talentpool.contact_details import contact_details_in, without_contact_details
from talentpool.imports import expert_file_check
from talentpool.search import experts_reindex
from tests.factories import UserFactory
from tests.talentpool.helpers import listed_expert, talent_page
from tests.talentpool.test_applications import PROFILE, reviewer, reviewer_client  # noqa: F401
from tests.talentpool.test_import import csv_file

pytestmark = pytest.mark.django_db

HIDDEN = [
    "执业十五年，电话 138 0013 8000，欢迎联系。",
    "手机：１３８００１３８０００",
    "+86-138-0013-8000",
    "邮箱 zhang@lawfirm.cn",
    "邮箱 zhang(at)lawfirm(dot)cn",
    "邮箱 zhang [at] lawfirm [dot] com",
    "ｚｈａｎｇ＠ｌａｗｆｉｒｍ．ｃｎ",
    "微信号：zhanglawyer88",
    "加V信 zhang_lawyer",
    "QQ: 123456789",
    "详见 www.lawfirm.cn/team/zhang",
    "主页 https://lawfirm.com.cn/zhang",
    "事务所网站 lawfirm.cn",
    "座机 023-6789 1234",
    "(023)67891234",
    "热线 400-123-4567",
    "Tel: +86 23 6789 1234",
]
KEPT = [
    "2015-2020 年任职于重庆某律师事务所，2021 年起执业。",
    "律师执业证号 15001201510123456",
    "办理案件 300 余件，标的额 1,200,000 元。",
    "熟悉 Node.js 与 Python 技术背景的专利申请。",
    "擅长专利侵权诉讼、商标注册与维权。",
    "He worked at Huawei. Later he joined a firm.",
    "ISO 9001:2015 认证",
]
BIOGRAPHY = (
    "专利侵权诉讼律师。电话 138 0013 8000，邮箱 zhang@lawfirm.cn，"
    "微信号：zhanglawyer88，详见 www.lawfirm.cn/team/zhang"
)
SECRETS = ["138 0013 8000", "zhang@lawfirm.cn", "zhanglawyer88", "lawfirm.cn"]


@pytest.mark.parametrize("text", HIDDEN)
def test_a_contact_detail_is_found_and_hidden(text):
    assert contact_details_in(text)
    with translation.override("zh-hans"):
        hidden = without_contact_details(text)
    assert "〔联系方式已隐藏〕" in hidden
    assert not any(char.isdigit() for char in hidden.replace("〔", ""))
    assert "zhang" not in hidden.lower().replace(" ", "")


@pytest.mark.parametrize("text", KEPT)
def test_years_amounts_and_licence_numbers_are_left_alone(text):
    assert without_contact_details(text) == text


@pytest.fixture
def expert(home):  # type: ignore[no-untyped-def]
    talent_page(home)
    expert = listed_expert(
        name="张律",
        categories=["lawyer"],
        organisation="某某律师事务所 023-6789 1234",
        biography=BIOGRAPHY,
    )
    experts_reindex()
    return expert


def test_the_public_profile_shows_the_biography_without_them(client, expert):
    page = client.get(f"/talent/experts/{expert.pk}/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "专利侵权诉讼律师" in html and "〔联系方式已隐藏〕" in html
    for secret in [*SECRETS, "023-6789 1234"]:
        assert secret not in html


def test_search_results_and_the_api_never_show_them(client, expert):
    for url in ("/talent/?q=专利", "/api/v1/experts/?q=张律"):
        body = client.get(url).content.decode()
        assert "张律" in body or "\\u5f20\\u5f8b" in body
        decoded = json.loads(body) if url.startswith("/api/") else None
        text = json.dumps(decoded, ensure_ascii=False) if decoded else body
        for secret in [*SECRETS, "023-6789 1234"]:
            assert secret not in text


def test_searching_for_a_contact_detail_finds_nobody(client, expert):
    for query in ("13800138000", "zhanglawyer88", "zhang@lawfirm.cn", "67891234"):
        data = client.get("/api/v1/experts/", {"q": query}).json()
        assert data["total"] == 0, query


def test_the_reviewer_sees_them_marked(reviewer_client):  # noqa: F811
    application = application_services.application_submit(
        user=UserFactory(),
        data={**PROFILE, "biography": BIOGRAPHY, "qualifications": []},
        consent=True,
    )
    html = reviewer_client.get(
        reverse("talentpool_applications:review", args=(application.pk,))
    ).content.decode()
    assert "<mark>电话 138 0013 8000</mark>" in html
    assert "<mark>微信号：zhanglawyer88</mark>" in html
    assert (
        "Contact details in this text (phone number, e-mail address, WeChat id, "
        "web address) are marked: the public profile and the API will not show "
        "them."
    ) in html


def test_the_import_report_names_the_lines():
    rows = [
        ["external_id", "name", "category", "organization", "bio"],
        ["A1", "赵敏", "律师", "某某律师事务所", "擅长商标维权。"],
        ["A2", "钱进", "律师", "某某律师事务所", BIOGRAPHY],
    ]
    with translation.override("en"):
        report = expert_file_check(file=csv_file(rows), filename="a.csv")
    assert report.errors == [] and report.rows == 2
    assert any(
        "1 row has contact details" in warning and "line 3" in warning
        for warning in report.warnings
    ), report.warnings


def test_the_applicant_is_told_they_will_not_be_public(client, home):
    from tests.talentpool.test_applications import form_post

    client.force_login(UserFactory())
    response = client.post(
        "/expert/apply/",
        form_post(biography=BIOGRAPHY, publication_consent="on"),
        follow=True,
    )
    html = response.content.decode()
    assert response.redirect_chain[-1] == ("/expert/application/", 302)
    assert (
        "您的简介或工作单位中含有联系方式（电话号码、电子邮箱、微信号、网址）" in html
    )
    assert "企业通过联系请求与您联系" in html

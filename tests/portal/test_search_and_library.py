"""Site search and the policy library find Chinese words in running text, and
answer malformed queries with a message instead of an error."""

import pytest

from tests.factories import (
    NewsIndexPageFactory,
    NewsPageFactory,
    PolicyDocumentPageFactory,
    PolicyIndexPageFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def library(home, django_capture_on_commit_callbacks):
    # Indexing is one of Wagtail's background tasks: it runs when the commit
    # hands it to Celery (eager in tests).
    with django_capture_on_commit_callbacks(execute=True):
        policies = PolicyIndexPageFactory(parent=home)
        PolicyDocumentPageFactory(
            parent=policies,
            slug="opinions",
            title="关于贯彻落实国家知识产权战略行动计划的实施意见",
            issuer="重庆市人民政府办公厅",
            document_number="渝府办发〔2015〕83号",
            issued_date="2015-05-22",
            summary="建立知识产权人才库，把律师、公证员纳入市知识产权人才库。",
        )
        PolicyDocumentPageFactory(
            parent=policies,
            slug="action-plan",
            title="深入实施国家知识产权战略行动计划",
            issuer="国务院办公厅",
            document_number="国办发〔2014〕64号",
            issued_date="2014-12-10",
            summary="部署专利、商标和版权工作。",
        )
        news = NewsIndexPageFactory(parent=home)
        NewsPageFactory(
            parent=news,
            slug="talent",
            title="人才库启动入库申报",
            summary="律师可以申请。",
        )
    return policies


def titles(response) -> str:
    return response.content.decode()


def test_site_search_finds_a_word_inside_running_chinese_text(client, library):
    html = titles(client.get("/search/", {"q": "人才库"}))
    assert "关于贯彻落实国家知识产权战略行动计划的实施意见" in html
    assert "人才库启动入库申报" in html
    assert "深入实施国家知识产权战略行动计划</a>" not in html


def test_site_search_needs_every_word(client, library):
    html = titles(client.get("/search/", {"q": "公证员 律师"}))
    assert "实施意见" in html and "人才库启动入库申报" not in html


def test_site_search_explains_an_empty_result(client, library):
    html = titles(client.get("/search/", {"q": "区块链"}))
    assert "没有找到与“区块链”相关的内容" in html


def test_site_search_rejects_an_overlong_query_with_a_message(client, library):
    response = client.get("/search/", {"q": "知" * 500})
    assert response.status_code == 200
    assert "最多输入 100 个字符" in response.content.decode()


def test_policy_library_filters_by_issuer_year_and_keyword(client, library):
    url = "/" + library.slug + "/"
    html = titles(client.get(url, {"issuer": "国务院办公厅"}))
    assert "国办发〔2014〕64号" in html and "渝府办发〔2015〕83号" not in html
    html = titles(client.get(url, {"year": "2015"}))
    assert "渝府办发〔2015〕83号" in html and "国办发〔2014〕64号" not in html
    html = titles(client.get(url, {"q": "公证员"}))
    assert "渝府办发〔2015〕83号" in html and "国办发〔2014〕64号" not in html
    html = titles(client.get(url, {"q": "公证员", "year": "2014"}))
    assert "没有符合条件的政策文件" in html


def test_policy_library_answers_malformed_filters_with_a_message(client, library):
    url = "/" + library.slug + "/"
    response = client.get(url, {"year": "abc", "issuer": "不存在的机关", "page": "-3"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "选择一个有效的选项" in html
    assert "渝府办发〔2015〕83号" in html  # filters ignored, everything listed

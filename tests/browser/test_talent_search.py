"""A visitor looks for a patent attorney for integrated circuits in
Traditional characters on the talent search page and opens the expert's
profile; narrows the results with a filter without JavaScript; axe-core finds
no serious or critical problem on the results, filtered, English, past-the-end
and profile pages."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import assert_no_serious_axe_violations, field
from tests.talentpool.helpers import PRIVATE_VALUES, pool, talent_page

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def experts(live_site, home):
    talent_page(home)
    return pool()


def result_names(page) -> list[str]:  # type: ignore[no-untyped-def]
    return page.locator(".talent-card .card__title").all_inner_texts()


def test_a_visitor_finds_the_patent_attorney_in_traditional_characters(
    page, experts, screenshot
):
    page.goto("/")
    page.get_by_role("navigation", name="主导航").get_by_role(
        "link", name="人才库"
    ).click()
    page.wait_for_url(re.compile(r"/talent/$"))
    expect(page.get_by_role("heading", name="人才库", level=1)).to_be_visible()

    field(page, "搜索专家").fill("專利代理師 積體電路")
    page.get_by_role("search", name="搜索人才库").get_by_role(
        "button", name="搜索"
    ).click()
    page.wait_for_url(re.compile(r"/talent/\?q="))
    assert result_names(page)[0] == "曾伟"
    first = page.locator(".talent-card").first
    expect(first).to_contain_text("重庆某某专利代理事务所")
    expect(first).to_contain_text("可联系")
    html = page.content()
    for value in PRIVATE_VALUES:
        assert value not in html
    screenshot(page, "talent-search-results")
    assert_no_serious_axe_violations(page)

    # The address can be shared: opening it again gives the same results.
    shared = page.url
    page.goto(shared)
    assert result_names(page)[0] == "曾伟"

    page.get_by_role("link", name="曾伟").click()
    page.wait_for_url(re.compile(rf"/talent/experts/{experts['zeng'].pk}/$"))
    expect(page.get_by_role("heading", name="曾伟", level=1)).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text("集成电路")
    screenshot(page, "talent-expert-profile")
    assert_no_serious_axe_violations(page)


def test_filters_work_without_javascript(new_page, experts, screenshot):
    page = new_page(java_script_enabled=False)
    page.goto("/talent/")
    facets = page.get_by_role("region", name="筛选结果")
    category = facets.get_by_role("group", name="专家类别")
    category.get_by_role("checkbox", name=re.compile(r"^律师 \(2\)$")).check()
    facets.get_by_role("button", name="应用筛选").click()
    page.wait_for_url(re.compile(r"category=lawyer"))
    assert sorted(result_names(page)) == sorted(["单敏", "仇磊"])
    expect(
        category.get_by_role("checkbox", name=re.compile(r"^律师 \(2\)$"))
    ).to_be_checked()
    screenshot(page, "talent-search-filtered")


def test_filtered_english_and_past_the_end_pages_pass_axe(page, experts):
    # axe-core runs as a script, so these pages are checked with JavaScript on.
    page.goto("/talent/?category=lawyer&district=yuzhong&sort=years")
    assert result_names(page) == ["仇磊"]
    assert_no_serious_axe_violations(page)

    page.goto("/en/talent/?q=patent+attorney")
    assert result_names(page)[0] == "曾伟"
    expect(page.get_by_role("group", name="Expert category")).to_be_visible()
    assert_no_serious_axe_violations(page)

    page.goto("/talent/?page=9")
    expect(page.get_by_role("main")).to_contain_text("没有第 9 页")
    assert_no_serious_axe_violations(page)

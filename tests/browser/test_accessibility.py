"""axe-core finds no serious or critical problem on the pages most visitors
see, in Chinese and in English, on a wide and a narrow screen, and in a form
that shows errors."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import assert_no_serious_axe_violations, field

pytestmark = [
    pytest.mark.browser,
    # The live server runs in another thread, so the test cannot hold its data
    # in an open transaction; the migrations' rows are restored after each test.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

NARROW = {"width": 375, "height": 800}


@pytest.mark.parametrize(
    ("name", "path"),
    [
        ("home", None),
        ("signup", "/accounts/signup/"),
        ("news", None),
        ("home-en", "/en/"),
    ],
)
def test_page_has_no_serious_axe_violations(page, site_pages, screenshot, name, path):
    """`path` None: the page of that name in the site_pages fixture."""
    page.goto(path or site_pages[name].url)
    expect(page.get_by_role("main")).to_be_visible()
    screenshot(page, name)
    assert_no_serious_axe_violations(page)


def test_narrow_screen_with_the_menu_open_has_no_serious_axe_violations(
    new_page, site_pages, screenshot
):
    page = new_page(viewport=NARROW)
    page.goto(site_pages["news"].url)
    menu = page.get_by_role("navigation", name="主导航")
    expect(menu.get_by_role("link", name="新闻动态")).to_be_hidden()
    toggle = menu.get_by_role("button", name="菜单")
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(menu.get_by_role("link", name="新闻动态")).to_be_visible()
    screenshot(page, "news-narrow-menu")
    assert_no_serious_axe_violations(page)


def test_narrow_screen_without_javascript_still_shows_the_menu(new_page, site_pages):
    page = new_page(viewport=NARROW, java_script_enabled=False)
    page.goto("/")
    menu = page.get_by_role("navigation", name="主导航")
    expect(menu.get_by_role("link", name="新闻动态")).to_be_visible()
    # A button that cannot work without the script is not offered.
    expect(menu.get_by_role("button", name="菜单")).to_be_hidden()


def test_signup_errors_are_tied_to_their_fields(page, screenshot):
    page.goto("/accounts/signup/")
    password = field(page, "密码")
    # The password rules are the field's description, not loose text after it.
    expect(password).to_have_accessible_description(re.compile("至少 10 个字符"))

    # Let the server, not the browser, judge the input.
    page.get_by_role("main").locator("form").evaluate(
        "form => { form.noValidate = true; }"
    )
    field(page, "电子邮件").fill("not-an-e-mail")
    password.fill("12345")
    field(page, "密码（重复）").fill("12345")
    page.get_by_role("main").get_by_role("button", name="注册").click()

    email = field(page, "电子邮件")
    expect(email).to_have_attribute("aria-invalid", "true")
    expect(email).to_have_accessible_description(re.compile("有效的"))
    # Both the help text and the error message describe the name field.
    expect(field(page, "真实姓名")).to_have_accessible_description(
        re.compile("培训证书.*必需")
    )
    # Every aria-describedby points at an element that exists.
    dangling = page.evaluate(
        """() => [...document.querySelectorAll('[aria-describedby]')].flatMap(
            el => el.getAttribute('aria-describedby').split(/\\s+/)
                .filter(id => id && !document.getElementById(id))
                .map(id => `${el.id || el.name} -> #${id}`))"""
    )
    assert dangling == []
    screenshot(page, "signup-errors")
    assert_no_serious_axe_violations(page)

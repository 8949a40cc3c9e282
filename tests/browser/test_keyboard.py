"""Keyboard users can skip the header straight to the page's content."""

import pytest
from playwright.sync_api import expect

pytestmark = [
    pytest.mark.browser,
    # The live server runs in another thread, so the test cannot hold its data
    # in an open transaction; the migrations' rows are restored after each test.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_skip_link_is_the_first_stop_and_moves_focus_to_main(page, site_pages):
    page.goto("/")
    skip = page.get_by_role("link", name="跳到主要内容")
    expect(skip).not_to_be_in_viewport()

    page.keyboard.press("Tab")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()

    page.keyboard.press("Enter")
    main = page.locator("main#main")
    expect(main).to_be_focused()
    assert page.url.endswith("#main")

    # The next Tab continues inside the content, not back in the header.
    page.keyboard.press("Tab")
    news_title = site_pages["news"].title
    first_news = page.get_by_role("main").get_by_role("link", name=news_title)
    expect(first_news).to_be_focused()

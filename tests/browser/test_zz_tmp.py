import pytest
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

def test_focus_shots(page, site_pages):
    page.goto("/")
    page.keyboard.press("Tab")
    page.screenshot(path="/tmp/shots/focus-skip.png", clip={"x":0,"y":0,"width":700,"height":200})
    for i in range(7):
        page.keyboard.press("Tab")
    page.screenshot(path="/tmp/shots/focus-signup.png", clip={"x":600,"y":0,"width":680,"height":160})
    for i in range(3):
        page.keyboard.press("Tab")
    page.screenshot(path="/tmp/shots/focus-nav.png", clip={"x":0,"y":0,"width":700,"height":200})
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto("/accounts/login/")
    page.screenshot(path="/tmp/shots/login-narrow.png", full_page=True)

import json, re
import pytest
from django.core import mail
from axe_playwright_python.sync_playwright import Axe
from tests.factories import UserFactory

pytestmark = pytest.mark.browser

def ax(page, name):
    open(f"/tmp/explore/{name}.html", "w").write(page.content())
    page.screenshot(path=f"/tmp/shots/explore-{name}.png", full_page=True)
    r = Axe().run(page, options={"resultTypes": ["violations", "incomplete"]})
    print("=====", name, page.url, page.title())
    for kind in ("violations", "incomplete"):
        for v in r.response[kind]:
            print(kind, v["id"], v["impact"], [n["target"] for n in v["nodes"]][:5])
            for n in v["nodes"][:3]:
                print("   ", (n.get("failureSummary") or "").replace("\n", " | ")[:300], n["html"][:150])

def L(page, text):
    return page.get_by_label(re.compile("^" + re.escape(text) + r"\s*\*?$"))

def test_explore(page, site_pages):
    page.goto("/accounts/signup/")
    L(page, "电子邮件").fill("bad")
    L(page, "密码").fill("123")
    L(page, "密码（重复）").fill("1234")
    page.evaluate("document.querySelector('form.form').noValidate = true")
    page.get_by_role("button", name="注册", exact=True).last.click()
    ax(page, "signup-errors")
    L(page, "电子邮件").fill("z@example.org")
    L(page, "真实姓名").fill("张伟")
    L(page, "人员类别").select_option(label="公务员")
    L(page, "密码").fill("Zhishi-Chanquan-2027")
    L(page, "密码（重复）").fill("Zhishi-Chanquan-2027")
    page.get_by_role("button", name="注册", exact=True).last.click()
    ax(page, "verify-sent")
    print([m.subject for m in mail.outbox], mail.outbox and mail.outbox[0].body)
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", mail.outbox[0].body).group(0)
    page.goto(link)
    ax(page, "confirm")
    page.get_by_role("button", name=re.compile("确认")).click()
    ax(page, "after-confirm")
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto("/")
    page.get_by_role("button", name="菜单").click()
    ax(page, "mobile-menu-open")

"""My learning is one click away for anyone signed in (issue 17, part 5):
signing in lands there, the header's account navigation links to it (marked
as the current page there), and the course page's button names the next
step; axe-core finds no serious or critical violation."""

import re

import pytest
from playwright.sync_api import expect

from courses import services
from tests.browser.helpers import assert_no_serious_axe_violations, sign_in
from tests.courses.factories import (
    CourseIndexPageFactory,
    CoursePageFactory,
    LessonPageFactory,
    paragraph,
)
from tests.factories import UserFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_header_link_to_my_learning(page, home):
    catalogue = CourseIndexPageFactory(parent=home, show_in_menus=True)
    course = CoursePageFactory(parent=catalogue, slug="ip-basics", title="知识产权基础")
    LessonPageFactory(parent=course, slug="reading", title="第一课", body=[paragraph()])
    learner = UserFactory(real_name="王芳")
    services.enrolment_self(user=learner, course=course)

    sign_in(page, learner.email)  # ends on My learning
    account_nav = page.get_by_role("navigation", name="账号")
    link = account_nav.get_by_role("link", name="我的学习")
    expect(link).to_be_visible()
    expect(link).to_have_attribute("aria-current", "page")
    expect(page.get_by_role("heading", level=1)).to_have_text("我的学习")
    assert_no_serious_axe_violations(page)

    # From any page, the header leads back to My learning.
    page.goto("/courses/ip-basics/")
    main = page.get_by_role("main")
    expect(main.get_by_role("link", name="开始学习")).to_be_visible()
    link = page.get_by_role("navigation", name="账号").get_by_role(
        "link", name="我的学习"
    )
    expect(link).not_to_have_attribute("aria-current", "page")
    assert_no_serious_axe_violations(page)
    link.click()
    expect(page).to_have_url(re.compile(r"/learning/$"))
    main = page.get_by_role("main")
    expect(main.get_by_role("link", name=re.compile("开始学习"))).to_be_visible()
    assert_no_serious_axe_violations(page)

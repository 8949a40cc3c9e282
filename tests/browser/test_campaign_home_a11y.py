"""The campaign's home page with upcoming and past events (under 回顾) and an
important notice, and the campaign page: no serious axe-core violation, and
no Content-Security-Policy violation from the JSON-LD of an event page."""

import datetime

import pytest

from django.utils import timezone

from tests.browser.helpers import assert_no_serious_axe_violations
from tests.events.factories import (
    CampaignPageFactory,
    EventIndexPageFactory,
    EventPageFactory,
)
from tests.factories import NoticeIndexPageFactory, NoticePageFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

DAY = datetime.timedelta(days=1)
HOUR = datetime.timedelta(hours=1)


def test_the_campaign_home_and_page_have_no_serious_axe_violations(page, home):
    now = timezone.now().replace(microsecond=0)
    campaign = CampaignPageFactory(
        parent=home, slug="week", starts_at=now - 3 * DAY, ends_at=now + 4 * DAY
    )
    index = EventIndexPageFactory(parent=home)
    EventPageFactory(
        parent=index,
        slug="past",
        title="已结束的讲座",
        campaign=campaign,
        starts_at=now - 2 * DAY,
        ends_at=now - 2 * DAY + HOUR,
    )
    EventPageFactory(
        parent=index,
        slug="now",
        title="正在进行的展览",
        campaign=campaign,
        starts_at=now - HOUR,
        ends_at=now + HOUR,
    )
    EventPageFactory(parent=index, slug="next", title="明天的培训", campaign=campaign)
    notices = NoticeIndexPageFactory(parent=home)
    NoticePageFactory(parent=notices, title="重要的安全通知", is_important=True)

    for path in ("/", "/en/", "/week/", "/events/next/"):
        page.goto(path)
        assert_no_serious_axe_violations(page)
    page.goto("/")
    assert page.get_by_role("heading", name="回顾").is_visible()

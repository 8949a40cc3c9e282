"""Wagtail's admin works under a Content-Security-Policy that refuses inline
scripts and styles: the inline panels, choosers and date pickers that Wagtail
starts with inline <script> elements are started by static/js/admin-init.js
instead, in the page as served and in the child forms an editor adds, each
once; the portal's own admin screens take their look from
static/css/admin.css. The harness fails each test on any violation the
browser reports (conftest.py, no_csp_violations): an inline script or style
left anywhere in these pages fails it.
"""

import datetime
import re

import pytest
from playwright.sync_api import expect

from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone

from wagtail.documents import get_document_model

from courses.models import CertificateTemplate
from portal.models import NoticePage
from tests.browser.helpers import sign_in_with_code
from tests.courses.factories import CourseIndexPageFactory, CoursePageFactory
from tests.courses.test_certificate_admin import template_form
from tests.courses.test_reports import enrol
from tests.events.factories import EventIndexPageFactory, EventPageFactory
from tests.events.test_checkin import register
from tests.factories import (
    NoticeIndexPageFactory,
    NoticePageFactory,
    StaffFactory,
    activate_totp,
)
from tests.subscriptions.factories import AnnouncementFactory
from tests.talentpool.factories import ExpertFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

#: Records each call of Wagtail's initialisers as [name, element id or formset
#: prefix] in window.initCalls: Playwright runs it before the page's scripts,
#: and wraps each global when Wagtail's script defines it.
COUNT_INITIALISATIONS = """
window.initCalls = [];
for (const name of ["InlinePanel", "DocumentChooser", "initDateChooser"]) {
  let wrapped;
  const record = (args) => window.initCalls.push(
    [name, typeof args[0] === "string" ? args[0] : args[0].formsetPrefix]);
  Object.defineProperty(window, name, {
    configurable: true,
    get: () => wrapped,
    set: (original) => {
      wrapped = new Proxy(original, {
        apply(target, self, args) {
          record(args);
          return Reflect.apply(target, self, args);
        },
        construct(target, args, newTarget) {
          record(args);
          return Reflect.construct(target, args, newTarget);
        },
      });
    },
  });
}
"""


def script_sources(response) -> list[str]:  # type: ignore[no-untyped-def]
    """The script-src sources of a response's Content-Security-Policy."""
    header = response.headers["content-security-policy"]
    directives = [part.split() for part in header.split(";") if part.strip()]
    [sources] = [rest for name, *rest in directives if name == "script-src"]
    return sources


def signed_in_editor(tab) -> None:  # type: ignore[no-untyped-def]
    """A superuser, signed in through the login form and the TOTP code."""
    staff = StaffFactory(email="bianji@example.org", mfa=False)
    sign_in_with_code(tab, staff.email, activate_totp(staff))


def init_calls(tab, name: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [
        target for called, target in tab.evaluate("window.initCalls") if called == name
    ]


def test_an_editor_adds_attachments_and_dates_a_notice_without_inline_scripts(
    page, home
):
    document = get_document_model().objects.create(
        title="培训报名表", file=ContentFile(b"%PDF-1.4\n", name="form.pdf")
    )
    notice = NoticePageFactory(parent=NoticeIndexPageFactory(parent=home))
    signed_in_editor(page)
    page.add_init_script(COUNT_INITIALISATIONS)

    response = page.goto(f"/admin/pages/{notice.pk}/edit/")
    assert response.status == 200
    # The admin's policy: scripts from the portal's files only.
    assert script_sources(response) == ["'self'"]
    assert init_calls(page, "InlinePanel") == ["id_attachments"]

    # The inline panel answers its button once (two panels would add two).
    page.locator("#id_attachments-ADD").click()
    page.locator("#id_attachments-ADD").click()
    expect(page.locator("#id_attachments-TOTAL_FORMS")).to_have_value("2")
    child = page.locator("#inline_child_attachments-1")
    expect(child).to_be_visible()

    # The new child's document chooser, started when the form was inserted,
    # opens its modal and takes the choice.
    child.locator("#id_attachments-1-document-chooser").get_by_role(
        "button", name=re.compile("选择")
    ).first.click()
    modal = page.locator(".modal")
    modal.get_by_role("link", name=document.title).click()
    expect(page.locator("#id_attachments-1-document")).to_have_value(str(document.pk))
    expect(modal).to_be_hidden()
    # Moving a child re-inserts it: its widgets are not started again.
    child.locator("[data-inline-panel-child-move-up]").click()
    assert init_calls(page, "DocumentChooser") == [
        "id_attachments-0-document",
        "id_attachments-1-document",
    ]
    page.locator("#id_attachments-0-DELETE-button").click()

    # The page's date field opens its picker.
    page.locator("#id_date").click()
    expect(page.locator(".xdsoft_datetimepicker:visible")).to_have_count(1)
    page.locator("#id_date").fill("2026-04-26")
    page.keyboard.press("Escape")
    expect(page.locator("#id_date")).to_have_value("2026-04-26")
    assert init_calls(page, "initDateChooser") == ["id_date"]

    page.get_by_role("button", name="保存草稿").click()
    expect(page.locator(".messages")).to_contain_text("已被更新")
    draft = NoticePage.objects.get(pk=notice.pk).get_latest_revision_as_object()
    assert [a.document_id for a in draft.attachments.all()] == [document.pk]
    assert draft.date == datetime.date(2026, 4, 26)


def test_a_date_picker_in_an_added_inline_form_starts_once(page, home):
    expert = ExpertFactory()
    signed_in_editor(page)
    page.add_init_script(COUNT_INITIALISATIONS)

    response = page.goto(
        reverse("wagtailsnippets_talentpool_expert:edit", args=[expert.pk])
    )
    assert response.status == 200
    assert script_sources(response) == ["'self'"]

    page.get_by_role("tab", name=re.compile("资质")).click()
    page.locator("#id_qualifications-ADD").click()
    valid_until = page.locator("#id_qualifications-0-valid_until")
    valid_until.click()
    expect(page.locator(".xdsoft_datetimepicker:visible")).to_have_count(1)
    assert init_calls(page, "initDateChooser") == ["id_qualifications-0-valid_until"]


def computed(tab, selector: str, prop: str) -> str:  # type: ignore[no-untyped-def]
    """The first matching element's computed CSS property."""
    return tab.eval_on_selector(
        selector, f"element => getComputedStyle(element).{prop}"
    )


def test_the_portals_own_admin_screens_need_no_inline_style(page, home):
    """Dashboard panels, talent-pool statistics, an event's attendees, an
    announcement's preview and a certificate template's HTML preview, each
    with figures in it, under the admin's strict policy, and looking as they
    should (the stylesheet, not style= attributes, lays them out)."""
    course = CoursePageFactory(parent=CourseIndexPageFactory(parent=home))
    learner = StaffFactory(email="xueyuan@example.org", mfa=False)
    now = timezone.now()
    enrol(learner, course, now, completed_at=now)
    ExpertFactory()
    event = EventPageFactory(parent=EventIndexPageFactory(parent=home))
    register(event, learner)
    announcement = AnnouncementFactory()
    template = CertificateTemplate.objects.get()
    signed_in_editor(page)

    # The dashboard: training and talent-pool panels, with the training chart.
    page.goto("/admin/")
    expect(page.locator("svg.portal-admin-chart--small")).to_be_visible()
    assert computed(page, ".portal-admin-number", "fontWeight") == "700"
    assert (
        computed(page, ".portal-admin-chart--small .chart-part", "fill")
        != "rgb(0, 0, 0)"
    )

    page.goto(reverse("talentpool_statistics:index"))
    expect(page.locator("svg.portal-admin-chart").first).to_be_visible()
    assert computed(page, ".portal-admin-stats", "display") == "grid"

    page.goto(reverse("events_registration_attendees", args=[event.pk]))
    expect(page.get_by_role("cell", name=learner.email)).to_be_visible()
    assert computed(page, ".portal-admin-number", "fontWeight") == "700"

    page.goto(f"/admin/announcements/preview/{announcement.pk}/")
    expect(page.get_by_text(announcement.subject).first).to_be_visible()
    assert computed(page, ".portal-admin-plain-text", "whiteSpace") == "pre-wrap"

    # The certificate's HTML preview keeps its own <style>, allowed by hash.
    preview_url = reverse(
        "wagtailsnippets_courses_certificatetemplate:preview_on_edit",
        args=[template.pk],
    )
    [csrf] = [c["value"] for c in page.context.cookies() if c["name"] == "csrftoken"]
    checked = page.request.post(
        preview_url, form=template_form(template), headers={"X-CSRFToken": csrf}
    )
    assert checked.json()["is_valid"] is True
    page.goto(preview_url)
    expect(page.locator("h1")).to_have_text(template.title)
    assert computed(page, "h1", "fontWeight") == "700"

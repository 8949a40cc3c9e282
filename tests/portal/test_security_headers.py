"""Security headers: every response carries a Content-Security-Policy that
refuses inline scripts, a Permissions-Policy with the camera off (on only at
the check-in station) and a Referrer-Policy; browsers' violation reports are
logged, and the report endpoint cannot be made to fail or flood the log.

The tests run with the test settings; the first test proves production sends
the same headers (same middleware, same policies)."""

import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from allauth.mfa.utils import is_mfa_enabled

from django.conf import settings as django_settings
from django.test import Client

from tests.events.factories import EventIndexPageFactory, EventPageFactory
from tests.factories import StaffFactory

ROOT = Path(__file__).resolve().parents[2]
HEADER_SETTINGS = (
    "MIDDLEWARE",
    "CONTENT_SECURITY_POLICY",
    "PORTAL_CSP_ADMIN_PREFIXES",
    "PORTAL_CSP_ADMIN_DIRECTIVES",
    "PERMISSIONS_POLICY",
    "SECURE_REFERRER_POLICY",
)


def directives(response) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    """The response's Content-Security-Policy as {directive: [sources]}."""
    header = response.headers["Content-Security-Policy"]
    parts = (part.split() for part in header.split(";") if part.strip())
    return {name: sources for name, *sources in parts}


def assert_strict_headers(response) -> None:  # type: ignore[no-untyped-def]
    policy = directives(response)
    assert policy["script-src"] == ["'self'"], policy
    assert policy["style-src"] == ["'self'"], policy
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["report-uri"] == ["/csp-report/"]
    assert "camera=()" in response.headers["Permissions-Policy"]
    assert "microphone=()" in response.headers["Permissions-Policy"]
    assert response.headers["Referrer-Policy"] == "same-origin"


def signed_in_staff(client: Client) -> None:
    """A staff member who has proved a second factor (the admin asks for it)."""
    staff = StaffFactory()
    if not is_mfa_enabled(staff):
        TOTP.activate(staff, generate_totp_secret())
    client.force_login(staff)


def test_production_sends_the_headers_these_tests_check():
    script = (
        "import json, django; from django.conf import settings; django.setup(); "
        f"print(json.dumps({{n: getattr(settings, n) for n in {HEADER_SETTINGS!r}}}))"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings.production",
        "SECRET_KEY": "x7!kq2Lr9vZ0pW4eYh3Tn8sGm1Bc6Jd5Fa0Ru2Ox9Ei7Uy4Hw3Qt6Ps1Lk8Mn5",
        "ALLOWED_HOSTS": "portal.example.org",
        "EMAIL_URL": "smtp+tls://portal:secret@smtp.example.org:587",
    }
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    production = json.loads(result.stdout.strip().splitlines()[-1])
    for name in HEADER_SETTINGS:
        assert production[name] == json.loads(
            json.dumps(getattr(django_settings, name))
        ), name


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/about/",
        "/en/about/",
        "/accounts/login/",
        "/admin/",
        "/admin/login/",
        "/django-admin/",
        "/api/v1/certificates/NO-SUCH-CODE/",
        "/no-such-page/",
        "/csp-report/",
    ],
)
def test_every_kind_of_response_refuses_inline_scripts(client, site_pages, path):
    response = client.get(path)
    assert response.status_code in {200, 302, 404, 405}, response.status_code
    assert_strict_headers(response)


@pytest.mark.django_db
def test_the_api_answers_json_under_the_strict_policy(client, home):
    response = client.get("/api/v1/certificates/NO-SUCH-CODE/")
    assert response.headers["Content-Type"].startswith("application/json")
    assert_strict_headers(response)


@pytest.mark.django_db
def test_the_wagtail_admin_refuses_inline_scripts_and_styles_too(client, home):
    signed_in_staff(client)
    admin_page = client.get("/admin/")
    assert admin_page.status_code == 200
    policy = directives(admin_page)
    # Scripts only from the portal's files, as on the public site: Wagtail's
    # inline scripts are started by static/js/admin-init.js instead.
    assert policy["script-src"] == ["'self'"]
    # Styles too: no style= attribute, no <style>; the portal's admin screens
    # take their layout from its stylesheet, on every admin page.
    assert policy["style-src"] == ["'self'"]
    assert "/static/css/admin.css" in admin_page.content.decode()
    # The admin frames its own previews; still nothing from another origin.
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'self'"]
    # The same signed-in staff member on the public site: strict again.
    assert_strict_headers(client.get("/"))
    assert_strict_headers(client.get("/django-admin/"))


# An executable inline <script>: no src, and not a JSON data block.
INLINE_SCRIPT = re.compile(
    r"<script(?![^>]*\ssrc=)(?![^>]*type=\"application/(ld\+)?json\")[^>]*>",
    re.IGNORECASE,
)


@pytest.mark.django_db
def test_the_admins_editors_write_no_inline_script(client, site_pages):
    """Every page type's editor, the add form of a course (inline panel, image
    chooser, date-time pickers) and an expert's form (inline panel with a
    date picker) write their widgets' start-up as data, not as <script>."""
    from tests.courses.factories import CourseIndexPageFactory
    from tests.talentpool.factories import ExpertFactory

    signed_in_staff(client)
    courses = CourseIndexPageFactory(parent=site_pages["home"])
    paths = [f"/admin/pages/{page.pk}/edit/" for page in site_pages.values()] + [
        f"/admin/pages/add/courses/coursepage/{courses.pk}/",
        f"/admin/snippets/talentpool/expert/edit/{ExpertFactory().pk}/",
    ]
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, path
        html = response.content.decode()
        assert not [m.group(0) for m in INLINE_SCRIPT.finditer(html)], path
        assert "data-portal-admin-init=" in html, path
        assert "js/admin-init.js" in html, path


@pytest.mark.django_db
def test_a_chooser_in_an_inline_form_is_started_by_data(client, site_pages):
    """The notice editor's attachment form: the document chooser's call is
    data (also in the blank form the panel copies), its id and options
    escaped as attribute values."""
    signed_in_staff(client)
    html = client.get(f"/admin/pages/{site_pages['notice'].pk}/edit/").content.decode()
    assert 'data-portal-admin-init="inline-panel"' in html
    assert (
        'data-portal-admin-id="id_attachments-__prefix__-document"'
        ' data-portal-admin-constructor="DocumentChooser"'
        ' data-portal-admin-options="{&quot;modalUrl&quot;: '
    ) in html
    assert 'data-portal-admin-kind="date"' in html


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/events/check-in/", "/en/events/check-in/"])
def test_only_the_check_in_station_may_use_the_camera(client, home, path):
    EventPageFactory(parent=EventIndexPageFactory(parent=home))
    signed_in_staff(client)
    station = client.get(path)
    assert station.status_code == 200
    assert "camera=(self)" in station.headers["Permissions-Policy"]
    # Everything else stays off there too.
    assert "microphone=()" in station.headers["Permissions-Policy"]
    assert "geolocation=()" in station.headers["Permissions-Policy"]
    assert "camera=()" in client.get("/").headers["Permissions-Policy"]


# --- violation reports ----------------------------------------------------------

REPORT = {
    "csp-report": {
        "document-uri": "https://portal.example.org/about/",
        "violated-directive": "script-src-elem",
        "effective-directive": "script-src-elem",
        "blocked-uri": "inline",
        "line-number": 12,
    }
}


def post_report(client: Client, body: bytes | str, **extra):  # type: ignore[no-untyped-def]
    return client.post(
        "/csp-report/", body, content_type="application/csp-report", **extra
    )


@pytest.mark.django_db
def test_a_browsers_report_is_logged_without_a_csrf_token(caplog):
    browser = Client(enforce_csrf_checks=True)
    with caplog.at_level(logging.WARNING, logger="portal.csp"):
        response = post_report(browser, json.dumps(REPORT))
    assert response.status_code == 204
    [record] = [r for r in caplog.records if r.name == "portal.csp"]
    assert "script-src-elem" in record.getMessage()
    assert "https://portal.example.org/about/" in record.getMessage()


@pytest.mark.django_db
def test_the_reporting_api_format_is_logged_too(client, caplog):
    body = [
        {
            "type": "csp-violation",
            "body": {"documentURL": "https://x/", "effectiveDirective": "img-src"},
        }
    ]
    with caplog.at_level(logging.WARNING, logger="portal.csp"):
        response = client.post(
            "/csp-report/", json.dumps(body), content_type="application/reports+json"
        )
    assert response.status_code == 204
    assert any("img-src" in r.getMessage() for r in caplog.records)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"\xff\xfe\x00garbage",
        b"[1, 2, 3]",
        b'{"csp-report": "a string"}',
        b'{"csp-report": {"document-uri": {"nested": [1]}}}',
        b"null",
        b"[" * 5000,
    ],
)
def test_garbage_is_answered_204_never_500(client, caplog, body):
    with caplog.at_level(logging.WARNING, logger="portal.csp"):
        response = post_report(client, body)
    assert response.status_code == 204


@pytest.mark.django_db
def test_a_huge_report_is_not_read(client, caplog):
    report = {"csp-report": {"blocked-uri": "x" * 100_000}}
    with caplog.at_level(logging.WARNING, logger="portal.csp"):
        response = post_report(client, json.dumps(report))
    assert response.status_code == 204
    assert not [r for r in caplog.records if r.name == "portal.csp"]


@pytest.mark.django_db
def test_a_long_field_is_cut_in_the_log(client, caplog):
    report = {"csp-report": {"blocked-uri": "y" * 5000}}
    with caplog.at_level(logging.WARNING, logger="portal.csp"):
        post_report(client, json.dumps(report))
    [record] = [r for r in caplog.records if r.name == "portal.csp"]
    assert len(record.getMessage()) < 1000


@pytest.mark.django_db
def test_only_post_is_accepted(client):
    assert client.get("/csp-report/").status_code == 405


@pytest.mark.django_db
def test_a_flood_of_reports_stops_being_logged(client, caplog, settings):
    settings.PORTAL_CSP_REPORT_RATE = "3/m"
    with caplog.at_level(logging.WARNING, logger="portal.csp"):
        answers = {
            post_report(client, json.dumps(REPORT)).status_code for _ in range(10)
        }
    assert answers == {204}
    assert len([r for r in caplog.records if r.name == "portal.csp"]) == 3


# --- templates ------------------------------------------------------------------

# Served to browsers under a policy that refuses inline styles and scripts:
# every template but e-mails and the WeasyPrint documents, which no browser
# renders with the portal's headers (a certificate's HTML preview allows its
# own <style> by hash: test_certificate_admin.py).
NOT_UNDER_THE_STRICT_POLICY = {
    "courses/templates/courses/certificates/certificate.html",  # WeasyPrint
    "templates/portal/demo_policy_pdf.html",  # WeasyPrint
}
INLINE_CODE = re.compile(
    r"<style|\sstyle=|\son[a-z]+\s*=|javascript:"
    r"|<script(?![^>]*\ssrc=)(?![^>]*type=\"application/(ld\+)?json\")",
    re.IGNORECASE,
)


def browser_templates(*, admin: bool) -> list[Path]:
    """The public site's templates, or (admin=True) those of the portal's
    admin screens (admin/ folders, shown under /admin/)."""
    folders = [
        ROOT / "templates",
        *ROOT.glob("*/templates"),
        *ROOT.glob("*/*/templates"),
    ]
    found = []
    for folder in folders:
        for path in folder.rglob("*.html"):
            relative = path.relative_to(ROOT).as_posix()
            if (
                ("/admin/" in relative) != admin
                or "/email" in relative
                or relative in NOT_UNDER_THE_STRICT_POLICY
                or ".venv" in relative
            ):
                continue
            found.append(path)
    return found


def inline_code(templates: list[Path]) -> list[str]:
    return [
        f"{path.relative_to(ROOT)}: {match.group(0)!r}"
        for path in templates
        for match in INLINE_CODE.finditer(path.read_text(encoding="utf-8"))
    ]


def test_public_templates_have_no_inline_script_or_style():
    templates = browser_templates(admin=False)
    assert len(templates) > 50
    offenders = inline_code(templates)
    assert not offenders, offenders


def test_admin_templates_have_no_inline_script_or_style():
    """The admin's policy refuses style= attributes as the public site's
    does: a new one would be dropped by the browser (the layout lives in
    static/css/admin.css)."""
    templates = browser_templates(admin=True)
    assert len(templates) > 20
    offenders = inline_code(templates)
    assert not offenders, offenders


@pytest.mark.django_db
def test_a_multiple_chooser_panel_is_started_by_data(rf, site_pages):
    """No page type has a MultipleChooserPanel yet; the first one will not
    bring back an inline script."""
    from wagtail.admin.panels import MultipleChooserPanel, ObjectList

    from portal.models import NoticePage

    staff = StaffFactory()
    notice = site_pages["notice"]
    panels = ObjectList(
        [MultipleChooserPanel("attachments", chooser_field_name="document")]
    ).bind_to_model(NoticePage)
    form = panels.get_form_class()(instance=notice, for_user=staff)
    request = rf.get("/admin/")
    request.user = staff
    html = panels.get_bound_panel(
        instance=notice, form=form, request=request
    ).render_html()
    assert 'data-portal-admin-init="multiple-chooser-panel"' in html
    assert "&quot;formsetPrefix&quot;: &quot;id_attachments&quot;" in html
    assert not [m.group(0) for m in INLINE_SCRIPT.finditer(html)]

"""Who may use which address: every URL pattern of the portal × every role.

The table below is the portal's access policy, written down once. A test
requests each pattern (with real sample objects, so that the request reaches
the view's own permission check, not a 404 for a missing row) as each role,
in Chinese (no prefix) and, for the pages under the language prefix, in
English (/en/), and compares the answer with the table. A pattern that no
row covers fails `test_every_url_pattern_has_a_row`: a new view cannot be
added without deciding who may use it.

Reading the table
-----------------
Columns (roles; tests/portal/access_world.py builds them):

    out    signed out (anonymous)
    lrn    a learner, enrolled in the sample course (owns a registration,
           a subscription, a quiz attempt; NOT the sample certificate)
    ent    a member of a verified enterprise (the sample contact request's)
    exp    the user of a listed expert (the request's addressee)
    nomfa  every staff role below, and the superuser, whose session has NOT
           proved MFA: five without an authenticator (sent to set one up)
           and a superuser with one who has not entered a code this session
           (sent to enter it). One column: they must all answer alike;
           a cell "a/b" gives a for the five, b for the one with a code.
    edt    Wagtail's "Editors" group, MFA proven
    mgr    training managers (enrolment reports, certificates), MFA proven
    rev    talent-pool reviewers (experts, applications, enterprises), MFA proven
    evt    event staff ("change" on the events' pages, registrations), MFA proven
    su     a superuser, MFA proven

Outcomes:

    ok     2xx (the page, the file, the JSON)
    go     a redirect elsewhere, nothing written: the view's own answer (a
           signed-in visitor on the login page, a learner sent to enrol
           first, an empty form refused with a message…)
    did    a redirect elsewhere after writing records: the view did its job
    log    a redirect to sign in (allauth's login, directly or through the
           admins' login addresses, which only redirect there)
    mfa    a redirect to prove MFA: to set up an authenticator when the user
           has none, to enter a code when they have one
    4xx    that status: 400 bad input, 403 forbidden, 404 not found (also
           "not yours": ids reveal nothing), 405 wrong method, 410 gone
    -      not requested (the admins' families: see below)

`via` is the method: GET, or POST (an empty form, or a sample one where
an empty form would stop at its validation; the test client does not check
CSRF) for views that only accept POST. Each request runs in a
transaction rolled back afterwards, from the role's original cookies and
session, so no answer depends on an earlier one; and a refusal (log, mfa,
4xx) must write nothing to the database, as "go" says by its definition.

A key is the pattern's name (namespace:name), or for an unnamed pattern its
view's dotted path; `key[variant]` rows request one pattern with different
samples (Wagtail's page view for each page type, files used in lessons or
not). `admin/*` and `django-admin/*` are families: every one of Wagtail's
admin patterns (about 480) and Django admin's is requested by the roles that
must be kept out (signed out, learners, staff without proven MFA), with
plausible ids; what staff with MFA may do there is Wagtail's and Django's
permission system, sampled by the explicit admin rows.
"""

import itertools
import re
from dataclasses import dataclass
from http.cookies import SimpleCookie
from urllib.parse import urlsplit

import pytest

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.resolvers import LocalePrefixPattern
from django.utils import translation
from django.utils.regex_helper import normalize

from wagtail.models import get_page_models

from portal import frame
from tests.portal import access_world

pytestmark = pytest.mark.django_db

NOMFA = (
    "editor-no-mfa",
    "manager-no-mfa",
    "reviewer-no-mfa",
    "events-no-mfa",
    "super-no-mfa",
    "super-unproven",
)
COLUMNS = {
    "out": ("anon",),
    "lrn": ("learner",),
    "ent": ("enterprise",),
    "exp": ("expert",),
    "nomfa": NOMFA,
    "edt": ("editor",),
    "mgr": ("manager",),
    "rev": ("reviewer",),
    "evt": ("events",),
    "su": ("super",),
}

# fmt: off
MATRIX = """
key                                    via  out lrn ent exp nomfa  edt mgr rev evt su
# --- open to everyone: public pages, feeds, files shown on public pages
health                                 GET  ok  ok  ok  ok  ok     ok  ok  ok  ok  ok
# Readiness: tries the database, cache, broker and storage (portal/health.py).
ready                                  GET  ok  ok  ok  ok  ok     ok  ok  ok  ok  ok
robots_txt                             GET  ok  ok  ok  ok  ok     ok  ok  ok  ok  ok
sitemap                                GET  ok  ok  ok  ok  ok     ok  ok  ok  ok  ok
# Browsers send CSP reports without cookies; the view only logs them.
csp_report                             POST ok  ok  ok  ok  ok     ok  ok  ok  ok  ok
set_language                           POST go  go  go  go  go     go  go  go  go  go
search                                 GET  ok  ok  ok  ok  ok     ok  ok  ok  ok  ok
feed_news_rss                          GET  ok  ok  ok  ok  ok     ok  ok  ok  ok  ok
feed_news_atom                         GET  ok  ok  ok  ok  ok     ok  ok  ok  ok  ok
feed_notices_rss                       GET  ok  ok  ok  ok  ok     ok  ok  ok  ok  ok
feed_notices_atom                      GET  ok  ok  ok  ok  ok     ok  ok  ok  ok  ok
portal.media.serve_image[public]       GET  ok  ok  ok  ok  ok     ok  ok  ok  ok  ok
portal.media.not_found                 GET  404 404 404 404 404    404 404 404 404 404
wagtaildocs_serve[public]              GET  ok  ok  ok  ok  ok     ok  ok  ok  ok  ok
# Verification is public by design (a certificate's code is printed on it).
certificates:lookup                    GET  ok  ok  ok  ok  ok     ok  ok  ok  ok  ok
certificates:verify                    GET  ok  ok  ok  ok  ok     ok  ok  ok  ok  ok
certificates_api:detail                GET  ok  ok  ok  ok  ok     ok  ok  ok  ok  ok
certificates_api:credential            GET  ok  ok  ok  ok  ok     ok  ok  ok  ok  ok
# Listed experts only, without contact details (tests/talentpool/test_api.py).
experts_api:list                       GET  ok  ok  ok  ok  ok     ok  ok  ok  ok  ok
experts_api:detail                     GET  ok  ok  ok  ok  ok     ok  ok  ok  ok  ok
# The signed token in the address authorises, not a session.
subscriptions:unsubscribe              GET  ok  ok  ok  ok  ok     ok  ok  ok  ok  ok
# A subscriber's record from the same link; a user's link (the sample) goes
# to the account's own download (tests/subscriptions/test_subscriber_data.py).
subscriptions:data                     GET  go  go  go  go  go     go  go  go  go  go
# A link signed for another purpose (the sample is an unsubscribe token)
# opens nothing, for anyone (tests/talentpool/test_contact_by_email.py and
# test_invitations.py try the right and the wrong links).
contacts:answer                        GET  404 404 404 404 404    404 404 404 404 404
contacts:invitations:claim             GET  404 404 404 404 404    404 404 404 404 404
# Wagtail's password forms (the page's content needs the password).
wagtailcore_authenticate_with_password GET  ok  ok  ok  ok  ok     ok  ok  ok  ok  ok
wagtaildocs_authenticate_with_password GET  ok  ok  ok  ok  ok     ok  ok  ok  ok  ok
# Wagtail's own front-end login (a password alone) is replaced by allauth's.
wagtailcore_login                      GET  log log log log log    log log log log log
# --- pages: one row per page type and route; lessons below
wagtail_serve[home]                    GET  ok  ok  ok  ok  ok     ok  ok  ok  ok  ok
wagtail_serve[standard]                GET  ok  ok  ok  ok  ok     ok  ok  ok  ok  ok
# A password-protected page answers with Wagtail's password form.
wagtail_serve[password-page]           GET  ok  ok  ok  ok  ok     ok  ok  ok  ok  ok
wagtail_serve[news-index]              GET  ok  ok  ok  ok  ok     ok  ok  ok  ok  ok
wagtail_serve[news]                    GET  ok  ok  ok  ok  ok     ok  ok  ok  ok  ok
wagtail_serve[notice-index]            GET  ok  ok  ok  ok  ok     ok  ok  ok  ok  ok
wagtail_serve[notice]                  GET  ok  ok  ok  ok  ok     ok  ok  ok  ok  ok
wagtail_serve[policy-index]            GET  ok  ok  ok  ok  ok     ok  ok  ok  ok  ok
wagtail_serve[policy]                  GET  ok  ok  ok  ok  ok     ok  ok  ok  ok  ok
wagtail_serve[catalogue]               GET  ok  ok  ok  ok  ok     ok  ok  ok  ok  ok
wagtail_serve[course]                  GET  ok  ok  ok  ok  ok     ok  ok  ok  ok  ok
wagtail_serve[campaign]                GET  ok  ok  ok  ok  ok     ok  ok  ok  ok  ok
wagtail_serve[events]                  GET  ok  ok  ok  ok  ok     ok  ok  ok  ok  ok
wagtail_serve[events-calendar]         GET  ok  ok  ok  ok  ok     ok  ok  ok  ok  ok
wagtail_serve[events-ical]             GET  ok  ok  ok  ok  ok     ok  ok  ok  ok  ok
wagtail_serve[event]                   GET  ok  ok  ok  ok  ok     ok  ok  ok  ok  ok
wagtail_serve[event-ical]              GET  ok  ok  ok  ok  ok     ok  ok  ok  ok  ok
wagtail_serve[talent]                  GET  ok  ok  ok  ok  ok     ok  ok  ok  ok  ok
wagtail_serve[talent-expert]           GET  ok  ok  ok  ok  ok     ok  ok  ok  ok  ok
# --- lessons and their files: enrolled learners; staff only with MFA
# (every staff role with admin access: any signed-in user may enrol anyway).
# Others are sent to the course page to enrol (go); files: not found.
wagtail_serve[lesson]                  GET  log ok  go  go  mfa    ok  ok  ok  ok  ok
wagtail_serve[other-lesson]            GET  log go  go  go  mfa    ok  ok  ok  ok  ok
wagtaildocs_serve[lesson]              GET  404 ok  404 404 mfa    ok  ok  ok  ok  ok
portal.media.serve_image[lesson]       GET  404 ok  404 404 mfa    ok  ok  ok  ok  ok
# Seals and signatures: the first step of forging a certificate.
portal.media.serve_image[artwork]      GET  404 404 404 404 mfa    ok  ok  ok  ok  ok
# --- a learner's own records (POST: an empty form). The learner's own
# course, lesson, attempt, registration; "did" = the view wrote its record.
courses:my_learning                    GET  log ok  ok  ok  ok     ok  ok  ok  ok  ok
# Anyone signed in may enrol in a published course (the learner already is).
courses:enrol                          POST log go  did did did    did did did did did
# Not completable yet (a quiz), and not enrolled: nothing written.
courses:complete                       POST log go  go  go  go     go  go  go  go  go
# A video's progress: the enrolled learner's alone (400: "enrol first").
courses:heartbeat                      POST log ok  400 400 400    400 400 400 400 400
courses:quiz_start                     POST log go  go  go  go     go  go  go  go  go
# Only the attempt's owner submits it; others are sent away, nothing written.
courses:quiz_submit                    POST log did go  go  go     go  go  go  go  go
# Another learner's certificate: the certificate view permission (managers,
# superusers) with proven MFA; everyone else "not found".
certificates:download                  GET  log 404 404 404 mfa    404 ok  404 404 ok
events:my_registrations                GET  log ok  ok  ok  ok     ok  ok  ok  ok  ok
events:register                        POST log go  did did did    did did did did did
events:registration_cancel             POST log did go  go  go     go  go  go  go  go
# A registration's page and QR code are its check-in credential: the
# owner's alone; organisers see registrations in the admin.
events:registration_detail             GET  log ok  404 404 404    404 404 404 404 404
events:registration_qr                 GET  log ok  404 404 404    404 404 404 404 404
# Signed out: the sign-up by e-mail address (double opt-in); signed in: the
# user's own choices.
subscriptions:settings                 GET  ok  ok  ok  ok  ok     ok  ok  ok  ok  ok
subscriptions:signup_sent              GET  ok  ok  ok  ok  ok     ok  ok  ok  ok  ok
# The sample is an unsubscribe token: a link signed for another purpose
# confirms nothing, for anyone (tests/subscriptions/test_email_signup.py).
subscriptions:confirm                  GET  400 400 400 400 400    400 400 400 400 400
# --- the talent pool's signed-in pages: each view tells who may act
contacts:enterprise                    GET  log ok  ok  ok  ok     ok  ok  ok  ok  ok
contacts:request_new                   GET  log ok  ok  ok  ok     ok  ok  ok  ok  ok
contacts:sent                          GET  log ok  ok  ok  ok     ok  ok  ok  ok  ok
contacts:withdraw                      POST log go  did go  go     go  go  go  go  go
contacts:received                      GET  log ok  ok  ok  ok     ok  ok  ok  ok  ok
# Only the addressed expert answers a request; the others: nothing written.
contacts:accept                        POST log go  go  did go     go  go  go  go  go
contacts:decline                       POST log go  go  did go     go  go  go  go  go
contacts:pause                         POST log go  go  did go     go  go  go  go  go
expert_applications:start              GET  log go  go  go  go     go  go  go  go  go
expert_applications:apply              GET  log ok  ok  go  ok     ok  ok  ok  ok  ok
expert_applications:status             GET  log go  go  go  go     go  go  go  go  go
expert_applications:edit               GET  log go  go  go  go     go  go  go  go  go
expert_applications:withdraw           POST log go  go  go  go     go  go  go  go  go
expert_applications:profile            GET  log go  go  ok  go     go  go  go  go  go
expert_applications:consent            POST log go  go  go  go     go  go  go  go  go
expert_applications:confirm            POST log go  go  did go     go  go  go  go  go
# --- event check-in: who may edit the event's page (editors may edit
# every page), with proven MFA
events:checkin                         GET  log 403 403 403 mfa    ok  403 403 ok  ok
events:checkin_event                   GET  log 403 403 403 mfa    ok  403 403 ok  ok
# A walk-in registered at the door: an empty form is refused on the page.
events:checkin_walkin                  POST log 403 403 403 mfa    ok  403 403 ok  ok
# Reversing a check-in: the same people; to the others the id is "not found".
events:checkin_reverse                 GET  log 404 404 404 mfa    ok  404 404 ok  ok
# --- accounts (allauth): signed-in pages, forms for signed-out visitors
account_login                          GET  ok  go  go  go  go     go  go  go  go  go
account_signup                         GET  ok  go  go  go  go     go  go  go  go  go
account_logout                         GET  go  ok  ok  ok  ok     ok  ok  ok  ok  ok
account_inactive                       GET  ok  ok  ok  ok  ok     ok  ok  ok  ok  ok
account_profile                        GET  log ok  ok  ok  ok     ok  ok  ok  ok  ok
account_delete                         GET  log ok  ok  ok  ok     ok  ok  ok  ok  ok
# Privacy (PIPL): the notice is public; "download my data" and agreeing
# to the notice in force are for the signed-in user, about themselves.
personal_data                          GET  log ok  ok  ok  ok     ok  ok  ok  ok  ok
privacy_consent_give                   POST log did did did did    did did did did did
privacy_notice                         GET  ok  ok  ok  ok  ok     ok  ok  ok  ok  ok
account_email                          GET  log ok  ok  ok  ok     ok  ok  ok  ok  ok
account_email_verification_sent        GET  ok  ok  ok  ok  ok     ok  ok  ok  ok  ok
account_confirm_email                  GET  ok  ok  ok  ok  ok     ok  ok  ok  ok  ok
account_change_password                GET  log ok  ok  ok  ok     ok  ok  ok  ok  ok
# Everyone here has a password: to "change" instead.
account_set_password                   GET  log go  go  go  go     go  go  go  go  go
account_reset_password                 GET  ok  ok  ok  ok  ok     ok  ok  ok  ok  ok
account_reset_password_done            GET  ok  ok  ok  ok  ok     ok  ok  ok  ok  ok
account_reset_password_from_key        GET  ok  ok  ok  ok  ok     ok  ok  ok  ok  ok
account_reset_password_from_key_done   GET  ok  ok  ok  ok  ok     ok  ok  ok  ok  ok
account_confirm_login_code             GET  log go  go  go  go     go  go  go  go  go
account_reauthenticate                 GET  log ok  ok  ok  ok     ok  ok  ok  ok  ok
account_request_reauthentication_code  GET  log ok  ok  ok  ok     ok  ok  ok  ok  ok
account_confirm_reauthentication_code  GET  log go  go  go  go     go  go  go  go  go
mfa_index                              GET  log ok  ok  ok  ok     ok  ok  ok  ok  ok
mfa_authenticate                       GET  log go  go  go  go     go  go  go  go  go
# Entering a code needs an authenticator: without one, away.
mfa_reauthenticate                     GET  log go  go  go  go/ok  ok  ok  ok  ok  ok
# Setting one up first asks for the password again (go), as does removing it.
mfa_activate_totp                      GET  log go  go  go  go     go  go  go  go  go
mfa_deactivate_totp                    GET  log 404 404 404 404/go go  go  go  go  go
mfa_view_recovery_codes                GET  log 404 404 404 404    404 404 404 404 404
mfa_generate_recovery_codes            GET  log go  go  go  go     go  go  go  go  go
mfa_download_recovery_codes            GET  log 404 404 404 404    404 404 404 404 404
# --- the admins: their login and password-reset addresses only redirect
# to allauth's; the admin's prefix asks staff for MFA before anything.
wagtailadmin_login                     GET  log log log log mfa    log log log log log
portal.views.admin_login_redirect      GET  log log log log mfa    log log log log log
admin:login                            GET  log log log log mfa    log log log log log
# Django admin's logout: only a POST signs out (405 for who may use it).
admin:logout                           GET  go  go  go  go  mfa    go  go  go  go  405
portal.views.password_reset_redirect   GET  go  go  go  go  mfa    go  go  go  go  go
wagtailadmin_password_reset            GET  go  go  go  go  mfa    go  go  go  go  go
wagtailadmin_password_reset_done       GET  go  go  go  go  mfa    go  go  go  go  go
wagtailadmin_password_reset_confirm    GET  go  go  go  go  mfa    go  go  go  go  go
wagtailadmin_password_reset_complete   GET  go  go  go  go  mfa    go  go  go  go  go
# The admin's icons and translations: static, no data.
wagtailadmin_sprite                    GET  ok  ok  ok  ok  mfa    ok  ok  ok  ok  ok
wagtailadmin_javascript_catalog        GET  ok  ok  ok  ok  mfa    ok  ok  ok  ok  ok
# Samples of what staff with MFA may do: each group its own screens; the
# others are sent to the admin's home page (go).
wagtailadmin_home                      GET  log log log log mfa    ok  ok  ok  ok  ok
wagtailadmin_pages:edit                GET  log log log log mfa    ok  go  go  go  ok
wagtailimages:index                    GET  log log log log mfa    ok  go  go  go  ok
wagtailusers_users:index               GET  log log log log mfa    go  go  go  go  ok
courses_training_report                GET  log log log log mfa    go  ok  go  go  ok
certificate_admin:index                GET  log log log log mfa    go  ok  go  go  ok
certificate_admin:pdf                  GET  log log log log mfa    go  ok  go  go  ok
certificate_batches:index              GET  log log log log mfa    go  ok  go  go  ok
# The hours ledger: viewing and exports need courses.view_hoursledgerentry,
# corrections courses.add_hoursledgerentry (training managers have both).
courses_ledger:index                   GET  log log log log mfa    go  ok  go  go  ok
courses_ledger:learner                 GET  log log log log mfa    go  ok  go  go  ok
courses_ledger:learner_export          GET  log log log log mfa    go  ok  go  go  ok
courses_ledger:export                  GET  log log log log mfa    go  ok  go  go  ok
# An empty adjustment: the form again with its errors, nothing written.
courses_ledger:adjust                  POST log log log log mfa    go  ok  go  go  ok
courses_ledger:reverse                 GET  log log log log mfa    go  ok  go  go  ok
# Training evidence (courses.admin_evidence): an enrolment's needs
# courses.view_enrolment, a certificate's courses.view_certificate; the
# downloads (?export=) likewise. Learners never, not even their own.
courses_evidence:enrolment             GET  log log log log mfa    go  ok  go  go  ok
courses_evidence:enrolment[csv]        GET  log log log log mfa    go  ok  go  go  ok
courses_evidence:certificate           GET  log log log log mfa    go  ok  go  go  ok
courses_evidence:certificate[xlsx]     GET  log log log log mfa    go  ok  go  go  ok
# A class's progress: the report's permission (courses.view_enrolment).
# Granting quiz attempts: courses.add_quizattemptgrant, else 403.
courses_class_progress_index           GET  log log log log mfa    go  ok  go  go  ok
courses_class_progress                 GET  log log log log mfa    go  ok  go  go  ok
courses_class_progress_grant           POST log log log log mfa    403 did 403 403 did
events_registration_attendees          GET  log log log log mfa    go  go  go  ok  ok
talentpool_applications:index          GET  log log log log mfa    go  go  ok  go  ok
wagtailsnippets_talentpool_expert:list GET  log log log log mfa    go  go  ok  go  ok
# Experts with e-mail and phone: the experts' view permission.
talentpool_statistics:experts_export   GET  log log log log mfa    go  go  ok  go  ok
announcements:index                    GET  log log log log mfa    go  go  go  go  ok
subscribers:index                      GET  log log log log mfa    go  go  go  go  ok
email_subscribers:index                GET  log log log log mfa    go  go  go  go  ok
# Django's admin: superusers only (is_staff), with MFA.
admin:index                            GET  log log log log mfa    log log log log ok
admin:auth_group_changelist            GET  log log log log mfa    log log log log ok
# Every other pattern of the admins (see the module's docstring).
admin/*                                GET  log log log log mfa    -   -   -   -   -
django-admin/*                         GET  log log log log mfa    -   -   -   -   -
"""
# fmt: on

OUTCOMES = {"ok", "go", "did", "log", "mfa", "400", "403", "404", "405", "410", "-"}
REFUSALS = {"log", "mfa", "400", "403", "404", "405", "410"}
FAMILIES = ("admin/", "django-admin/")


@dataclass(frozen=True)
class Row:
    key: str
    via: str
    expected: dict[str, str]  # column -> outcome

    @property
    def pattern_key(self) -> str:
        return self.key.split("[")[0]

    @property
    def variant(self) -> str:
        return self.key[len(self.pattern_key) :].strip("[]")


def parse(table: str) -> dict[str, Row]:
    lines = [
        line.split()
        for line in table.strip().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    header, body = lines[0], lines[1:]
    assert header == ["key", "via", *COLUMNS], header
    rows = {}
    for cells in body:
        assert len(cells) == len(header), f"row {cells[0]}: {len(cells)} cells"
        key, via, *outcomes = cells
        assert via in ("GET", "POST"), f"row {key}: via {via}"
        cells_seen = {part for cell in outcomes for part in cell.split("/")}
        assert cells_seen <= OUTCOMES, f"row {key}: {cells_seen - OUTCOMES}"
        assert key not in rows, f"row {key} twice"
        rows[key] = Row(key, via, dict(zip(COLUMNS, outcomes, strict=True)))
    return rows


ROWS = parse(MATRIX)


# --- the URL patterns ------------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    key: str  # namespace:name, or the view's dotted path
    route: str  # the route strings joined, for messages and families
    regex: str  # the whole pattern after the language prefix
    i18n: bool  # under i18n_patterns: answered under / and /en/


def _regex(pattern) -> str:  # type: ignore[no-untyped-def]
    text = pattern.regex.pattern
    return text[1:] if text.startswith("^") else text


def endpoints() -> list[Endpoint]:
    """Every pattern of the root URLconf, in resolving order."""

    def walk(resolver, route, regex, namespace, i18n):  # type: ignore[no-untyped-def]
        for entry in resolver.url_patterns:
            if isinstance(entry, URLResolver):
                if isinstance(entry.pattern, LocalePrefixPattern):
                    yield from walk(entry, route, regex, namespace, True)
                    continue
                inner = namespace
                if entry.namespace:
                    inner = ":".join(filter(None, (namespace, entry.namespace)))
                yield from walk(
                    entry,
                    route + str(entry.pattern),
                    regex + _regex(entry.pattern),
                    inner,
                    i18n,
                )
            elif isinstance(entry, URLPattern):
                if entry.name:
                    key = ":".join(filter(None, (namespace, entry.name)))
                else:
                    key = entry.lookup_str
                yield Endpoint(
                    key, route + str(entry.pattern), regex + _regex(entry.pattern), i18n
                )

    return list(walk(get_resolver(), "", "", None, False))


def family_of(endpoint: Endpoint) -> str | None:
    for prefix in FAMILIES:
        if endpoint.route.lstrip("^").startswith(prefix):
            return f"{prefix}*"
    return None


def rows_for(endpoint: Endpoint) -> list[Row]:
    """The rows that decide `endpoint`: its own (one, or one per variant),
    else its family's."""
    own = [row for row in ROWS.values() if row.pattern_key == endpoint.key]
    if own:
        return own
    family = family_of(endpoint)
    return [ROWS[family]] if family in ROWS else []


# Plausible values for the admins' ids and names (their checks come first).
FILLERS = ("1", "x", "00000000-0000-4000-8000-000000000001", "x/1")


def build_path(endpoint: Endpoint, values: dict, language: str) -> str:
    """The address of `endpoint` with `values` for its parameters (by name;
    an unnamed regex group by position: _0, _1; "?" a query string); others
    get plausible ones."""
    full = re.compile(endpoint.regex)
    template, params = normalize(endpoint.regex)[0]
    known = {p: str(values[p]) for p in params if p in values}
    unknown = [p for p in params if p not in known]
    for choice in itertools.product(FILLERS, repeat=len(unknown)):
        path = template % {**known, **dict(zip(unknown, choice, strict=True))}
        if full.fullmatch(path) or full.match(path):
            prefix = "/en/" if language == "en" else "/"
            return prefix + path + values.get("?", "")
    raise AssertionError(f"no sample address for {endpoint.route} from {values}")


# --- the world, once per module ------------------------------------------------------


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):  # type: ignore[no-untyped-def]
    """The sample objects and clients, in a transaction rolled back after the
    module (each test's own transaction nests inside it)."""
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            yield access_world.build()
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


@pytest.fixture(autouse=True)
def _site_frame(world):  # type: ignore[no-untyped-def]
    """The site's frame (settings, menu) in the cache, as in production:
    each test starts with an empty cache, and the requests' own writes to it
    are rolled back with them (the cache is a table without Redis)."""
    for language, _ in settings.LANGUAGES:
        with translation.override(language):
            frame.for_request(RequestFactory().get("/"))


def samples(world: dict) -> dict[str, dict]:
    """Parameter values per row key (or pattern key); "*" for every row."""
    w, pages = world, world["pages"]
    certificate = w["others_certificate"]

    def page(name: str, sub: str = "") -> dict:
        return {"_0": pages[name].url.lstrip("/") + sub}

    return {
        "*": {
            "certificate_id": certificate.pk,
            "course_id": pages["course"].pk,
            "lesson_id": pages["lesson"].pk,
            "quiz_key": w["quiz_key"],
            "attempt_id": w["attempt"].pk,
            "expert_id": w["expert"].pk,
            "request_id": w["contact_request"].pk,
            "event_id": pages["event"].pk,
            "registration_id": w["registration"].pk,
            "token": w["unsubscribe_token"],
            "page_view_restriction_id": w["page_restriction"].pk,
            "page_id": w["secret_page"].pk,
            "restriction_id": w["collection_restriction"].pk,
            "code": certificate.code,
            "key": "x",
            "uidb36": "1",
            "app_label": "auth",
        },
        "events:registration_detail": {"code": w["registration"].code},
        "wagtailadmin_pages:edit": {"page_id": pages["lesson"].pk},
        # Complete forms, so that the request reaches the access check.
        "contacts:accept": {"form": {"no_conflict": "on"}},
        "contacts:pause": {"form": {"paused": "1"}},
        # Every question answered (a blank quiz is refused before any write).
        "courses:quiz_submit": {
            "form": {
                f"q-{q['id']}": q["options"][0]["id"]
                for q in w["attempt"].layout["questions"]
            }
        },
        "courses:heartbeat": {
            "json": {"video": w["video_key"], "from": 0, "to": 5, "duration": 60}
        },
        "certificate_admin:pdf": {"pk": certificate.pk},
        "courses_ledger:learner": {"user_id": w["learner"].pk},
        "courses_ledger:learner_export": {"user_id": w["learner"].pk},
        "courses_ledger:adjust": {"user_id": w["learner"].pk},
        "courses_ledger:reverse": {"entry_id": w["ledger_entry"].pk},
        "courses_evidence:enrolment": {"enrolment_id": w["enrolment"].pk},
        "courses_evidence:enrolment[csv]": {"?": "?export=csv"},
        "courses_evidence:certificate[xlsx]": {"?": "?export=xlsx"},
        "courses_class_progress": {"pk": w["training_class"].pk},
        "courses_class_progress_grant": {
            "pk": w["training_class"].pk,
            "form": {
                "enrolment": w["enrolment"].pk,
                "lesson_key": pages["lesson"].pk,
                "quiz_key": w["quiz_key"],
                "extra": 1,
                "reason": "补考",
            },
        },
        "talentpool_statistics:experts_export": {"?": "?export=csv"},
        "events:registration_qr": {"code": w["registration"].code},
        "wagtaildocs_serve[lesson]": {
            "_0": w["lesson_file"].pk,
            "_1": w["lesson_file"].filename,
        },
        "wagtaildocs_serve[public]": {
            "_0": w["public_file"].pk,
            "_1": w["public_file"].filename,
        },
        "portal.media.serve_image[lesson]": {"name": w["lesson_image"].file.name},
        "portal.media.serve_image[artwork]": {"name": w["artwork"].file.name},
        "portal.media.serve_image[public]": {"name": w["public_image"].file.name},
        "portal.media.not_found": {"name": "original_imagesx/seal.png"},
        "wagtail_serve[home]": page("home"),
        "wagtail_serve[standard]": page("standard"),
        "wagtail_serve[password-page]": {"_0": w["secret_page"].url.lstrip("/")},
        "wagtail_serve[news-index]": page("news_index"),
        "wagtail_serve[news]": page("news"),
        "wagtail_serve[notice-index]": page("notice_index"),
        "wagtail_serve[notice]": page("notice"),
        "wagtail_serve[policy-index]": page("policy_index"),
        "wagtail_serve[policy]": page("policy"),
        "wagtail_serve[catalogue]": page("catalogue"),
        "wagtail_serve[course]": page("course"),
        "wagtail_serve[lesson]": page("lesson"),
        "wagtail_serve[other-lesson]": page("other_lesson"),
        "wagtail_serve[campaign]": page("campaign"),
        "wagtail_serve[events]": page("events"),
        "wagtail_serve[events-calendar]": page("events", "calendar/"),
        "wagtail_serve[events-ical]": page("events", "ical/"),
        "wagtail_serve[event]": page("event"),
        "wagtail_serve[event-ical]": page("event", "ical/"),
        "wagtail_serve[talent]": page("talent"),
        "wagtail_serve[talent-expert]": page("talent", f"experts/{w['expert'].pk}/"),
    }


def values_for(row: Row, all_samples: dict) -> dict:
    return {
        **all_samples["*"],
        **all_samples.get(row.pattern_key, {}),
        **all_samples.get(row.key, {}),
    }


# --- asking ------------------------------------------------------------------------

WRITES = re.compile(r"^\s*(INSERT|UPDATE|DELETE)\b", re.IGNORECASE)
# Not the portal's records: sessions, the cache (a table without Redis), and
# Wagtail's per-user preferences row, made on first sight of a staff member.
NOT_RECORDS = ("django_session", "portal_cache", "wagtailusers_userprofile")


def plain(path: str) -> str:
    """A path without the English prefix (a request to /en/ leaves English
    active, and reverse() then answers in English)."""
    return re.sub(r"^/en/", "/", path)


def login_paths() -> set[str]:
    # allauth's login, and the admins' login addresses that only redirect
    # there (tests/portal/test_admin_access.py shows they take no password).
    return {
        plain(reverse("account_login")),
        plain(reverse("wagtailadmin_login")),
        plain(reverse("wagtailcore_login")),
        "/django-admin/login/",
    }


def outcome(response, role: access_world.Role, wrote: bool) -> str:  # type: ignore[no-untyped-def]
    status = response.status_code
    if 200 <= status < 300:
        return "ok"
    if status in (301, 302, 303, 307, 308):
        target = plain(urlsplit(response["Location"]).path)
        if target in login_paths():
            return "log"
        mfa = {
            plain(reverse("mfa_activate_totp")),
            plain(reverse("mfa_reauthenticate")),
        }
        if target in mfa:
            right = role.mfa_route and target == plain(reverse(role.mfa_route))
            return "mfa" if right else f"mfa to {target}"
        return "did" if wrote else "go"
    return str(status)


# 198.18.0.0/15: set aside for benchmarks (RFC 2544), never a real client.
ADDRESSES = (
    f"198.{18 + n // 65536 % 2}.{n // 256 % 256}.{n % 256}" for n in itertools.count(1)
)


def ask(
    role: access_world.Role,
    via: str,
    path: str,
    json: dict | None = None,
    form: dict | None = None,
) -> tuple[str, list[str], str]:
    """The outcome of one request, the records it wrote, and a description of
    the response for messages. Nothing of it stays: rolled back."""
    role.client.cookies = SimpleCookie()
    role.client.cookies.load(role.cookies.output(header="", sep=";"))
    if role.session_cache_key:
        # Sessions are read from the cache first: with Redis, a change the
        # last request made there would outlive the rolled-back row.
        cache.delete(role.session_cache_key)
    # The log holds 9,000 queries; a full one would capture nothing.
    connection.queries_log.clear()
    with transaction.atomic():
        with CaptureQueriesContext(connection) as queries:
            # Each request from its own address: per-address rate limits
            # (kept in Redis across rolled-back requests) never add up here.
            if json is not None:
                response = role.client.post(
                    path,
                    json,
                    content_type="application/json",
                    REMOTE_ADDR=next(ADDRESSES),
                )
            else:
                response = getattr(role.client, via.lower())(
                    path, form or {}, REMOTE_ADDR=next(ADDRESSES)
                )
        transaction.set_rollback(True)
    writes = [
        q["sql"][:100]
        for q in queries.captured_queries
        if WRITES.match(q["sql"]) and not any(t in q["sql"] for t in NOT_RECORDS)
    ]
    answer = outcome(response, role, bool(writes))
    seen = f"{response.status_code} {response.get('Location', '')}".strip()
    if response.streaming:
        # Read to the end: the test client then closes the file itself (a
        # close() here would also close the database connection).
        b"".join(response.streaming_content)
    return answer, writes, seen


def expected_for(row: Row, column: str, role: access_world.Role) -> str:
    """The cell for `role`; a nomfa cell "a/b" is a for staff without an
    authenticator, b for the one whose session has not entered its code."""
    cell = row.expected[column]
    if "/" in cell:
        without, unproven = cell.split("/")
        return unproven if role.mfa_route == "mfa_reauthenticate" else without
    return cell


def check(
    world: dict,
    row: Row,
    endpoint: Endpoint,
    values: dict,
    nomfa: tuple[str, ...] = NOMFA,
) -> list[str]:
    """Every role of every column of `row` at `endpoint` (of the nomfa
    column, those in `nomfa`): the mismatches."""
    problems = []
    languages = ("zh", "en") if endpoint.i18n else ("zh",)
    for language in languages:
        path = build_path(endpoint, values, language)
        for column, expected in row.expected.items():
            if expected == "-":
                continue
            for name in nomfa if column == "nomfa" else COLUMNS[column]:
                role = world["roles"][name]
                want = expected_for(row, column, role)
                got, writes, seen = ask(
                    role, row.via, path, values.get("json"), values.get("form")
                )
                if got != want:
                    problems.append(
                        f"{row.via} {path} as {name}: expected {want}, "
                        f"got {got} ({seen})"
                    )
                elif want in REFUSALS and writes:
                    problems.append(
                        f"{row.via} {path} as {name}: refused but wrote {writes}"
                    )
    return problems


# --- the tests -------------------------------------------------------------------


def test_every_url_pattern_has_a_row():
    """A pattern without a row is a view nobody decided about: add a row to
    MATRIX (tests/portal/test_permission_matrix.py) saying who may use it."""
    patterns = endpoints()
    missing = sorted({e.key for e in patterns if not rows_for(e)})
    assert not missing, (
        "URL patterns missing from the permission matrix; add a row for each "
        f"to MATRIX in {__name__}: {missing}"
    )
    keys = {e.key for e in patterns}
    families = {f"{prefix}*" for prefix in FAMILIES}
    stale = sorted(
        row.key
        for row in ROWS.values()
        if row.pattern_key not in keys and row.key not in families
    )
    assert not stale, f"rows for patterns that no longer exist: {stale}"


def test_every_page_type_and_route_has_a_row(world):
    """Wagtail's one pattern serves every page type (and routable pages'
    sub-routes): each needs a wagtail_serve[...] row with a sample page."""
    from wagtail.models import Page

    served: dict[type, set] = {}
    all_samples = samples(world)
    for key, values in all_samples.items():
        if not key.startswith("wagtail_serve["):
            continue
        assert key in ROWS, f"sample {key} has no row"
        path = "/" + values["_0"]
        parts = [part for part in path.split("/") if part]
        page, args, _ = world["home"].route(RequestFactory().get(path), parts)
        # A routable page answers with (view, args, kwargs) of its route.
        view = args[0].__name__ if args else None
        served.setdefault(type(page), set()).add(view)
    for model in get_page_models():
        if model is Page:
            continue
        assert model in served, f"no wagtail_serve[...] row for {model.__name__}"
        # Each sub-route address (two routes of one address: the first wins,
        # as RoutablePageMixin's default "" route behind the page's own).
        views_by_address: dict[str, set] = {}
        for route in getattr(model, "get_subpage_urls", list)():
            views_by_address.setdefault(str(route.pattern), set()).add(
                route.callback.__name__
            )
        for address, views in views_by_address.items():
            assert views & served[model], (
                f"no wagtail_serve[...] row for {model.__name__}'s /{address}"
            )
    assert all(key in all_samples for key in ROWS if key.startswith("wagtail_"))


@pytest.mark.parametrize("key", [key for key in ROWS if not key.endswith("/*")])
def test_each_pattern_answers_each_role_as_the_table_says(world, key):
    row = ROWS[key]
    matching = [e for e in endpoints() if e.key == row.pattern_key]
    assert matching, f"no URL pattern for row {key}"
    values = values_for(row, samples(world))
    problems = []
    for endpoint in matching:
        problems += check(world, row, endpoint, values)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("family", [key for key in ROWS if key.endswith("/*")])
def test_the_admins_keep_out_who_may_not_use_them(world, family):
    """Every admin pattern without a row of its own, signed out, as a learner
    and as staff without proven MFA. The six staff roles without MFA take
    turns (pattern by pattern): the middleware decides by the address, so
    each is asked about some 90 patterns rather than all 530."""
    row = ROWS[family]
    values = values_for(row, samples(world))
    patterns = [
        e
        for e in endpoints()
        if family_of(e) == family
        and not any(r.pattern_key == e.key for r in ROWS.values())
    ]
    assert len(patterns) > 40
    problems, turns = [], itertools.cycle(NOMFA)
    for endpoint in patterns:
        problems += check(world, row, endpoint, values, nomfa=(next(turns),))
    assert not problems, "\n".join(problems[:50])


# --- the attacks the table is about, spelt out ---------------------------------


def fetch(world: dict, name: str, path: str) -> tuple[int, str, bytes]:
    """GET `path` as role `name` (rolled back): status, Location, body."""
    role = world["roles"][name]
    role.client.cookies = SimpleCookie()
    role.client.cookies.load(role.cookies.output(header="", sep=";"))
    if role.session_cache_key:
        cache.delete(role.session_cache_key)
    with transaction.atomic():
        response = role.client.get(path, REMOTE_ADDR=next(ADDRESSES))
        transaction.set_rollback(True)
    body = (
        b"".join(response.streaming_content) if response.streaming else response.content
    )
    return response.status_code, response.get("Location", ""), body


def download(certificate) -> str:  # type: ignore[no-untyped-def]
    return reverse("certificates:download", args=(certificate.pk,))


def test_an_editor_without_mfa_gets_neither_a_pdf_nor_a_lesson_of_others(world):
    """A stolen editor password (no second factor) opens no other learner's
    certificate and no lesson outside an enrolment: set up MFA first."""
    setup = reverse("mfa_activate_totp")
    for path in (
        download(world["others_certificate"]),
        world["pages"]["other_lesson"].url,
        world["pages"]["lesson"].url,
    ):
        status, location, body = fetch(world, "editor-no-mfa", path)
        assert status == 302 and location.startswith(setup), path
        assert access_world.PDF_BYTES not in body
    # With MFA proven the same editor sees the lesson; the PDF needs the
    # certificate view permission, which editors do not have.
    assert fetch(world, "editor", world["pages"]["other_lesson"].url)[0] == 200
    assert fetch(world, "editor", download(world["others_certificate"]))[0] == 404


def test_a_learner_cannot_tell_another_learners_certificate_from_none(world):
    others = fetch(world, "learner", download(world["others_certificate"]))
    missing = fetch(world, "learner", reverse("certificates:download", args=(999999,)))
    assert others[0] == missing[0] == 404
    assert access_world.PDF_BYTES not in others[2]
    # The learner's own certificate: the PDF.
    own = fetch(world, "learner", download(world["own_certificate"]))
    assert own[0] == 200 and own[2] == access_world.PDF_BYTES


def test_staff_with_mfa_need_the_certificate_view_permission(world):
    """Proven MFA is not a permission: staff whose groups lack
    courses.view_certificate get "not found" for another's PDF."""
    path = download(world["others_certificate"])
    for name in ("editor", "reviewer", "events"):
        status, _, body = fetch(world, name, path)
        assert status == 404, name
        assert access_world.PDF_BYTES not in body
    for name in ("manager", "super"):
        status, _, body = fetch(world, name, path)
        assert status == 200 and body == access_world.PDF_BYTES, name


def test_a_superuser_without_proven_mfa_gets_no_admin_page_and_no_pdf(world):
    certificate = world["others_certificate"]
    paths = (
        "/admin/",
        "/django-admin/",
        reverse("certificate_admin:pdf", args=(certificate.pk,)),
        download(certificate),
        world["pages"]["other_lesson"].url,
    )
    for name, where in (
        ("super-no-mfa", "mfa_activate_totp"),
        ("super-unproven", "mfa_reauthenticate"),
    ):
        for path in paths:
            status, location, body = fetch(world, name, path)
            assert status == 302 and location.startswith(reverse(where)), (name, path)
            assert access_world.PDF_BYTES not in body

"""One door in: allauth is the only view that signs anyone in, and staff
powers belong to a session that proved its second factor (portal.staff)."""

import inspect
import re

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

from django.contrib import auth
from django.contrib.auth import views as auth_views
from django.contrib.auth.models import Group, Permission
from django.test import Client
from django.urls import (
    Resolver404,
    URLPattern,
    URLResolver,
    get_resolver,
    resolve,
    reverse,
)
from django.utils import translation

from wagtail.models import Collection, CollectionViewRestriction, PageViewRestriction

from tests.factories import StaffFactory, StandardPageFactory, UserFactory
from tests.portal.test_admin_access import PASSWORD, current_code

pytestmark = pytest.mark.django_db


def totp_superuser():  # type: ignore[no-untyped-def]
    user = StaffFactory(mfa=False)
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    return user, secret


def password_sign_in(client: Client, user) -> None:  # type: ignore[no-untyped-def]
    """A sign-in that passes allauth's password step only (no MFA stage),
    as for a learner who is given a staff role afterwards."""
    response = client.post(
        reverse("account_login"), {"login": user.email, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def make_editor(user) -> None:  # type: ignore[no-untyped-def]
    editors = Group.objects.create(name="仅后台访问")
    editors.permissions.add(
        Permission.objects.get(
            content_type__app_label="wagtailadmin", codename="access_admin"
        )
    )
    user.groups.add(editors)


# --- 1. one way to authenticate -------------------------------------------------


@pytest.mark.parametrize("prefix", ["", "/en"])
def test_wagtail_frontend_login_does_not_take_a_password(client, home, prefix):
    admin, _ = totp_superuser()
    path = f"{prefix}/_util/login/"
    response = client.post(path, {"username": admin.email, "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/").status_code == 302
    # A `next` that leaves the site is dropped.
    away = client.get(f"{path}?next=https://evil.example/")
    assert "evil.example" not in away["Location"]


def test_an_unconfirmed_account_cannot_sign_in_by_a_side_door(client, home):
    user = UserFactory(verified=False)
    for path in ("/_util/login/", "/en/_util/login/", "/admin/login/"):
        client.post(path, {"username": user.email, "password": PASSWORD})
        assert "_auth_user_id" not in client.session


def test_login_restricted_pages_send_visitors_to_allauth(client, home):
    page = StandardPageFactory(parent=home, slug="members")
    PageViewRestriction.objects.create(page=page, restriction_type="login")
    response = client.get(page.url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_page_passwords_are_rate_limited(client, home):
    page = StandardPageFactory(parent=home, slug="closed")
    restriction = PageViewRestriction.objects.create(
        page=page, restriction_type="password", password="secret-2027"
    )
    url = reverse(
        "wagtailcore_authenticate_with_password", args=[restriction.pk, page.pk]
    )
    statuses = [
        client.post(url, {"password": f"guess-{n}", "return_url": page.url}).status_code
        for n in range(12)
    ]
    assert 429 in statuses
    # Past the limit, even the right password is not checked.
    right = client.post(url, {"password": "secret-2027", "return_url": page.url})
    assert right.status_code == 429


def test_collection_passwords_share_the_limit(client, home):
    collection = Collection.get_first_root_node().add_child(name="内部资料")
    restriction = CollectionViewRestriction.objects.create(
        collection=collection, restriction_type="password", password="secret-2027"
    )
    url = reverse("wagtaildocs_authenticate_with_password", args=[restriction.pk])
    statuses = [
        client.post(url, {"password": f"guess-{n}", "return_url": "/"}).status_code
        for n in range(12)
    ]
    assert 429 in statuses
    right = client.post(url, {"password": "secret-2027", "return_url": "/"})
    assert right.status_code == 429


# The views allowed to sign a user in: allauth's login and MFA stage (and its
# other account flows, which end in the same stages).
AUTHENTICATING_MODULES = ("allauth.",)


def _patterns(resolver: URLResolver, prefix: str = ""):  # type: ignore[no-untyped-def]
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _patterns(pattern, route)
        elif isinstance(pattern, URLPattern):
            yield route, pattern


def _signs_in_by_itself(view) -> bool:  # type: ignore[no-untyped-def]
    """Whether a view (function, class-based or an admin site's method) is, or
    calls, Django's own authentication: a LoginView, or code that names
    `login`/`authenticate` from django.contrib.auth."""
    view_class = getattr(view, "view_class", None)
    if view_class is not None:
        if issubclass(view_class, auth_views.LoginView):
            return True
        candidates = [
            member
            for klass in view_class.__mro__
            if not klass.__module__.startswith(("django.views.", "builtins"))
            for member in vars(klass).values()
            if inspect.isfunction(member)
        ]
    else:
        candidates = [inspect.unwrap(view)]
    for function in candidates:
        code = getattr(function, "__code__", None)
        if code is None:
            continue
        names = set(code.co_names)
        module = inspect.getmodule(function)
        module_globals = vars(module) if module else {}
        # Imported inside the function (as Django's admin site does).
        if "LoginView" in names and "django.contrib.auth.views" in names:
            return True
        for name in names:
            target = module_globals.get(name)
            if target in (auth.login, auth.authenticate):
                return True
            if isinstance(target, type) and issubclass(target, auth_views.LoginView):
                return True
            if getattr(target, "__name__", "") == "django.contrib.auth" and (
                {"login", "authenticate"} & names
            ):
                return True
    return False


def _sample(match: re.Match) -> str:
    converter = match.group(1)
    if converter == "int":
        return "1"
    if converter == "uuid":
        return "12345678-1234-5678-1234-567812345678"
    return "x"


def test_no_url_signs_anyone_in_except_allauth(home):
    """Every pattern in the resolver, in both languages, resolved to the view
    that would really answer it (a replaced view shadows the original)."""
    offenders, checked = set(), set()
    for language in ("zh-hans", "en"):
        with translation.override(language):
            for route, pattern in _patterns(get_resolver()):
                path = "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"<\1>", route)
                sample = "/" + re.sub(r"<(\w+):\w+>|<\w+>", _sample, route)
                try:
                    view = resolve(sample).func
                except Resolver404:
                    # A regex pattern: judge the pattern's own view.
                    view = pattern.callback
                checked.add(path)
                module = getattr(inspect.unwrap(view), "__module__", "") or ""
                if module.startswith(AUTHENTICATING_MODULES):
                    continue
                if _signs_in_by_itself(view):
                    offenders.add(path)
    assert len(checked) > 500  # the walk reached Wagtail's and Django's admins
    assert "/en/_util/login/" in checked
    assert not offenders, f"These URLs sign users in outside allauth: {offenders}"


def test_the_walk_would_catch_a_plain_login_view():
    """The check above is not vacuous: Django's LoginView and the admin site's
    login method are recognised."""
    from django.contrib import admin

    assert _signs_in_by_itself(auth_views.LoginView.as_view())
    assert _signs_in_by_itself(admin.site.login)


# --- 2. MFA is session state ---------------------------------------------------


def test_a_password_alone_never_opens_the_admin_for_a_totp_superuser(client, home):
    admin, secret = totp_superuser()
    for prefix in ("", "/en"):
        response = client.post(
            f"{prefix}/accounts/login/", {"login": admin.email, "password": PASSWORD}
        )
        assert response["Location"].endswith(reverse("mfa_authenticate"))
        assert "_auth_user_id" not in client.session
        for path in ("/admin/", "/admin/users/", "/django-admin/"):
            assert client.get(path).status_code == 302


def test_staff_given_a_role_after_signing_in_must_prove_mfa_first(client, home):
    user = UserFactory()
    password_sign_in(client, user)
    make_editor(user)
    secret = generate_totp_secret()
    TOTP.activate(user, secret)  # set up on another device, earlier

    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("mfa_reauthenticate"))
    assert client.get("/admin/pages/").status_code == 302

    client.post(reverse("mfa_reauthenticate"), {"code": current_code(secret)})
    assert client.get("/admin/").status_code == 200


def test_setting_up_totp_in_the_session_proves_it(
    client, home, django_capture_on_commit_callbacks
):
    user = UserFactory()
    password_sign_in(client, user)
    make_editor(user)
    response = client.get("/admin/")
    assert response["Location"].startswith(reverse("mfa_activate_totp"))

    page = client.get(reverse("mfa_activate_totp"))
    if page.status_code == 302:  # allauth asks for the password again first
        client.post(page["Location"], {"password": PASSWORD})
        page = client.get(reverse("mfa_activate_totp"))
    secret = page.context["form"].secret
    # allauth announces the new authenticator on commit.
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(
            reverse("mfa_activate_totp"), {"code": current_code(secret), "signup": ""}
        )
    assert done.status_code == 302
    assert Authenticator.objects.filter(user=user, type="totp").exists()
    assert client.get("/admin/").status_code == 200


def test_removing_the_authenticator_ends_staff_powers(client, home):
    admin, _ = totp_superuser()
    client.force_login(admin)
    assert client.get("/admin/").status_code == 200
    Authenticator.objects.filter(user=admin).delete()
    response = client.get("/admin/")
    assert response["Location"].startswith(reverse("mfa_activate_totp"))


def test_an_unproved_superuser_has_no_permissions_in_a_request(rf, home):
    from django.contrib.sessions.backends.db import SessionStore

    from portal import staff

    admin, _ = totp_superuser()
    request = rf.get("/")
    request.session = SessionStore()
    user = staff.mark_request_user(request, admin)
    assert not user.has_perm("courses.view_certificate")
    assert not user.has_module_perms("courses")
    assert user.holds_perm("wagtailadmin.access_admin")  # the header's link
    # Outside a request (tasks, commands) the user's own permissions hold.
    admin.refresh_from_db()
    assert type(admin).objects.get(pk=admin.pk).has_perm("courses.view_certificate")

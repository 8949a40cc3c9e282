"""The page frame from the shared cache (portal.frame): the admin link, the
menu and the settings follow changes at once, and signing out still ends the
session (sessions live in the cache, written through to the database)."""

import pytest

from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from portal.models import SiteSettings
from tests.factories import StandardPageFactory, UserFactory

pytestmark = pytest.mark.django_db

ADMIN_LINK = 'href="/admin/"'


def test_the_admin_link_follows_group_membership_without_signing_in_again(client, home):
    editors = Group.objects.create(name="编辑测试组")
    editors.permissions.add(
        Permission.objects.get(
            content_type__app_label="wagtailadmin", codename="access_admin"
        )
    )
    user = UserFactory()  # not is_staff: access comes from the group only
    client.force_login(user)
    assert ADMIN_LINK not in client.get("/").content.decode()

    user.groups.add(editors)
    assert ADMIN_LINK in client.get("/").content.decode()

    editors.permissions.clear()
    assert ADMIN_LINK not in client.get("/").content.decode()


def test_a_learner_never_gets_another_users_admin_link(client, home):
    from tests.factories import StaffFactory

    staff, learner = StaffFactory(), UserFactory()
    client.force_login(staff)
    assert ADMIN_LINK in client.get("/").content.decode()
    client.force_login(learner)
    assert ADMIN_LINK not in client.get("/").content.decode()


def test_menu_and_settings_follow_publishing_and_editing(client, home):
    about = StandardPageFactory(parent=home, slug="about", show_in_menus=True)
    assert 'href="/about/"' in client.get("/").content.decode()
    assert 'href="/en/about/"' in client.get("/en/").content.decode()

    about.unpublish()
    assert 'href="/about/"' not in client.get("/").content.decode()

    about.save_revision().publish()
    assert 'href="/about/"' in client.get("/").content.decode()

    settings = SiteSettings.for_site(home.get_site())
    settings.icp_record = "渝ICP备12345678号"
    settings.save()
    assert "渝ICP备12345678号" in client.get("/").content.decode()


def test_signing_out_ends_the_session(client, home):
    user = UserFactory()
    client.force_login(user)
    assert client.get(reverse("courses:my_learning")).status_code == 200
    cookie = client.cookies["sessionid"].value
    client.post(reverse("account_logout"))
    # The old cookie no longer signs anybody in.
    client.cookies["sessionid"] = cookie
    response = client.get(reverse("courses:my_learning"))
    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]

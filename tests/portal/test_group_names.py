"""Wagtail's default groups carry Chinese names (portal migration 0011):
the admin's group list shows 审核员 and 编辑, not "Moderators" and
"Editors"; the migration leaves a group an operator deleted or renamed
alone, and is reversible."""

import importlib

import pytest

from django.apps import apps
from django.contrib.auth.models import Group
from django.urls import reverse

from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db

migration = importlib.import_module("portal.migrations.0011_group_names_in_chinese")


def names() -> set[str]:
    return set(Group.objects.values_list("name", flat=True))


def test_the_default_groups_have_chinese_names_in_the_admin(client, home):
    assert {"审核员", "编辑"} <= names()
    assert not {"Moderators", "Editors"} & names()
    # What Wagtail gave them is still theirs: the editors may reach the admin.
    editors = Group.objects.get(name="编辑")
    assert editors.permissions.filter(codename="access_admin").exists()
    client.force_login(StaffFactory(is_superuser=True))
    html = client.get(reverse("wagtailusers_groups:index")).content.decode()
    assert "审核员" in html and "编辑" in html
    assert "Moderators" not in html and "Editors" not in html


def test_the_migration_is_reversible():
    migration.unrename(apps, None)
    assert {"Moderators", "Editors"} <= names()
    assert not {"审核员", "编辑"} & names()
    migration.rename(apps, None)
    assert {"审核员", "编辑"} <= names()


def test_groups_an_operator_deleted_or_renamed_are_left_alone():
    migration.unrename(apps, None)
    Group.objects.filter(name="Moderators").delete()
    Group.objects.filter(name="Editors").update(name="网站编辑")
    migration.rename(apps, None)  # does not fail
    assert "网站编辑" in names()
    assert not {"审核员", "编辑", "Moderators", "Editors"} & names()
    migration.unrename(apps, None)  # nor does the way back
    assert "网站编辑" in names()


def test_a_chinese_name_already_taken_keeps_the_english_one():
    """An operator made their own 编辑 group before the migration: both
    groups stay, the default one under its English name (names are
    unique)."""
    migration.unrename(apps, None)
    own = Group.objects.create(name="编辑")
    migration.rename(apps, None)
    assert Group.objects.get(name="编辑") == own
    assert {"Editors", "审核员"} <= names()

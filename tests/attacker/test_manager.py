"""Attacks on a training class's progress page and its grant of quiz
attempts: the cheapest forged requests, each of which must fail and write
nothing (no grant row, no audit-log entry)."""

import pytest

from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from wagtail.models import ModelLogEntry

from courses import services
from courses.models import QuizAttemptGrant, TrainingClass
from tests.courses import test_class_progress
from tests.courses.factories import CourseIndexPageFactory, CoursePageFactory
from tests.courses.test_class_progress import grant_form, grant_url, manager, url
from tests.factories import UserFactory, activate_totp

pytestmark = pytest.mark.django_db

# The class of tests/courses/test_class_progress.py: 李娜 is stuck at a quiz.
world = test_class_progress.world


def nothing_granted() -> bool:
    return (
        not QuizAttemptGrant.objects.exists()
        and not ModelLogEntry.objects.filter(
            action="courses.quiz.attempts_granted"
        ).exists()
    )


def test_a_learner_grants_themselves_nothing_and_sees_no_one(client, world):
    """李娜, stuck, posts the grant form for her own enrolment."""
    client.force_login(world["people"]["李娜"])
    response = client.post(grant_url(world), grant_form(world))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert nothing_granted()
    page = client.get(url(world))
    assert page.status_code == 302
    assert "王芳" not in page.content.decode()
    export = client.get(url(world), {"export": "xlsx"})
    assert export.status_code == 302
    assert not ModelLogEntry.objects.filter(action="portal.export").exists()


def test_a_learner_made_staff_without_permissions_gets_nothing(client, world):
    """Admin access alone (any staff member): no page, no grant."""
    user = UserFactory()
    group = Group.objects.create(name="仅后台访问")
    group.permissions.add(Permission.objects.get(codename="access_admin"))
    user.groups.add(group)
    activate_totp(user)
    client.force_login(user)
    assert client.get(url(world))["Location"] == reverse("wagtailadmin_home")
    assert client.post(grant_url(world), grant_form(world)).status_code == 403
    assert nothing_granted()


def test_a_manager_who_may_only_look_cannot_grant(client, world):
    client.force_login(manager(grant=False))
    assert client.get(url(world)).status_code == 200
    response = client.post(grant_url(world), grant_form(world))
    assert response.status_code == 403
    assert nothing_granted()


def test_a_manager_without_mfa_sees_and_grants_nothing(client, world):
    """A stolen manager password, no second factor: sent to set one up."""
    client.force_login(manager(mfa=False))
    setup = reverse("mfa_activate_totp")
    for response in (
        client.get(url(world)),
        client.get(url(world), {"export": "xlsx"}),
        client.post(grant_url(world), grant_form(world)),
    ):
        assert response.status_code == 302
        assert response["Location"].startswith(setup)
        assert "李娜" not in response.content.decode()
    assert nothing_granted()
    assert not ModelLogEntry.objects.filter(action="portal.export").exists()


def test_a_grant_through_another_class_is_not_found(client, world, home):
    """A manager may grant, but only to a member of the class in the address,
    for a quiz of that class's courses: a forged enrolment id, a lesson of
    another course or a quiz key that is not the lesson's finds nothing."""
    client.force_login(manager())
    other_class = TrainingClass.objects.create(
        name="另一个班",
        code="other",
        starts_on=world["class"].starts_on,
        ends_on=world["class"].ends_on,
    )
    other_class.courses.add(
        CoursePageFactory(parent=CourseIndexPageFactory(parent=home, slug="c2"))
    )
    wrong_class = reverse("courses_class_progress_grant", args=(other_class.pk,))
    assert client.post(wrong_class, grant_form(world)).status_code == 404
    outsider = UserFactory()
    services.enrolment_self(user=outsider, course=world["patent"])
    outsider_enrolment = outsider.enrolments.get()
    for forged in (
        {"enrolment": outsider_enrolment.pk},
        {"enrolment": 2**62},
        {"lesson_key": world["reading"].pk},  # no quiz there
        {"lesson_key": world["trademark"].get_children().first().pk},
        {"quiz_key": "not-a-quiz"},
    ):
        response = client.post(grant_url(world), grant_form(world, **forged))
        assert response.status_code in (302, 404), forged
        assert nothing_granted(), forged


def test_the_grant_takes_no_get(client, world):
    client.force_login(manager())
    assert client.get(grant_url(world), grant_form(world)).status_code == 405
    assert nothing_granted()


def test_the_way_back_cannot_lead_elsewhere(client, world):
    """The form's `back` carries the filter; an address in it is dropped."""
    client.force_login(manager())
    response = client.post(
        grant_url(world), grant_form(world, back="//evil.example/&show=stuck")
    )
    assert response["Location"] == url(world) + "?show=stuck"
